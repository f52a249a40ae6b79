"""Tasks: named datasets with fixed, seeded train/validation/test splits.

A task loader returns a :class:`Dataset` of raw (un-encoded) features. Features are integers wherever the
hardware sees integers (ADC codes, pixel values), so that the encoder's comparators `x >= T` can be built in RTL
on exactly the values the task provides.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from hcl.errors import ConfigError, DataError
from hcl.splits import Split


@dataclass(frozen=True)
class Dataset:
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    # Raw input word: width in bits and signedness, used by the RTL ports. None for float features.
    input_width: int | None = 12
    signed: bool = False
    categorical: tuple[int, ...] = ()
    # Thermometer levels per feature that suit this data (measured; see the task's module); None: hcl's default.
    bits: int | None = None
    description: str = ""
    extra: dict = field(default_factory=dict)
    _identities: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def identity(self, name: str) -> Split:
        """The split's identity (hcl.splits): what a fitted piece checks its rows against. Made once per split."""
        if name not in self._identities:
            X, y = self.split(name)
            self._identities[name] = Split.of(name, y, X)
        return self._identities[name]

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        try:
            return {"train": (self.X_train, self.y_train), "val": (self.X_val, self.y_val),
                    "test": (self.X_test, self.y_test)}[name]
        except KeyError:
            raise ConfigError(f"unknown split {name!r}: use train, val or test") from None

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.classes)


TaskLoader = Callable[..., Dataset]
_REGISTRY: dict[str, TaskLoader] = {}
_BUILT_IN: set[str] = set()            # tasks that generate or bundle their data and read no files


def register(name: str, reads_files: bool = True):
    def wrap(fn: TaskLoader) -> TaskLoader:
        _REGISTRY[name] = fn
        if not reads_files:
            _BUILT_IN.add(name)
        return fn
    return wrap


def task_names() -> list[str]:
    _import_builtin()
    return sorted(_REGISTRY)


def load_task(name: str, seed: int = 0, data: str | os.PathLike | None = None, **options) -> Dataset:
    """Load a task by name. `data` is a file or folder for tasks that read files (else `HCL_DATA`)."""
    _import_builtin()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown task {name!r}: choose one of {', '.join(sorted(_REGISTRY))}")
    if data is not None and name in _BUILT_IN:
        raise ConfigError(f"--data {data}: task {name!r} reads no files (its data are built in); drop --data, "
                          "or use --task file for your own CSV/NPZ")
    return _REGISTRY[name](seed=seed, data=data, **options)


def data_root(data: str | os.PathLike | None, subdir: str) -> Path:
    """Folder holding a task's files: the `data` argument, else `$HCL_DATA/<subdir>`."""
    if data is not None:
        return Path(data)
    env = os.environ.get("HCL_DATA")
    if not env:
        raise DataError(f"no data folder: pass --data DIR or set HCL_DATA to the folder that holds {subdir}/")
    return Path(env) / subdir


def check_finite(X: np.ndarray, what: str) -> None:
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))[0]
        raise DataError(f"{what} holds NaN or inf (first at row {bad[0]}, column {bad[1]}): clean or impute it first")


def _import_builtin() -> None:
    """Import every module of this package: each registers its tasks (no list to keep in sync)."""
    import importlib
    import pkgutil
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
