"""Segmentation tasks in two forms: whole images + masks (for U-Nets) and per-pixel windows (for LUT networks).

A segmentation task module provides ``load_images(seed, data, **options) -> SegData``: raw integer images
(``[n, H, W]`` or, for 1-D signals, ``[n, L]``), boolean masks of the same shape, and a fixed seeded 70/15/15
split of whole images (stratified by the per-image class where the task has one). It registers the loader here
with :func:`register_images` (with its per-pixel defaults) and registers an ordinary hcl task whose body is
:func:`pixel_task`, so ``hcl evolve --task NAME`` works like on any other task.

The per-pixel task turns segmentation into classification: a sample is the window of raw integer pixels around
one position (``window`` per axis, taps ``dilation`` apart, edges replicated), its label the mask at the centre.
The same classifier applied at every position segments a whole image; :func:`image_windows` builds those rows.
Training a pixel classifier on every position would be dominated by background and by near-duplicate
neighbours, so each split keeps ``per_image`` positions per image, seeded, with up to ``pos_fraction`` of them on
the foreground (an image with too little foreground gives what it has; one with none gives only background). The
tasks oversample the foreground moderately (0.3 against a natural 4-17 %): fully balanced training makes the
classifier paint too much foreground on whole images, natural frequencies make it paint none. Samples of a split
come only from that split's images, so no image leaks between splits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from hcl.errors import ConfigError, DataError
from hcl.tasks import Dataset

SPLITS = ("train", "val", "test")
PIXEL_CLASSES = ("background", "foreground")


@dataclass(frozen=True)
class SegSplit:
    images: np.ndarray      # int64 [n, H, W] or [n, L]: the raw integer words the hardware would see
    masks: np.ndarray       # bool, same shape as images
    labels: np.ndarray      # int64 [n]: per-image class (what the split was stratified on; zeros if none)

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass(frozen=True)
class SegData:
    name: str
    train: SegSplit
    val: SegSplit
    test: SegSplit
    input_width: int                          # bits of the raw pixel word (unsigned)
    image_classes: tuple[str, ...] = ()       # names of SegSplit.labels values, if the task has classes
    foreground: str = "foreground"            # what a mask's True means
    description: str = ""
    extra: dict = field(default_factory=dict)

    def split(self, name: str) -> SegSplit:
        if name not in SPLITS:
            raise ConfigError(f"unknown split {name!r}: use train, val or test")
        return getattr(self, name)

    @property
    def ndim(self) -> int:
        """1 for signals, 2 for images."""
        return self.train.images.ndim - 1

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.train.images.shape[1:])


ImageLoader = Callable[..., SegData]
_IMAGE_LOADERS: dict[str, tuple[ImageLoader, dict]] = {}
PIXEL_OPTIONS = ("window", "dilation", "per_image", "pos_fraction")


def register_images(name: str, **pixel_defaults):
    """Register a task's image loader, with the defaults of its per-pixel form (window, dilation, per_image,
    pos_fraction)."""
    unknown = set(pixel_defaults) - set(PIXEL_OPTIONS)
    if unknown:
        raise ConfigError(f"register_images({name!r}): unknown pixel option(s) {', '.join(sorted(unknown))}")

    def wrap(fn: ImageLoader) -> ImageLoader:
        _IMAGE_LOADERS[name] = (fn, dict(pixel_defaults))
        return fn
    return wrap


def segmentation_task_names() -> list[str]:
    from hcl.tasks import _import_builtin
    _import_builtin()
    return sorted(_IMAGE_LOADERS)


def _entry(name: str) -> tuple[ImageLoader, dict]:
    names = segmentation_task_names()
    if name not in _IMAGE_LOADERS:
        raise ConfigError(f"task {name!r} is not a segmentation task: choose one of {', '.join(names)}")
    return _IMAGE_LOADERS[name]


def load_images(name: str, seed: int = 0, data=None, **options) -> SegData:
    """Images + masks of a segmentation task, split like its per-pixel task."""
    return _entry(name)[0](seed=seed, data=data, **options)


def pixel_defaults(name: str) -> dict:
    """The per-pixel form's default window, dilation, per_image and pos_fraction for a segmentation task."""
    return dict(_entry(name)[1])


def pixel_task(name: str, seed: int, data, options: dict) -> Dataset:
    """The registered per-pixel task's body: pixel options to the sampler, the rest to the image loader."""
    pixel = {**pixel_defaults(name), **{k: options[k] for k in PIXEL_OPTIONS if k in options}}
    seg = load_images(name, seed=seed, data=data, **{k: v for k, v in options.items() if k not in PIXEL_OPTIONS})
    return pixel_dataset(seg, seed, **pixel)


# ---- splitting -------------------------------------------------------------------------------------------------

def split_images(images: np.ndarray, masks: np.ndarray, labels: np.ndarray | None, rng: np.random.Generator,
                 val_fraction: float = 0.15, test_fraction: float = 0.15, what: str = "images"
                 ) -> tuple[SegSplit, SegSplit, SegSplit]:
    """Seeded train/val/test split of whole images; stratified by `labels` when given."""
    from hcl.tasks.tabular import stratified_split

    n = images.shape[0]
    if images.shape != masks.shape:
        raise DataError(f"{what}: images {images.shape} and masks {masks.shape} differ in shape")
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ConfigError(f"split fractions: need 0 < val_fraction, test_fraction and their sum < 1, got "
                          f"val_fraction={val_fraction}, test_fraction={test_fraction}")
    if labels is None:
        if n < 3:
            raise DataError(f"{what}: {n} image(s) cannot fill train, val and test")
        order = rng.permutation(n)
        n_test = max(1, int(round(test_fraction * n)))
        n_val = max(1, int(round(val_fraction * n)))
        if n_test + n_val >= n:
            raise DataError(f"{what}: {n} images are too few for {val_fraction}/{test_fraction} val/test fractions")
        parts = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
        labels = np.zeros(n, dtype=np.int64)
    else:
        labels = np.asarray(labels, dtype=np.int64)
        idx = np.arange(n)
        tr, _, va, _, te, _ = stratified_split(idx[:, None], labels, rng, val_fraction, test_fraction, what)
        parts = {"train": tr[:, 0], "val": va[:, 0], "test": te[:, 0]}
    # Sorted indices: a split's order does not depend on the splitter's internals, only on membership.
    return tuple(SegSplit(images[np.sort(parts[s])], masks[np.sort(parts[s])], labels[np.sort(parts[s])])
                 for s in SPLITS)


# ---- windows -----------------------------------------------------------------------------------------------------

def window_offsets(ndim: int, window: int, dilation: int) -> np.ndarray:
    """Tap offsets [taps, ndim], row-major (the order of a Dataset's features)."""
    r = (window // 2) * dilation
    axis = np.arange(-r, r + 1, dilation)
    grids = np.meshgrid(*([axis] * ndim), indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def check_window(window, dilation, task: str = "segmentation") -> tuple[int, int]:
    window, dilation = coerce("window", window, int, task), coerce("dilation", dilation, int, task)
    if window < 1 or window % 2 == 0:
        raise ConfigError(f"task {task!r}: window must be an odd number >= 1 (the pixel sits in the middle), "
                          f"got {window}")
    if dilation < 1:
        raise ConfigError(f"task {task!r}: dilation must be >= 1, got {dilation}")
    return window, dilation


def gather_windows(images: np.ndarray, image_index: np.ndarray, positions: np.ndarray, window: int,
                   dilation: int) -> np.ndarray:
    """Rows of window features: int64 [len(positions), window^ndim].

    `positions` [m, ndim] are pixel coordinates in image `image_index[m]`. Pixels outside the image repeat the
    nearest edge pixel (what a line-buffer window does with replicated borders).
    """
    ndim = images.ndim - 1
    offsets = window_offsets(ndim, window, dilation)
    shape = np.asarray(images.shape[1:])
    coords = np.clip(positions[:, None, :] + offsets[None, :, :], 0, shape - 1)  # [m, taps, ndim]
    index = (np.asarray(image_index)[:, None],) + tuple(coords[..., d] for d in range(ndim))
    return images[index].astype(np.int64)


def image_windows(images: np.ndarray, window: int, dilation: int) -> np.ndarray:
    """Window rows for every pixel of every image, image-major then row-major: [n * pixels, window^ndim]."""
    n = images.shape[0]
    shape = images.shape[1:]
    grid = np.stack([g.ravel() for g in np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")], axis=1)
    image_index = np.repeat(np.arange(n), len(grid))
    return gather_windows(images, image_index, np.tile(grid, (n, 1)), window, dilation)


def sample_positions(masks: np.ndarray, rng: np.random.Generator, per_image: int, pos_fraction: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image index [m], positions [m, ndim], labels [m]): `per_image` distinct positions per image, up to
    `pos_fraction` of them foreground."""
    shape = masks.shape[1:]
    n_pixels = int(np.prod(shape))
    per_image = min(per_image, n_pixels)
    imgs, flat, labels = [], [], []
    for i in range(masks.shape[0]):
        m = masks[i].ravel()
        fg, bg = np.flatnonzero(m), np.flatnonzero(~m)
        n_fg = min(len(fg), int(round(pos_fraction * per_image)))
        n_bg = min(len(bg), per_image - n_fg)
        n_fg = min(len(fg), per_image - n_bg)  # an image with little background gives more foreground instead
        take = np.concatenate([rng.choice(fg, n_fg, replace=False), rng.choice(bg, n_bg, replace=False)])
        imgs.append(np.full(len(take), i)), flat.append(take), labels.append(m[take])
    flat_all = np.concatenate(flat)
    positions = np.stack(np.unravel_index(flat_all, shape), axis=1)
    return np.concatenate(imgs), positions, np.concatenate(labels).astype(np.int64)


def pixel_dataset(seg: SegData, seed: int, window: int = 5, dilation: int = 1, per_image: int = 128,
                  pos_fraction: float = 0.3) -> Dataset:
    """The per-pixel classification form of a segmentation task (see the module docstring)."""
    window, dilation = check_window(window, dilation, seg.name)
    per_image = coerce("per_image", per_image, int, seg.name)
    pos_fraction = coerce("pos_fraction", pos_fraction, float, seg.name)
    if per_image < 1:
        raise ConfigError(f"task {seg.name!r}: per_image must be >= 1, got {per_image}")
    if not 0.0 <= pos_fraction <= 1.0:
        raise ConfigError(f"task {seg.name!r}: pos_fraction must be within 0..1, got {pos_fraction}")
    # Its own stream, so changing the sampler never changes which images land in which split.
    rng = np.random.default_rng([int(seed), 0x5E6])
    parts = []
    for name in SPLITS:
        s = seg.split(name)
        idx, pos, y = sample_positions(s.masks, rng, per_image, pos_fraction)
        order = rng.permutation(len(y))  # mix images: a prefix of the split is then a fair subsample
        parts += [gather_windows(s.images, idx[order], pos[order], window, dilation), y[order]]
    if len(np.unique(parts[1])) < 2:
        raise DataError(f"{seg.name}: the training images hold no {seg.foreground} pixels, nothing to learn")
    taps = window ** seg.ndim
    return Dataset(
        seg.name, *parts, classes=PIXEL_CLASSES, input_width=seg.input_width, signed=False,
        description=f"{seg.description}; per-pixel: {window}^{seg.ndim} window (dilation {dilation}) of raw "
                    f"{seg.input_width}-bit pixels -> {seg.foreground} or not",
        extra={**seg.extra, "segmentation": True, "image_shape": seg.shape, "window": window,
               "dilation": dilation, "taps": taps, "per_image": per_image, "pos_fraction": pos_fraction,
               "foreground": seg.foreground})


def coerce(name: str, value, kind: type, task: str):
    """An option value as `kind` (options may arrive as strings from a command line or TOML file)."""
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"task {task!r}: option {name}={value!r} is not a valid {kind.__name__}") from None


def check_options(task: str, options: dict, known: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(f"task {task!r}: unknown option(s) {', '.join(unknown)}; it takes {', '.join(known)} "
                          f"(its per-pixel form also {', '.join(PIXEL_OPTIONS)})")
