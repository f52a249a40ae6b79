"""U-Nets in FP32, for 2-D images and 1-D signals, built from plain torch layers so that Brevitas' graph
quantization (hcl.bridge.quant) can trace and rewrite them.

Two sizes:

* ``small``: the classic U-Net layout (two convolutions per level, batch norm, max-pool down, transposed convolution
  up, skip concatenation), base width 8, two levels down: ~29k parameters in 2-D. Big enough to be a real baseline
  on 64x64 images, small enough to train on a CPU in minutes.
* ``tiny``: one level down, one convolution per stage, nearest-neighbour upsampling, no batch norm, widths 3/6:
  exactly 447 parameters in 2-D, the size of the small U-Net in the qubit/detector PTQ study (Quantization Effects
  of ANNs for Embedded Edge-Computing Applications; the layout here is ours, the parameter budget is theirs). Its
  bias-free 1x1 output layer is what brings it to 447.

The network outputs one logit per pixel (foreground vs background).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from hcl.errors import ConfigError


@dataclass(frozen=True)
class UNetSpec:
    ndim: int = 2                    # 2: images [N, 1, H, W]; 1: signals [N, 1, L]
    widths: tuple[int, ...] = (8, 16, 32)   # channels per level, top to bottom; len - 1 = pooling steps
    convs: int = 2                   # convolutions per stage
    batch_norm: bool = True
    up: str = "transpose"            # "transpose" (learned 2x up) or "nearest"
    kernel: int = 3
    out_bias: bool = True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def named(cls, name: str, ndim: int) -> "UNetSpec":
        kernel = 3 if ndim == 2 else 5  # 1-D: a wider kernel gives a similar receptive field per level
        if name == "small":
            return cls(ndim, (8, 16, 32), 2, True, "transpose", kernel, True)
        if name == "tiny":
            return cls(ndim, (3, 6), 1, False, "nearest", kernel, False)
        raise ConfigError(f"U-Net size {name!r} unknown: use small or tiny")


def _layers(ndim: int):
    if ndim == 2:
        return nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d, nn.MaxPool2d
    if ndim == 1:
        return nn.Conv1d, nn.ConvTranspose1d, nn.BatchNorm1d, nn.MaxPool1d
    raise ConfigError(f"U-Net: ndim must be 1 or 2, got {ndim}")


class Stage(nn.Sequential):
    """`convs` x (conv -> [batch norm] -> ReLU)."""

    def __init__(self, spec: UNetSpec, c_in: int, c_out: int):
        conv, _, bn, _ = _layers(spec.ndim)
        layers: list[nn.Module] = []
        for i in range(spec.convs):
            layers.append(conv(c_in if i == 0 else c_out, c_out, spec.kernel, padding=spec.kernel // 2,
                               bias=not spec.batch_norm))
            if spec.batch_norm:
                layers.append(bn(c_out))
            layers.append(nn.ReLU())
        super().__init__(*layers)


class UNet(nn.Module):
    def __init__(self, spec: UNetSpec = UNetSpec()):
        super().__init__()
        if len(spec.widths) < 2 or spec.convs < 1 or spec.up not in ("transpose", "nearest"):
            raise ConfigError(f"U-Net spec: need >= 2 widths, >= 1 conv, up transpose|nearest; got {spec}")
        self.spec = spec
        conv, convt, _, pool = _layers(spec.ndim)
        w = spec.widths
        self.down = nn.ModuleList([Stage(spec, 1 if i == 0 else w[i - 1], w[i]) for i in range(len(w) - 1)])
        self.pools = nn.ModuleList([pool(2) for _ in range(len(w) - 1)])
        self.bottom = Stage(spec, w[-2], w[-1])
        self.ups = nn.ModuleList()
        self.up_stages = nn.ModuleList()
        for i in range(len(w) - 1, 0, -1):
            if spec.up == "transpose":
                self.ups.append(convt(w[i], w[i - 1], 2, stride=2))
                c_cat = 2 * w[i - 1]
            else:
                self.ups.append(nn.Upsample(scale_factor=2, mode="nearest"))
                c_cat = w[i] + w[i - 1]
            self.up_stages.append(Stage(spec, c_cat, w[i - 1]))
        self.head = conv(w[0], 1, 1, bias=spec.out_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for stage, pool in zip(self.down, self.pools):
            x = stage(x)
            skips.append(x)
            x = pool(x)
        x = self.bottom(x)
        for up, stage, skip in zip(self.ups, self.up_stages, reversed(skips)):
            x = stage(torch.cat([up(x), skip], dim=1))
        return self.head(x)


def build_unet(name: str, ndim: int) -> UNet:
    return UNet(UNetSpec.named(name, ndim))


def n_parameters(model: nn.Module) -> int:
    """Trainable numbers the deployed model needs: weights and biases (batch norm folded in counts as bias;
    quantizer scales and bit widths are not counted)."""
    total = 0
    for module in model.modules():
        if isinstance(module, (nn.modules.conv._ConvNd,)):
            total += module.weight.numel()
            if module.bias is not None:
                total += module.bias.numel()
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            total += module.num_features  # folds into one bias per channel (its scale goes into the weights)
    return total


def fold_batch_norm(model: UNet) -> UNet:
    """An equivalent U-Net without batch norm (eval-mode statistics folded into the convolutions)."""
    import copy

    if not model.spec.batch_norm:
        return copy.deepcopy(model).eval()
    spec = UNetSpec(**{**model.spec.to_dict(), "batch_norm": False})
    folded = UNet(spec)
    src = dict(model.named_modules())
    for name, module in folded.named_modules():
        if isinstance(module, nn.modules.conv._ConvNd) and isinstance(src[name], nn.modules.conv._ConvNd):
            conv = src[name]
            module.weight.data.copy_(conv.weight.data)
            if conv.bias is not None and module.bias is not None:
                module.bias.data.copy_(conv.bias.data)
    for name, module in model.named_modules():
        if isinstance(module, Stage):
            _fold_stage(module, dict(folded.named_modules())[name])
    return folded.eval()


def _fold_stage(src: Stage, dst: Stage) -> None:
    """Stage layers are [conv, bn, relu]* in src and [conv, relu]* in dst."""
    convs_src = [m for m in src if isinstance(m, nn.modules.conv._ConvNd)]
    bns = [m for m in src if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    convs_dst = [m for m in dst if isinstance(m, nn.modules.conv._ConvNd)]
    for conv, bn, out in zip(convs_src, bns, convs_dst):
        scale = bn.weight.data / torch.sqrt(bn.running_var + bn.eps)
        shape = (-1,) + (1,) * (conv.weight.dim() - 1)
        out.weight.data.copy_(conv.weight.data * scale.reshape(shape))
        bias = conv.bias.data if conv.bias is not None else torch.zeros_like(bn.running_mean)
        out.bias.data.copy_((bias - bn.running_mean) * scale + bn.bias.data)
