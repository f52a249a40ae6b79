"""Calibrate hcl.timing on routed designs: the model's stage delay beside nextpnr's routed critical path.

    .venv/bin/python benchmarks/bench_timing.py DESIGN_DIR [DESIGN_DIR ...] [--targets ice40,ecp5] [--jobs 2]
        runs `hcl synth --target T` on each emitted design (cached by content hash), then per family fits the
        per-level delay (the median of critical path / reg-to-reg LUT4 levels) and writes the table with each
        design's error against hcl.timing's figure and against the fit to benchmarks/results/timing.md.

The designs are whatever `hcl emit-vhdl` wrote; a combinational one is timed inside the pin wrapper (registered
inputs and outputs), so its whole logic is one register-to-register stage.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hcl import timing  # noqa: E402
from hcl.synth import synth  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("designs", nargs="+", type=Path)
    ap.add_argument("--targets", default="ice40,ecp5")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "timing.md")
    args = ap.parse_args()
    targets = args.targets.split(",")
    jobs = [(d, t) for t in targets for d in args.designs]
    t0 = time.monotonic()
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda job: synth(job[0], job[1]), jobs))
    rows = []
    for (design, target), r in zip(jobs, results):
        model = timing.stage_ns(r["depth"], target)
        rows.append({"design": str(design), "target": target, "luts4": r["luts"], "depth": r["depth"],
                     "carry": sum((r.get("carry") or {}).values()), "routed": r["critical_path_ns"],
                     "fmax": r["fmax_mhz"], "model": model, "seconds": r.get("synth_seconds")})
    lines = ["# hcl.timing against routed critical paths (issue 16)", "",
             "    python benchmarks/bench_timing.py " + " ".join(str(d) for d in args.designs)
             + f" --targets {args.targets}", "",
             "Routed: nextpnr's critical path (register to register, inside hcl synth's pin wrapper; seed 1, "
             "100 MHz target). Levels: LUT4 levels on that stage from hcl synth's walk of the mapped netlist "
             "(carry and mux cells not counted as levels). Model: levels x hcl.timing's per-level figure. "
             "Fit: the median of routed / levels over these designs, and each design's error against it.", ""]
    for target in targets:
        mine = [r for r in rows if r["target"] == target]
        fit = statistics.median(r["routed"] / r["depth"] for r in mine if r["depth"])
        fam = timing.family(target)
        lines += [f"## {target}: {fam.source}", "",
                  f"hcl.timing: {fam.level_ps} ps per level; fit here: {fit * 1000:.0f} ps per level "
                  f"({len(mine)} designs).", "",
                  "| design | LUT4 | carry cells | levels (stage) | routed ns | Fmax MHz | model ns | error | "
                  "fit ns | fit error |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in mine:
            fit_ns = fit * r["depth"]
            lines.append(f"| {r['design']} | {r['luts4']} | {r['carry']} | {r['depth']} | {r['routed']:.2f} | "
                         f"{r['fmax']:.1f} | {r['model']:.2f} | {100 * (r['model'] - r['routed']) / r['routed']:+.0f} % | "
                         f"{fit_ns:.2f} | {100 * (fit_ns - r['routed']) / r['routed']:+.0f} % |")
        errs = [abs(fit * r["depth"] - r["routed"]) / r["routed"] for r in mine if r["depth"]]
        lines += ["", f"Largest error against the fit: {100 * max(errs):.0f} %; median {100 * statistics.median(errs):.0f} %.",
                  ""]
    lines.append(f"Wall time of the benchmark: {time.monotonic() - t0:.0f} s (cached results count 0).")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
