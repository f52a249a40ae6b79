"""One timing model: every latency hcl prints comes from hcl.timing, and no other module holds a delay figure."""

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from hcl import timing
from hcl.errors import ConfigError

HCL = Path(__file__).parents[1] / "hcl"
DELAY_NAME = re.compile(r"(^|_)(ns|ps|delay)($|_)|per_level", re.IGNORECASE)
# Not FPGA delays: a property of the data.
NOT_FPGA_DELAYS = {("tasks/sipm.py", "SAMPLE_NS")}


def delay_figures(source: str) -> list[tuple[int, str]]:
    """(line, name) of every number literal bound to a delay-like name: an assignment, a dict key, a keyword."""
    def number(v):
        return isinstance(v, ast.Constant) and isinstance(v.value, (int, float)) and not isinstance(v.value, bool) \
            or isinstance(v, ast.UnaryOp) and number(v.operand)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and number(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [(node.lineno, t.id) for t in targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.Dict):
            found += [(k.lineno, k.value) for k, v in zip(node.keys, node.values)
                      if isinstance(k, ast.Constant) and isinstance(k.value, str) and number(v)]
        elif isinstance(node, ast.keyword) and node.arg and number(node.value):
            found.append((node.value.lineno, node.arg))
    return [(n, name) for n, name in found if DELAY_NAME.search(name)]


def test_no_module_but_timing_holds_a_delay_figure():
    offenders = []
    for path in sorted(HCL.rglob("*.py")):
        rel = str(path.relative_to(HCL))
        if rel == "timing.py":
            continue
        offenders += [f"{rel}:{n}: {name}" for n, name in delay_figures(path.read_text())
                      if (rel, name) not in NOT_FPGA_DELAYS]
    assert not offenders, "\n".join(offenders)


def test_the_guard_sees_a_planted_figure():
    assert delay_figures("LUT_LEVEL_NS = 0.5") == [(1, "LUT_LEVEL_NS")]
    assert delay_figures('F = {"x": {"yosys": "xc7", "ff_overhead_ns": 0.3}}') == [(1, "ff_overhead_ns")]
    assert delay_figures("f(g_lut_ps=100)\nlevels = 3\nevaluations = 0") == [(1, "g_lut_ps")]
    assert delay_figures(timing.__loader__.get_source("hcl.timing"))      # the figures are where they belong


def test_latency_rules():
    us = timing.family("ultrascale")
    assert us.level_ps == us.lut_ps + us.net_ps
    assert timing.latency_ns(7) == {"period_ns": None, "cycles": 0, "latency_ns": 7 * us.level_ps / 1000}
    reg = timing.latency_ns(7, [1, 3, 3])
    assert reg["cycles"] == 3
    assert reg["period_ns"] == pytest.approx((3 * us.level_ps + us.register_ps) / 1000)
    assert reg["latency_ns"] == pytest.approx(3 * reg["period_ns"])
    assert timing.stage_ns(1, "7series") > timing.stage_ns(1, "ultrascale")
    with pytest.raises(ConfigError, match="family 'virtex2' unknown"):
        timing.family("virtex2")


def test_emit_synth_info_and_compare_price_latency_alike(tmp_path):
    from hcl import cost
    from hcl.bridge import metrics
    from hcl.emit import design_data
    from hcl.network import random_network
    from hcl.synth import latency_estimate
    from tests.conftest import make_tiny
    from hcl.encode import Encoder
    tiny = make_tiny()
    enc = Encoder.fit(tiny.X_train, bits=2, input_width=8)
    net = random_network(np.random.default_rng(1), 6, enc.n_bits, [12, 6], 3)
    net.encoder = enc.to_dict()
    for family in timing.SIM_FAMILIES:
        d = design_data(net, registers="none", family=family)
        f = timing.family(family)
        assert d["level_ps"] == f.level_ps
        assert {g["name"]: g["value"] for g in d["generics"]} == {"G_LUT_PS": f.lut_ps, "G_NET_PS": f.net_ps}
    depth = cost.estimate(net)["depth"]
    synth_like = {"target": "xilinx", "family": "ultrascale", "depth": depth, "depth_total": depth,
                  "latency_cycles": 0}
    assert latency_estimate(synth_like)["latency_ns_estimate"] == pytest.approx(timing.latency_ns(depth)["latency_ns"])
    assert f"x {timing.stage_ns(1)} ns" in metrics.LATENCY_MODEL
    path = tmp_path / "n.json"
    net.save(path)
    from hcl.report import network_info
    assert network_info(path)["latency_ns_combinational"] == timing.latency_ns(depth)["latency_ns"]
