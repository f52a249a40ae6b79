"""Dask executor: same result as local evaluation, survives a worker dying mid-generation, fails cleanly when the
scheduler is unreachable or lost."""

import os
import signal
import threading
import time

import numpy as np
import pytest

pytest.importorskip("dask.distributed", reason="dask.distributed not installed: pip install 'hcl[cluster]'")

from hcl.errors import HclError
from hcl.evolve import EvolveConfig, evolve
from hcl.evolve.config import parse_executor
from hcl.evolve.executors import DaskExecutor, ShardedDaskExecutor, make_executor
from hcl.evolve.problem import Problem
from hcl.evolve.search import run_search

CONFIG = dict(task="tiny", k=4, generations=4, population=8, seed=11, layers=[12], group_size=3, bits=3)


def _layers(result):
    return result.best.to_dict()["layers"]


@pytest.fixture(scope="module")
def local_result():
    return evolve(EvolveConfig(**CONFIG), progress=False)


def test_dask_local_cluster_gives_the_same_best_network(local_result):
    dask = evolve(EvolveConfig(**CONFIG, executor="dask-local:2"), progress=False)
    assert _layers(dask) == _layers(local_result)
    assert [r["evaluations"] for r in dask.log] == [r["evaluations"] for r in local_result.log]


def test_worker_killed_mid_generation_is_tolerated(local_result):
    problem = Problem(EvolveConfig(**CONFIG))
    executor = DaskExecutor(problem, n_workers=2)
    pids = list(executor.client.run(os.getpid).values())
    original = executor.evaluate
    killed = []

    def evaluate_and_kill(problem, jobs):
        if not killed and len(jobs) > 1:
            # Kill one worker process while this batch is in flight; its tasks must be retried elsewhere.
            threading.Timer(0.01, os.kill, (pids[0], signal.SIGKILL)).start()
            killed.append(pids[0])
        return original(problem, jobs)

    executor.evaluate = evaluate_and_kill
    try:
        state, stopped = run_search(problem, executor=executor)
    finally:
        executor.close()
    assert killed and stopped == "completed"
    from hcl.evolve.search import pareto_front
    best = max(pareto_front(problem, state.population, state.archive), key=lambda f: (f[1], -f[2]))[0]
    assert best.to_dict()["layers"] == _layers(local_result)


def test_unreachable_scheduler_is_a_clear_error_in_bounded_time():
    problem = Problem(EvolveConfig(**CONFIG))
    t0 = time.monotonic()
    with pytest.raises(HclError, match="cannot reach the Dask scheduler"):
        make_executor("dask://127.0.0.1:9", problem)
    assert time.monotonic() - t0 < 60


def test_bad_executor_spec():
    problem = Problem(EvolveConfig(**CONFIG))
    for spec in ("dask-local:0", "dask-local:x", "spark://h:1", "local/samples", "dask-local:2/rows",
                 "dask://h:1/x", "dask://host:xx", "dask://h:0", "dask://:8786", "dask-local:0/samples", "/samples",
                 "dask:///samples"):
        with pytest.raises(HclError) as error:
            make_executor(spec, problem)
        assert "\n" not in str(error.value) and "--executor" in str(error.value)
        with pytest.raises(HclError):
            EvolveConfig(**CONFIG, executor=spec).validate()
    assert parse_executor("dask://10.0.0.5:8786/samples") == ("dask", "tcp://10.0.0.5:8786", True)
    assert parse_executor("dask-local:3") == ("dask-local", 3, False)


@pytest.mark.parametrize("refit", ["vote", "output-exact", "exact", "both", "none"])
def test_sample_shard_protocol_matches_local_evaluation(refit):
    """Shards in this process (no cluster): every network of the final population and every logged count agree."""
    from hcl.evolve.shards import InProcessShards, evaluate_sharded

    class InProcess:
        def __init__(self, problem, n):
            self.run_round = InProcessShards(problem.train.packed, problem.train.labels, n)

        def evaluate(self, problem, jobs):
            out, evaluations = evaluate_sharded(jobs, problem.config.refit, self.run_round, self.run_round.sizes)
            problem.train.evaluations += evaluations
            return out

    config = {**CONFIG, "refit": refit, "generations": 3, "task_options": {"n": 1500}}   # 900 samples: 15 words
    runs = []
    for shards in (None, 1, 4):
        problem = Problem(EvolveConfig(**config))
        state, _ = run_search(problem, executor=InProcess(problem, shards) if shards else None)
        runs.append(([c.ev.net.to_dict() for c in state.population], [c.ev.correct.tolist() for c in state.population],
                     state.log[-1]["evaluations"]))
    assert runs[0] == runs[1] == runs[2]


def test_dask_sample_shards_give_the_same_best_network(local_result):
    shards = evolve(EvolveConfig(**CONFIG, executor="dask-local:2/samples"), progress=False)
    assert _layers(shards) == _layers(local_result)
    assert [r["evaluations"] for r in shards.log] == [r["evaluations"] for r in local_result.log]
    assert [r["best_train_accuracy"] for r in shards.log] == [r["best_train_accuracy"] for r in local_result.log]


def test_sample_shard_worker_lost_is_a_clear_error():
    problem = Problem(EvolveConfig(**CONFIG))
    executor = ShardedDaskExecutor(problem, n_workers=2)
    try:
        assert len(executor.actors) == 2 and sum(executor.sizes) == len(problem.train.labels)
        pids = list(executor.client.run(os.getpid).values())
        os.kill(pids[0], signal.SIGKILL)
        time.sleep(0.5)
        with pytest.raises(HclError, match="--resume"):
            run_search(problem, executor=executor)
    finally:
        executor.close()


def test_lost_scheduler_stops_cleanly_with_checkpoint_intact(tmp_path, monkeypatch):
    import json
    import hcl.evolve.executors as executors
    made = []

    def make(spec, problem):
        made.append(DaskExecutor(problem, n_workers=1))
        return made[-1]

    monkeypatch.setattr(executors, "make_executor", make)
    config = EvolveConfig(**{**CONFIG, "generations": 50}, checkpoint_every=1, out=str(tmp_path))
    from hcl.evolve import run as run_module
    original_write_log = run_module.write_log

    def write_log_then_kill_scheduler(path, rows):
        original_write_log(path, rows)
        if len(rows) == 2:
            made[0].cluster.scheduler.stop() if hasattr(made[0].cluster.scheduler, "stop") else None
            made[0].cluster.close()

    monkeypatch.setattr(run_module, "write_log", write_log_then_kill_scheduler)
    with pytest.raises(HclError, match="--resume"):
        evolve(config, progress=False)
    checkpoint = json.loads((tmp_path / "checkpoint.json").read_text())
    assert checkpoint["generation"] == 2
    resumed = run_module.resume(tmp_path, generations=3, progress=False)
    assert resumed.generations_done == 3
