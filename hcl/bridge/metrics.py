"""Segmentation quality and hardware figures for the comparison table.

Quality (numpy + scikit-learn, no torch: the LUT network's predictions go through the same code):

* pixel accuracy, Dice (= F1 of the foreground class) and IoU (= Jaccard index), all pooled over every pixel of
  the split (per-image Dice is undefined on the images without any foreground, which BUSI's "normal" class is).

Hardware figures of a torch model (computed from the model, so "counted"):

* parameters: weights + biases (batch norm counted as the bias it folds into);
* average weight bit width: bits per weight averaged over all weights (biases not included; they are int32 in
  every quantized model, as Brevitas' Int32Bias keeps them);
* weight memory: sum over layers of weights x weight bits + biases x bias bits (32 for FP32 and for int32 biases).
  Quantizer scales are not counted: in an integer datapath they fold into the requantization of the next layer;
* BOPs (bit operations): sum over convolutions of MACs x weight bits x input-activation bits for one image
  (Baskin et al.'s simplification of their UNIQ count; FP32 counts as 32 x 32).
"""

from __future__ import annotations

import numpy as np

from hcl import timing

FP32_BITS = 32
BIAS_BITS = 32


def segmentation_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Pixel accuracy, Dice and IoU of boolean predictions against boolean masks, pooled over all pixels."""
    from sklearn.metrics import accuracy_score, f1_score, jaccard_score

    p = np.asarray(pred, dtype=bool).ravel()
    t = np.asarray(truth, dtype=bool).ravel()
    if p.shape != t.shape:
        raise ValueError(f"predictions {np.shape(pred)} and masks {np.shape(truth)} differ in shape")
    # zero_division=1.0: no foreground anywhere and none predicted is a perfect segmentation, not a 0/0 warning.
    return {"pixel_accuracy": float(accuracy_score(t, p)),
            "dice": float(f1_score(t, p, zero_division=1.0)),
            "iou": float(jaccard_score(t, p, zero_division=1.0))}


def conv_layers(model):
    from torch import nn
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.modules.conv._ConvNd)]


def _is_quant(module) -> bool:
    return hasattr(module, "weight_quant") and getattr(module.weight_quant, "is_quant_enabled", False)


def _bits(x) -> int:
    return int(round(float(x)))


def weight_stats(model) -> dict:
    """parameters, avg weight bits, weight memory bits and per-layer bit widths of a (quantized) U-Net."""
    import torch
    from torch import nn

    params = weights = weight_bits_total = memory = 0
    layers = []
    with torch.no_grad():
        for name, m in conv_layers(model):
            n_w = m.weight.numel()
            bits = _bits(m.weight_quant.bit_width()) if _is_quant(m) else FP32_BITS
            n_b = m.bias.numel() if m.bias is not None else 0
            params += n_w + n_b
            weights += n_w
            weight_bits_total += n_w * bits
            memory += n_w * bits + n_b * BIAS_BITS
            layers.append({"layer": name, "weights": n_w, "weight_bits": bits})
        for m in model.modules():  # an unfolded batch norm (FP32 models): one bias per channel after folding
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                params += m.num_features
                memory += m.num_features * BIAS_BITS
    return {"parameters": params, "avg_weight_bits": weight_bits_total / max(weights, 1),
            "weight_memory_bits": memory, "layers": layers}


def bops(model, example) -> dict:
    """MACs and bit operations of one forward pass over `example` (one image: [1, 1, ...])."""
    import torch

    counts = []

    def hook(module, inputs, output):
        x = inputs[0]
        out = output.value if hasattr(output, "value") else output
        k = int(np.prod(module.kernel_size))
        # A transposed convolution's MACs scale with its input, an ordinary one's with its output.
        transposed = isinstance(module, torch.nn.modules.conv._ConvTransposeNd)
        positions = (x.value if hasattr(x, "value") else x)[0, 0].numel() if transposed else out[0, 0].numel()
        c_in, c_out = module.in_channels, module.out_channels
        macs = positions * k * (c_in // module.groups) * c_out
        if _is_quant(module):
            w_bits = _bits(module.weight_quant.bit_width())
            a_bits = _bits(x.bit_width) if getattr(x, "bit_width", None) is not None else FP32_BITS
        else:
            w_bits = a_bits = FP32_BITS
        counts.append((macs, w_bits, a_bits))

    handles = [m.register_forward_hook(hook) for _, m in conv_layers(model)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    macs = sum(c[0] for c in counts)
    return {"macs": int(macs), "bops": int(sum(m * w * a for m, w, a in counts)),
            "macs_per_pixel": macs / example[0, 0].numel()}


# ---- LUT estimates ----------------------------------------------------------------------------------------------

LATENCY_MODEL = (f"estimated: LUT levels x {timing.stage_ns(1)} ns (hcl.timing, {timing.DEFAULT_FAMILY}: "
                 f"{timing.family(timing.DEFAULT_FAMILY).source})")
UNROLLED_MODEL = ("estimated: fully unrolled at one pixel per clock, each MAC a w x a-bit multiplier "
                  "(w*a LUT6) plus its accumulator adder (w+a+log2(fan-in) LUT6); line buffers, control and "
                  "requantization not counted")


def unrolled_luts(model, example) -> int | None:
    """Order-of-magnitude LUT count of an integer U-Net datapath streaming one pixel per clock (see
    UNROLLED_MODEL); None for FP32 models, whose multipliers would be floating point (DSPs, not LUTs)."""
    import torch

    per_layer = []

    def hook(module, inputs, output):
        if not _is_quant(module):
            return
        x = inputs[0]
        out = output.value if hasattr(output, "value") else output
        k = int(np.prod(module.kernel_size))
        fan_in = k * module.in_channels // module.groups
        w = _bits(module.weight_quant.bit_width())
        a = _bits(x.bit_width) if getattr(x, "bit_width", None) is not None else 8
        transposed = isinstance(module, torch.nn.modules.conv._ConvTransposeNd)
        positions = (x.value if hasattr(x, "value") else x)[0, 0].numel() if transposed else out[0, 0].numel()
        # Multipliers needed per input pixel: a level at 1/4 resolution needs a quarter of them (time-shared).
        rate = positions / example[0, 0].numel()
        macs = fan_in * module.out_channels * rate
        per_layer.append(macs * (w * a + w + a + int(np.ceil(np.log2(max(fan_in, 2))))))

    handles = [m.register_forward_hook(hook) for _, m in conv_layers(model)]
    model.eval()
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in handles:
            h.remove()
    return int(round(sum(per_layer))) if per_layer else None
