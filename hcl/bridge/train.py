"""Training and inference for the U-Nets (FP32 and QAT alike): tensors from a SegData, the losses, the loop.

Losses: BCE + soft Dice on the foreground logit (the segmentation loss of both U-Net papers compared here); with
``bit_penalty`` > 0 the QuantU-Net loss adds ``bit_penalty * (avg weight bits + avg activation bits) / 16`` (the
bit widths normalised so that an all-8-bit model costs `bit_penalty`; QuantU-Net uses a weight of 0.25 on its bit
width term). The bit widths enter through Brevitas' straight-through rounding, so the penalty pulls them down while
the task loss, through the quantization error, pushes back.

Every run is seeded (torch generator for shuffling and initialisation) and single-threaded unless told otherwise;
the model kept is the one with the best validation Dice (ties: the later epoch).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from hcl.tasks.segmentation import SegData, SegSplit


@dataclass(frozen=True)
class Normalizer:
    """x -> (x - mean) / std with the training split's statistics: an affine map the hardware applies to the raw
    integer word for free (folded into the first layer's input quantizer)."""
    mean: float
    std: float

    @classmethod
    def fit(cls, seg: SegData) -> "Normalizer":
        x = seg.train.images.astype(np.float64)
        return cls(float(x.mean()), float(max(x.std(), 1e-6)))

    def tensor(self, images: np.ndarray) -> torch.Tensor:
        x = (images.astype(np.float32) - self.mean) / self.std
        return torch.from_numpy(x[:, None])  # [n, 1, ...]


def mask_tensor(masks: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(masks.astype(np.float32)[:, None])


@dataclass
class TrainConfig:
    epochs: int = 40
    batch_size: int = 16
    lr: float = 3e-3
    bit_lr: float = 0.02          # learning rate of learned bit widths (their units are bits)
    bit_penalty: float = 0.0      # QuantU-Net loss weight; 0 = plain BCE + Dice
    weight_decay: float = 0.0
    flip_axes: tuple[int, ...] = ()   # augmentation: random flips along these image axes (e.g. (-1,) for BUSI)
    seed: int = 0
    max_batches: int | None = None    # cap on batches per epoch (tests)
    log: list = field(default_factory=list)


def dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    p = torch.sigmoid(logits)
    inter = (p * target).sum()
    return 1.0 - (2.0 * inter + eps) / (p.sum() + target.sum() + eps)


def seg_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(logits, target) + dice_loss(logits, target)


def bit_loss(model: nn.Module) -> torch.Tensor:
    from hcl.bridge.quant import average_bits
    w, a = average_bits(model)
    return (w + a) / 16.0


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 32) -> np.ndarray:
    """Boolean masks [n, ...] (logit > 0) for inputs [n, 1, ...]."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            y = model(x[i:i + batch_size])
            y = y.value if hasattr(y, "value") else y
            out.append((y[:, 0] > 0).cpu().numpy())
    return np.concatenate(out)


def val_dice(model: nn.Module, x: torch.Tensor, masks: np.ndarray) -> float:
    from hcl.bridge.metrics import segmentation_metrics
    return segmentation_metrics(predict(model, x), masks)["dice"]


def train(model: nn.Module, seg: SegData, norm: Normalizer, cfg: TrainConfig, progress=None) -> nn.Module:
    """Train in place from its current weights; return the best-validation-Dice copy."""
    from hcl.bridge.quant import bit_width_parameters

    gen = torch.Generator().manual_seed(cfg.seed)
    x, y = norm.tensor(seg.train.images), mask_tensor(seg.train.masks)
    xv, mv = norm.tensor(seg.val.images), seg.val.masks
    bit_params = bit_width_parameters(model)
    ids = {id(p) for p in bit_params}
    groups = [{"params": [p for p in model.parameters() if id(p) not in ids], "lr": cfg.lr,
               "weight_decay": cfg.weight_decay}]
    if bit_params:
        groups.append({"params": bit_params, "lr": cfg.bit_lr, "weight_decay": 0.0})
    opt = torch.optim.Adam(groups)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.epochs, 1))
    best, best_state = -1.0, copy.deepcopy(model.state_dict())
    t0 = time.monotonic()
    for epoch in range(cfg.epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        total, batches = 0.0, 0
        for b, i in enumerate(range(0, len(x), cfg.batch_size)):
            if cfg.max_batches is not None and b >= cfg.max_batches:
                break
            idx = order[i:i + cfg.batch_size]
            xb, yb = x[idx], y[idx]
            for axis in cfg.flip_axes:
                flip = torch.rand(len(idx), generator=gen) < 0.5
                xb = torch.where(_bcast(flip, xb), xb.flip(axis), xb)
                yb = torch.where(_bcast(flip, yb), yb.flip(axis), yb)
            out = model(xb)
            out = out.value if hasattr(out, "value") else out
            loss = seg_loss(out, yb)
            if cfg.bit_penalty > 0:
                loss = loss + cfg.bit_penalty * bit_loss(model)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, batches = total + loss.item(), batches + 1
        sched.step()
        score = val_dice(model, xv, mv)
        row = {"epoch": epoch + 1, "loss": total / max(batches, 1), "val_dice": score,
               "elapsed_s": round(time.monotonic() - t0, 2)}
        if bit_params:
            from hcl.bridge.quant import average_bits
            with torch.no_grad():
                w, a = average_bits(model)
            row.update(avg_weight_bits=float(w), avg_act_bits=float(a))
        cfg.log.append(row)
        if progress is not None:
            progress(row)
        if score >= best:
            best, best_state = score, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return model.eval()


def _bcast(flags: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return flags.reshape((-1,) + (1,) * (like.dim() - 1))


def split_tensors(split: SegSplit, norm: Normalizer) -> tuple[torch.Tensor, np.ndarray]:
    return norm.tensor(split.images), split.masks


def calibration_batches(seg: SegData, norm: Normalizer, n_images: int = 64, batch_size: int = 16
                        ) -> list[torch.Tensor]:
    """The first `n_images` training images (a fixed, seeded split's prefix), in batches."""
    x = norm.tensor(seg.train.images[:n_images])
    return [x[i:i + batch_size] for i in range(0, len(x), batch_size)]
