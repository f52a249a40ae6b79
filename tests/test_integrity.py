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


# ---- the search: selection on validation, the test split only reported --------------------------------------------
def _small(**kw):
    from hcl.evolve import EvolveConfig
    base = dict(task="tiny", k=4, generations=6, population=8, seed=5, layers=[12], group_size=3, bits=3)
    base.update(kw)
    return EvolveConfig(**base)


def _disagreeing(seed: int = 0):
    """The tiny task with its test labels rotated: a network better on validation is worse on test, so a figure
    chosen or reported on the wrong split shows."""
    from conftest import make_tiny
    import dataclasses
    ds = make_tiny(seed)
    return dataclasses.replace(ds, y_test=(ds.y_test + 1) % 3)


def _accuracy(net, X, y) -> float:
    """Independently of the search: the golden model on the raw rows."""
    classes, _ = emit_mod.golden(net, X)
    return float(np.mean(classes == y))


def test_the_best_network_is_the_most_accurate_on_validation_and_its_figures_are_its_own(tmp_path):
    """Slips: the best network chosen by test or training accuracy and printed as validation accuracy; a figure
    of the run (run.json, the network files' meta) computed on another split than it names."""
    from hcl.evolve import evolve
    from hcl.network import Network
    ds = _disagreeing()
    result = evolve(_small(out=str(tmp_path)), dataset=ds, progress=False)
    front = [Network.load(p) for p in sorted((tmp_path / "pareto").glob("*.json"))]
    assert len(front) >= 2, "the test needs a front of several networks"
    val = [_accuracy(n, ds.X_val, ds.y_val) for n in front]
    test = [_accuracy(n, ds.X_test, ds.y_test) for n in front]
    train = [_accuracy(n, ds.X_train, ds.y_train) for n in front]
    assert int(np.argmax(test)) != int(np.argmax(val)), "validation and test must disagree here"
    best = Network.load(tmp_path / "best.json")
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["val_accuracy"] == pytest.approx(max(val)) == _accuracy(best, ds.X_val, ds.y_val)
    assert run["test_accuracy"] == pytest.approx(_accuracy(best, ds.X_test, ds.y_test))
    assert run["train_accuracy"] == pytest.approx(_accuracy(best, ds.X_train, ds.y_train))
    assert (result.val_accuracy, result.test_accuracy) == (run["val_accuracy"], run["test_accuracy"])
    for net, v, t, tr in zip(front, val, test, train):
        assert (net.meta["val_accuracy"], net.meta["test_accuracy"], net.meta["train_accuracy"]) == \
            pytest.approx((v, t, tr), abs=1e-6)


def test_finish_selects_on_validation_reports_each_split_and_drops_dominated_points(tiny, monkeypatch):
    """finish() on a hand-made archive whose three splits rank the networks three ways."""
    from hcl import cost
    from hcl.evolve import run as run_mod
    from hcl.evolve.problem import Problem
    from hcl.evolve.search import SearchState
    problem = Problem(_small(), dataset=tiny)
    rng = np.random.default_rng(0)
    nets = [problem.decorate(random_network(rng, 4, problem.encoder.n_bits, [size, 9], 3)) for size in (4, 10, 20)]
    luts = [cost.estimate(n)["luts"] for n in nets]
    assert luts == sorted(luts) and len(set(luts)) == 3
    figures = {"train": (0.95, 0.85, 0.99), "val": (0.70, 0.80, 0.75), "test": (0.90, 0.60, 0.95)}
    monkeypatch.setattr(Problem, "accuracy", lambda self, net, split: figures[split][
        next(i for i, n in enumerate(nets) if n is net)])
    archive = [(n, figures["val"][i], luts[i]) for i, n in enumerate(nets)]
    state = SearchState(3, [], np.random.default_rng(0), [], 0, 0.0, archive)
    result = run_mod.finish(problem, state, "completed", None)
    assert result.pareto == [nets[0], nets[1]]          # nets[2]: more LUTs and less accurate than nets[1]
    assert result.best is nets[1]
    assert (result.train_accuracy, result.val_accuracy, result.test_accuracy) == (0.85, 0.80, 0.60)


@pytest.mark.parametrize("select_on", ["train", "val"])
def test_select_on_reads_the_split_it_names(select_on):
    """Slip: `--select-on val` reading another split (or train reading validation)."""
    from hcl.evolve.problem import Problem, candidate
    ds = _disagreeing()
    problem = Problem(_small(select_on=select_on), dataset=ds)
    net = problem.decorate(random_network(np.random.default_rng(1), 4, problem.encoder.n_bits, [12, 9], 3))
    X, y = ds.split(select_on)
    figures = {s: _accuracy(net, *ds.split(s)) for s in ("train", "val", "test")}
    assert len(set(figures.values())) == 3
    cand = candidate(problem, problem.train.full(net))
    assert cand.fitness.values[0] == pytest.approx(_accuracy(net, X, y))


def test_the_regrow_operator_chooses_inputs_on_training_rows(tiny):
    """Slip: the greedy regrow of a LUT's inputs scored on the validation split."""
    from hcl.evolve.grow import SUBSAMPLE
    from hcl.evolve.problem import Problem
    from hcl.encode import unpack_rows
    problem = Problem(_small(), dataset=tiny)
    sample = problem.grow_sample
    n = len(sample.labels)
    assert n == min(SUBSAMPLE, len(tiny.y_train))
    train_bits = {r.tobytes() for r in problem.encoder.transform(tiny.X_train).astype(np.uint8)}
    rows = unpack_rows(sample.packed, n).T.astype(np.uint8)
    assert all(r.tobytes() in train_bits for r in rows)


# ---- the search's direction: NSGA-II ------------------------------------------------------------------------------
def _member(acc: float, luts: int, crowding: float | None = None):
    from hcl.evolve.problem import Candidate
    c = Candidate(None, luts, 1, acc)
    if crowding is not None:
        c.fitness.crowding_dist = crowding
    return c


def test_fewer_luts_dominate_at_equal_accuracy_and_selection_keeps_them():
    """Slip: NSGA-II maximizing LUTs."""
    from deap import tools
    small_, large = _member(0.9, 10), _member(0.9, 20)
    assert small_.fitness.dominates(large.fitness) and not large.fitness.dominates(small_.fitness)
    pop = [_member(0.8, 30 + i) for i in range(4)] + [_member(0.8, 5), _member(0.95, 40)]
    kept = tools.selNSGA2(pop, 2)
    assert sorted((c.luts, c.accuracy) for c in kept) == [(5, 0.8), (40, 0.95)]


class _Draws:
    """An rng whose integers() returns the given pairs in turn."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def integers(self, n, size=None):
        return np.array(self.pairs.pop(0))


def test_tournament_prefers_the_dominant_then_the_less_crowded():
    """Slip: the binary tournament preferring the more crowded of two non-dominated members."""
    from hcl.evolve.jobs import tournament
    lonely, crowded = _member(0.9, 30, crowding=5.0), _member(0.8, 10, crowding=0.1)
    pop = [crowded, lonely]
    assert tournament(_Draws([(0, 1)]), pop) is lonely
    assert tournament(_Draws([(1, 0)]), pop) is lonely
    worse = _member(0.7, 40, crowding=float("inf"))     # dominated by both, however lonely
    assert tournament(_Draws([(0, 1)]), [worse, crowded]) is crowded
    assert tournament(_Draws([(1, 0)]), [worse, crowded]) is crowded


def test_the_validation_archive_is_the_hand_computed_pareto_front():
    """Slip: the archive keeping a dominated point (or dropping a non-dominated one)."""
    from hcl.evolve.search import _non_dominated
    points = [(0.80, 10), (0.70, 12), (0.90, 15), (0.85, 15), (0.90, 20), (0.95, 30), (0.60, 8), (0.95, 31),
              (0.60, 9), (0.97, 50)]
    entries = [(f"net{i}", v, luts) for i, (v, luts) in enumerate(points)]
    front = [(v, luts) for _, v, luts in _non_dominated(entries)]
    # By hand: (0.60, 8) < (0.80, 10) < (0.90, 15) < (0.95, 30) < (0.97, 50); every other point is dominated.
    assert front == [(0.60, 8), (0.80, 10), (0.90, 15), (0.95, 30), (0.97, 50)]


# ---- limits: every network a run keeps and returns --------------------------------------------------------------
def test_max_depth_and_max_luts_hold_for_every_member_and_every_returned_network(tmp_path):
    """Slips: --max-depth never checked; children over --max-luts / --max-depth kept."""
    from hcl import cost
    from hcl.evolve import evolve
    from hcl.evolve.problem import Problem
    from hcl.evolve.search import run_search
    from hcl.network import Network
    from hcl.evolve.start import initial_population
    growing = {"add_lut": 1.0, "grow_group": 1.0, "rewire": 1.0}     # children that grow deeper
    start = initial_population(Problem(_small(operators=growing)), np.random.default_rng(5))
    free = run_search(Problem(_small(operators=growing)))[0]
    max_depth, max_luts = max(c.depth for c in start), max(c.luts for c in start)
    assert max(c.depth for c in free.population) > max_depth, "unconstrained, children must grow deeper here"
    seen = []
    config = _small(max_depth=max_depth, max_luts=max_luts, operators=growing)
    run_search(Problem(config), on_generation=lambda st, row: seen.extend((c.luts, c.depth) for c in st.population))
    assert seen and all(luts <= max_luts and depth <= max_depth for luts, depth in seen)
    evolve(_small(max_depth=max_depth, max_luts=max_luts, operators=growing, out=str(tmp_path)), progress=False)
    for path in [tmp_path / "best.json", *(tmp_path / "pareto").glob("*.json")]:
        c = cost.estimate(Network.load(path))
        assert c["luts"] <= max_luts and c["depth"] <= max_depth, path


def test_a_network_over_the_limits_is_never_written(tiny, tmp_path, monkeypatch):
    """Integrity by construction: finish() checks every network it would write against the limits; a search
    that let one through fails loudly and writes nothing."""
    from hcl import cost
    from hcl.evolve import run as run_mod
    from hcl.evolve.problem import Problem
    from hcl.evolve.search import SearchState
    rng = np.random.default_rng(0)
    problem = Problem(_small(max_luts=10_000), dataset=tiny)
    nets = [problem.decorate(random_network(rng, 4, problem.encoder.n_bits, [size, 9], 3)) for size in (4, 20)]
    luts = [cost.estimate(n)["luts"] for n in nets]
    problem.config.max_luts = luts[0]
    archive = [(nets[0], 0.5, luts[0]), (nets[1], 0.6, luts[1])]
    state = SearchState(1, [], rng, [], 0, 0.0, archive)
    with pytest.raises(RuntimeError, match="max-luts"):
        run_mod.finish(problem, state, "completed", tmp_path)
    assert not list(tmp_path.iterdir())


# ---- no input loses data: the run folder -------------------------------------------------------------------------
def test_a_new_run_over_a_finished_one_is_refused_unless_overwrite(tmp_path):
    from click.testing import CliRunner
    from hcl.cli import main
    args = ["evolve", "--task", "tiny", "--luts", "4", "--layers", "8", "--group-size", "2", "--bits", "3",
            "--generations", "1", "--population", "4", "--out", str(tmp_path), "--quiet"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.json")}
    again = CliRunner().invoke(main, args + ["--seed", "3"])
    assert again.exit_code == 2 and "--overwrite" in again.output and "Traceback" not in again.output
    assert len(again.output.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.json")} == before
    replaced = CliRunner().invoke(main, args + ["--seed", "3", "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((tmp_path / "run.json").read_text())["seed"] == 3


def test_resume_refuses_an_edited_config_naming_what_changed(tmp_path):
    from hcl.errors import ConfigError
    from hcl.evolve import evolve, resume
    evolve(_small(generations=2, out=str(tmp_path)), progress=False)
    checkpoint = (tmp_path / "checkpoint.json").read_bytes()
    toml = tmp_path / "config.toml"
    toml.write_text(toml.read_text().replace("seed = 5", "seed = 7"))
    with pytest.raises(ConfigError, match=r"edited.*seed 5 -> 7"):
        resume(tmp_path, generations=4, progress=False)
    assert (tmp_path / "checkpoint.json").read_bytes() == checkpoint


def test_resume_refuses_changed_data_naming_the_split(tmp_path):
    import dataclasses
    from conftest import make_tiny
    from hcl.errors import ConfigError
    from hcl.evolve import evolve, resume
    ds = make_tiny()
    evolve(_small(generations=2, out=str(tmp_path)), dataset=ds, progress=False)
    X = ds.X_val.copy()
    X[3, 2] += 1
    with pytest.raises(ConfigError, match=r"data changed.*the val split"):
        resume(tmp_path, generations=4, dataset=dataclasses.replace(ds, X_val=X), progress=False)
    assert resume(tmp_path, generations=3, dataset=ds, progress=False).generations_done == 3


# ---- no input loses data: outputs over inputs, a full disk, NaN limits ---------------------------------------
def _predictable(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.integers(0, 64, size=(50, 2))
    enc = Encoder.fit(X, bits=3, input_width=6)
    net = random_network(rng, 4, enc.n_bits, [8], 2, classes=["n", "y"])
    net.encoder = enc.to_dict()
    net.meta = {"inputs": InputMap("label", (ColumnMap("a", "raw", bits=6), ColumnMap("b", "raw", bits=6))).to_dict()}
    net.save(tmp_path / "net.json")
    (tmp_path / "rows.csv").write_text("a,b\n" + "".join(f"{a},{b}\n" for a, b in X))
    return tmp_path / "net.json", tmp_path / "rows.csv"


@pytest.mark.parametrize("target", ["data", "network", "data-by-another-name"])
def test_predict_out_over_an_input_is_refused_and_the_input_kept(tmp_path, target):
    from click.testing import CliRunner
    from hcl.cli import main
    net, rows = _predictable(tmp_path)
    out = {"data": rows, "network": net, "data-by-another-name": tmp_path / "sub" / ".." / "rows.csv"}[target]
    (tmp_path / "sub").mkdir()
    before = (net.read_bytes(), rows.read_bytes())
    r = CliRunner().invoke(main, ["predict", str(net), "--data", str(rows), "--out", str(out)])
    assert r.exit_code == 2 and "would destroy" in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert (net.read_bytes(), rows.read_bytes()) == before


def _full_disk(monkeypatch):
    import errno
    import hcl.files

    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(hcl.files.os, "fsync", fsync)


def test_a_full_disk_is_one_line_exit_2_and_leaves_no_partial_file(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from hcl.cli import main
    net, rows = _predictable(tmp_path)
    _full_disk(monkeypatch)
    out = tmp_path / "pred" / "p.csv"
    r = CliRunner().invoke(main, ["predict", str(net), "--data", str(rows), "--out", str(out)])
    assert r.exit_code == 2 and "No space left" in r.output and str(out) in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1, r.output
    assert not out.exists() and not list(out.parent.iterdir())
    run = tmp_path / "run"
    r = CliRunner().invoke(main, ["evolve", "--task", "tiny", "--luts", "4", "--layers", "8", "--group-size", "2",
                                  "--generations", "1", "--population", "4", "--out", str(run), "--quiet"])
    assert r.exit_code == 2 and "No space left" in r.output and "Traceback" not in r.output, r.output
    assert not [p for p in run.rglob("*") if p.name != ".lock"]


@pytest.mark.parametrize("command", [["verify"], ["synth", "--target", "xilinx"]])
@pytest.mark.parametrize("timeout", ["nan", "inf", "0", "-5"])
def test_timeouts_must_be_finite_and_positive(tmp_path, command, timeout):
    from click.testing import CliRunner
    from hcl.cli import main
    r = CliRunner().invoke(main, [command[0], str(tmp_path), *command[1:], "--timeout", timeout])
    assert r.exit_code == 2 and "--timeout" in r.output and "Traceback" not in r.output, r.output


@pytest.mark.parametrize("edit, says", [
    (lambda d: (d / "vectors.txt").write_text((d / "vectors.txt").read_text() + "garbage line\n"), "vectors.txt:"),
    (lambda d: (d / "vectors.txt").write_text((d / "vectors.txt").read_text() + "1 2 | 0 | 1 1 1\n"), "2 inputs"),
    (lambda d: _edit_manifest(d, n_features="six"), "n_features"),
    (lambda d: _edit_manifest(d, ports={"clk": "clk"}), "ports.rst"),
    (lambda d: _edit_manifest(d, delay_model={"level_ps": "fast"}), "delay_model"),
])
def test_sim_on_a_hand_edited_design_is_one_line(tmp_path, edit, says):
    from click.testing import CliRunner
    from hcl.cli import main
    emit(tiny_network(), tmp_path, max_vectors=10)
    edit(tmp_path)
    r = CliRunner().invoke(main, ["sim", str(tmp_path)])
    assert r.exit_code == 2 and says in r.output and len(r.output.strip().splitlines()) == 1, r.output


def _edit_manifest(design: Path, **fields) -> None:
    m = json.loads((design / "manifest.json").read_text())
    m.update(fields)
    (design / "manifest.json").write_text(json.dumps(m))


# ---- bounds on the sizes a file or an option declares ------------------------------------------------------------
def test_a_huge_header_is_refused_by_its_size_and_duplicates_are_named(tmp_path):
    from hcl.errors import DataError
    from hcl.tasks.tablefile import MAX_COLUMNS, read_table
    wide = tmp_path / "wide.csv"
    n = MAX_COLUMNS + 1
    wide.write_text(",".join(f"c{i}" for i in range(n)) + "\n" + ",".join("1" for _ in range(n)) + "\n")
    with pytest.raises(DataError, match=f"{n:,} columns"):
        read_table(wide)
    dupes = tmp_path / "dupes.csv"
    names = ["a", "b"] * 20_000 + ["label"]            # a quadratic duplicate check would take minutes here
    dupes.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    with pytest.raises(DataError, match="'a', 'b' appear more than once"):
        read_table(dupes)


def test_a_network_file_declaring_a_billion_features_is_refused(tmp_path):
    from click.testing import CliRunner
    from hcl.cli import main
    d = tiny_network().to_dict()
    d["encoder"]["n_features"] = 10**9
    (tmp_path / "n.json").write_text(json.dumps(d))
    r = CliRunner().invoke(main, ["info", str(tmp_path / "n.json")])
    assert r.exit_code == 2 and "encoder.n_features" in r.output, r.output


def test_dask_local_workers_are_bounded_before_any_work():
    from hcl.errors import ConfigError
    from hcl.evolve.config import max_local_workers, parse_executor
    assert parse_executor(f"dask-local:{max_local_workers()}")[1] == max_local_workers()
    with pytest.raises(ConfigError, match="dask-local:N with 1 <= N <="):
        parse_executor("dask-local:100000")


def test_reference_layer_outputs_are_bool_whatever_the_input_dtype():
    """The golden model's documented types: every layer's output bool [n, size], also for 0/1 integer input."""
    from hcl.reference import class_scores, layer_outputs
    rng = np.random.default_rng(0)
    net = random_network(rng, 3, 7, [5, 4], 2)
    bits = rng.integers(0, 2, size=(30, 7))
    outs = layer_outputs(net, bits)
    assert [o.dtype for o in outs] == [np.dtype(bool)] * 3
    assert [o.shape for o in outs] == [(30, 7), (30, 5), (30, 4)]
    assert np.array_equal(class_scores(net, bits), class_scores(net, bits.astype(bool)))


# ---- every message says what to fix --------------------------------------------------------------------------------
@pytest.fixture
def table_files(tmp_path):
    rows = ["a,b,f,colour,label"] + [f"{i % 50},{i % 7},{i / 100:.2f},{['red', 'none', 'blue'][i % 3]},{'xy'[i % 2]}"
                                      for i in range(500)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    test = ["a,b,f,colour,label"] + [f"{i % 50},{'oops' if i == 4 else i % 7},{i / 100},red,{'xy'[i % 2]}"
                                     for i in range(60)]
    (tmp_path / "test.csv").write_text("\n".join(test) + "\n")
    for name, cell in (("dash", "-"), ("comma", '"1,234.5"')):
        body = [f"{i % 50},{cell if i == 3 else i / 100},{'xy'[i % 2]}" for i in range(100)]
        (tmp_path / f"{name}.csv").write_text("a,f,label\n" + "\n".join(body) + "\n")
    (tmp_path / "bom.toml").write_bytes("\ufeff[evolve]\ntask = \"tiny\"\nk = 4\nlayers = [8]\n".encode())
    return tmp_path


_BASE = ["--label", "label", "--generations", "1", "--population", "4", "--luts", "4", "--layers", "8",
         "--group-size", "2", "--quiet"]


@pytest.mark.parametrize("args, says", [
    (["--data", "d.csv"], "'none' reads as a missing value; if it is a category, say so with --categorical colour"),
    (["--data", "d.csv", "--categorical", "colour", "--features", "a,b", "--drop", "a"],
     "column 'a' is given to both --features and --drop"),
    (["--data", "d.csv", "--categorical", "colour", "--test-data", "test.csv", "--test-fraction", "0.2"],
     "--test-fraction and --test-data both say which rows are test rows"),
    (["--data", "d.csv", "--categorical", "colour", "--split-column", "a", "--val-fraction", "0.2"],
     "--val-fraction and --split-column"),
    (["--data", "d.csv", "--categorical", "colour", "--trainer", "none", "--train-epochs", "2"],
     "--train-epochs: the epochs of the gradient trainer, but --trainer is none"),
    (["--data", "d.csv", "--categorical", "colour", "--fixed", "f=8:4,f=8:2"], "column 'f' is given two formats"),
    (["--data", "dash.csv"], "column 'f', line 5: '-' is not a number, though the column's other values are"),
    (["--data", "comma.csv"], "column 'f', line 5: '1,234.5' is not a number, though the column's other values are"),
    (["--data", "d.csv", "--categorical", "colour", "--test-data", "test.csv"],
     "--test-data test.csv: column 'b', line 6: 'oops' is not a number, but the column holds numbers in d.csv"),
])
def test_unclear_and_contradictory_own_data_options_are_one_line_errors(table_files, monkeypatch, args, says):
    from click.testing import CliRunner
    from hcl.cli import main
    monkeypatch.chdir(table_files)
    r = CliRunner().invoke(main, ["evolve", "--task", "file", *_BASE, "--out", "run", *args])
    assert r.exit_code == 2 and says in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert not (table_files / "run").exists()


def test_a_category_spelled_none_is_read_with_categorical(table_files):
    ds = load_file(data=table_files / "d.csv", label="label", categorical="colour")
    colour = next(c for c in ds.extra["inputs"]["features"] if c["name"] == "colour")
    assert colour["values"] == ["blue", "none", "red"]


def test_a_fixed_format_that_clips_rows_warns_with_the_share_clipped(tmp_path):
    rows = [f"{i % 50},{i / 100:.2f},{'xy'[i % 2]}" for i in range(500)]
    (tmp_path / "fx.csv").write_text("a,f,label\n" + "\n".join(rows) + "\n")
    ds = load_file(data=tmp_path / "fx.csv", label="label", fixed="f=2:0")     # codes 0..3; values reach 4.99
    assert any("--fixed f=2:0:0 clips 100 of 500 rows (20.0 %" in w for w in ds.extra["warnings"])
    fine = load_file(data=tmp_path / "fx.csv", label="label", fixed="f=3:0")
    assert not any("clips" in w for w in fine.extra["warnings"])


def test_a_config_file_with_a_byte_order_mark_is_read(table_files):
    from hcl.evolve.config import load_toml
    assert load_toml(table_files / "bom.toml")["task"] == "tiny"


def test_everything_fitted_sees_the_training_rows_only():
    """Slips: the encoder's thresholds, the evaluator the search selects with, or the trainer's rows taken from
    more than the training split. Changing only the validation and test rows must change none of them."""
    import dataclasses
    from conftest import make_tiny
    from hcl.evolve.problem import Problem
    ds = make_tiny()
    other = dataclasses.replace(ds, X_val=ds.X_val // 3, X_test=np.clip(ds.X_test * 2, 0, 63))
    a, b = Problem(_small(trainer="efd"), dataset=ds), Problem(_small(trainer="efd"), dataset=other)
    assert a.encoder.to_dict() == b.encoder.to_dict()
    for x, y in zip(a.train.trainer_data, b.train.trainer_data):
        assert np.array_equal(x, y)
    net = a.decorate(random_network(np.random.default_rng(3), 4, a.encoder.n_bits, [12, 9], 3))
    assert a.train.full(net).accuracy == pytest.approx(_accuracy(net, ds.X_train, ds.y_train))
    # and the changed rows do reach the splits they belong to
    assert not np.array_equal(a.packed["val"], b.packed["val"])


# ---- integrity by construction: each fitted piece checks the identity of its rows (hcl.splits) ----------------------
def test_each_fitted_piece_refuses_rows_other_than_the_training_splits():
    """Slips: the encoder fitted on train+val; the categories counted or the fixed-point range fitted on every
    row; the trainer, the refits' evaluator or the regrow's sample given the validation rows. Each piece checks
    the rows it is given against the training split's identity and fails loudly, naming itself and the split."""
    from conftest import make_tiny
    from hcl.errors import LeakError
    from hcl.evolve import lamarck
    from hcl.evolve.grow import GrowSample
    from hcl.splits import Split
    from hcl.tasks.columns import fit_categorical, fit_fixed
    from hcl.train import TrainConfig
    ds = make_tiny()
    train, val = ds.identity("train"), ds.identity("val")
    both = np.concatenate([ds.X_train, ds.X_val])
    with pytest.raises(LeakError, match=r"encoder's thresholds was given 480 rows where the train split \(360"):
        Encoder.fit(both, bits=3, input_width=6, split=train)
    with pytest.raises(LeakError, match=r"encoder's thresholds was fitted on the val split \(120 rows\)"):
        Encoder.fit(ds.X_val, bits=3, input_width=6, split=val)
    shuffled = ds.X_train[::-1]            # as many rows, not the split's own
    with pytest.raises(LeakError, match="feature rows that are not its own"):
        Encoder.fit(shuffled, bits=3, input_width=6, split=train)
    assert Encoder.fit(ds.X_train, bits=3, input_width=6, split=train).fitted_on is train
    column = np.array([f"v{i % 9}" for i in range(480)])
    with pytest.raises(LeakError, match="column 'c'.s category counts was given 480 rows"):
        fit_categorical("c", column, column, 32, 2, "t.csv", train)
    assert fit_categorical("c", column, column[:360], 32, 2, "t.csv", train).fitted_on is train
    with pytest.raises(LeakError, match="column 'f'.s fixed-point format was given 480 rows"):
        fit_fixed("f", both[:, 0].astype(float), 8, train)
    with pytest.raises(LeakError, match="fixed-point format was fitted on the val split"):
        fit_fixed("f", ds.X_val[:, 0].astype(float), 8, val)
    enc = Encoder.fit(ds.X_train, bits=3, input_width=6, split=train)
    packed_val = enc.encode_packed(ds.X_val)
    with pytest.raises(LeakError, match=r"search's evaluator .* was given 120 rows where the train split"):
        Evaluator(packed_val, ds.y_val, split=train)
    with pytest.raises(LeakError, match="regrow's sample was given 120 rows"):
        GrowSample(packed_val, ds.y_val, seed=0, split=train)
    ev = Evaluator(enc.encode_packed(ds.X_train), ds.y_train, split=train)
    rows_val = np.ascontiguousarray(Evaluator(packed_val, ds.y_val).rows)
    args = (np.random.default_rng(0), 4, enc.n_bits, [6], 2, list(ds.classes), TrainConfig(epochs=0.01))
    with pytest.raises(LeakError, match="the trainer was given 120 rows"):
        lamarck.train_from_scratch(rows_val, ds.y_val, *args, split=train)
    with pytest.raises(LeakError, match="the trainer was given labels that are not its own"):
        lamarck.train_from_scratch(ev.rows, ds.y_train[::-1].copy(), *args, split=train)
    two = np.concatenate([ev.rows, rows_val]), np.concatenate([ds.y_train, ds.y_val])
    with pytest.raises(LeakError, match="the trainer was given 480 rows"):
        lamarck.train_from_scratch(*two, *args, split=train)
    net, _ = lamarck.train_from_scratch(ev.rows, ev.labels, *args, split=train)
    with pytest.raises(LeakError, match="the trainer was fitted on the val split"):
        lamarck.continue_training(rows_val, ds.y_val, net, 1, TrainConfig(epochs=0.01), split=val)
    with pytest.raises(LeakError, match="rows of no known split"):
        lamarck.continue_training(ev.rows, ev.labels, net, 1, TrainConfig(epochs=0.01), split=None)
    # --augment: the split's rows, then whole copies of them with their labels, are the training split's
    copies = np.concatenate([ev.rows, ev.rows]), np.concatenate([ev.labels, ev.labels])
    lamarck.continue_training(*copies, net, 1, TrainConfig(epochs=0.01), split=train)
    with pytest.raises(LeakError, match="the trainer was given 720 rows"):      # a "copy" with other labels
        lamarck.continue_training(copies[0], np.concatenate([ev.labels, ev.labels[::-1]]), net, 1,
                                  TrainConfig(epochs=0.01), split=train)
    assert issubclass(LeakError, AssertionError) and Split.of("train", ds.y_train).same_rows(train)


def test_a_run_fails_loudly_when_a_piece_is_fitted_on_more_than_the_training_rows(monkeypatch):
    """The same slips made where a run makes them (the encoder given train+val rows in Problem; the trainer given
    the validation rows; --top-categories counting every row): the run stops with the piece and the split named."""
    import dataclasses
    from conftest import make_tiny
    from hcl.errors import LeakError
    from hcl.evolve import evolve
    from hcl.evolve.problem import Problem
    from hcl.splits import Split
    from hcl.tasks import tabular
    ds = make_tiny()
    fit = Encoder.fit.__func__
    with monkeypatch.context() as m:
        m.setattr(Encoder, "fit", classmethod(lambda cls, X, **kw: fit(cls, np.concatenate([X, ds.X_val]), **kw)))
        with pytest.raises(LeakError, match="encoder's thresholds was given 480 rows where the train split"):
            Problem(_small(), dataset=ds)
    problem = Problem(_small(), dataset=ds)
    val_rows = Evaluator(problem.packed["val"], problem.labels["val"]).rows
    with monkeypatch.context() as m:
        m.setattr(Evaluator, "trainer_data", property(lambda self: (val_rows, problem.labels["val"])))
        with pytest.raises(LeakError, match="the trainer was given 120 rows where the train split"):
            evolve(_small(trainer="efd", generations=0, train_epochs=1), dataset=ds, progress=False)
    real = tabular.fit_categorical
    with monkeypatch.context() as m:
        m.setattr(tabular, "fit_categorical", lambda name, vocabulary, train_values, *a: real(name, vocabulary,
                                                                                            vocabulary, *a))
        rows = ["colour,x,label"] + [f"{'abz'[i % 3]},{i % 7},{i % 2}" for i in range(60)]
        with pytest.raises(LeakError, match="column 'colour'.s category counts was given 60 rows"):
            tabular.load_file(data=_csv(rows), label="label", top_categories=1)
    # a data set whose input map records another split than its own training split
    other = dataclasses.replace(ds, extra={"fitted_on": {"input map": ds.identity("val")}})
    with pytest.raises(LeakError, match="input map was fitted on the val split"):
        Problem(_small(), dataset=other)
    # ... or a split called train that holds other rows (as many, other labels)
    other = dataclasses.replace(ds, extra={"fitted_on": {"input map": Split.of("train", ds.y_train[::-1])}})
    with pytest.raises(LeakError, match=r"input map was fitted on rows other than the train split \(360 rows\)"):
        Problem(_small(), dataset=other)


def _csv(rows: list[str]):
    import tempfile
    path = Path(tempfile.mkdtemp()) / "t.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_runs_networks_and_run_json_record_what_each_piece_was_fitted_on(tmp_path):
    """Every network a run writes, and run.json, say which split fitted the input map, the encoder and the
    search's evaluator: the training split, by its row count and the sha256 run.json's ``splits`` gives it."""
    from hcl.evolve import evolve
    rows = ["volts,colour,label"] + [f"{(i % 17) / 7:.3f},{'ab'[i % 2]},{int(i % 17 > 8)}" for i in range(200)]
    ds = load_file(data=_csv(rows), label="label", top_categories=1)
    evolve(_small(generations=1, out=str(tmp_path)), dataset=ds, progress=False)
    run = json.loads((tmp_path / "run.json").read_text())
    fitted = run["fitted_on"]
    assert fitted == {"split": "train", "rows": len(ds.y_train), "sha256": run["splits"]["train"]["sha256"],
                      "pieces": ["encoder", "input map", "search evaluator (trainer, refits, regrow)"]}
    for path in [tmp_path / "best.json", *sorted((tmp_path / "pareto").glob("*.json"))]:
        assert json.loads(path.read_text())["meta"]["fitted_on"] == fitted
