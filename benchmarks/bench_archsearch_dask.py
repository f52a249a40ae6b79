"""Members trained per second by the architecture search: --executor local vs dask-local:N, and the same members.

    python benchmarks/bench_archsearch_dask.py --task sipm --max-luts 200 --train-epochs 30 --workers 2 --repeats 3

Runs hcl.evolve.archsearch.search (the whole multi-fidelity schedule, fixed by --train-epochs so every run does the
same work) on each executor; members/s = members trained / wall seconds of the search (the Dask cluster's start
excluded: a long run pays it once). Reports medians of --repeats runs, CPU-seconds of this process beside wall time
(Dask's workers are other processes: their CPU is not in it), and whether the members equal local ones bit for bit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from hcl.evolve import EvolveConfig, archsearch
from hcl.evolve.executors import DaskExecutor, LocalExecutor
from hcl.evolve.problem import Problem
from hcl.files import atomic_write_text

from _data import task_data



def timed(problem, executor) -> tuple[list, dict, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    members, summary = archsearch.search(problem, np.random.default_rng(problem.config.seed), executor)
    return members, summary, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="sipm")
    ap.add_argument("--data", default=None)
    ap.add_argument("--max-luts", type=int, default=200)
    ap.add_argument("--train-epochs", type=float, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    data = task_data(args.task, args.data)
    problem = Problem(EvolveConfig(task=args.task, data=data, seed=args.seed, max_luts=args.max_luts, trainer="efd",
                                   arch_search=True, train_epochs=args.train_epochs))
    timed(problem, LocalExecutor())                     # compile the kernels once (numba cache)
    rows = {"local": [], f"dask-local:{args.workers}": []}
    same = True
    reference = None
    for _ in range(args.repeats):
        members, summary, wall, cpu = timed(problem, LocalExecutor())
        n = sum(summary["members_per_rung"].values())
        rows["local"].append((n / wall, wall, cpu))
        reference = [m.net.to_dict()["layers"] for m in members]
    executor = DaskExecutor(problem, n_workers=args.workers)
    try:
        for _ in range(args.repeats):
            members, summary, wall, cpu = timed(problem, executor)
            n = sum(summary["members_per_rung"].values())
            rows[f"dask-local:{args.workers}"].append((n / wall, wall, cpu))
            same &= [m.net.to_dict()["layers"] for m in members] == reference
    finally:
        executor.close()
    med = {k: {"members_per_s": statistics.median(r[0] for r in v), "wall_s": statistics.median(r[1] for r in v),
               "cpu_s_driver": statistics.median(r[2] for r in v)} for k, v in rows.items()}
    dask = med[f"dask-local:{args.workers}"]
    speedup = dask["members_per_s"] / med["local"]["members_per_s"]
    command = (f"python benchmarks/bench_archsearch_dask.py --task {args.task} --max-luts {args.max_luts} "
               f"--train-epochs {args.train_epochs:g} --workers {args.workers} --repeats {args.repeats}")
    lines = [f"# Architecture search: members trained per second, local vs dask-local:{args.workers}", "",
             f"`{command}`", "", f"Machine: {os.cpu_count()} cores (shared: see the load note). Members per search: "
             f"{n}; medians of {args.repeats} searches each.", "",
             "| executor | members/s | wall s | CPU s (driver process) |", "|---|---|---|---|"]
    for k, v in med.items():
        lines.append(f"| {k} | {v['members_per_s']:.3f} | {v['wall_s']:.1f} | {v['cpu_s_driver']:.1f} |")
    lines += ["", f"Speed-up: {speedup:.2f}x; members equal to local ones: {same}; load average at the end: "
              f"{os.getloadavg()[0]:.2f}"]
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / "archsearch_dask.md"
    atomic_write_text(out, "\n".join(lines) + "\n")
    print(json.dumps({"median": med, "speedup": speedup, "same": same}))


if __name__ == "__main__":
    main()
