"""The LUT model's error band per design size: hcl.cost's estimate beside Yosys synth_xilinx on many designs.

    .venv/bin/python benchmarks/bench_cost_bands.py [--designs 48] [--jobs 2] [--network runs/x/best.json ...]
        draws `--designs` random small networks (K 2..6, 1..2 layers, 2..5 classes, 5..16-bit words, rounded or exact
        thresholds, combinational or registered), adds bench_synth.py's ten larger cases and any --network given,
        emits each (hcl.emit), synthesizes it (`hcl synth --target xilinx`, cached under build/bench_cost_bands/),
        and writes per size bin (of the *estimate*, the figure a user has) the smallest and largest error
        (model - Yosys) / Yosys to benchmarks/results/cost_bands.md, with the literal for hcl/cost.py's
        ERROR_BANDS. `hcl info` and `hcl synth` report the band from there.

Small designs are where ABC's choices (a dozen LUTs either way) are a large share of the count; the band says how
far the estimate of a design of that size has been seen off, not a confidence interval.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_synth import CASES, Case, slug  # noqa: E402
from hcl import cost, emit, synth  # noqa: E402
from hcl.files import atomic_write_text  # noqa: E402
from hcl.network import Network  # noqa: E402

WORK = ROOT / "build" / "bench_cost_bands"
RESULT = ROOT / "benchmarks" / "results" / "cost_bands.md"
# Upper edges of the size bins (estimated LUTs); the last bin is open.
EDGES = (40, 80, 150, 400)


def small_cases(n: int, seed: int) -> list[Case]:
    """`n` random small designs, varied in every dimension the model prices."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        k = int(rng.integers(2, 7))
        classes = int(rng.integers(2, 6))
        width = int(rng.choice([5, 8, 12, 16]))
        last = classes * int(rng.integers(1, 7))
        layers = (int(rng.integers(last, 4 * last + 8)), last) if rng.random() < 0.6 else (last,)
        registers = "layer" if rng.random() < 0.35 else "none"
        threshold_bits = None if width <= 8 and rng.random() < 0.5 else 6
        cases.append(Case(f"small-{i:02d} k{k} {'-'.join(map(str, layers))} c{classes} w{width} {registers}", k,
                          int(rng.integers(3, 13)), width, int(rng.integers(2, 5)), threshold_bits, layers, classes,
                          registers, seed=1000 + i))
    return cases


def measure(name: str, net: Network, registers: str, timeout: float) -> dict:
    out = WORK / slug(name)
    emit.emit(net, out, registers=registers, vectors=False)
    est = cost.estimate(net, registers=registers)
    x = synth.synth(out, "xilinx", timeout=timeout)
    if x["luts"] == 0:   # every output constant (a degenerate random draw): no error to speak of
        print(f"{name}: model {est['luts']} vs yosys 0: left out", flush=True)
        return None
    err = 100.0 * (est["luts"] - x["luts"]) / x["luts"]
    print(f"{name}: model {est['luts']} vs yosys {x['luts']} ({err:+.1f} %){' [cached]' if x['cached'] else ''}",
          flush=True)
    return {"name": name, "k": net.k, "registers": registers, "est": est["luts"], "yosys": x["luts"], "error": err,
            "tools": "; ".join(x["tool_versions"].values())}


def k_group(k: int) -> str:
    """hcl.cost.ERROR_BANDS's key: K <= 4 networks map far less predictably (ABC merges small LUTs)."""
    return "k2-4" if k <= 4 else "k5-6"


def bins(rows: list[dict]) -> list[tuple[int, int | None, float, float, int]]:
    """(lowest estimate, upper edge or None, lowest error %, highest error %, designs) per non-empty bin."""
    out, lo = [], 0
    for hi in (*EDGES, None):
        errs = [r["error"] for r in rows if r["est"] >= lo and (hi is None or r["est"] < hi)]
        if errs:
            out.append((lo, hi, float(np.floor(min(errs))), float(np.ceil(max(errs))), len(errs)))
        lo = hi
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=48, help="random small designs drawn")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--network", action="append", default=[], help="also an existing network JSON (e.g. evolved)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--out", type=Path, default=RESULT)
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    todo = [(c.name, c.network(), c.registers) for c in small_cases(args.designs, args.seed) + CASES]
    for path in args.network:
        net = Network.load(path)
        todo += [(f"{Path(path).parent.name} ({net.task}, evolved) {r}", net, r) for r in ("none", "layer")]
    with ThreadPoolExecutor(args.jobs) as ex:
        rows = list(ex.map(lambda t: measure(*t, timeout=args.timeout), todo))
    dropped = sum(r is None for r in rows)
    rows = [r for r in rows if r is not None]
    rows.sort(key=lambda r: r["est"])
    bands = {g: bins([r for r in rows if k_group(r["k"]) == g]) for g in ("k2-4", "k5-6")}
    command = (f"python benchmarks/bench_cost_bands.py --designs {args.designs} --seed {args.seed}"
               + "".join(f" --network {p}" for p in args.network))
    lines = ["# LUT model error band per design size (issue 16)", "", f"    {command}", "",
             "hcl.cost's estimate beside Yosys `synth_xilinx -family xcup` (`hcl synth --target xilinx`; LUT1..LUT6 "
             "cells, encoder included, post-synthesis) on the VHDL `hcl emit-vhdl` writes. Error = (model - Yosys) / "
             f"Yosys. Tools: {rows[0]['tools']}. Designs: {args.designs} random small networks (seeded), "
             "bench_synth.py's ten cases" + (" and the evolved networks given (both --registers none and layer)"
                                             if args.network else "")
             + (f"; {dropped} random draw(s) whose outputs are all constant (0 LUTs in Yosys) left out" if dropped
                else "") + ". Bins are by the *estimate* (what `hcl info` knows), split by K: K <= 4 networks "
             "map far less predictably (ABC merges chains of small LUTs, and the combinational output logic's "
             "fixed excess in hcl.cost swamps a small design).", "",
             "## Band per K and size of the estimate (hcl/cost.py ERROR_BANDS)", "",
             "| K | estimated LUTs | designs | lowest error | highest error | Yosys LUTs of a design estimated at the "
             "bin's middle |", "|---|---|---|---|---|---|"]
    for g, band in bands.items():
        for lo, hi, e_lo, e_hi, n in band:
            mid = (lo + hi) / 2 if hi else lo * 1.5
            lines.append(f"| {g[1:]} | {lo}..{hi - 1 if hi else ''} | {n} | {e_lo:+.0f} % | {e_hi:+.0f} % | "
                         f"{mid / (1 + e_hi / 100):.0f}..{mid / (1 + e_lo / 100):.0f} (at {mid:.0f}) |")
    literal = "{" + ", ".join(f'"{g}": (' + "".join(f"({lo}, {hi}, {e_lo:.0f}, {e_hi:.0f}, {n}), "
                                                    for lo, hi, e_lo, e_hi, n in band) + ")"
                              for g, band in bands.items()) + "}"
    lines += ["", "Literal for hcl/cost.py:", "", f"    ERROR_BANDS = {literal}", "", "## Every design", "",
              "| design | K | registers | model LUTs | Yosys LUTs | error |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['k']} | {r['registers']} | {r['est']} | {r['yosys']} | {r['error']:+.1f} % |"
              for r in rows]
    lines += ["", f"Wall time: {time.monotonic() - t0:.0f} s (cached results count 0)."]
    atomic_write_text(args.out, "\n".join(lines) + "\n")
    print("\n".join(lines[:lines.index("## Every design")]))


if __name__ == "__main__":
    main()
