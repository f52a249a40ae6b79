"""Hardware cost model: LUT count and logic depth of the whole design hcl emits (encoder, network, output logic).

This is an estimate (the figure `--max-luts` limits, `hcl info` reports and the genetic search minimizes, once per
individual, so it must stay cheap: a few numpy passes over the wiring, no synthesis). `hcl synth` measures the real
count. The model is calibrated against Yosys 0.23 ``synth_xilinx -family xcup`` (LUT1..LUT6 cells; MUXF7/8 and
CARRY4 are not LUTs) on the VHDL that ``templates/network.vhd.j2`` renders; ``benchmarks/bench_synth.py`` re-measures
it and writes the model-vs-tool table to ``benchmarks/results/synth.md``. What synthesis does, and so what is counted:

* ``luts_encoder``: one comparator ``x >= T`` / ``x == V`` per encoded bit that some live LUT reads (Yosys removes
  the others). Yosys splits a comparison with a constant into 6-bit chunks from the top (techmap cmp2lcu). Up to 2
  chunks (W <= 12) it stays plain logic that ABC maps: only the bits above T's trailing zeros matter, so a
  ``--threshold-bits 6`` comparator is one LUT6 and a power-of-two threshold is a wire. From 3 chunks on (W >= 13)
  it becomes a CARRY4 chain whose every chunk costs two LUTs (propagate, generate) whatever T's low bits are;
  comparators on one feature share the chunks where their thresholds agree (e.g. all-zero low chunks).
* ``luts_network``: one LUT per live K-input LUT (in the cone of some class output) whose table depends on at
  least two distinct signals; a constant, a buffer or an inverter costs nothing (folded into its readers). ABC also
  absorbs a LUT that has a single reader when the union of their inputs still fits one LUT6 -- common for K <= 4,
  never for K = 6 -- so those are not counted either.
* ``luts_output``: per class the popcount of its group, then the argmax tree, priced together as measured in place
  (_OUTPUT_PER_CLASS): ABC merges the argmax's comparisons into the popcounts' last stages, so a 10-class design costs
  less per class than a 2-class one (groups of 24: ~1.8 LUTs per group bit against ~2.5), and pricing a popcount
  synthesized alone plus an argmax term over-estimated 10-class output logic by up to 87 %. The template's popcount
  is a sum of one-bit vectors, which Yosys builds as one compressor tree with short carry chains: 2 LUT levels at
  n = 16 and 4 at n = 64. The idiom matters: conditional increments (`if v(i) = '1' then n := n + 1`) become a
  chain of n incrementers, 157 LUTs and 16 levels at n = 16, 1127 LUTs at n = 64. With K <= 4 and the last stage
  combinational, the netlist carries a fixed ~12 LUTs more (_COMBINATIONAL_EXTRA), so the estimate depends on
  ``--registers``; the search prices the combinational design.

Depth counts LUT levels (not carries or MUXF7/8), input to class output, as ``hcl synth`` measures it.
Accuracy (benchmarks/results/cost_bands.md): on bench_synth.py's eight random designs of 150..400 LUTs, mean
|error| 7.6 %, all within 15 %; an evolved MNIST network of 985 estimated LUTs synthesizes to 983 registered and
1,028 combinational. Small designs swing much more with ABC's choices (a dozen LUTs is a large share), and K <= 4
designs most (the output table is measured on LUT6 layers; ABC absorbs small LUTs into the popcounts): the error
seen per K and size of the estimate is ERROR_BANDS below, which `hcl info` and `hcl synth` print beside the
estimate.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hcl.encode import each_feature
from hcl.errors import ConfigError
from hcl.network import Network
from hcl.registers import register_plan

LUT_INPUTS = 6
# Yosys cmp2lcu packs 6 bits of a constant comparison per chunk; a chain of 1 or 2 chunks stays logic (the Xilinx
# $lcu map refuses widths <= 2), 3 or more become a CARRY4 chain.
CHUNK_BITS = 6
LOGIC_CHUNKS = 2
# LUTs per distinct (feature, chunk, value) of a carry-chain comparator: a chunk of zeros (the low chunks of a
# rounded threshold) is a NOR and its complement; any other chunk, measured in whole designs, costs more than the
# two LUTs it needs alone (ABC splits the shared high bits of a feature's thresholds into LUT2 trees).
_ZERO_CHUNK_LUTS = 2.0
_CHUNK_LUTS = 2.25

# The popcount style of templates/network.vhd.j2 these tables were measured for; tests/test_cost.py checks that the
# template still has it. "loop": `if v(i) = '1' then n := n + 1`; "add": `n := n + unsigned'(0 => v(i))`.
POPCOUNT_STYLE = "add"

# Output logic (every class's popcount and the argmax tree) per class, measured in place: a design of C classes with
# groups of g LUT6 on wire inputs, its Yosys synth_xilinx LUTs less the LUT layer, divided by C ({C: {g: LUTs per
# class}}, the mean of 2 random layers each; benchmarks/bench_synth.py --calibrate-output writes the table and every
# design to benchmarks/results/output_logic.md). One random layer swings ABC's count by up to +-20 %. Between the
# measured C and g: linear; more than 10 classes: the 10-class figure per class.
_OUTPUT_PER_CLASS: dict[int, dict[int, float]] = {
    2: {1: 0.5, 2: 2.5, 3: 2.5, 4: 3.5, 5: 3.5, 6: 4.5, 8: 11.0, 10: 13.8, 12: 23.8, 14: 19.5, 16: 29.8, 20: 44.5,
        24: 59.0, 32: 86.2, 48: 156.2, 64: 195.8},
    3: {1: 0.7, 2: 2.7, 3: 6.7, 4: 5.3, 5: 5.0, 6: 6.2, 8: 15.2, 10: 17.0, 12: 27.5, 14: 23.0, 16: 34.3, 20: 49.0,
        24: 59.8, 32: 94.8, 48: 161.5, 64: 198.5},
    5: {1: 0.6, 2: 5.6, 3: 4.4, 4: 6.3, 5: 6.9, 6: 8.2, 8: 17.2, 10: 24.5, 12: 35.2, 14: 30.0, 16: 26.8, 20: 47.6,
        24: 54.9, 32: 60.6, 48: 135.9, 64: 203.4},
    10: {1: 0.9, 2: 6.5, 3: 5.8, 4: 8.7, 5: 8.1, 6: 8.9, 8: 14.6, 10: 17.6, 12: 20.6, 14: 21.7, 16: 32.5, 20: 37.5,
        24: 42.8, 32: 62.0, 48: 99.3, 64: 205.8},
}
_OUTPUT_MAX_GROUP = 64
# Beyond 64 bits a group grows as a lone popcount does: LUTs ~ n * (a * score width + b) (fitted on n = 24 .. 64).
_POPCOUNT_TAIL = (0.5, -0.5)
# LUT levels of the popcount fed by one LUT layer (the netlist's depth less that layer's level).
_POPCOUNT_LEVEL_POINTS = {1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 2, 11: 1, 12: 2, 13: 2, 14: 2,
                          15: 2, 16: 2, 17: 2, 18: 3, 19: 3, 20: 3, 24: 3, 28: 3, 32: 3, 40: 4, 48: 4, 64: 4}
# Combinational last stage, K <= 4: Yosys/ABC's netlist has ~12 LUTs more than the sum of the parts, whatever the
# design's size (the median excess over 12 K = 4 designs of 47..300 LUTs, -3..+25 each; fitted with the popcount
# table above; K = 5 and 6 designs show no such excess).
_COMBINATIONAL_EXTRA = {2: 12, 3: 12, 4: 12}

# 64-bit masks of the table addresses whose bit i is 0: table >> 2^i compared under this mask tells whether the
# output depends on input i.
_LOW_HALF = [np.uint64(m) for m in (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F,
                                     0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF)]


# ---- encoder ---------------------------------------------------------------------------------------------------

def comparator_bits(threshold: int, width: int, op: str, signed: bool = False) -> int:
    """Raw input bits a comparator really depends on (0: the result is constant)."""
    if op == "==":
        return width
    t = int(threshold) + ((1 << (width - 1)) if signed else 0)   # signed x >= t  <=>  x + 2^(W-1) >= t + 2^(W-1)
    if t <= 0 or t >= (1 << width):
        return 0
    return width - ((t & -t).bit_length() - 1)


def comparator_cost(bits: int) -> tuple[int, int]:
    """(LUTs, levels) of a comparator built as logic on `bits` input bits (inputs of at most 12 bits)."""
    if bits <= 1:
        return 0, 0   # constant, or a wire of the input
    if bits <= LUT_INPUTS:
        return 1, 1
    return math.ceil((bits - 1) / (LUT_INPUTS - 1)), math.ceil(math.log(bits, LUT_INPUTS))


def _chunks(t: int, width: int) -> list[tuple[int, int]]:
    """(chunk index, chunk value) of a constant split into 6-bit chunks from the most significant bit down."""
    out, hi, c = [], width, 0
    while hi > 0:
        lo = max(0, hi - CHUNK_BITS)
        out.append((c, (t >> lo) & ((1 << (hi - lo)) - 1)))
        hi, c = lo, c + 1
    return out


def encoder_cost(encoder: dict[str, Any] | None, used: np.ndarray | None = None) -> tuple[int, int]:
    """(LUTs, levels) of the comparators whose bits are `used` (default: all); each on its feature's own word."""
    enc = encoder or {}
    bits = enc.get("bits", [])
    if not enc.get("input_width") or not bits:
        return 0, 0
    if used is not None:
        bits = [b for b, u in zip(bits, used.tolist()) if u]
        if not bits:
            return 0, 0
    n_features = int(enc.get("n_features") or 1 + max(b[0] for b in bits))
    widths = each_feature(enc["input_width"], n_features)
    signs = each_feature(enc.get("signed", False), n_features)
    width = np.array([widths[b[0]] for b in bits], dtype=np.int64)
    signed = np.array([bool(signs[b[0]]) for b in bits])
    carry = -(-width // CHUNK_BITS) > LOGIC_CHUNKS
    luts, levels = _carry_encoder_cost([b for b, c in zip(bits, carry) if c], widths, signs) if carry.any() else (0, 0)
    logic = ~carry
    if not logic.any():
        return luts, levels
    # plain logic (up to two chunks): vectorized, since the search prices thousands of comparators per generation
    width, signed = width[logic], signed[logic]
    t = np.array([b[2] for b, l in zip(bits, logic) if l], dtype=np.int64) + np.where(signed, 1 << (width - 1), 0)
    eq = np.array([b[1] == "==" for b, l in zip(bits, logic) if l])
    low = t & -t
    nbits = np.where((t <= 0) | (t >= (1 << width)), 0, width - np.log2(np.maximum(low, 1)).astype(np.int64))
    nbits = np.where(eq, width, nbits)
    wide = nbits > LUT_INPUTS
    luts += int((nbits >= 2).sum() - wide.sum() + np.ceil((nbits[wide] - 1) / (LUT_INPUTS - 1)).sum())
    if (nbits >= 2).any():
        levels = max(levels, comparator_cost(int(nbits.max()))[1])
    return luts, levels


def _carry_encoder_cost(bits: list, widths: list[int], signs: list[bool]) -> tuple[int, int]:
    """Comparators on words of 3+ chunks: two LUTs per distinct (feature, chunk, chunk value) feeding a CARRY4."""
    chunks: set[tuple[int, int, int]] = set()
    for feature, op, t in bits:
        width, signed = widths[feature], bool(signs[feature])
        if comparator_bits(t, width, op, signed) == 0:
            continue
        tu = int(t) + ((1 << (width - 1)) if signed and op != "==" else 0)
        chunks.update((feature, c, v if op != "==" else -1 - v) for c, v in _chunks(tu, width))
    zero = sum(1 for _, _, v in chunks if v == 0)
    return int(round(_ZERO_CHUNK_LUTS * zero + _CHUNK_LUTS * (len(chunks) - zero))), 1 if chunks else 0


# ---- network -----------------------------------------------------------------------------------------------------

_LOW_ARR = np.array(_LOW_HALF, dtype=np.uint64)
_SHIFTS = np.array([1 << i for i in range(LUT_INPUTS)], dtype=np.uint64)
_BIG = np.iinfo(np.int64).max


def support(wiring: np.ndarray, tables: np.ndarray, k: int) -> np.ndarray:
    """int64 [n, k]: per LUT the distinct signals its table depends on, sorted, padded with -1."""
    t = np.asarray(tables, dtype=np.uint64)[:, None]
    dep = (t & _LOW_ARR[:k]) != ((t >> _SHIFTS[:k]) & _LOW_ARR[:k])
    return _distinct(np.where(dep, np.asarray(wiring, dtype=np.int64), -1))


def _distinct(ids: np.ndarray) -> np.ndarray:
    """Row-wise sorted distinct non-negative ids, padded with -1 at the end."""
    s = np.sort(ids, axis=1)
    drop = s < 0
    drop[:, 1:] |= s[:, 1:] == s[:, :-1]
    if not drop.any():
        return s
    s = np.sort(np.where(drop, _BIG, s), axis=1)
    s[s == _BIG] = -1
    return s


def _live(net: Network) -> list[np.ndarray]:
    """Per layer, the LUTs in the cone of some class output (as Network.live_luts, without np.unique)."""
    live = [np.zeros(w.shape[0], dtype=bool) for w in net.wiring]
    live[-1][:] = True
    for layer in range(len(net.wiring) - 1, 0, -1):
        live[layer - 1][net.wiring[layer][live[layer]].ravel()] = True
    return live


def network_cost(net: Network) -> tuple[int, np.ndarray]:
    """(LUTs, live-input mask) of the LUT layers, as ABC maps them (see the module docstring)."""
    live = _live(net)
    absorb = net.k < LUT_INPUTS
    offsets = np.cumsum([0, net.n_inputs] + [w.shape[0] for w in net.wiring])
    sup = []   # per layer (only when absorbing): global ids of the signals each live LUT depends on
    keep = []  # per layer: live and depending on >= 2 signals (a real LUT)
    used = np.zeros(net.n_inputs, dtype=bool)
    for layer, (w, t) in enumerate(zip(net.wiring, net.tables)):
        w, t = w[live[layer]], np.asarray(t[live[layer]], dtype=np.uint64)[:, None]
        dep = (t & _LOW_ARR[:net.k]) != ((t >> _SHIFTS[:net.k]) & _LOW_ARR[:net.k])
        s = np.sort(np.where(dep, w, -1), axis=1)
        first = s >= 0                                  # first occurrence of each signal a LUT depends on
        first[:, 1:] &= s[:, 1:] != s[:, :-1]
        keep.append(first.sum(axis=1) >= 2)
        if layer == 0:
            used[s[first]] = True
        if absorb:
            s = _distinct(s.astype(np.int64))
            sup.append(np.where(s >= 0, s + offsets[layer], -1))
    luts = int(sum(int(m.sum()) for m in keep))
    if absorb:
        luts -= _absorbed(net, live, sup, keep, offsets)
    return luts, used


def _absorbed(net: Network, live: list[np.ndarray], sup: list[np.ndarray], keep: list[np.ndarray],
              offsets: np.ndarray) -> int:
    """LUTs with one reader that the reader swallows, the union of inputs fitting a LUT6 (greedy, per reader)."""
    total = 0
    for layer in range(len(sup) - 1):
        n_all = net.wiring[layer].shape[0]
        row = np.full(n_all, -1, dtype=np.int64)       # LUT index in the layer -> its row among the live ones
        row[live[layer]] = np.arange(int(live[layer].sum()))
        readers = sup[layer + 1]
        local = np.where(readers >= 0, readers - offsets[layer + 1], -1)
        fan = np.bincount(local[local >= 0], minlength=n_all)
        drv_row = row[np.maximum(local, 0)]
        # a candidate: a real LUT (>= 2 inputs) whose only reader is a real LUT
        cand = (local >= 0) & (fan[np.maximum(local, 0)] == 1) & keep[layer][np.maximum(drv_row, 0)]
        cand &= keep[layer + 1][:, None]
        rows = np.flatnonzero(cand.any(axis=1))
        if not rows.size:
            continue
        # few candidates per layer: plain sets beat numpy's per-call overhead here
        drivers = sup[layer].tolist()
        for j, ids, flags, drows in zip(rows.tolist(), readers[rows].tolist(), cand[rows].tolist(),
                                        drv_row[rows].tolist()):
            cur = {i for i in ids if i >= 0}
            for i, flag, r in zip(ids, flags, drows):
                if not flag:
                    continue
                merged = (cur - {i}) | {x for x in drivers[r] if x >= 0}
                if len(merged) <= LUT_INPUTS:
                    cur = merged
                    total += 1
    return total


# ---- output logic ------------------------------------------------------------------------------------------------

def _dense(points: dict[int, float]) -> np.ndarray:
    ns = sorted(points)
    return np.interp(np.arange(_OUTPUT_MAX_GROUP + 1), [0] + ns, [0] + [points[n] for n in ns])


_OUTPUT_DENSE = {c: _dense(row) for c, row in _OUTPUT_PER_CLASS.items()}
_POPCOUNT_LEVEL_TABLE = _dense(_POPCOUNT_LEVEL_POINTS).round().astype(np.int64)


def _tail(n: int) -> float:
    a, b = _POPCOUNT_TAIL
    return n * (a * n.bit_length() + b)


def _per_class(row: np.ndarray, n: int) -> float:
    if n <= _OUTPUT_MAX_GROUP:
        return float(row[n])
    return float(row[_OUTPUT_MAX_GROUP]) * _tail(n) / _tail(_OUTPUT_MAX_GROUP)


def output_luts(group_sizes: list[int]) -> int:
    """LUTs of the popcounts and the argmax over groups of these sizes (one per class), as synthesized in place."""
    n_classes = len(group_sizes)
    if n_classes <= 1 and max(group_sizes, default=0) <= 1:
        return 0
    measured = sorted(_OUTPUT_DENSE)
    c = min(max(n_classes, measured[0]), measured[-1])
    hi = next(m for m in measured if m >= c)
    lo = max(m for m in measured if m <= c)
    w = 0.0 if hi == lo else (c - lo) / (hi - lo)
    total = sum((1 - w) * _per_class(_OUTPUT_DENSE[lo], n) + w * _per_class(_OUTPUT_DENSE[hi], n)
                for n in group_sizes)
    return int(round(total))


def popcount_levels(n: int) -> int:
    """LUT levels of the template's popcount of n bits fed by a LUT layer (measured alone, bench_synth --calibrate)."""
    if n <= 1:
        return 0
    if n <= _OUTPUT_MAX_GROUP:
        return max(1, int(_POPCOUNT_LEVEL_TABLE[n]))
    return max(1, int(round(_POPCOUNT_LEVEL_POINTS[_OUTPUT_MAX_GROUP] * n / _OUTPUT_MAX_GROUP)))


def score_width(net: Network) -> int:
    """Bits of a class score: wide enough for the largest group's popcount (the emitter's port width too)."""
    return max(1, max(len(g) for g in net.groups).bit_length())


def argmax_levels(n_classes: int, score_width: int) -> int:
    """LUT levels of the argmax tree over `n_classes` scores of `score_width` bits."""
    if n_classes <= 1:
        return 0
    # measured: (S - 1) / 2 LUT levels per tree level -- ABC merges each node's compare and mux with the next node's
    return max(1, int(round(math.ceil(math.log2(n_classes)) * (score_width - 1) / 2)))


def estimate(net: Network, registers: str = "none") -> dict[str, Any]:
    """LUTs and depth of the design hcl emits for `net` (encoder + network + output logic) with the given
    ``--registers`` (the search prices the default, combinational design)."""
    registered = net.depth in register_plan(registers, net.depth).after_layers
    luts_network, used = network_cost(net)
    luts_encoder, depth_encoder = encoder_cost(net.encoder, used)
    group_sizes = [len(g) for g in net.groups]
    luts_output = output_luts(group_sizes)
    if not registered:
        luts_output += _COMBINATIONAL_EXTRA.get(net.k, 0)
    depth_output = max(popcount_levels(n) for n in group_sizes) + argmax_levels(net.n_classes, score_width(net))
    return {
        "luts": luts_encoder + luts_network + luts_output,
        "luts_encoder": luts_encoder,
        "luts_network": luts_network,
        "luts_output": luts_output,
        "depth": depth_encoder + net.depth + depth_output,
        "depth_encoder": depth_encoder,
        "depth_network": net.depth,
        "depth_output": depth_output,
        "estimate": "hcl.cost model (LUT6 fabric, calibrated on Yosys synth_xilinx), not a synthesis result",
    }


# ---- the estimate's measured error -------------------------------------------------------------------------------

# How far the estimate has been seen off Yosys synth_xilinx, per K group and size of the *estimate* (the figure a user
# has): (lowest estimate, upper edge or None, lowest error %, highest error %, designs measured), error =
# (model - Yosys) / Yosys. Measured by benchmarks/bench_cost_bands.py (command and every design in
# benchmarks/results/cost_bands.md); paste its literal here when the model or the template changes. The smallest
# and largest error seen, not a confidence interval. `hcl info` and `hcl synth` report it.
ERROR_BANDS_SOURCE = "benchmarks/results/cost_bands.md"
ERROR_BANDS: dict[str, tuple[tuple[int, int | None, int, int, int], ...]] = {
    "k2-4": ((0, 40, -19, 315, 12), (40, 80, -10, 63, 9), (80, 150, -42, 107, 8), (150, 400, -14, 14, 5)),
    "k5-6": ((0, 40, 5, 23, 4), (40, 80, -31, 29, 8), (80, 150, -4, 23, 5), (150, 400, -2, 14, 4),
             (400, None, -5, 1, 2)),
}


def error_band(luts: int, k: int) -> dict[str, Any] | None:
    """The measured error band of an estimate of `luts` LUTs for a K-input network (None: not measured there)."""
    for lo, hi, e_lo, e_hi, n in ERROR_BANDS["k2-4" if k <= 4 else "k5-6"]:
        if luts >= lo and (hi is None or luts < hi):
            return {"low_pct": e_lo, "high_pct": e_hi, "designs": n, "bin": f"{lo}..{'' if hi is None else hi - 1}",
                    "k": "2..4" if k <= 4 else "5..6",
                    # the estimate is Yosys x (1 + error): so Yosys lies between these
                    "yosys_luts": [int(round(luts / (1 + e_hi / 100))), int(round(luts / (1 + e_lo / 100)))],
                    "source": ERROR_BANDS_SOURCE}
    return None


def describe_estimate(luts: int, k: int) -> str:
    """'74 LUTs est. (model error at this size: -20..+30 %, measured on 9 designs, K 2..4; Yosys 57..93)'."""
    band = error_band(luts, k)
    if band is None:
        return f"{luts} LUTs est. (model error at this size not measured, see {ERROR_BANDS_SOURCE})"
    lo, hi = band["yosys_luts"]
    return (f"{luts} LUTs est. (model error at this size: {band['low_pct']:+d}..{band['high_pct']:+d} %, measured on "
            f"{band['designs']} designs of {band['bin']} est. LUTs, K {band['k']}; Yosys synth_xilinx {lo}..{hi})")
