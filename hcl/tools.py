"""External tools (ghdl, yosys, nextpnr-ice40, icepack) found in one place.

Each tool is looked up on PATH; the environment variable ``HCL_<TOOL>`` (e.g. ``HCL_GHDL``, ``HCL_NEXTPNR_ICE40``)
overrides it with a path. A missing tool raises ToolError saying how to install it; a failing tool's stderr is kept
in the error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from hcl.errors import ToolError

INSTALL_HINT = {
    "ghdl": "apt-get install -y ghdl (or run `make install`)",
    "yosys": "apt-get install -y yosys (or run `make install`)",
    "nextpnr-ice40": "apt-get install -y nextpnr-ice40 (or run `make install`)",
    "icepack": "apt-get install -y fpga-icestorm (or run `make install`)",
}


def env_var(tool: str) -> str:
    return "HCL_" + tool.upper().replace("-", "_")


def find_tool(tool: str) -> str:
    """Absolute path of `tool`: $HCL_<TOOL> if set, else PATH."""
    override = os.environ.get(env_var(tool))
    if override:
        if not (Path(override).is_file() and os.access(override, os.X_OK)):
            raise ToolError(f"{env_var(tool)}={override} is not an executable file")
        return override
    found = shutil.which(tool)
    if not found:
        hint = INSTALL_HINT.get(tool, f"install {tool}")
        raise ToolError(f"{tool} not found on PATH: {hint}, or point {env_var(tool)} at it")
    return found


@dataclass
class ToolRun:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def run_tool(tool: str, args: Sequence[str], cwd: str | os.PathLike | None = None, timeout: float = 600,
             check: bool = True) -> ToolRun:
    """Run `tool args...`; on failure or timeout raise ToolError with the tail of its stderr."""
    exe = find_tool(tool)
    cmd = [exe, *map(str, args)]
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolError(f"{tool} timed out after {timeout:.0f} s (raise the limit or use a smaller design)") from None
    result = ToolRun(cmd, proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-5:]
        raise ToolError(f"{tool} failed (exit {proc.returncode}): {' | '.join(tail)}")
    return result
