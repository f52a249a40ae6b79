"""Evaluations per second of the search: local vs a Dask LocalCluster with 1 and 2 workers, and memory per worker.

    python benchmarks/bench_scale.py [--task mnist --n-train 20000] [--generations 5]

Counts only the generation loop (not data loading, the initial population, cluster start-up or JIT warm-up). The last line
printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

from hcl.evolve import EvolveConfig
from hcl.evolve.executors import make_executor
from hcl.evolve.search import Problem, SearchState, initial_population, run_search


def measure(config: EvolveConfig, spec: str) -> dict:
    import numpy as np
    from deap import tools
    problem = Problem(config)
    rng = np.random.default_rng(config.seed)
    pop = initial_population(problem, rng)
    state = SearchState(0, tools.selNSGA2(pop, len(pop)), rng, [], problem.train.evaluations, 0.0)
    executor = make_executor(spec, problem)
    try:
        # Warm-up: each worker process JIT-compiles (or loads from cache) the kernels on its first task.
        from hcl.evolve.search import propose
        warm_rng = np.random.default_rng(12345)
        executor.evaluate(problem, [propose(problem, warm_rng, state.population) for _ in range(4)])
        start_evals = problem.train.evaluations
        t0 = time.perf_counter()
        state, _ = run_search(problem, state, executor=executor)
        seconds = time.perf_counter() - t0
        memory = None
        if hasattr(executor, "client"):
            import psutil
            rss = executor.client.run(lambda: psutil.Process().memory_info().rss)
            memory = round(max(rss.values()) / 2**20, 1)
    finally:
        executor.close()
    evals = problem.train.evaluations - start_evals
    return {"executor": spec, "evaluations": evals, "seconds": round(seconds, 2),
            "evals_per_s": round(evals / seconds, 1), "worker_rss_mib": memory,
            "best_val": round(max(problem.accuracy(c.ev.net, "val") for c in state.population), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="mnist")
    ap.add_argument("--n-train", type=int, default=20000)
    ap.add_argument("--generations", type=int, default=5)
    ap.add_argument("--population", type=int, default=16)
    ap.add_argument("--layers", default="400")
    ap.add_argument("--group-size", type=int, default=20)
    args = ap.parse_args()
    options = {"n_train": args.n_train} if args.task == "mnist" else {}
    data = None
    if args.task == "mnist":
        import os
        from pathlib import Path
        if not os.environ.get("HCL_DATA"):
            data = str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
    config = EvolveConfig(task=args.task, data=data, task_options=options, generations=args.generations,
                          population=args.population, layers=[int(x) for x in args.layers.split(",")],
                          group_size=args.group_size, bits=1, seed=0)
    rows = [measure(config, spec) for spec in ("local", "dask-local:1", "dask-local:2")]
    print(f"task {args.task} (n_train {args.n_train}), {args.generations} generations x {args.population}")
    print(f"{'executor':14s} {'evals':>6s} {'seconds':>8s} {'evals/s':>8s} {'worker RSS MiB':>15s} {'best val':>8s}")
    for r in rows:
        print(f"{r['executor']:14s} {r['evaluations']:6d} {r['seconds']:8.2f} {r['evals_per_s']:8.1f} "
              f"{str(r['worker_rss_mib']):>15s} {r['best_val']:8.4f}")
    print(json.dumps({"task": args.task, "rows": rows}))


if __name__ == "__main__":
    main()
