"""A parsed-table cache: `hcl info`, `emit-vhdl`, `sim` and `predict` on the same file parse it once.

Entries are keyed by the sha256 of the file's bytes (and the reader's version), so an edited file is parsed again
and a copied or renamed one is not. They live in ``$HCL_CACHE_DIR/tables/`` (default ``~/.cache/hcl/tables/``),
one ``.npz`` each, written to a temporary name and renamed (atomic); strings are numpy unicode arrays, never
pickles. A cache that cannot be written or read is skipped: the file is then parsed every time, nothing fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from hcl.tasks.tablefile import Table, read_table

READER_VERSION = 4          # bump when read_table's output for the same bytes changes


def cache_dir() -> Path:
    root = os.environ.get("HCL_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hcl"
    return Path(root) / "tables"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cached_table(path: Path) -> Table:
    """`read_table(path)`, from the cache when this content was parsed before."""
    entry = cache_dir() / f"{file_sha256(path)}-v{READER_VERSION}{path.suffix.lower()}.npz"
    table = _load(entry, path.name)
    if table is None:
        table = read_table(path)
        _save(entry, table)
    return table


def _save(entry: Path, table: Table) -> None:
    arrays = {f"c{j}": c for j, c in enumerate(table.columns) if c is not None}
    meta = {"names": table.names, "problems": {str(j): p for j, p in table.problems.items()},
            "default_label": table.default_label, "default_features": table.default_features,
            "row_word": table.row_word, "first_row": table.first_row}
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=entry.parent)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
        os.replace(tmp, entry)
    except OSError:
        return


def _load(entry: Path, name: str) -> Table | None:
    try:
        with np.load(entry, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            columns = [z[f"c{j}"] if f"c{j}" in z.files else None for j in range(len(meta["names"]))]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
        return None
    return Table(name, meta["names"], columns, {int(j): p for j, p in meta["problems"].items()},
                 meta["default_label"], meta["default_features"], meta["row_word"], meta["first_row"])
