"""Taking the models further: ONNX QCDQ files (Brevitas ``export_onnx_qcdq``) and integer weights as NPZ + JSON.

For every quantized U-Net ``KEY``:

* ``KEY.onnx``: QuantizeLinear / Clip / DequantizeLinear around standard ONNX ops (QCDQ), which ONNX Runtime,
  TensorRT-style toolchains and FINN's importers read; needs the ``onnx`` and ``onnxoptimizer`` packages;
* ``KEY.npz``: per layer ``<layer>.int_weight`` (int32 holding the quantized integers), ``<layer>.weight_scale``
  and ``<layer>.bias`` (float): ``weight = int_weight * weight_scale``;
* ``KEY.json``: per layer the weight bit width, shape and scale, plus the activation quantizers' bit widths.

FP32 models are saved as ``KEY.pt`` (state dict) with their U-Net spec in ``KEY.json``; the LUT network is copied as
``lut-k6.json`` (the hcl network file that ``hcl info`` / the VHDL emitter read).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from hcl.files import atomic_write_bytes, atomic_write_text

# 19: the first opset whose QuantizeLinear / DequantizeLinear onnx.reference (and current runtimes) implement.
OPSET = 19
ONNX_HINT = "pip install onnx==1.23.2 onnxoptimizer==0.4.2"


def onnx_available() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxoptimizer  # noqa: F401
    except ImportError:
        return False
    return True


def export_onnx(model: torch.nn.Module, example: torch.Tensor, path: Path) -> Path:
    """QCDQ ONNX of a Brevitas model, written atomically. TorchScript-based export: Brevitas' dynamo path does not
    take quantized (int32) biases."""
    from brevitas.export import export_onnx_qcdq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        export_onnx_qcdq(model, args=example, export_path=tmp, dynamo=False, opset_version=OPSET)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def run_onnx(path: Path, x: np.ndarray) -> np.ndarray:
    """Run an exported model with onnx's reference evaluator (slow, exact; for checking an export)."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    model = onnx.load(str(path))
    session = ReferenceEvaluator(model)
    name = model.graph.input[0].name
    return session.run(None, {name: x.astype(np.float32)})[0]


def integer_weights_files(model: torch.nn.Module, out_dir: Path, key: str) -> list[Path]:
    from hcl.bridge.quant import act_bit_width, act_quantizers, integer_weights

    weights = integer_weights(model)
    arrays = {f"{layer}.{name}": value for layer, entry in weights.items() for name, value in entry.items()
              if isinstance(value, np.ndarray)}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    npz = out_dir / f"{key}.npz"
    atomic_write_bytes(npz, buf.getvalue())
    with torch.no_grad():
        acts = {name: int(round(float(act_bit_width(m)))) for name, m in act_quantizers(model)}
    summary = {"model": key,
               "layers": {layer: {"weight_bits": e["weight_bits"], "shape": list(e["int_weight"].shape),
                                  "weight_scale": e["weight_scale"].ravel().tolist(),
                                  "int_range": [int(e["int_weight"].min()), int(e["int_weight"].max())]}
                          for layer, e in weights.items()},
               "activation_bits": acts,
               "note": "weight = int_weight * weight_scale (scale per tensor, or per output channel)"}
    js = out_dir / f"{key}.json"
    atomic_write_text(js, json.dumps(summary, indent=1) + "\n")
    return [npz, js]


def export_models(quantized: dict[str, torch.nn.Module], fp32: dict[str, torch.nn.Module], example: torch.Tensor,
                  out_dir: Path, lut_dir: Path | None = None) -> dict:
    """Write every model's files to `out_dir`; returns {written: [...], skipped: [...reasons]}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, skipped = [], []
    has_onnx = onnx_available()
    if not has_onnx:
        skipped.append(f"ONNX files: onnx/onnxoptimizer not installed ({ONNX_HINT})")
    for key, model in quantized.items():
        written += [str(p) for p in integer_weights_files(model, out_dir, key)]
        if has_onnx:
            written.append(str(export_onnx(model, example, out_dir / f"{key}.onnx")))
    for size, model in fp32.items():
        key = f"unet-{size}-fp32"
        buf = io.BytesIO()
        torch.save(model.state_dict(), buf)
        atomic_write_bytes(out_dir / f"{key}.pt", buf.getvalue())
        atomic_write_text(out_dir / f"{key}.json", json.dumps({"model": key, "spec": model.spec.to_dict()},
                                                              indent=1) + "\n")
        written += [str(out_dir / f"{key}.pt"), str(out_dir / f"{key}.json")]
    if lut_dir is not None and (Path(lut_dir) / "best.json").is_file():
        atomic_write_bytes(out_dir / "lut-k6.json", (Path(lut_dir) / "best.json").read_bytes())
        written.append(str(out_dir / "lut-k6.json"))
    return {"written": written, "skipped": skipped}
