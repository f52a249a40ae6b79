"""Training copies of image samples for the gradient trainer: each image moved by one pixel.

A LUT network's first layer reads single pixels, so a digit drawn one pixel off moves it across every table it
feeds; training on the four one-pixel shifts teaches tables that tolerate it. Measured on MNIST's trained starts at
the same number of Adam steps: validation +0.16 to +0.59 points in each of 4 cases, test +0.42 to +0.73
(benchmarks/results/augment.md). On scikit-learn's 8x8 digits a pixel is an eighth of the image and the same shifts
cost 4-9 points: the option is the task's choice (config.DEFAULT_AUGMENT), not a rule for images.
"""

from __future__ import annotations

import numpy as np

from hcl.errors import ConfigError

AUGMENTS = ("none", "shift")
# (rows, columns) moved: right, left, down, up. A vacated edge repeats the pixel beside it.
SHIFTS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def shifted_copies(X: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """``[len(SHIFTS) * n, h * w]``: every sample of `X` (``[n, h * w]``, row-major images) moved by each of SHIFTS,
    shift by shift (all samples moved right, then all moved left, ...)."""
    h, w = image_shape
    if X.ndim != 2 or X.shape[1] != h * w:
        raise ConfigError(f"--augment shift: samples have {X.shape[1:]} features, not one per pixel of a "
                          f"{h}x{w} image")
    images = X.reshape(len(X), h, w)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="edge")
    copies = [padded[:, 1 - dy:1 - dy + h, 1 - dx:1 - dx + w] for dy, dx in SHIFTS]
    return np.concatenate(copies).reshape(len(SHIFTS) * len(X), h * w)
