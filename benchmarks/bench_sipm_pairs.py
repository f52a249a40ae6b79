"""Would sample-pair comparators (``x[j] - x[i] >= T``) reach the sipm target (>= 0.950 at <= 200 LUTs)?

    .venv/bin/python benchmarks/bench_sipm_pairs.py [--seeds 3] [--time-limit 60] [--out benchmarks/results/sipm_pairs.md]

A comparator on one sample sees a level, not an edge: pile-up is a second rising edge, whose height above the first
pulse's tail varies with the baseline, the first pulse's height and its decay. The question has two halves, measured
separately, because hcl's encoder has no pair comparator (this script is what decided whether to build one):

1. Accuracy. hcl.LUTClassifier (--max-luts 200, the same time limit and seed each) on three inputs of the same
   windows: the raw 12-bit samples (hcl's sipm task), the differences x[i+1] - x[i] and x[i+2] - x[i] (full
   precision), and x[i+2] - x[i] of the samples' top 8 bits. The differences are computed here, in numpy, so their
   hardware is NOT in the LUT count; validation rows pick the network, test rows are reported. The script counts
   the distinct pairs the selected network reads: each needs its own subtractor.
2. Hardware. One pair comparator, `top W bits of a - top W bits of b >= T`, synthesized by Yosys `synth_xilinx
   -family xcup` (the tool and family hcl.cost is calibrated on): LUTs per pair for W = 12, 8, 6.

The product of the two (pairs read x LUTs per pair) is the subtractors' cost the networks of part 1 leave out.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hcl  # noqa: E402
from hcl.encode import Encoder  # noqa: E402
from hcl.tasks import load_task  # noqa: E402

MAX_LUTS = 200


def pair_features(X: np.ndarray, kind: str) -> np.ndarray:
    """The inputs of `kind` for windows X [n, window]: the raw samples, or one column per sample difference."""
    X = X.astype(np.int64)
    n = X.shape[1]
    if kind == "raw":
        return X
    if kind == "d1+d2":
        pairs = [(i, i + 1) for i in range(n - 1)] + [(i, i + 2) for i in range(n - 2)]
        return np.stack([X[:, j] - X[:, i] for i, j in pairs], axis=1)
    if kind == "d2 of top 8 bits":
        q = X >> 4
        return q[:, 2:] - q[:, :-2]
    raise ValueError(kind)


KINDS = ("raw", "d1+d2", "d2 of top 8 bits")


def fit_one(kind: str, seed: int, time_limit: float) -> dict:
    ds = load_task("sipm", seed=seed)
    Xtr, Xv, Xte = (pair_features(a, kind) for a in (ds.X_train, ds.X_val, ds.X_test))
    # The estimator types each column's word on the training rows; a difference outside that range in validation
    # or test rows would be refused, so they are clipped to it (what a saturating subtractor of that width gives).
    lo, hi = Xtr.min(axis=0), Xtr.max(axis=0)
    Xv, Xte = np.clip(Xv, lo, hi), np.clip(Xte, lo, hi)
    t0, c0 = time.monotonic(), time.process_time()
    clf = hcl.LUTClassifier(max_luts=MAX_LUTS, time_limit=time_limit, random_state=seed)
    clf.fit(Xtr, ds.y_train, eval_set=(Xv, ds.y_val))
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    net = clf.network_
    encoder = Encoder.from_dict(net.encoder)
    read = sorted({int(f) for f in encoder.features[net.live_inputs()]})
    return {"kind": kind, "seed": seed, "val": clf.score(Xv, ds.y_val), "test": clf.score(Xte, ds.y_test),
            "luts": clf.cost_["luts"], "encoder": clf.cost_["luts_encoder"], "pairs": len(read),
            "wall": wall, "cpu": cpu}


VERILOG = """module pair(input [11:0] a, input [11:0] b, output y);
  wire signed [{w}:0] d = $signed({{1'b0, a[11:{lo}]}}) - $signed({{1'b0, b[11:{lo}]}});
  assign y = d >= {t};
endmodule
"""


def pair_comparator_luts(width: int, threshold: int = 3) -> int | None:
    """Yosys synth_xilinx LUTs of one comparator `top width bits of a - those of b >= threshold` (None: no yosys)."""
    yosys = shutil.which("yosys")
    if yosys is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "pair.v"
        src.write_text(VERILOG.format(w=width, lo=12 - width, t=threshold))
        subprocess.run([yosys, "-q", "-p", f"read_verilog {src}; synth_xilinx -family xcup -top pair; tee -o "
                        f"{tmp}/stat.txt stat"], capture_output=True, text=True, check=True)
        stat = (Path(tmp) / "stat.txt").read_text()
    return sum(int(n) for n in re.findall(r"^\s+LUT\d\s+(\d+)\s*$", stat, flags=re.M))


def report(rows: list[dict], cost: dict, seeds: int, time_limit: float) -> str:
    """The markdown table of the runs `rows` and the pair comparators' `cost` ({width: LUTs})."""
    lines = ["# sipm: would sample-pair comparators reach >= 0.950 at <= 200 LUTs?", "",
             f"`python benchmarks/bench_sipm_pairs.py --seeds {seeds} --time-limit {time_limit:g}`", "",
             "hcl.LUTClassifier, `max_luts=200`, the time limit and seed per run; the sipm task's windows (seed = the "
             "task's seed too), validation selects, test reported. LUTs: hcl.cost estimate; for the difference "
             "inputs it counts the comparators on each difference but **not the subtractors** that make them.", "",
             "| input | seed | val | test | LUTs est. (encoder) | inputs read | wall s | CPU s |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['kind']} | {r['seed']} | {r['val']:.4f} | {r['test']:.4f} | {r['luts']} ({r['encoder']}) | "
                     f"{r['pairs']} | {r['wall']:.0f} | {r['cpu']:.0f} |")
    lines += ["", "| input | median test | median inputs read |", "|---|---|---|"]
    for kind in KINDS:
        mine = [r for r in rows if r["kind"] == kind]
        lines.append(f"| {kind} | {np.median([r['test'] for r in mine]):.4f} | "
                     f"{np.median([r['pairs'] for r in mine]):g} |")
    lines += ["", "One pair comparator (`top W bits of a - top W bits of b >= 3`, a and b 12-bit), Yosys 0.23 "
              "`synth_xilinx -family xcup`, LUTs (CARRY4 not counted):", "",
              "| W | LUTs per pair |", "|---|---|"]
    lines += [f"| {w} | {c if c is not None else 'no yosys'} |" for w, c in cost.items()]
    width = {"d1+d2": 12, "d2 of top 8 bits": 8}
    lines += ["", "What the subtractors would add (median inputs read x LUTs of one pair comparator at the inputs' "
              "width; each read difference needs its own subtractor, thresholds on one difference share it; the estimate's own "
              "comparators on the differences are counted again inside each pair's LUTs, so the total is a slight "
              "over-estimate):", "",
              "| input | median LUTs est. without subtractors | pair comparators | total, about |", "|---|---|---|---|"]
    for kind, w in width.items():
        mine = [r for r in rows if r["kind"] == kind]
        if cost.get(w) is None:
            continue
        luts, sub = np.median([r["luts"] for r in mine]), np.median([r["pairs"] for r in mine]) * cost[w]
        lines.append(f"| {kind} | {luts:g} | {sub:g} | {luts + sub:g} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/sipm_pairs.md"))
    args = parser.parse_args(argv)

    rows = []
    for seed in range(args.seeds):
        for kind in KINDS:
            rows.append(fit_one(kind, seed, args.time_limit))
            r = rows[-1]
            print(f"{kind:18s} seed {seed}: val {r['val']:.4f} test {r['test']:.4f} at {r['luts']} LUTs "
                  f"(encoder {r['encoder']}), {r['pairs']} inputs read, {r['wall']:.0f} s wall {r['cpu']:.0f} s CPU",
                  flush=True)
    cost = {w: pair_comparator_luts(w) for w in (12, 8, 6)}
    args.out.write_text(report(rows, cost, args.seeds, args.time_limit))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
