"""The `mnist` task: the original MNIST IDX files, 28x28 pixels 0..255 (8-bit raw words), 10 classes.

Files: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each
gzipped (`.gz`) or not, in the folder given by `data` (or its mnist/ subfolder) or in `$HCL_DATA/mnist`.

Splits: the official 10,000 test images are the test split; the validation split is `n_val` (default 10,000) images
carved, stratified and seeded, from the 60,000 training images; `n_train` (default: all the rest) subsamples the
remaining training images, stratified, for quick runs. X is uint8 (784 bytes a sample: the full set as int64 would
take 440 MB).

IDX format: a big-endian header (two zero bytes, a type byte 0x08 = unsigned byte, the number of dimensions, then
each dimension as a 32-bit integer) followed by the uint8 payload in C order. Every header field and the payload
size are checked; a wrong or truncated file raises DataError naming the file and the fault.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from hcl.errors import ConfigError, DataError
from hcl.tasks import Dataset, data_root, register

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
UNSIGNED_BYTE = 0x08
IMAGE_SIDE = 28


def read_idx(path: Path, expect_ndim: int) -> np.ndarray:
    """The array in one IDX file (gzipped when its name ends in .gz), with every header field checked."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{path}: not a complete gzip file ({exc}); download it again") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) < 4:
        raise DataError(f"{path}: {len(raw)} bytes, too short for an IDX header")
    zero, dtype_code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or dtype_code != UNSIGNED_BYTE or ndim != expect_ndim:
        magic = int.from_bytes(raw[:4], "big")
        want = (UNSIGNED_BYTE << 8) | expect_ndim
        raise DataError(f"{path}: magic number 0x{magic:08x}, expected 0x{want:08x} (unsigned bytes, {expect_ndim} "
                        "dimension(s)); is this the right IDX file?")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes, the {ndim} dimensions need {header})")
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        fault = "truncated" if len(raw) < expected else "has trailing bytes"
        raise DataError(f"{path}: {fault}: the header promises {'x'.join(map(str, dims))} bytes of data "
                        f"({expected} bytes in all) but the file holds {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def find_file(folder: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"{folder}: no {stem}.gz (or {stem}); the mnist task needs the four IDX files there")


def load_split(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    images_path = find_file(folder, FILES[f"{prefix}_images"])
    labels_path = find_file(folder, FILES[f"{prefix}_labels"])
    images = read_idx(images_path, expect_ndim=3)
    labels = read_idx(labels_path, expect_ndim=1)
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
    if len(labels) != len(images):
        raise DataError(f"{labels_path}: {len(labels)} labels for the {len(images)} images of {images_path.name}")
    if labels.max(initial=0) > 9:
        raise DataError(f"{labels_path}: label {labels.max()} found; MNIST labels are 0..9")
    return images.reshape(len(images), -1), labels.astype(np.int64)


@register("mnist")
def load_mnist(seed: int = 0, data=None, n_val: int = 10000, n_train: int | None = None, **options) -> Dataset:
    if options:
        raise ConfigError(f"task 'mnist': unknown option(s) {', '.join(sorted(options))}; it takes n_val, n_train")
    folder = data_root(data, "mnist")
    # `--data` may name the data root that holds mnist/, as HCL_DATA does.
    if data is not None and not (folder / (FILES["train_images"] + ".gz")).exists() and (folder / "mnist").is_dir():
        folder = folder / "mnist"
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder; pass --data DIR or set HCL_DATA to a folder holding mnist/ "
                        "with the four IDX files")
    X_full, y_full = load_split(folder, "train")
    X_test, y_test = load_split(folder, "test")
    n_val = int(n_val)
    if not 10 <= n_val <= len(y_full) - 10:
        raise ConfigError(f"task 'mnist': n_val={n_val} must be between 10 and {len(y_full) - 10}")

    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(seed)
    X_train, X_val, y_train, y_val = train_test_split(
        X_full, y_full, test_size=n_val, stratify=y_full, random_state=int(rng.integers(0, 2**31 - 1)))
    if n_train is not None:
        n_train = int(n_train)
        if not 10 <= n_train <= len(y_train):
            raise ConfigError(f"task 'mnist': n_train={n_train} must be between 10 and {len(y_train)} "
                              f"(60,000 minus n_val)")
        if n_train < len(y_train):
            X_train, _, y_train, _ = train_test_split(
                X_train, y_train, train_size=n_train, stratify=y_train,
                random_state=int(rng.integers(0, 2**31 - 1)))
    # Contiguous copies: slices of the read-only decompressed buffers would keep all of them alive.
    # 1 thermometer level (a pixel is ink or not): a grown start (1000 hidden LUTs, 16 per class) reached 0.9087
    # validation accuracy with 1 level and 0.9090 with 2, at 34 more encoder LUTs.
    return Dataset("mnist", np.ascontiguousarray(X_train), y_train, np.ascontiguousarray(X_val), y_val,
                   np.array(X_test), y_test, classes=tuple(str(d) for d in range(10)), input_width=8, signed=False,
                   bits=1,
                   description=f"MNIST from {folder}: 784 pixels of 0..255, {len(y_train)} train / {len(y_val)} "
                               f"val / {len(y_test)} test (official)",
                   extra={"image_shape": (IMAGE_SIDE, IMAGE_SIDE), "folder": str(folder)})
