"""Simulate a routed iCE40 netlist with nextpnr's SDF delays (Icarus Verilog) and measure the settle time of an emitted
combinational design beside nextpnr's critical path and hcl.timing's model (issue 16, item 6).

    .venv/bin/python benchmarks/bench_sdf.py DESIGN_DIR [DESIGN_DIR ...] [--cycles 3000]
        needs ghdl, yosys, nextpnr-ice40 (make install) and iverilog (apt-get install iverilog); writes the table to
        benchmarks/results/sdf.md (bench_timing.py copies it into timing.md). Work files: build/bench_sdf/.

The flow is `hcl synth --target ice40`'s (the same GHDL step, pin wrapper, Yosys script, nextpnr options and seed, so
the same placement), plus nextpnr's ``--write`` (routed netlist) and ``--sdf``. Debian's Icarus Verilog 11 cannot
read that SDF as written: it has no INTERCONNECT support (added in Icarus 12) and its SDF reader rejects the escaped
instance names. So each sink pin's interconnect delay is folded into the IOPATH delays from that pin of its cell (one
driver per pin: exact for combinational paths), instances get plain names in the netlist and the SDF, and the
TIMINGCHECK entries (checks, no delays) are dropped. The cells are Yosys's ICESTORM_LC / SB_IO / SB_GB models with
their specify blocks (-DTIMING -DICE40_HX).

Measured: random bits are shifted through the wrapper's input register, one per clock (100 ns), so every cycle
changes the design's inputs; per cycle, the time from the first change on the input register's outputs to the last
change on the design's outputs (before the output register). The largest over the cycles is a lower bound of the
worst case: random inputs need not sensitize the longest path. nextpnr's critical path adds the input register's
clock-to-Q, the last route into the output register and its setup.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hcl import timing  # noqa: E402
from hcl.design import load_design  # noqa: E402
from hcl.synth import ICE40, WRAP_IN, WRAP_TOP, ice40_wrapper, synth, verilog_ports  # noqa: E402

CELLS_SIM = Path("/usr/share/yosys/ice40/cells_sim.v")
CELLS = ("SB_IO", "SB_GB", "ICESTORM_LC")   # the cell types of a routed iCE40 netlist


def run(args: list[str], cwd: Path, stdout: Path | None = None) -> None:
    with open(stdout, "w") if stdout else open("/dev/null", "w") as out:
        subprocess.run(args, cwd=cwd, check=True, stdout=out)


def cell_models(text: str) -> str:
    """The modules a routed netlist instantiates, from Yosys's iCE40 simulation library (the RAM and PLL models use
    port defaults Icarus 11 cannot parse)."""
    header = text[:text.index("// SiliconBlue IO Cells")]
    mods = {m.group(1): m.group(0) for m in re.finditer(r"(?ms)^(?:\(\*[^\n]*\*\)\n)?module (\w+).*?^endmodule\n", text)}
    return header + "".join(mods[c] for c in CELLS)


def fold_sdf(sdf: str, netlist: str) -> tuple[str, str, int]:
    """(SDF, netlist, cells): interconnect folded into the sinks' IOPATHs, plain instance names (see the docstring)."""
    def unesc(name: str) -> str:
        return re.sub(r"\\(.)", r"\1", name)

    def plain(name: str) -> str:
        return "c_" + re.sub(r"[^A-Za-z0-9_]", "_", name)

    wire: dict[tuple[str, str], float] = defaultdict(float)
    for m in re.finditer(r"\(INTERCONNECT (\S+) (\S+) \((\d+):(\d+):(\d+)\)", sdf):
        inst, pin = unesc(m.group(2)).rsplit("/", 1)
        wire[(inst, pin)] = max(wire[(inst, pin)], float(m.group(5)))
    chunks = sdf.split("\n  (CELL\n")
    out = ['(DELAYFILE', '  (SDFVERSION "3.0")', '  (DESIGN "top")', '  (TIMESCALE 1ps)']
    names: dict[str, str] = {}
    for i, chunk in enumerate(chunks[1:], start=1):
        if i == len(chunks) - 1:
            chunk = chunk.rstrip().rsplit(")", 1)[0]          # the DELAYFILE's closing parenthesis
        ctype = re.search(r'\(CELLTYPE "(\w+)"\)', chunk).group(1)
        inst = re.search(r"\(INSTANCE ([^)]*)\)", chunk).group(1)
        if ctype == "top":
            continue
        raw = unesc(inst.strip())
        names[raw] = plain(raw)

        def add(m, raw=raw):
            d = wire.get((raw, m.group(1)), 0.0)
            rise, fall = float(m.group(3)) + d, float(m.group(4)) + d
            return (f"(IOPATH {m.group(1)} {m.group(2)} ({rise:.0f}:{rise:.0f}:{rise:.0f}) "
                    f"({fall:.0f}:{fall:.0f}:{fall:.0f}))")
        chunk = re.sub(r"\(IOPATH (\S+) (\S+) \((\d+):\d+:\d+\) \((\d+):\d+:\d+\)\)", add, chunk)
        chunk = chunk.replace(f"(INSTANCE {inst})", f"(INSTANCE {names[raw]})")
        chunk = re.sub(r"\n *\(TIMINGCHECK(\n *\(SETUPHOLD [^\n]*)*\n *\)", "", chunk)
        out.append("  (CELL\n" + chunk.rstrip())
    out.append(")")

    def rename(m):
        raw = m.group(2)[1:] if m.group(2).startswith("\\") else m.group(2)
        return m.group(1) + names.get(raw, m.group(2)) + m.group(3)
    netlist = re.sub(r"(\n  (?:\) |[A-Za-z_0-9]+ ))(\\\S+|\w+)( +\()", rename, netlist)
    return "\n".join(out) + "\n", netlist, len(names)


def testbench(netlist: str, n_in: int, n_out: int, cycles: int) -> str:
    """Watches the input register's and the design's output nets that survived synthesis (constant ones did not)."""
    def kept(name: str, n: int) -> list[str]:
        return [f"w.\\{name}[{i}] " for i in range(n) if f"wire \\{name}[{i}] ;" in netlist]
    ins = " or ".join(kept(WRAP_IN, n_in)[:64])
    outs = " or ".join(kept("y", n_out))
    return f"""`timescale 1ps/1ps
module tb;
  reg clk = 0, din = 0;
  wire [{n_out - 1}:0] dout;
  top w(.clk(clk), .din(din), .dout(dout));
  initial $sdf_annotate("folded.sdf", w);
  time edge_t = 0, first = 0, last = 0, worst = 0;
  integer i;
  always @({ins}) if (first < edge_t) first = $time;
  always @({outs}) last = $time;
  initial begin
    for (i = 0; i < {cycles}; i = i + 1) begin
      #50000 clk = 1; edge_t = $time;
      #25000 clk = 0; din = $random;
      #25000;
      if (i > {n_in} && first >= edge_t && last > first && last - first > worst) worst = last - first;
    end
    $display("settle_ps %0d", worst);
    $finish;
  end
endmodule
"""


def measure(folder: Path, cycles: int) -> dict:
    design = load_design(folder)
    if design.manifest.get("latency_cycles"):
        raise SystemExit(f"{folder}: bench_sdf measures a combinational design (emit-vhdl --registers none)")
    work = ROOT / "build" / "bench_sdf" / re.sub(r"[^A-Za-z0-9_.-]+", "_", str(folder))
    work.mkdir(parents=True, exist_ok=True)
    generics = [f"-g{k}={v}" for k, v in sorted(design.generics.items())]
    run(["ghdl", "--synth", "--std=08", "--out=verilog", *generics, *map(str, design.files), "-e", design.top], work,
        work / "design.v")
    ports = verilog_ports((work / "design.v").read_text(), design.top)
    (work / "wrap.v").write_text(ice40_wrapper(ports, design.top, None))
    run(["yosys", "-q", "-p", f"read_verilog design.v wrap.v; synth_ice40 -top {WRAP_TOP} -nobram -json ice40.json"],
        work)
    run(["nextpnr-ice40", ICE40["device"], "--package", ICE40["package"], "--json", "ice40.json",
         "--pcf-allow-unconstrained", "--freq", str(ICE40["freq_mhz"]), "--seed", str(ICE40["seed"]),
         "--timing-allow-fail", "--report", "report.json", "--write", "routed.json", "--sdf", "routed.sdf",
         "--quiet"], work)
    run(["yosys", "-q", "-p", "read_json routed.json; write_verilog -noattr -norename routed.v"], work)
    sdf, netlist, n_cells = fold_sdf((work / "routed.sdf").read_text(), (work / "routed.v").read_text())
    (work / "folded.sdf").write_text(sdf)
    (work / "folded.v").write_text(netlist)
    (work / "cells.v").write_text(cell_models(CELLS_SIM.read_text()))
    n_in = sum(p.width for p in ports if p.direction == "input")
    n_out = sum(p.width for p in ports if p.direction == "output")
    (work / "tb.v").write_text(testbench(netlist, n_in, n_out, cycles))
    run(["iverilog", "-g2012", "-gspecify", "-DTIMING", "-DICE40_HX", "-DNO_ICE40_DEFAULT_ASSIGNMENTS", "-o",
         "sim.vvp", "-s", "tb", "tb.v", "folded.v", "cells.v"], work)
    log = subprocess.run(["vvp", "-n", "sim.vvp"], cwd=work, check=True, capture_output=True, text=True).stdout
    fmax = next(iter(json.loads((work / "report.json").read_text())["fmax"].values()))["achieved"]
    r = synth(folder, "ice40")     # the same flow: its LUT4 levels, and its critical path to check the placement
    return {"design": str(folder), "levels": r["depth"], "settle": int(re.search(r"settle_ps (\d+)", log).group(1)) / 1000,
            "routed": 1000 / fmax, "synth_routed": r["critical_path_ns"], "model": timing.stage_ns(r["depth"], "ice40"),
            "cells": n_cells, "warnings": sum("SDF WARNING" in x or "SDF ERROR" in x for x in log.splitlines())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("designs", nargs="+", type=Path)
    ap.add_argument("--cycles", type=int, default=3000)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "sdf.md")
    args = ap.parse_args()
    rows = [measure(d, args.cycles) for d in args.designs]
    lines = ["## Routed-netlist simulation with SDF delays (iCE40, item 6)", "",
             "    python benchmarks/bench_sdf.py " + " ".join(map(str, args.designs))
             + (f" --cycles {args.cycles}" if args.cycles != 3000 else ""), "",
             "nextpnr-ice40 `--sdf` + `--write` on hcl synth's iCE40 flow (same seed, same placement), the routed "
             "netlist simulated in Icarus Verilog 11 (Debian) with Yosys's cell models and the SDF: interconnect "
             "delays folded into the sink cells' IOPATHs, since Icarus 11 has no INTERCONNECT support (see "
             "bench_sdf.py). Settle: over random input changes (one shift per 100 ns cycle), the longest time from "
             "the first change on the input register's outputs to the last change on the design's outputs; a lower "
             "bound of the worst case (random inputs need not sensitize the longest path) that leaves out the "
             "input register's clock-to-Q, the last route into the output register and its setup, which the routed "
             "critical path includes. Plain Verilog testbench, not cocotb: the check is a time, not vectors.", "",
             "| design | LUT4 levels | SDF settle ns | routed critical path ns | model ns (levels x hcl.timing) | "
             "settle / routed | cells annotated | SDF warnings |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['design']} | {r['levels']} | {r['settle']:.2f} | {r['routed']:.2f} | {r['model']:.2f} | "
                     f"{r['settle'] / r['routed']:.2f} | {r['cells']} | {r['warnings']} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
