"""The honesty of what hcl reports: tests written to fail on the plausible slips that would make a figure or a
design wrong while everything else stays green (issue 30).

Each test names the slip it guards against; benchmarks/results/mutation.md lists the slips injected by hand and
the test that failed on each.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hcl import emit as emit_mod
from hcl.emit import emit
from hcl.encode import Encoder
from hcl.errors import ToolError
from hcl.evolve import operators
from hcl.evolve.fitness import Evaluator, best_table
from hcl.network import random_network
from hcl.predict import predict
from hcl.tasks.columns import ColumnMap, InputMap
from hcl.tasks.tabular import load_file
from test_emit import tiny_network

needs_tools = pytest.mark.skipif(
    shutil.which("ghdl") is None or shutil.which("yosys") is None,
    reason="ghdl and yosys are needed (apt-get install ghdl yosys, or make install)")


# ---- choices made on the training rows only -----------------------------------------------------------------------
def test_top_categories_are_the_most_frequent_in_the_training_rows(tmp_path):
    """Slip: --top-categories counting values over every row. Here the training rows' most frequent value is
    'a'; over all rows it is 'z' (the validation and test rows hold many)."""
    rows = ["colour,x,split,label"]
    rows += [f"a,{i % 7},train,{i % 2}" for i in range(30)] + [f"b,{i % 7},train,{i % 2}" for i in range(10)]
    rows += [f"z,{i % 7},{'val' if i % 2 else 'test'},{i % 2}" for i in range(80)]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(rows) + "\n")
    ds = load_file(data=path, label="label", split_column="split", top_categories=1)
    colour = next(c for c in ds.extra["inputs"]["features"] if c["name"] == "colour")
    assert colour["values"] == ["a"] and colour["other"]
    # 'z' never occurs in training: every validation row is 'other' (code 1), every training 'a' row code 0.
    assert set(ds.X_val[:, 0].tolist()) == {1}


def test_fixed_point_formats_are_fitted_on_the_training_rows(tmp_path):
    """Slip: the float columns' fixed-point range fitted on every row. Validation rows far outside the training
    range must clip, not stretch the code."""
    rows = ["f,split,label"]
    rows += [f"{i / 40:.4f},train,{int(i >= 20)}" for i in range(40)]            # 0 .. 1
    rows += [f"{1000 + i:.1f},{'val' if i % 2 else 'test'},{i % 2}" for i in range(20)]
    path = tmp_path / "f.csv"
    path.write_text("\n".join(rows) + "\n")
    ds = load_file(data=path, label="label", split_column="split", input_bits=8)
    assert len(np.unique(ds.X_train[:, 0])) >= 30          # the training range spans the code
    assert (ds.X_val[:, 0] == 255).all()                   # far above it: clipped to the top code


# ---- the golden model, hcl predict --------------------------------------------------------------------------------
def test_predict_reads_the_columns_by_the_networks_names_not_the_files_order(tmp_path):
    """Slip: `hcl predict` taking the features in the file's column order."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 64, size=(300, 2))
    enc = Encoder.fit(X, bits=3, input_width=6)
    net = random_network(rng, 4, enc.n_bits, [8], 2, classes=["n", "y"])
    net.encoder = enc.to_dict()
    # The network reads column "b" as its feature 0 and "a" as feature 1.
    net.meta = {"inputs": InputMap("label", (ColumnMap("b", "raw", bits=6), ColumnMap("a", "raw", bits=6))).to_dict()}
    path = tmp_path / "rows.csv"
    path.write_text("a,b\n" + "".join(f"{a},{b}\n" for a, b in X))
    got = predict(net, path).classes
    want, _ = emit_mod.golden(net, X[:, [1, 0]])
    swapped, _ = emit_mod.golden(net, X)
    assert (want != swapped).any(), "the test needs rows where the column order matters"
    assert np.array_equal(got, want)


# ---- the search's bookkeeping ------------------------------------------------------------------------------------
def test_exact_refit_keeps_tied_entries():
    """Slip: the exact refit resetting entries whose two values tie (no sample there, or as many gained as
    lost) instead of keeping them: it would forget what the table knew."""
    gain = np.array([3, -2, 0, 0, 0, 1, -1, 0])
    assert best_table(gain, 0b1001_0100) == 0b1011_0101
    assert best_table(gain, 0) == 0b0010_0001
    assert best_table(gain, 0xFF) == 0b1011_1101


def test_exact_refit_of_an_unreached_address_keeps_its_entry(tiny):
    """The same through the evaluator: entries no training sample reaches keep their value."""
    enc = Encoder.fit(tiny.X_train, bits=3, input_width=6)
    rng = np.random.default_rng(2)
    ev_ = Evaluator(enc.encode_packed(tiny.X_train), tiny.y_train)
    net = random_network(rng, 4, enc.n_bits, [10, 6], 3)
    # Wire output LUT 0 to one input four times: only addresses 0 and 15 can be reached.
    first_out = net.layer_sizes[0]
    net.wiring[1][0] = [0, 0, 0, 0]
    net.tables[1][0] = np.uint64(0b0110_1001_0110_0110)
    ev = ev_.full(net)
    refit = ev_.refit(ev, first_out, "exact")
    before, after = int(net.tables[1][0]), int(refit.net.tables[1][0])
    unreached = [a for a in range(16) if a not in (0, 15)]
    assert all((before >> a) & 1 == (after >> a) & 1 for a in unreached)


def test_crossover_of_parents_differing_only_in_tables_mixes_tables_and_flags_them():
    """Slip: crossover ignoring parents with the same wiring (it would breed copies), or not flagging the
    LUTs whose table changed (the delta evaluation would then score the child as its parent)."""
    rng = np.random.default_rng(8)
    a = random_network(rng, 4, 20, [10, 6], 3)
    b = a.copy()
    for layer in range(len(b.tables)):
        b.tables[layer] = b.tables[layer] ^ np.uint64(0b1011)
    child, changed, _ = operators.lut_crossover(np.random.default_rng(1), a, b)
    ta, tc = a.flat()[1], child.flat()[1]
    assert (ta != tc).any() and (ta == tc).any()
    assert np.array_equal(changed, ta != tc)


def test_crossover_child_scores_equal_a_full_evaluation(tiny):
    enc = Encoder.fit(tiny.X_train, bits=3, input_width=6)
    rng = np.random.default_rng(4)
    evaluator = Evaluator(enc.encode_packed(tiny.X_train), tiny.y_train)
    a = random_network(rng, 4, enc.n_bits, [10, 6], 3)
    b = a.copy()
    b.tables = [t ^ np.uint64(0b0110) for t in b.tables]
    parent = evaluator.full(a)
    child, changed, _ = operators.lut_crossover(rng, a, b)
    delta = evaluator.delta(parent, child, changed)
    full = evaluator.full(child)
    assert np.array_equal(delta.scores, full.scores) and delta.accuracy == full.accuracy


# ---- hcl verify: only a decided proof is PROVED -----------------------------------------------------------------
class _FakeTools:
    """Stands in for ghdl / yosys / yosys-abc: ABC answers `abc`, Yosys' SAT writes `sat_log`."""

    def __init__(self, abc: str, sat_log: str):
        self.abc, self.sat_log, self.calls = abc, sat_log, []

    def __call__(self, tool, args, cwd=None, timeout=600, check=True, stdout_file=None):
        from hcl.tools import ToolRun
        self.calls.append(tool)
        if stdout_file is not None:
            Path(stdout_file).write_text("module x; endmodule\n")
        if tool == "yosys" and "-l" in args:
            Path(cwd, args[args.index("-l") + 1]).write_text(self.sat_log)
        return ToolRun([tool, *args], 0, self.abc if tool == "yosys-abc" else "", "")


@pytest.mark.parametrize("abc, sat_log, proved", [
    ("UNSATISFIABLE\n", "", True),
    ("UNDECIDED\n", "\nSUCCESS!\n", True),              # ABC undecided, Yosys' SAT proves it
    ("SATISFIABLE\n", "\nFAIL!\n", False),
    ("UNDECIDED\n", "\nFAIL!\n", False),
    ("UNDECIDED\n", "\nsolver gave up\n", None),         # nobody decided: an error, never PROVED
    ("UNSATISFIABLE\nUNDECIDED\n", "\nno verdict\n", None),
])
def test_verify_is_proved_only_when_a_solver_decided_unsat(tmp_path, monkeypatch, abc, sat_log, proved):
    """Slip: `hcl verify` counting an undecided solver run (or a run without a verdict) as PROVED."""
    import hcl.verify as verify_mod
    emit(tiny_network(), tmp_path, max_vectors=5)
    monkeypatch.setattr(verify_mod, "run_tool", _FakeTools(abc, sat_log))
    if proved is None:
        with pytest.raises(ToolError, match="without a verdict"):
            verify_mod.verify(tmp_path)
        return
    r = verify_mod.verify(tmp_path)
    assert r.proved is proved
    assert ("PROVED" in r.lines()[0]) is proved


@needs_tools
def test_signed_input_design_is_proved_and_its_refutation_reads_signed_words(tmp_path):
    """Slip: the reference netlist treating signed input words as unsigned (the proof would then refute a
    correct signed design, or prove a wrong one). Negative thresholds make the sign matter."""
    from hcl.verify import verify
    rng = np.random.default_rng(5)
    X = rng.integers(-512, 512, size=(400, 3))
    enc = Encoder.fit(X, bits=4, input_width=10, signed=True)
    assert (enc.thresholds < 0).any()
    net = random_network(rng, 4, enc.n_bits, [8], 2)
    net.encoder = enc.to_dict()
    emit(net, tmp_path / "ok", X=X[:20])
    assert verify(tmp_path / "ok").proved


# ---- the testbench: every vector answered, at the promised latency ---------------------------------------------
def _tamper(design: Path, old: str, new: str) -> None:
    vhd = design / json.loads((design / "manifest.json").read_text())["files"][0]
    text = vhd.read_text()
    assert old in text, old
    vhd.write_text(text.replace(old, new))


@pytest.fixture
def registered(tmp_path):
    pytest.importorskip("cocotb")
    if shutil.which("ghdl") is None:
        pytest.skip("ghdl is not installed")
    m = emit(tiny_network(), tmp_path, registers="layer", max_vectors=40)
    return tmp_path, m


@pytest.mark.parametrize("silence", ["class-0", "after-20"])
def test_testbench_fails_a_design_that_answers_only_some_vectors(registered, silence):
    """Slip: the testbench passing a design that stays silent on some vectors: out_valid never rises for the
    vectors of class 0 (answers out of step), or never after the first 20 answers (the rest in order, so only
    counting every vector's answer catches it)."""
    from hcl.simulate import simulate
    design, m = registered
    last = m["latency_cycles"] - 1
    if silence == "class-0":
        _tamper(design, f"out_valid <= valid_sr({last});",
                f"out_valid <= valid_sr({last}) when cls_q /= to_unsigned(0, cls_q'length) else '0';")
        classes = [line.split("|")[1].strip() for line in (design / "vectors.txt").read_text().splitlines()
                   if line and not line.startswith("#")]
        assert "0" in classes and set(classes) - {"0"}
    else:
        _tamper(design, f"  signal valid_sr : std_logic_vector({last} downto 0);",
                f"  signal valid_sr : std_logic_vector({last} downto 0);\n  signal answered : natural := 0;")
        _tamper(design, f"out_valid <= valid_sr({last});",
                f"out_valid <= valid_sr({last}) when answered < 20 else '0';\n"
                f"  count : process (clk) begin if rising_edge(clk) then if valid_sr({last}) = '1' then "
                "answered <= answered + 1; end if; end if; end process;")
    r = simulate(design, testcase="vectors_bit_exact")
    assert r.tests == 1 and not r.passed, r.lines()


def test_testbench_fails_a_design_one_cycle_late_in_each_test_alone(registered):
    """Slip: the testbench accepting an output at any latency: each of its two tests must refuse a design one
    cycle later than its manifest says."""
    from hcl.simulate import simulate
    design, m = registered
    manifest = json.loads((design / "manifest.json").read_text())
    manifest["latency_cycles"] -= 1
    (design / "manifest.json").write_text(json.dumps(manifest))
    for case in ("vectors_bit_exact", "latency"):
        r = simulate(design, testcase=case)
        assert r.tests == 1 and not r.passed, (case, r.lines())
