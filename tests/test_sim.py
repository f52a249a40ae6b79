"""cocotb + GHDL: emitted designs pass bit-exact with the right latency, and the testbench catches what it must.

Each simulation is a small network and at most a few hundred vectors (a few seconds each, GHDL build included).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from hcl.emit import emit
from hcl.encode import Encoder
from hcl.network import random_network
from hcl.reference import layer_outputs
from hcl.simulate import simulate
from test_emit import handmade_inputs, handmade_network, tiny_network

pytestmark = [
    pytest.mark.sim,
    pytest.mark.skipif(shutil.which("ghdl") is None and not os.environ.get("HCL_GHDL"),
                       reason="ghdl is not installed (apt-get install ghdl, or make install)"),
]
ROOT = Path(__file__).resolve().parents[1]


def vector_rows(design: Path) -> list[str]:
    return [line for line in (design / "vectors.txt").read_text().splitlines() if not line.startswith("#")]


@pytest.mark.parametrize("registers", ["none", "layer", "every=2"])
def test_design_passes_bit_exact_with_its_latency(tmp_path, registers):
    m = emit(tiny_network(layers=(10, 8, 6)), tmp_path, registers=registers, max_vectors=120)
    r = simulate(tmp_path)
    assert r.passed, r.lines()
    assert r.summary["vectors"] == r.summary["checked"] == 120 and r.mismatches == 0
    if registers == "none":
        assert 0 < r.summary["settle_ns_max"] <= m["delay_model"]["critical_path_ps"] / 1000
    else:
        assert r.summary["latency_measured"] == [m["latency_cycles"]] and m["latency_cycles"] > 0
    cases = {c.get("name"): c for c in ET.parse(r.results_xml).getroot().iter("testcase")}
    assert set(cases) == {"vectors_bit_exact", "latency"}
    assert not any(c.find("failure") is not None for c in cases.values())


def test_ties_and_every_input_of_a_handmade_network(tmp_path):
    """All 256 inputs of a 2x4-bit network: ties between the classes occur and must go to class 0."""
    emit(handmade_network(), tmp_path, registers="layer", X=handmade_inputs())
    ties = [row for row in vector_rows(tmp_path) if len(set(row.split("|")[2].split())) == 1]
    assert ties and all(row.split("|")[1].strip() == "0" for row in ties)
    r = simulate(tmp_path)
    assert r.passed and r.summary["checked"] == 256, r.lines()


def test_signed_inputs_pass(tmp_path):
    rng = np.random.default_rng(5)
    X = rng.integers(-512, 512, size=(400, 5))
    enc = Encoder.fit(X, bits=4, input_width=10, signed=True)
    net = random_network(rng, 5, enc.n_bits, [12, 6], 3)
    net.encoder = enc.to_dict()
    emit(net, tmp_path, registers="every=1", X=X[:150])
    r = simulate(tmp_path)
    assert r.passed and r.summary["checked"] == 150, r.lines()


def test_corrupted_golden_vector_is_reported_with_its_index(tmp_path):
    emit(tiny_network(), tmp_path, registers="layer", max_vectors=60)
    lines = (tmp_path / "vectors.txt").read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    x, cls, scores = lines[first + 17].split("|")
    lines[first + 17] = f"{x}|{cls}| {' '.join(str(int(s) + 1) for s in scores.split())}\n"
    (tmp_path / "vectors.txt").write_text("".join(lines))
    r = simulate(tmp_path)
    assert not r.passed
    assert r.mismatches == 1 and r.summary["mismatch_indices"] == [17]
    assert any("1 of 60 vectors mismatch (first at vector 17" in m for m in r.messages), r.messages
    assert re.search(r"vector 17: expected class \d scores \[.*\], got class \d scores", r.log.read_text())


def test_flipped_truth_table_bit_is_caught(tmp_path):
    net = tiny_network()
    m = emit(net, tmp_path, max_vectors=80)
    # Flip the bit that last-layer LUT 0 reads for vector 0: its class score for vector 0 must change.
    X = np.array([int(v) for v in vector_rows(tmp_path)[0].split("|")[0].split()])[None, :]
    prev = layer_outputs(net, Encoder.from_dict(net.encoder).transform(X))[-2][0]
    address = sum(int(prev[i]) << b for b, i in enumerate(net.wiring[-1][0]))
    layer = net.depth
    vhd = tmp_path / m["files"][0]
    text = vhd.read_text()
    pattern = rf'(constant TT_L{layer}_0 : std_logic_vector\(\d+ downto 0\) := x")([0-9a-f]+)(";)'
    table = re.search(pattern, text).group(2)
    flipped = format(int(table, 16) ^ (1 << address), f"0{len(table)}x")
    vhd.write_text(re.sub(pattern, lambda g: g.group(1) + flipped + g.group(3), text, count=1))
    r = simulate(tmp_path)
    assert not r.passed and r.mismatches >= 1 and r.summary["mismatch_indices"][0] == 0, r.lines()


def test_settle_budget_is_enforced(tmp_path):
    m = emit(tiny_network(), tmp_path, max_vectors=30)
    critical_ns = m["delay_model"]["critical_path_ps"] / 1000
    r = simulate(tmp_path, budget_ns=critical_ns / 2)
    assert not r.passed and r.mismatches == 0
    assert any("exceeds the budget" in msg for msg in r.messages), r.messages
    slow = simulate(tmp_path, generics={"G_NET_PS": 1700})   # 6x slower levels: the settle time scales with them
    assert slow.passed and slow.summary["settle_ns_max"] == pytest.approx(6 * r.summary["settle_ns_max"])


def test_too_fast_clock_fails_registered_design(tmp_path):
    emit(tiny_network(), tmp_path, registers="every=4", max_vectors=40)   # one stage holds the whole network
    r = simulate(tmp_path, clock_ns=1.0)
    assert not r.passed and r.mismatches > 0


def test_cocotb_makefile_flow(tmp_path):
    """`make sim DESIGN=...` runs the same testbench through cocotb's Makefile flow and writes JUnit XML."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    emit(tiny_network(), tmp_path, registers="layer", max_vectors=40)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("PYTEST_CURRENT_TEST", None)
    proc = subprocess.run(["make", "--no-print-directory", "-f", str(ROOT / "hcl" / "sim" / "Makefile"),
                           f"DESIGN={tmp_path}", f"PYTHON={sys.executable}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    xml = tmp_path / "sim_build" / "results.xml"
    assert "TESTS=2 PASS=2 FAIL=0" in proc.stdout and xml.is_file()
    assert json.loads((tmp_path / "sim_build" / "summary.json").read_text())["checked"] == 40


def test_testbench_imports_nothing_from_hcl():
    source = (ROOT / "hcl" / "sim" / "tb_network.py").read_text()
    assert not re.search(r"^\s*(from|import)\s+(hcl|numba|numpy)\b", source, re.MULTILINE)


@pytest.mark.parametrize("args, needle", [(["--budget-ns", "nan"], "--budget-ns"), (["--clock-ns", "-3"], "--clock-ns"),
                                          (["-g", "G_LUT_PS=-5"], "picoseconds")])
def test_sim_refuses_bad_times_before_running_anything(tmp_path, args, needle):
    from click.testing import CliRunner
    from hcl.cli import main
    r = CliRunner().invoke(main, ["sim", str(tmp_path), *args])
    assert r.exit_code == 2 and needle in r.output, r.output


@pytest.mark.parametrize("manifest, needle", [
    (b"5", "top level must be a JSON object"),
    (b'{"top": "x", "files": [5]}', "files: expected a non-empty list"),
    (b"\xff", "not valid JSON"),
])
def test_sim_checks_a_manifest_as_synth_does(tmp_path, manifest, needle):
    from click.testing import CliRunner
    from hcl.cli import main
    (tmp_path / "manifest.json").write_bytes(manifest)
    for command in ("sim", "synth"):
        args = [command, str(tmp_path)] + (["--target", "xilinx"] if command == "synth" else [])
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2 and needle in r.output, (command, r.output)


def test_sim_needs_an_integer_latency(tmp_path):
    from click.testing import CliRunner
    from hcl.cli import main
    (tmp_path / "d.vhd").write_text("-- empty")
    (tmp_path / "v.txt").write_text("")
    (tmp_path / "manifest.json").write_text('{"top": "d", "files": ["d.vhd"], "latency_cycles": "abc", '
                                            '"vectors": "v.txt"}')
    r = CliRunner().invoke(main, ["sim", str(tmp_path)])
    assert r.exit_code == 2 and "latency_cycles: expected an integer" in r.output, r.output
