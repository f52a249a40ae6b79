"""Evaluations per second of the search: local vs a Dask LocalCluster with 1 and 2 workers, population-level
(each worker evaluates whole children on all the data) and by sample shards (``/samples``: each worker holds a slice
of the data and evaluates every child on it), and memory per worker.

    python benchmarks/bench_scale.py [--task mnist --n-train 20000] [--generations 5] [--executors local,...]
    python benchmarks/bench_scale.py --trainer efd --n-train 50000 --executors local,dask-local:2 --out ...

With ``--trainer efd`` every child is trained on (``--tune-steps`` Adam steps, evolve.lamarck) where the genetic
search fits tables; the start is trained ``--train-epochs`` (outside the timing).

Counts only the generation loop (not data loading, the initial population, cluster start-up or JIT warm-up). Memory
per worker: the training data it holds (packed words + labels), the peak of the arrays it allocated while
evaluating (tracemalloc, measured over one extra generation so the timing runs untraced) and its resident set
(RSS; interpreter, numba and LLVM included) after the run; the largest over the workers. The last line printed is
one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from hcl.evolve import EvolveConfig
from hcl.evolve.executors import make_executor
from hcl.evolve.problem import Problem
from hcl.evolve.search import SearchState, run_search
from hcl.evolve.start import initial_population
from hcl.evolve.shards import WORD
from hcl.files import atomic_write_text

from _data import default_data


def measure(config: EvolveConfig, spec: str) -> dict:
    import numpy as np
    from deap import tools
    problem = Problem(dataclasses.replace(config))   # its own copy: worker_memory() extends its generations
    rng = np.random.default_rng(config.seed)
    pop = initial_population(problem, rng)
    state = SearchState(0, tools.selNSGA2(pop, len(pop)), rng, [], problem.train.evaluations, 0.0)
    executor = make_executor(spec, problem)
    try:
        # Warm-up: each worker process JIT-compiles (or loads from cache) the kernels on its first task.
        from hcl.evolve.jobs import propose
        warm_rng = np.random.default_rng(12345)
        executor.evaluate(problem, [propose(problem, warm_rng, state.population) for _ in range(4)])
        start_evals = problem.train.evaluations
        t0 = time.perf_counter()
        state, _ = run_search(problem, state, executor=executor)
        seconds = time.perf_counter() - t0
        evals = problem.train.evaluations - start_evals
        best_val = round(max(problem.accuracy(c.ev.net, "val") for c in state.population), 4)
        memory = {"worker_data_mib": None, "worker_eval_peak_mib": None, "worker_rss_mib": None}
        if hasattr(executor, "client"):
            memory = worker_memory(executor, problem, state)
    finally:
        executor.close()
    return {"executor": spec, "evaluations": evals, "seconds": round(seconds, 2),
            "evals_per_s": round(evals / seconds, 1), **memory, "best_val": best_val}


def worker_memory(executor, problem, state) -> dict:
    import psutil
    mib = 2**20
    client = executor.client
    rss = client.run(lambda: psutil.Process().memory_info().rss)
    train = problem.train
    if hasattr(executor, "sizes"):      # sample shards: the largest shard's words and labels
        words = max(-(-n // WORD) for n in executor.sizes)
        data = train.packed.shape[0] * words * 8 + max(executor.sizes) * 8
    else:
        data = train.packed.nbytes + train.labels.nbytes
    client.run(_trace_start)
    problem.config.generations = state.generation + 1
    run_search(problem, state, executor=executor)
    peak = client.run(_trace_stop)
    return {"worker_data_mib": round(data / mib, 1), "worker_eval_peak_mib": round(max(peak.values()) / mib, 1),
            "worker_rss_mib": round(max(rss.values()) / mib, 1)}


def _trace_start():
    import tracemalloc
    tracemalloc.start()


def _trace_stop() -> int:
    import tracemalloc
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="mnist")
    ap.add_argument("--n-train", type=int, default=20000)
    ap.add_argument("--generations", type=int, default=5)
    ap.add_argument("--population", type=int, default=16)
    ap.add_argument("--layers", default="400")
    ap.add_argument("--group-size", type=int, default=20)
    ap.add_argument("--trainer", default="none", choices=["none", "efd"])
    ap.add_argument("--train-epochs", type=float, default=1.0, help="efd: the start's epochs (not timed)")
    ap.add_argument("--tune-steps", type=int, default=100, help="efd: each child's Adam steps")
    ap.add_argument("--executors", default="local,dask-local:1,dask-local:2,dask-local:1/samples,dask-local:2/samples")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "scale.md")
    args = ap.parse_args()
    options = {"n_train": args.n_train} if args.task == "mnist" else {}
    data = default_data("mnist") if args.task == "mnist" else None
    config = EvolveConfig(task=args.task, data=data, task_options=options, generations=args.generations,
                          population=args.population, layers=[int(x) for x in args.layers.split(",")],
                          group_size=args.group_size, bits=1, seed=0, trainer=args.trainer,
                          train_epochs=args.train_epochs, tune_steps=args.tune_steps)
    rows = [measure(config, spec) for spec in args.executors.split(",")]
    lines = ["# Search throughput by executor", "",
             f"`python benchmarks/bench_scale.py {' '.join(sys.argv[1:])}`".replace(" `", "`"), "",
             f"Task {args.task} (n_train {args.n_train}), layers {args.layers}, groups of {args.group_size}, "
             f"trainer {args.trainer}" + (f" ({args.tune_steps} Adam steps a child)" if args.trainer == "efd" else "")
             + ", "
             f"{args.generations} generations x {args.population} children, seed 0, on this machine "
             f"({os.cpu_count()} cores). Generation loop only (no start-up or JIT warm-up).", "",
             "| executor | evaluations | seconds | evals/s | data/worker MiB | eval peak/worker MiB | RSS/worker MiB "
             "| best val |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['executor']} | {r['evaluations']} | {r['seconds']:.2f} | {r['evals_per_s']:.1f} "
                     f"| {_na(r['worker_data_mib'])} | {_na(r['worker_eval_peak_mib'])} | {_na(r['worker_rss_mib'])} "
                     f"| {r['best_val']:.4f} |")
    print("\n".join(lines))
    atomic_write_text(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    print(json.dumps({"task": args.task, "n_train": args.n_train, "rows": rows}))


def _na(x) -> str:
    return "-" if x is None else f"{x:.1f}"


if __name__ == "__main__":
    main()
