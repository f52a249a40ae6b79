"""Run-directory plots (matplotlib, Agg backend): convergence over generations and the Pareto front."""

from __future__ import annotations

import io
from pathlib import Path

from hcl.files import atomic_write_bytes


def _figure():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())


def convergence(log: list[dict], path: Path, title: str) -> None:
    plt = _figure()
    gens = [r["generation"] for r in log]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(gens, [r["best_train_accuracy"] for r in log], label="best train accuracy", color="tab:blue")
    ax.plot(gens, [r["best_val_accuracy"] for r in log], label="its validation accuracy", color="tab:green")
    ax.set_xlabel("generation")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    twin = ax.twinx()
    twin.plot(gens, [r["best_luts"] for r in log], label="its LUTs", color="tab:red", linestyle="--")
    twin.plot(gens, [r["min_luts"] for r in log], label="fewest LUTs in population", color="tab:orange",
              linestyle=":")
    twin.set_ylabel("LUTs (hcl.cost estimate)")
    lines = ax.get_lines() + twin.get_lines()
    ax.legend(lines, [l.get_label() for l in lines], loc="lower right", fontsize=8)
    ax.set_title(title)
    _save(fig, path)
    plt.close(fig)


def pareto(points: list[tuple[int, float]], front: list[tuple[int, float]], path: Path, title: str) -> None:
    """`points`: (LUTs, validation accuracy) of the final population; `front`: the non-dominated ones."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter([p[0] for p in points], [p[1] for p in points], s=14, color="0.6", label="final population")
    f = sorted(front)
    ax.step([p[0] for p in f], [p[1] for p in f], where="post", color="tab:blue")
    ax.scatter([p[0] for p in f], [p[1] for p in f], s=30, color="tab:blue", label="validation front (all generations)",
               zorder=3)
    ax.set_xlabel("LUTs (encoder + network + output, hcl.cost estimate)")
    ax.set_ylabel("validation accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    _save(fig, path)
    plt.close(fig)
