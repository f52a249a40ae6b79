"""Time `hcl verify` on emitted designs, and its refutation of a copy with one truth-table bit flipped.

    python benchmarks/bench_verify.py runs/demo/rtl-comb runs/demo/rtl ... [--out benchmarks/results/verify.md]

For each design: the proof (wall and CPU seconds of GHDL + Yosys), then a copy whose last-layer LUT 0 has the bit
flipped that the first test vector addresses (so it changes a class score), refuted by the proof, and the
counterexample replayed by `hcl sim --vectors` (it must fail there).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hcl.encode import Encoder
from hcl.network import Network
from hcl.reference import layer_outputs
from hcl.simulate import simulate
from hcl.verify import verify


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def flip_observable_bit(design: Path) -> tuple[int, int]:
    m = json.loads((design / "manifest.json").read_text())
    net = Network.load(design / m["network"])
    first = next(l for l in (design / m["vectors"]).read_text().splitlines() if l and not l.startswith("#"))
    X = np.array([[int(v) for v in first.split("|")[0].split()]])
    prev = layer_outputs(net, Encoder.from_dict(net.encoder).transform(X))[-2][0]
    address = sum(int(prev[i]) << b for b, i in enumerate(net.wiring[-1][0]))
    half, bit = "", address
    if net.k == 6:
        half, bit = ("_HI", address - 32) if address >= 32 else ("_LO", address)
    vhd = design / m["files"][0]
    text = vhd.read_text()
    pattern = rf'(constant TT_L{net.depth}_0{half} : std_logic_vector\(\d+ downto 0\) := x")([0-9a-f]+)(";)'
    table = re.search(pattern, text).group(2)
    flipped = format(int(table, 16) ^ (1 << bit), f"0{len(table)}x")
    vhd.write_text(re.sub(pattern, lambda g: g.group(1) + flipped + g.group(3), text, count=1))
    return net.depth, address


def timed(fn):
    cpu, wall = children_cpu(), time.monotonic()
    out = fn()
    return out, time.monotonic() - wall, children_cpu() - cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("designs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args()
    rows = []
    for design in args.designs:
        m = json.loads((design / "manifest.json").read_text())
        r, wall, cpu = timed(lambda: verify(design, timeout=args.timeout))
        row = {"design": str(design), "top": m["top"], "luts": m["luts"], "inputs": m["n_features"] * m["input_width"],
               "latency": m["latency_cycles"], "proved": r.proved, "wall": wall, "cpu": cpu}
        with tempfile.TemporaryDirectory() as tmp:
            bad = Path(tmp) / "flipped"
            shutil.copytree(design, bad, ignore=shutil.ignore_patterns("sim_build", "verify_build"))
            layer, address = flip_observable_bit(bad)
            f, fwall, fcpu = timed(lambda: verify(bad, timeout=args.timeout))
            replay = simulate(bad, vectors=f.counterexample_file) if f.counterexample_file else None
            row.update(flipped=f"L{layer} LUT 0 address {address}", refuted=not f.proved, refute_wall=fwall,
                       refute_cpu=fcpu, replay_fails=None if replay is None else not replay.passed)
        rows.append(row)
        print(json.dumps(row), flush=True)
    lines = ["# hcl verify: proof and refutation times", "",
             "`python benchmarks/bench_verify.py " + " ".join(map(str, args.designs)) + "`", "",
             "LUTs: hcl.cost estimate of the design, encoder included. Seconds: GHDL synth + Yosys (CPU: child "
             "processes). Flipped: one truth-table bit of an output LUT, the one the first test vector addresses.", "",
             "| design | LUTs | input bits | latency | proof | wall s | CPU s | flipped copy | wall s | counterexample in hcl sim |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['design']} | {r['luts']} | {r['inputs']} | {r['latency']} | "
                     f"{'PROVED' if r['proved'] else 'REFUTED'} | {r['wall']:.1f} | {r['cpu']:.1f} | "
                     f"{'REFUTED' if r['refuted'] else 'proved (!)'} ({r['flipped']}) | {r['refute_wall']:.1f} | "
                     f"{'fails' if r['replay_fails'] else 'passes (!)' if r['replay_fails'] is False else '-'} |")
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(r["proved"] and r["refuted"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
