"""MNIST accuracy vs LUTs: the Pareto front of one time-limited hcl search, beside the published LUT networks.

    python benchmarks/bench_search.py --time-limit 600 [--data DIR] [--layers 1000 --group-size 60 --bits 1]

MNIST comes from --data DIR or $HCL_DATA/mnist (../shared/data/mnist here). LUT counts are hcl.cost estimates
(LUT6 fabric), stated with and without the input encoder (the published figures exclude it). Writes
benchmarks/results/search_mnist.md; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

from hcl import cost
from hcl.evolve import EvolveConfig, evolve
from hcl.network import atomic_write_text

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
    args = ap.parse_args()
    data = args.data or (None if os.environ.get("HCL_DATA") else
                         str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))
    cfg = EvolveConfig(task="mnist", data=data, k=6, seed=args.seed, generations=args.generations,
                       population=args.population, layers=[int(x) for x in args.layers.split(",")],
                       group_size=args.group_size, bits=args.bits, time_limit=args.time_limit, out=args.run_dir,
                       select_on=args.select_on)
    t0 = time.perf_counter()
    result = evolve(cfg, progress=True)
    seconds = time.perf_counter() - t0
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: KiB; data, search, JIT
    points = []
    for net in result.pareto:
        c = cost.estimate(net)
        points.append({"val": net.meta["val_accuracy"], "test": net.meta["test_accuracy"], "luts": c["luts"],
                       "luts_without_encoder": c["luts_network"] + c["luts_output"],
                       "luts_network": c["luts_network"], "depth": c["depth"]})
    lines = ["# MNIST: hcl's Pareto front vs published LUT networks", "",
             f"Command: `python benchmarks/bench_search.py --time-limit {args.time_limit:g} --layers {args.layers} "
             f"--group-size {args.group_size} --bits {args.bits} --population {args.population} --seed {args.seed} "
             f"--select-on {args.select_on}`"
             f" ({result.generations_done} generations in {seconds:.0f} s on this 2-core machine; "
             f"stopped: {result.stopped}; peak memory (max RSS of the process) {peak_rss_mib:,.0f} MiB).", "",
             "LUTs are hcl.cost model estimates (LUT6 fabric), not synthesis results; selected by validation "
             "accuracy, test accuracy only reported.", "",
             "| hcl Pareto point | val acc | test acc | LUTs without encoder (network + output) | network LUTs | "
             "LUTs total (with encoder) | depth (LUT levels) |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {i} | {p['val']:.4f} | {p['test']:.4f} | {p['luts_without_encoder']} | {p['luts_network']} | "
              f"{p['luts']} | {p['depth']} |" for i, p in enumerate(points)]
    lines += ["", "| published system | accuracy | LUTs | latency |", "|---|---|---|---|"]
    lines += [f"| {n} | {a} | {l} | {t} |" for n, a, l, t in PUBLISHED]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(args.out), "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(json.dumps({"generations": result.generations_done, "seconds": round(seconds, 1),
                      "best_test_accuracy": result.test_accuracy, "best_val_accuracy": result.val_accuracy,
                      "best_luts": result.cost["luts"], "peak_rss_mib": round(peak_rss_mib),
                      "pareto": points}))


if __name__ == "__main__":
    main()
