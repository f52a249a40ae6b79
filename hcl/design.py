"""An emitted design folder (`hcl emit-vhdl --out`): its manifest read and checked once, for `sim` and `synth`."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hcl.errors import HclError

REQUIRED_MANIFEST = ("top", "files")


class DesignError(HclError):
    """A folder is not an emitted design: no manifest, or a manifest that does not describe its files."""


@dataclass(frozen=True)
class Design:
    root: Path
    manifest: dict[str, Any]
    top: str
    files: tuple[Path, ...]
    generics: dict[str, Any]


def load_design(path: str | os.PathLike) -> Design:
    root = Path(path)
    if not root.is_dir():
        raise DesignError(f"{root}: not a folder (give the folder `hcl emit-vhdl --out` wrote)")
    mpath = root / "manifest.json"
    if not mpath.is_file():
        raise DesignError(f"{root}: no manifest.json, so not an emitted design (run `hcl emit-vhdl` first)")
    try:
        manifest = json.loads(mpath.read_text())
    except (ValueError, UnicodeDecodeError, RecursionError) as e:   # ValueError: bad JSON, 5,000-digit numbers
        raise DesignError(f"{mpath}: not valid JSON ({str(e).split(';')[0] or 'nested too deeply'}); "
                          "re-run `hcl emit-vhdl`") from None
    if not isinstance(manifest, dict):
        raise DesignError(f"{mpath}: top level must be a JSON object")
    for key in REQUIRED_MANIFEST:
        if key not in manifest:
            raise DesignError(f"{mpath}: {key}: missing")
    top = manifest["top"]
    if not isinstance(top, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", top):
        raise DesignError(f"{mpath}: top: expected a VHDL entity name, got {top!r}")
    names = manifest["files"]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise DesignError(f"{mpath}: files: expected a non-empty list of VHDL file names")
    files = []
    for name in names:
        f = (root / name).resolve()
        if not f.is_file():
            raise DesignError(f"{mpath}: files: {name} does not exist in {root}")
        files.append(f)
    generics = manifest.get("generics") or {}
    if not isinstance(generics, dict):
        raise DesignError(f"{mpath}: generics: expected an object of name -> value")
    for name, value in generics.items():
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or not isinstance(value, (int, bool, str)):
            raise DesignError(f"{mpath}: generics.{name}: expected an identifier with an integer, boolean or "
                              f"string value, got {value!r}")
    return Design(root, manifest, top, tuple(files), dict(generics))
