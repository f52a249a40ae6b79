"""hcl verify: emitted designs proved equal to their network for every input, and wrong ones refuted with a
counterexample that hcl sim replays."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hcl import emit as emit_mod
from hcl.cli import main
from hcl.emit import emit
from hcl.encode import Encoder
from hcl.network import Network
from hcl.reference import layer_outputs
from hcl.simulate import simulate
from hcl.verify import verify
from test_emit import handmade_inputs, handmade_network, tiny_network

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

needs_tools = pytest.mark.skipif(
    shutil.which("ghdl") is None or shutil.which("yosys") is None,
    reason="ghdl and yosys are needed (apt-get install ghdl yosys, or make install)")


def _table_pattern(layer: int, j: int, half: str = "") -> str:
    name = f"TT_L{layer}_{j}" + (f"_{half}" if half else "")
    return rf'(constant {name} : std_logic_vector\(\d+ downto 0\) := x")([0-9a-f]+)(";)'


def flip_table_bit(design: Path, layer: int, j: int, address: int, k: int) -> None:
    """Flip bit `address` of LUT j's truth table in the emitted VHDL (either table layout)."""
    vhd = design / json.loads((design / "manifest.json").read_text())["files"][0]
    text = vhd.read_text()
    half, bit = "", address
    if k == 6:
        half, bit = ("HI", address - 32) if address >= 32 else ("LO", address)
    pattern = _table_pattern(layer, j, half)
    table = re.search(pattern, text).group(2)
    flipped = format(int(table, 16) ^ (1 << bit), f"0{len(table)}x")
    vhd.write_text(re.sub(pattern, lambda g: g.group(1) + flipped + g.group(3), text, count=1))


@needs_tools
@pytest.mark.parametrize("registers", ["none", "layer", "every=2"])
def test_tiny_designs_are_proved(tmp_path, registers):
    emit(tiny_network(), tmp_path, registers=registers, max_vectors=20)
    r = verify(tmp_path)
    assert r.proved, r.lines()
    assert "PROVED" in r.lines()[0]
    assert r.engine == "ABC iprove", "ABC left the proof to the slow Yosys SAT fallback"


@needs_tools
def test_handmade_network_with_constant_comparators_is_proved(tmp_path):
    emit(handmade_network(), tmp_path, X=handmade_inputs())
    assert verify(tmp_path).proved


def _unexercised_reachable(net: Network, design: Path, rng: np.random.Generator) -> tuple[int, int]:
    """A (last-layer LUT, address) that no test vector reaches but a random input does: flipping that table bit
    changes a class score for that input (an output LUT's bit is a popcount term), and for no test vector."""
    enc = Encoder.from_dict(net.encoder)
    rows = (design / "vectors.txt").read_text().splitlines()
    X = np.array([[int(v) for v in r.split("|")[0].split()] for r in rows if r and not r.startswith("#")])
    hi = (1 << enc.input_width) - 1

    def addresses(X):
        prev = layer_outputs(net, enc.transform(X))[-2]
        w = net.wiring[-1]
        return sum(prev[:, w[:, b]].astype(np.int64) << b for b in range(net.k))   # [n, luts]

    seen = addresses(X)
    random = addresses(rng.integers(0, hi + 1, size=(4000, enc.n_features)))
    for j in range(net.wiring[-1].shape[0]):
        unseen = sorted(set(random[:, j].tolist()) - set(seen[:, j].tolist()))
        if unseen:
            return j, unseen[0]
    raise AssertionError("every reachable address is exercised; use fewer vectors")


@needs_tools
def test_flipped_unexercised_bit_passes_sim_but_is_refuted_with_a_replayable_counterexample(tmp_path):
    net = tiny_network()
    emit(net, tmp_path, max_vectors=6)
    j, address = _unexercised_reachable(net, tmp_path, np.random.default_rng(0))
    flip_table_bit(tmp_path, net.depth, j, address, net.k)
    assert simulate(tmp_path).passed          # the samples cannot see it
    r = verify(tmp_path)
    assert not r.proved
    cx = r.counterexample
    assert cx["actual_scores"] != cx["expected_scores"]
    assert abs(sum(cx["actual_scores"]) - sum(cx["expected_scores"])) == 1     # one output LUT bit
    replay = simulate(tmp_path, vectors=r.counterexample_file)
    assert not replay.passed and replay.mismatches == 1, replay.lines()


@needs_tools
def test_registered_design_one_cycle_late_fails_testbench_and_proof(tmp_path):
    emit(tiny_network(), tmp_path, registers="layer", max_vectors=20)
    manifest_path = tmp_path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    # The manifest promises one cycle less than the RTL takes: the design is one cycle late.
    manifest["latency_cycles"] -= 1
    manifest_path.write_text(json.dumps(manifest))
    sim = simulate(tmp_path)
    assert not sim.passed
    assert any("latency" in m for m in sim.messages), sim.messages
    assert not verify(tmp_path).proved


@needs_tools
def test_k6_tables_with_a_zero_low_half_survive_ghdl_synthesis(tmp_path):
    # GHDL 2.0 synthesizes a 64-bit constant whose low 32 bits are zero as all zeros: such tables must still be
    # proved equal (emit writes K = 6 tables as two 32-bit halves).
    net = tiny_network(k=6, layers=(8, 6))
    net.tables[0][0] = np.uint64(1 << 35)
    net.tables[0][1] = np.uint64(1 << 63)
    net.tables[1][0] = np.uint64(0xFFFFFFFF00000000)
    emit(net, tmp_path, max_vectors=10)
    assert verify(tmp_path).proved


@needs_tools
def test_threshold_at_the_top_of_the_word_is_a_real_comparator(tmp_path):
    net = handmade_network()
    enc = dict(net.encoder)
    enc["bits"] = [list(b) for b in enc["bits"]]
    enc["bits"][0] = [0, ">=", 15]          # the largest 4-bit value: true for x = 15 only
    net.encoder = enc
    emit(net, tmp_path, X=handmade_inputs())
    assert verify(tmp_path).proved
    assert simulate(tmp_path).passed


def test_comparators_equal_the_encoder_on_every_word_value():
    # No tools: each emitted comparator (constant or not) against Encoder.transform on all 4-bit inputs.
    net = handmade_network()
    enc = dict(net.encoder)
    enc["bits"] = [[0, ">=", 15], [1, ">=", 0], [0, ">=", 16], [1, "==", 15], [0, ">=", -1]]
    encoder = Encoder.from_dict(enc)
    X = handmade_inputs()
    bits = encoder.transform(X)
    for row in emit_mod._comparators(encoder):
        x = X[:, row["feature"]]
        if row["const"]:
            got = np.full(len(x), row["const"] == "1")
        else:
            t = int(row["literal"], 2)
            got = x >= t if row["op"] == ">=" else x == t
        assert (got == bits[:, row["bit"]]).all(), row


@needs_tools
def test_sipm_example_is_proved_and_a_flipped_copy_refuted(tmp_path):
    net = Network.load(EXAMPLES / "sipm_k6.json")
    X = np.random.default_rng(0).integers(0, 1 << 12, size=(16, 32))
    emit(net, tmp_path / "ok", X=X)
    ok = verify(tmp_path / "ok")
    assert ok.proved and ok.engine == "ABC iprove"
    emit(net, tmp_path / "bad", X=X)
    flip_table_bit(tmp_path / "bad", net.depth, 0, 5, net.k)
    r = verify(tmp_path / "bad")
    assert not r.proved and r.counterexample_file.is_file()


@needs_tools
def test_cli_verify_exit_codes_and_wrong_network(tmp_path):
    net = tiny_network()
    emit(net, tmp_path, max_vectors=10)
    runner = CliRunner()
    ok = runner.invoke(main, ["verify", str(tmp_path)])
    assert ok.exit_code == 0 and "PROVED" in ok.output
    other = tiny_network(seed=2)
    other.save(tmp_path / "other.json")
    bad = runner.invoke(main, ["verify", str(tmp_path), "--network", str(tmp_path / "other.json")])
    assert bad.exit_code == 2 and "sha256" in bad.output and "Traceback" not in bad.output
    (tmp_path / "network.json").unlink()
    missing = runner.invoke(main, ["verify", str(tmp_path)])
    assert missing.exit_code == 2 and "--network" in missing.output


@needs_tools
def test_overridden_ghdl_is_the_one_sim_runs(tmp_path, monkeypatch):
    emit(tiny_network(), tmp_path, max_vectors=5)
    fake = tmp_path / "not-ghdl"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("HCL_GHDL", str(fake))
    result = CliRunner().invoke(main, ["sim", str(tmp_path)])
    assert result.exit_code == 2 and "ghdl" in result.output, result.output


def test_stored_multi_digit_tables_predict_what_they_recorded():
    # Reading a stored network file (16 hex digits per table) in the wrong digit order would change every
    # prediction: the example must score exactly the test accuracy it recorded (sipm is synthetic: no data).
    from hcl.reference import accuracy
    from hcl.tasks import load_task
    net = Network.load(EXAMPLES / "sipm_k6.json")
    X, y = load_task("sipm", seed=int(net.meta["seed"])).split("test")
    assert accuracy(net, Encoder.from_dict(net.encoder).transform(X), y) == pytest.approx(net.meta["test_accuracy"])


# ---- vector coverage ----------------------------------------------------------------------------------------------
def test_possible_pairs_count_distinct_inputs_only():
    from hcl.coverage import possible_pairs
    net = handmade_network()
    # K = 2; layer 1 reads [0,1], [2,3], [4,0]; layer 2 reads [0,1], [1,2]: all distinct, 5 LUTs x 4 addresses.
    assert possible_pairs(net) == 5 * 4
    net.wiring[1][1] = np.array([2, 2], dtype=np.int32)      # one signal on both inputs: 2 addresses
    assert possible_pairs(net) == 4 * 4 + 2


def test_every_input_of_the_handmade_network_covers_what_it_reaches():
    from hcl.coverage import addresses, table_coverage
    net = handmade_network()
    X = handmade_inputs()
    cov = table_coverage(net, X)
    a = addresses(net, Encoder.from_dict(net.encoder).transform(X))
    assert cov.covered == sum(len(set(a[:, j].tolist())) for j in range(a.shape[1]))
    assert table_coverage(net, X[:1]).covered == a.shape[1]      # one vector: one address per LUT


def test_extra_vectors_raise_coverage_greedily():
    from hcl.coverage import extra_vectors, table_coverage
    net = tiny_network()
    rng = np.random.default_rng(0)
    X = rng.integers(0, 64, size=(3, 6))
    candidates = rng.integers(0, 64, size=(500, 6))
    extra = extra_vectors(net, X, candidates, 10)
    before, after = table_coverage(net, X), table_coverage(net, np.concatenate([X, extra]))
    assert len(extra) == 10 and after.covered > before.covered
    # Greedy: the first pick gains at least as much as any single candidate.
    best_single = max(table_coverage(net, np.concatenate([X, c[None]])).covered for c in candidates)
    assert table_coverage(net, np.concatenate([X, extra[:1]])).covered == best_single


def test_emit_vectors_extra_appends_golden_vectors(tmp_path):
    net = tiny_network()
    m = emit(net, tmp_path, max_vectors=5, vectors_extra=7)
    assert m["n_vectors"] == 5 + m["vector_source"]["extra"] and 0 < m["vector_source"]["extra"] <= 7
    rows = [r for r in (tmp_path / "vectors.txt").read_text().splitlines() if r and not r.startswith("#")]
    X = np.array([[int(v) for v in r.split("|")[0].split()] for r in rows])
    from hcl.reference import predict
    assert [int(r.split("|")[1]) for r in rows] == predict(net, Encoder.from_dict(net.encoder).transform(X)).tolist()
