"""The `file` task: the user's own table, from CSV or NPZ, plus the stratified splitting every task uses.

    load_task("file", data="flows.csv", label="label", drop="id,attack_cat", test_data="flows_test.csv")

Reading the file (formats, typing, missing values): hcl.tasks.tablefile, through the content-keyed cache of
hcl.tasks.cache. How each feature column becomes the integer word the hardware reads (raw integers, categorical
codes, fixed-point codes of floats), fitted on the training rows only: hcl.tasks.columns; the fitted map is
``extra["inputs"]`` and goes into the network file as ``meta.inputs``.

Options (the CLI flags of the same names): `label` (name or 0-based index; default the last column, or an NPZ's
`y`/`label` array), `features` / `drop` (names or indices, comma-separated), `categorical` / `numeric`
(overrides of the guess: text is categorical, numbers numeric), `max_categories` (32), `top_categories` (keep the N
most frequent training values, code the rest as 'other'), `input_bits` (fixed-point code width of float columns,
default 12; with it integer columns are coded the same way), `fixed` (declared formats "NAME=BITS:FRAC[:OFFSET]").

Splits: `test_data` (a file of test rows; the data file gives train and validation rows, `val_fraction` of them
validation) and `val_data` beside it; or `split_column` (train / val / validation / test per row); else stratified
and seeded `val_fraction` / `test_fraction` (0.15 / 0.15). `extra["split_source"]` says which.

Each feature is its own input word (`Dataset.input_width` and `signed`: one value when all agree, else a tuple).
`extra["warnings"]` lists columns a network should not learn from (an id, a copy of the answer) and fixed-point
columns whose training rows all share one code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from hcl.errors import ConfigError, DataError
from hcl.tasks import Dataset, register
from hcl.tasks.columns import (FRAC_LIMIT, MAX_CODE_BITS, ColumnMap, InputMap, _numeric_cells, cell_text,
                               compact, fit_categorical, fit_fixed)
from hcl.splits import Split
from hcl.tasks.tablefile import Table, usable


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


def check_stratifiable(y: np.ndarray, what: str, class_names: Sequence[str] | None = None,
                       three_way: bool = True) -> None:
    values, counts = np.unique(y, return_counts=True)
    if len(values) == 0:
        raise DataError(f"{what}: no rows")
    if len(values) < 2:
        only = class_names[values[0]] if class_names is not None else values[0]
        raise DataError(f"{what}: the label has a single class ({only!r}); a classifier needs at least two")
    # Stratification puts each class in all three splits, so each class needs a row for each of them (a two-way
    # split keeps a class of one row in training: _two_way).
    if three_way and counts.min() < 3:
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

DEFAULT_INPUT_BITS = 12      # float columns: 12-bit fixed-point codes unless --input-bits says otherwise
DEFAULT_MAX_CATEGORIES = 32
SPLIT_NAMES = {"train": "train", "val": "val", "validation": "val", "valid": "val", "test": "test"}


DEFAULT_FRACTION = 0.15      # --val-fraction and --test-fraction when not given


@register("file")
def load_file(seed: int = 0, data=None, label: str | int | None = None, features=None, drop=None,
              categorical=None, numeric=None, max_categories: int = DEFAULT_MAX_CATEGORIES,
              top_categories: int | None = None, input_bits: int | None = None, fixed=None, test_data=None,
              val_data=None,
              split_column: str | int | None = None, val_fraction: float | None = None,
              test_fraction: float | None = None, class_order: Sequence[str] | None = None,
              **options) -> Dataset:
    """The user's own table (module docstring of hcl.tasks.tablefile for the file formats; hcl.tasks.columns for
    how each column becomes the word the hardware reads).

    `data`, `test_data` and `val_data` are files, or Tables already read (hcl.estimator builds them from arrays and
    DataFrames, so its rows take exactly this path). `class_order` fixes the classes' order (the estimator's
    `classes_`, sorted as values); default: the label's values sorted as text."""
    if options:
        raise ConfigError(f"task 'file': unknown option(s) {', '.join(sorted(options))}; it takes label, features, "
                          "drop, categorical, numeric, max_categories, top_categories, input_bits, fixed, test_data, "
                          "val_data, split_column, val_fraction, test_fraction")
    _check_int("--max-categories", max_categories, 1, 1 << 16)
    if top_categories is not None:
        _check_int("--top-categories", top_categories, 1, 1 << 16)
    if input_bits is not None:
        _check_int("--input-bits", input_bits, 1, MAX_CODE_BITS)
    # A fraction says how to cut rows the other split options already give: both would be one ignored.
    for flag, given, other in (("--test-fraction", test_fraction, "--test-data" if test_data is not None else
                                 "--split-column" if split_column is not None else None),
                               ("--val-fraction", val_fraction, "--val-data" if val_data is not None else
                                "--split-column" if split_column is not None else None)):
        if given is not None and other is not None:
            raise ConfigError(f"{flag} and {other} both say which rows are {flag[2:-9]} rows: give one of them")
    val_fraction = DEFAULT_FRACTION if val_fraction is None else val_fraction
    test_fraction = DEFAULT_FRACTION if test_fraction is None else test_fraction
    for flag, fraction in (("--val-fraction", val_fraction), ("--test-fraction", test_fraction)):
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise ConfigError(f"{flag}: expected a number between 0 and 1, got {fraction!r}")
    if data is None:
        raise DataError("task 'file' needs a data file: pass --data FILE.csv or FILE.npz (and --label COLUMN)")
    if split_column is not None and (test_data is not None or val_data is not None):
        raise ConfigError("--split-column and --test-data/--val-data both say how to split: give one of them")
    if val_data is not None and test_data is None:
        raise ConfigError("--val-data needs --test-data too (else the test rows would come from the validation file)")

    table = _table(data)
    what = table.name
    label_j = _column(table, label, "--label", default=table.default_label)
    split_j = _column(table, split_column, "--split-column") if split_column is not None else None
    feature_js = _feature_columns(table, features, drop, label_j, split_j)
    names = [table.names[j] for j in feature_js]
    declared = _fixed_formats(table, fixed)
    cat_set = set(_names(table, categorical, "--categorical"))
    num_set = set(_names(table, numeric, "--numeric"))
    both = cat_set & num_set
    if both:
        raise ConfigError(f"column {sorted(both)[0]!r} is given both to --categorical and --numeric")
    for j in [label_j, *feature_js, *([split_j] if split_j is not None else [])]:
        if not usable(table, j, j in feature_js and table.names[j] in cat_set):
            raise DataError(table.problems[j])

    # Other files of the same columns: the test (and validation) rows.
    parts = [table]
    for flag, extra in (("--test-data", test_data), ("--val-data", val_data)):
        if extra is not None:
            other = _table(extra)
            for name in [table.names[label_j], *names]:
                if name not in other.names:
                    raise DataError(f"{flag} {other.name}: no column {name!r} (the columns must match {what}'s)")
                if not usable(other, other.names.index(name), name in cat_set):
                    raise DataError(other.problems[other.names.index(name)])
                mine, theirs = table.columns[table.names.index(name)], other.columns[other.names.index(name)]
                if mine is not None and theirs is not None and mine.dtype.kind in "iuf" \
                        and theirs.dtype.kind in "US" and name not in cat_set:
                    i = int(np.flatnonzero(~_numeric_cells(theirs))[0])
                    raise DataError(f"{flag} {other.name}: column {name!r}, {other.row(i)}: {str(theirs[i])!r} is not "
                                    f"a number, but the column holds numbers in {what}: fix that cell, or say "
                                    f"--categorical {name} if the column is categories")
            parts.append(other)

    label_cells = [cell_text(t.columns[t.names.index(table.names[label_j])]) for t in parts]
    if class_order is None:
        classes_all = np.unique(np.concatenate(label_cells))
        y_parts = [np.searchsorted(classes_all, cells).astype(np.int64) for cells in label_cells]
    else:
        classes_all = np.asarray(class_order, dtype=str)
        index = {c: i for i, c in enumerate(classes_all.tolist())}
        unknown = sorted(set(np.concatenate(label_cells).tolist()) - set(index))
        if unknown:
            raise DataError(f"{what}: label {unknown[0]!r} is not one of the classes {_shown(list(index))}")
        y_parts = [np.array([index[c] for c in cells.tolist()], dtype=np.int64) for cells in label_cells]
    classes = tuple(str(c) for c in classes_all)

    # Row indices of each split within the concatenation of the files' rows.
    starts = np.cumsum([0] + [t.n_rows for t in parts])
    rng = np.random.default_rng(seed)
    if split_j is not None:
        split_of = _split_column(table, split_j)
        idx = {s: np.flatnonzero(split_of == s) for s in ("train", "val", "test")}
        source = f"column {table.names[split_j]!r}"
    elif test_data is not None:
        test_idx = np.arange(starts[1], starts[2])
        if val_data is not None:
            train_idx, val_idx = np.arange(starts[0], starts[1]), np.arange(starts[2], starts[3])
            source = f"files: train {what}, val {parts[2].name}, test {parts[1].name}"
        else:
            check_stratifiable(y_parts[0], what, classes, three_way=False)
            train_idx, val_idx = _two_way(y_parts[0], rng, val_fraction, what)
            source = f"files: train/val {what} (val_fraction {val_fraction}, stratified), test {parts[1].name}"
        idx = {"train": train_idx, "val": val_idx, "test": test_idx}
    else:
        check_stratifiable(y_parts[0], what, classes)
        order = np.arange(table.n_rows)[:, None]
        tr, _, va, _, te, _ = stratified_split(order, y_parts[0], rng, val_fraction, test_fraction, what)
        idx = {"train": tr[:, 0], "val": va[:, 0], "test": te[:, 0]}
        source = f"{what}: stratified {1 - val_fraction - test_fraction:g}/{val_fraction:g}/{test_fraction:g}, seed {seed}"
    for s in ("train", "val", "test"):
        if len(idx[s]) == 0:
            raise DataError(f"{what}: the {s} split is empty ({source})")
    y_all = np.concatenate(y_parts)

    # The input map: fitted on the training rows (vocabularies of categorical columns from every row of the main
    # file: a vocabulary holds no label), applied the same way to every row.
    maps, warnings = [], []
    train_rows = idx["train"]
    train = Split.of("train", y_all[train_rows])        # what the input map is fitted on (hcl.splits)
    main_rows = np.arange(starts[0], starts[1])
    columns = {name: _joined(parts, name) for name in names}
    for name in names:
        col = columns[name]
        text = col.dtype.kind in "US"
        if name in declared:
            if text:
                raise DataError(_first_text_cell(col, name, parts, starts, "--fixed"))
            cmap = declared[name]
        elif text and name not in cat_set and name not in num_set and _mostly_numbers(col):
            raise DataError(_first_text_cell(col, name, parts, starts, None))
        elif name in cat_set or (text and name not in num_set):
            cmap = fit_categorical(name, col[main_rows], col[train_rows], max_categories, top_categories, what,
                                   train)
        elif text:
            raise DataError(_first_text_cell(col, name, parts, starts, "--numeric"))
        elif col.dtype.kind == "f" or input_bits is not None:
            cmap = fit_fixed(name, col[train_rows], input_bits if input_bits is not None else DEFAULT_INPUT_BITS,
                             train)
        else:
            width, signed = integer_width(int(col.min()), int(col.max()))
            cmap = ColumnMap(name, "raw", bits=width, signed=signed)
        maps.append(cmap)
    inputs = InputMap(table.names[label_j], tuple(maps))
    X = np.column_stack([m.apply(columns[m.name], what, lambda i: _row_name(parts, starts, i)) for m in maps])
    warnings += _suspect_columns(names, [columns[n][idx["train"]] for n in names], y_all[idx["train"]])
    for m in maps:
        if m.kind == "fixed" and m.name in declared:
            warnings += _clipped(m, columns[m.name])
        if m.kind == "fixed":
            codes = X[idx["train"], names.index(m.name)]
            if codes.min() == codes.max():
                warnings.append(f"column {m.name!r}: every training row has the same {m.bits}-bit code")
    categorical_js = tuple(f for f, m in enumerate(maps) if m.kind == "categorical")
    widths, signs = compact(m.code_bits for m in maps), compact(m.kind == "raw" and m.signed for m in maps)
    split = [X[idx["train"]], y_all[idx["train"]], X[idx["val"]], y_all[idx["val"]], X[idx["test"]],
             y_all[idx["test"]]]
    kinds = {k: sum(m.kind == k for m in maps) for k in ("raw", "categorical", "fixed")}
    return Dataset(
        "file", *split, classes=classes, input_width=widths, signed=signs, categorical=categorical_js,
        description=f"{what}: {len(y_all)} rows, {len(maps)} features ({kinds['raw']} integer, "
                    f"{kinds['categorical']} categorical, {kinds['fixed']} fixed-point), label "
                    f"{table.names[label_j]!r} with {len(classes)} classes; split: {source}",
        extra={"path": what if isinstance(data, Table) else str(data), "label": table.names[label_j], "feature_names": names,
               "inputs": inputs.to_dict(), "warnings": warnings, "split_source": source,
               "max_categories": max(max_categories, (top_categories or 0) + 1),
               "fitted_on": {"input map": train} if any(m.fitted_on is not None for m in maps) else {}})


def _clipped(m: ColumnMap, col: np.ndarray) -> list[str]:
    """A warning when --fixed's format clips rows of the data (their codes saturate at 0 or 2**BITS - 1)."""
    scaled = np.floor(col.astype(np.float64) * 2.0 ** m.frac) - m.offset
    top = (1 << m.bits) - 1
    low, high = int((scaled < 0).sum()), int((scaled > top).sum())
    if not low and not high:
        return []
    n = len(col)
    return [f"column {m.name!r}: --fixed {m.name}={m.bits}:{m.frac}:{m.offset} clips {low + high} of {n} rows "
            f"({100 * (low + high) / n:.1f} %: {low} below code 0, {high} above {top}; the values span "
            f"{float(col.min()):g}..{float(col.max()):g}): the hardware's format loses them; check BITS, FRAC and "
            "OFFSET"]


def _fixed_formats(table, value) -> dict:
    """--fixed "NAME=BITS:FRAC[:OFFSET],...": fixed-point codes the user's hardware already delivers."""
    out = {}
    for item in _refs(value, "--fixed"):
        name, _, spec = str(item).partition("=")
        parts = spec.split(":")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            numbers = []
        if not name or len(numbers) not in (2, 3):
            raise ConfigError(f"--fixed {item!r}: expected NAME=BITS:FRAC or NAME=BITS:FRAC:OFFSET, e.g. "
                              "volts=12:8 (code = clip(floor(x * 2**8) - 0, 0, 4095))")
        bits, frac, offset = (numbers + [0])[:3]
        _check_int(f"--fixed {name}: BITS", bits, 1, MAX_CODE_BITS)
        _check_int(f"--fixed {name}: FRAC", frac, -FRAC_LIMIT, FRAC_LIMIT)
        _check_int(f"--fixed {name}: OFFSET", offset, -2**62, 2**62)
        column = table.names[_column(table, name.strip(), "--fixed")]
        if column in out:
            raise ConfigError(f"--fixed: column {column!r} is given two formats; give each column one")
        out[column] = ColumnMap(column, "fixed", bits=bits, frac=frac, offset=offset)
    return out


def _suspect_columns(names: list[str], train_cols: list[np.ndarray], y: np.ndarray) -> list[str]:
    """Warnings for columns a network should not learn from: an id (every training row its own value) and a copy
    of the answer (one value per class, or nearly: >= 99.9 % of training rows follow their value's majority)."""
    out = []
    n = len(y)
    baseline = np.bincount(y).max() / n
    for name, col in zip(names, train_cols):
        values, inverse = np.unique(col, return_inverse=True)
        # An id: text, or integers numbering the rows (a range near the row count), every training row its own.
        id_like = col.dtype.kind in "US" or (col.dtype.kind == "i" and int(values[-1]) - int(values[0]) < 3 * n)
        if len(values) == n and n >= 20 and id_like:
            out.append(f"column {name!r}: every training row has its own value (an id?); --drop {name} unless it "
                       "is a measurement")
            continue
        if len(values) > n // 2 or baseline >= 0.999 or len(values) == n:
            continue
        counts = np.zeros((len(values), int(y.max()) + 1), dtype=np.int64)
        np.add.at(counts, (inverse.ravel(), y), 1)
        if counts.max(axis=1).sum() >= 0.999 * n:
            out.append(f"column {name!r} alone gives the label for {counts.max(axis=1).sum() / n:.1%} of the "
                       f"training rows: a copy of the answer (a second label)? --drop {name} if so")
    return out


def _check_int(flag: str, value, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ConfigError(f"{flag}: expected an integer {lo}..{hi}, got {value!r}")


def _table(data) -> Table:
    """A Table as given, or the parsed table of a file (through the cache)."""
    from hcl.tasks.cache import cached_table
    return data if isinstance(data, Table) else cached_table(_data_path(data))


def _data_path(data) -> Path:
    path = Path(os.fspath(data))
    if path.is_dir():
        raise DataError(f"{path}: is a folder; task 'file' needs a .csv or .npz file")
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    return path


def _shown(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")


def _column(table, ref, flag: str, default: int | None = None) -> int:
    """A column given by name or 0-based index (a CLI passes every option as text, so "3" may be an index)."""
    if ref is None:
        if default is None:
            raise DataError(f"{table.name}: no label array named 'y' or 'label': pass --label NAME "
                            f"(columns: {_shown(table.names)})")
        return default
    if isinstance(ref, str) and ref in table.names:
        return table.names.index(ref)
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool) or (isinstance(ref, str)
                                                                          and ref.lstrip("-").isdigit()):
        i = int(ref)
        if not -len(table.names) <= i < len(table.names):
            raise DataError(f"{table.name}: {flag} {ref}: column index out of range (the file has "
                            f"{len(table.names)} columns)")
        return i % len(table.names)
    raise DataError(f"{table.name}: {flag}: no column {ref!r}; the columns are {_shown(table.names)}")


def _refs(value, flag: str = "a column list") -> list:
    """Columns given as "a,b,3" (the CLI) or a list of names and indices (a TOML config)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))
                                                for v in value):
        return list(value)
    raise ConfigError(f"{flag}: expected comma-separated column names or indices, got {value!r}")


def _names(table, value, flag: str) -> list[str]:
    return [table.names[_column(table, r, flag)] for r in _refs(value, flag)]


def _feature_columns(table, features, drop, label_j: int, split_j: int | None) -> list[int]:
    what = table.name
    if features is not None:
        js = [_column(table, r, "--features") for r in _refs(features, "--features")]
        for j in js:
            if j == label_j:
                raise ConfigError(f"--features: {table.names[j]!r} is the label column")
            if j == split_j:
                raise ConfigError(f"--features: {table.names[j]!r} is the split column")
    else:
        base = table.default_features if table.default_features is not None else range(len(table.names))
        js = [j for j in base if j not in (label_j, split_j)]
    dropped = {_column(table, r, "--drop") for r in _refs(drop, "--drop")}
    if label_j in dropped:
        raise ConfigError(f"--drop: {table.names[label_j]!r} is the label column")
    both = [j for j in js if j in dropped] if features is not None else []
    if both:
        raise ConfigError(f"column {table.names[both[0]]!r} is given to both --features and --drop: keep it in one")
    js = [j for j in dict.fromkeys(js) if j not in dropped]
    if not js:
        raise DataError(f"{what}: no feature columns left besides the label {table.names[label_j]!r}")
    return js


def _joined(parts, name: str) -> np.ndarray:
    """Column `name` of every file, one after the other (as text when the files disagree on its type)."""
    cols = [t.columns[t.names.index(name)] for t in parts]
    if len(cols) == 1:
        return cols[0]
    if len({c.dtype.kind in "US" for c in cols}) > 1:
        cols = [cell_text(c) for c in cols]
    return np.concatenate(cols)


def _mostly_numbers(col: np.ndarray) -> bool:
    """A text column whose cells are numbers but for a few (at most 5 % of its distinct values): a stray '-' or
    '1,234.5' rather than categories."""
    values = np.unique(col)
    return len(values) > 2 and (~_numeric_cells(values)).sum() <= max(1, len(values) // 20)


def _first_text_cell(col: np.ndarray, name: str, parts, starts, flag: str | None) -> str:
    bad = np.flatnonzero(~_numeric_cells(col))
    if not len(bad):
        return f"column {name!r}: not numeric"
    i = int(bad[0])
    more = f" (and {len(bad) - 1} more cells)" if len(bad) > 1 else ""
    if flag is None:
        return (f"column {name!r}, {_row_name(parts, starts, i)}: {str(col[i])!r} is not a number, though the "
                f"column's other values are{more}: fix that cell (a thousands separator? a placeholder?), or say "
                f"--categorical {name} if it is a category")
    return (f"column {name!r}, {_row_name(parts, starts, i)}: {str(col[i])!r} is not a number{more}, but {flag} "
            f"{name} says the column holds numbers")


def _split_column(table, j: int) -> np.ndarray:
    text = np.char.lower(cell_text(table.columns[j]))
    out = np.array([SPLIT_NAMES.get(t, "") for t in text.tolist()])
    bad = np.flatnonzero(out == "")
    if len(bad):
        i = int(bad[0])
        raise DataError(f"{table.name}: column {table.names[j]!r}, {table.row(i)}: {str(text[i])!r} is not a split "
                        "name; use train, val (or validation) and test")
    return out


def _two_way(y: np.ndarray, rng: np.random.Generator, val_fraction: float, what: str):
    """(train, val) row indices, stratified and seeded. The rows of a class with a single row stay in training
    (a validation split cannot hold a class that training must also see); the validation split holds at least one
    row of every other class."""
    from sklearn.model_selection import train_test_split
    if not 0 < val_fraction < 1:
        raise ConfigError(f"--val-fraction: need 0 < val_fraction < 1, got {val_fraction}")
    seed = int(rng.integers(0, 2**31 - 1))
    single = np.bincount(y)[y] < 2
    rows = np.flatnonzero(~single)
    size = max(val_fraction, len(np.unique(y[rows])) / max(len(rows), 1))
    try:
        if size >= 1:
            raise ValueError(f"{len(rows)} rows are too few for a validation row of each of "
                             f"{len(np.unique(y[rows]))} classes")
        tr, va = train_test_split(rows, test_size=size, stratify=y[rows], random_state=seed)
    except ValueError as exc:
        raise DataError(f"{what}: cannot split {len(y)} rows into stratified train/val: {exc}") from None
    return (np.concatenate([tr, np.flatnonzero(single)]) if single.any() else tr), va


def _row_name(parts, starts, i: int) -> str:
    """Row i of the concatenated files, as its own file names it."""
    f = int(np.searchsorted(starts, i, side="right") - 1)
    return f"{parts[f].name if len(parts) > 1 else ''}{' ' if len(parts) > 1 else ''}{parts[f].row(i - starts[f])}"


# ---- a network's rows from a user's file (hcl predict, emit-vhdl --vectors) ---------------------------------------

def rows_for_network(path, inputs: dict | None, n_features: int, classes: Sequence[str],
                     label: str | int | None = None) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(X, y, label name) of every row of a CSV/NPZ file, as the network's input words.

    With the network's input map (``meta.inputs``, written by a ``--task file`` run) each feature column is found
    by name and coded exactly as in training; the label column is used when the file has it. Without one (a
    built-in task's network) the file holds the raw integer features in order, plus a label column only when
    `label` names it. y is None when there is no label column.
    """
    from hcl.tasks.cache import cached_table
    table = cached_table(_data_path(path))
    what = table.name
    if inputs is not None:
        imap = InputMap.from_dict(inputs)
        label_name = imap.label if label is None else table.names[_column(table, label, "--label")]
        missing = [c.name for c in imap.columns if c.name not in table.names]
        if missing:
            raise DataError(f"{what}: no column {missing[0]!r}; the network reads {_shown(imap.names)}")
        for c in imap.columns:
            if not usable(table, table.names.index(c.name), c.kind == "categorical"):
                raise DataError(table.problems[table.names.index(c.name)])
        X = np.column_stack([c.apply(table.columns[table.names.index(c.name)], what, table.row)
                             for c in imap.columns])
    else:
        label_name = table.names[_column(table, label, "--label")] if label is not None else None
        feature_js = [j for j in range(len(table.names)) if table.names[j] != label_name]
        if len(feature_js) != n_features:
            raise DataError(f"{what}: {len(feature_js)} feature columns, the network reads {n_features} (this network "
                            "has no input map: the file must hold its raw features in order, and --label names a "
                            "label column if there is one)")
        for j in feature_js:
            if j in table.problems:
                raise DataError(table.problems[j])
            col = table.columns[j]
            if col.dtype.kind != "i":
                raise DataError(f"{what}: column {table.names[j]!r} is not integer; the network reads raw integer "
                                "words")
        X = np.column_stack([table.columns[j] for j in feature_js])
    y = None
    if label_name is not None and label_name in table.names:
        j = table.names.index(label_name)
        if j in table.problems:
            raise DataError(table.problems[j])
        cells = cell_text(table.columns[j])
        known = {c: i for i, c in enumerate(classes)}
        unknown = [i for i, c in enumerate(cells.tolist()) if c not in known]
        if unknown:
            i = unknown[0]
            raise DataError(f"{what}: column {label_name!r}, {table.row(i)}: label {str(cells[i])!r} is not one of "
                            f"the network's classes ({_shown(list(classes))})")
        y = np.array([known[c] for c in cells.tolist()], dtype=np.int64)
    return X, y, label_name
