"""The torch bridge: U-Nets, Brevitas PTQ / QAT, metrics against hand-computed values, export, and `hcl compare`.

Tiny settings throughout (single thread, 1-D traces or a few small images, a handful of epochs)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("brevitas")

from click.testing import CliRunner  # noqa: E402

from hcl.bridge import metrics, quant, train  # noqa: E402
from hcl.bridge.models import UNet, UNetSpec, build_unet, fold_batch_norm, n_parameters  # noqa: E402
from hcl.errors import ConfigError  # noqa: E402
from hcl.tasks.segmentation import load_images  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def traces():
    return load_images("sipm-seg", seed=0, n_traces=40)


@pytest.fixture(scope="module")
def trained_tiny(traces):
    """The 1-D tiny U-Net after a short training run: it finds most pulse edges."""
    norm = train.Normalizer.fit(traces)
    torch.manual_seed(0)
    model = build_unet("tiny", 1)
    cfg = train.TrainConfig(epochs=25, batch_size=4, lr=1e-2, seed=0)
    model = train.train(model, traces, norm, cfg)
    return model, norm


# ---- models ------------------------------------------------------------------------------------------------------

def test_unet_sizes_and_shapes():
    tiny = build_unet("tiny", 2)
    assert n_parameters(tiny) == 447 == sum(p.numel() for p in tiny.parameters())
    assert tiny(torch.zeros(2, 1, 16, 16)).shape == (2, 1, 16, 16)
    small = build_unet("small", 1)
    assert small(torch.zeros(1, 1, 64)).shape == (1, 1, 64)
    assert 10_000 < n_parameters(build_unet("small", 2)) < 40_000


def test_fold_batch_norm_is_exact():
    torch.manual_seed(1)
    model = UNet(UNetSpec(ndim=2, widths=(4, 8), convs=2))
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 2.0), m.bias.data.uniform_(-1, 1)
    model.eval()
    folded = fold_batch_norm(model)
    x = torch.randn(2, 1, 16, 16)
    assert torch.allclose(model(x), folded(x), atol=1e-5)
    assert n_parameters(folded) == n_parameters(model)


# ---- metrics ------------------------------------------------------------------------------------------------------

def test_segmentation_metrics_match_hand_counts():
    truth = np.array([[1, 1, 1, 0], [0, 0, 0, 0]], bool)
    pred = np.array([[1, 1, 0, 1], [0, 0, 0, 0]], bool)      # TP 2, FP 1, FN 1, TN 4
    m = metrics.segmentation_metrics(pred, truth)
    assert m["pixel_accuracy"] == pytest.approx(6 / 8)
    assert m["dice"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert m["iou"] == pytest.approx(2 / (2 + 1 + 1))
    empty = metrics.segmentation_metrics(np.zeros(5, bool), np.zeros(5, bool))
    assert empty == {"pixel_accuracy": 1.0, "dice": 1.0, "iou": 1.0}


def test_weight_stats_and_bops_match_hand_counts():
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1))
    w = metrics.weight_stats(conv)
    assert w["parameters"] == 2 * 9 + 2 and w["avg_weight_bits"] == 32
    assert w["weight_memory_bits"] == 20 * 32
    b = metrics.bops(conv, torch.zeros(1, 1, 4, 4))
    assert b["macs"] == 16 * 9 * 2 and b["bops"] == 16 * 9 * 2 * 32 * 32
    up = torch.nn.Sequential(torch.nn.ConvTranspose1d(2, 3, 2, stride=2))
    assert metrics.bops(up, torch.zeros(1, 2, 5))["macs"] == 5 * 2 * 2 * 3   # input positions x k x c_in x c_out


def test_quantized_counts_use_the_quantizer_bit_widths(trained_tiny, traces):
    model, norm = trained_tiny
    calib = train.calibration_batches(traces, norm, 16, 8)
    q8 = quant.ptq(model, calib, 8, 8)
    w = metrics.weight_stats(q8)
    n_bias = 3 + 6 + 3                      # the tiny U-Net's biases; its output layer has none
    n_w = n_parameters(model) - n_bias
    assert w["parameters"] == n_parameters(model)
    assert w["avg_weight_bits"] == 8 and w["weight_memory_bits"] == n_w * 8 + n_bias * 32
    x = norm.tensor(traces.test.images[:1])
    b_fp, b_q = metrics.bops(model, x), metrics.bops(q8, x)
    assert b_q["macs"] == b_fp["macs"] and b_fp["bops"] == b_fp["macs"] * 32 * 32
    assert b_q["bops"] == b_q["macs"] * 8 * 8
    q4 = quant.ptq(model, calib, 4, 4)
    first = x.shape[-1] * 5 * 1 * 3         # the first conv (kernel 5, 1 -> 3 channels) reads the 8-bit input
    assert metrics.bops(q4, x)["bops"] == (b_q["macs"] - first) * 4 * 4 + first * 4 * 8
    assert metrics.unrolled_luts(q4, x) < metrics.unrolled_luts(q8, x)
    assert metrics.unrolled_luts(model, x) is None


# ---- PTQ / QAT ----------------------------------------------------------------------------------------------------

def test_ptq_w8a8_stays_close_to_fp32(trained_tiny, traces):
    model, norm = trained_tiny
    x, masks = train.split_tensors(traces.test, norm)
    fp = metrics.segmentation_metrics(train.predict(model, x), masks)
    assert fp["dice"] > 0.5, "the FP32 reference model did not learn; the comparison below would be empty"
    calib = train.calibration_batches(traces, norm, 16, 8)
    q8, q4 = quant.ptq(model, calib, 8, 8), quant.ptq(model, calib, 4, 4)
    with torch.no_grad():
        ref, out8, out4 = model(x), q8(x), q4(x)
    err8, err4 = (out8 - ref).abs().mean(), (out4 - ref).abs().mean()
    assert err8 < 0.05 * ref.abs().mean() and err8 < err4
    p8 = metrics.segmentation_metrics(train.predict(q8, x), masks)
    assert abs(p8["pixel_accuracy"] - fp["pixel_accuracy"]) <= 0.005
    assert abs(p8["dice"] - fp["dice"]) <= 0.03
    # The FP32 model is left as it was.
    assert not any(hasattr(m, "weight_quant") for m in model.modules())


def test_fixed_bit_qat_has_the_requested_integer_grid(trained_tiny, traces):
    model, norm = trained_tiny
    q = quant.qat_model(model, train.calibration_batches(traces, norm, 8, 8), quant.Recipe(2, 2))
    for name, entry in quant.integer_weights(q).items():
        assert entry["weight_bits"] == 2
        assert set(np.unique(entry["int_weight"])) <= {-1, 0, 1}      # narrow-range 2-bit
        layer = dict(q.named_modules())[name]
        deq = layer.quant_weight().value.detach().numpy()
        scale = entry["weight_scale"].reshape((-1,) + (1,) * (deq.ndim - 1)) if entry["weight_scale"].size > 1 \
            else entry["weight_scale"]
        assert np.allclose(entry["int_weight"] * scale, deq, atol=1e-6)
    relu_bits = {round(float(quant.act_bit_width(m))) for n, m in quant.act_quantizers(q) if "quant" not in n}
    assert relu_bits == {2}


def test_learned_bit_widths_exist_and_move(trained_tiny, traces):
    model, norm = trained_tiny
    q = quant.qat_model(model, train.calibration_batches(traces, norm, 8, 8),
                        quant.Recipe(learn_bits=True, init_bits=8))
    params = quant.bit_width_parameters(q)
    assert len(params) >= len(quant.quant_layers(q)) > 0
    before = [p.detach().clone() for p in params]
    with torch.no_grad():
        w0, _ = quant.average_bits(q)
    assert float(w0) == 8.0
    cfg = train.TrainConfig(epochs=2, batch_size=4, lr=1e-3, bit_lr=0.5, bit_penalty=1.0, seed=0, max_batches=4)
    q = train.train(q, traces, norm, cfg)
    moved = [not torch.equal(a, b) for a, b in zip(before, quant.bit_width_parameters(q))]
    assert sum(moved) >= len(moved) // 2
    with torch.no_grad():
        w1, a1 = (float(v) for v in quant.average_bits(q))
    assert w1 < 8.0 and a1 < 8.0 and cfg.log[-1]["avg_weight_bits"] < 8.0
    assert metrics.weight_stats(q)["avg_weight_bits"] == pytest.approx(w1, abs=1e-3)


def test_training_is_reproducible(traces):
    norm = train.Normalizer.fit(traces)
    states = []
    for _ in range(2):
        torch.manual_seed(5)
        m = build_unet("tiny", 1)
        train.train(m, traces, norm, train.TrainConfig(epochs=1, batch_size=4, seed=5, max_batches=3))
        states.append(m.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


# ---- export -------------------------------------------------------------------------------------------------------

def test_onnx_qcdq_export_runs_like_the_brevitas_model(trained_tiny, traces, tmp_path):
    from hcl.bridge import export
    if not export.onnx_available():
        pytest.skip(f"onnx / onnxoptimizer not installed ({export.ONNX_HINT})")
    model, norm = trained_tiny
    q = quant.ptq(model, train.calibration_batches(traces, norm, 16, 8), 4, 4)
    x = norm.tensor(traces.test.images[:1])
    path = export.export_onnx(q, x, tmp_path / "tiny.onnx")
    import onnx
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    with torch.no_grad():
        ref = q(x).numpy()
    got = export.run_onnx(path, x.numpy())
    # Same integers, same scales: the QCDQ graph reproduces the Brevitas model (skip concatenation included).
    assert got.shape == ref.shape and np.allclose(got, ref, rtol=0, atol=1e-6)
    files = export.integer_weights_files(q, tmp_path, "tiny-w4a4")
    arrays = np.load(files[0])
    assert any(k.endswith(".int_weight") for k in arrays.files)
    assert json.loads(files[1].read_text())["layers"]


# ---- hcl compare --------------------------------------------------------------------------------------------------

def test_compare_quick_writes_table_csv_json_and_pngs(tmp_path):
    from hcl.cli import main
    out, exp = tmp_path / "cmp", tmp_path / "exp"
    result = CliRunner().invoke(main, ["compare", "--task", "sipm-seg", "--quick", "--out", str(out), "--export",
                                       str(exp), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    keys = [r["key"] for r in payload["rows"]]
    assert keys[0] == "unet-small-fp32" and keys[-1] == "lut-k6" and len(keys) == 11
    for name in ("compare.md", "compare.csv", "compare.json", "cost.png", "examples.png"):
        assert (out / name).is_file(), name
    for png in ("cost.png", "examples.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "compare.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 11 and {"model", "pixel_accuracy", "dice", "iou", "parameters", "avg_weight_bits",
                                "weight_memory_bits", "bops", "luts", "latency_ns", "hardware_figures"} <= set(rows[0])
    lut = rows[-1]
    assert int(lut["luts"]) > 0 and float(lut["latency_ns"]) > 0 and "hcl.cost" in lut["hardware_figures"]
    assert "| LUT network (hcl evolve, K=6) |" in (out / "compare.md").read_text()
    assert (out / "lut" / "best.json").is_file()
    assert (exp / "unet-small-ptq-w8a8.npz").is_file() and (exp / "lut-k6.json").is_file()
    assert (exp / "unet-small-fp32.pt").is_file()
    # The LUT network comes from the gradient-trained search (issue 12) under the budget's hard LUT limit, and
    # run_lut_only rebuilds that same row (same splits, pixels, search, test metrics) without any U-Net.
    from hcl.bridge.compare import QUICK, run_lut_only
    detail = json.loads((out / "compare.json").read_text())["details"]["lut-k6"]
    assert detail["trainer"] == "efd" and detail["max_luts"] == QUICK.lut_max_luts == 250
    assert detail["cost"]["luts"] == int(lut["luts"]) <= 250
    alone = run_lut_only("sipm-seg", quick=True, out=tmp_path / "alone")
    assert alone["detail"]["trainer"] == "efd" and alone["detail"]["layers"] == detail["layers"]
    assert alone["row"]["dice"] == pytest.approx(float(lut["dice"]), abs=1e-9)
    assert alone["row"]["luts"] == int(lut["luts"]) and alone["wall_s"] > 0 and alone["cpu_s"] > 0


def test_compare_lut_only_keeps_the_genetic_search_selectable(tmp_path):
    from dataclasses import replace

    from hcl.bridge.compare import QUICK, run_lut_only
    res = run_lut_only("sipm-seg", quick=True, out=tmp_path, budget=replace(QUICK, lut_trainer="none",
                                                                              lut_max_luts=None))
    d = res["detail"]
    assert d["trainer"] == "none" and d["max_luts"] is None and d["generations"] == QUICK.lut_generations
    assert 0.0 <= res["row"]["dice"] <= 1.0 and res["row"]["luts"] == d["cost"]["luts"] > 0
    assert (tmp_path / "lut" / "best.json").is_file()
    with pytest.raises(ConfigError, match="segmentation task"):
        run_lut_only("digits", quick=True, out=tmp_path / "x")


def test_compare_rejects_a_task_that_is_not_segmentation(tmp_path):
    from hcl.cli import main
    result = CliRunner().invoke(main, ["compare", "--task", "digits", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "segmentation task" in result.output
    assert not (tmp_path / "x").exists()
