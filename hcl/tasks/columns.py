"""The input map of a table: how each feature column of a user's file becomes the integer the hardware reads.

Each feature is one unsigned (or, raw, two's-complement) word on the design's input port. Kinds:

  raw          the column's integers as they are, in a `bits`-bit word (two's complement when `signed`): the
               hardware already delivers them (ADC codes, counts); the word holds every value of the data file(s)
  categorical  code i = the i-th of `values` (sorted as text); with `other`, every other value is code len(values)
  fixed        an N-bit fixed-point code:  code = clip(floor(x * 2**frac) - offset, 0, 2**N - 1).
               floor(x * 2**frac) is x in fixed point with `frac` fractional bits (frac < 0: an arithmetic right
               shift); `frac` is the largest that keeps the training rows' range within N bits, `offset` moves
               their minimum to code 0. Hardware feeding the design computes the same: a shift, a subtraction
               of a constant and a saturation.

The map is fitted on the training rows only, saved in the network file (``meta.inputs``), and applied in exactly
this way to validation and test rows, ``--test-data`` files, ``hcl predict`` and ``hcl emit-vhdl --vectors``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from hcl import schemas
from hcl.errors import DataError, NetworkFormatError
from hcl.splits import Split, fitted_on

KINDS = ("raw", "categorical", "fixed")
MAX_CODE_BITS = 32          # --input-bits: a comparator on a wider code is a carry chain, never one LUT
FRAC_LIMIT = 1000           # |frac|: 2.0**frac stays a finite, non-zero double


def word_range(width: int, signed: bool) -> tuple[int, int]:
    """Smallest and largest value of a `width`-bit input word (two's complement when `signed`)."""
    return (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)


def compact(values):
    """One value when every feature has the same (the short form of the encoder's fields), else a tuple."""
    values = tuple(values)
    return values[0] if len(set(values)) == 1 else values


def cell_text(col: np.ndarray) -> np.ndarray:
    """A column's cells as the text a category is named by: 3 and 3.0 are both '3'."""
    if col.dtype.kind in "US":
        return col.astype(str)
    if col.dtype.kind in "iub":
        return col.astype(np.int64).astype(str)
    return np.array([str(int(v)) if float(v).is_integer() else repr(float(v)) for v in col], dtype=str)


@dataclass(frozen=True)
class ColumnMap:
    name: str
    kind: str
    values: tuple[str, ...] = ()        # categorical
    other: bool = False                 # categorical: unknown values are code len(values) (else an error)
    bits: int = 0                       # fixed, raw: width of the word
    frac: int = 0                       # fixed
    offset: int = 0                     # fixed
    signed: bool = False                # raw
    fitted_on: Split | None = field(default=None, compare=False, repr=False)   # fixed, categorical (hcl.splits)

    @property
    def code_bits(self) -> int:
        """Bits of the word the hardware reads for this feature."""
        if self.kind == "categorical":
            return max(1, (len(self.values) + self.other - 1).bit_length())
        return self.bits

    def apply(self, col: np.ndarray, what: str, row: Callable[[int], str]) -> np.ndarray:
        """Column -> int64 codes; `row(i)` names data row i in messages."""
        where = f"{what}: column {self.name!r}"
        if self.kind == "categorical":
            text = cell_text(col)
            values = np.asarray(self.values, dtype=str)
            index = np.searchsorted(values, text)
            known = np.zeros(len(text), dtype=bool)      # a hand-edited map may list no values: all unknown
            if len(values):
                known = (index < len(values)) & (values[np.minimum(index, len(values) - 1)] == text)
            if not known.all():
                if not self.other:
                    i = int(np.flatnonzero(~known)[0])
                    raise DataError(f"{where}, {row(i)}: value {str(text[i])!r} is not one of the {len(values)} the "
                                    "network was trained on (train with --top-categories N to code unseen and rare "
                                    "values as 'other')")
                index = np.where(known, index, len(values))
            return index.astype(np.int64)
        if col.dtype.kind in "US":
            i = int(np.flatnonzero(~_numeric_cells(col))[0])
            raise DataError(f"{where}, {row(i)}: {str(col[i])!r} is not a number (the network reads this column as "
                            "numbers)")
        if self.kind == "raw":
            if col.dtype.kind == "f":
                bad = np.flatnonzero(np.floor(col) != col)
                if len(bad):
                    i = int(bad[0])
                    raise DataError(f"{where}, {row(i)}: {float(col[i])!r} is not an integer; the network reads this column "
                                    "as raw integers (retrain with --input-bits N for fixed-point codes)")
            codes = col.astype(np.int64)
            lo, hi = word_range(self.bits, self.signed)
            bad = np.flatnonzero((codes < lo) | (codes > hi))
            if len(bad):
                i = int(bad[0])
                raise DataError(f"{where}, {row(i)}: {codes[i]} does not fit the {self.bits}-bit "
                                f"{'signed' if self.signed else 'unsigned'} word the network reads ({lo}..{hi})")
            return codes
        top = (1 << self.bits) - 1
        if col.dtype.kind in "iub" and self.frac <= 0:
            scaled = np.right_shift(col.astype(np.int64), -self.frac)       # floor(x / 2**-frac), exact
            return np.clip(scaled - self.offset, 0, top).astype(np.int64)
        scaled = np.floor(col.astype(np.float64) * 2.0 ** self.frac)
        return np.clip(scaled - self.offset, 0, top).astype(np.int64)

    def describe(self) -> str:
        if self.kind == "raw":
            return f"raw integer, {self.bits}-bit {'signed' if self.signed else 'unsigned'}"
        if self.kind == "categorical":
            return f"categorical, {len(self.values)} values" + (" + other" if self.other else "")
        return (f"{self.bits}-bit fixed point: clip(floor(x * 2**{self.frac}) - {self.offset}, 0, "
                f"{(1 << self.bits) - 1})")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "categorical":
            d.update(values=list(self.values), other=self.other)
        elif self.kind == "fixed":
            d.update(bits=self.bits, frac=self.frac, offset=self.offset)
        else:
            d.update(bits=self.bits, signed=self.signed)
        return d


def fit_categorical(name: str, vocabulary: np.ndarray, train_values: np.ndarray, max_categories: int,
                    top: int | None, what: str, split: Split) -> ColumnMap:
    """The values of `vocabulary`, the column's cells in the data file (a vocabulary holds no label); with `top`,
    the `top` most frequent of `train_values`, the training rows' cells of `split` (ties: first in text order),
    and 'other' for the rest."""
    split = fitted_on(f"column {name!r}'s category counts", split, n_rows=len(train_values))
    values = np.unique(cell_text(vocabulary))
    if top is not None:
        kept, counts = np.unique(cell_text(train_values), return_counts=True)
        order = np.argsort(-counts, kind="stable")[:top]
        return ColumnMap(name, "categorical", tuple(sorted(str(v) for v in kept[order])), other=True,
                         fitted_on=split)
    if len(values) > max_categories:
        raise DataError(f"{what}: column {name!r} has {len(values)} distinct values, more than --max-categories "
                        f"{max_categories}: raise the limit, keep the most frequent with --top-categories N (the "
                        f"rest become 'other'), or leave it out with --drop {name}")
    return ColumnMap(name, "categorical", tuple(str(v) for v in values), fitted_on=split)


def fit_fixed(name: str, train_values: np.ndarray, bits: int, split: Split) -> ColumnMap:
    """The finest fixed-point code of `bits` bits that holds the range of `train_values`, the training rows' values
    of `split`; integers are never scaled up (a finer code of an integer column only leaves codes unused)."""
    split = fitted_on(f"column {name!r}'s fixed-point format", split, n_rows=len(train_values))
    top = (1 << bits) - 1
    integral = train_values.dtype.kind in "iub"
    lo, hi = float(train_values.min()), float(train_values.max())

    def span(f: int) -> int:
        return math.floor(hi * 2.0 ** f) - math.floor(lo * 2.0 ** f)

    frac = 0
    if hi > lo:
        # log2(top / (hi - lo)), with the range halved first: hi - lo of finite doubles may overflow (1e308 - -1e308)
        frac = max(-FRAC_LIMIT, min(FRAC_LIMIT, math.floor(math.log2(top / (hi / 2 - lo / 2))) - 1))
        while frac < FRAC_LIMIT and span(frac + 1) <= top:
            frac += 1
        while frac > -FRAC_LIMIT and span(frac) > top:
            frac -= 1
    if integral:
        frac = min(frac, 0)
        offset = int(train_values.min()) >> -frac
    else:
        offset = math.floor(lo * 2.0 ** frac)
    return ColumnMap(name, "fixed", bits=bits, frac=frac, offset=offset, fitted_on=split)


def _numeric_cells(col: np.ndarray) -> np.ndarray:
    def ok(c: str) -> bool:
        try:
            return math.isfinite(float(c))
        except ValueError:
            return False
    return np.array([ok(c) for c in col], dtype=bool)


@dataclass(frozen=True)
class InputMap:
    label: str
    columns: tuple[ColumnMap, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "features": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, d: Any, where: str = "meta.inputs") -> "InputMap":
        problem = schemas.first_error(d, schemas.INPUTS_VALIDATOR, root=tuple(where.split(".")))
        if problem is not None:
            raise NetworkFormatError(problem)
        columns = []
        for c in d["features"]:
            values = tuple(c.get("values", ()))
            if list(values) != sorted(set(values)):
                raise NetworkFormatError(f"{where}: feature {c['name']!r}: values must be distinct and sorted")
            columns.append(ColumnMap(c["name"], c["kind"], values, c.get("other", False), c.get("bits", 0),
                                     c.get("frac", 0), c.get("offset", 0), c.get("signed", False)))
        return cls(d["label"], tuple(columns))
