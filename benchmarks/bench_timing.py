"""Calibrate hcl.timing on routed designs: the model's stage delay beside nextpnr's routed critical path.

    .venv/bin/python benchmarks/bench_timing.py DESIGN_DIR [DESIGN_DIR ...] [--targets ice40,ecp5] [--jobs 2]
        runs `hcl synth --target T` on each emitted design (cached by content hash), then per family fits the
        per-level delay (the median of critical path / reg-to-reg LUT4 levels) and writes the table with each
        design's error against hcl.timing's figure and against the fit to benchmarks/results/timing.md.

The designs are whatever `hcl emit-vhdl` wrote; a combinational one is timed inside the pin wrapper (registered
inputs and outputs), so its whole logic is one register-to-register stage.

    --keep: also keep the rows already in the output file (routed earlier, e.g. on designs whose run folders are not
        in this checkout) for designs not given now; they enter the fit and are marked "recorded" with the command
        that measured them. With --targets ecp5, the kept iCE40 rows stay too (an MNIST-class
        design does not fit the iCE40 HX8K, so it is routed on ECP5 only).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hcl import timing  # noqa: E402
from hcl.synth import synth  # noqa: E402


# How the designs in the table were made (the run folders are not committed).
MADE_BY = {
    "runs/demo": "make demo (hcl evolve --task sipm --luts 6 --generations 80 --population 32 --seed 1; deterministic)",
    "runs/digits": "hcl evolve --task digits --luts 6 --max-luts 300 --time-limit 60 --seed 0 (as verify.md records; "
                   "time-limited, so not bit-reproducible)",
    "runs/timing/sipm_k6": "hcl emit-vhdl examples/sipm_k6.json --registers layer / every=2 / none",
    "runs/mnist-2k": "HCL_DATA=... hcl evolve --task mnist --luts 6 --max-luts 2000 --time-limit 420 --trainer efd "
                     "--seed 0 (test 0.9727, 1,942 LUTs est.)",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("designs", nargs="+", type=Path)
    ap.add_argument("--targets", default="ice40,ecp5")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "timing.md")
    ap.add_argument("--keep", action="store_true", help="keep the output file's rows of designs not given now")
    args = ap.parse_args()
    targets = args.targets.split(",")
    jobs = [(d, t) for t in targets for d in args.designs]
    kept = recorded_rows(args.out, {str(d) for d, _ in jobs}) if args.keep and args.out.exists() else []
    t0 = time.monotonic()
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda job: synth(job[0], job[1]), jobs))
    rows = []
    for (design, target), r in zip(jobs, results):
        model = timing.stage_ns(r["depth"], target)
        rows.append({"design": str(design), "target": target, "luts4": r["luts"], "depth": r["depth"],
                     "carry": sum((r.get("carry") or {}).values()), "routed": r["critical_path_ns"],
                     "fmax": r["fmax_mhz"], "model": model, "seconds": r.get("synth_seconds")})
    commands = list(dict.fromkeys(r["command"] for r in kept))
    rows = [dict(r, model=timing.stage_ns(r["depth"], r["target"])) for r in kept] + rows
    command = ("python benchmarks/bench_timing.py " + " ".join(str(d) for d in args.designs)
               + f" --targets {args.targets}"
               + (" --keep" if args.keep else ""))
    lines = ["# hcl.timing against routed critical paths (issue 16)", "",
             *[f"    {c}" for c in commands + [command]], "",
             *(["Rows marked *recorded* were routed by an earlier command above (their run folders are not in this "
                "checkout) and kept by --keep; the others by the last command.", ""] if kept else []),
             "Routed: nextpnr's critical path (register to register, inside hcl synth's pin wrapper; seed 1, "
             "100 MHz target). Levels: LUT4 levels on that stage from hcl synth's walk of the mapped netlist "
             "(carry and mux cells not counted as levels). Model: levels x hcl.timing's per-level figure. "
             "Fit: the median of routed / levels over these designs, and each design's error against it.", "",
             "Designs (`hcl emit-vhdl DIR/best.json --out DIR/rtl --registers layer`, `rtl-comb`: `--registers none`):",
             *[f"- `{k}`: {v}" for k, v in MADE_BY.items() if any(r["design"].startswith(k) for r in rows)], ""]
    for target in [t for t in ("ice40", "ecp5") if any(r["target"] == t for r in rows)]:
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
            lines.append(f"| {r['design']}{' (recorded)' if r.get('command') else ''} | {r['luts4']} | {r['carry']} | {r['depth']} | {r['routed']:.2f} | "
                         f"{r['fmax']:.1f} | {r['model']:.2f} | {100 * (r['model'] - r['routed']) / r['routed']:+.0f} % | "
                         f"{fit_ns:.2f} | {100 * (fit_ns - r['routed']) / r['routed']:+.0f} % |")
        errs = [abs(fit * r["depth"] - r["routed"]) / r["routed"] for r in mine if r["depth"]]
        lines += ["", f"Largest error against the fit: {100 * max(errs):.0f} %; median {100 * statistics.median(errs):.0f} %; "
                      f"within the issue's 15 % target: {sum(e <= 0.15 for e in errs)} of {len(errs)} designs.", ""]
    lines += ["Why the 15 % target is missed: one figure per LUT4 level cannot see what else sets a routed path: "
              "the carry chains of the popcounts and comparators (not counted as levels, yet tens of cells long), and "
              "congestion (the same LUT4 depth routes 1.6..2.3 ns per level on ECP5 across these designs). "
              "An offset + per-level least-squares fit does not fix it (largest error 18 % on ECP5, 28 % on iCE40). The MNIST-class "
              "design is routed on ECP5 only: its 6,500 LUT4 + 3,000 PFU muxes + 1,800 carry cells on ECP5 would "
              "need more than the 7,680 logic cells of the largest iCE40 nextpnr knows (HX8K).", ""]
    sdf = args.out.parent / "sdf.md"
    if sdf.exists():
        lines += [sdf.read_text().rstrip(), ""]
    lines.append(f"Wall time of the benchmark: {time.monotonic() - t0:.0f} s (cached results count 0).")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def recorded_rows(path: Path, skip: set[str]) -> list[dict]:
    """The rows of an earlier timing.md (per target section), less the designs in `skip`, with their command."""
    rows, target, commands = [], None, []
    for line in path.read_text().splitlines():
        if line.startswith("    python benchmarks/bench_timing.py"):
            commands.append(line.strip())
        m = re.match(r"## (\w+): ", line)
        if m:
            target = m.group(1)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if target and line.startswith("| ") and len(cells) == 10 and cells[1][:1].isdigit():
            design, earlier = cells[0].replace(" (recorded)", ""), cells[0].endswith(" (recorded)")
            if design in skip:
                continue
            rows.append({"design": design, "target": target, "luts4": int(cells[1]), "carry": int(cells[2]),
                         "depth": int(cells[3]), "routed": float(cells[4]), "fmax": float(cells[5]),
                         "command": commands[0] if earlier else commands[-1]})
    return rows


if __name__ == "__main__":
    main()
