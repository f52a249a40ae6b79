"""Ablation at equal time: the trainer alone on a fixed topology, the genetic search alone, and both combined.

    python benchmarks/bench_ablation.py --task digits --max-luts 300 --time-limit 60 --seeds 3

* ``trainer``: ``--trainer efd`` with no generations: one network of the largest topology that fits the budget,
  trained from scratch for as many epochs as the time limit allows (measured from a default-length run first);
* ``ga``: ``--trainer none``: today's genetic search of tables and topology (grown start, exact refits);
* ``combined``: ``--trainer efd``: the trained start (the fixed topology rule), then NSGA-II over the topology with
  every child trained on;
* ``arch``: ``--trainer efd --arch-search``: NSGA-II over trained architectures with successive halving
  (hcl.evolve.archsearch), then the same genetic loop.

Selection on the validation split, test reported; LUTs are hcl.cost estimates with the encoder counted. Writes
benchmarks/results/ablation_<task>.md; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from hcl.evolve import EvolveConfig, evolve
from hcl.evolve.config import UNTIL_TIME_LIMIT
from hcl.files import atomic_write_text

from _data import task_data



def run(task: str, data, seed: int, max_luts: int, mode: str, time_limit: float, extra: dict) -> dict:
    kw = dict(task=task, data=data, seed=seed, max_luts=max_luts, **extra)
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "trainer":
        probe = evolve(EvolveConfig(trainer="efd", generations=0, **kw), progress=False)
        spent = time.perf_counter() - t0
        del probe
        # Scale the training to the time limit (the probe's time is mostly training).
        scale = max(1.0, time_limit / max(spent, 1e-9))
        from hcl.evolve import lamarck
        from hcl.evolve.problem import Problem
        n = Problem(EvolveConfig(**kw)).train.n_samples
        base = lamarck.start_config(EvolveConfig(**kw), n).epochs
        t0, c0 = time.perf_counter(), time.process_time()
        result = evolve(EvolveConfig(trainer="efd", generations=0, train_epochs=base * scale, **kw), progress=False)
    else:
        result = evolve(EvolveConfig(trainer="none" if mode == "ga" else "efd", arch_search=mode == "arch",
                                     generations=UNTIL_TIME_LIMIT, time_limit=time_limit, **kw), progress=False)
    front = sorted(((round(n.meta["val_accuracy"], 4), round(n.meta["test_accuracy"], 4), n.meta["cost"]["luts"])
                    for n in result.pareto), key=lambda f: f[2])
    return {"mode": mode, "seed": seed, "val": round(result.val_accuracy, 4), "test": round(result.test_accuracy, 4),
            "luts": result.cost["luts"], "luts_encoder": result.cost["luts_encoder"],
            "generations": result.generations_done, "wall_s": round(time.perf_counter() - t0, 1),
            "cpu_s": round(time.process_time() - c0, 1), "front": front}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="digits")
    ap.add_argument("--data", default=None)
    ap.add_argument("--max-luts", type=int, default=300)
    ap.add_argument("--time-limit", type=float, default=60)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--modes", default="trainer,ga,combined,arch")
    ap.add_argument("--threshold-bits", type=int, default=None)
    ap.add_argument("--out", default=None, help="Markdown file. Default benchmarks/results/ablation_<task>.md")
    args = ap.parse_args()
    data = task_data(args.task, args.data)
    extra = {} if args.threshold_bits is None else {"threshold_bits": args.threshold_bits}
    rows = [run(args.task, data, seed, args.max_luts, mode, args.time_limit, extra)
            for seed in range(args.seeds) for mode in args.modes.split(",")]
    lines = [f"# Ablation at equal time: {args.task}, --max-luts {args.max_luts}, {args.time_limit:g} s per run", "",
             f"`python benchmarks/bench_ablation.py --task {args.task} --max-luts {args.max_luts} "
             f"--time-limit {args.time_limit:g} --seeds {args.seeds} --modes {args.modes}"
             + (f" --threshold-bits {args.threshold_bits}" if args.threshold_bits is not None else "")
             + (f" --out {args.out}" if args.out else "") + "`", "",
             "Best = highest validation accuracy on the run's front; LUTs = hcl.cost estimate, encoder included. "
             "Wall/CPU seconds of the whole run (loading, start, search, final evaluation).", "",
             "| mode | seed | val | test | LUTs (encoder) | generations | wall s | CPU s |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['seed']} | {r['val']:.4f} | {r['test']:.4f} | {r['luts']} ({r['luts_encoder']})"
                     f" | {r['generations']} | {r['wall_s']} | {r['cpu_s']} |")
    lines += ["", "| mode | median test | median LUTs |", "|---|---|---|"]
    summary = {}
    for mode in args.modes.split(","):
        rs = [r for r in rows if r["mode"] == mode]
        summary[mode] = {"median_test": statistics.median(r["test"] for r in rs),
                         "median_luts": statistics.median(r["luts"] for r in rs)}
        lines.append(f"| {mode} | {summary[mode]['median_test']:.4f} | {summary[mode]['median_luts']:g} |")
    lines += ["", "Fronts (val, test, LUTs), fewest LUTs first:", ""]
    for r in rows:
        lines.append(f"- {r['mode']}, seed {r['seed']}: " + ", ".join(f"({v}, {t}, {l})" for v, t, l in r["front"]))
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / f"ablation_{args.task}.md"
    atomic_write_text(out, "\n".join(lines) + "\n")
    print(json.dumps({"task": args.task, "summary": summary, "rows": rows}))


if __name__ == "__main__":
    main()
