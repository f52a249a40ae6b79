"""The search: reproducible, resumable, within hard limits, and its refit operators do what they claim."""

from pathlib import Path
import json

import numpy as np
import pytest
from click.testing import CliRunner

from hcl import cost
from hcl.cli import main
from hcl.encode import Encoder
from hcl.evolve import EvolveConfig, evolve, resume
from hcl.evolve.fitness import Evaluator, vote_table
from hcl.evolve import operators
from hcl.network import Network, random_network

from conftest import make_tiny


def small(tmp_path=None, **kw) -> EvolveConfig:
    base = dict(task="tiny", k=4, generations=4, population=8, seed=5, layers=[12], group_size=3, bits=3,
                checkpoint_every=2, out=str(tmp_path) if tmp_path else None)
    base.update(kw)
    return EvolveConfig(**base)


def test_same_seed_same_result_different_seed_differs(tmp_path):
    a = evolve(small(tmp_path / "a"), progress=False)
    b = evolve(small(tmp_path / "b"), progress=False)
    c = evolve(small(tmp_path / "c", seed=6), progress=False)
    assert a.best.to_dict()["layers"] == b.best.to_dict()["layers"]
    assert [r["best_train_accuracy"] for r in a.log] == [r["best_train_accuracy"] for r in b.log]
    assert a.best.to_dict()["layers"] != c.best.to_dict()["layers"]


def test_search_learns_the_task(tmp_path):
    result = evolve(small(tmp_path, generations=6), progress=False)
    # 3 balanced classes: chance is ~0.33; the class signal is strong.
    # 3 balanced classes: chance is ~0.33; a random forest gets ~0.82 on this data.
    assert result.val_accuracy > 0.65 and result.test_accuracy > 0.65


def test_resume_equals_uninterrupted_run(tmp_path):
    full = evolve(small(tmp_path / "full", generations=6), progress=False)
    evolve(small(tmp_path / "part", generations=3), progress=False)
    resumed = resume(tmp_path / "part", generations=6, progress=False)
    assert resumed.generations_done == 6
    assert resumed.best.to_dict()["layers"] == full.best.to_dict()["layers"]
    strip = lambda log: [{k: v for k, v in r.items() if k not in ("elapsed_s", "evals_per_s")} for r in log]
    assert strip(resumed.log) == strip(full.log)


def test_run_directory_contents(tmp_path):
    result = evolve(small(tmp_path), progress=False)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"config.toml", "run.json", "log.csv", "checkpoint.json", "best.json", "pareto"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    best = Network.load(tmp_path / "best.json")
    assert best.encoder is not None and best.meta["seed"] == 5
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["status"] == "completed" and run["luts"] == cost.estimate(best)["luts"]
    assert len(list((tmp_path / "pareto").glob("*.json"))) == len(result.pareto)
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert len(lines) == 1 + 4 and lines[0].startswith("generation,")


def test_max_luts_is_a_hard_limit(tmp_path):
    from hcl.evolve.problem import Problem
    from hcl.evolve.start import initial_population
    config = small(generations=8)
    starts = [c.luts for c in initial_population(Problem(config), np.random.default_rng(config.seed))]
    start = max(starts)
    # a fixed topology (--layers and --group-size given) that cannot fit is an error, not a silent change
    with pytest.raises(Exception, match="max-luts"):
        evolve(small(max_luts=min(starts) // 2), progress=False)
    # The budget leaves no room to grow: every network the search returns (and logs) stays within it.
    result = evolve(small(generations=8, max_luts=start), progress=False)
    assert all(cost.estimate(n)["luts"] <= start for n in result.pareto)
    assert max(r["best_luts"] for r in result.log) <= start


def test_open_topology_shrinks_to_fit_the_budget(tmp_path):
    """With --layers and --group-size left open, a budget below the default start shrinks the start, not an error."""
    from hcl.evolve.problem import Problem
    from hcl.evolve.start import initial_population
    config = small(generations=3, layers=None, group_size=None)
    start = min(c.luts for c in initial_population(Problem(config), np.random.default_rng(config.seed)))
    budget = start * 2 // 3
    result = evolve(small(tmp_path, generations=3, layers=None, group_size=None, max_luts=budget), progress=False)
    assert result.cost["luts"] <= budget
    assert all(cost.estimate(n)["luts"] <= budget for n in result.pareto)
    assert max(r["best_luts"] for r in result.log) <= budget


def test_time_limit_without_generations_runs_until_the_limit(tmp_path):
    result = CliRunner().invoke(main, ["evolve", "--task", "digits", "--luts", "6", "--layers", "0", "--group-size",
                                       "2", "--population", "4", "--time-limit", "4", "--out", str(tmp_path),
                                       "--quiet"])
    assert result.exit_code == 0, result.output
    assert "time-limit after" in result.output
    # Not the default 40 generations: the run's own config says "until the time limit" (a count of generations
    # done in 4 s would depend on the machine's load).
    from hcl.evolve.config import UNTIL_TIME_LIMIT, load_toml
    assert load_toml(tmp_path / "config.toml")["generations"] == UNTIL_TIME_LIMIT
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "time-limit"


def _problem_parts(seed=0):
    ds = make_tiny(seed)
    enc = Encoder.fit(ds.X_train, bits=3, input_width=6)
    ev = Evaluator(enc.encode_packed(ds.X_train), ds.y_train)
    net = random_network(np.random.default_rng(seed), 4, enc.n_bits, [10, 6], 3)
    return ev, net


def test_exact_refit_never_lowers_training_accuracy():
    ev, net = _problem_parts()
    state = ev.full(net)
    for lut in range(net.n_luts):
        after = ev.refit(state, lut, "exact")
        assert after.accuracy >= state.accuracy
        state = after
    # And the result agrees with a from-scratch evaluation (delta evaluation is exact).
    assert np.array_equal(ev.full(state.net).correct, state.correct)


def test_vote_table_fires_where_class_is_over_represented():
    address = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3])
    labels = np.array([1, 1, 0, 0, 0, 1, 0, 0, 1])
    table = vote_table(address, labels, 2, 2, target=1)
    # P(1) = 4/9; address 0: 2/3 > 4/9 fires; 1: 0; 2: 1/3 no; 3: 1 fires.
    assert table == 0b1001


def test_rewire_changes_exactly_one_input_and_asks_refit_of_it_and_readers():
    rng = np.random.default_rng(2)
    net = random_network(rng, 4, 20, [8, 6], 3)
    child, changed, refit = operators.rewire(rng, net)
    diffs = [(l, i) for l in range(2) for i in range(net.layer_sizes[l])
             if (child.wiring[l][i] != net.wiring[l][i]).any()]
    assert len(diffs) == 1 and changed.sum() == 1
    assert refit[0] == int(np.flatnonzero(changed)[0])


def test_crossover_flags_every_lut_that_differs_from_first_parent():
    rng = np.random.default_rng(4)
    a = random_network(rng, 4, 20, [8, 6], 3)
    b = random_network(rng, 4, 20, [8, 6], 3)
    child, changed, _ = operators.lut_crossover(rng, a, b)
    wa, ta, _ = a.flat()
    wc, tc, _ = child.flat()
    assert np.array_equal(changed, (wa != wc).any(axis=1) | (ta != tc))


def test_cli_bad_options_are_one_line_errors(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["evolve", "--task", "nosuch", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "unknown task 'nosuch'" in r.output
    r = runner.invoke(main, ["evolve", "--luts", "7"])
    assert r.exit_code == 2 and "--luts" in r.output
    toml = tmp_path / "bad.toml"
    toml.write_text("[evolve]\npopulaton = 3\n")
    r = runner.invoke(main, ["evolve", "--config", str(toml)])
    assert r.exit_code == 2 and "unknown option 'populaton'" in r.output
    toml.write_text("[evolve\n")
    r = runner.invoke(main, ["evolve", "--config", str(toml)])
    assert r.exit_code == 2 and "not valid TOML" in r.output
    r = runner.invoke(main, ["evolve", "--resume", str(tmp_path)])
    assert r.exit_code == 2 and "checkpoint" in r.output


def test_cli_config_file_and_flags(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('[evolve]\ntask = "tiny"\nk = 4\ngenerations = 2\npopulation = 8\nlayers = [10]\n'
                    'group-size = 2\nseed = 3\n')
    r = CliRunner().invoke(main, ["evolve", "--config", str(toml), "--generations", "3", "--quiet",
                                  "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    assert "after 3 generations" in r.output
    saved = (tmp_path / "run" / "config.toml").read_text()
    assert "generations = 3" in saved and "seed = 3" in saved
    info = CliRunner().invoke(main, ["info", str(tmp_path / "run" / "best.json"), "--task", "tiny", "--json"])
    d = json.loads(info.output)
    assert {"luts", "depth", "accuracy"} <= set(d) and 0 <= d["accuracy"] <= 1


@pytest.mark.parametrize("op", ["remove_lut", "add_lut", "shrink_group", "grow_group"])
def test_topology_operators_give_valid_networks_and_refit_targets(op):
    rng = np.random.default_rng(7)
    for _ in range(20):
        net = random_network(rng, 4, 20, [8, 6], 3)
        child, changed, refit = getattr(operators, op)(rng, net)
        child.validate()
        assert changed is None or not changed.any()
        assert all(0 <= r < child.n_luts for r in refit)
        delta = child.n_luts - net.n_luts
        assert delta == {"remove_lut": -1, "add_lut": 1, "shrink_group": -1, "grow_group": 1}[op]


def test_pruning_removes_dead_luts_and_keeps_outputs():
    rng = np.random.default_rng(8)
    net = random_network(rng, 2, 10, [6, 2], 2)
    net.wiring[1][:] = [[0, 1], [1, 0]]          # hidden LUTs 2..5 feed nothing
    pruned, kept = net.pruned()
    assert pruned.layer_sizes == [2, 2] and kept.tolist() == [0, 1, 6, 7]
    bits = rng.random((100, 10)) < 0.5
    from hcl import reference
    assert np.array_equal(reference.class_scores(pruned, bits), reference.class_scores(net, bits))
    assert net.live_inputs().sum() <= 4


def test_output_refit_shortcut_equals_full_evaluation():
    ev, net = _problem_parts(1)
    state = ev.full(net)
    for lut in range(net.n_luts - net.layer_sizes[-1], net.n_luts):
        state = ev.refit(state, lut, "exact")
        again = ev.full(state.net)
        # Padding bits past the last sample may differ (never scored); every real sample must agree.
        from hcl.encode import unpack_bits
        assert np.array_equal(unpack_bits(again.sig, ev.n_samples), unpack_bits(state.sig, ev.n_samples))
        assert np.array_equal(again.scores, state.scores) and np.array_equal(again.correct, state.correct)


def test_ctrl_c_writes_checkpoint_and_results_then_resume_continues(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "hcl.cli", "evolve", "--task", "sipm", "--generations", "100000", "--population",
           "8", "--layers", "12", "--group-size", "3", "--checkpoint-every", "1", "--quiet", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not (out / "checkpoint.json").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert (out / "checkpoint.json").exists(), proc.communicate()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr
    run = json.loads((out / "run.json").read_text())
    checkpoint = json.loads((out / "checkpoint.json").read_text())
    assert run["status"] == "interrupted" and checkpoint["generation"] == run["generations_done"] >= 1
    Network.load(out / "best.json")
    done = run["generations_done"]
    for flag, value in [("--task", "digits"), ("--seed", "3"), ("--max-luts", "10"), ("--out", str(out))]:
        refused = CliRunner().invoke(main, ["evolve", "--resume", str(out), flag, value])
        assert refused.exit_code == 2 and f"{flag} cannot change" in refused.output, refused.output
    resumed = CliRunner().invoke(main, ["evolve", "--resume", str(out), "--generations", str(done + 2), "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    assert f"after {done + 2} generations" in resumed.output


def test_config_round_trips_through_toml_for_resume(tmp_path):
    from hcl.evolve.config import load_toml, to_toml
    cfg = small(threshold_bits=0, operators={"rewire": 1.0}, task_options={"n": 300}, time_limit=5.0)
    path = tmp_path / "c.toml"
    path.write_text(to_toml(cfg.to_dict()))
    assert EvolveConfig.from_dict(load_toml(path)) == cfg


def test_delta_scores_equal_full_evaluation_for_random_children():
    ev, net = _problem_parts(2)
    rng = np.random.default_rng(0)
    state = ev.full(net)
    for _ in range(30):
        op = [operators.rewire, operators.flip_table_bits][int(rng.integers(2))]
        child, changed, _ = op(rng, state.net)
        state = ev.delta(state, child, changed)
        full = ev.full(child)
        assert np.array_equal(full.scores, state.scores) and np.array_equal(full.correct, state.correct)


def test_refit_none_is_a_plain_ga(tmp_path, monkeypatch):
    """--refit none: no table is fitted from data, neither at the start nor after a change."""
    def no_fitting(*args, **kwargs):
        raise AssertionError("a table was fitted under --refit none")
    for name in ("refit", "fit_layerwise", "refit_vote", "refit_table"):
        monkeypatch.setattr(Evaluator, name, no_fitting)
    result = evolve(small(tmp_path, refit="none"), progress=False)
    assert result.generations_done == 4


def test_a_second_run_on_a_folder_in_use_is_refused_and_changes_nothing(tmp_path):
    from hcl.evolve.run import run_folder_lock
    out = tmp_path / "run"
    out.mkdir()
    (out / "best.json").write_text("the first run's")
    with run_folder_lock(out):                        # the first run, still writing
        r = CliRunner().invoke(main, ["evolve", "--task", "sipm", "--generations", "1", "--population", "4",
                                      "--out", str(out), "--overwrite"])
    assert r.exit_code == 2 and "another hcl evolve is writing this folder" in r.output
    assert (out / "best.json").read_text() == "the first run's" and not (out / "config.toml").exists()
    r = CliRunner().invoke(main, ["evolve", "--task", "sipm", "--generations", "1", "--population", "4",
                                  "--out", str(out), "--overwrite"])
    assert r.exit_code == 0, r.output                 # released when the first run ends


def test_a_killed_writes_temporary_file_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "run"
    (out / "pareto").mkdir(parents=True)
    stale = [out / ".checkpoint.json.k1ll3d.tmp", out / "pareto" / ".000.json.x.tmp"]
    for f in stale:
        f.write_text("{")
    r = CliRunner().invoke(main, ["evolve", "--task", "sipm", "--generations", "1", "--population", "4",
                                  "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert not any(f.exists() for f in stale) and (out / "checkpoint.json").is_file()


def test_a_generation_without_a_fitting_child_keeps_its_parents_and_ends(monkeypatch):
    from hcl.evolve import search
    from hcl.evolve.problem import Problem
    start = search.initial_population

    def start_then_nothing_fits(problem, rng, executor=None):
        pop = start(problem, rng, executor)
        monkeypatch.setattr(search, "within_limits", lambda config, cand: False)
        return pop

    monkeypatch.setattr(search, "initial_population", start_then_nothing_fits)
    config = EvolveConfig(task="sipm", generations=2, population=4, seed=0)
    problem = Problem(config)
    state, stopped = search.run_search(problem)
    assert stopped == "completed" and state.generation == 2
    assert len(state.population) == 4


@pytest.mark.parametrize("args, needle", [
    (["evolve", "--task", "sipm", "--seed", "-1"], "--seed"),
    (["info", "x.json", "--seed", "-1"], "--seed"),
    (["evolve", "--task", "sipm", "--layers", "1000000000"], "exceed 200,000"),
    (["evolve", "--task", "sipm", "--group-size", "100000"], "--group-size"),
    (["evolve", "--task", "sipm", "--threshold-bits", "99"], "--threshold-bits: must be 0..64"),
    (["evolve", "--task", "sipm", "--population", str(10**12)], "--population: must be 4..100,000"),
    (["evolve", "--task", "sipm", "--bits", "5000"], "--bits: must be 1..4,096"),
    (["evolve", "--task", "sipm", "--generations", str(10**7)], "--generations: must be 0..1,000,000"),
    (["evolve", "--task", "digits", "--data", "x.csv"], "task 'digits' reads no files"),
    (["info", str(Path(__file__).parents[1] / "examples" / "sipm_k6.json"), "--task", "sipm", "--data", "x.csv"], "task 'sipm' reads no files"),
])
def test_sizes_and_seeds_out_of_range_are_refused_before_any_work(args, needle):
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2 and needle in r.output, r.output


def test_a_config_seed_out_of_range_names_it():
    with pytest.raises(Exception, match="--seed"):
        EvolveConfig(task="sipm", seed=-5).validate()


@pytest.mark.parametrize("body, needle", [
    ('k = "6"', 'k = \'6\': expected an integer'),
    ('generations = "10"', "generations = '10': expected an integer"),
    ("generations = 2.5", "generations = 2.5: expected an integer"),
    ("layers = 5", "layers = 5: expected a list of integers"),
    ("executor = 5", "executor = 5: expected a string"),
    ('operators = {regrow = "x"}', "expected a table of finite numbers"),
    ("out = 5", "out = 5: expected a string"),
    ("time_limit = nan", "time_limit = nan: expected a finite number"),
    ("seed = true", "seed = True: expected an integer"),
])
def test_wrongly_typed_config_values_name_the_key_and_the_file(tmp_path, body, needle):
    toml = tmp_path / "run.toml"
    toml.write_text(f"[evolve]\n{body}\n")
    r = CliRunner().invoke(main, ["evolve", "--config", str(toml)])
    assert r.exit_code == 2 and needle in r.output and str(toml) in r.output, r.output


def test_unreadable_configs_are_one_line_errors(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_bytes(b"\xff\xfe[evolve]\n")
    r = CliRunner().invoke(main, ["evolve", "--config", str(toml)])
    assert r.exit_code == 2 and "UTF-8" in r.output
    toml.write_text("evolve = 5\n")
    r = CliRunner().invoke(main, ["evolve", "--config", str(toml)])
    assert r.exit_code == 2 and "[evolve] must be a table" in r.output


def test_an_out_folder_under_a_regular_file_is_a_one_line_error(tmp_path):
    (tmp_path / "file").write_text("keep me")
    r = CliRunner().invoke(main, ["evolve", "--task", "sipm", "--generations", "1", "--out",
                                  str(tmp_path / "file" / "run")])
    assert r.exit_code == 2 and "file/run" in r.output and "Not a directory" in r.output, r.output
    assert (tmp_path / "file").read_text() == "keep me"
