"""The full `hcl compare` benchmark: FP32 / PTQ / QAT U-Nets vs the evolved LUT network on busi, qubit, sipm-seg.

    python benchmarks/bench_compare.py                       # all three tasks, seed 0 (~10-20 min each, 1 thread)
    python benchmarks/bench_compare.py --tasks qubit --seed 1

Each task's full outputs go to runs/bench-compare/<task>/ (with the evolve run and, with --export, ONNX files);
compare.md, compare.csv and the two PNGs are copied to benchmarks/results/compare/<task>/, and
benchmarks/results/compare.md collects the tables with the targets checked:

* PTQ W8A8 within 1 point of FP32 pixel accuracy at (about) 4x smaller weight memory;
* QAT with learned bit widths: average <= 5 weight bits, at most 2 points below FP32 pixel accuracy;
* the LUT network's row as measured.

busi needs /work/shared/data/busi (or --data / HCL_DATA); it is skipped with a note when absent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hcl.errors import DataError  # noqa: E402
from hcl.network import atomic_write_text  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_BUSI = ROOT.parent / "shared" / "data" / "busi"


def targets(rows: list[dict]) -> list[str]:
    by = {r["key"]: r for r in rows}
    fp = by["unet-small-fp32"]
    out = []
    for size in ("small", "tiny"):
        f, p = by[f"unet-{size}-fp32"], by[f"unet-{size}-ptq-w8a8"]
        delta = 100 * (p["pixel_accuracy"] - f["pixel_accuracy"])
        ratio = f["weight_memory_bits"] / p["weight_memory_bits"]
        ok = delta >= -1.0
        out.append(f"- PTQ W8A8 (U-Net {size}): {100 * p['pixel_accuracy']:.2f} % vs FP32 "
                   f"{100 * f['pixel_accuracy']:.2f} % ({delta:+.2f} points, target >= -1: {'met' if ok else 'MISSED'}), "
                   f"weight memory {ratio:.2f}x smaller (weights 4x; int32 biases keep it under 4x)")
    q = by["unet-small-qat-learned"]
    delta = 100 * (q["pixel_accuracy"] - fp["pixel_accuracy"])
    ok = q["avg_weight_bits"] <= 5.0 and delta >= -2.0
    out.append(f"- QAT learned bit widths (U-Net small): {q['avg_weight_bits']:.2f} avg weight bits, "
               f"{100 * q['pixel_accuracy']:.2f} % vs FP32 {100 * fp['pixel_accuracy']:.2f} % ({delta:+.2f} points); "
               f"target <= 5 bits and >= -2 points: {'met' if ok else 'MISSED'}")
    lut = by["lut-k6"]
    out.append(f"- LUT network: {100 * lut['pixel_accuracy']:.2f} % pixel accuracy, Dice {lut['dice']:.3f} "
               f"(U-Net small FP32: Dice {fp['dice']:.3f}) with {lut['luts']} LUTs (hcl.cost estimate) and "
               f"{lut['weight_memory_bits']:,} truth-table bits")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="qubit,sipm-seg,busi")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None, help="busi data folder (default $HCL_DATA/busi or ../shared/data/busi)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--export", action="store_true", help="also export ONNX / integer weights per task")
    args = ap.parse_args(argv)

    from hcl.bridge.compare import run_compare

    sections = ["# hcl compare benchmark", "",
                f"`python benchmarks/bench_compare.py --tasks {args.tasks} --seed {args.seed}` "
                f"(torch threads: {args.threads}). Per task: the table of `hcl compare`, then the targets.", ""]
    for task in [t.strip() for t in args.tasks.split(",") if t.strip()]:
        data = None
        if task == "busi":
            data = args.data or (None if os.environ.get("HCL_DATA") else str(DEFAULT_BUSI))
        run_dir = ROOT / "runs" / "bench-compare" / task
        t0 = time.monotonic()
        try:
            result = run_compare(task, seed=args.seed, data=data, out=run_dir, threads=args.threads,
                                 export=run_dir / "export" if args.export else None,
                                 progress=lambda line: print(line, flush=True))
        except DataError as exc:
            print(f"{task}: skipped ({exc})", flush=True)
            sections += [f"## {task}", "", f"skipped: {exc}", ""]
            continue
        dest = RESULTS / "compare" / task
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("compare.md", "compare.csv", "cost.png", "examples.png"):
            shutil.copyfile(run_dir / name, dest / name)
        table = (run_dir / "compare.md").read_text().split("\n", 2)[2]
        sections += [f"## {task} ({time.monotonic() - t0:.0f} s)", "", table.strip(), "", "Targets:", "",
                     *targets(result.rows), "",
                     f"Figures: [cost.png](compare/{task}/cost.png), [examples.png](compare/{task}/examples.png)", ""]
        atomic_write_text(RESULTS / "compare.md", "\n".join(sections) + "\n")
    atomic_write_text(RESULTS / "compare.md", "\n".join(sections) + "\n")
    print(f"wrote {RESULTS / 'compare.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
