"""hcl emit-vhdl: structure and determinism of the VHDL, identifiers, register options, vectors, manifest, GHDL."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import make_tiny, needs_ghdl
from hcl import emit as emit_mod
from hcl.cli import main
from hcl.emit import check_entity, emit, vhdl_identifier
from hcl.registers import register_plan
from hcl.encode import Encoder
from hcl.errors import ConfigError, DataError, HclError
from hcl.network import Network, random_network
from hcl.reference import class_scores

GOLDEN = Path(__file__).parent / "golden"


def tiny_network(seed: int = 1, k: int = 4, layers=(12, 6), n_classes: int = 3) -> Network:
    """A random network on the `tiny` task (registered in conftest): 6 features of 6-bit unsigned integers."""
    ds = make_tiny(n_classes=n_classes)
    enc = Encoder.fit(ds.X_train, bits=3, input_width=6)
    net = random_network(np.random.default_rng(seed), k, enc.n_bits, list(layers), n_classes, task="tiny")
    net.encoder = enc.to_dict()
    net.meta = {"seed": 0}
    return net


def handmade_network() -> Network:
    """K=2, two 4-bit features: covers >=, ==, always-true and never-true comparators, and one-LUT groups."""
    encoder = {"kind": "comparators", "method": "quantile", "bits_per_feature": 2, "n_features": 2,
               "input_width": 4, "signed": False,
               "bits": [[0, ">=", 8], [1, ">=", 3], [0, "==", 5], [1, ">=", 0], [1, ">=", 16]]}
    d = {"format": "hcl-lut-network", "version": 1, "task": "", "k": 2, "encoder": encoder, "n_inputs": 5,
         "layer_sizes": [3, 2],
         "layers": [{"wiring": [[0, 1], [2, 3], [4, 0]], "tables": ["8", "e", "6"]},
                    {"wiring": [[0, 1], [1, 2]], "tables": ["6", "8"]}],
         "classes": ["low", "high"], "groups": [[0], [1]], "meta": {}}
    return Network.from_dict(d)


def handmade_inputs() -> np.ndarray:
    return np.array([[a, b] for a in range(16) for b in range(16)], dtype=np.int64)


def read(design: Path) -> tuple[dict, str]:
    manifest = json.loads((design / "manifest.json").read_text())
    return manifest, (design / manifest["files"][0]).read_text()


# ---- structure ---------------------------------------------------------------------------------------------------
def test_one_constant_truth_table_per_lut_read_msb_first(tmp_path):
    net = tiny_network()
    emit(net, tmp_path, max_vectors=10)
    manifest, vhdl = read(tmp_path)
    tables = dict(re.findall(r'constant (TT_L\d+_\d+) : std_logic_vector\(15 downto 0\) := x"([0-9a-f]{4})";', vhdl))
    assert len(tables) == net.n_luts
    for layer, (wiring, values) in enumerate(zip(net.wiring, net.tables), start=1):
        src = "enc" if layer == 1 else f"l{layer - 1}"
        for j, (w, t) in enumerate(zip(wiring, values)):
            assert int(tables[f"TT_L{layer}_{j}"], 16) == int(t)
            # Address bit i is input i, so the concatenation lists input K-1 first.
            address = " & ".join(f"{src}({i})" for i in reversed(w.tolist()))
            assert f"l{layer}({j}) <= TT_L{layer}_{j}(to_integer(unsigned'({address}))) after T_LEVEL;" in vhdl
    assert f"x         : in  std_logic_vector({6 * 6 - 1} downto 0);" in vhdl
    assert "scores    : out std_logic_vector(5 downto 0)\n" in vhdl   # 3 classes x 2 bits (groups of 2)
    assert manifest["n_features"] == 6 and manifest["input_width"] == 6 and manifest["n_classes"] == 3


def test_comparators_follow_the_encoder(tmp_path):
    net = handmade_network()
    _, vhdl = read(_emit_handmade(tmp_path))
    assert "enc(0) <= to_sl(xw(0) >= word_t'(\"1000\")) after 1 * T_LEVEL;  -- x[0] >= 8" in vhdl
    assert "enc(2) <= to_sl(xw(0) = word_t'(\"0101\")) after 1 * T_LEVEL;  -- x[0] == 5" in vhdl
    # Thresholds outside the 4-bit word make constants, not out-of-range literals.
    assert "enc(3) <= '1';" in vhdl and "enc(4) <= '0';" in vhdl
    assert net.n_inputs == 5


def _emit_handmade(out: Path, registers: str = "layer") -> Path:
    emit(handmade_network(), out, entity="hand_k2", registers=registers, X=handmade_inputs())
    return out


def test_golden_vhdl(tmp_path):
    """The rendered VHDL of a fixed network, byte for byte. After an intended template change, regenerate with
    HCL_UPDATE_GOLDEN=1 pytest tests/test_emit.py -k golden, and review the diff."""
    _, vhdl = read(_emit_handmade(tmp_path))
    golden = GOLDEN / "hand_k2_layer.vhd"
    if os.environ.get("HCL_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(vhdl)
    # The header's cost estimate follows hcl.cost (tested on its own); the golden file pins the rendering.
    strip = lambda text: "\n".join(l for l in text.splitlines() if not l.startswith("-- estimate"))
    assert strip(vhdl) == strip(golden.read_text())


def test_same_network_same_bytes(tmp_path):
    net = tiny_network()
    for out in ("a", "b"):
        emit(net, tmp_path / out, registers="every=1", max_vectors=20)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["files.txt", "fusesoc_sim.sh", "hcl_tiny_k4.core", "hcl_tiny_k4.vhd", "manifest.json",
                     "network.json", "vectors.txt"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_class_names_cannot_break_comments(tmp_path):
    net = tiny_network()
    net.classes = ["a\nentity evil is", "b\r\x00", "c"]
    emit(net, tmp_path, max_vectors=5)
    _, vhdl = read(tmp_path)
    assert "\nentity evil" not in vhdl and "\x00" not in vhdl
    assert "--   class 0    a?entity evil is (2 LUTs)" in vhdl


# ---- identifiers ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, clean", [
    ("sipm", "sipm"), ("SiPM-seg v2", "sipm_seg_v2"), ("3bits", "n_3bits"), ("a__b__", "a_b"), ("", "hcl_net"),
    ("process", "process_e"), ("SIGNAL", "signal_e"), ("clk", "clk_e"), ("l3", "l3_e"), ("tt_l1_0", "tt_l1_0_e"),
    ("Ünïcode!", "n_code"), ("x" * 200, "x" * 96),
])
def test_vhdl_identifier(raw, clean):
    assert vhdl_identifier(raw) == clean
    assert check_entity(clean) == clean


@pytest.mark.parametrize("bad", ["process", "Entity", "my net", "a__b", "_x", "x_", "9lives", "clk", "scores",
                                 "enc", "l2_q", "ieee", "unsigned", "\\ext\\", "", "x" * 97])
def test_bad_entity_names_are_refused(bad):
    with pytest.raises(ConfigError, match="--entity"):
        check_entity(bad)


def test_entity_name_is_case_folded_and_default_comes_from_task(tmp_path):
    net = tiny_network()
    assert emit(net, tmp_path / "a", entity="MyNet_2", max_vectors=5)["top"] == "mynet_2"
    assert (tmp_path / "a" / "mynet_2.vhd").is_file()
    net.task = "signal"   # default entity stays legal whatever the task is called; vectors come from --task
    assert emit(net, tmp_path / "b", task="tiny", max_vectors=5)["top"] == "hcl_signal_k4"


# ---- registers and latency -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("option, latency", [("none", 0), ("layer", 5), ("every=1", 4), ("every=2", 2),
                                             ("every=3", 2), ("every=4", 1), ("EVERY=9", 1)])
def test_latency_matches_register_option(tmp_path, option, latency):
    net = tiny_network(layers=(8, 8, 6))           # 3 LUT layers
    emit(net, tmp_path, registers=option, max_vectors=5)
    manifest, vhdl = read(tmp_path)
    assert manifest["latency_cycles"] == latency == register_plan(option, 3).latency
    assert f"latency {latency} clock cycle" in vhdl
    # One data register per stage before the output, plus cls_q and scores_q for the output stage.
    assert vhdl.count("_q <= ") == (latency + 1 if latency else 0)
    if latency == 0:
        assert "out_valid <= in_valid;" in vhdl and "rising_edge" not in vhdl
    else:
        assert f"out_valid <= valid_sr({latency - 1});" in vhdl


@pytest.mark.parametrize("option, n_layers, plan", [
    ("none", 3, ("none", False, (), False, 0)), (" None ", 3, ("none", False, (), False, 0)),
    ("layer", 3, ("layer", True, (1, 2, 3), True, 5)), ("LAYER", 1, ("layer", True, (1,), True, 3)),
    ("every=1", 3, ("every=1", False, (1, 2, 3), True, 4)), ("every=2", 5, ("every=2", False, (2, 4), True, 3)),
    ("every=2", 4, ("every=2", False, (2, 4), True, 3)), ("Every=4", 3, ("every=4", False, (), True, 1)),
    ("every=10", 10, ("every=10", False, (10,), True, 2)),
])
def test_register_plan_by_hand(option, n_layers, plan):
    """Where each --registers option puts registers (LUT layers numbered from 1) and the latency they add."""
    p = register_plan(option, n_layers)
    assert (p.option, p.after_encoder, p.after_layers, p.after_output, p.latency) == plan


@pytest.mark.parametrize("bad", ["every=0", "every=", "every=-1", "layers", "2", "", "every=1.5"])
def test_bad_registers_option(bad):
    with pytest.raises(ConfigError, match="--registers"):
        register_plan(bad, 3)


def test_bad_options_are_one_line_cli_errors(tmp_path):
    net_path = tmp_path / "net.json"
    tiny_network().save(net_path)
    runner = CliRunner()
    for args, needle in [(["--registers", "every=0"], "--registers"), (["--entity", "begin"], "--entity"),
                         (["--task", "nope"], "unknown task"), (["--max-vectors", "0"], "--max-vectors")]:
        r = runner.invoke(main, ["emit-vhdl", str(net_path), "--out", str(tmp_path / "d"), *args])
        assert r.exit_code == 2, r.output
        assert r.output.startswith("error: ") and needle in r.output and r.output.count("\n") == 1
    assert not (tmp_path / "d" / "manifest.json").exists()


# ---- vectors and manifest ------------------------------------------------------------------------------------------
def test_vectors_are_the_golden_model_on_the_task_split(tmp_path):
    net = tiny_network()
    manifest = emit(net, tmp_path, max_vectors=50)
    ds = make_tiny()
    X = ds.X_test[:50]
    scores = class_scores(net, Encoder.from_dict(net.encoder).transform(X))
    rows = [line for line in (tmp_path / "vectors.txt").read_text().splitlines() if not line.startswith("#")]
    assert len(rows) == manifest["n_vectors"] == 50
    for row, x, s in zip(rows, X, scores):
        xs, cls, ss = row.split("|")
        assert list(map(int, xs.split())) == x.tolist()
        assert list(map(int, ss.split())) == s.tolist()
        assert int(cls) == int(np.argmax(s))
    assert manifest["vector_source"] == {"task": "tiny", "split": "test", "seed": 0, "options": {}, "data": None}


def test_manifest_fields(tmp_path):
    from hcl import __version__, cost
    net = tiny_network()
    m = emit(net, tmp_path, registers="layer", family="7series", max_vectors=7)
    est = cost.estimate(net, "layer")          # the design as emitted: registered, so no combinational extra
    assert est["luts"] < cost.estimate(net)["luts"]
    for key in ("luts", "luts_encoder", "luts_network", "luts_output", "depth"):
        assert m[key] == est[key]
    assert m["top"] == "hcl_tiny_k4" and m["files"] == ["hcl_tiny_k4.vhd"] and m["vectors"] == "vectors.txt"
    assert m["generics"] == {"G_LUT_PS": 125, "G_NET_PS": 375} and m["registers"] == "layer"
    assert m["k"] == 4 and m["n_inputs"] == net.n_inputs and m["signed"] is False and m["score_width"] == 2
    assert m["classes"] == net.classes and m["hcl_version"] == __version__ and len(m["network_sha256"]) == 64
    assert m["n_vectors"] == 7 and m["latency_cycles"] == 4
    assert m["delay_model"]["level_ps"] == 500 and m["delay_model"]["clock_period_ps"] >= 2000
    assert json.loads((tmp_path / "manifest.json").read_text()) == m


def test_network_file_and_object_give_the_same_design(tmp_path):
    net = tiny_network()
    net.save(tmp_path / "net.json")
    a = emit(tmp_path / "net.json", tmp_path / "a", max_vectors=3)
    b = emit(net, tmp_path / "b", max_vectors=3)
    assert a == b


def test_failed_emit_leaves_no_manifest(tmp_path, monkeypatch):
    net = tiny_network()
    emit(net, tmp_path, max_vectors=5)
    real = emit_mod.atomic_write_text

    def fail_on_vectors(path, text):
        if Path(path).name == "vectors.txt":
            raise OSError("disk full")
        real(path, text)
    monkeypatch.setattr(emit_mod, "atomic_write_text", fail_on_vectors)
    with pytest.raises(OSError):
        emit(net, tmp_path, registers="layer", max_vectors=5)
    assert not (tmp_path / "manifest.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_errors_name_the_problem(tmp_path):
    net = tiny_network()
    with pytest.raises(ConfigError, match="names no task"):
        bare = net.copy()
        bare.task = ""
        emit(bare, tmp_path)
    with pytest.raises(ConfigError, match="no encoder"):
        bare = net.copy()
        bare.encoder = None
        emit(bare, tmp_path)
    with pytest.raises(ConfigError, match="float thresholds"):
        floaty = net.copy()
        floaty.encoder = Encoder.fit(make_tiny().X_train.astype(float), bits=3).to_dict()
        emit(floaty, tmp_path)
    with pytest.raises(DataError, match="does not fit its 6-bit unsigned"):
        emit(net, tmp_path, X=np.full((3, 6), 64))
    with pytest.raises(DataError, match="expects 6"):
        emit(net, tmp_path, X=np.zeros((3, 5), dtype=np.int64))
    with pytest.raises(ConfigError, match="--family"):
        emit(net, tmp_path, family="versal")
    assert not (tmp_path / "manifest.json").exists()
    assert issubclass(ConfigError, HclError)


def test_no_vectors_design(tmp_path):
    m = emit(tiny_network(), tmp_path, vectors=False)
    assert m["vectors"] is None and m["n_vectors"] == 0 and not (tmp_path / "vectors.txt").exists()


def test_signed_inputs(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.integers(-128, 128, size=(300, 4))
    enc = Encoder.fit(X, bits=3, input_width=8, signed=True)
    net = random_network(rng, 3, enc.n_bits, [6, 4], 2)
    net.encoder = enc.to_dict()
    m = emit(net, tmp_path, X=X[:40])
    vhdl = (tmp_path / m["files"][0]).read_text()
    assert "subtype word_t is signed(7 downto 0);" in vhdl and m["signed"] is True
    negative = [t for _, op, t in net.encoder["bits"] if t < 0]
    assert negative and f"word_t'(\"{negative[0] & 0xFF:08b}\"))" in vhdl   # two's complement literal


# ---- GHDL ----------------------------------------------------------------------------------------------------------
@pytest.mark.sim
@needs_ghdl
@pytest.mark.parametrize("registers", ["none", "layer", "every=2"])
def test_ghdl_analyzes_elaborates_and_synthesizes_without_warnings(tmp_path, registers):
    from hcl.simulate import lint
    emit(tiny_network(layers=(8, 8, 6)), tmp_path, registers=registers, max_vectors=5)
    assert lint(tmp_path) == []


@pytest.mark.sim
@needs_ghdl
def test_ghdl_lint_without_warnings_for_edge_cases(tmp_path):
    from hcl.simulate import lint
    _emit_handmade(tmp_path / "hand", registers="every=1")
    assert lint(tmp_path / "hand") == []
    rng = np.random.default_rng(0)
    X = rng.integers(-100, 100, size=(50, 3))
    enc = Encoder.fit(X, bits=2, input_width=8, signed=True)
    net = random_network(rng, 6, enc.n_bits, [4, 2], 2)
    net.encoder = enc.to_dict()
    emit(net, tmp_path / "signed", X=X)
    assert lint(tmp_path / "signed") == []


@pytest.mark.sim
@needs_ghdl
def test_lint_reports_warnings(tmp_path):
    """The warning check itself works: an unused function in the VHDL is reported."""
    from hcl.simulate import lint
    m = emit(tiny_network(), tmp_path, max_vectors=3)
    path = tmp_path / m["files"][0]
    text = path.read_text().replace("  signal xw : word_array_t;",
                        "  function spare(a : integer) return integer is\n  begin\n    return a;\n  end function;\n"
                        "  signal xw : word_array_t;", 1)
    path.write_text(text)
    assert any("never referenced" in w for w in lint(tmp_path))
