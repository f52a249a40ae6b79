"""Where a generation's children are evaluated: in this process, or on a Dask cluster.

``--executor local``            this process, delta evaluation from the cached parent signals (the default);
``--executor dask-local:N``     a ``dask.distributed.LocalCluster`` of N single-threaded worker processes;
``--executor dask://HOST:PORT`` an existing Dask scheduler (for example one started by dask-jobqueue on SLURM).

On Dask, the packed training data is scattered to every worker once; each task carries only a child genome and
the tables to refit, and returns the refitted, pruned child with its per-sample correctness. Workers evaluate the
child in full (they hold no parent signals), which gives the same result as the local delta path because every
refit reads only real samples. A task whose worker dies is retried on another worker; a lost scheduler stops the
run with its last checkpoint intact.
"""

from __future__ import annotations

import asyncio
import concurrent.futures

import numpy as np

from hcl.errors import ConfigError, HclError
from hcl.evolve.fitness import Evaluated, Evaluator
from hcl.evolve.search import Job, LocalExecutor, Problem, evaluate_job

CONNECT_TIMEOUT_S = 10
TASK_RETRIES = 3


def make_executor(spec: str, problem: Problem):
    if spec == "local":
        return LocalExecutor()
    if spec.startswith("dask-local:"):
        try:
            workers = int(spec.split(":", 1)[1])
        except ValueError:
            workers = 0
        if workers < 1:
            raise ConfigError(f"--executor {spec}: expected dask-local:N with N >= 1 workers")
        return DaskExecutor(problem, n_workers=workers)
    if spec.startswith("dask://"):
        return DaskExecutor(problem, address="tcp://" + spec[len("dask://"):])
    raise ConfigError(f"--executor {spec!r}: use local, dask-local:N or dask://HOST:PORT")


class DaskExecutor:
    def __init__(self, problem: Problem, address: str | None = None, n_workers: int = 2):
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
        # Sent once; every task refers to it instead of carrying the data.
        self.data = self.client.scatter((problem.train.packed, problem.train.labels), broadcast=True, hash=False)
        self.refit_mode = problem.config.refit

    def evaluate(self, problem: Problem, jobs: list[Job]) -> list[Evaluated]:
        payloads = [(job.child, job.changed is None or bool(job.changed.any()), job.refit) for job in jobs]
        try:
            futures = self.client.map(_evaluate_remote, payloads, data=self.data, refit_mode=self.refit_mode,
                                      pure=False, retries=TASK_RETRIES)
            results = self.client.gather(futures)
        except (OSError, TimeoutError, asyncio.CancelledError, concurrent.futures.CancelledError) as e:
            raise HclError(f"lost the Dask scheduler ({e.__class__.__name__}: {e}); the run stopped, its last "
                           "checkpoint is intact: continue it with  hcl evolve --resume DIR") from None
        out = []
        for net, correct, evaluations in results:
            problem.train.evaluations += evaluations
            out.append(Evaluated(net, None, correct, None))
        return out

    def close(self) -> None:
        for thing in (getattr(self, "client", None), self.cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # closing a cluster whose scheduler already died must not mask the real error
                    pass


_EVALUATORS: dict[int, Evaluator] = {}


def _evaluate_remote(payload, data, refit_mode: str):
    """Runs on a worker: full evaluation of the child, refits, pruning. Returns (network, correct, evaluations)."""
    child, changed, refit = payload
    packed, labels = data
    evaluator = _EVALUATORS.setdefault(id(packed), Evaluator(packed, labels))
    before = evaluator.evaluations
    ev = evaluate_job(evaluator, Job(_NO_PARENT, child, None, refit), refit_mode)
    # The local path counts a child that changed nothing as free: count the same here so logs agree.
    evaluations = evaluator.evaluations - before - (0 if changed else 1)
    return ev.net, np.asarray(ev.correct), evaluations


class _NoParent:
    ev = Evaluated(None, None, None, None)


_NO_PARENT = _NoParent()
