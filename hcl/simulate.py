"""Run the cocotb testbench (``hcl.sim.tb_network``) on an emitted design with GHDL, through cocotb's Python runner.

``make sim`` runs the same testbench through cocotb's Makefile flow; both write JUnit XML. The testbench reports
its figures (vectors checked, mismatches, latency or settle time) in a JSON summary, which is what this module
returns.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcl.design import load_design
from hcl.errors import ConfigError, ToolError
from hcl.tools import find_tool

TEST_MODULE = "hcl.sim.tb_network"
GHDL_STD = "--std=08"
# numeric_std warns about the 'U' every signal holds until the first inputs have propagated through the delay
# model; the testbench drives only 0/1 inputs after that and checks every output bit, so the warnings say nothing.
GHDL_RUN = ["--ieee-asserts=disable"]


@dataclass
class SimResult:
    design: Path
    top: str
    registers: str
    latency_cycles: int
    tests: int
    failures: int
    summary: dict[str, Any]
    results_xml: Path
    log: Path
    messages: list[str] = field(default_factory=list)
    coverage: Any = None              # hcl.coverage.Coverage of the vectors, when the design holds its network

    @property
    def passed(self) -> bool:
        return self.tests > 0 and self.failures == 0

    @property
    def vectors(self) -> int:
        return int(self.summary.get("vectors", 0))

    @property
    def mismatches(self) -> int | None:
        return self.summary.get("mismatches")

    def lines(self) -> list[str]:
        """The verdict, for people."""
        s = self.summary
        out = [f"{self.top}: {'PASS' if self.passed else 'FAIL'} ({self.tests - self.failures}/{self.tests} "
               f"cocotb tests passed; JUnit XML {self.results_xml})"]
        if "checked" in s:
            first = f" (first at vector {s['mismatch_indices'][0]})" if s.get("mismatch_indices") else ""
            out.append(f"vectors: {s['checked']} of {s['vectors']} checked bit-exact, {s['mismatches']} "
                       f"mismatches{first}")
        if self.latency_cycles == 0 and "settle_ns_max" in s:
            out.append(f"latency: combinational, settle max {s['settle_ns_max']:.3f} ns (vector {s['settle_vector']}), "
                       f"mean {s['settle_ns_mean']:.3f} ns, budget {s['budget_ns']:g} ns (delay model)")
        elif "latency_measured" in s:
            out.append(f"latency: {self.latency_cycles} cycles ({self.registers}), measured {s['latency_measured']}, "
                       f"clock {s['clock_ns']:g} ns")
        if self.coverage is not None:
            out.append(self.coverage.line() + "; hcl verify proves them all")
        out.extend(self.messages)
        return out


_COUNT = {"type": "integer", "minimum": 1, "maximum": 1 << 20, "x-expect": "an integer 1..2**20"}
_WIDTH = {"type": "integer", "minimum": 1, "maximum": 64, "x-expect": "an integer 1..64"}
_PS = {"type": "number", "minimum": 0, "maximum": 1e12, "x-expect": "a number of picoseconds >= 0"}
PORTS = ("clk", "rst", "in_valid", "x", "out_valid", "class_idx", "scores")
# What the testbench (hcl/sim/tb_network.py) reads from a manifest, declared once: a hand-edited manifest that
# breaks it is a one-line error here, before GHDL runs.
SIM_MANIFEST = {
    "type": "object",
    "required": ["latency_cycles", "n_features", "input_width", "n_classes", "score_width", "ports", "delay_model"],
    "properties": {
        "latency_cycles": {"type": "integer", "minimum": 0, "maximum": 1 << 16, "x-expect": "an integer >= 0"},
        "n_features": _COUNT,
        "input_width": {"oneOf": [_WIDTH, {"type": "array", "items": _WIDTH, "minItems": 1}],
                        "x-expect": "a width 1..64 or a list of them (one per feature)"},
        "n_classes": _COUNT,
        "score_width": _WIDTH,
        "ports": {"type": "object", "required": list(PORTS),
                  "properties": {p: {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$",
                                     "x-expect": "a VHDL port name"} for p in PORTS}},
        "generics": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0,
                                                                "x-expect": "an integer >= 0"}},
        "delay_model": {"type": "object", "required": ["level_ps", "clock_period_ps", "critical_path_ps"],
                        "properties": {"level_ps": _PS, "clock_period_ps": _PS, "critical_path_ps": _PS}},
    },
}


def read_manifest(design: str | os.PathLike, vectors_file: str | os.PathLike | None = None) -> dict[str, Any]:
    """The manifest, checked as `synth` checks it (hcl.design), then for what a simulation needs (SIM_MANIFEST;
    its vectors, or `vectors_file` instead, each line as the testbench reads it: read_vectors)."""
    from hcl import schemas
    d = load_design(design)
    manifest, path = d.manifest, d.root / "manifest.json"
    latency = manifest.get("latency_cycles")
    if isinstance(latency, bool) or not isinstance(latency, int) or latency < 0:
        raise ConfigError(f"{path}: latency_cycles: expected an integer >= 0, got {latency!r}")
    problem = schemas.first_error(manifest, schemas.StrictValidator(SIM_MANIFEST))
    if problem is not None:
        raise ConfigError(f"{path}: {problem} (re-run hcl emit-vhdl rather than editing the manifest)")
    widths = manifest["input_width"]
    if isinstance(widths, list) and len(widths) != manifest["n_features"]:
        raise ConfigError(f"{path}: input_width: {len(widths)} widths for n_features {manifest['n_features']}")
    if vectors_file is not None:
        if not Path(vectors_file).is_file():
            raise ConfigError(f"--vectors {vectors_file}: no such file (give a vector file, e.g. the counterexample "
                              "hcl verify wrote)")
        read_vectors(Path(vectors_file), manifest)
        return manifest
    vectors = manifest.get("vectors")
    if not vectors:
        raise ConfigError(f"{design}: emitted without test vectors (--no-vectors); re-emit with a task to simulate")
    if not isinstance(vectors, str) or not (d.root / vectors).is_file():
        raise ConfigError(f"{path}: vectors: {vectors!r} is not a file in {d.root}")
    read_vectors(d.root / vectors, manifest)
    return manifest


def read_vectors(path: Path, manifest: dict[str, Any]) -> list[list[int]]:
    """The inputs of a vector file (``x0 .. xF-1 | class | s0 .. sC-1`` a line, # comments), every line checked
    as the testbench reads it: counts, and each number within its word; else a one-line error naming the line."""
    n_features, n_classes = manifest["n_features"], manifest["n_classes"]
    widths = manifest["input_width"]
    widths = widths if isinstance(widths, list) else [widths] * n_features
    top = 1 << manifest["score_width"]
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file of vectors") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        where = f"{path}:{number}"
        parts = line.split("|")
        try:
            if len(parts) != 3:
                raise ValueError
            x, cls, scores = [int(v) for v in parts[0].split()], int(parts[1]), [int(v) for v in parts[2].split()]
        except ValueError:
            raise ConfigError(f"{where}: expected 'x0 .. x{n_features - 1} | class | s0 .. s{n_classes - 1}' "
                              f"(integers), got {line[:60]!r}") from None
        if len(x) != n_features or len(scores) != n_classes:
            raise ConfigError(f"{where}: {len(x)} inputs and {len(scores)} scores, expected {n_features} and "
                              f"{n_classes} (the design's manifest)")
        for f, (v, w) in enumerate(zip(x, widths)):
            if not -(1 << (w - 1)) <= v < (1 << w):
                raise ConfigError(f"{where}: input {f} = {v} does not fit its {w}-bit word")
        if not 0 <= cls < n_classes or not all(0 <= s < top for s in scores):
            raise ConfigError(f"{where}: class {cls} or a score outside 0..{n_classes - 1} / 0..{top - 1}")
        rows.append(x)
    if not rows:
        raise ConfigError(f"{path}: no vectors")
    return rows


@contextmanager
def _ghdl_on_path():
    """cocotb's runner calls plain `ghdl`: the one hcl.tools finds ($HCL_GHDL or PATH) must be the one it runs.

    $HCL_GHDL may have another name or share its folder with another ghdl (HCL_GHDL=/bin/false would put /bin,
    and the real /bin/ghdl, first), so a private folder holding only a `ghdl` link to it goes first on PATH."""
    import shlex
    import tempfile
    ghdl = Path(find_tool("ghdl")).absolute()
    old = os.environ.get("PATH", "")
    with tempfile.TemporaryDirectory(prefix="hcl-ghdl-") as folder:
        # A script, not a link: Debian's ghdl finds its back ends next to the path it was started by.
        shim = Path(folder) / "ghdl"
        shim.write_text(f"#!/bin/sh\nexec {shlex.quote(str(ghdl))} \"$@\"\n")
        shim.chmod(0o755)
        os.environ["PATH"] = folder + os.pathsep + old
        try:
            yield
        finally:
            os.environ["PATH"] = old


def _results(xml: Path) -> tuple[int, int, list[str]]:
    """(tests, failures, failure messages) from cocotb's JUnit XML."""
    root = ET.parse(xml).getroot()
    tests, failures, messages = 0, 0, []
    for case in root.iter("testcase"):
        tests += 1
        for bad in [*case.iter("failure"), *case.iter("error")]:
            failures += 1
            text = (bad.get("message") or bad.text or "").strip().splitlines()
            # The first line is the assertion's own message; pytest-style introspection follows it.
            messages.append(f"{case.get('name')}: {text[0] if text else 'failed'}")
    return tests, failures, messages


def simulate(design: str | os.PathLike, budget_ns: float = 15.0, clock_ns: float | None = None,
             build_dir: str | os.PathLike | None = None, generics: dict[str, int] | None = None,
             testcase: str | None = None, vectors: str | os.PathLike | None = None) -> SimResult:
    """Build `design` with GHDL (VHDL-2008) and run the testbench; the result holds the testbench's figures.

    A failing design is a result (``passed`` False), not an exception; ToolError means the simulation itself could
    not run (GHDL missing, the VHDL does not analyze, the simulator crashed).
    """
    from cocotb_tools.runner import get_runner

    design = Path(design).resolve()
    manifest = read_manifest(design, vectors)
    known = manifest.get("generics", {})
    for name in generics or {}:
        if name not in known:
            raise ConfigError(f"generic {name!r}: {manifest['top']} has only {', '.join(known) or 'none'}")
    if budget_ns <= 0:
        raise ConfigError(f"--budget-ns {budget_ns}: must be positive")
    build = Path(build_dir).resolve() if build_dir else design / "sim_build"
    build.mkdir(parents=True, exist_ok=True)
    xml, report, log = build / "results.xml", build / "summary.json", build / "sim.log"
    for stale in (xml, report):
        stale.unlink(missing_ok=True)
    env = {"HCL_SIM_DESIGN": str(design), "HCL_SIM_BUDGET_NS": repr(float(budget_ns)),
           "HCL_SIM_REPORT": str(report)}
    if vectors is not None:
        env["HCL_SIM_VECTORS"] = str(Path(vectors).resolve())
    if generics:
        env["HCL_SIM_GENERICS"] = json.dumps(generics)
    if clock_ns is not None:
        env["HCL_SIM_CLOCK_NS"] = repr(float(clock_ns))

    with _ghdl_on_path():
        runner = get_runner("ghdl")
        try:
            runner.build(sources=[design / f for f in manifest["files"]], hdl_toplevel=manifest["top"],
                         build_args=[GHDL_STD], build_dir=build, always=True, log_file=build / "build.log")
        except (RuntimeError, SystemExit):
            raise ToolError(f"ghdl could not build {manifest['top']}: {_tail(build / 'build.log')}") from None
        try:
            runner.test(test_module=TEST_MODULE, hdl_toplevel=manifest["top"], hdl_toplevel_lang="vhdl",
                        test_args=[GHDL_STD], build_dir=build, test_dir=build, results_xml=str(xml),
                        plusargs=GHDL_RUN, extra_env=env, parameters=dict(generics or {}), log_file=log,
                        testcase=testcase)
        except (RuntimeError, SystemExit):
            # The runner exits when a test fails under pytest, or when the simulator does: the XML decides which.
            pass
    if not xml.is_file():
        raise ToolError(f"the simulation of {manifest['top']} wrote no results: {_tail(log)}")
    tests, failures, messages = _results(xml)
    summary = json.loads(report.read_text()) if report.is_file() else {}
    return SimResult(design, manifest["top"], str(manifest.get("registers")), int(manifest["latency_cycles"]),
                     tests, failures, summary, xml, log, messages,
                     _coverage(design, manifest, Path(vectors) if vectors else design / manifest["vectors"]))


def _coverage(design: Path, manifest: dict[str, Any], vectors: Path):
    """Table coverage of the vectors simulated; None for a design emitted without its network file."""
    import numpy as np

    from hcl.coverage import table_coverage
    from hcl.network import Network
    name = manifest.get("network")
    if not isinstance(name, str) or not (design / name).is_file():
        return None
    return table_coverage(Network.load(design / name), np.array(read_vectors(vectors, manifest), dtype=np.int64))


# Every warning GHDL 2.0 knows, by name (it has no -Wall): binding, hiding, unused subprograms, static checks...
GHDL_WARNINGS = ["-W" + name for name in (
    "binding", "default-binding", "reserved", "nested-comment", "directive", "parenthesis", "vital-generic",
    "delayed-checks", "body", "specs", "universal", "port-bounds", "runtime-error", "delta-cycle", "shared", "hide",
    "unused", "others", "pure", "analyze-assert", "attribute", "useless", "missing-xref", "static", "library",
    "port", "pragma")]


def lint(design: str | os.PathLike, synth: bool = True) -> list[str]:
    """Analyze and elaborate a design with every GHDL warning enabled, and (`synth`) run ``ghdl --synth`` on it;
    return the warning lines (none expected). A tool failure raises ToolError."""
    import tempfile

    from hcl.tools import run_tool
    design = Path(design).resolve()
    manifest = read_manifest(design) if (design / "manifest.json").is_file() else None
    if manifest is None:
        raise ConfigError(f"{design}: no manifest.json; not a design written by hcl emit-vhdl")
    sources = [design / f for f in manifest["files"]]
    with tempfile.TemporaryDirectory(prefix="hcl-lint-") as work:
        common = [GHDL_STD, f"--workdir={work}", *GHDL_WARNINGS]
        runs = [run_tool("ghdl", ["-a", *common, *sources], cwd=work),
                run_tool("ghdl", ["-e", *common, manifest["top"]], cwd=work)]
        if synth:
            # The netlist goes to stdout and is not needed; only the diagnostics on stderr are.
            runs.append(run_tool("ghdl", ["--synth", *common, *sources, "-e", manifest["top"]], cwd=work))
    lines = []
    for r in runs:
        text = r.stderr if "--synth" in r.args else r.stderr + r.stdout
        lines += [line for line in text.splitlines() if ":warning:" in line or line.startswith("warning:")]
    return lines


def _tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"
