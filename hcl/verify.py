"""Formal equivalence of an emitted design and its network, for every input (`hcl verify`).

Two independent descriptions of one network meet in a Yosys miter:

* gate: the emitted VHDL, turned into a netlist by ``ghdl --synth`` (the same front end ``hcl synth`` uses);
* gold: the reference netlist ``hcl.netlist`` writes from the network file by hcl.reference's rules.

Yosys builds the miter (one output, high when any output differs) and writes it as an AIGER graph; ABC's
``iprove`` (SAT sweeping: it proves internal nodes of the two sides equal first, so the comparators, tables and
popcounts of the two sides meet node by node) decides it. On the designs in benchmarks/results/verify.md that is
seconds where Yosys' own ``sat -prove`` on the whole miter took minutes. A refutation, or a miter ABC leaves
undecided, goes to ``sat -prove``, which also prints the counterexample's input bits. Undefined bits GHDL writes
(don't-care branches of its comparators) become free inputs, so the proof holds whatever value synthesis gives them.

A combinational design (latency 0) is proved when no input vector makes any output differ. A
registered design of latency L is a feed-forward pipeline, so after L clock edges its outputs depend on the inputs
of L cycles before and on nothing else, whatever the registers held at power-up. The proof unrolls both designs
over L + 1 cycles (ABC ``frames``, first frame uninitialized) from a free initial state with free inputs (``clk``, ``rst``, ``in_valid``, ``x``) at every cycle and
asks that the outputs agree at cycle L + 1: the outputs then are those of the inputs of cycle 1 in the gold model
(its result delayed by exactly L registers, the valid bits shifted and cleared by ``rst``). A design one cycle late
or early reads another cycle's (free) inputs or its initial state there, and is refuted.

A refutation comes back as a counterexample: the input vector with the expected class and scores (hcl.reference)
and the design's, written as a vector file that ``hcl sim DIR --vectors FILE`` replays.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hcl import emit, reference
from hcl.design import load_design
from hcl.errors import ConfigError, ToolError
from hcl.netlist import reference_verilog
from hcl.files import atomic_write_text
from hcl.network import Network
from hcl.tools import run_tool

BUILD = "verify_build"
COUNTEREXAMPLE = "counterexample.txt"
GATE_NETLIST = "gate.v"
GOLD_NETLIST = "gold.v"
MITER = "miter.aig"
MITER_SCRIPT = "miter.ys"
SCRIPT = "proof.ys"
LOG = "proof.log"
ABC_LOG = "abc.log"


@dataclass
class VerifyResult:
    design: Path
    top: str
    proved: bool
    latency_cycles: int
    seconds: float
    counterexample: dict[str, Any] | None = None
    counterexample_file: Path | None = None
    log: Path | None = None
    engine: str = "ABC iprove"
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        how = ("combinational, all inputs" if self.latency_cycles == 0 else
               f"registered, latency {self.latency_cycles}: outputs at cycle {self.latency_cycles + 1} from any "
               "initial state and any inputs")
        if self.proved:
            return [f"{self.top}: PROVED equal to the network ({how}; Yosys miter, {self.engine}, "
                    f"{self.seconds:.1f} s)"]
        cx = self.counterexample or {}
        out = [f"{self.top}: REFUTED ({how}; {self.seconds:.1f} s): the design differs from the network"]
        if "x" in cx:
            out.append(f"  input x = {' '.join(map(str, cx['x']))}")
            out.append(f"  expected class {cx['expected_class']} scores {cx['expected_scores']} (hcl.reference)")
            out.append(f"  design   class {cx['actual_class']} scores {cx['actual_scores']}"
                       + ("" if cx.get("actual_out_valid") is None else f" out_valid {cx['actual_out_valid']}"))
        if self.counterexample_file:
            out.append(f"  counterexample vector: {self.counterexample_file} (replay: hcl sim {self.design} "
                       f"--vectors {self.counterexample_file})")
        out.extend(self.notes)
        return out


def design_network(design, network: str | os.PathLike | None = None) -> Network:
    """The network a design was emitted from: `network` if given, else the copy emit wrote beside it; its hash
    must be the manifest's."""
    d = load_design(design)
    if network is None:
        name = d.manifest.get("network")
        if not isinstance(name, str) or not (d.root / name).is_file():
            raise ConfigError(f"{d.root}: the manifest names no network file (emitted by an older hcl); "
                              "give the network: hcl verify DIR --network NET.json")
        network = d.root / name
    net = Network.load(network)
    want = d.manifest.get("network_sha256")
    if want is not None and emit.network_sha256(net) != want:
        raise ConfigError(f"{network}: not the network {d.root} was emitted from (sha256 differs from the "
                          "manifest's network_sha256); give the right file or re-emit")
    return net


def _prepare(top: str, gold: str, make_outputs: bool) -> list[str]:
    return [f"read_verilog {GATE_NETLIST}", f"read_verilog {GOLD_NETLIST}",
            # GHDL writes truth tables as Verilog memories with initial blocks: `memory` turns them into logic.
            "proc", "memory", "opt_clean",
            f"miter -equiv -flatten{' -make_outputs' if make_outputs else ''} {gold} {top} miter",
            "hierarchy -top miter", "opt -fast"]


def _miter_script(top: str, gold: str) -> str:
    """Yosys commands that write the miter as AIGER for ABC (its only output: `trigger`)."""
    return "\n".join(_prepare(top, gold, make_outputs=False) + [
        "setundef -undriven -expose", "setundef -anyseq",
        "dffunmap", "techmap", "opt_clean", "aigmap", f"write_aiger -zinit {MITER}"]) + "\n"


def _abc_commands(latency: int) -> str:
    if latency == 0:
        return f"read_aiger {MITER}; iprove"
    # Unrolled over latency + 1 cycles with the first frame's registers free; only the last cycle's `trigger`.
    return f"read_aiger {MITER}; frames -F {latency + 1}; cone -O {latency} -R 1; iprove"


def _script(top: str, gold: str, latency: int) -> str:
    show = "-show-inputs -show-outputs"
    if latency == 0:
        sat = f"sat -prove trigger 0 {show} miter"
    else:
        sat = f"sat -seq {latency + 1} -prove-skip {latency} -prove trigger 0 {show} miter"
    return "\n".join(_prepare(top, gold, make_outputs=True) + [sat]) + "\n"


_ROW = re.compile(r"^\s*(?:(\d+)\s+)?\\(\S+)\s+(\S+)\s+(\S+)\s+([01xz]+)\s*$")


def _model(log: str) -> dict[tuple[int, str], str]:
    """The SAT model Yosys printed, as (time step, signal) -> bits (MSB first); step 0 for a combinational proof."""
    values: dict[tuple[int, str], str] = {}
    step = 0
    for line in log.splitlines():
        m = _ROW.match(line)
        if m:
            if m.group(1) is not None:
                step = int(m.group(1))
            values[(step, m.group(2))] = m.group(5)
            continue
        # Narrow signals print only decimal and hex; the binary column is left out when it equals the hex.
        m = re.match(r"^\s*(?:(\d+)\s+)?\\(\S+)\s+(-?\d+)\s+([0-9a-fA-F]+)\s*$", line)
        if m:
            if m.group(1) is not None:
                step = int(m.group(1))
            values[(step, m.group(2))] = format(int(m.group(3)), "b")
    return values


def _counterexample(net: Network, manifest: dict[str, Any], model: dict[tuple[int, str], str],
                    latency: int) -> dict[str, Any]:
    enc = emit._encoder(net)
    first, last = (1, latency + 1) if latency else (0, 0)
    bits = model.get((first, "in_x"))
    if bits is None or set(bits) - {"0", "1"}:
        return {}
    value = int(bits, 2)
    x = []
    for offset, width, signed in zip(enc.word_offsets(), enc.widths, enc.signs):
        v = (value >> offset) & ((1 << width) - 1)
        x.append(v - (1 << width) if signed and v >> (width - 1) else v)
    X = np.array([x], dtype=np.int64)
    cls, scores = emit.golden(net, X)
    sw = int(manifest["score_width"])

    def number(name: str) -> int | None:
        b = model.get((last, name))
        return int(b, 2) if b is not None and not set(b) - {"0", "1"} else None

    packed = number("gate_scores")
    actual_scores = None if packed is None else [(packed >> (c * sw)) & ((1 << sw) - 1) for c in range(net.n_classes)]
    return {"x": x, "expected_class": int(cls[0]), "expected_scores": scores[0].tolist(),
            "actual_class": number("gate_class_idx"), "actual_scores": actual_scores,
            "actual_out_valid": number("gate_out_valid") if latency else None,
            "expected_out_valid": number("gold_out_valid") if latency else None}


def verify(design: str | os.PathLike, network: str | os.PathLike | None = None, timeout: float = 1800
           ) -> VerifyResult:
    """Prove `design` equal to its network (see the module docstring); a refutation is a result, not an error."""
    d = load_design(design)
    manifest = d.manifest
    for key in ("latency_cycles", "score_width", "index_width"):
        v = manifest.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ConfigError(f"{d.root / 'manifest.json'}: {key}: expected an integer >= 0, got {v!r}")
    net = design_network(d.root, network)
    enc = emit._encoder(net)
    latency = int(manifest["latency_cycles"])
    work = d.root / BUILD
    work.mkdir(exist_ok=True)
    for stale in (COUNTEREXAMPLE, LOG, ABC_LOG, MITER):
        (work / stale).unlink(missing_ok=True)
    gold = f"{d.top}_gold"
    try:
        text = reference_verilog(net, enc, int(manifest["score_width"]), max(1, int(manifest["index_width"])),
                                 latency, top=gold)
    except ValueError as e:
        raise ConfigError(f"{d.root}: {e}: the manifest's score_width is too narrow") from None
    atomic_write_text(work / GOLD_NETLIST, text)
    atomic_write_text(work / SCRIPT, _script(d.top, gold, latency))
    atomic_write_text(work / MITER_SCRIPT, _miter_script(d.top, gold))
    start = time.monotonic()
    run_tool("ghdl", ["--synth", "--std=08", "--out=verilog", *map(str, d.files), "-e", d.top], cwd=work,
             timeout=timeout, stdout_file=work / GATE_NETLIST)

    def left() -> float:
        return max(1.0, timeout - (time.monotonic() - start))

    run_tool("yosys", ["-q", MITER_SCRIPT], cwd=work, timeout=left())
    abc = run_tool("yosys-abc", ["-c", _abc_commands(latency)], cwd=work, timeout=left())
    atomic_write_text(work / ABC_LOG, abc.stdout + abc.stderr)
    verdict = re.findall(r"^(UNSATISFIABLE|SATISFIABLE|UNDECIDED)", abc.stdout, flags=re.M)
    if verdict == ["UNSATISFIABLE"]:
        return VerifyResult(d.root, d.top, True, latency, time.monotonic() - start, log=work / ABC_LOG)
    # Refuted (or undecided): Yosys' SAT decides again and prints the counterexample's inputs.
    run_tool("yosys", ["-q", "-l", LOG, SCRIPT], cwd=work, timeout=left())
    seconds = time.monotonic() - start
    log = (work / LOG).read_text(errors="replace")
    if "SUCCESS!" in log and "FAIL!" not in log:
        return VerifyResult(d.root, d.top, True, latency, seconds, log=work / LOG, engine="Yosys SAT")
    if "FAIL!" not in log:
        raise ToolError(f"yosys: the proof ended without a verdict; see {work / LOG}")
    cx = _counterexample(net, manifest, _model(log), latency)
    result = VerifyResult(d.root, d.top, False, latency, seconds, counterexample=cx or None, log=work / LOG,
                          engine="Yosys SAT")
    if cx:
        X = np.array([cx["x"]], dtype=np.int64)
        cls, scores = emit.golden(net, X)
        atomic_write_text(work / COUNTEREXAMPLE, emit.vectors_text(X, cls, scores))
        result.counterexample_file = work / COUNTEREXAMPLE
        if cx["actual_class"] == cx["expected_class"] and cx["actual_scores"] == cx["expected_scores"]:
            result.notes.append(f"  class and scores agree; out_valid differs (design {cx['actual_out_valid']}, "
                                f"network {cx['expected_out_valid']}): the valid protocol or latency is wrong")
    else:
        result.notes.append(f"  (no input vector could be read from the SAT model; see {work / LOG})")
    return result


def report(result: VerifyResult) -> dict[str, Any]:
    return {"design": str(result.design), "top": result.top, "proved": result.proved,
            "latency_cycles": result.latency_cycles, "seconds": round(result.seconds, 2),
            "counterexample": result.counterexample,
            "counterexample_file": str(result.counterexample_file) if result.counterexample_file else None}


def dumps(result: VerifyResult) -> str:
    return json.dumps(report(result))
