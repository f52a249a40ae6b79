"""Drop-in packaging of an emitted design: a FuseSoC core (CAPI2) and a plain `files.txt`, for users whose FPGA
projects are managed by FuseSoC/edalize or by file lists. Written by `hcl emit-vhdl` from the manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hcl.files import atomic_write_text

FILES_LIST = "files.txt"
SIM_SCRIPT = "fusesoc_sim.sh"
VLNV_VENDOR, VLNV_LIBRARY = "hcl", "design"


def vlnv(manifest: dict[str, Any]) -> str:
    """vendor:library:name:version. The version's patch number is the first 28 bits of the network's sha256 (FuseSoC
    wants numeric versions), so two different networks emitted under one entity name are two versions of the core."""
    return f"{VLNV_VENDOR}:{VLNV_LIBRARY}:{manifest['top']}:1.0.{int(manifest['network_sha256'][:7], 16)}"


def core_file(manifest: dict[str, Any]) -> str:
    return f"{manifest['top']}.core"


def write(out: Path, manifest: dict[str, Any]) -> None:
    from hcl.emit import environment
    env = environment()
    lat = manifest["latency_cycles"]
    description = (f"hcl LUT network {manifest['top']} ({manifest['task'] or 'no task'}, K={manifest['k']}, "
                   f"{manifest['luts']} LUTs estimated, " + (f"latency {lat} cycles" if lat else "combinational")
                   + ")")
    # A JSON string is a YAML double-quoted scalar: a task name with quotes or newlines cannot break the file.
    data = {**manifest, "vlnv": vlnv(manifest), "description_yaml": json.dumps(description)}
    atomic_write_text(out / core_file(manifest), env.get_template("fusesoc.core.j2").render(**data) + "\n")
    atomic_write_text(out / SIM_SCRIPT, env.get_template("fusesoc_sim.sh.j2").render(**data) + "\n")
    # One VHDL-2008 file per line, in compile order.
    atomic_write_text(out / FILES_LIST, "".join(f"{f}\n" for f in manifest["files"]))
