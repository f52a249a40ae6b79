"""The full `hcl compare` benchmark: FP32 / PTQ / QAT U-Nets vs the evolved LUT network on busi, qubit, sipm-seg.

    python benchmarks/bench_compare.py                       # all three tasks, seed 0 (~10-20 min each, 1 thread)
    python benchmarks/bench_compare.py --tasks qubit --seed 1
    python benchmarks/bench_compare.py --lut-only --lut-trainer none --lut-max-luts 0   # the LUT network alone

Each task's full outputs go to runs/bench-compare/<task>/ (with the evolve run and, with --export, ONNX files);
compare.md, .csv, .json and the two PNGs are copied to benchmarks/results/compare/<task>/, and
benchmarks/results/compare.md collects the tables of every task there (`--summary-only` just rebuilds it) with the
targets checked:

* PTQ W8A8 within 1 point of FP32 pixel accuracy at (about) 4x smaller weight memory;
* QAT with learned bit widths: average <= 5 weight bits, at most 2 points below FP32 pixel accuracy;
* the LUT network's row as measured.

--lut-only runs only the LUT network of `hcl compare` (the same splits, pixel sample, search and test metrics as
its row in the full table; no U-Net is trained), with the --lut-* options overriding the search's budget; each run's
row and details go to runs/bench-compare-lut/<task>-<trainer>-l<max_luts>-s<seed>/result.json and one line to stdout
(benchmarks/results/compare_lut.md collects such runs).

busi needs /work/shared/data/busi (or --data / HCL_DATA); it is skipped with a note when absent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hcl.errors import DataError  # noqa: E402
from hcl.files import atomic_write_text  # noqa: E402

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
                   f"{100 * f['pixel_accuracy']:.2f} % ({delta:+.2f} points, target >= -1: "
                   f"{'met' if ok else 'MISSED'}), "
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


ORDER = ("qubit", "sipm-seg", "busi")


def section(task: str, folder: Path) -> list[str]:
    """The summary section of one task, from the files its run left in benchmarks/results/compare/<task>/."""
    import json
    summary = json.loads((folder / "compare.json").read_text())
    table = (folder / "compare.md").read_text().split("\n", 2)[2]
    return [f"## {task} ({summary['elapsed_s']:.0f} s, seed {summary['seed']})", "", table.strip(), "", "Targets:", "",
            *targets(summary["rows"]), "",
            f"Figures: [cost.png](compare/{task}/cost.png), [examples.png](compare/{task}/examples.png)", ""]


def write_summary(threads: int, notes: list[str]) -> Path:
    """benchmarks/results/compare.md from every task whose results are present (runs of other tasks are kept)."""
    lines = ["# hcl compare benchmark", "",
             "`python benchmarks/bench_compare.py [--tasks qubit,sipm-seg,busi] [--seed N]` "
             f"(torch threads: {threads}; one CPU core shared with other jobs, so times are indicative). Per task: "
             "the table of `hcl compare` (test split), then the targets.", ""]
    for task in ORDER:
        folder = RESULTS / "compare" / task
        if (folder / "compare.json").is_file():
            lines += section(task, folder)
    lines += notes
    path = RESULTS / "compare.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=",".join(ORDER))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None, help="busi data folder (default $HCL_DATA/busi or ../shared/data/busi)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--export", action="store_true", help="also export ONNX / integer weights per task")
    ap.add_argument("--summary-only", action="store_true",
                    help="only rebuild benchmarks/results/compare.md from the per-task results already there")
    ap.add_argument("--lut-only", action="store_true", help="only the LUT network (no U-Net); see the docstring")
    ap.add_argument("--lut-trainer", choices=("efd", "none"), default=None, help="default: compare's (efd)")
    ap.add_argument("--lut-max-luts", type=int, default=None, help="0: no limit; default: compare's (250)")
    ap.add_argument("--lut-time-limit", type=float, default=None, help="seconds, 0: none; default: compare's (60)")
    ap.add_argument("--lut-generations", type=int, default=None, help="default: compare's (150)")
    args = ap.parse_args(argv)
    if args.lut_only:
        return lut_only(args)

    notes = []
    tasks = [] if args.summary_only else task_list(args)
    if tasks:
        from hcl.bridge.compare import run_compare
    for task in tasks:
        data = task_data(task, args)
        run_dir = ROOT / "runs" / "bench-compare" / task
        try:
            run_compare(task, seed=args.seed, data=data, out=run_dir, threads=args.threads,
                        export=run_dir / "export" if args.export else None,
                        progress=lambda line: print(line, flush=True))
        except DataError as exc:
            print(f"{task}: skipped ({exc})", flush=True)
            notes += [f"{task}: skipped ({exc})", ""]
            continue
        dest = RESULTS / "compare" / task
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("compare.md", "compare.csv", "compare.json", "cost.png", "examples.png"):
            shutil.copyfile(run_dir / name, dest / name)
        write_summary(args.threads, notes)
    print(f"wrote {write_summary(args.threads, notes)}")
    return 0


def task_list(args) -> list[str]:
    return [t.strip() for t in args.tasks.split(",") if t.strip()]


def task_data(task: str, args):
    """busi reads a folder (--data, else HCL_DATA's, else the shared one); the other tasks are generated."""
    if task != "busi":
        return None
    return args.data or (None if os.environ.get("HCL_DATA") else str(DEFAULT_BUSI))


def lut_only(args) -> int:
    import json
    from dataclasses import replace

    from hcl.bridge.compare import FULL, run_lut_only
    given = {"lut_trainer": args.lut_trainer, "lut_generations": args.lut_generations}
    changes = {k: v for k, v in given.items() if v is not None}
    for key, value in (("lut_max_luts", args.lut_max_luts), ("lut_time_limit", args.lut_time_limit)):
        if value is not None:
            changes[key] = value or None          # 0: no limit
    budget = replace(FULL, **changes)
    for task in task_list(args):
        data = task_data(task, args)
        out = (ROOT / "runs" / "bench-compare-lut" /
               f"{task}-{budget.lut_trainer}-l{budget.lut_max_luts or 'none'}-s{args.seed}")
        try:
            res = run_lut_only(task, seed=args.seed, data=data, out=out, budget=budget)
        except DataError as exc:
            print(f"{task}: skipped ({exc})", flush=True)
            continue
        atomic_write_text(out / "result.json", json.dumps(res, indent=1, default=str) + "\n")
        r, d = res["row"], res["detail"]
        print(f"{task} seed {args.seed} trainer {d['trainer']} max_luts {d['max_luts']} time_limit {d['time_limit']}:"
              f" Dice {r['dice']:.3f} IoU {r['iou']:.3f} acc {r['pixel_accuracy']:.4f} LUTs {r['luts']}"
              f" (encoder {d['cost']['luts_encoder']}) layers {d['layers']} val {d['pixel_val_accuracy']:.4f}"
              f" generations {d['generations']} wall {res['wall_s']} s CPU {res['cpu_s']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
