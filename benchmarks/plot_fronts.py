"""Several runs' fronts in one figure: test accuracy of each run's validation-front networks against their LUTs.

    python benchmarks/plot_fronts.py --out benchmarks/results/archsearch_mnist.png RUN_DIR[=LABEL] ...

Each RUN_DIR is an `hcl evolve --out` folder; its pareto/*.json carry the figures (meta: cost, val and test
accuracy). Points are the front a run returns (chosen on validation); the y axis is the test accuracy, reported
only. Optional horizontal lines mark published reference points (--ref LUTS:ACC:LABEL).
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hcl.files import atomic_write_bytes  # noqa: E402


def front(run: Path) -> list[tuple[int, float]]:
    points = []
    for f in sorted((run / "pareto").glob("*.json")):
        meta = json.loads(f.read_text())["meta"]
        points.append((meta["cost"]["luts"], meta["test_accuracy"]))
    return sorted(points)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--ref", action="append", default=[], help="LUTS:ACC:LABEL, e.g. 692:0.971:DWN sm")
    ap.add_argument("--title", default="")
    ap.add_argument("--xlabel", default="LUTs (hcl.cost estimate, encoder included)")
    ap.add_argument("--ymin", type=float, default=None, help="lowest test accuracy shown (zoom on the top)")
    args = ap.parse_args()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for spec in args.runs:
        path, _, label = spec.partition("=")
        pts = front(Path(path))
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", drawstyle="steps-post", label=label or path, ms=4)
    for ref in args.ref:
        luts, acc, label = ref.split(":", 2)
        ax.plot([float(luts)], [float(acc)], "k*", ms=10)
        ax.annotate(label, (float(luts), float(acc)), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.set_xlabel(args.xlabel)
    if args.ymin is not None:
        ax.set_ylim(bottom=args.ymin)
    ax.set_ylabel("test accuracy (front chosen on validation)")
    ax.set_title(args.title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    atomic_write_bytes(args.out, buf.getvalue())


if __name__ == "__main__":
    main()
