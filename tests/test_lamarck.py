"""The search with trained tables (--trainer efd): limits hold, resume and executors give the same run, children
inherit their parent's training, and bad options are one-line errors."""

import numpy as np
import pytest
from click.testing import CliRunner

from hcl import cost
from hcl.cli import main
from hcl.evolve import EvolveConfig, evolve, resume
from hcl.evolve import lamarck
from hcl.evolve.problem import Problem
from hcl.network import Network


def trained(tmp_path=None, **kw) -> EvolveConfig:
    base = dict(task="tiny", k=4, generations=4, population=6, seed=3, layers=[12], group_size=4, bits=3,
                trainer="efd", train_epochs=20, tune_steps=20, checkpoint_every=2,
                out=str(tmp_path) if tmp_path else None)
    base.update(kw)
    return EvolveConfig(**base)


def test_trained_search_learns_and_keeps_the_limit(tmp_path):
    result = evolve(trained(tmp_path, max_luts=60, layers=None, group_size=None), progress=False)
    assert result.val_accuracy > 0.65 and result.test_accuracy > 0.65
    for path in sorted((tmp_path / "pareto").glob("*.json")) + [tmp_path / "best.json"]:
        assert cost.estimate(Network.load(path))["luts"] <= 60


def test_a_budget_no_topology_fits_is_a_config_error():
    from hcl.errors import ConfigError
    with pytest.raises(ConfigError, match="max-luts"):
        evolve(trained(max_luts=3, layers=None, group_size=None), progress=False)


def test_trained_resume_equals_uninterrupted_run(tmp_path):
    full = evolve(trained(tmp_path / "full"), progress=False)
    evolve(trained(tmp_path / "part", generations=2), progress=False)
    resumed = resume(tmp_path / "part", generations=4, progress=False)
    assert resumed.best.to_dict()["layers"] == full.best.to_dict()["layers"]
    strip = lambda log: [{k: v for k, v in r.items() if k not in ("elapsed_s", "evals_per_s")} for r in log]
    assert strip(resumed.log) == strip(full.log)


def test_children_continue_their_parents_training():
    """A child trained on from its parent starts where the parent stands, not from scratch: after a few steps
    it is much closer to the parent's accuracy than a freshly trained network after the same steps."""
    problem = Problem(trained())
    ev = problem.train
    parent, _ = lamarck.train_from_scratch(ev.rows, ev.labels, np.random.default_rng(0), 4, problem.encoder.n_bits,
                                        [12], 4, problem.classes, lamarck.start_config(problem.config, ev.n_samples),
                                        split=ev.split)
    tune = lamarck.tune_config(trained(tune_steps=5), ev.n_samples)
    child = lamarck.continue_training(ev.rows, ev.labels, problem.decorate(parent), 1, tune, split=ev.split)
    fresh, _ = lamarck.train_from_scratch(ev.rows, ev.labels, np.random.default_rng(1), 4, problem.encoder.n_bits,
                                       [12], 4, problem.classes, tune, split=ev.split)
    acc = lambda n: ev.full(n).accuracy
    assert acc(child) > acc(fresh) + 0.1
    assert acc(child) > acc(parent) - 0.1
    assert child.encoder == problem.decorate(parent).encoder


def test_trained_dask_run_equals_local():
    pytest.importorskip("dask.distributed", reason="dask.distributed not installed: pip install 'hcl[cluster]'")
    local = evolve(trained(generations=2), progress=False)
    dask = evolve(trained(generations=2, executor="dask-local:2"), progress=False)
    assert dask.best.to_dict()["layers"] == local.best.to_dict()["layers"]


@pytest.mark.parametrize("args,needle", [(["--trainer", "sgd"], "--trainer"),
                                         (["--trainer", "efd", "--tune-steps", "0"], "--tune-steps"),
                                         (["--trainer", "efd", "--train-epochs", "-1"], "--train-epochs"),
                                         (["--trainer", "efd", "--executor", "dask-local:2/samples"], "/samples")])
def test_bad_trainer_options_are_one_line_errors(tmp_path, args, needle):
    r = CliRunner().invoke(main, ["evolve", "--task", "tiny", "--out", str(tmp_path / "x"), "--quiet"] + args)
    assert r.exit_code == 2, r.output
    assert needle in r.output and "Traceback" not in r.output


def test_every_child_is_trained_with_the_seed_its_proposer_drew():
    from hcl.evolve.jobs import evaluate_job, propose
    from hcl.evolve.start import initial_population
    problem = Problem(trained(tune_steps=80))
    rng = np.random.default_rng(0)
    pop = initial_population(problem, rng)
    job = propose(problem, rng, pop)
    assert job.seed is not None
    tuned = evaluate_job(problem.train, job, "none", problem.tuning).net
    expect = lamarck.continue_training(problem.train.rows, problem.train.labels, job.child, job.seed,
                                       problem.tuning, split=problem.train.split).pruned()[0]
    assert tuned.to_dict() == expect.to_dict()
    assert tuned.to_dict()["layers"] != job.child.pruned()[0].to_dict()["layers"]


def test_children_over_the_limit_are_never_kept(tmp_path):
    """add_lut / grow_group children of a start that nearly fills the budget go over it: none may survive."""
    cfg = trained(tmp_path, generations=10, operators={"add_lut": 1.0, "grow_group": 1.0})
    start = evolve(trained(generations=1, operators={"add_lut": 1.0}), progress=False).cost["luts"]
    result = evolve(trained(tmp_path, generations=10, operators={"add_lut": 1.0, "grow_group": 1.0},
                            max_luts=start + 2), progress=False)
    for path in sorted((tmp_path / "pareto").glob("*.json")):
        assert cost.estimate(Network.load(path))["luts"] <= start + 2
    assert cfg.max_luts is None


def test_the_trainer_default_is_the_tasks_and_a_flag_wins():
    assert EvolveConfig(task="mnist").validate().trainer == "efd"
    assert EvolveConfig(task="digits").validate().trainer == "none"
    assert EvolveConfig(task="mnist", trainer="none").validate().trainer == "none"


def test_a_trained_start_over_the_limit_falls_back_to_a_smaller_topology(monkeypatch):
    # A probe that prices 3 comparators only: the first topology it fits to 300 LUTs reads many more once trained.
    monkeypatch.setattr(lamarck, "informative_inputs", lambda rows: np.arange(3))
    starts = []
    train = lamarck.train_from_scratch
    monkeypatch.setattr(lamarck, "train_from_scratch", lambda *a, **kw: starts.append(a[5]) or train(*a, **kw))
    result = evolve(EvolveConfig(task="digits", trainer="efd", max_luts=300, generations=0, seed=0,
                                 train_epochs=1), progress=False)
    assert len(starts) >= 2 and sum(starts[-1]) < sum(starts[0])
    assert result.cost["luts"] <= 300


def test_the_sizing_probe_is_wired_as_the_trainer_wires():
    inputs = np.array([3, 5, 7, 9])
    probe = lamarck.sizing_probe(np.random.default_rng(0), 6, inputs, 20, [30], 2, ["a", "b", "c"])
    assert set(probe.wiring[0].ravel().tolist()) == set(inputs.tolist())
    assert probe.pruned()[0].layer_sizes == [30, 6]            # every hidden LUT is read, as after training
    assert cost.estimate(probe)["luts_network"] == 36


def test_informative_inputs_leave_out_bits_almost_always_0_or_1():
    n = 1000
    bits = np.zeros((n, 5), dtype=np.uint8)
    bits[:10, 1] = 1             # 1 %: rare
    bits[:500, 2] = 1            # 50 %
    bits[:995, 3] = 1            # 99.5 %: almost always 1
    bits[:50, 4] = 1             # 5 %
    assert lamarck.informative_inputs(bits).tolist() == [2, 4]


@pytest.mark.parametrize("epochs, refit_wins", [(5, True), (100, False)])
def test_a_trained_start_keeps_its_output_refit_only_if_validation_does_not_drop(epochs, refit_wins):
    """Underfit (5 epochs), the refit lifts validation accuracy and is kept; overfit (100 epochs), it lowers it and the
    trained tables stay."""
    from hcl.evolve.start import _refit_unless_overfitting
    from hcl.train import TrainConfig
    problem = Problem(trained())
    ev = problem.train
    net, _ = lamarck.train_from_scratch(ev.rows, ev.labels, np.random.default_rng(0), 4, problem.encoder.n_bits, [12],
                                     4, problem.classes, TrainConfig(epochs=epochs), split=ev.split)
    raw = ev.full(problem.decorate(net))
    refit = ev.refit_outputs(raw)
    val = lambda e: problem.accuracy(e.net, "val")
    assert (val(refit) > val(raw)) == refit_wins                  # the case is what it claims to be
    kept = _refit_unless_overfitting(problem, raw)
    assert kept.net.to_dict() == (refit if refit_wins else raw).net.to_dict()


def test_default_training_counts_steps_on_small_data_and_epochs_on_large():
    """With a --time-limit that affords it, a start trains max(30 epochs, LONG_STEPS steps): small data (digits'
    ~1,000 rows are 33 steps an epoch) trains LONG_STEPS steps, MNIST-size data 30 epochs; without a limit, the
    MIN_DEFAULT_STEPS floor."""
    from types import SimpleNamespace
    config = SimpleNamespace(train_epochs=None, train_batch=32, train_lr=1e-2, time_limit=3600.0)
    small = lamarck.start_config(config, 1_078, n_luts=100)
    assert small.epochs * (1_078 // 32) == pytest.approx(lamarck.LONG_STEPS, rel=0.01)
    large = lamarck.start_config(config, 225_000, n_luts=100)
    assert large.epochs == lamarck.MAX_DEFAULT_EPOCHS
    quick = lamarck.start_config(SimpleNamespace(**{**vars(config), "time_limit": None}), 1_078, n_luts=100)
    assert quick.epochs * (1_078 // 32) == pytest.approx(lamarck.MIN_DEFAULT_STEPS, rel=0.01)


def test_front_starts_train_a_network_within_each_share_of_the_budget(tmp_path):
    """Beside the start, `front_starts` networks are trained from scratch at budgets spread evenly below --max-luts
    (3/4, 1/2, 1/4 of it), so the front a run returns spans the budget; with 0, every member is the start."""
    from hcl.evolve.start import initial_population
    config = trained(max_luts=160, layers=None, group_size=None, population=6).validate()
    assert config.front_starts == 3
    pop = initial_population(Problem(config), np.random.default_rng(0))
    start = pop[0]
    budgets = [b for b in (120, 80, 40) if b < start.luts]   # a budget the start already meets needs no network
    front = [m for m in pop if m.ev is not start.ev]
    assert len(budgets) >= 2 and len(front) == len(budgets)
    for member, budget in zip(front, budgets):
        assert member.luts <= budget and member.ev.net.layer_sizes != start.ev.net.layer_sizes
    assert pop[1:1 + len(front)] == front
    alone = initial_population(Problem(trained(max_luts=160, layers=None, group_size=None, population=6,
                                               front_starts=0).validate()), np.random.default_rng(0))
    assert all(m.ev is alone[0].ev for m in alone)
    result = evolve(trained(tmp_path, max_luts=160, layers=None, group_size=None, generations=1), progress=False)
    assert min(n.meta["cost"]["luts"] for n in result.pareto) <= 40
    assert all(n.meta["cost"]["luts"] <= 160 for n in result.pareto)


def test_front_starts_plan_their_training_together_on_their_share_of_the_time_limit(monkeypatch):
    """With --time-limit, the front starts' epochs x LUTs at the planned trainer speed add up to at most
    FRONT_SHARE of the limit (the start alone plans on START_SHARE)."""
    from hcl.evolve import start as start_module
    seen = []
    real = lamarck.train_from_scratch

    def spy(rows, labels, rng, k, n_inputs, hidden, group, classes, train, *, split):
        seen.append((sum(hidden) + group * len(classes), train.epochs, len(labels)))
        return real(rows, labels, rng, k, n_inputs, hidden, group, classes, train, split=split)

    monkeypatch.setattr(lamarck, "train_from_scratch", spy)
    limit = 20.0   # seconds: between the 4,000-step floor and the cap for these small networks
    config = trained(max_luts=160, layers=None, group_size=None, population=6, train_epochs=None,
                     time_limit=limit).validate()
    start_module.initial_population(Problem(config), np.random.default_rng(0))
    assert len(seen) == 4
    spent = [luts * epochs * n * lamarck.SECONDS_PER_SAMPLE_LUT for luts, epochs, n in seen]
    assert spent[0] <= lamarck.START_SHARE * limit * 1.01
    assert sum(spent[1:]) <= lamarck.FRONT_SHARE * limit * 1.01
    assert sum(spent[1:]) > 0.5 * lamarck.FRONT_SHARE * limit


def test_the_start_rule_reads_at_most_its_hidden_luts_per_output_lut():
    """Without --layers, every shape the trained start may take has one hidden layer of at most
    MAX_HIDDEN_PER_OUTPUT LUTs per output LUT, and the rule offers that ratio for every group size."""
    from hcl.evolve.start import MAX_HIDDEN_PER_OUTPUT, trained_topologies
    problem = Problem(trained(layers=None, group_size=None, k=6).validate())
    shapes = trained_topologies(problem)
    n_classes = len(problem.classes)
    assert all(len(h) == 1 and h[0] <= MAX_HIDDEN_PER_OUTPUT * g * n_classes for h, g in shapes)
    assert {g for h, g in shapes if h[0] == MAX_HIDDEN_PER_OUTPUT * g * n_classes} == {g for _, g in shapes}


def test_front_starts_stop_when_the_clock_passes_their_share_of_the_time_limit():
    """On a machine slower than the trainer's calibration the planned front starts would overrun --time-limit: once
    the clock passes the start's and the front starts' shares, no further front start is trained (and the log says
    so); with time left, all are."""
    import time
    from hcl.evolve.start import initial_population
    config = trained(max_luts=160, layers=None, group_size=None, population=6, time_limit=1000.0).validate()
    late = Problem(config)
    late.t_start = time.monotonic() - 0.9 * 1000.0
    pop = initial_population(late, np.random.default_rng(0))
    assert all(m.ev is pop[0].ev for m in pop)
    assert any("front starts" in note and "not trained" in note for note in late.notes)
    early = Problem(config)
    early.t_start = time.monotonic()
    assert len({id(m.ev) for m in initial_population(early, np.random.default_rng(0))}) >= 3


def test_a_start_trains_against_the_clock_left_of_its_share_of_the_time_limit(monkeypatch):
    """The start's epochs are planned at the calibrated trainer speed; a slower machine must not overrun
    --time-limit with them (MNIST 1,000 on a loaded machine: 44 minutes for 30). Each trained start gets the time
    left until the start's and the front starts' shares have passed as its training's limit (at least
    MIN_TRAINING_SHARE of --time-limit: a start must exist), and the log says when the clock cut one."""
    import time
    from hcl.evolve import start as start_module
    limits, real = [], lamarck.train_from_scratch

    def spy(*args, **kw):
        limits.append(args[8].time_limit)
        return real(*args, **kw)

    monkeypatch.setattr(lamarck, "train_from_scratch", spy)
    limit = 40.0
    config = trained(max_luts=160, layers=None, group_size=None, population=6, train_epochs=None,
                     time_limit=limit).validate()
    share = lamarck.START_SHARE + lamarck.FRONT_SHARE
    early = Problem(config)
    early.t_start = time.monotonic()
    start_module.initial_population(early, np.random.default_rng(0))
    assert limits[0] == pytest.approx(share * limit, abs=2.0)
    assert all(b <= a + 1e-9 for a, b in zip(limits, limits[1:]))      # the front starts share the same deadline
    limits.clear()
    late = Problem(config)
    late.t_start = time.monotonic() - share * limit
    start_module.initial_population(late, np.random.default_rng(0))
    assert limits == [pytest.approx(start_module.MIN_TRAINING_SHARE * limit)]


def test_a_start_the_clock_cuts_is_logged(monkeypatch):
    from hcl.evolve import start as start_module
    from hcl.train import TrainLog
    real = lamarck.train_from_scratch

    def slow_machine(*args, **kw):
        net, log = real(*args, **kw)
        return net, TrainLog(log.epochs / 2, log.steps // 2, log.seconds, log.cpu_seconds, log.losses, log.steps)

    monkeypatch.setattr(lamarck, "train_from_scratch", slow_machine)
    problem = Problem(trained(max_luts=160, layers=None, group_size=None, population=6, front_starts=0,
                              time_limit=40.0).validate())
    start_module.initial_population(problem, np.random.default_rng(0))
    assert any(note.startswith("the clock cut the training of") for note in problem.notes)
