"""MNIST accuracy vs LUTs: the Pareto front of one time-limited hcl search, beside the published LUT networks.

    python benchmarks/bench_search.py --time-limit 600 [--data DIR] [--layers 1000 --group-size 60 --bits 1]

MNIST comes from --data DIR or $HCL_DATA/mnist (../shared/data/mnist here). LUT counts are hcl.cost estimates
(LUT6 fabric), stated with and without the input encoder (the published figures exclude it). Writes
benchmarks/results/search_mnist.md; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from hcl import cost
from hcl.evolve import EvolveConfig, evolve
from hcl.files import atomic_write_text
from hcl.network import Network

from _data import default_data

PUBLISHED = [  # design.md: LUTs on AMD/Xilinx UltraScale+ unless noted
    ("DWN small (gradient-trained LUT6, encoder not counted)", "97.1 %", "692", "2.4 ns"),
    ("TreeLUT", "97 %", "4,478", "2.5 ns"),
    ("PolyLUT-Add", "96 %", "14,810", "10 ns"),
    ("FINN SFC-max", "96 %", "91,131", "310 ns"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--time-limit", type=float, default=600)
    ap.add_argument("--generations", type=int, default=100000)
    ap.add_argument("--population", type=int, default=16)
    ap.add_argument("--layers", default="1000")
    ap.add_argument("--group-size", type=int, default=60)
    ap.add_argument("--bits", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--select-on", choices=["train", "val"], default="train")
    ap.add_argument("--run-dir", default="runs/bench-mnist")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "search_mnist.md"))
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the table from --run-dir's saved front with the current cost model; no search")
    args = ap.parse_args()
    run_dir = Path(args.run_dir)
    if not args.report_only:
        data = args.data or default_data("mnist")
        cfg = EvolveConfig(task="mnist", data=data, k=6, seed=args.seed, generations=args.generations,
                           population=args.population, layers=[int(x) for x in args.layers.split(",")],
                           group_size=args.group_size, bits=args.bits, time_limit=args.time_limit,
                           out=str(run_dir), select_on=args.select_on)
        t0 = time.perf_counter()
        evolve(cfg, progress=True)
        command = (f"python benchmarks/bench_search.py --time-limit {args.time_limit:g} --layers {args.layers} "
                   f"--group-size {args.group_size} --bits {args.bits} --population {args.population} "
                   f"--seed {args.seed} --select-on {args.select_on} --run-dir {args.run_dir}")
        bench = {"command": command, "seconds": round(time.perf_counter() - t0, 1),
                 # Linux: KiB; the whole process (data, search, JIT)
                 "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
        atomic_write_text(run_dir / "bench.json", json.dumps(bench, indent=1) + "\n")
    report(run_dir, Path(args.out))


THIN = 0.9


def thinned(points: list[dict]) -> list[tuple[int, dict]]:
    """(index, point) of the front, fewest LUTs first, keeping a point when its validation error is at most THIN
    times the last kept one's (a front of every generation's networks has a point per LUT or so)."""
    kept = []
    for i, p in enumerate(points):
        if not kept or 1 - p["val"] <= THIN * (1 - kept[-1][1]["val"]) or i == len(points) - 1:
            kept.append((i, p))
    return kept


def report(run_dir: Path, out: Path) -> None:
    """The table from a finished run's files: its front (pareto/*.json), run.json and bench.json."""
    run = json.loads((run_dir / "run.json").read_text())
    bench = json.loads((run_dir / "bench.json").read_text())
    points = []
    for path in sorted((run_dir / "pareto").glob("*.json")):
        net = Network.load(path)
        c = cost.estimate(net)
        points.append({"val": net.meta["val_accuracy"], "test": net.meta["test_accuracy"], "luts": c["luts"],
                       "luts_without_encoder": c["luts_network"] + c["luts_output"],
                       "luts_network": c["luts_network"], "depth": c["depth"]})
    lines = ["# MNIST: hcl's Pareto front vs published LUT networks", "",
             f"Command: `{bench['command']}` ({run['generations_done']} generations in {bench['seconds']:.0f} s on "
             f"this 2-core machine; stopped: {run['status']}; peak memory (max RSS of the process) "
             f"{bench['peak_rss_mib']:,} MiB). Table: `python benchmarks/bench_search.py --report-only --run-dir "
             f"{run_dir}`.", "",
             "LUTs are hcl.cost model estimates (LUT6 fabric), not synthesis results; selected by validation "
             "accuracy, test accuracy only reported.", "",
             "| hcl Pareto point | val acc | test acc | LUTs without encoder (network + output) | network LUTs | "
             "LUTs total (with encoder) | depth (LUT levels) |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {i} | {p['val']:.4f} | {p['test']:.4f} | {p['luts_without_encoder']} | {p['luts_network']} | "
              f"{p['luts']} | {p['depth']} |" for i, p in thinned(points)]
    lines += ["", f"{len(points)} front points in all ({run_dir}/pareto/); shown: each point whose validation error is "
              f"at most {THIN:g} x the last one shown, and the last."]
    lines += ["", "| published system | accuracy | LUTs | latency |", "|---|---|---|---|"]
    lines += [f"| {n} | {a} | {l} | {t} |" for n, a, l, t in PUBLISHED]
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(json.dumps({"generations": run["generations_done"], **bench, "best_test_accuracy": run["test_accuracy"],
                      "best_val_accuracy": run["val_accuracy"], "pareto": points}))


if __name__ == "__main__":
    main()
