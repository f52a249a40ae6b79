"""Shared fixtures: tiny seeded datasets so tests stay fast and need no data files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from hcl.tasks import Dataset, register

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


needs_ghdl = pytest.mark.skipif(shutil.which("ghdl") is None and not os.environ.get("HCL_GHDL"),
                                reason="ghdl is not installed (apt-get install ghdl, or make install)")


def shared_data(subdir: str) -> Path:
    """Path of a shared data folder, or skip the test saying why."""
    root = Path(os.environ["HCL_DATA"]) if os.environ.get("HCL_DATA") else SHARED_DATA
    path = root / subdir
    if not path.exists():
        pytest.skip(f"{path} is absent: set HCL_DATA to the folder holding {subdir}/ (CI has ../shared/data)")
    return path


def make_tiny(seed: int = 0, n: int = 600, n_features: int = 6, n_classes: int = 3) -> Dataset:
    """Integer features where the class shifts a few features' means: learnable, not trivial."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=n)
    X = rng.integers(0, 40, size=(n, n_features))
    X[:, 0] += 20 * y
    X[:, 1] += 20 * (y == 1)
    X = np.clip(X, 0, 63)
    a, b = int(0.6 * n), int(0.8 * n)
    return Dataset("tiny", X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:],
                   tuple(f"c{i}" for i in range(n_classes)), input_width=6)


@pytest.fixture(autouse=True)
def _table_cache(tmp_path_factory, monkeypatch):
    """Each test session parses tables into its own cache (hcl.tasks.cache), never the user's ~/.cache."""
    monkeypatch.setenv("HCL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "hcl-cache"))


@register("tiny")
def _tiny_task(seed: int = 0, data=None, **options) -> Dataset:
    return make_tiny(seed, **options)


@pytest.fixture
def tiny() -> Dataset:
    return make_tiny()
