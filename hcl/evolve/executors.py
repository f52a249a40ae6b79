"""Where a generation's children are evaluated: in this process, or on a Dask cluster.

``--executor local``            this process, delta evaluation from the cached parent signals (the default);
``--executor dask-local:N``     a ``dask.distributed.LocalCluster`` of N single-threaded worker processes;
``--executor dask://HOST:PORT`` an existing Dask scheduler (for example one started by dask-jobqueue on SLURM);
``.../samples``                 after either Dask spec: split the training data by samples instead of the children.

Population-level (the Dask default): the packed training data is scattered to every worker once; each task carries
only a child genome and the tables to refit, and returns the refitted, pruned child with its per-sample
correctness. Workers evaluate the child in full (they hold no parent signals), which gives the same result as the
local delta path because every refit reads only real samples. A task whose worker dies is retried on another
worker; a lost scheduler stops the run with its last checkpoint intact.

Sample shards (``/samples``, see ``hcl.evolve.shards``): each worker holds one contiguous slice of the packed
training words (a Dask actor pinned to it) and evaluates every child of the batch on its slice; the driver sums the
shards' refit counts, decides each new table and sends it back, in one round trip per refit step. Same result
again, bit for bit. A shard cannot move: a worker that dies stops the run (HclError, checkpoint intact, continue
with ``--resume``), as does a lost scheduler.
"""

from __future__ import annotations

import asyncio
import concurrent.futures

import numpy as np

from hcl.errors import ConfigError, HclError
from hcl.evolve.fitness import Evaluated, Evaluator
from hcl.evolve.archsearch import TrainTask, run_task
from hcl.evolve.config import parse_executor
from hcl.evolve.jobs import Job, evaluate_job
from hcl.evolve.problem import Problem
from hcl.train import TrainableNetwork

CONNECT_TIMEOUT_S = 10
TASK_RETRIES = 3
_LOST = (OSError, TimeoutError, asyncio.CancelledError, concurrent.futures.CancelledError)


class LocalExecutor:
    """Evaluates children in this process, each by delta evaluation from its parent."""

    def evaluate(self, problem: Problem, jobs: list[Job]) -> list[Evaluated]:
        return [evaluate_job(problem.train, job, problem.config.refit, problem.tuning) for job in jobs]

    def train(self, rows: np.ndarray, labels: np.ndarray, tasks: list[TrainTask]) -> list[TrainableNetwork]:
        """Members of the architecture search trained one after the other (hcl.evolve.archsearch)."""
        return [run_task(rows, labels, task) for task in tasks]

    def close(self) -> None:
        pass


def make_executor(spec: str, problem: Problem):
    kind, arg, shard = parse_executor(spec)
    if kind == "local":
        return LocalExecutor()
    cls = ShardedDaskExecutor if shard else DaskExecutor
    if kind == "dask-local":
        return cls(problem, n_workers=arg)
    return cls(problem, address=arg)


def _lost(e: BaseException) -> HclError:
    return HclError(f"lost the Dask scheduler or a worker ({e.__class__.__name__}: {e}); the run stopped, its last "
                    "checkpoint is intact: continue it with  hcl evolve --resume DIR")


class DaskExecutor:
    def __init__(self, problem: Problem, address: str | None = None, n_workers: int = 2):
        self._connect(address, n_workers)
        # Sent once; every task refers to it instead of carrying the data.
        self.data = self.client.scatter((problem.train.packed, problem.train.labels, problem.train.copies,
                                         problem.train.split), broadcast=True, hash=False)
        self.refit_mode = problem.config.refit
        self.tuning = problem.tuning
        self._search_data = None

    def train(self, rows: np.ndarray, labels: np.ndarray, tasks: list[TrainTask]) -> list[TrainableNetwork]:
        """Members trained one per worker at a time: the search's training rows go to every worker once."""
        if self._search_data is None or self._search_data[0] is not rows:
            self._search_data = (rows, self.client.scatter((rows, labels), broadcast=True, hash=False))
        try:
            futures = self.client.map(_train_remote, tasks, data=self._search_data[1], pure=False,
                                      retries=TASK_RETRIES)
            return self.client.gather(futures)
        except _LOST as e:
            raise _lost(e) from None

    def evaluate(self, problem: Problem, jobs: list[Job]) -> list[Evaluated]:
        payloads = [(job.child, job.changed is None or bool(job.changed.any()), job.refit, job.seed) for job in jobs]
        try:
            futures = self.client.map(_evaluate_remote, payloads, data=self.data, refit_mode=self.refit_mode,
                                      tuning=self.tuning, pure=False, retries=TASK_RETRIES)
            results = self.client.gather(futures)
        except _LOST as e:
            raise _lost(e) from None
        out = []
        for net, correct, evaluations in results:
            problem.train.evaluations += evaluations
            out.append(Evaluated(net, None, correct, None))
        return out

    def _connect(self, address: str | None, n_workers: int) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("--executor dask needs dask.distributed: pip install 'hcl[cluster]'") from None
        self.cluster = None
        try:
            if address is None:
                self.cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None)
                address = self.cluster.scheduler_address
            self.client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as e:
            self.close()
            raise HclError(f"--executor: cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT_S} s "
                           f"({e.__class__.__name__}); check the address and that the scheduler runs") from None

    def close(self) -> None:
        for thing in (getattr(self, "client", None), getattr(self, "cluster", None)):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # closing a cluster whose scheduler already died must not mask the real error
                    pass


class ShardedDaskExecutor(DaskExecutor):
    """One shard of the packed training words per worker (a Dask actor pinned to it); see hcl.evolve.shards."""

    def __init__(self, problem: Problem, address: str | None = None, n_workers: int | None = None):
        from hcl.evolve.shards import Shard, shard_data, split_words
        self._connect(address, n_workers or 2)
        try:
            # A LocalCluster's workers are all wanted; an existing cluster is used as it stands now.
            self.client.wait_for_workers(n_workers or 1, timeout=f"{CONNECT_TIMEOUT_S * 6}s")
            workers = sorted(self.client.scheduler_info()["workers"])
            packed, labels = problem.train.packed, problem.train.labels
            self.actors, self.sizes = [], []
            for worker, words in zip(workers, split_words(packed.shape[1], len(workers))):
                data = self.client.scatter(list(shard_data(packed, labels, words)), workers=[worker], hash=False)
                self.actors.append(self.client.submit(Shard, *data, workers=[worker], allow_other_workers=False,
                                                      actor=True).result())
                self.sizes.append(min(words[1] * 64, len(labels)) - words[0] * 64)
        except _LOST as e:
            self.close()
            raise _lost(e) from None
        self.refit_mode = problem.config.refit

    def _round(self, ops):
        futures = [actor.step(ops) for actor in self.actors]
        return [f.result() for f in futures]

    def evaluate(self, problem: Problem, jobs: list[Job]) -> list[Evaluated]:
        from hcl.evolve.shards import evaluate_sharded
        try:
            out, evaluations = evaluate_sharded(jobs, self.refit_mode, self._round, self.sizes)
        except _LOST as e:
            raise _lost(e) from None
        except RuntimeError as e:
            if "lost" not in str(e):            # dask: "Worker holding Actor was lost"
                raise
            raise _lost(e) from None
        problem.train.evaluations += evaluations
        return out


_EVALUATORS: dict[int, Evaluator] = {}


def _evaluate_remote(payload, data, refit_mode: str, tuning=None):
    """Runs on a worker: training (with `tuning`), full evaluation of the child, refits, pruning. Returns
    (network, correct, evaluations)."""
    child, changed, refit, seed = payload
    packed, labels, copies, split = data
    evaluator = _EVALUATORS.setdefault(id(packed), Evaluator(packed, labels, copies, split))
    before = evaluator.evaluations
    ev = evaluate_job(evaluator, Job(_NO_PARENT, child, None, refit, seed), refit_mode, tuning)
    # The local path counts a child that changed nothing as free: count the same here so logs agree.
    evaluations = evaluator.evaluations - before - (0 if changed or tuning is not None else 1)
    return ev.net, np.asarray(ev.correct), evaluations


def _train_remote(task: TrainTask, data) -> TrainableNetwork:
    rows, labels = data
    return run_task(rows, labels, task)


class _NoParent:
    ev = Evaluated(None, None, None, None)


_NO_PARENT = _NoParent()
