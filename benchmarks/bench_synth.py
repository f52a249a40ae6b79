"""Model vs tool: hcl.cost's LUT count and depth beside Yosys synth_xilinx, and nextpnr-ice40 Fmax for K = 4 nets.

    .venv/bin/python benchmarks/bench_synth.py [--jobs 2] [--network runs/demo/best.json ...]
        emits each network (hcl.emit, registers as listed), runs `hcl synth` (hcl.synth.synth) and writes the table
        to benchmarks/results/synth.md. Designs and their synthesis cache live in build/bench_synth/, so a re-run
        only synthesizes what changed.
    .venv/bin/python benchmarks/bench_synth.py --calibrate [--jobs 2] [--seeds 3]
        re-measures the popcount tables of hcl/cost.py (LUTs and levels of the template's popcount fed by a LUT
        layer, K = 4 and 6) and prints them: run it when templates/network.vhd.j2 changes its popcount.

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
from hcl.network import Network, atomic_write_text, random_network  # noqa: E402

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
    text = (ROOT / "templates" / "network.vhd.j2").read_text()
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


def calibrate(jobs: int, timeout: float, seeds: int) -> None:
    """The mean over K = 4 and 6 and `seeds` random layers per n: one random layer swings ABC's count by +-30 %."""
    function = template_popcount()
    ns = list(range(2, 21)) + [24, 28, 32, 40, 48, 64]

    def one(job):
        n, k, seed = job
        folder = WORK / "calibrate" / f"pop-n{n}-k{k}" / f"seed{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "piece.vhd", popcount_piece(n, k, function, seed))
        atomic_write_text(folder / "manifest.json", json.dumps({"top": "piece", "files": ["piece.vhd"]}))
        r = synth.synth(folder, "xilinx", timeout=timeout)
        return r["luts"] - n, r["depth_total"] - 1   # less the driving layer: one LUT each, one level

    todo = [(n, k, s) for n in ns for k in (4, 6) for s in range(seeds)]
    with ThreadPoolExecutor(jobs) as ex:
        got = dict(zip(todo, ex.map(one, todo)))
    luts = {n: int(round(np.mean([v[0] for j, v in got.items() if j[0] == n]))) for n in ns}
    levels = {n: int(round(np.mean([v[1] for j, v in got.items() if j[0] == n]))) for n in ns}
    print("# paste into hcl/cost.py (_POPCOUNT_POINTS / _POPCOUNT_LEVEL_POINTS) for the template's popcount:")
    print("LUTs:", json.dumps({1: 0, **luts}))
    print("levels:", json.dumps({1: 0, **levels}))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1, help="designs synthesized at once (each tool is one process)")
    ap.add_argument("--network", action="append", default=[], help="also an existing network JSON (e.g. evolved)")
    ap.add_argument("--registers", default="none", help="registers for --network designs")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--calibrate", action="store_true", help="re-measure the popcount tables of hcl/cost.py")
    ap.add_argument("--seeds", type=int, default=3, help="random layers per popcount size (--calibrate)")
    ap.add_argument("--out", type=Path, default=RESULT)
    args = ap.parse_args(argv)
    if args.calibrate:
        calibrate(args.jobs, args.timeout, args.seeds)
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
