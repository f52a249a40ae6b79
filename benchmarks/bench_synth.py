"""Model vs tool: hcl.cost's LUT count and depth beside Yosys synth_xilinx, and nextpnr-ice40 Fmax for K = 4 nets.

    .venv/bin/python benchmarks/bench_synth.py [--jobs 2] [--network runs/demo/best.json ...]
        emits each network (hcl.emit, registers as listed), runs `hcl synth` (hcl.synth.synth) and writes the table
        to benchmarks/results/synth.md. Designs and their synthesis cache live in build/bench_synth/, so a re-run
        only synthesizes what changed.
    .venv/bin/python benchmarks/bench_synth.py --calibrate-output [--jobs 2] [--seeds 2] [--rows FILE]
        measures the output logic (popcounts + argmax) in place for 2, 3, 5 and 10 classes and groups of 1..64,
        prints hcl/cost.py's _OUTPUT_PER_CLASS and writes every design to benchmarks/results/output_logic.md
        (--rows: rewrite it from an earlier run's rows, e.g. benchmarks/results/output_logic_rows.json).
    .venv/bin/python benchmarks/bench_synth.py --calibrate [--jobs 2] [--seeds 3]
        re-measures the popcount's LUT levels (the template's popcount fed by a LUT layer, K = 4 and 6).
    Run both when templates/network.vhd.j2 changes its popcount or argmax.

Random networks (hcl.network.random_network on a fitted hcl.encode.Encoder) are unpruned: the model and the tool
both drop their dead LUTs. Networks given with --network (e.g. evolved ones) are used as they are.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hcl import cost, emit, synth  # noqa: E402
from hcl.encode import Encoder  # noqa: E402
from hcl.files import atomic_write_text  # noqa: E402
from hcl.network import Network, random_network  # noqa: E402

WORK = ROOT / "build" / "bench_synth"
RESULT = ROOT / "benchmarks" / "results" / "synth.md"


@dataclass(frozen=True)
class Case:
    name: str
    k: int
    n_features: int
    width: int
    bits: int
    threshold_bits: int | None
    layers: tuple[int, ...]
    classes: int
    registers: str
    seed: int = 0
    ice40: bool = False

    def network(self) -> Network:
        rng = np.random.default_rng(self.seed)
        X = rng.integers(0, 1 << self.width, size=(4000, self.n_features))
        enc = Encoder.fit(X, bits=self.bits, input_width=self.width, threshold_bits=self.threshold_bits)
        net = random_network(rng, self.k, enc.n_bits, list(self.layers), self.classes, task=self.name)
        net.encoder = enc.to_dict()
        return net


CASES = [
    # sipm-like: 12-bit ADC words, rounded thresholds, 2 classes with big groups
    Case("sipm-like k6", 6, 16, 12, 4, 6, (64, 32), 2, "none", seed=1),
    Case("sipm-like k6 layer", 6, 16, 12, 4, 6, (64, 32), 2, "layer", seed=1),
    # digits-like: 10 classes of 4 LUTs
    Case("10-class k4", 4, 20, 8, 4, 6, (96, 40), 10, "none", seed=2, ice40=True),
    Case("10-class k4 every=2", 4, 20, 8, 4, 6, (96, 48, 40), 10, "every=2", seed=3, ice40=True),
    Case("10-class k6", 6, 32, 8, 3, 6, (128, 40), 10, "none", seed=4),
    # exact thresholds on narrow words; 16-bit words (carry-chain comparators)
    Case("3-class k4 5-bit layer", 4, 12, 5, 4, None, (64, 24), 3, "layer", seed=5, ice40=True),
    Case("4-class k6 16-bit", 6, 12, 16, 4, 6, (72, 24), 4, "none", seed=6),
    Case("4-class k4 16-bit layer", 4, 12, 16, 3, None, (72, 24), 4, "layer", seed=7, ice40=True),
]


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def run_case(name: str, net: Network, registers: str, ice40: bool, timeout: float) -> dict:
    out = WORK / slug(name)
    emit.emit(net, out, registers=registers, vectors=False)
    t0 = time.monotonic()
    x = synth.synth(out, "xilinx", timeout=timeout)
    row = {"name": name, "k": net.k, "layers": net.layer_sizes, "classes": net.n_classes,
           "groups": [len(g) for g in net.groups], "width": (net.encoder or {}).get("input_width"),
           "registers": registers, "est": cost.estimate(net, registers=registers), "xilinx": x,
           "seconds": time.monotonic() - t0}
    if ice40:
        row["ice40"] = synth.synth(out, "ice40", timeout=timeout)
    err = 100.0 * (row["est"]["luts"] - x["luts"]) / x["luts"]
    print(f"{name}: model {row['est']['luts']} vs yosys {x['luts']} ({err:+.1f} %){' [cached]' if x['cached'] else ''}",
          flush=True)
    return row


def markdown(rows: list[dict], command: str) -> str:
    x0 = rows[0]["xilinx"]
    lines = [
        "# Cost model vs synthesis",
        "",
        f"`{command}` -- regenerate with that command (designs and the synthesis cache: build/bench_synth/).",
        "",
        "hcl.cost's estimate (`cost.estimate(net, registers)`) beside Yosys `synth_xilinx -family xcup` on the VHDL that",
        "`hcl emit-vhdl` writes (post-synthesis, not post-route; LUTs = LUT1..LUT6 cells, encoder included;",
        "MUXF7/8 and CARRY4 are not counted as LUTs). Depth = LUT levels from input to class output (registers passed",
        "through); stage = the longest register-to-register path in LUT levels. Tools: "
        + "; ".join(x0["tool_versions"].values()) + ".",
        "",
        "| network | K | layers | groups | W | registers | model LUTs (enc+net+out) | Yosys LUTs | error | "
        "model depth | Yosys depth | stage | FFs | CARRY4 | synth s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    errors = []
    for r in rows:
        e, x = r["est"], r["xilinx"]
        err = 100.0 * (e["luts"] - x["luts"]) / x["luts"]
        errors.append(err)
        groups = "x".join(str(g) for g in sorted(set(r["groups"])))
        lines.append(
            f"| {r['name']} | {r['k']} | {'-'.join(map(str, r['layers']))} | {r['classes']} x {groups} | "
            f"{r['width']} | {r['registers']} | {e['luts']} ({e['luts_encoder']}+{e['luts_network']}+"
            f"{e['luts_output']}) | {x['luts']} | {err:+.1f} % | {e['depth']} | {x['depth_total']} | {x['depth']} | "
            f"{x['ffs']} | {sum(x['carry'].values())} | {x['synth_seconds']} |")
    abs_err = np.abs(errors)
    lines += ["", f"Mean |error| {abs_err.mean():.1f} %, worst {abs_err.max():.1f} % over {len(rows)} networks "
                  f"({int((abs_err <= 15).sum())} within 15 %)."]
    ice = [r for r in rows if "ice40" in r]
    if ice:
        d = ice[0]["ice40"]["device"]
        lines += ["", f"## iCE40 ({d}, nextpnr-ice40 post-route, seed {synth.ICE40['seed']}, target "
                      f"{synth.ICE40['freq_mhz']} MHz)", "",
                  "Inputs shifted in through a wrapper register, outputs registered (their flip-flops not counted), "
                  "so Fmax is the design's own register-to-register logic: all of it for `registers=none`.", "",
                  "| network | registers | SB_LUT4 | SB_CARRY | FFs | LUT4 levels (stage) | Fmax MHz | critical path ns "
                  "| ns per level |", "|---|---|---|---|---|---|---|---|---|"]
        for r in ice:
            i = r["ice40"]
            lines.append(f"| {r['name']} | {r['registers']} | {i['luts']} | {i['carry'].get('SB_CARRY', 0)} | "
                         f"{i['ffs']} | {i['depth']} | {i['fmax_mhz']} | {i['critical_path_ns']} | "
                         f"{i['ns_per_level_measured']} |")
    return "\n".join(lines) + "\n"


# ---- calibration -----------------------------------------------------------------------------------------------

def template_popcount() -> str:
    text = (ROOT / "hcl" / "templates" / "network.vhd.j2").read_text()
    m = re.search(r"  function popcount.*?end function;\n", text, re.S)
    if not m:
        raise SystemExit("templates/network.vhd.j2 has no popcount function")
    return m.group(0)


def popcount_piece(n: int, k: int, function: str, seed: int = 0) -> str:
    """A layer of n random K-LUTs feeding the template's popcount: the context the emitted design gives it."""
    rng = np.random.default_rng(seed * 1000 + n * 10 + k)
    width, n_in = max(1, n.bit_length()), max(24, 2 * n)
    decl, body = [], []
    for j in range(n):
        table = int(rng.integers(0, 2 ** 63)) | (int(rng.integers(0, 2)) << 63)
        table &= (1 << (1 << k)) - 1
        wires = rng.choice(n_in, size=k, replace=False)
        decl.append(f"  constant T{j} : std_logic_vector({(1 << k) - 1} downto 0) := x\"{table:0{(1 << k) // 4}x}\";")
        body.append(f"  l({j}) <= T{j}(to_integer(unsigned'(" + " & ".join(f"e({i})" for i in wires) + ")));")
    return (f"library ieee;\nuse ieee.std_logic_1164.all;\nuse ieee.numeric_std.all;\n"
            f"entity piece is port (e : in std_logic_vector({n_in - 1} downto 0); "
            f"y : out std_logic_vector({width - 1} downto 0)); end;\n"
            f"architecture rtl of piece is\n  subtype score_t is unsigned({width - 1} downto 0);\n{function}"
            f"  signal l : std_logic_vector({n - 1} downto 0);\n" + "\n".join(decl) + "\nbegin\n"
            + "\n".join(body) + "\n  y <= std_logic_vector(popcount(l));\nend;\n")


def calibrate_levels(jobs: int, timeout: float, seeds: int) -> None:
    """LUT levels of the popcount fed by one LUT layer (K = 4 and 6, `seeds` random layers per n, the mean)."""
    function = template_popcount()
    ns = list(range(2, 21)) + [24, 28, 32, 40, 48, 64]

    def one(job):
        n, k, seed = job
        folder = WORK / "calibrate" / f"pop-n{n}-k{k}" / f"seed{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "piece.vhd", popcount_piece(n, k, function, seed))
        atomic_write_text(folder / "manifest.json", json.dumps({"top": "piece", "files": ["piece.vhd"]}))
        return synth.synth(folder, "xilinx", timeout=timeout)["depth_total"] - 1   # less the driving layer's level

    todo = [(n, k, s) for n in ns for k in (4, 6) for s in range(seeds)]
    with ThreadPoolExecutor(jobs) as ex:
        got = dict(zip(todo, ex.map(one, todo)))
    levels = {n: int(round(np.mean([v for j, v in got.items() if j[0] == n]))) for n in ns}
    print("# paste into hcl/cost.py (_POPCOUNT_LEVEL_POINTS) for the template's popcount:")
    print("levels:", json.dumps({1: 0, **levels}))


# Output logic in place: every class count x group size of the grid, one random LUT6 layer of classes x group LUTs
# on one-comparator-bit inputs (x >= 128 is a wire: 0 encoder LUTs), so Yosys LUTs less the layer are the output logic.
OUTPUT_CLASSES = (2, 3, 5, 10)
OUTPUT_GROUPS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 32, 48, 64)
OUTPUT_RESULT = ROOT / "benchmarks" / "results" / "output_logic.md"


def output_case(classes: int, group: int, seed: int) -> Case:
    return Case(f"output c{classes} g{group} s{seed}", 6, 60, 8, 1, 1, (classes * group,), classes, "none",
                seed=100 * seed + 7)


def per_class_table(rows: list[dict]) -> dict[int, dict[int, float]]:
    """{classes: {group: output LUTs per class}}, the mean over the seeds: hcl.cost's _OUTPUT_PER_CLASS."""
    table: dict[int, dict[int, float]] = {}
    for c in sorted({r["classes"] for r in rows}):
        for g in sorted({r["group"] for r in rows if r["classes"] == c}):
            got = [r["output"] / c for r in rows if r["classes"] == c and r["group"] == g]
            table.setdefault(c, {})[g] = round(float(np.mean(got)), 1)
    return table


def calibrate_output(jobs: int, timeout: float, seeds: int, rows_file: Path | None = None) -> None:
    """Measure the output logic (popcounts + argmax) in place over OUTPUT_CLASSES x OUTPUT_GROUPS (or read an
    earlier run's rows), print hcl.cost's _OUTPUT_PER_CLASS and write every design beside the model in use now and
    the one in use when it was synthesized (results/output_logic.md)."""
    def one(job):
        classes, group, seed = job
        case = output_case(classes, group, seed)
        net = case.network()
        folder = WORK / "calibrate-output" / slug(case.name)
        emit.emit(net, folder, registers="none", vectors=False)
        r = synth.synth(folder, "xilinx", timeout=timeout)
        layer = cost.network_cost(net)[0]
        return {"classes": classes, "group": group, "seed": seed, "yosys": r["luts"], "layer": layer,
                "output": r["luts"] - layer, "model": cost.estimate(net)["luts_output"]}

    if rows_file is None:
        todo = [(c, g, s) for g in OUTPUT_GROUPS for c in OUTPUT_CLASSES for s in range(seeds)]
        with ThreadPoolExecutor(jobs) as ex:
            rows = list(ex.map(one, todo))
        rows_file = WORK / "calibrate-output" / "rows.json"
        atomic_write_text(rows_file, json.dumps(rows))
    else:
        rows = json.loads(rows_file.read_text())
    seeds = len({r["seed"] for r in rows})
    table = per_class_table(rows)
    print("# paste into hcl/cost.py:")
    print("_OUTPUT_PER_CLASS =", repr(table))

    def error(model: int, real: int) -> str:
        return f"{100 * (model - real) / real:+.0f} %" if real > 0 else "-"

    lines = ["# The output logic in place: popcounts + argmax, hcl.cost vs Yosys", "",
             f"    python benchmarks/bench_synth.py --calibrate-output --seeds {seeds} --jobs 2", "",
             "One random LUT6 layer of C x g LUTs (C classes, groups of g) on 60 one-comparator-bit inputs "
             "(`--threshold-bits 1`: 0 encoder LUTs), emitted combinational by `hcl emit-vhdl` and synthesized by "
             f"`hcl synth --target xilinx` (Yosys synth_xilinx -family xcup); {seeds} random layer(s) per (C, g). "
             "Output logic = Yosys LUTs less the layer's LUTs (hcl.cost.network_cost). 'per class' is the mean "
             "over the seeds divided by C: hcl.cost's _OUTPUT_PER_CLASS. 'model' is hcl.cost's luts_output now, "
             "'model then' the one in use when the designs were synthesized.", "",
             "| C | g | seed | Yosys LUTs | layer | output logic (Yosys) | per class (mean of seeds) | model | "
             "model error | model then | error then |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["classes"], r["group"], r["seed"])):
        now = cost.estimate(output_case(r["classes"], r["group"], r["seed"]).network())["luts_output"]
        lines.append(f"| {r['classes']} | {r['group']} | {r['seed']} | {r['yosys']} | {r['layer']} | {r['output']} | "
                     f"{table[r['classes']][r['group']]} | {now} | {error(now, r['output'])} | {r['model']} | "
                     f"{error(r['model'], r['output'])} |")
    atomic_write_text(OUTPUT_RESULT, "\n".join(lines) + "\n")
    print(f"wrote {OUTPUT_RESULT} from {rows_file}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1, help="designs synthesized at once (each tool is one process)")
    ap.add_argument("--network", action="append", default=[], help="also an existing network JSON (e.g. evolved)")
    ap.add_argument("--registers", default="none", help="registers for --network designs")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--calibrate", action="store_true", help="re-measure the popcount levels of hcl/cost.py")
    ap.add_argument("--calibrate-output", action="store_true",
                    help="re-measure the output logic (popcounts + argmax) in place and fit hcl/cost.py's terms")
    ap.add_argument("--seeds", type=int, default=3, help="random layers per size (--calibrate, --calibrate-output)")
    ap.add_argument("--rows", type=Path, help="--calibrate-output: rewrite the table from an earlier run's rows.json")
    ap.add_argument("--out", type=Path, default=RESULT)
    args = ap.parse_args(argv)
    if args.calibrate:
        calibrate_levels(args.jobs, args.timeout, args.seeds)
        return
    if args.calibrate_output:
        calibrate_output(args.jobs, args.timeout, args.seeds, args.rows)
        return
    todo = [(c.name, c.network(), c.registers, c.ice40) for c in CASES]
    for path in args.network:
        net = Network.load(path)
        todo.append((f"{Path(path).parent.name}/{Path(path).stem} ({net.task}, evolved)", net, args.registers,
                     net.k <= 4))
    with ThreadPoolExecutor(args.jobs) as ex:
        rows = list(ex.map(lambda t: run_case(*t, timeout=args.timeout), todo))
    command = "python benchmarks/bench_synth.py" + "".join(f" --network {p}" for p in args.network)
    if args.registers != "none":
        command += f" --registers {args.registers}"
    atomic_write_text(args.out, markdown(rows, command))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
