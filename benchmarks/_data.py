"""Where the benchmarks find the shared data sets when the user names none."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def default_data(subdir: str) -> str | None:
    """None when $HCL_DATA is set (the task reads it), else ../shared/data/<subdir> beside the repository."""
    return None if os.environ.get("HCL_DATA") else str(SHARED / subdir)


# Tasks whose data is a folder of ../shared/data (the others are built in or generated).
DATA_DIRS = {"mnist": "mnist", "busi": "busi"}


def task_data(task: str, given: str | None = None) -> str | None:
    """The data a benchmark passes for `task`: what the user gave, else the shared folder of a file-backed task."""
    if given is not None:
        return given
    return default_data(DATA_DIRS[task]) if task in DATA_DIRS else None
