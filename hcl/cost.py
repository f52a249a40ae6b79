"""Hardware cost model: LUT6-fabric LUT count and logic depth of a whole design, encoder and output included.

This is an estimate (the figure `--max-luts` limits and `hcl info` reports); `hcl synth` measures the real count.
Parts:
* ``luts_encoder``: one comparator ``x >= T`` / ``x == V`` per input bit on the raw W-bit word. Only the bits of
  ``x`` above T's trailing zeros matter; up to 6 of them fit one LUT6, longer ones chain 5 new bits per LUT.
* ``luts_network``: one fabric LUT per K-input LUT (K <= 6).
* ``luts_output``: per class a popcount of its group (6:3 compressors, then adders one LUT per sum bit), then an
  argmax over the class scores (a comparator and a mux per class after the first).
"""

from __future__ import annotations

import math
from typing import Any

from hcl.network import Network


def comparator_bits(threshold: int, width: int, op: str) -> int:
    """Raw input bits a comparator really depends on."""
    if op == "==":
        return width
    t = int(threshold)
    if t <= 0 or t >= (1 << width):
        return 0
    return width - ((t & -t).bit_length() - 1)


def comparator_cost(bits: int) -> tuple[int, int]:
    """(LUTs, levels) of a comparator on `bits` input bits."""
    if bits == 0:
        return 0, 0
    if bits <= 6:
        return 1, 1
    luts = math.ceil((bits - 1) / 5)
    return luts, math.ceil(math.log(bits, 6))


def popcount_cost(n: int) -> tuple[int, int]:
    """(LUTs, levels) to count the ones among n bits."""
    if n <= 1:
        return 0, 0
    if n <= 6:
        return max(1, math.ceil(math.log2(n + 1))), 1
    chunks = math.ceil(n / 6)
    luts, levels = 3 * chunks, 1
    width, count = 3, chunks
    while count > 1:
        pairs = count // 2
        luts += pairs * (width + 1)
        count = count - pairs
        width += 1
        levels += 1
    return luts, levels


def argmax_cost(n_classes: int, score_width: int) -> tuple[int, int]:
    if n_classes <= 1:
        return 0, 0
    index_width = math.ceil(math.log2(n_classes))
    per_stage = math.ceil(score_width / 3) + score_width + index_width
    levels = math.ceil(math.log2(n_classes)) * (comparator_cost(2 * score_width)[1] + 1)
    return (n_classes - 1) * per_stage, levels


def estimate(net: Network) -> dict[str, Any]:
    """LUTs and depth of the design hcl emits for `net` (encoder + network + output logic)."""
    luts_encoder, depth_encoder = 0, 0
    enc = net.encoder or {}
    width = enc.get("input_width")
    if width:
        for _, op, t in enc.get("bits", []):
            luts, levels = comparator_cost(comparator_bits(t, width, op))
            luts_encoder += luts
            depth_encoder = max(depth_encoder, levels)
    group_sizes = [len(g) for g in net.groups]
    pop = [popcount_cost(n) for n in group_sizes]
    score_width = max(1, max(group_sizes).bit_length())
    arg_luts, arg_levels = argmax_cost(net.n_classes, score_width)
    luts_output = sum(p[0] for p in pop) + arg_luts
    depth_output = max(p[1] for p in pop) + arg_levels
    return {
        "luts": luts_encoder + net.n_luts + luts_output,
        "luts_encoder": luts_encoder,
        "luts_network": net.n_luts,
        "luts_output": luts_output,
        "depth": depth_encoder + net.depth + depth_output,
        "depth_encoder": depth_encoder,
        "depth_network": net.depth,
        "depth_output": depth_output,
        "estimate": "hcl.cost model (LUT6 fabric), not a synthesis result",
    }
