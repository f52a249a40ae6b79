"""The architecture search (--arch-search, hcl.evolve.archsearch): members trained at rising fidelity, promotion by
the documented rule, promoted members continue their own training, rank rows never trained on, limits on every
returned network, the same run on every executor and after a resume, and one-line errors."""

import numpy as np
import pytest
from click.testing import CliRunner

from hcl import cost
from hcl.cli import main
from hcl.errors import ConfigError
from hcl.evolve import EvolveConfig, archsearch, evolve, resume
from hcl.evolve.archsearch import Arch, Member
from hcl.evolve.executors import LocalExecutor
from hcl.evolve.problem import Problem
from hcl.network import Network


def config(tmp_path=None, **kw) -> EvolveConfig:
    base = dict(task="tiny", k=4, generations=2, population=6, seed=5, bits=3, trainer="efd", train_epochs=40,
                tune_steps=10, arch_search=True, arch_population=4, arch_generations=1, max_luts=60,
                checkpoint_every=1, out=str(tmp_path) if tmp_path else None)
    base.update(kw)
    return EvolveConfig(**base)


def fake(acc: float, luts: int) -> Member:
    return Member(Arch((luts,), 1), None, 1.0, None, acc, luts, 3)


def test_promotion_is_the_nsga2_order_of_the_members_above_a_quarter_budget():
    a, b, c, d, small = fake(0.90, 100), fake(0.80, 50), fake(0.85, 120), fake(0.95, 200), fake(0.70, 10)
    # Pool above 25 LUTs: a, b, c, d. First front {b, a, d} (c is dominated by a); ceil(4 / 2) = 2 promoted: the
    # front's extremes b and d (infinite crowding distance) before a.
    promoted = archsearch.promote([a, b, c, d, small], low=25)
    assert archsearch.ETA == 2
    assert {id(m) for m in promoted} == {id(b), id(d)}
    # Without a member above `low`, the whole pool is promoted from.
    assert len(archsearch.promote([small, fake(0.6, 12)], low=25)) == 1


def test_nsga2_order_puts_dominated_members_last():
    a, b, c = fake(0.9, 100), fake(0.8, 100), fake(0.95, 50)       # c dominates a, a dominates b
    assert [id(m) for m in archsearch.nsga2_order([b, a, c])] == [id(c), id(a), id(b)]


@pytest.fixture(scope="module")
def searched():
    problem = Problem(config())
    calls = []
    real = LocalExecutor.train

    class Recording(LocalExecutor):
        def train(self, rows, labels, tasks):
            calls.append([(t.arch, t.model, t.epochs) for t in tasks])
            return real(self, rows, labels, tasks)

    members, summary = archsearch.search(problem, np.random.default_rng(5), Recording())
    return problem, members, summary, calls


def test_fidelity_rises_by_eta_per_rung_and_promoted_members_train_on(searched):
    problem, members, summary, calls = searched
    E = summary["full_epochs"]
    assert E == pytest.approx(40.0)                  # --train-epochs sets the full fidelity
    rung0 = [job for batch in calls[:-archsearch.RUNGS] for job in batch]
    assert all(model is None and epochs == pytest.approx(E / archsearch.ETA ** archsearch.RUNGS)
               for _, model, epochs in rung0)
    for r, batch in enumerate(calls[-archsearch.RUNGS:], start=1):
        # Lamarckian promotion: each promoted member continues its own float model, for the epochs it lacks.
        assert batch and all(model is not None for _, model, _ in batch)
        done = E / archsearch.ETA ** (archsearch.RUNGS - r + 1)
        assert all(epochs == pytest.approx(E / archsearch.ETA ** (archsearch.RUNGS - r) - done)
                   for _, _, epochs in batch)
    assert all(m.epochs in (pytest.approx(E), pytest.approx(E / archsearch.ETA)) for m in members)


def test_every_member_meets_the_limits_and_differs_in_architecture(searched):
    problem, members, _, _ = searched
    assert members
    for m in members:
        c = cost.estimate(m.net)
        assert (c["luts"], c["depth"]) == (m.luts, m.depth) and m.luts <= 60


def test_members_over_the_limits_are_dropped_at_every_rung(monkeypatch):
    """The learned mapping chooses its own inputs, so a member can outgrow the budget as it trains on: one that
    does at rung 0 or at full fidelity is never returned."""
    problem = Problem(config())
    real = archsearch._member
    inflated = []

    def outgrowing(problem, data, arch, model, epochs):
        m = real(problem, data, arch, model, epochs)
        first_at_rung0 = epochs < 40 / archsearch.ETA ** archsearch.RUNGS + 1e-9 and not inflated
        first_at_full = epochs == pytest.approx(40) and not any(e == pytest.approx(40) for e, _ in inflated)
        if first_at_rung0 or first_at_full:
            inflated.append((epochs, arch))
            m.luts = 10_000
        return m

    monkeypatch.setattr(archsearch, "_member", outgrowing)
    members, _ = archsearch.search(problem, np.random.default_rng(5), LocalExecutor())
    assert len(inflated) == 2
    assert members and all(m.luts <= 60 for m in members)


def test_a_member_that_scores_lower_after_training_on_keeps_its_earlier_snapshot(monkeypatch):
    problem = Problem(config())
    real = archsearch._member

    def overfitting(problem, data, arch, model, epochs):
        m = real(problem, data, arch, model, epochs)
        if epochs == pytest.approx(40):              # full fidelity scores lower on the rank rows than rung 1
            m.rank_accuracy = 0.0
        return m

    monkeypatch.setattr(archsearch, "_member", overfitting)
    members, _ = archsearch.search(problem, np.random.default_rng(5), LocalExecutor())
    assert members and all(m.epochs == pytest.approx(40 / archsearch.ETA) and m.rank_accuracy > 0 for m in members)


def test_a_budget_no_architecture_meets_is_a_config_error():
    with pytest.raises(ConfigError, match="no architecture fits between 0 and 3 LUTs"):
        archsearch.search(Problem(config(max_luts=3)), np.random.default_rng(0), LocalExecutor())


def test_rank_rows_are_held_out_of_training_with_their_shifted_copies():
    """digits with --augment shift: the search trains on the kept rows and their shifted copies only."""
    from hcl import augment
    problem = Problem(EvolveConfig(task="digits", trainer="efd", augment="shift", arch_search=True, seed=2))
    data = archsearch.SearchData(problem)
    X, y = problem.dataset.X_train, problem.labels["train"]
    keep = np.setdiff1d(np.arange(len(y)), data.rank_index)
    assert len(data.rank_index) == len(data.rank_labels) >= archsearch.MIN_RANK_ROWS
    expected_X = np.concatenate([X[keep], augment.shifted_copies(X[keep], problem.dataset.extra["image_shape"])])
    from hcl.encode import unpack_rows
    expected = unpack_rows(problem.encoder.encode_packed(expected_X), len(expected_X)).T
    assert np.array_equal(data.rows, expected)
    assert np.array_equal(data.labels, np.tile(y[keep], 1 + len(augment.SHIFTS)))
    # Stratified: every class is ranked.
    assert set(np.unique(data.rank_labels)) == set(np.unique(y))


def test_a_run_returns_only_networks_within_the_limits(tmp_path):
    result = evolve(config(tmp_path, max_luts=50, max_depth=9), progress=False)
    for path in sorted((tmp_path / "pareto").glob("*.json")) + [tmp_path / "best.json"]:
        c = cost.estimate(Network.load(path))
        assert c["luts"] <= 50 and c["depth"] <= 9
    assert result.val_accuracy > 0.6


def test_same_seed_same_run_and_resume_equals_uninterrupted(tmp_path):
    full = evolve(config(tmp_path / "full"), progress=False)
    again = evolve(config(tmp_path / "again"), progress=False)
    evolve(config(tmp_path / "part", generations=1), progress=False)
    resumed = resume(tmp_path / "part", generations=2, progress=False)
    assert again.best.to_dict()["layers"] == full.best.to_dict()["layers"]
    assert resumed.best.to_dict()["layers"] == full.best.to_dict()["layers"]
    assert [n.to_dict()["layers"] for n in resumed.pareto] == [n.to_dict()["layers"] for n in full.pareto]


def test_dask_trains_the_same_members_as_local(monkeypatch):
    """Also when early stopping keeps a member's earlier snapshot (forced at rung 1 here): the next rung must
    continue that snapshot's own state on every executor."""
    pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'hcl[cluster]')")
    from hcl.evolve.executors import DaskExecutor
    real = archsearch._member

    def worse_at_rung1(problem, data, arch, model, epochs):
        m = real(problem, data, arch, model, epochs)
        if epochs == pytest.approx(40 / archsearch.ETA):
            m.rank_accuracy = 0.0
        return m

    monkeypatch.setattr(archsearch, "_member", worse_at_rung1)
    problem = Problem(config())
    local, _ = archsearch.search(problem, np.random.default_rng(5), LocalExecutor())
    executor = DaskExecutor(problem, n_workers=2)
    try:
        remote, _ = archsearch.search(problem, np.random.default_rng(5), executor)
    finally:
        executor.close()
    assert [m.net.to_dict()["layers"] for m in remote] == [m.net.to_dict()["layers"] for m in local]


@pytest.mark.parametrize("args, needle", [
    (["--trainer", "none", "--arch-search"], "--arch-search: members are trained by the gradient trainer"),
    (["--trainer", "efd", "--arch-search", "--max-luts", "3"], "--max-luts"),
])
def test_bad_options_are_one_line_errors(tmp_path, args, needle):
    r = CliRunner().invoke(main, ["evolve", "--task", "tiny", "--luts", "4", "--bits", "3", "--generations", "1",
                                  "--out", str(tmp_path / "r"), *args])
    assert r.exit_code == 2, r.output
    assert needle in r.output and len(r.output.strip().splitlines()) == 1


@pytest.mark.parametrize("key, value, needle", [("arch_population", 1, "arch_population: must be 4.."),
                                                ("arch_generations", -1, "arch_generations: must be 0..")])
def test_fidelity_options_out_of_range(key, value, needle):
    with pytest.raises(ConfigError, match=needle):
        config(**{key: value}).validate()


def test_the_search_cuts_its_rank_rows_and_members_from_the_training_split_only():
    """A slip that cuts them from another split fails loudly (hcl.splits), before any member trains."""
    from hcl.errors import LeakError
    problem = Problem(EvolveConfig(task="digits", trainer="efd", arch_search=True, seed=2))
    archsearch.SearchData(problem)                       # the training split's own rows: accepted
    problem.labels["train"] = problem.labels["val"]
    with pytest.raises(LeakError, match="architecture search"):
        archsearch.SearchData(problem)
