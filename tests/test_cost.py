"""Unit tests of the cost model (hcl.cost): each rule on a hand-made case whose synthesis outcome is known."""

from __future__ import annotations

import ast
import importlib.resources
import json
import re
from pathlib import Path

import numpy as np
import pytest

from hcl import cost
from hcl.network import Network, random_network, table_mask


def enc_dict(width, bits, signed=False):
    return {"kind": "comparators", "method": "quantile", "bits_per_feature": 4, "n_features": 4,
            "input_width": width, "signed": signed, "bits": [list(b) for b in bits]}


def chain_net(k, wiring, tables, n_inputs, groups=((0,), (1,))):
    """A network from explicit per-layer wiring/tables lists."""
    w = [np.asarray(x, dtype=np.int32) for x in wiring]
    t = [np.asarray(x, dtype=np.uint64) for x in tables]
    return Network(k, n_inputs, w, t, [list(g) for g in groups], [str(i) for i in range(len(groups))]).validate()


XOR = {k: sum(1 << a for a in range(1 << k) if bin(a).count("1") % 2) for k in range(2, 7)}


# ---- comparators ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("t, width, bits", [(128, 8, 1), (192, 8, 2), (69, 8, 8), (4, 8, 6), (0, 8, 0), (256, 8, 0),
                                            (3072, 12, 2), (1, 12, 12)])
def test_comparator_bits_are_the_bits_above_the_trailing_zeros(t, width, bits):
    assert cost.comparator_bits(t, width, ">=") == bits


def test_signed_comparator_bits_offset_the_threshold():
    # signed x >= 0 on 8 bits is the inverted sign bit: one bit; x >= -128 always holds
    assert cost.comparator_bits(0, 8, ">=", signed=True) == 1
    assert cost.comparator_bits(-128, 8, ">=", signed=True) == 0
    assert cost.comparator_bits(5, 8, "==") == 8


def test_comparator_cost_wire_lut_and_wide():
    assert cost.comparator_cost(0) == (0, 0)
    assert cost.comparator_cost(1) == (0, 0)      # x >= 2^j on the top bit: a wire
    assert cost.comparator_cost(6) == (1, 1)
    luts, levels = cost.comparator_cost(12)
    assert luts >= 2 and levels == 2


def test_encoder_counts_only_used_bits_and_rounded_thresholds_cost_one_lut():
    # x >= 64: x[7] | x[6]; x >= 128: the wire x[7]; x >= 192: x[7] & x[6]; x >= 100: bits 7..2, one LUT6
    enc = enc_dict(8, [(0, ">=", 64), (0, ">=", 128), (0, ">=", 192), (1, ">=", 100)])
    assert cost.encoder_cost(enc)[0] == 1 + 0 + 1 + 1
    assert cost.encoder_cost(enc, np.array([False, True, False, False]))[0] == 0
    assert cost.encoder_cost(enc, np.array([False, False, True, True]))[0] == 2


def test_wide_inputs_become_carry_chains_sharing_equal_chunks():
    # 16-bit words: three 6-bit chunks (bits 15..10, 9..4, 3..0); thresholds rounded to the top 6 bits differ in
    # their top chunk and share their two all-zero low chunks: four comparators on one feature price 4 + 2 chunks.
    ts = [1024 * v for v in (5, 20, 40, 60)]
    enc = enc_dict(16, [(0, ">=", t) for t in ts])
    one = round(4 * cost._CHUNK_LUTS + 2 * cost._ZERO_CHUNK_LUTS)
    assert cost.encoder_cost(enc) == (one, 1)
    # a second feature shares nothing with the first
    enc2 = enc_dict(16, [(0, ">=", t) for t in ts] + [(1, ">=", t) for t in ts])
    assert cost.encoder_cost(enc2)[0] == 2 * one
    # exact thresholds share nothing but equal chunks
    exact = enc_dict(16, [(0, ">=", 1025), (0, ">=", 1026)])    # same top and middle chunk, different low chunk
    assert cost.encoder_cost(exact)[0] == round(3 * cost._CHUNK_LUTS + cost._ZERO_CHUNK_LUTS)


def test_encoder_without_integer_width_costs_nothing():
    assert cost.encoder_cost(None) == (0, 0)
    assert cost.encoder_cost({"input_width": None, "bits": [[0, ">=", 0.5]]}) == (0, 0)


# ---- network -----------------------------------------------------------------------------------------------------

def test_support_ignores_inputs_the_table_does_not_read_and_merges_duplicate_wires():
    k = 4
    and01 = sum(1 << a for a in range(16) if (a & 3) == 3)        # in0 & in1: in2, in3 are don't-cares
    sup = cost.support(np.array([[5, 6, 7, 8], [5, 5, 7, 8], [1, 2, 3, 4]]),
                       np.array([and01, XOR[4], 0], dtype=np.uint64), k)
    assert sup[0].tolist() == [5, 6, -1, -1]
    assert sup[1].tolist() == [5, 7, 8, -1]                       # wire 5 twice is one signal
    assert sup[2].tolist() == [-1, -1, -1, -1]                    # constant


def test_dead_constant_and_buffer_luts_cost_nothing():
    k = 6
    buf = sum(1 << a for a in range(64) if a & 1)                # output = input 0
    wiring = [[[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7], [3, 4, 5, 6, 7, 8]],
              [[0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 1, 2]]]
    tables = [[XOR[6], XOR[6], buf, 0], [XOR[6], table_mask(6)]]  # layer-1 LUT 3 is dead (nobody reads it)
    net = chain_net(k, wiring, tables, 9)
    luts, used = cost.network_cost(net)
    # live: layer 1 LUTs 0, 1 (xor) and 2 (buffer of input 2: free); layer 2: xor of repeated wires, constant (free)
    assert luts == 2 + 1
    # comparators 7 and 8 are read only by the buffer (which ignores them) and the dead LUT
    assert used.tolist() == [True] * 7 + [False, False]


def test_k4_lut_with_one_reader_is_absorbed_when_the_union_fits_a_lut6():
    k = 4
    # layer-1 LUT 0 (inputs 0..3) has one reader, layer-2 LUT 0, whose other inputs are LUTs 1, 2: 4 + 2 = 6 inputs,
    # one LUT6. Likewise LUT 3 into layer-2 LUT 1. LUTs 1 and 2 have two readers each and stay.
    wiring = [[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [0, 4, 8, 9]],
              [[0, 1, 2, 2], [1, 2, 3, 3]]]
    tables = [[XOR[4]] * 4, [XOR[4], XOR[4]]]
    net = chain_net(k, wiring, tables, 12)
    assert cost.network_cost(net)[0] == 6 - 2
    # every LUT read by both readers: nothing is absorbed (it would be duplicated)
    wiring[1] = [[0, 1, 2, 3], [1, 2, 3, 0]]
    assert cost.network_cost(chain_net(k, wiring, tables, 12))[0] == 6
    # the same wiring at K = 6 cannot absorb anything: every LUT already has 6 inputs
    net6 = random_network(np.random.default_rng(0), 6, 40, [30, 10], 2)
    live = sum(int(m.sum()) for m in net6.live_luts())
    assert cost.network_cost(net6)[0] == live


def test_random_k6_network_costs_its_live_luts():
    net = random_network(np.random.default_rng(3), 6, 32, [64, 20], 2)
    live = sum(int(m.sum()) for m in net.live_luts())
    assert live < net.n_luts                                       # some first-layer LUTs are read by nobody
    assert cost.estimate(net)["luts_network"] == live


# ---- output logic ------------------------------------------------------------------------------------------------

OUTPUT_MD = Path(__file__).parents[1] / "benchmarks" / "results" / "output_logic.md"


def recorded_output_table() -> dict[int, dict[int, float]]:
    """The per-class column of benchmarks/bench_synth.py --calibrate-output's table, by classes and group size."""
    text = OUTPUT_MD.read_text()
    assert "python benchmarks/bench_synth.py --calibrate-output" in text
    table: dict[int, dict[int, float]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 11 and cells[0].isdigit():
            table.setdefault(int(cells[0]), {})[int(cells[1])] = float(cells[6])
    return table


def test_output_logic_table_is_the_recorded_measurement():
    recorded = recorded_output_table()
    assert recorded and recorded == cost._OUTPUT_PER_CLASS


def test_output_logic_grows_with_the_group_and_joins_the_tail_smoothly():
    assert cost.output_luts([1, 1]) < cost.output_luts([4, 4])
    for classes in (2, 10):
        luts = [cost.output_luts([n] * classes) for n in (4, 16, 64, 128, 256)]
        assert luts == sorted(luts) and len(set(luts)) == len(luts)
        at, beyond = cost.output_luts([64] * classes), cost.output_luts([65] * classes)
        assert 0 <= beyond - at < 0.1 * at
    assert all(cost.popcount_levels(n) >= 1 for n in range(2, 130)) and cost.popcount_levels(1) == 0


def test_output_logic_is_priced_per_class_at_the_measured_class_counts():
    table = cost._OUTPUT_PER_CLASS
    for classes in (2, 5, 10):      # exactly the measurement, whatever the group sizes' order
        assert cost.output_luts([12] * classes) == round(classes * table[classes][12])
    assert cost.output_luts([4, 16]) == round(table[2][4] + table[2][16])
    seven = cost.output_luts([16] * 7)                         # between the measured 5 and 10 classes
    low, high = sorted((table[5][16], table[10][16]))
    assert 7 * low + 1 < seven < 7 * high - 1
    assert cost.output_luts([16] * 20) == round(20 * table[10][16])   # beyond 10 classes: 10's figure per class


def test_argmax_levels_grow_with_classes_and_score_width():
    assert cost.argmax_levels(1, 4) == 0
    assert cost.argmax_levels(2, 4) <= cost.argmax_levels(4, 4) <= cost.argmax_levels(10, 4)
    assert cost.argmax_levels(10, 3) < cost.argmax_levels(10, 6)


def test_template_popcount_is_the_style_the_tables_were_measured_for():
    """The output tables are measurements of one VHDL idiom: re-measure them on a change (bench_synth.py
    --calibrate-output, --calibrate)."""
    text = importlib.resources.files("hcl.templates").joinpath("network.vhd.j2").read_text()
    body = re.search(r"function popcount.*?end function;", text, re.S)
    assert body, "templates/network.vhd.j2 has no popcount function"
    style = "loop" if re.search(r"n\s*:=\s*n\s*\+\s*1\s*;", body.group(0)) else "add"
    assert style == cost.POPCOUNT_STYLE, (f"the template's popcount is the {style!r} idiom but hcl.cost's tables are "
                                          f"for {cost.POPCOUNT_STYLE!r}: re-run benchmarks/bench_synth.py "
                                          "--calibrate-output")


# ---- the whole estimate ------------------------------------------------------------------------------------------

def test_estimate_keys_and_parts_add_up():
    rng = np.random.default_rng(1)
    net = random_network(rng, 6, 24, [32, 12], 3)
    est = cost.estimate(net)
    for key in ("luts", "luts_encoder", "luts_network", "luts_output", "depth", "depth_encoder", "depth_network",
                "depth_output", "estimate"):
        assert key in est
    assert est["luts"] == est["luts_encoder"] + est["luts_network"] + est["luts_output"]
    assert est["depth"] == est["depth_encoder"] + est["depth_network"] + est["depth_output"]
    assert est["luts_encoder"] == 0                               # no encoder section: nothing to price


def test_unused_comparators_are_not_counted():
    rng = np.random.default_rng(2)
    net = random_network(rng, 6, 64, [4, 2], 2)                  # 4 LUTs read at most 24 of 64 comparator bits
    net.encoder = enc_dict(8, [(i % 4, ">=", 4 * (1 + i % 60)) for i in range(64)])
    net.encoder["n_features"] = 4
    used = net.live_inputs()
    assert used.sum() < 64
    assert cost.estimate(net)["luts_encoder"] == cost.encoder_cost(net.encoder, used)[0]
    assert cost.estimate(net)["luts_encoder"] < cost.encoder_cost(net.encoder)[0]


# ---- the estimate's measured error band (issue 16) -----------------------------------------------------------------

BANDS_MD = Path(__file__).parents[1] / "benchmarks" / "results" / "cost_bands.md"


def recorded_bands() -> dict:
    """The band literal benchmarks/bench_cost_bands.py wrote beside its measurements (and the command that made it)."""
    text = BANDS_MD.read_text()
    assert "python benchmarks/bench_cost_bands.py" in text
    line = next(l for l in text.splitlines() if l.strip().startswith("ERROR_BANDS = "))
    return ast.literal_eval(line.split("=", 1)[1].strip())


def test_error_bands_are_the_recorded_measurement():
    recorded = recorded_bands()
    assert {g: [tuple(b) for b in bands] for g, bands in recorded.items()} == \
        {g: [tuple(b) for b in bands] for g, bands in cost.ERROR_BANDS.items()}
    for bands in recorded.values():          # contiguous bins from 0, each with measured designs
        assert bands[0][0] == 0 and all(a[1] == b[0] for a, b in zip(bands, bands[1:]))
        assert all(lo_e <= hi_e and n > 0 for _, _, lo_e, hi_e, n in bands)


def expected_band(luts: int, k: int):
    for lo, hi, e_lo, e_hi, n in recorded_bands()["k2-4" if k <= 4 else "k5-6"]:
        if lo <= luts and (hi is None or luts < hi):
            return e_lo, e_hi, n
    return None


@pytest.mark.parametrize("k, layers, n_classes", [(3, [12, 6], 3), (6, [40, 12], 2), (4, [80, 30], 5)])
def test_info_reports_the_estimate_with_its_measured_band(tmp_path, k, layers, n_classes):
    from click.testing import CliRunner
    from hcl.cli import main
    rng = np.random.default_rng(k)
    net = random_network(rng, k, 40, layers, n_classes)
    net.encoder = enc_dict(8, [(i % 4, ">=", 1 + (i * 37) % 250) for i in range(40)])
    net.encoder.update(n_features=4)
    path = tmp_path / "net.json"
    net.save(path)
    luts = cost.estimate(net)["luts"]
    e_lo, e_hi, n = expected_band(luts, k)
    result = CliRunner().invoke(main, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{luts} LUTs est. (model error at this size: {e_lo:+d}..{e_hi:+d} %, measured on {n} designs" \
        in result.output, result.output
    result = CliRunner().invoke(main, ["info", str(path), "--json"])
    band = json.loads(result.output)["luts_error_band"]
    assert (band["low_pct"], band["high_pct"], band["designs"]) == (e_lo, e_hi, n)
    lo_y, hi_y = band["yosys_luts"]
    assert lo_y <= luts / (1 + e_hi / 100) + 1 and luts / (1 + e_lo / 100) - 1 <= hi_y


def test_a_size_never_measured_says_so(monkeypatch):
    monkeypatch.setattr(cost, "ERROR_BANDS", {"k2-4": ((0, 40, -10, 20, 3),), "k5-6": ((0, 40, -5, 5, 2),)})
    assert cost.error_band(39, 6)["designs"] == 2 and cost.error_band(40, 6) is None
    assert "model error at this size not measured" in cost.describe_estimate(40, 3)


def _slow_encoder_cost(enc: dict) -> tuple[int, int]:
    """encoder_cost by its definition, one comparator at a time: logic comparators (words of at most
    LOGIC_CHUNKS chunks) cost comparator_cost(comparator_bits(...)); wider words share carry-chain chunks."""
    n = enc["n_features"]
    widths = enc["input_width"] if isinstance(enc["input_width"], list) else [enc["input_width"]] * n
    signs = enc["signed"] if isinstance(enc["signed"], list) else [enc["signed"]] * n
    luts = levels = 0
    carry = []
    for f, op, t in enc["bits"]:
        if -(-widths[f] // cost.CHUNK_BITS) > cost.LOGIC_CHUNKS:
            carry.append([f, op, t])
            continue
        lut, level = cost.comparator_cost(cost.comparator_bits(t, widths[f], op, signs[f]))
        luts, levels = luts + lut, max(levels, level)
    if carry:
        chunk_luts, chunk_levels = cost._carry_encoder_cost(carry, widths, signs)
        luts, levels = luts + chunk_luts, max(levels, chunk_levels)
    return luts, levels


@pytest.mark.parametrize("seed", range(40))
def test_encoder_cost_equals_the_sum_of_its_comparators(seed):
    """The vectorized encoder price against its definition, on random encoders: widths 1..18 (logic and carry
    chains), signed and unsigned, >= and ==, thresholds inside, at and beyond either end of the word."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    widths = [int(w) for w in rng.integers(1, 19, size=n)]
    signs = [bool(s) for s in rng.integers(0, 2, size=n)]
    bits = []
    for _ in range(int(rng.integers(1, 25))):
        f = int(rng.integers(n))
        lo, hi = (-(1 << (widths[f] - 1)), 1 << (widths[f] - 1)) if signs[f] else (0, 1 << widths[f])
        t = int(rng.choice([lo, hi, lo - 1, hi + 1, int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))
                            & ~((1 << int(rng.integers(0, widths[f]))) - 1)]))
        bits.append([f, ">=" if rng.random() < 0.8 else "==", t])
    enc = {"n_features": n, "input_width": widths, "signed": signs, "bits": bits}
    assert cost.encoder_cost(enc) == _slow_encoder_cost(enc)
    used = rng.random(len(bits)) < 0.5
    kept = dict(enc, bits=[b for b, u in zip(bits, used) if u])
    assert cost.encoder_cost(enc, used) == (_slow_encoder_cost(kept) if kept["bits"] else (0, 0))


def test_carry_chain_chunks_by_hand():
    """18-bit words (3 chunks of 6 bits): 2 LUTs per zero chunk, 2.25 per other, equal chunks shared per feature."""
    unsigned = {"n_features": 2, "input_width": 18, "signed": False,
                "bits": [[0, ">=", 1 << 12],                 # chunks 1, 0, 0: one non-zero, two zero
                         [0, ">=", (1 << 12) | 5],           # chunks 1, 0, 5: shares 1 and the middle 0
                         [1, ">=", 0],                       # constant: no chunk
                         [1, "==", 5]]}                      # ==: chunks 0, 0, 5 coded apart from >='s
    # feature 0: (c0, 1), (c1, 0), (c2, 0), (c2, 5) -> 2 zero + 2 non-zero; feature 1 ==: 3 non-zero (-1, -1, -6)
    assert cost.encoder_cost(unsigned) == (round(2 * 2.0 + 2 * 2.25 + 3 * 2.25), 1)
    signed = {"n_features": 1, "input_width": 18, "signed": True, "bits": [[0, ">=", -1]]}
    # -1 + 2**17 = 0b011111_111111_111111: three non-zero chunks
    assert cost.encoder_cost(signed) == (round(3 * 2.25), 1)
    assert cost.encoder_cost({**signed, "bits": [[0, ">=", -(1 << 17)]]}) == (0, 0)    # always true


@pytest.mark.parametrize("threshold, width, op, signed, bits", [
    (5, 8, "==", False, 8), (0, 8, "==", False, 8),                  # == reads the whole word
    (256, 8, ">=", False, 0), (255, 8, ">=", False, 8), (1, 8, ">=", False, 8),
    (128, 8, ">=", False, 1), (192, 8, ">=", False, 2), (0, 8, ">=", False, 0), (-1, 8, ">=", False, 0),
    (0, 8, ">=", True, 1), (-128, 8, ">=", True, 0), (128, 8, ">=", True, 0), (127, 8, ">=", True, 8),
    (-64, 8, ">=", True, 2),
])
def test_comparator_bits_by_hand(threshold, width, op, signed, bits):
    assert cost.comparator_bits(threshold, width, op, signed) == bits


@pytest.mark.parametrize("bits, luts_levels", [(0, (0, 0)), (1, (0, 0)), (2, (1, 1)), (6, (1, 1)), (7, (2, 2)),
                                              (11, (2, 2)), (12, (3, 2)), (36, (7, 2)), (37, (8, 3))])
def test_comparator_cost_by_hand(bits, luts_levels):
    """Logic of `bits` inputs: ceil((bits - 1) / 5) LUT6s in a tree of ceil(log6(bits)) levels."""
    assert cost.comparator_cost(bits) == luts_levels


def test_chunks_by_hand():
    # From the most significant bit: two 6-bit chunks, then the 3 low bits.
    assert cost._chunks(0b101000_011111_111, 15) == [(0, 0b101000), (1, 0b011111), (2, 0b111)]
    assert cost._chunks(0b111111, 6) == [(0, 0b111111)]
    assert cost._chunks(1, 1) == [(0, 1)]


def test_registered_output_drops_the_combinational_excess_and_depth_adds_up():
    """K <= 4 combinational designs pay _COMBINATIONAL_EXTRA output LUTs; registered ones, and K = 6, do not."""
    for k, extra in ((4, 12), (6, 0)):
        net = random_network(np.random.default_rng(k), k, 30, [12, 6], 3)
        comb, reg = cost.estimate(net, "none"), cost.estimate(net, "layer")
        assert comb["luts_output"] - reg["luts_output"] == extra == comb["luts"] - reg["luts"]
        assert reg["luts_output"] == cost.output_luts([len(g) for g in net.groups])
        for c in (comb, reg):
            assert c["depth"] == c["depth_encoder"] + net.depth + c["depth_output"]
            assert c["depth_output"] == max(cost.popcount_levels(len(g)) for g in net.groups) + \
                cost.argmax_levels(net.n_classes, cost.score_width(net))


def test_output_luts_of_one_lut_per_class_is_the_table_and_of_one_class_nothing():
    assert cost.output_luts([1]) == 0
    assert cost.output_luts([1, 1]) == round(2 * cost._OUTPUT_PER_CLASS[2][1]) == 1
    assert cost.output_luts([4] * 10) == round(10 * cost._OUTPUT_PER_CLASS[10][4])
    # 4 classes: halfway between the measured 3 and 5
    assert cost.output_luts([4] * 4) == round(4 * (cost._OUTPUT_PER_CLASS[3][4] + cost._OUTPUT_PER_CLASS[5][4]) / 2)


@pytest.mark.parametrize("luts, k, bin_, kind", [(0, 4, "0..39", "2..4"), (39, 4, "0..39", "2..4"),
                                                 (40, 4, "40..79", "2..4"), (40, 5, "40..79", "5..6"),
                                                 (400, 6, "400..", "5..6")])
def test_error_band_bins_by_hand(luts, k, bin_, kind):
    band = cost.error_band(luts, k)
    assert band["bin"] == bin_ and band["k"] == kind
    assert cost.error_band(400, 4) is None


def test_an_encoder_of_two_bit_comparators_is_one_level_deep():
    enc = {"n_features": 1, "input_width": 4, "signed": False, "bits": [[0, ">=", 12], [0, ">=", 8]]}   # 2 bits, 1
    assert cost.encoder_cost(enc) == (1, 1)
    assert cost.encoder_cost({**enc, "bits": [[0, ">=", 8]]}) == (0, 0)       # a wire: no LUT, no level


# ---- the network's price against its definition, on random networks with every kind of table -----------------------
def _depends(table: int, k: int, position: int) -> bool:
    """Whether a K-input table's output changes with its input `position` at some address."""
    return any(((table >> a) & 1) != ((table >> (a ^ (1 << position))) & 1) for a in range(1 << k))


def _slow_network_cost(net: Network) -> tuple[int, list[bool]]:
    """network_cost by its definition, one LUT at a time: a live LUT (in some output's cone) costs one LUT when its
    table depends on >= 2 distinct signals; for K < 6, a real LUT whose only (live) reader is a real LUT of the next
    layer is absorbed by it when the union of their signals still fits a LUT6, each reader taking its drivers
    greedily in the order of their ids. The inputs used are those some live first-layer LUT depends on."""
    k, layers = net.k, len(net.wiring)
    start = [net.n_inputs + sum(len(w) for w in net.wiring[:i]) for i in range(layers)]     # global id of LUT 0
    live = [set() for _ in range(layers)]
    live[-1] = set(range(len(net.wiring[-1])))
    for layer in range(layers - 1, 0, -1):
        for j in live[layer]:
            live[layer - 1].update(int(w) for w in net.wiring[layer][j])
    signals = {}                                    # (layer, j) -> the global ids its table depends on
    for layer in range(layers):
        base = 0 if layer == 0 else start[layer - 1]
        for j in live[layer]:
            wires, table = net.wiring[layer][j], int(net.tables[layer][j])
            signals[layer, j] = {base + int(wires[p]) for p in range(k) if _depends(table, k, p)}
    real = {key for key, s in signals.items() if len(s) >= 2}
    luts = len(real)
    used = [any(i in signals[0, j] for j in live[0]) for i in range(net.n_inputs)]
    if k < LUT6:
        for layer in range(layers - 1):
            readers = sorted(j for j in live[layer + 1])
            fan = {}
            for j in readers:
                for s in signals[layer + 1, j]:
                    fan[s] = fan.get(s, 0) + 1
            for j in readers:
                if (layer + 1, j) not in real:
                    continue
                cur = set(signals[layer + 1, j])
                for s in sorted(signals[layer + 1, j]):
                    driver = (layer, s - start[layer])
                    if fan[s] == 1 and driver in real:
                        merged = (cur - {s}) | signals[driver]
                        if len(merged) <= LUT6:
                            cur, luts = merged, luts - 1
    return luts, used


LUT6 = 6


def _random_table(rng: np.random.Generator, k: int) -> int:
    """A table of one of the kinds the price tells apart: constant, buffer or inverter, two or three inputs, all."""
    kind, mask = int(rng.integers(5)), (1 << (1 << k)) - 1
    if kind == 0:
        return [0, mask][int(rng.integers(2))]
    if kind == 4:
        return ((int(rng.integers(0, 1 << 32)) << 32) | int(rng.integers(0, 1 << 32))) & mask
    positions = rng.choice(k, size=min(k, kind), replace=False).tolist()
    out = {}
    table = 0
    for a in range(1 << k):
        key = tuple((a >> p) & 1 for p in positions)
        if key not in out:
            out[key] = int(rng.integers(2))
        table |= out[key] << a
    return table


@pytest.mark.parametrize("seed", range(30))
def test_network_cost_equals_its_definition_on_random_networks(seed):
    """Liveness, supports (duplicate wires, constant / buffer / two-input tables), the >= 2-signal rule, the
    absorption of single-reader LUTs into their reader for K < 6 (fan-out, the LUT6 bound, the greedy order) and the
    inputs used: the vectorized price against _slow_network_cost."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 7))
    n_inputs = int(rng.integers(k, 14))
    sizes = [int(rng.integers(1, 12)) for _ in range(int(rng.integers(1, 4)))]    # a layer of one LUT too
    n_classes = int(rng.integers(2, 4))
    sizes[-1] = max(sizes[-1], n_classes)
    wiring, tables, prev = [], [], n_inputs
    for size in sizes:
        wiring.append(rng.integers(0, prev, size=(size, k)).astype(np.int32))
        tables.append(np.array([_random_table(rng, k) for _ in range(size)], dtype=np.uint64))
        prev = size
    groups = np.array_split(np.arange(sizes[-1]), n_classes)
    net = Network(k, n_inputs, wiring, tables, [g.tolist() for g in groups],
                  [str(c) for c in range(n_classes)]).validate()
    luts, used = cost.network_cost(net)
    assert (luts, used.tolist()) == _slow_network_cost(net)


# ---- the output tables' interpolation and the figures beyond them, by hand ------------------------------------------
def _linear(points: dict[int, float], n: int) -> float:
    """The measured table at group size n: linear between the measured sizes, from 0 LUTs at n = 0."""
    xs = [0] + sorted(points)
    ys = [0.0] + [points[x] for x in sorted(points)]
    hi = next(i for i, x in enumerate(xs) if x >= n)
    if xs[hi] == n:
        return ys[hi]
    return ys[hi - 1] + (ys[hi] - ys[hi - 1]) * (n - xs[hi - 1]) / (xs[hi] - xs[hi - 1])


def test_output_tables_are_linear_between_the_measured_group_sizes():
    for classes, row in cost._OUTPUT_PER_CLASS.items():
        dense = cost._OUTPUT_DENSE[classes]
        assert len(dense) == cost._OUTPUT_MAX_GROUP + 1
        assert dense.tolist() == pytest.approx([_linear(row, n) for n in range(cost._OUTPUT_MAX_GROUP + 1)])
        for n in (1, 7, 13, 50, 64):
            assert cost.output_luts([n] * classes) == round(classes * _linear(row, n))
    assert cost._POPCOUNT_LEVEL_TABLE.tolist() == [round(_linear(cost._POPCOUNT_LEVEL_POINTS, n))
                                                   for n in range(cost._OUTPUT_MAX_GROUP + 1)]
    assert [cost.popcount_levels(n) for n in (0, 1, 2, 3, 9, 10, 11, 18, 36, 64)] == [0, 0, 1, 1, 1, 2, 1, 3, 4, 4]


def test_groups_beyond_the_measured_64_grow_as_a_lone_popcount():
    """n > 64: the 64-bit figure scaled by n (S/2 - 1/2) / (64 (7/2 - 1/2)), S the bits of n (_POPCOUNT_TAIL)."""
    # 2 classes of 128: 195.8 per class at 64; 128 * (8/2 - 1/2) = 448 against 64 * 3 = 192
    assert cost.output_luts([128, 128]) == round(2 * 195.8 * 448 / 192) == 914
    # 10 classes of 100: 205.8 at 64; 100 * (7/2 - 1/2) = 300
    assert cost.output_luts([100] * 10) == round(10 * 205.8 * 300 / 192) == 3216
    # popcount levels beyond 64: 4 levels per 64 bits, rounded
    assert [cost.popcount_levels(n) for n in (65, 100, 128, 200)] == [4, 6, 8, 12]


@pytest.mark.parametrize("n_classes, width, levels", [(1, 8, 0), (2, 1, 1), (2, 5, 2), (3, 2, 1), (4, 4, 3),
                                                      (5, 4, 4), (10, 5, 8), (16, 7, 12)])
def test_argmax_levels_by_hand(n_classes, width, levels):
    """ceil(log2 C) tree levels of (S - 1) / 2 LUT levels each, rounded (half to even), at least one."""
    assert cost.argmax_levels(n_classes, width) == levels


@pytest.mark.parametrize("groups, width", [([[0], [1]], 1), ([[0, 1, 2], [3]], 2), ([[0, 1, 2, 3], [4]], 3),
                                           ([list(range(16)), [16]], 5)])
def test_score_width_holds_the_largest_groups_count(groups, width):
    n = sum(len(g) for g in groups)
    net = Network(2, 2, [np.zeros((n, 2), dtype=np.int32)], [np.full(n, 6, dtype=np.uint64)], groups,
                  [str(i) for i in range(len(groups))]).validate()
    assert cost.score_width(net) == width


def _four_features(comparators, signed=False) -> dict:
    """An encoder of four 18-bit features with the same comparators: a chunk priced wrongly costs at least 4 x 0.25
    LUTs, which the rounding of the total cannot hide."""
    return {"n_features": 4, "input_width": 18, "signed": signed,
            "bits": [[f, op, t] for f in range(4) for op, t in comparators]}


@pytest.mark.parametrize("comparators, signed, zero, other", [
    ([(">=", -(1 << 17) + 5)], True, 2, 1),    # signed: + 2**17 -> 5: chunks 0, 0, 5
    ([(">=", 5)], False, 2, 1),                # unsigned: no offset
    ([(">=", 5), ("==", 5)], False, 2, 4),     # == chunks coded apart: 0, 0, 5 -> -1, -1, -6 (never zero)
    ([(">=", 4), ("==", 5)], False, 2, 4),     # == chunk 5 must not meet >='s chunk 4
    ([(">=", 1), ("==", 64)], False, 2, 4),    # == chunks 0, 1, 0 must not meet >='s 0, 0, 1
    ([("==", 0)], False, 0, 3),                # == 0 is a comparator like any other (not a constant)
    ([("==", -3)], True, 0, 3),                # == on a signed word: its two's-complement chunks, not offset
])
def test_carry_chain_chunks_of_signed_and_equality_comparators(comparators, signed, zero, other):
    """Per feature, `zero` distinct all-zero chunks at 2 LUTs and `other` distinct other chunks at 2.25."""
    assert cost.encoder_cost(_four_features(comparators, signed)) == (round(4 * (2 * zero + 2.25 * other)), 1)


def test_support_takes_plain_lists_and_gives_int64():
    """Tables as Python ints (a table of 2**64 - 1 included) and wiring as int32 or lists: int64 signal ids."""
    k6_all = (1 << 64) - 1                                             # constant 1
    sup = cost.support(np.array([[3, 4]], dtype=np.int32), [6], 2)    # XOR of inputs 3 and 4
    assert sup.dtype == np.int64 and sup.tolist() == [[3, 4]]
    assert cost.support([[0, 1, 2, 3, 4, 5]], [k6_all], 6).tolist() == [[-1] * 6]


@pytest.mark.parametrize("luts, k, band", [
    (100, 6, (-4, 23, 5, [81, 104])),          # k5-6, 80..149: Yosys = 100 / 1.23 .. 100 / 0.96
    (100, 5, (-4, 23, 5, [81, 104])),          # K = 5 is measured with K = 6
    (100, 4, (-42, 107, 8, [48, 172])),        # k2-4, 80..149: 100 / 2.07 .. 100 / 0.58
    (20, 2, (-19, 315, 12, [5, 25])),
])
def test_error_band_figures_by_hand(luts, k, band):
    b = cost.error_band(luts, k)
    assert (b["low_pct"], b["high_pct"], b["designs"], b["yosys_luts"]) == band
    assert b["source"] == cost.ERROR_BANDS_SOURCE == "benchmarks/results/cost_bands.md"


def test_an_encoder_dict_without_optional_keys_prices_as_unsigned_over_the_features_it_names():
    """n_features defaults to 1 + the largest feature index, signed to False."""
    enc = {"input_width": 8, "bits": [[2, ">=", 192], [0, ">=", 4]]}       # 2 bits and 6 bits: a LUT each
    assert cost.encoder_cost(enc) == (2, 1)
    signed = {"input_width": 8, "signed": True, "bits": [[2, ">=", 64]]}   # + 128: 192, 2 bits
    assert cost.encoder_cost(signed) == (1, 1) and cost.encoder_cost({**signed, "signed": False}) == (1, 1)
    assert cost.encoder_cost({"input_width": 8, "bits": [[0, ">=", 128]]}) == (0, 0)   # unsigned: a wire


def _xor(k: int) -> int:
    return sum(1 << a for a in range(1 << k) if bin(a).count("1") % 2)


@pytest.mark.parametrize("case", ["layers overlap", "dead first LUT", "input 0"])
def test_network_cost_corner_cases_by_hand(case):
    """Absorption where the ids of two layers must stay apart (the union of a reader's and its driver's signals is
    7, not 6); a layer whose LUT 0 is dead beside one live LUT; a driver reading input 0 (signal id 0)."""
    if case == "layers overlap":
        # K = 4; layer 1: 8 LUTs on the inputs; layer 2: 8 LUTs, LUT 0 on layer-1 LUTs 4..7, LUT i on i..i+3; the
        # outputs read layer-2 LUTs 0..3 and 4..7 (one reader each): 3 other signals + a driver's 4 = 7: no absorption.
        w = [[[i % 8, (i + 1) % 8, (i + 2) % 8, (i + 3) % 8] for i in range(8)],
             [[4, 5, 6, 7]] + [[i % 8, (i + 1) % 8, (i + 2) % 8, (i + 3) % 8] for i in range(1, 8)],
             [[0, 1, 2, 3], [4, 5, 6, 7]]]
        net = chain_net(4, w, [[_xor(4)] * 8, [_xor(4)] * 8, [_xor(4)] * 2], 8)
        assert cost.network_cost(net)[0] == 8 + 8 + 2 == _slow_network_cost(net)[0]       # nothing absorbed
    elif case == "dead first LUT":
        # K = 3; layer 1: LUT 0 read by nobody, LUT 1 an XOR; the outputs are buffers of LUT 1: one real LUT
        net = chain_net(3, [[[0, 1, 2], [0, 1, 2]], [[1, 1, 1], [1, 1, 1]]], [[_xor(3)] * 2, [0xAA, 0xAA]], 3)
        assert cost.network_cost(net)[0] == 1 == _slow_network_cost(net)[0]
    else:
        # K = 4; layer 1: A reads inputs 0..3, E inputs 4..7, B, C, D inputs 8..11; output 0 reads A, B, C, D and
        # output 1 B, C, D, E: A's union with B, C, D is 7 signals (input 0 among them): nothing is absorbed.
        net = chain_net(4, [[[0, 1, 2, 3], [8, 9, 10, 11], [9, 10, 11, 8], [10, 11, 8, 9], [4, 5, 6, 7]],
                            [[0, 1, 2, 3], [1, 2, 3, 4]]], [[_xor(4)] * 5, [_xor(4)] * 2], 12)
        assert cost.network_cost(net)[0] == 7 == _slow_network_cost(net)[0]
    assert cost.network_cost(net)[1].dtype == bool


def test_one_class_of_two_luts_is_priced_and_the_estimate_says_what_it_is():
    assert cost.output_luts([2]) == round(cost._OUTPUT_PER_CLASS[2][2]) == 2
    net = random_network(np.random.default_rng(0), 6, 8, [4, 2], 2)
    assert cost.estimate(net)["estimate"] == ("hcl.cost model (LUT6 fabric, calibrated on Yosys synth_xilinx), not "
                                              "a synthesis result")
