"""Brevitas quantization of the FP32 U-Nets: post-training (PTQ) and quantization-aware training (QAT) models.

Both start the same way: Brevitas traces the FP32 network (``preprocess_for_quantize``: FX trace, batch norm merged
into the convolutions) and rewrites it (``quantize``): every convolution gets a weight quantizer and an int32 bias,
every ReLU an unsigned activation quantizer, and requantizing identities are inserted where signed tensors meet
(network input, the skip concatenations, the output). The quantizers come from a :class:`Recipe`:

* weights: narrow-range signed integers, per-tensor scale (per output channel with ``per_channel``);
* activations: unsigned after ReLU, signed elsewhere, per-tensor scale;
* the network input and output logit stay at ``io_bits`` (8) whatever the recipe: the input is an 8- or 12-bit ADC
  word already, and the output only has to be compared with 0 (common practice, e.g. FINN's first/last layers);
* ``learn_bits``: each quantizer's bit width is a trained parameter (Brevitas ``BitWidthImplType.PARAMETER``,
  rounded with a straight-through estimator, at least 2 bits), initialised at ``init_bits``;
* ``learn_clip``: activation clipping thresholds are trained parameters initialised from calibration statistics
  (Brevitas ``ScalingImplType.PARAMETER_FROM_STATS``: PACT's learned clip, the gradient reaching it through the
  straight-through estimator); without it the thresholds track running percentile statistics (``STATS``).

PTQ then calibrates activation ranges on training batches (``calibration_mode``) and corrects the biases for the
mean shift weight quantization causes (``bias_correction_mode``). QAT calibrates the same way, then trains.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import asdict, dataclass
from typing import Iterable

import torch
from torch import nn

from hcl.errors import ConfigError

MIN_BITS = 2


@dataclass(frozen=True)
class Recipe:
    weight_bits: int = 8
    act_bits: int = 8
    per_channel: bool = False
    learn_bits: bool = False
    init_bits: int = 8           # starting bit width when learn_bits
    learn_clip: bool = True
    io_bits: int = 8
    weight_scaling: str = "mse"  # "mse": learned scale, initialised to the MSE-optimal clip; "max": max |w|

    def check(self) -> "Recipe":
        for name in ("weight_bits", "act_bits", "init_bits", "io_bits"):
            if not MIN_BITS <= getattr(self, name) <= 16:
                raise ConfigError(f"quantization {name}: must be within {MIN_BITS}..16, got {getattr(self, name)}")
        if self.weight_scaling not in ("mse", "max"):
            raise ConfigError(f"quantization weight_scaling: use mse or max, got {self.weight_scaling!r}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def _quantizers(recipe: Recipe):
    """(weight, unsigned act, signed act, io) Brevitas quantizer injectors for a recipe."""
    from brevitas.inject.enum import BitWidthImplType, ScalingImplType
    from brevitas.quant import (Int8ActPerTensorFloat, Int8ActPerTensorFloatMSE, Int8WeightPerChannelFloat,
                                Int8WeightPerChannelFloatMSE, Int8WeightPerTensorFloat, Int8WeightPerTensorFloatMSE,
                                Uint8ActPerTensorFloat, Uint8ActPerTensorFloatMSE)

    # A max-|w| scale wastes low bit widths on the few largest weights (at 2 bits nearly every weight rounds to
    # 0); the MSE-optimal clip keeps the bulk representable, and QAT then trains it further.
    if recipe.weight_scaling == "mse":
        weight = Int8WeightPerChannelFloatMSE if recipe.per_channel else Int8WeightPerTensorFloatMSE
    else:
        weight = Int8WeightPerChannelFloat if recipe.per_channel else Int8WeightPerTensorFloat
    if recipe.learn_clip:  # PACT-style: a trained clip, started where the quantization MSE is lowest
        uact, sact = Uint8ActPerTensorFloatMSE, Int8ActPerTensorFloatMSE
    else:                  # the clip follows running percentile statistics of the data
        uact = Uint8ActPerTensorFloat.let(scaling_impl_type=ScalingImplType.STATS)
        sact = Int8ActPerTensorFloat.let(scaling_impl_type=ScalingImplType.STATS)
    if recipe.learn_bits:
        learned = dict(bit_width_impl_type=BitWidthImplType.PARAMETER, bit_width=recipe.init_bits)
        weight, uact, sact = weight.let(**learned), uact.let(**learned), sact.let(**learned)
    else:
        weight = weight.let(bit_width=recipe.weight_bits)
        uact, sact = uact.let(bit_width=recipe.act_bits), sact.let(bit_width=recipe.act_bits)
    io = Int8ActPerTensorFloat.let(bit_width=recipe.io_bits, scaling_impl_type=ScalingImplType.STATS
                                   if not recipe.learn_clip else ScalingImplType.PARAMETER_FROM_STATS)
    return weight, uact, sact, io


def quantize_model(fp_model: nn.Module, recipe: Recipe) -> nn.Module:
    """A Brevitas graph model of `fp_model` (left untouched) with the recipe's quantizers, not yet calibrated."""
    import brevitas.nn as qnn
    from brevitas.graph.quantize import (COMPUTE_LAYER_MAP, QUANT_ACT_MAP, QUANT_IDENTITY_MAP,
                                         preprocess_for_quantize, quantize)
    from brevitas.quant import Int32Bias

    recipe.check()
    weight, uact, sact, io = _quantizers(recipe)
    compute = {}
    for layer, entry in COMPUTE_LAYER_MAP.items():
        if entry is not None and issubclass(layer, nn.modules.conv._ConvNd):
            cls, kwargs = entry
            compute[layer] = (cls, {**kwargs, "weight_quant": weight, "bias_quant": Int32Bias})
        else:
            compute[layer] = entry
    acts = {nn.ReLU: (qnn.QuantReLU, {**QUANT_ACT_MAP[nn.ReLU][1], "act_quant": uact})}
    identity = {"signed": (qnn.QuantIdentity, {**QUANT_IDENTITY_MAP["signed"][1], "act_quant": sact}),
                "unsigned": (qnn.QuantIdentity, {**QUANT_IDENTITY_MAP["unsigned"][1], "act_quant": uact})}
    model = copy.deepcopy(fp_model).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer deprecation chatter from torch.fx internals
        graph = preprocess_for_quantize(model, equalize_iters=0)
        graph = quantize(graph, quant_identity_map=identity, compute_layer_map=compute, quant_act_map=acts)
    _set_io_quantizers(graph, io)
    return graph


def _set_io_quantizers(graph, io) -> None:
    """Replace the identity quantizers right after the input and right before the output by `io_bits` ones."""
    import brevitas.nn as qnn

    modules = dict(graph.named_modules())
    for node in graph.graph.nodes:
        if node.op == "placeholder":
            for user in node.users:
                if user.op == "call_module" and isinstance(modules[user.target], qnn.QuantIdentity):
                    setattr(graph, user.target, qnn.QuantIdentity(act_quant=io, return_quant_tensor=True))
        if node.op == "output":
            last = node.args[0]
            if getattr(last, "op", None) == "call_module" and isinstance(modules[last.target], qnn.QuantIdentity):
                setattr(graph, last.target, qnn.QuantIdentity(act_quant=io, return_quant_tensor=False))


def calibrate(model: nn.Module, batches: Iterable[torch.Tensor]) -> nn.Module:
    """Set activation ranges from data (Brevitas calibration_mode: statistics averaged over the batches)."""
    from brevitas.graph.calibrate import calibration_mode

    model.eval()
    with torch.no_grad(), calibration_mode(model):
        for x in batches:
            model(x)
    # Brevitas 0.13.4: where graph quantization aligns a skip concatenation, one tensor quantizer is shared by two
    # proxies; calibration_mode saves its state twice and restores the second, already-disabled copy, leaving it
    # an observer that passes floats through while reporting a scale (the ONNX export then disagrees with torch).
    for module in model.modules():
        if getattr(module, "observer_only", False):
            module.observer_only = False
    return model


def correct_bias(model: nn.Module, batches: Iterable[torch.Tensor]) -> nn.Module:
    """Brevitas bias correction: shift each bias by the mean output error its quantized weights cause."""
    from brevitas.graph.calibrate import bias_correction_mode

    model.eval()
    # skip_if_no_bias: a bias-free layer stays bias-free (the 447-parameter U-Net's output layer).
    with torch.no_grad(), bias_correction_mode(model, skip_if_no_bias=True):
        for x in batches:
            model(x)
    return model


def ptq(fp_model: nn.Module, batches: list[torch.Tensor], weight_bits: int = 8, act_bits: int = 8,
        per_channel: bool = False, bias_correction: bool = True, weight_scaling: str = "mse") -> nn.Module:
    """Post-training quantization: graph quantization, activation calibration, bias correction."""
    model = quantize_model(fp_model, Recipe(weight_bits, act_bits, per_channel=per_channel, learn_clip=False,
                                            weight_scaling=weight_scaling))
    calibrate(model, batches)
    if bias_correction:
        correct_bias(model, batches)
    return model.eval()


def qat_model(fp_model: nn.Module, batches: list[torch.Tensor], recipe: Recipe) -> nn.Module:
    """A calibrated QAT starting point from a trained FP32 model (train it with hcl.bridge.train)."""
    model = quantize_model(fp_model, recipe)
    return calibrate(model, batches)


# ---- inspection ------------------------------------------------------------------------------------------------

def quant_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every quantized convolution, in graph order."""
    from brevitas.nn.quant_layer import QuantWeightBiasInputOutputLayer

    return [(n, m) for n, m in model.named_modules() if isinstance(m, QuantWeightBiasInputOutputLayer)]


def act_quantizers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    from brevitas.nn import QuantIdentity, QuantReLU

    return [(n, m) for n, m in model.named_modules() if isinstance(m, (QuantReLU, QuantIdentity))]


def weight_bit_width(layer: nn.Module) -> torch.Tensor:
    return layer.weight_quant.bit_width()


def act_bit_width(module: nn.Module) -> torch.Tensor:
    return module.act_quant.bit_width()


def bit_width_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The learnable bit-width offsets (BitWidthParameter), if the model has any."""
    return [p for n, p in model.named_parameters() if n.endswith("bit_width_offset")]


def average_bits(model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Differentiable (weight bits averaged over weights, activation bits averaged over quantizers)."""
    layers = quant_layers(model)
    n = torch.tensor([float(m.weight.numel()) for _, m in layers])
    wb = torch.stack([weight_bit_width(m).reshape(()) for _, m in layers])
    acts = act_quantizers(model)
    ab = torch.stack([act_bit_width(m).reshape(()) for _, m in acts]) if acts else wb.new_zeros(1)
    return (wb * n).sum() / n.sum(), ab.mean()


def integer_weights(model: nn.Module) -> dict[str, dict]:
    """Per quantized layer: integer weights and bias, their scales and bit widths (numpy), for inspection and for
    taking the model to other tools. ``weight = int_weight * weight_scale`` (per-tensor or per output channel)."""
    out = {}
    model.eval()
    with torch.no_grad():
        for name, layer in quant_layers(model):
            qw = layer.quant_weight()
            entry = {"int_weight": qw.int().cpu().numpy().astype("int32"),
                     "weight_scale": qw.scale.detach().cpu().numpy().astype("float32"),
                     "weight_bits": int(qw.bit_width.item())}
            if layer.bias is not None:
                entry["bias"] = layer.bias.detach().cpu().numpy().astype("float32")
            out[name] = entry
    return out
