"""The comparison's two figures: quality vs hardware cost, and example predictions. PNGs written atomically."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from hcl.files import atomic_write_bytes

MARKERS = {"fp32": "o", "ptq": "s", "qat": "^", "lut": "*"}


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def _figure(*args, **kwargs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt.subplots(*args, **kwargs)


def _color(i: int):
    """Eleven or more models: tab20, so that no two share a colour (tab10 repeats after ten)."""
    import matplotlib
    return matplotlib.colormaps["tab20"](i % 20)


def cost_plot(rows: list[dict], path: Path, title: str) -> None:
    """Dice (top) and pixel accuracy (bottom) against weight memory (every model) and against LUTs (the models
    that have a LUT figure; see the table for how each was obtained)."""
    fig, axes = _figure(2, 2, figsize=(12, 8), sharey="row")
    panels = [("weight_memory_bits", "weight / truth-table memory [bits]"), ("luts", "LUT6 (estimated, see table)")]
    metrics = [("dice", "Dice [%]"), ("pixel_accuracy", "pixel accuracy [%]")]
    for row, (metric, ylabel) in enumerate(metrics):
        for col, (key, xlabel) in enumerate(panels):
            ax = axes[row, col]
            for i, r in enumerate(rows):
                x = r.get(key)
                if not x:  # None (no such figure for this model) or 0
                    continue
                m = MARKERS.get(r["kind"], "o")
                ax.scatter([x], [100 * r[metric]], marker=m, s=120 if m == "*" else 45, color=_color(i),
                           label=r["model"], zorder=3)
            ax.set_xscale("log")
            ax.margins(x=0.08, y=0.08)
            ax.grid(True, which="both", alpha=0.3)
            if row == 1:
                ax.set_xlabel(xlabel)
            if col == 0:
                ax.set_ylabel(ylabel)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 0.78, 1))
    _save(fig, path)


def examples_plot(images: np.ndarray, masks: np.ndarray, predictions: dict[str, np.ndarray], path: Path,
                  title: str) -> None:
    """Example inputs, their ground truth and every model's prediction."""
    import textwrap

    n = images.shape[0]
    names = list(predictions)
    if images.ndim == 3:  # 2-D images: one row per example; input, truth, then one column per model
        cols = 2 + len(names)
        fig, axes = _figure(n, cols, figsize=(1.45 * cols, 1.55 * n + 0.9), squeeze=False)
        for j in range(n):
            axes[j, 0].imshow(images[j], cmap="gray", interpolation="nearest")
            axes[j, 1].imshow(masks[j], cmap="magma", vmin=0, vmax=1, interpolation="nearest")
            for i, name in enumerate(names):
                axes[j, 2 + i].imshow(predictions[name][j], cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        for ax in axes.ravel():
            ax.set_xticks([]), ax.set_yticks([])
        for i, label in enumerate(["input", "truth"] + names):
            axes[0, i].set_title(textwrap.fill(label, 14), fontsize=7)
    else:  # 1-D signals: the trace, with truth and predictions as marker rows under it
        fig, axes = _figure(n, 1, figsize=(12, 2.2 * n + 0.5), squeeze=False)
        for j in range(n):
            ax = axes[j, 0]
            x = images[j]
            ax.plot(x, color="0.3", lw=0.8)
            lo, hi = float(x.min()), float(x.max())
            step = (hi - lo) * 0.08 + 1e-9
            for i, (label, m) in enumerate([("truth", masks[j])] + [(k, predictions[k][j]) for k in names]):
                y = lo - step * (i + 1)
                where = np.flatnonzero(m)
                ax.scatter(where, np.full(len(where), y), s=4, marker="|", color=_color(i), label=label if j == 0
                           else None)
            ax.set_xlim(0, len(x))
            ax.set_yticks([])
        axes[0, 0].legend(loc="upper right", fontsize=7, ncol=4, markerscale=3)
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)
