"""The `file` task: the user's own table, from CSV or NPZ, plus the stratified splitting every task uses.

    load_task("file", data="measurements.csv", label="class")

CSV: the first row is the header; standard quoting (RFC 4180, as Python's `csv` module writes it). The delimiter is
a comma when the file parses as a comma CSV with at least two columns and the same number of fields on every row;
else `;`, else tab, under the same rule (no sniffing of a sample, which misreads quoted cells). Every cell must hold a value: an empty
cell or one of NA, N/A, NaN, null, None, ?, inf, -inf is an error that names its column and row (hcl does not
impute). A column whose every cell is a number is numeric; any other column is categorical and becomes integer codes
0..k-1 in sorted order of its values (listed in `Dataset.categorical`; the value of each code is in
`extra["categories"]`). The label column (option `label`: name or 0-based index; default the last column) may hold
strings or numbers; its sorted distinct values are the class names.

NPZ: either arrays `X` [samples, features] and `y` [samples] (optional `feature_names`), or one 1-D array per column
with `label` naming the label array (default `y`, else `label`). Arrays must not need pickle: save strings as numpy
unicode arrays (dtype `<U...`), not as object arrays.

When every feature is an integer (categorical codes included), X is int64 and `input_width` is the number of bits
the raw word needs (two's complement with `signed=True` when a value is negative), so the encoder's comparators are
exact integer comparisons in RTL. Otherwise X is float64 and `input_width` is None.

Splits: 70/15/15, stratified and seeded (options `val_fraction`, `test_fraction`).
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from hcl.errors import ConfigError, DataError
from hcl.tasks import Dataset, register

MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "-nan", "null", "none", "?", "inf", "+inf", "-inf",
                             "infinity", "+infinity", "-infinity"})
# Widest raw word the encoder and the network file format accept.
MAX_INPUT_WIDTH = 64


# ---- splitting (shared by every task in this package) -----------------------------------------------------------

def stratified_split(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, val_fraction: float,
                     test_fraction: float, what: str = "data") -> tuple[np.ndarray, ...]:
    """(X_train, y_train, X_val, y_val, X_test, y_test): seeded splits that keep each class's share in all three.

    The two scikit-learn seeds are drawn from `rng`, so one task seed fixes the whole data set.
    """
    from sklearn.model_selection import train_test_split

    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ConfigError(f"split fractions: need 0 < val_fraction, test_fraction and their sum < 1, got "
                          f"val_fraction={val_fraction}, test_fraction={test_fraction}")
    check_stratifiable(y, what)
    seed_test, seed_val = (int(s) for s in rng.integers(0, 2**31 - 1, size=2))
    try:
        X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=test_fraction, stratify=y,
                                                          random_state=seed_test)
        X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest,
                                                          test_size=val_fraction / (1 - test_fraction),
                                                          stratify=y_rest, random_state=seed_val)
    except ValueError as exc:  # too few rows for this many classes at these fractions
        raise DataError(f"{what}: cannot split {len(y)} rows into stratified train/val/test: {exc}") from None
    return X_train, y_train, X_val, y_val, X_test, y_test


def check_stratifiable(y: np.ndarray, what: str, class_names: Sequence[str] | None = None) -> None:
    values, counts = np.unique(y, return_counts=True)
    if len(values) == 0:
        raise DataError(f"{what}: no rows")
    if len(values) < 2:
        only = class_names[values[0]] if class_names is not None else values[0]
        raise DataError(f"{what}: the label has a single class ({only!r}); a classifier needs at least two")
    # Stratification puts each class in all three splits, so each class needs a row for each of them.
    if counts.min() < 3:
        v = values[int(np.argmin(counts))]
        name = class_names[v] if class_names is not None else v
        raise DataError(f"{what}: class {name!r} has only {counts.min()} row(s); stratified train/val/test splits "
                        "need at least 3 per class")


def integer_width(lo: int, hi: int) -> tuple[int, bool]:
    """(bits, signed) of the narrowest raw word holding every integer in [lo, hi]."""
    if lo >= 0:
        return max(1, int(hi).bit_length()), False
    # Two's complement: w bits hold -2^(w-1) .. 2^(w-1) - 1.
    return 1 + max(int(hi).bit_length() if hi > 0 else 0, int(-lo - 1).bit_length()), True


# ---- the task ---------------------------------------------------------------------------------------------------

@register("file")
def load_file(seed: int = 0, data=None, label: str | int | None = None, val_fraction: float = 0.15,
              test_fraction: float = 0.15, **options) -> Dataset:
    if options:
        raise ConfigError(f"task 'file': unknown option(s) {', '.join(sorted(options))}; "
                          "it takes label, val_fraction, test_fraction")
    if data is None:
        raise DataError("task 'file' needs a data file: pass --data FILE.csv or FILE.npz (and --label COLUMN)")
    path = Path(os.fspath(data))
    if path.is_dir():
        raise DataError(f"{path}: is a folder; task 'file' needs a .csv or .npz file")
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    if path.suffix.lower() == ".npz":
        names, columns, label_index = _read_npz(path, label)
    else:
        names, columns, label_index = _read_csv(path, label)
    return _build(path, seed, names, columns, label_index, val_fraction, test_fraction)


def _build(path: Path, seed: int, names: list[str], columns: list[np.ndarray], label_index: int,
           val_fraction: float, test_fraction: float) -> Dataset:
    """Columns (numeric arrays or string arrays) -> typed feature matrix, class indices, splits."""
    what = path.name
    label_col = columns[label_index]
    feature_names = [n for i, n in enumerate(names) if i != label_index]
    feature_cols = [c for i, c in enumerate(columns) if i != label_index]
    if not feature_cols:
        raise DataError(f"{what}: no feature columns besides the label {names[label_index]!r}")

    class_values, y = np.unique(label_col, return_inverse=True)
    classes = tuple(_class_name(v) for v in class_values)
    y = y.astype(np.int64)

    categorical: list[int] = []
    categories: dict[str, list[str]] = {}
    encoded: list[np.ndarray] = []
    for j, (name, col) in enumerate(zip(feature_names, feature_cols)):
        if col.dtype.kind in "US":
            values, codes = np.unique(col, return_inverse=True)
            categorical.append(j)
            categories[name] = [str(v) for v in values]
            encoded.append(codes.astype(np.int64))
        else:
            encoded.append(col)
    all_integer = all(_is_integral(c) for c in encoded)
    if all_integer:
        X = np.column_stack([c.astype(np.int64) for c in encoded])
        width, signed = integer_width(int(X.min()), int(X.max()))
        if width > MAX_INPUT_WIDTH:
            X, width, signed = X.astype(np.float64), None, False
    else:
        X = np.column_stack([c.astype(np.float64) for c in encoded])
        width, signed = None, False

    check_stratifiable(y, what, classes)
    rng = np.random.default_rng(seed)
    parts = stratified_split(X, y, rng, val_fraction, test_fraction, what)
    return Dataset(
        "file", *parts, classes=classes, input_width=width, signed=signed, categorical=tuple(categorical),
        description=f"{path}: {len(y)} rows, {X.shape[1]} features ({len(categorical)} categorical), label "
                    f"{names[label_index]!r} with {len(classes)} classes",
        extra={"path": str(path), "label": names[label_index], "feature_names": feature_names,
               "categories": categories})


def _class_name(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _is_integral(col: np.ndarray) -> bool:
    if col.dtype.kind in "iub":
        return True
    return bool(np.all(np.floor(col) == col)) and bool(np.all(np.abs(col) < 2**53))


def _resolve_label(label: str | int | None, names: list[str], what: str, default: int) -> int:
    if label is None:
        return default
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if not -len(names) <= label < len(names):
            raise DataError(f"{what}: label column index {label} out of range (the file has {len(names)} columns)")
        return int(label) % len(names)
    if label in names:
        return names.index(label)
    # A CLI passes every option as a string, so "3" may mean the fourth column.
    if isinstance(label, str) and label.lstrip("-").isdigit():
        return _resolve_label(int(label), names, what, default)
    shown = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
    raise DataError(f"{what}: no label column {label!r}; the columns are {shown}")


# ---- CSV -----------------------------------------------------------------------------------------------------------

DELIMITERS = (",", ";", "\t")       # in order of preference


def _read_csv(path: Path, label) -> tuple[list[str], list[np.ndarray], int]:
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
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DataError(f"{what}: column name(s) {', '.join(map(repr, dupes))} appear more than once in the header")
    body = rows[1:]
    if not body:
        raise DataError(f"{what}: a header but no data rows")
    for i, r in enumerate(body):
        if len(r) != len(header):
            # Row numbers are file lines (header = line 1), which is what an editor shows.
            raise DataError(f"{what}: line {i + 2} has {len(r)} fields but the header has {len(header)}")
    label_index = _resolve_label(label, header, what, default=len(header) - 1)
    columns = [_parse_column(header[j], [r[j].strip() for r in body], what) for j in range(len(header))]
    return header, columns, label_index


def _parse_column(name: str, cells: list[str], what: str) -> np.ndarray:
    for i, c in enumerate(cells):
        if c.lower() in MISSING_MARKERS:
            shown = repr(c) if c else "an empty cell"
            raise DataError(f"{what}: column {name!r}, line {i + 2}: missing or non-finite value ({shown}); "
                            "clean or impute it first")
    try:
        return np.array([int(c) for c in cells], dtype=np.int64)
    except (ValueError, OverflowError):
        pass
    try:
        values = np.array([float(c) for c in cells], dtype=np.float64)
    except ValueError:
        return np.array(cells, dtype=str)
    bad = np.flatnonzero(~np.isfinite(values))  # e.g. 1e999
    if len(bad):
        raise DataError(f"{what}: column {name!r}, line {bad[0] + 2}: value {cells[bad[0]]!r} is not finite")
    return values


# ---- NPZ -----------------------------------------------------------------------------------------------------------

def _read_npz(path: Path, label) -> tuple[list[str], list[np.ndarray], int]:
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

    if "X" in arrays and ("y" in arrays or (isinstance(label, str) and label in arrays)):
        X, y = arrays["X"], arrays[label if isinstance(label, str) and label in arrays else "y"]
        if X.ndim != 2:
            raise DataError(f"{what}: X must be 2-D [samples, features], got shape {X.shape}")
        if y.ndim != 1 or len(y) != len(X):
            raise DataError(f"{what}: y must be 1-D with one entry per row of X ({len(X)}), got shape {y.shape}")
        names = [str(n) for n in arrays["feature_names"]] if "feature_names" in arrays else \
            [f"x{j}" for j in range(X.shape[1])]
        if len(names) != X.shape[1]:
            raise DataError(f"{what}: feature_names has {len(names)} entries but X has {X.shape[1]} columns")
        columns = [_check_array(names[j], X[:, j], what) for j in range(X.shape[1])]
        columns.append(_check_array("y", y, what))
        return names + ["y"], columns, len(names)

    names = list(arrays)
    default = names.index("y") if "y" in names else names.index("label") if "label" in names else None
    if default is None and label is None:
        raise DataError(f"{what}: no arrays X and y, and no label array named 'y' or 'label': pass --label NAME "
                        f"(arrays: {', '.join(names)})")
    label_index = _resolve_label(label, names, what, default=default if default is not None else 0)
    n = len(arrays[names[label_index]])
    for k, a in arrays.items():
        if a.ndim != 1 or len(a) != n:
            raise DataError(f"{what}: column array {k!r} has shape {a.shape}; every column must be 1-D with {n} "
                            "entries (or store arrays X and y)")
    return names, [_check_array(k, arrays[k], what) for k in names], label_index


def _check_array(name: str, col: np.ndarray, what: str) -> np.ndarray:
    if col.dtype.kind in "US":
        col = col.astype(str)
        stripped = np.char.strip(col)
        missing = np.flatnonzero(np.isin(np.char.lower(stripped), list(MISSING_MARKERS)))
        if len(missing):
            raise DataError(f"{what}: column {name!r}, row {missing[0]}: missing value ({col[missing[0]]!r})")
        numeric = _as_numbers(stripped)
        return numeric if numeric is not None else stripped
    if col.dtype.kind == "b":
        return col.astype(np.int64)
    if col.dtype.kind in "iu":
        return col.astype(np.int64) if col.dtype != np.uint64 or col.max(initial=0) < 2**63 else col.astype(float)
    if col.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(col))
        if len(bad):
            raise DataError(f"{what}: column {name!r}, row {bad[0]}: {col[bad[0]]} (NaN or inf); clean or impute it "
                            "first")
        return col.astype(np.float64)
    raise DataError(f"{what}: column {name!r} has dtype {col.dtype}; need numbers or strings")


def _as_numbers(cells: np.ndarray) -> np.ndarray | None:
    """A string column whose every cell is a number, as numbers; else None (it is categorical)."""
    try:
        return np.array([int(c) for c in cells], dtype=np.int64)
    except (ValueError, OverflowError):
        pass
    try:
        values = np.array([float(c) for c in cells], dtype=np.float64)
    except ValueError:
        return None
    return values if np.isfinite(values).all() else None
