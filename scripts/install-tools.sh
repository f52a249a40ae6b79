#!/usr/bin/env bash
# Installs the open-source EDA tools hcl drives, from Debian bookworm's packages, when they are missing.
#   ghdl 2.0.0 (mcode)  -> simulation (cocotb) and `ghdl --synth`
#   yosys 0.23          -> technology mapping (synth_xilinx, synth_ice40)
#   nextpnr-ice40 0.4   -> place and route, timing (iCE40)
set -euo pipefail
need=()
command -v ghdl >/dev/null || need+=(ghdl)
command -v yosys >/dev/null || need+=(yosys)
command -v nextpnr-ice40 >/dev/null || need+=(nextpnr-ice40)
command -v icepack >/dev/null || need+=(fpga-icestorm)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "error: missing ${need[*]}: install them (Debian: sudo apt-get install -y ${need[*]}) and re-run" >&2
    exit 1
fi
echo "installing ${need[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
for tool in ghdl yosys nextpnr-ice40; do
    command -v "$tool" >/dev/null || { echo "error: $tool still missing after apt-get install" >&2; exit 1; }
done
