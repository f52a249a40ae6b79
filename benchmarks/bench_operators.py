"""Which variation operators make the LUT search efficient? Same task, seeds, initial networks and generations;
only the operator mix differs. Plain bit-flip mutation is the baseline the issue asks to beat.

    python benchmarks/bench_operators.py [--generations 40] [--seeds 3] [--task sipm]

Writes benchmarks/results/operators.md; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from hcl.evolve import EvolveConfig, evolve

MIXES = {
    "bit-flip only (baseline)": {"flip": 1.0},
    "rewire + refit": {"rewire": 1.0},
    "crossover + refit": {"crossover": 0.5, "refit": 0.5},
    "topology only": {"remove_lut": 0.25, "add_lut": 0.25, "shrink_group": 0.25, "grow_group": 0.25},
    "all (default)": None,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="sipm")
    ap.add_argument("--generations", type=int, default=40)
    ap.add_argument("--population", type=int, default=24)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "operators.md"))
    args = ap.parse_args()
    rows = []
    for name, mix in MIXES.items():
        vals, tests, luts, secs, start_vals = [], [], [], [], []
        for seed in range(args.seeds):
            cfg = EvolveConfig(task=args.task, generations=args.generations, population=args.population, seed=seed,
                               operators=mix)
            t0 = time.perf_counter()
            result = evolve(cfg, progress=False)
            secs.append(time.perf_counter() - t0)
            vals.append(result.val_accuracy)
            tests.append(result.test_accuracy)
            luts.append(result.cost["luts"])
            start_vals.append(result.log[0]["best_val_accuracy"])
        rows.append({"operators": name, "val_after_gen1": statistics.mean(start_vals),
                     "val": statistics.mean(vals), "test": statistics.mean(tests),
                     "test_min": min(tests), "luts": statistics.mean(luts), "seconds": statistics.mean(secs)})
        print(f"{name:28s} val {rows[-1]['val']:.4f} test {rows[-1]['test']:.4f} LUTs {rows[-1]['luts']:.0f} "
              f"{rows[-1]['seconds']:.1f}s", flush=True)
    lines = [f"# Operator ablation: task {args.task}, {args.generations} generations x {args.population}, "
             f"mean of seeds 0..{args.seeds - 1}", "",
             f"Command: `python benchmarks/bench_operators.py --task {args.task} --generations {args.generations} "
             f"--population {args.population} --seeds {args.seeds}`", "",
             "| operators | val acc after gen 1 | val acc | test acc (mean) | test acc (worst seed) | LUTs | seconds |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['operators']} | {r['val_after_gen1']:.4f} | {r['val']:.4f} | {r['test']:.4f} | "
              f"{r['test_min']:.4f} | {r['luts']:.0f} | {r['seconds']:.1f} |" for r in rows]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(json.dumps({"task": args.task, "rows": rows}))


if __name__ == "__main__":
    main()
