"""The one timing model: per FPGA family, the delay of one LUT level and of a register stage, where each figure
comes from, and the one function that turns a design's LUT levels and register plan into nanoseconds.

`hcl emit-vhdl` (the simulation delay model's generics), `hcl synth` (its estimates beside the tools' figures),
`hcl compare` and `hcl info` all price latency here; no other module holds a delay figure.

Sources of the figures (nothing places and routes for AMD here, so the AMD figures are datasheet and typical
post-route numbers, not a fit; run vendor timing analysis on the placed design for real numbers):

* AMD UltraScale+ (-2): LUT6 propagation (T_ILO) ~0.1 ns or less (DS923/DS925; Vivado reports 0.04-0.12 ns per
  LUT6 cell); a LUT-to-LUT net between nearby slices 0.1-0.3 ns in post-route reports; clock-to-Q + setup
  ~0.1 + 0.05 ns. The sum, ~0.3 ns per level, agrees with published LUT-network latencies on UltraScale+ (about
  1.5 ns for a ~5-level JSC network) and with UG949's guidance on logic levels per clock period.
* AMD 7-series (-1): T_ILO ~0.1 ns (DS181/DS182; 0.125 used), nearby net 0.3-0.5 ns, clock-to-Q + setup
  ~0.2 + 0.1 ns.
* Lattice iCE40 HX8K and ECP5 LFE5U-85F: fitted here, post-route (nextpnr on the `hcl synth --target ice40|ecp5`
  flows: the median of routed critical path / LUT4 levels of the stage, benchmarks/bench_timing.py, table and each
  design's error in benchmarks/results/timing.md), LUT, carry and route together; there is no split into a LUT and
  a net figure. Levels alone do not capture carry chains and congestion, so single designs land up to ~25 % off.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    level_ps: int                  # one LUT level: the LUT and the net to the next LUT
    lut_ps: int | None             # the LUT's share of level_ps, where a datasheet gives it (the sim generics)
    register_ps: int               # clock-to-Q + setup of a pipeline register
    source: str

    @property
    def net_ps(self) -> int | None:
        return None if self.lut_ps is None else self.level_ps - self.lut_ps


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("ultrascale", level_ps=300, lut_ps=100, register_ps=150, source=
           "AMD UltraScale+ (-2): LUT6 ~0.1 ns + nearby net ~0.2 ns per level (datasheet, typical post-route)"),
    Family("7series", level_ps=500, lut_ps=125, register_ps=300, source=
           "AMD 7-series (-1): LUT6 ~0.125 ns + nearby net ~0.375 ns per level (datasheet, typical post-route)"),
    Family("ecp5", level_ps=1930, lut_ps=None, register_ps=0, source=
           "Lattice ECP5 LFE5U-85F: ~1.93 ns per LUT4 level, LUT, carry and route, fitted post-route here "
           "(nextpnr-ecp5, 8 designs of 530..6,500 LUT4 incl. an MNIST-class one, median error 8 %, largest 23 %)"),
    Family("ice40", level_ps=1450, lut_ps=None, register_ps=0, source=
           "Lattice iCE40 HX8K: ~1.45 ns per LUT4 level, LUT, carry and route, fitted post-route here "
           "(nextpnr-ice40, 6 designs, median error 16 %, largest 27 %)"),
)}
DEFAULT_FAMILY = "ultrascale"
SIM_FAMILIES = tuple(name for name, f in FAMILIES.items() if f.lut_ps is not None)


def family(name: str) -> Family:
    from hcl.errors import ConfigError
    if name not in FAMILIES:
        raise ConfigError(f"family {name!r} unknown: use one of {', '.join(FAMILIES)}")
    return FAMILIES[name]


def stage_ns(levels: int, family_name: str = DEFAULT_FAMILY, registered: bool = False) -> float:
    """The delay of `levels` LUT levels, plus a register's clock-to-Q and setup when the stage ends in one."""
    f = family(family_name)
    return (levels * f.level_ps + (f.register_ps if registered else 0)) / 1000.0


def latency_ns(depth: int, stage_levels: list[int] | None = None, family_name: str = DEFAULT_FAMILY) -> dict:
    """Input-to-class latency of a design of `depth` LUT levels. Combinational (`stage_levels` None or empty): the
    levels' delay. Registered into stages of `stage_levels` levels: the clock period is the slowest stage with its
    register, and the latency is one period per stage."""
    if not stage_levels:
        return {"period_ns": None, "cycles": 0, "latency_ns": round(stage_ns(depth, family_name), 3)}
    period = stage_ns(max(stage_levels), family_name, registered=True)
    return {"period_ns": round(period, 3), "cycles": len(stage_levels),
            "latency_ns": round(period * len(stage_levels), 3)}
