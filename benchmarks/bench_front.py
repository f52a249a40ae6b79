"""One run's front against dedicated runs: does `hcl evolve --max-luts B` give, at each LUT count of its validation
front, the test accuracy a run dedicated to that budget would (same time each)?

    python benchmarks/bench_front.py --task sipm --max-luts 200 --time-limit 60 --seeds 3 [--arch-search]
    python benchmarks/bench_front.py --front RUN_DIR --dedicated RUN_DIR ... --out TABLE.md

For each seed: one run at B; from its front the points nearest to B/4, B/2 and 3B/4 (and the best); for each, a
dedicated run with --max-luts = that point's LUTs. Selection on validation, test reported; LUTs are hcl.cost
estimates with the encoder counted. Writes a markdown table (--out) and prints one JSON object last.

The second form builds the same table from runs already made with `hcl evolve --out` (the 30-minute MNIST runs):
for each dedicated run, the one run's most accurate (validation) front point at or below the dedicated run's budget
(its config.toml's max_luts).
"""

from __future__ import annotations

import argparse
import json
import time
import tomllib
from pathlib import Path

from hcl.evolve import EvolveConfig, evolve
from hcl.evolve.config import UNTIL_TIME_LIMIT
from hcl.files import atomic_write_text

from _data import task_data



def one(task, data, seed, max_luts, time_limit, extra) -> tuple[object, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    result = evolve(EvolveConfig(task=task, data=data, seed=seed, max_luts=max_luts, generations=UNTIL_TIME_LIMIT,
                                 time_limit=time_limit, **extra), progress=False)
    return result, time.perf_counter() - t0, time.process_time() - c0


def best_at_or_below(front: list[tuple[int, float, float]], luts: int) -> tuple[int, float, float] | None:
    """The most accurate (validation) front point within `luts` (fewer LUTs on a tie); None if none is."""
    within = [f for f in front if f[0] <= luts]
    return max(within, key=lambda f: (f[1], -f[0])) if within else None


def run_front(run: Path) -> list[tuple[int, float, float]]:
    """(LUTs, val, test) of each network of a run folder's front."""
    points = []
    for f in (run / "pareto").glob("*.json"):
        meta = json.loads(f.read_text())["meta"]
        points.append((meta["cost"]["luts"], meta["val_accuracy"], meta["test_accuracy"]))
    return sorted(points)


def run_best(run: Path) -> tuple[int, float, float]:
    meta = json.loads((run / "best.json").read_text())["meta"]
    return meta["cost"]["luts"], meta["val_accuracy"], meta["test_accuracy"]


def from_runs(front_run: Path, dedicated: list[Path]) -> list[dict]:
    """Rows comparing one run's front with runs made at smaller budgets (each budget read from its config.toml)."""
    def config(run: Path) -> dict:
        return tomllib.loads((run / "config.toml").read_text())["evolve"]

    front, seed, rows = run_front(front_run), config(front_run)["seed"], []
    for run in sorted(dedicated, key=lambda r: config(r)["max_luts"]):
        budget = config(run)["max_luts"]
        point, (d_luts, d_val, d_test) = best_at_or_below(front, budget), run_best(run)
        if point is None:
            rows.append({"seed": seed, "budget": budget, "luts": None, "dedicated_luts": d_luts,
                         "dedicated_val": round(d_val, 4), "dedicated_test": round(d_test, 4), "gap": None})
            continue
        rows.append({"seed": seed, "budget": budget, "luts": point[0], "front_val": round(point[1], 4),
                     "front_test": round(point[2], 4), "dedicated_luts": d_luts, "dedicated_val": round(d_val, 4),
                     "dedicated_test": round(d_test, 4), "gap": round(point[2] - d_test, 4)})
    return rows


def table(title: str, command: str, rows: list[dict]) -> str:
    lines = [f"# {title}", "", f"`{command}`", "",
             "Front point = the most accurate (validation) point of the one run's front at or below the budget; "
             "dedicated = a run with --max-luts set to that budget; gap = front test - dedicated test (points).", "",
             "| seed | budget | front LUTs | front val | front test | dedicated LUTs | dedicated val | dedicated test "
             "| gap |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["luts"] is None:
            lines.append(f"| {r['seed']} | {r['budget']} | (none) | | | {r['dedicated_luts']} | "
                         f"{r['dedicated_val']:.4f} | {r['dedicated_test']:.4f} | |")
            continue
        lines.append(f"| {r['seed']} | {r['budget']} | {r['luts']} | {r['front_val']:.4f} | {r['front_test']:.4f} | "
                     f"{r['dedicated_luts']} | {r['dedicated_val']:.4f} | {r['dedicated_test']:.4f} | "
                     f"{100 * r['gap']:+.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--front", default=None, help="an `hcl evolve --out` folder: the one run whose front is compared")
    ap.add_argument("--dedicated", nargs="*", default=[], help="run folders made at smaller --max-luts")
    ap.add_argument("--task", default="sipm")
    ap.add_argument("--data", default=None)
    ap.add_argument("--max-luts", type=int, default=200)
    ap.add_argument("--time-limit", type=float, default=60)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--trainer", default="efd")
    ap.add_argument("--arch-search", action="store_true")
    ap.add_argument("--threshold-bits", type=int, default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.front:
        rows = from_runs(Path(args.front), [Path(d) for d in args.dedicated])
        command = ("python benchmarks/bench_front.py --front " + args.front + " --dedicated "
                   + " ".join(args.dedicated))
        text = table(f"One run's front vs dedicated runs: {args.front}", command, rows)
        atomic_write_text(Path(args.out or "front.md"), text)
        print(json.dumps({"front": args.front, "rows": rows}))
        return
    data = task_data(args.task, args.data)
    extra = {"trainer": args.trainer, "arch_search": args.arch_search}
    if args.threshold_bits is not None:
        extra["threshold_bits"] = args.threshold_bits
    rows = []
    for seed in range(args.seeds):
        result, wall, cpu = one(args.task, data, seed, args.max_luts, args.time_limit, extra)
        front = sorted(((n.meta["cost"]["luts"], n.meta["val_accuracy"], n.meta["test_accuracy"]) for n in result.pareto))
        picks = {}
        for share in (0.25, 0.5, 0.75):
            below = [f for f in front if f[0] <= share * args.max_luts]
            if below:
                picks[max(below, key=lambda f: (f[1], -f[0]))[0]] = None
        best = max(front, key=lambda f: (f[1], -f[0]))
        picks[best[0]] = None
        for luts in sorted(picks):
            point = best_at_or_below(front, luts)
            ded, dwall, dcpu = one(args.task, data, seed, luts, args.time_limit, extra)
            rows.append({"seed": seed, "budget": luts, "luts": point[0], "front_val": round(point[1], 4),
                         "front_test": round(point[2], 4), "dedicated_luts": ded.cost["luts"],
                         "dedicated_val": round(ded.val_accuracy, 4), "dedicated_test": round(ded.test_accuracy, 4),
                         "gap": round(point[2] - ded.test_accuracy, 4), "run_cpu_s": round(cpu, 1),
                         "dedicated_cpu_s": round(dcpu, 1)})
            print(json.dumps(rows[-1]), flush=True)
    command = (f"python benchmarks/bench_front.py --task {args.task} --max-luts {args.max_luts} --time-limit "
               f"{args.time_limit:g} --seeds {args.seeds} --trainer {args.trainer}"
               + (" --arch-search" if args.arch_search else "")
               + (f" --threshold-bits {args.threshold_bits}" if args.threshold_bits is not None else ""))
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / f"front_{args.task}.md"
    atomic_write_text(out, table(f"One run's front vs dedicated runs: {args.task}, --max-luts {args.max_luts}, "
                                 f"{args.time_limit:g} s each", command, rows))
    print(json.dumps({"task": args.task, "rows": rows}))


if __name__ == "__main__":
    main()
