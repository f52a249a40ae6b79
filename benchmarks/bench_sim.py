"""Emission and simulation time of a large design: `hcl emit-vhdl` then `hcl sim` (cocotb + GHDL) on every vector.

    python benchmarks/bench_sim.py --network runs/bench-mnist/best.json [--registers layer,none] [--max-vectors N]

Times emission (VHDL + golden vectors from hcl.reference), then the simulation (GHDL analysis and elaboration plus
the cocotb run that drives and checks every vector), with the functions the CLI calls. Writes
benchmarks/results/sim.md; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hcl.emit import emit  # noqa: E402
from hcl.files import atomic_write_text  # noqa: E402
from hcl.network import Network  # noqa: E402
from hcl.simulate import simulate  # noqa: E402

from _data import default_data  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", required=True, type=Path)
    ap.add_argument("--registers", default="layer,none", help="comma-separated: one design each")
    ap.add_argument("--max-vectors", type=int, default=None)
    ap.add_argument("--data", default=None, help="data for the network's task (default: $HCL_DATA / ../shared/data)")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "bench_sim")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "sim.md")
    args = ap.parse_args(argv)
    net = Network.load(args.network)
    data = args.data or (default_data("mnist") if net.task == "mnist" else None)
    rows, passed = [], True
    for registers in args.registers.split(","):
        design = args.work / f"{net.task}-{registers}"
        t0 = time.perf_counter()
        m = emit(args.network, design, registers=registers, data=data, max_vectors=args.max_vectors)
        emit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = simulate(design, build_dir=design / "sim_build")
        total_s = time.perf_counter() - t0
        print("\n".join(result.lines()))
        passed = passed and result.passed
        rows.append({"network": str(args.network), "task": net.task, "luts_estimated": m["luts"],
                     "depth": m["depth"], "registers": registers, "vectors": result.vectors,
                     "mismatches": result.mismatches, "passed": result.passed, "emit_s": round(emit_s, 1),
                     "build_and_sim_s": round(total_s, 1), "vhdl_bytes": (design / m["files"][0]).stat().st_size})
    lines = ["# Emission and simulation time", "",
             f"`python benchmarks/bench_sim.py {' '.join(sys.argv[1:] if argv is None else argv)}` on this 2-core "
             "machine (GHDL 2.0.0 mcode, cocotb 2.1).", "",
             "| network | LUTs (est.) | depth | registers | VHDL KiB | vectors | mismatches | emit s "
             "| GHDL build + cocotb run s |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['network']} ({r['task']}) | {r['luts_estimated']} | {r['depth']} | {r['registers']} | "
              f"{r['vhdl_bytes'] / 1024:.0f} | {r['vectors']} | {r['mismatches']} | {r['emit_s']} | "
              f"{r['build_and_sim_s']} |" for r in rows]
    print("\n".join(lines))
    atomic_write_text(args.out, "\n".join(lines) + "\n")
    print(json.dumps(rows))
    if not passed:
        sys.exit(1)


if __name__ == "__main__":
    main()
