"""cocotb testbench for a design written by ``hcl emit-vhdl``: every test vector bit-exact, and its latency.

The design directory's ``manifest.json`` gives the ports, widths, latency and clock; ``vectors.txt`` holds the raw
inputs with the golden class index and scores (from ``hcl.reference``). This module reads only those two files:
it imports nothing from hcl, so no numba, and the golden model is whatever emit wrote.

Tests
* ``vectors_bit_exact``: drives every vector and compares class index and scores with the golden ones. Registered
  designs get one vector per clock with a bubble every 8th cycle (so the valid pipeline is exercised); each
  result must come out exactly ``latency_cycles`` after its input. Combinational designs get one vector per
  settle window. A mismatch is logged with the vector index, expected and got; the test fails with the count.
* ``latency``: registered: isolated vectors must raise ``out_valid`` exactly ``latency_cycles`` cycles after
  ``in_valid`` and at no other time, and a reset must flush a vector in flight. Combinational: the settle time
  under the delay model (input change to the last change of ``class_idx``/``scores``) is measured on every
  vector; its maximum must be within the budget.

Environment
  HCL_SIM_DESIGN     the design directory (required)
  HCL_SIM_BUDGET_NS  settle-time budget of a combinational design, ns (default 15)
  HCL_SIM_CLOCK_NS   clock period of a registered design (default: the manifest's delay_model.clock_period_ps)
  HCL_SIM_REPORT     if set, a JSON summary is written there (vectors, mismatches, latency, settle)
  HCL_SIM_VECTORS    if set, the vector file to check instead of the manifest's (e.g. hcl verify's counterexample)
  HCL_SIM_GENERICS   JSON of the generics overridden on the simulator command line (they scale the settle window)
"""

from __future__ import annotations

import collections
import json
import logging
import math
import os
import sys
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import FallingEdge, RisingEdge, Timer

MAX_LOGGED = 20          # mismatches logged one by one; the rest are only counted
BUBBLE_EVERY = 8         # registered stream: no input on every 8th cycle
SUMMARY: dict = {}
log = logging.getLogger("cocotb.hcl")


class Design:
    """The manifest and vectors of one emitted design, and the packing of its ports."""

    def __init__(self, root: Path):
        self.root = root
        path = root / "manifest.json"
        if not path.is_file():
            raise RuntimeError(f"{path}: missing; HCL_SIM_DESIGN must name a directory written by hcl emit-vhdl")
        m = json.loads(path.read_text())
        self.manifest = m
        vectors = os.environ.get("HCL_SIM_VECTORS") or (root / m["vectors"] if m.get("vectors") else None)
        if vectors is None:
            raise RuntimeError(f"{root}: the design was emitted without test vectors")
        self.latency = int(m["latency_cycles"])
        self.n_features = int(m["n_features"])
        # One width for every feature, or one per feature (laid out from feature 0 at the least significant end).
        per = (lambda v: list(v) if isinstance(v, list) else [v] * self.n_features)
        self.widths = [int(w) for w in per(m["input_width"])]
        self.offsets = [sum(self.widths[:f]) for f in range(self.n_features)]
        self.n_classes, self.score_width = int(m["n_classes"]), int(m["score_width"])
        self.ports = m["ports"]
        self.vectors = self._read_vectors(Path(vectors))
        self.budget_ps = float(os.environ.get("HCL_SIM_BUDGET_NS", "15")) * 1000.0
        # Generics overridden on the simulator command line (HCL_SIM_GENERICS, JSON) scale the delay model, and
        # with it the default clock and the settle window.
        generics = {**m["generics"], **json.loads(os.environ.get("HCL_SIM_GENERICS") or "{}")}
        level_ps = max(1, sum(generics[g] for g in ("G_LUT_PS", "G_NET_PS") if g in generics))
        scale = level_ps / max(1, m["delay_model"]["level_ps"])
        clock_ns = os.environ.get("HCL_SIM_CLOCK_NS")
        if clock_ns:
            self.clock_ps = int(round(float(clock_ns) * 1000))
        else:
            self.clock_ps = int(math.ceil(m["delay_model"]["clock_period_ps"] * scale / 1000) * 1000)
        # Long enough for any path the delay model can produce and for twice the budget, so a slow design is read
        # after it has settled and its settle time is still measured.
        self.window_ps = int(max(2 * self.budget_ps, 4 * m["delay_model"]["critical_path_ps"] * scale, 1000))

    def _read_vectors(self, path: Path) -> list[tuple[list[int], int, list[int]]]:
        rows = []
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("|")
            try:
                x, cls, scores = [int(v) for v in parts[0].split()], int(parts[1]), [int(v) for v in parts[2].split()]
            except (IndexError, ValueError):
                raise RuntimeError(f"{path}:{number}: expected 'x0 .. xF-1 | class | s0 .. sC-1'") from None
            if len(x) != self.n_features or len(scores) != self.n_classes:
                raise RuntimeError(f"{path}:{number}: {len(x)} inputs and {len(scores)} scores, expected "
                                   f"{self.n_features} and {self.n_classes}")
            rows.append((x, cls, scores))
        if not rows:
            raise RuntimeError(f"{path}: no vectors")
        return rows

    def pack(self, x: list[int]) -> int:
        """Feature f in bits [offset_f + W_f - 1 : offset_f]; negative values as W_f-bit two's complement."""
        word = 0
        for value, width, offset in zip(x, self.widths, self.offsets):
            word |= (value & ((1 << width) - 1)) << offset
        return word

    def port(self, dut, name: str):
        return getattr(dut, self.ports[name])

    def read(self, dut) -> tuple[int | None, list[int] | None]:
        """(class, scores) on the output ports, or None where a bit is not 0/1."""
        cls_v, scores_v = self.port(dut, "class_idx").value, self.port(dut, "scores").value
        cls = cls_v.to_unsigned() if cls_v.is_resolvable else None
        if not scores_v.is_resolvable:
            return cls, None
        word, mask = scores_v.to_unsigned(), (1 << self.score_width) - 1
        return cls, [(word >> (c * self.score_width)) & mask for c in range(self.n_classes)]


def design() -> Design:
    root = os.environ.get("HCL_SIM_DESIGN")
    if not root:
        raise RuntimeError("HCL_SIM_DESIGN is not set: point it at a directory written by hcl emit-vhdl")
    return Design(Path(root).resolve())


def write_summary(**fields) -> None:
    SUMMARY.update(fields)
    path = os.environ.get("HCL_SIM_REPORT")
    if path:
        Path(path).write_text(json.dumps(SUMMARY, indent=1) + "\n")


class Checker:
    """Compares outputs with the golden vectors; logs the first mismatches, counts all."""

    def __init__(self, d: Design):
        self.d = d
        self.checked, self.bad = 0, []

    def check(self, index: int, got_cls, got_scores) -> None:
        _, cls, scores = self.d.vectors[index]
        self.checked += 1
        if got_cls == cls and got_scores == scores:
            return
        self.bad.append(index)
        if len(self.bad) <= MAX_LOGGED:
            show = lambda v: "X" if v is None else v   # noqa: E731
            log.error("vector %d: expected class %d scores %s, got class %s scores %s",
                      index, cls, scores, show(got_cls), show(got_scores))

    def verdict(self) -> None:
        n = len(self.d.vectors)
        write_summary(vectors=n, checked=self.checked, mismatches=len(self.bad), mismatch_indices=self.bad[:100])
        assert self.checked == n, f"only {self.checked} of {n} vectors produced an output"
        assert not self.bad, (f"{len(self.bad)} of {n} vectors mismatch (first at vector {self.bad[0]}; "
                              f"{min(len(self.bad), MAX_LOGGED)} logged above)")
        assert "numba" not in sys.modules, "the testbench must not import numba"


async def start_clock(dut, d: Design) -> None:
    Clock(d.port(dut, "clk"), d.clock_ps, unit="ps").start()
    d.port(dut, "in_valid").value = 0
    d.port(dut, "x").value = 0
    d.port(dut, "rst").value = 1
    for _ in range(2):
        await RisingEdge(d.port(dut, "clk"))
    d.port(dut, "rst").value = 0
    await FallingEdge(d.port(dut, "clk"))
    valid = d.port(dut, "out_valid").value
    assert str(valid) == "0", f"out_valid is {valid} after reset, expected 0"


async def cycle(dut, d: Design, x: list[int] | None) -> None:
    """One clock: drive `x` (or a bubble) just after the rising edge, return at the falling edge (outputs stable)."""
    await RisingEdge(d.port(dut, "clk"))
    if x is None:
        d.port(dut, "in_valid").value = 0
    else:
        d.port(dut, "x").value = d.pack(x)
        d.port(dut, "in_valid").value = 1
    await FallingEdge(d.port(dut, "clk"))


def out_valid(dut, d: Design) -> bool:
    value = d.port(dut, "out_valid").value
    assert value.is_resolvable, f"out_valid is {value} at {get_sim_time('ns'):.3f} ns"
    return bool(int(value))


async def settle_watch(signal, box: dict) -> None:
    while True:
        await signal.value_change
        box["last"] = get_sim_time("ps")


async def apply_combinational(dut, d: Design, x: list[int], box: dict) -> float:
    """Apply one vector, wait the window; return its settle time in ps (0 when no output changed)."""
    t0 = get_sim_time("ps")
    box["last"] = -1.0
    d.port(dut, "x").value = d.pack(x)
    d.port(dut, "in_valid").value = 1
    await Timer(d.window_ps, unit="ps")
    return max(0.0, box["last"] - t0)


async def watch_outputs(dut, d: Design) -> tuple[dict, list]:
    """Start the settle-time watchers from a defined state: all-zero inputs, settled (the signals start at 'U')."""
    d.port(dut, "x").value = 0
    d.port(dut, "in_valid").value = 0
    await Timer(d.window_ps, unit="ps")
    box = {"last": -1.0}
    tasks = [cocotb.start_soon(settle_watch(d.port(dut, name), box)) for name in ("class_idx", "scores")]
    return box, tasks


@cocotb.test()
async def vectors_bit_exact(dut):
    """Every test vector through the design; class index and scores must equal the golden model's."""
    d = design()
    checker = Checker(d)
    log.info("%s: %d vectors, registers %s, latency %d", d.manifest["top"], len(d.vectors),
                  d.manifest["registers"], d.latency)
    if d.latency == 0:
        box, tasks = await watch_outputs(dut, d)
        for index, (x, _, _) in enumerate(d.vectors):
            await apply_combinational(dut, d, x, box)
            assert out_valid(dut, d), "out_valid must follow in_valid in a combinational design"
            checker.check(index, *d.read(dut))
        for task in tasks:
            task.cancel()
    else:
        await start_clock(dut, d)
        pending: collections.deque[tuple[int, int]] = collections.deque()   # (input cycle, vector index)
        wrong_latency: list[int] = []
        nxt, now = 0, 0
        limit = 2 * len(d.vectors) + d.latency + 16
        while nxt < len(d.vectors) or pending:
            now += 1
            bubble = now % BUBBLE_EVERY == 0 or nxt >= len(d.vectors)
            await cycle(dut, d, None if bubble else d.vectors[nxt][0])
            if not bubble:
                pending.append((now, nxt))
                nxt += 1
            if out_valid(dut, d):
                assert pending, f"out_valid at cycle {now} with no vector in flight"
                sent, index = pending.popleft()
                if now - sent != d.latency:
                    wrong_latency.append(index)
                checker.check(index, *d.read(dut))
            assert now <= limit, f"{len(pending)} vectors never came out (latency {d.latency} expected)"
        assert not wrong_latency, (f"{len(wrong_latency)} vectors came out after a latency other than "
                                   f"{d.latency} cycles (first: vector {wrong_latency[0]})")
    checker.verdict()


@cocotb.test()
async def latency(dut):
    """Registered: out_valid exactly latency_cycles after in_valid. Combinational: settle time within budget."""
    d = design()
    if d.latency == 0:
        box, tasks = await watch_outputs(dut, d)
        worst, worst_index, total = 0.0, 0, 0.0
        for index, (x, _, _) in enumerate(d.vectors):
            settle = await apply_combinational(dut, d, x, box)
            total += settle
            if settle > worst:
                worst, worst_index = settle, index
        for task in tasks:
            task.cancel()
        log.info("settle time: max %.3f ns (vector %d), mean %.3f ns over %d vectors; budget %.3f ns",
                      worst / 1000, worst_index, total / len(d.vectors) / 1000, len(d.vectors), d.budget_ps / 1000)
        write_summary(latency_cycles=0, settle_ns_max=worst / 1000, settle_ns_mean=total / len(d.vectors) / 1000,
                      settle_vector=worst_index, budget_ns=d.budget_ps / 1000)
        assert worst <= d.budget_ps, (f"settle time {worst / 1000:.3f} ns (vector {worst_index}) exceeds the "
                                      f"budget of {d.budget_ps / 1000:.3f} ns")
        return

    await start_clock(dut, d)
    measured = set()
    for index, (x, _, _) in enumerate(d.vectors[:8]):
        await cycle(dut, d, x)
        seen = 0 if not out_valid(dut, d) else -1
        for wait in range(1, d.latency + 4):
            await cycle(dut, d, None)
            if out_valid(dut, d):
                assert seen == 0, f"vector {index}: out_valid high on more than one cycle"
                seen = wait
        assert seen == d.latency, (f"vector {index}: out_valid {seen} cycles after in_valid, "
                                   f"expected {d.latency}" if seen > 0 else
                                   f"vector {index}: out_valid never rose within {d.latency + 3} cycles")
        measured.add(seen)
    if d.latency >= 2:
        # A reset while a vector is in flight must drop it: no out_valid may follow. The vector enters the
        # pipeline on the edge after it is driven; the reset comes on the next edge, before it can come out.
        await cycle(dut, d, d.vectors[0][0])
        await cycle(dut, d, None)
        d.port(dut, "rst").value = 1
        await cycle(dut, d, None)
        d.port(dut, "rst").value = 0
        for _ in range(d.latency + 3):
            await cycle(dut, d, None)
            assert not out_valid(dut, d), "out_valid rose for a vector that a reset should have flushed"
    log.info("latency: out_valid %s cycle(s) after in_valid, clock %.3f ns", sorted(measured),
                  d.clock_ps / 1000)
    write_summary(latency_cycles=d.latency, latency_measured=sorted(measured), clock_ns=d.clock_ps / 1000)
