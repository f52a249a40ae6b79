"""Reading a user's table file (CSV or NPZ) into named, typed columns; nothing about features or splits.

CSV: the first row is the header; standard quoting (RFC 4180, as Python's `csv` module writes it). The delimiter is
a comma when the file parses as a comma CSV with at least two columns and the same number of fields on every row;
else `;`, else tab, under the same rule (no sniffing of a sample, which misreads quoted cells). A column whose every
cell is an integer is int64, else one whose every cell is a number is float64, else a string column.

NPZ: either arrays `X` [samples, features] and `y` [samples] (optional `feature_names`), or one 1-D array per column.
Arrays must not need pickle: save strings as numpy unicode arrays (dtype `<U...`), not as object arrays.

A column with a missing or non-finite cell (empty, NA, N/A, NaN, null, None, ?, inf, ...) is not an error here: it
becomes a *problem* of that column (the message names the column and the line), raised only if the column is used,
so a user can `--drop` a column of notes with gaps (hcl does not impute).
"""

from __future__ import annotations

import collections
import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hcl.errors import DataError

MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "-nan", "null", "none", "?", "inf", "+inf", "-inf",
                             "infinity", "+infinity", "-infinity"})
DELIMITERS = (",", ";", "\t")       # in order of preference


@dataclass
class Table:
    name: str                           # the file's name, for messages
    names: list[str]
    columns: list[np.ndarray | None]    # int64, float64 or str arrays; None for a column with a problem
    problems: dict[int, str]            # column index -> one-line message about its first bad cell
    default_label: int | None           # the label column when none is named (None: it must be named)
    default_features: list[int] | None = None   # feature columns when none are named (None: all but the label)
    row_word: str = "line"              # messages count data rows as CSV lines (header = line 1) or NPZ rows
    first_row: int = 2                  # the number messages give the first data row

    @property
    def n_rows(self) -> int:
        for c in self.columns:
            if c is not None:
                return len(c)
        return 0

    def row(self, i: int) -> str:
        """How a message names data row i (0-based)."""
        return f"{self.row_word} {i + self.first_row}"


MARKER_AS_CATEGORY = "reads as a missing value; if it is a category"   # a problem --categorical resolves


def usable(table: Table, j: int, categorical: bool) -> bool:
    """Column j can be read: no problem, or a missing-value word in a text column the user declared categorical."""
    return j not in table.problems or (categorical and table.columns[j] is not None
                                       and MARKER_AS_CATEGORY in table.problems[j])


MAX_COLUMNS = 100_000     # far above any task here (MNIST: 785); a bound on what a header can make hcl build


def read_table(path: Path) -> Table:
    """The table in `path` (.npz by suffix, else CSV)."""
    if path.suffix.lower() == ".npz":
        return _read_npz(path)
    return _read_csv(path)


# ---- CSV -----------------------------------------------------------------------------------------------------------

def _read_csv(path: Path) -> Table:
    what = path.name
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise DataError(f"{what}: not UTF-8 text ({exc.reason} at byte {exc.start}); is it really a CSV file?") \
            from None
    first_error = None
    for delimiter in DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True) if r]
        except csv.Error as exc:
            first_error = first_error or f"{what}: malformed CSV: {exc}"
            continue
        if rows and len(rows[0]) >= 2 and all(len(r) == len(rows[0]) for r in rows):
            break
    else:
        if first_error is not None:
            raise DataError(first_error)
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=",") if r]
    if not rows:
        raise DataError(f"{what}: the file holds no rows")
    header = [h.strip() for h in rows[0]]
    if len(header) < 2:
        raise DataError(f"{what}: the header has {len(header)} column; need at least one feature and a label "
                        "(is the delimiter one of , ; or tab?)")
    if len(header) > MAX_COLUMNS:
        raise DataError(f"{what}: the header has {len(header):,} columns, more than hcl reads ({MAX_COLUMNS:,}); "
                        "keep the columns you need (or is the delimiter wrong?)")
    dupes = sorted(h for h, n in collections.Counter(header).items() if n > 1)    # linear in the header's length
    if dupes:
        more = f" and {len(dupes) - 5} more" if len(dupes) > 5 else ""
        raise DataError(f"{what}: column name(s) {', '.join(map(repr, dupes[:5]))}{more} appear more than once in "
                        "the header")
    body = rows[1:]
    if not body:
        raise DataError(f"{what}: a header but no data rows")
    for i, r in enumerate(body):
        if len(r) != len(header):
            # Row numbers are file lines (header = line 1), which is what an editor shows.
            raise DataError(f"{what}: line {i + 2} has {len(r)} fields but the header has {len(header)}")
    columns, problems = [], {}
    for j, (name, cells) in enumerate(zip(header, zip(*body))):
        col, problem = _parse_column(name, cells, what)
        columns.append(col)
        if problem is not None:
            problems[j] = problem
    return Table(what, header, columns, problems, default_label=len(header) - 1)


def _parse_column(name: str, cells: tuple[str, ...], what: str) -> tuple[np.ndarray | None, str | None]:
    """A column's cells -> int64 (every cell an integer), float64 (every cell a number) or str array.

    Python's int and float mapped over the column straight into numpy (1.6x the old per-cell list and 3x numpy's
    own string parsing here, benchmarks/results/load.md); both ignore surrounding blanks. A missing marker can
    only make a numeric column fail to parse, or parse as NaN/inf, so markers are looked for only there."""
    n = len(cells)
    try:
        return np.fromiter(map(int, cells), np.int64, n), None
    except (ValueError, OverflowError):
        pass
    try:
        values = np.fromiter(map(float, cells), np.float64, n)
    except ValueError:
        values = None
    if values is not None:
        bad = np.flatnonzero(~np.isfinite(values))
        if not len(bad):
            return values, None
        i = int(bad[0])
        cell = cells[i].strip()
        if cell.lower() in MISSING_MARKERS:
            return None, (f"{what}: column {name!r}, line {i + 2}: missing or non-finite value ({cell!r}); "
                          "clean or impute it first, or leave the column out with --drop")
        return None, (f"{what}: column {name!r}, line {i + 2}: value {cell!r} is not finite; clean it first, or "
                      "leave the column out with --drop")
    stripped = [c.strip() for c in cells]
    for i, c in enumerate(stripped):
        if len(c) <= _MARKER_LEN and c.lower() in MISSING_MARKERS:
            if not c:
                return None, (f"{what}: column {name!r}, line {i + 2}: missing value (an empty cell); clean or "
                              "impute it first, or leave the column out with --drop")
            # A word such as 'none' may be a category of a text column: the column is kept, and --categorical
            # NAME (the user's word that it is one) accepts it (MARKER_AS_CATEGORY).
            return np.array(stripped, dtype=str), (
                f"{what}: column {name!r}, line {i + 2}: {c!r} reads as a missing value; if it is a category, "
                f"say so with --categorical {name}; else clean or impute it, or leave the column out with --drop")
    return np.array(stripped, dtype=str), None


_MARKER_LEN = max(map(len, MISSING_MARKERS))


# ---- NPZ -----------------------------------------------------------------------------------------------------------

def _read_npz(path: Path) -> Table:
    what = path.name
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:  # object arrays need pickle, which loading untrusted files must not run
        raise DataError(f"{what}: holds object arrays ({exc}); save strings as numpy unicode arrays instead") \
            from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(f"{what}: not a readable .npz file ({exc})") from None
    if not arrays:
        raise DataError(f"{what}: the archive holds no arrays")

    names: list[str] = []
    raw: list[np.ndarray] = []
    default_features = None
    if "X" in arrays:
        X = arrays.pop("X")
        if X.ndim != 2:
            raise DataError(f"{what}: X must be 2-D [samples, features], got shape {X.shape}")
        fnames = [str(n) for n in arrays.pop("feature_names")] if "feature_names" in arrays else \
            [f"x{j}" for j in range(X.shape[1])]
        if len(fnames) != X.shape[1]:
            raise DataError(f"{what}: feature_names has {len(fnames)} entries but X has {X.shape[1]} columns")
        names, raw = fnames, [X[:, j] for j in range(X.shape[1])]
        default_features = list(range(len(names)))
        for k, a in arrays.items():
            if a.ndim != 1 or len(a) != len(X):
                raise DataError(f"{what}: array {k!r} has shape {a.shape}; beside X every array must be 1-D with "
                                f"one entry per row of X ({len(X)})")
    else:
        n = len(next(iter(arrays.values())))
        for k, a in arrays.items():
            if a.ndim != 1 or len(a) != n:
                raise DataError(f"{what}: column array {k!r} has shape {a.shape}; every column must be 1-D with {n} "
                                "entries (or store arrays X and y)")
    dupes = sorted(set(names) & set(arrays))
    if dupes:
        raise DataError(f"{what}: feature name {dupes[0]!r} is also the name of an array")
    names += list(arrays)
    raw += list(arrays.values())
    default = names.index("y") if "y" in arrays else names.index("label") if "label" in arrays else None
    columns, problems = [], {}
    for j, (name, col) in enumerate(zip(names, raw)):
        col, problem = _check_array(name, col, what)
        columns.append(col)
        if problem is not None:
            problems[j] = problem
    return Table(what, names, columns, problems, default_label=default, default_features=default_features,
                 row_word="row", first_row=0)


def _check_array(name: str, col: np.ndarray, what: str) -> tuple[np.ndarray | None, str | None]:
    if col.dtype.kind in "US":
        col = col.astype(str)
        stripped = np.char.strip(col)
        missing = np.flatnonzero(np.isin(np.char.lower(stripped), list(MISSING_MARKERS)))
        if len(missing):
            return None, f"{what}: column {name!r}, row {missing[0]}: missing value ({col[missing[0]]!r})"
        numeric = _as_numbers(stripped)
        if numeric is not None and numeric.dtype.kind == "f" and not np.isfinite(numeric).all():
            numeric = None
        return (numeric if numeric is not None else stripped), None
    if col.dtype.kind == "b":
        return col.astype(np.int64), None
    if col.dtype.kind in "iu":
        wide = col.dtype == np.uint64 and col.max(initial=0) >= 2**63
        return (col.astype(float) if wide else col.astype(np.int64)), None
    if col.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(col))
        if len(bad):
            return None, (f"{what}: column {name!r}, row {bad[0]}: {col[bad[0]]} (NaN or inf); clean or impute it "
                          "first, or leave the column out with --drop")
        return col.astype(np.float64), None
    raise DataError(f"{what}: column {name!r} has dtype {col.dtype}; need numbers or strings")


def _as_numbers(cells: np.ndarray) -> np.ndarray | None:
    """A string column whose every cell is a number, as int64 (every cell an integer) or float64; else None
    (it is categorical). Non-finite floats (1e999) are kept for the caller to report."""
    try:
        return cells.astype(np.int64)
    except (ValueError, OverflowError):
        pass
    try:
        return cells.astype(np.float64)
    except ValueError:
        return None
