"""Where the benchmarks find the shared data sets when the user names none."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def default_data(subdir: str) -> str | None:
    """None when $HCL_DATA is set (the task reads it), else ../shared/data/<subdir> beside the repository."""
    return None if os.environ.get("HCL_DATA") else str(SHARED / subdir)
