"""hcl installed as users install it: a wheel built from the repository, installed into a fresh virtual environment
that cannot see the source tree, runs the flow (evolve with the trainer, emit-vhdl, sim).

Every other test runs against the editable install, which finds any module in the source tree; only this one sees
what the wheel really holds (a subpackage or template missing from it breaks a user's install, not the tests).
The fresh environment reuses the test environment's dependencies through a path entry (no network, no editable
finder: a plain path line in a .pth file does not run the .pth files inside it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _source_files() -> list[Path]:
    """The files a clean checkout holds (tracked, or new and not ignored): what a wheel built from a clone sees."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"not a git checkout ({out.stderr.strip()}): cannot tell the source files from build output")
    return [Path(p) for p in out.stdout.splitlines() if (ROOT / p).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built, as `pip wheel .` builds it, from a copy of the checkout (the build writes build/ and
    *.egg-info beside the sources; the copy keeps them out of the working tree)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    for rel in _source_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "-w", str(base / "dist"), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (whl,) = (base / "dist").glob("hcl-*.whl")
    return whl


def test_wheel_holds_every_package_and_its_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = sorted(p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "hcl").rglob("__init__.py")
                      if "__pycache__" not in p.parts)
    assert {"hcl", "hcl/train", "hcl/bridge", "hcl/evolve", "hcl/tasks", "hcl/templates", "hcl/sim"} <= set(packages)
    missing = [p for p in packages if f"{p}/__init__.py" not in names]
    assert not missing, f"packages left out of the wheel: {missing}"
    data = [p.relative_to(ROOT).as_posix() for p in (ROOT / "hcl" / "templates").glob("*.j2")]
    data += ["hcl/sim/Makefile", "hcl/sim/tb_network.py"]
    assert len(data) > 2 and not [d for d in data if d not in names]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed and the test environment's dependencies visible."""
    where = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "hcl-test-dependencies.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                           "--no-index", str(wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return where


def run(venv: Path, cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(map(str, args))}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_installed_wheel_imports_from_itself(venv, tmp_path):
    out = run(venv, tmp_path, venv / "bin" / "python", "-c",
              "import hcl, hcl.train, hcl.bridge, hcl.evolve.lamarck; from hcl import LUTClassifier; "
              "print(hcl.__file__)")
    assert Path(out.strip()).resolve().is_relative_to(venv.resolve()), out
    assert not Path(out.strip()).resolve().is_relative_to(ROOT)


def test_installed_wheel_runs_the_flow(venv, tmp_path):
    """`hcl evolve` with the gradient trainer (hcl.train), emit-vhdl (templates), sim (the packaged testbench)."""
    hcl = venv / "bin" / "hcl"
    out = run(venv, tmp_path, hcl, "evolve", "--task", "sipm", "--trainer", "efd", "--generations", "1",
              "--population", "4", "--layers", "16", "--train-epochs", "0.05", "--tune-steps", "5", "--quiet",
              "--out", "run")
    assert "completed after 1 generations" in out
    assert (tmp_path / "run" / "best.json").is_file() and (tmp_path / "run" / "run.json").is_file()
    out = run(venv, tmp_path, hcl, "emit-vhdl", "run/best.json", "--out", "rtl", "--max-vectors", "40",
              "--registers", "layer")
    assert "40 vectors" in out and any((tmp_path / "rtl").glob("*.vhd"))
    if shutil.which("ghdl") is None and not os.environ.get("HCL_GHDL"):
        pytest.skip("ghdl is not installed (apt-get install ghdl, or make install): the design was emitted, "
                    "not simulated")
    out = run(venv, tmp_path, hcl, "sim", "rtl")
    assert "40 of 40 checked bit-exact" in out, out


def test_the_wheel_declares_ranges_and_the_lock_pins_them(wheel):
    """Installed into a user's environment, hcl states ranges (no exact pins); make install's lock pins every one
    of them (and torch to the CPU build the Makefile installs)."""
    import re
    import tomllib
    meta = zipfile.ZipFile(wheel).read("hcl-0.1.0.dist-info/METADATA").decode()
    requires = re.findall(r"^Requires-Dist: (.+)$", meta, flags=re.M)
    assert requires and not [r for r in requires if "==" in r.split(";")[0]], requires
    assert "Requires-Python: >=3.11" in meta
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            lock[re.sub(r"[-_.]+", "-", name).lower()] = version
    names = [re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", d).group()).lower() for d in declared]
    assert [n for n in names if n not in lock] == []
    assert lock["torch"] == "2.13.0" and "torch==2.13.0" in (ROOT / "Makefile").read_text()
