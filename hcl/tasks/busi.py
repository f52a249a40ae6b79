"""The `busi` task: breast-ultrasound lesion segmentation (BUSI subset, 149 images with lesion masks).

Data: ``busi128.npz`` from `--data` (the file, or the folder holding it) or ``$HCL_DATA/busi/``; see that folder's
SOURCE.md. Images are 8-bit grey levels at 128x128, downsampled here by block averaging to ``size`` (default 64, so
CPU training stays quick); masks are downsampled by majority vote of each block. Splits: 70/15/15 of whole images,
stratified by the image class (normal / benign / malignant), seeded.

Two forms (see hcl.tasks.segmentation): ``load_images`` for U-Nets, and the registered per-pixel task ``busi``
(``window`` x ``window`` raw pixels around each position, dilation ``dilation``) for LUT networks.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from hcl.errors import ConfigError, DataError
from hcl.tasks import Dataset, data_root, register
from hcl.tasks.segmentation import SegData, check_options, coerce, pixel_task, register_images, split_images

FILE = "busi128.npz"
NATIVE = 128


def find_file(data) -> Path:
    root = data_root(data, "busi")
    path = root if root.suffix == ".npz" else root / FILE
    if not path.is_file():
        raise DataError(f"busi: {path} not found: pass --data with {FILE} (or its folder), or set HCL_DATA to the "
                        f"folder holding busi/{FILE}")
    return path


def read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """(images uint8 [n, 128, 128], masks bool, labels int64 [n], class names), checked."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {key: z[key] for key in ("images", "masks", "labels", "classes") if key in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"busi: {path} is not a readable .npz file ({exc})") from None
    missing = [k for k in ("images", "masks", "labels") if k not in arrays]
    if missing:
        raise DataError(f"busi: {path} lacks array(s) {', '.join(missing)} (expected images, masks, labels)")
    images, masks, labels = arrays["images"], arrays["masks"], arrays["labels"]
    if images.ndim != 3 or images.shape[1:] != (NATIVE, NATIVE):
        raise DataError(f"busi: images must be [n, {NATIVE}, {NATIVE}], got {images.shape}")
    if images.dtype != np.uint8:
        raise DataError(f"busi: images must be uint8 grey levels, got {images.dtype}")
    if masks.shape != images.shape:
        raise DataError(f"busi: masks {masks.shape} do not match images {images.shape}")
    if labels.shape != (images.shape[0],):
        raise DataError(f"busi: labels must hold one class per image ({images.shape[0]}), got {labels.shape}")
    n_classes = int(labels.max()) + 1
    classes = tuple(str(c) for c in arrays["classes"]) if "classes" in arrays else tuple(
        f"class{i}" for i in range(n_classes))
    if len(classes) < n_classes:
        raise DataError(f"busi: labels go up to {n_classes - 1} but only {len(classes)} class names are stored")
    return images, masks.astype(bool), labels.astype(np.int64), classes


def downsample(images: np.ndarray, masks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Block means (rounded, still 8-bit) and block majority masks (a tie counts as lesion: thin borders stay)."""
    f = NATIVE // size
    blocks = (images.shape[0], size, f, size, f)
    img = np.rint(images.reshape(blocks).mean(axis=(2, 4))).astype(np.int64)
    msk = masks.reshape(blocks).mean(axis=(2, 4)) >= 0.5
    return img, msk


# A dilated 5x5 window (13x13 pixels at 64x64) sees enough of a lesion's dark interior and its edge.
@register_images("busi", window=5, dilation=3, per_image=256, pos_fraction=0.3)
def load_images(seed: int = 0, data=None, size: int = 64, val_fraction: float = 0.15,
                test_fraction: float = 0.15, **options) -> SegData:
    check_options("busi", options, ("size", "val_fraction", "test_fraction"))
    size = coerce("size", size, int, "busi")
    if size < 1 or NATIVE % size:
        raise ConfigError(f"task 'busi': size={size} must divide {NATIVE} (e.g. 32, 64, 128)")
    images, masks, labels, classes = read_npz(find_file(data))
    images, masks = downsample(images, masks, size)
    rng = np.random.default_rng(seed)
    train, val, test = split_images(images, masks, labels, rng, coerce("val_fraction", val_fraction, float, "busi"),
                                    coerce("test_fraction", test_fraction, float, "busi"), "busi")
    return SegData("busi", train, val, test, input_width=8, image_classes=classes, foreground="lesion",
                   description=f"BUSI breast ultrasound, {size}x{size} 8-bit grey levels, lesion masks",
                   # Left-right mirror images are equally valid scans: U-Net training may flip them.
                   extra={"size": size, "flip_axes": (-1,)})


@register("busi")
def load_busi(seed: int = 0, data=None, **options) -> Dataset:
    """Per-pixel lesion classification (see the module docstring). Options: size, val_fraction, test_fraction,
    window, dilation, per_image, pos_fraction."""
    return pixel_task("busi", seed, data, options)
