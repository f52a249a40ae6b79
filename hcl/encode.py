"""Input encoders: raw features -> comparison bits -> bit-packed words.

Every encoded bit is one comparator that hardware builds directly on the raw input word: ``x[f] >= T`` (a
thermometer level) or ``x[f] == V`` (a one-hot category). Thresholds are fitted on the training split only. For
integer inputs the thresholds are integers, so the RTL compares exactly what the Python model compares.

Input words: each feature is one raw word of its own width, unsigned or two's complement (``input_width`` and
``signed``: one value for every feature, or a list with one per feature). ``hcl.tasks.columns.word_range`` is the
one rule for the values a word holds; emit, the testbench and the proof lay the words out with ``word_offsets``.

Packing: sample ``s`` is bit ``s % 64`` of word ``s // 64``; a packed matrix is uint64 ``[n_bits, n_words]`` and
the padding bits of the last word are zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from hcl import schemas
from hcl.errors import ConfigError, DataError, NetworkFormatError
from hcl.splits import Split, fitted_on
from hcl.tasks.columns import compact

METHODS = ("quantile", "uniform")
OPS = (">=", "==")


@dataclass
class Encoder:
    n_features: int
    features: np.ndarray        # int64 [n_bits]: which raw feature each bit compares
    ops: list[str]              # per bit: ">=" or "=="
    thresholds: np.ndarray      # int64 (integer inputs) or float64 [n_bits]
    input_width: int | tuple[int, ...] | None   # raw word width in bits (one for all or one per feature); None: float
    signed: bool | tuple[bool, ...] = False
    method: str = "quantile"
    bits_per_feature: int = 0
    fitted_on: Split | None = field(default=None, compare=False, repr=False)   # the rows fit() saw (hcl.splits)

    @property
    def n_bits(self) -> int:
        return int(self.features.shape[0])

    @property
    def integer(self) -> bool:
        return self.input_width is not None

    @property
    def widths(self) -> list[int]:
        """Width of each feature's input word (integer inputs only)."""
        return each_feature(self.input_width, self.n_features)

    @property
    def signs(self) -> list[bool]:
        return each_feature(self.signed, self.n_features)

    def word_offsets(self) -> list[int]:
        """Bit offset of each feature's word on the flat input port (feature 0 at the least significant end)."""
        return [int(o) for o in np.concatenate([[0], np.cumsum(self.widths)[:-1]])]

    @property
    def port_width(self) -> int:
        return int(sum(self.widths))

    # ---- fitting ---------------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, X: np.ndarray, bits: int | Sequence[int] = 4, method: str = "quantile",
            categorical: Sequence[int] = (), input_width: int | Sequence[int] | None = None,
            signed: bool | Sequence[bool] = False, max_categories: int = 32, threshold_bits: int | None = None,
            names: Sequence[str] | None = None, split: Split | None = None) -> "Encoder":
        """Fit thresholds on training data `X` [n_samples, n_features].

        `bits` is the thermometer resolution per feature (one int for all, or one per feature). Thresholds that
        would give a bit constant over the training data are dropped, so a feature may get fewer bits.

        `threshold_bits` (integer inputs only) rounds each threshold of a feature whose word is wider than that to a
        multiple of 2^(width - threshold_bits) of its own word: a comparator ``x >= T`` then depends on the top
        `threshold_bits` bits of x only, so it fits one LUT6 (or is a plain wire when T is a power of two) instead
        of a carry chain over the whole word. `names` name the features in messages.

        `split`: the identity of the rows `X` (hcl.splits); a run passes its training split's, checked here and
        kept as ``fitted_on``.
        """
        X = np.asarray(X)
        check_data(X, "training data")
        if split is not None:
            fitted_on("the encoder's thresholds", split, X=X)
        if method not in METHODS:
            raise ConfigError(f"encoder method {method!r} unknown: use one of {', '.join(METHODS)}")
        n_features = X.shape[1]
        per_feature = [bits] * n_features if np.isscalar(bits) else list(bits)
        if len(per_feature) != n_features or any(int(b) < 1 for b in per_feature):
            raise ConfigError(f"encoder bits: need one value >= 1 per feature ({n_features} features)")
        integer = input_width is not None
        input_width, signed = _compact(input_width, n_features, "input_width"), _compact(signed, n_features, "signed")
        if threshold_bits is not None and (not integer or not 1 <= threshold_bits <= 64):
            raise ConfigError(f"threshold_bits: needs integer inputs and a value in 1..64, got {threshold_bits}")
        widths = each_feature(input_width, n_features) if integer else [0] * n_features
        feats, ops, thr = [], [], []
        for f in range(n_features):
            col = X[:, f]
            if f in set(categorical):
                values = np.unique(col)
                if len(values) > max_categories:
                    name = repr(names[f]) if names is not None else str(f)
                    raise DataError(f"column {name}: {len(values)} categories exceed {max_categories}; "
                                    "is it really categorical?")
                for v in values:
                    feats.append(f), ops.append("=="), thr.append(v)
                continue
            step = 1 << (widths[f] - threshold_bits) if threshold_bits and widths[f] > threshold_bits else 1
            for t in _thermometer(col, int(per_feature[f]), method, integer, step):
                feats.append(f), ops.append(">="), thr.append(t)
        if not feats:
            raise DataError("training data: every feature is constant, nothing to encode")
        dtype = np.int64 if integer else np.float64
        return cls(n_features, np.asarray(feats, dtype=np.int64), ops, np.asarray(thr, dtype=dtype),
                   input_width, signed, method, int(max(per_feature)), fitted_on=split)

    # ---- applying ----------------------------------------------------------------------------------------------
    def transform(self, X: np.ndarray) -> np.ndarray:
        """Raw features [n, n_features] -> bool [n, n_bits]."""
        X = np.asarray(X)
        check_data(X, "input data")
        if X.shape[1] != self.n_features:
            raise DataError(f"input data: {X.shape[1]} features, the encoder was fitted on {self.n_features}")
        cols = X[:, self.features]
        ge = np.array([op == ">=" for op in self.ops])
        if self.integer:
            cols = cols.astype(np.int64)
        return np.where(ge, cols >= self.thresholds, cols == self.thresholds)

    def encode_packed(self, X: np.ndarray) -> np.ndarray:
        return pack_bits(self.transform(X))

    # ---- serialization -----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        thr = [int(t) if self.integer else float(t) for t in self.thresholds]
        return {
            "kind": "comparators",
            "method": self.method,
            "bits_per_feature": self.bits_per_feature,
            "n_features": self.n_features,
            "input_width": list(self.input_width) if isinstance(self.input_width, tuple) else self.input_width,
            "signed": list(self.signed) if isinstance(self.signed, tuple) else self.signed,
            "bits": [[int(f), op, t] for f, op, t in zip(self.features, self.ops, thr)],
        }

    @classmethod
    def from_dict(cls, d: Any, expect_bits: int | None = None) -> "Encoder":
        problem = schemas.first_error(d, schemas.ENCODER_VALIDATOR, root=("encoder",))
        if problem is not None:
            raise NetworkFormatError(problem)

        def bad(msg: str) -> NetworkFormatError:
            return NetworkFormatError(f"encoder.{msg}")
        n_features, width, bits = d["n_features"], d.get("input_width"), d["bits"]
        for key in ("input_width", "signed"):
            if isinstance(d.get(key), list) and len(d[key]) != n_features:
                raise bad(f"{key}: {len(d[key])} entries, need one per feature ({n_features})")
        feats, ops, thr = [], [], []
        for i, (feature, op, threshold) in enumerate(bits):
            if feature >= n_features:
                raise bad(f"bits[{i}]: feature {feature} out of range 0..{n_features - 1}")
            if width is not None and not isinstance(threshold, int):
                raise bad(f"bits[{i}]: integer inputs need an integer threshold, got {threshold!r}")
            feats.append(feature), ops.append(op), thr.append(threshold)
        if expect_bits is not None and len(bits) != expect_bits:
            raise bad(f"bits: {len(bits)} comparisons but the network has n_inputs={expect_bits}")
        dtype = np.int64 if width is not None else np.float64
        return cls(n_features, np.asarray(feats, dtype=np.int64), ops, np.asarray(thr, dtype=dtype),
                   _compact(width, n_features, "input_width"), _compact(d.get("signed", False), n_features, "signed"),
                   d.get("method", ""), d.get("bits_per_feature", 0))


def each_feature(value, n_features: int) -> list:
    """An encoder field (one value for all features, or a list) as one value per feature."""
    return list(value) if isinstance(value, (tuple, list)) else [value] * n_features


def _compact(value, n_features: int, what: str):
    """A field as the file format holds it: one value when every feature has the same, else a tuple."""
    if value is None or not isinstance(value, (tuple, list, np.ndarray)):
        return value
    values = [v.item() if isinstance(v, np.generic) else v for v in value]
    if len(values) != n_features:
        raise ConfigError(f"encoder {what}: {len(values)} values for {n_features} features")
    return compact(values)


def _thermometer(col: np.ndarray, bits: int, method: str, integer: bool, step: int = 1) -> list:
    lo, hi = col.min(), col.max()
    if lo == hi:
        return []
    if method == "quantile":
        # Quantiles of a column with few values can all tie at its minimum or maximum (a 0/1 flag set in most
        # rows, or in few): no cut splits the training rows, and the column, which varies, would get no bit. Then
        # the uniform cuts, which split it unless --threshold-bits rounds them away too.
        return _cuts(col, bits, "quantile", integer, step) or _cuts(col, bits, "uniform", integer, step)
    return _cuts(col, bits, method, integer, step)


def _cuts(col: np.ndarray, bits: int, method: str, integer: bool, step: int) -> list:
    lo, hi = col.min(), col.max()
    levels = np.arange(1, bits + 1) / (bits + 1)
    if method == "quantile":
        cuts = np.quantile(col.astype(np.float64), levels)
    else:
        cuts = lo + levels * (float(hi) - float(lo))
    if integer:
        # x > c  <=>  x >= floor(c) + 1 for integer x; keep only thresholds that split the training data.
        ts = np.floor(cuts).astype(np.int64) + 1
        if step > 1:
            ts = np.maximum(step, np.round(ts / step).astype(np.int64) * step)
        ts = np.unique(ts)
        return [int(t) for t in ts if lo < t <= hi]
    ts = np.unique(cuts)
    return [float(t) for t in ts if lo < t <= hi]


def check_data(X: np.ndarray, what: str) -> None:
    if X.ndim != 2:
        raise DataError(f"{what}: expected a 2-D array [samples, features], got shape {X.shape}")
    if X.shape[0] == 0:
        raise DataError(f"{what}: no samples")
    if not (np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating) or X.dtype == bool):
        raise DataError(f"{what}: features must be numeric, got dtype {X.dtype}")
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        r, c = np.argwhere(~np.isfinite(X))[0]
        raise DataError(f"{what}: NaN or inf at row {r}, column {c}: clean or impute the data first")


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """bool [n_samples, n_bits] -> uint64 [n_bits, ceil(n_samples / 64)], sample s at bit s % 64."""
    bits = np.asarray(bits, dtype=bool)
    n, m = bits.shape
    n_words = max(1, -(-n // 64))
    padded = np.zeros((n_words * 64, m), dtype=bool)
    padded[:n] = bits
    by = np.packbits(padded.T.reshape(m, n_words * 8, 8), axis=2, bitorder="little").reshape(m, n_words * 8)
    return np.ascontiguousarray(by).view("<u8").astype(np.uint64)


def unpack_rows(packed: np.ndarray, n_samples: int) -> np.ndarray:
    """uint64 [n_bits, n_words] -> uint8 0/1 [n_bits, n_samples]: one row per bit, its samples contiguous."""
    by = np.ascontiguousarray(packed, dtype=np.uint64).astype("<u8").view(np.uint8)
    return np.unpackbits(by, axis=1, bitorder="little")[:, :n_samples]


def unpack_bits(packed: np.ndarray, n_samples: int) -> np.ndarray:
    """uint64 [n_bits, n_words] -> bool [n_samples, n_bits]."""
    return unpack_rows(packed, n_samples).astype(bool).T.copy()
