# hcl: set-up, demo, tests, simulation. `make demo` and `make test` work on a fresh clone (Debian, Python 3.11).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hcl-installed
TOOLS_STAMP := $(VENV)/.hcl-tools
DEMO_DIR ?= runs/demo

.PHONY: install setup tools demo test sim bench docs clean

install setup: $(STAMP) $(TOOLS_STAMP)

# Re-install only when the dependency list or the lock changes. pyproject.toml declares compatible ranges; the
# exact versions tested come from requirements.lock (pip constraints). torch is pinned to the CPU build this index
# serves, here and in the lock.
LOCK := requirements.lock
$(STAMP): pyproject.toml $(LOCK)
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found: install Python 3.11 (apt-get install -y python3.11 python3.11-venv)" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip -c $(LOCK) setuptools wheel
	$(BIN)/python -m pip install -q -c $(LOCK) torch==2.13.0
	$(BIN)/python -m pip install -q -c $(LOCK) -e ".[bridge,cluster,test,synth]"
	@touch $@

# GHDL (simulation), Yosys and nextpnr-ice40 (synthesis) from Debian's packages, pinned by the release.
$(TOOLS_STAMP): scripts/install-tools.sh
	@bash scripts/install-tools.sh
	@mkdir -p $(VENV) && touch $@

# Evolve on the built-in task, emit VHDL (pipelined and combinational), simulate both in GHDL, prove both equal to
# the network for every input (hcl verify).
demo: install
	$(BIN)/hcl evolve --task sipm --luts 6 --generations 80 --population 32 --seed 1 --out $(DEMO_DIR) --overwrite
	$(BIN)/hcl emit-vhdl $(DEMO_DIR)/best.json --out $(DEMO_DIR)/rtl --registers layer
	$(BIN)/hcl sim $(DEMO_DIR)/rtl
	$(BIN)/hcl verify $(DEMO_DIR)/rtl
	$(BIN)/hcl emit-vhdl $(DEMO_DIR)/best.json --out $(DEMO_DIR)/rtl-comb --registers none
	$(BIN)/hcl sim $(DEMO_DIR)/rtl-comb
	$(BIN)/hcl verify $(DEMO_DIR)/rtl-comb

# Two workers (pytest-xdist), one per core of the project's machines: the suite (896 tests) took 668 s in one
# process and 327 s in two on this 2-core machine (2026-12-06); every test keeps to its own tmp_path.
test: install
	$(BIN)/python -m pytest -q -n 2

# Simulate an emitted design with cocotb + GHDL (hcl/sim/Makefile): `make sim DESIGN=dir`. Without DESIGN, emit
# examples/sipm_k6.json to runs/sim/sipm_k6 first. JUnit XML: <design>/sim_build/results.xml.
# Then `hcl verify` proves the design equal to its network for every input (VERIFY=0 skips the proof).
DESIGN ?=
VERIFY ?= 1
sim: install
	@design="$(DESIGN)"; \
	if [ -z "$$design" ]; then \
	    design=runs/sim/sipm_k6; \
	    $(BIN)/hcl emit-vhdl examples/sipm_k6.json --out $$design || exit 1; \
	fi; \
	PATH="$(CURDIR)/$(BIN):$$PATH" $(MAKE) --no-print-directory -f hcl/sim/Makefile DESIGN="$$design" \
	    PYTHON="$(CURDIR)/$(BIN)/python" || exit 1; \
	if [ "$(VERIFY)" != 0 ]; then $(BIN)/hcl verify "$$design"; fi

bench: install
	$(BIN)/python benchmarks/bench_eval.py

# The user guide (docs/, mkdocs.yml) as HTML in build/site; no network needed.
docs: install
	$(BIN)/mkdocs build --strict --site-dir build/site

clean:
	rm -rf $(VENV) runs sim_build results.xml .pytest_cache
