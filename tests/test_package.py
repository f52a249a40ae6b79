"""Drop-in packaging: the FuseSoC core and files.txt that emit-vhdl writes, run by FuseSoC itself (lint and the
cocotb sim target), and failing when the design or its vectors are wrong."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hcl import package
from hcl.emit import emit
from test_emit import handmade_inputs, handmade_network

FUSESOC = Path(sys.executable).with_name("fusesoc")
pytestmark = [
    pytest.mark.skipif(shutil.which("ghdl") is None and not os.environ.get("HCL_GHDL"),
                       reason="ghdl is not installed (apt-get install ghdl, or make install)"),
    pytest.mark.skipif(not FUSESOC.exists(), reason="fusesoc is not installed (make install)"),
]


def fusesoc(design: Path, target: str, work: Path) -> subprocess.CompletedProcess:
    # hcl on PATH for the sim target's hook, as in a user's environment
    env = {**os.environ, "PATH": f"{FUSESOC.parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([str(FUSESOC), "--cores-root", str(design), "run", "--build-root", str(work),
                           "--target", target, "--build", "hcl:design:hand_k2"],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def design(tmp_path):
    out = tmp_path / "rtl"
    manifest = emit(handmade_network(), out, entity="hand_k2", registers="layer", X=handmade_inputs())
    assert manifest["fusesoc_core"] == "hand_k2.core" and (out / "hand_k2.core").is_file()
    return out


def test_files_list_and_core_name_the_design(design):
    assert (design / package.FILES_LIST).read_text() == "hand_k2.vhd\n"
    core = (design / "hand_k2.core").read_text()
    assert core.startswith("CAPI=2:\n") and "file_type: vhdlSource-2008" in core
    assert "name: hcl:design:hand_k2:1.0." in core


def test_a_hostile_task_name_cannot_break_the_core(tmp_path):
    import yaml
    net = handmade_network()
    net.task = 'x"\nname: evil:core:x:1.0\n#'
    emit(net, tmp_path, entity="hand_k2", X=handmade_inputs())
    core = yaml.safe_load((tmp_path / "hand_k2.core").read_text())
    assert core["name"].startswith("hcl:design:hand_k2:1.0.") and net.task in core["description"]


def test_version_follows_the_network():
    a = {"top": "t", "network_sha256": "0" * 64}
    b = {"top": "t", "network_sha256": "f" + "0" * 63}
    assert package.vlnv(a) != package.vlnv(b)


def test_fusesoc_lint_and_sim_pass_on_the_emitted_design(design, tmp_path):
    lint = fusesoc(design, "lint", tmp_path / "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    sim = fusesoc(design, "sim", tmp_path / "sim")
    assert sim.returncode == 0, sim.stdout + sim.stderr
    assert "PASS" in sim.stdout and "0 mismatches" in sim.stdout


def test_fusesoc_sim_fails_on_a_wrong_vector_and_lint_on_broken_vhdl(design, tmp_path):
    lines = (design / "vectors.txt").read_text().splitlines()
    row = next(i for i, l in enumerate(lines) if l and not l.startswith("#"))
    fields = lines[row].split("|")
    fields[1] = f" {1 - int(fields[1])} " if fields[1].strip() in ("0", "1") else " 0 "
    lines[row] = "|".join(fields)
    (design / "vectors.txt").write_text("\n".join(lines) + "\n")
    sim = fusesoc(design, "sim", tmp_path / "sim")
    assert sim.returncode != 0 and "mismatch" in sim.stdout + sim.stderr
    vhd = design / "hand_k2.vhd"
    vhd.write_text(vhd.read_text().replace("end architecture", "end architectur", 1))
    lint = fusesoc(design, "lint", tmp_path / "lint")
    assert lint.returncode != 0
