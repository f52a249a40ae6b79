"""Which start and variation operators make the LUT search efficient? Same task, seeds and budget (generations, or
seconds with --time-limit); only the start, the operator mix and the truth-table refitting differ. Plain bit-flip
mutation on random tables (`--start random --refit none`: no local table optimization anywhere, not even at
initialisation) is the baseline.

    python benchmarks/bench_operators.py [--generations 40 | --time-limit 30] [--seeds 3] [--task sipm]

Writes benchmarks/results/operators.md (sipm) or operators_TASK.md; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from hcl.evolve import EvolveConfig, evolve
from hcl.evolve.config import UNTIL_TIME_LIMIT
from hcl.files import atomic_write_text

# The operator mix before the regrow operator existed (config.OPERATOR_WEIGHTS without "regrow").
RANDOM_START_MIX = {"rewire": 0.5, "crossover": 0.15, "refit": 0.1, "flip": 0.05, "remove_lut": 0.06,
                    "add_lut": 0.06, "shrink_group": 0.04, "grow_group": 0.04}
# name -> (operator weights or None for the default mix, refit mode, start)
VARIANTS = {
    "bit-flip only, no table optimization (plain GA)": ({"flip": 1.0}, "none", "random"),
    "all operators, no table optimization": (RANDOM_START_MIX, "none", "random"),
    "bit-flip only, fitted random start": ({"flip": 1.0}, "output-exact", "random"),
    "rewire + refit, fitted random start": ({"rewire": 1.0}, "output-exact", "random"),
    "crossover + refit, fitted random start": ({"crossover": 0.5, "refit": 0.5}, "output-exact", "random"),
    "topology only, fitted random start": ({"remove_lut": 0.25, "add_lut": 0.25, "shrink_group": 0.25,
                                            "grow_group": 0.25}, "output-exact", "random"),
    "all but regrow, fitted random start (the default before the grown start)": (RANDOM_START_MIX, "output-exact",
                                                                                 "random"),
    "bit-flip only, grown start": ({"flip": 1.0}, "output-exact", "grow"),
    "regrow + refit, grown start": ({"regrow": 1.0}, "output-exact", "grow"),
    "all, grown start (default)": (None, "output-exact", "grow"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="sipm")
    ap.add_argument("--generations", type=int, default=40)
    ap.add_argument("--time-limit", type=float, default=None, help="equal seconds per run instead of generations")
    ap.add_argument("--population", type=int, default=24)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=None, help="default results/operators.md (sipm), results/operators_TASK.md")
    args = ap.parse_args()
    budget = f"{args.time_limit:g} s per run" if args.time_limit else f"{args.generations} generations"
    rows = []
    for name, (mix, refit, start) in VARIANTS.items():
        vals, tests, luts, secs, gens, start_vals = [], [], [], [], [], []
        for seed in range(args.seeds):
            cfg = EvolveConfig(task=args.task, population=args.population, seed=seed, operators=mix, refit=refit,
                               start=start, time_limit=args.time_limit,
                               generations=UNTIL_TIME_LIMIT if args.time_limit else args.generations)
            t0 = time.perf_counter()
            result = evolve(cfg, progress=False)
            secs.append(time.perf_counter() - t0)
            vals.append(result.val_accuracy)
            tests.append(result.test_accuracy)
            luts.append(result.cost["luts"])
            gens.append(result.generations_done)
            start_vals.append(result.log[0]["best_val_accuracy"])
        rows.append({"variant": name, "refit": refit, "start": start, "val_after_gen1": statistics.mean(start_vals),
                     "val": statistics.mean(vals), "test": statistics.mean(tests), "test_min": min(tests),
                     "luts": statistics.mean(luts), "generations": statistics.mean(gens),
                     "seconds": statistics.mean(secs)})
        r = rows[-1]
        print(f"{name:50s} val {r['val']:.4f} test {r['test']:.4f} LUTs {r['luts']:.0f} gens {r['generations']:.0f} "
              f"{r['seconds']:.1f}s", flush=True)
    command = (f"python benchmarks/bench_operators.py --task {args.task} "
               + (f"--time-limit {args.time_limit:g}" if args.time_limit else f"--generations {args.generations}")
               + f" --population {args.population} --seeds {args.seeds}")
    lines = [f"# Operator ablation: task {args.task}, {budget}, population {args.population}, "
             f"mean of seeds 0..{args.seeds - 1}", "",
             f"Command: `{command}` ({os.cpu_count()} cores; wall time includes data loading and start-up).", "",
             "| variant | start | refit | val acc after gen 1 | val acc | test acc (mean) | test acc (worst seed) | "
             "LUTs | generations | seconds |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['variant']} | {r['start']} | {r['refit']} | {r['val_after_gen1']:.4f} | {r['val']:.4f} | "
              f"{r['test']:.4f} | {r['test_min']:.4f} | {r['luts']:.0f} | {r['generations']:.0f} | "
              f"{r['seconds']:.1f} |" for r in rows]
    out = Path(args.out or Path(__file__).parent / "results"
               / ("operators.md" if args.task == "sipm" else f"operators_{args.task}.md"))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, "\n".join(lines) + "\n")
    print(json.dumps({"task": args.task, "budget": budget, "rows": rows}))


if __name__ == "__main__":
    main()
