"""`hcl compare`: FP32, PTQ and QAT U-Nets beside an evolved LUT network on one segmentation task.

Models (every one trained and evaluated on the task's fixed seeded image splits; metrics on the test split):

* ``unet-small`` FP32, and its PTQ at W8A8 and W4A4 (Brevitas graph quantization, calibration, bias correction);
* ``unet-tiny`` (447 parameters in 2-D) FP32 and its PTQ at W8A8 and W4A4;
* QAT of ``unet-small`` from its FP32 weights: W4A4 and W2A2 with learned (PACT-style) clipping, W2A2 with
  statistics-based clipping (to show what learned clipping buys at 2 bits), and learned bit widths with the
  QuantU-Net loss (BCE + Dice + bit-width penalty);
* the LUT network: ``hcl evolve`` (K=6) on the task's per-pixel form, applied at every pixel of the test images;
  by default the gradient-trained search (``--trainer efd``) under ``--max-luts 250`` for 60 s (Budget.lut_*;
  ``lut_trainer="none"`` is the genetic search alone, as before issue 12). ``run_lut_only`` runs this model alone.

Outputs in ``out`` (each file written atomically): ``compare.md`` (table + how each figure was obtained),
``compare.csv``, ``compare.json`` (rows, per-model details and training logs, config, versions), ``cost.png``
(quality vs memory and vs LUTs), ``examples.png`` (inputs, truth, every model's prediction), ``lut/`` (the evolve
run directory: best.json etc.) and, with ``export``, ONNX QCDQ files and integer weights (hcl.bridge.export).
"""

from __future__ import annotations

import csv
import io
import json
import platform
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from hcl import timing
from hcl.errors import ConfigError
from hcl.files import atomic_write_text


@dataclass(frozen=True)
class Budget:
    """How long each model trains; FULL is the benchmark, QUICK a smoke run of every code path in ~a minute."""
    fp_epochs: int = 40
    tiny_epochs: int = 60
    qat_epochs: int = 15
    learned_epochs: int = 30
    batch_size: int = 8
    lr: float = 3e-3
    tiny_lrs: tuple[float, ...] = (1e-2, 3e-3, 3e-2)   # tried in turn from each initialisation (see _compare)
    restarts: int = 6               # training runs the tiny U-Net may try (see _compare)
    qat_lr: float = 1e-3
    bit_lr: float = 0.05
    bit_penalty: float = 0.25       # QuantU-Net's weight on its bit-width term
    max_batches: int | None = None  # per epoch
    calib_images: int = 64
    lut_generations: int = 150      # the qubit search gains < 0.2 points of val accuracy after 150
    lut_population: int = 24
    lut_trainer: str = "efd"        # efd: gradient-trained tables inside the search (hcl.evolve.lamarck, as
                                    # `hcl evolve --trainer efd`); none: the genetic search alone (before issue 12)
    lut_max_luts: int | None = 250  # hard limit on hcl.cost's total, encoder included (the trained start sizes its
                                    # topology by it); None: no limit (the trainer's start then needs --layers)
    lut_time_limit: float | None = 60.0   # seconds for the LUT search (start included); it also stops after
                                          # lut_generations. Trainer vs genetic search alone at 60 s and equal
                                          # LUT limits: benchmarks/results/compare_lut.md
    lut_run_dir: bool = True        # keep evolve's run directory (log, checkpoint, Pareto front, plots) in out/lut
    images: tuple[int, int, int] | None = None   # keep only the first (train, val, test) images of each split
    image_options: dict = field(default_factory=dict)
    pixel_options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


FULL = Budget()
QUICK = Budget(fp_epochs=2, tiny_epochs=2, qat_epochs=1, learned_epochs=1, max_batches=2, calib_images=8,
               restarts=1, lut_generations=2, lut_population=6, lut_time_limit=None, images=(16, 4, 4),
               lut_run_dir=False,
               image_options={"qubit": {"n_images": 30}, "sipm-seg": {"n_traces": 30}},
               pixel_options={"per_image": 24})


@dataclass(frozen=True)
class ModelSpec:
    key: str           # file-name safe
    label: str         # table label
    kind: str          # fp32 | ptq | qat | lut
    base: str = ""     # U-Net size
    how: str = ""


def model_specs() -> list[ModelSpec]:
    return [
        ModelSpec("unet-small-fp32", "U-Net small FP32", "fp32", "small", "Adam, BCE + Dice"),
        ModelSpec("unet-small-ptq-w8a8", "U-Net small PTQ W8A8", "ptq", "small", "w8a8"),
        ModelSpec("unet-small-ptq-w4a4", "U-Net small PTQ W4A4", "ptq", "small", "w4a4"),
        ModelSpec("unet-tiny-fp32", "U-Net tiny FP32", "fp32", "tiny", "Adam, BCE + Dice"),
        ModelSpec("unet-tiny-ptq-w8a8", "U-Net tiny PTQ W8A8", "ptq", "tiny", "w8a8"),
        ModelSpec("unet-tiny-ptq-w4a4", "U-Net tiny PTQ W4A4", "ptq", "tiny", "w4a4"),
        ModelSpec("unet-small-qat-w4a4", "U-Net small QAT W4A4 (learned clip)", "qat", "small", "w4a4"),
        ModelSpec("unet-small-qat-w2a2-stats", "U-Net small QAT W2A2 (stats clip)", "qat", "small", "w2a2-stats"),
        ModelSpec("unet-small-qat-w2a2", "U-Net small QAT W2A2 (learned clip)", "qat", "small", "w2a2"),
        ModelSpec("unet-small-qat-learned", "U-Net small QAT learned bits (QuantU-Net loss)", "qat", "small",
                  "learned"),
        ModelSpec("lut-k6", "LUT network (hcl evolve, K=6)", "lut"),
    ]


# Below this best validation Dice a trained U-Net counts as collapsed onto "all background".
MIN_VAL_DICE = 0.05

COLUMNS = ["model", "pixel_accuracy", "dice", "iou", "parameters", "avg_weight_bits", "weight_memory_bits", "bops",
           "luts", "latency_ns", "hardware_figures"]


@dataclass
class CompareResult:
    rows: list[dict]
    details: dict
    out: Path
    files: dict


def _recipe(how: str):
    from hcl.bridge.quant import Recipe
    return {"w4a4": Recipe(4, 4), "w2a2": Recipe(2, 2), "w2a2-stats": Recipe(2, 2, learn_clip=False),
            "learned": Recipe(learn_bits=True, init_bits=8)}[how]


def subset(seg, counts: tuple[int, int, int]):
    """The first (train, val, test) images of each split (splits are fixed, so this is a fixed subset)."""
    from hcl.tasks.segmentation import SegSplit
    parts = {}
    for name, n in zip(("train", "val", "test"), counts):
        s = seg.split(name)
        parts[name] = SegSplit(s.images[:n], s.masks[:n], s.labels[:n])
    return replace(seg, **parts)


def _check_task(task: str) -> None:
    from hcl.tasks.segmentation import segmentation_task_names
    if task not in segmentation_task_names():
        raise ConfigError(f"--task {task!r}: compare needs a segmentation task: {', '.join(segmentation_task_names())}")


def _images(task: str, seed: int, data, budget: Budget):
    """The task's seeded image splits, cut to the budget's image counts: what every model of the table sees."""
    from hcl.tasks.segmentation import load_images
    seg = load_images(task, seed=seed, data=data, **budget.image_options.get(task, {}))
    return subset(seg, budget.images) if budget.images is not None else seg


def run_compare(task: str, seed: int = 0, data=None, quick: bool = False, out: str | Path | None = None,
                export: str | Path | None = None, budget: Budget | None = None, threads: int = 1,
                progress: Callable[[str], None] | None = None, lut_trainer: str | None = None) -> CompareResult:
    """Train and evaluate every model of the comparison; write the table, CSV, JSON and figures to `out`.
    `lut_trainer` (efd | none), when given, overrides the budget's."""
    from hcl.bridge import require_torch

    require_torch()
    _check_task(task)
    if threads < 1:
        raise ConfigError(f"--threads: must be at least 1, got {threads}")
    budget = budget or (QUICK if quick else FULL)
    if lut_trainer is not None:
        budget = replace(budget, lut_trainer=lut_trainer)
    out = Path(out) if out is not None else Path(f"runs/compare-{task}-s{seed}{'-quick' if quick else ''}")
    with warnings.catch_warnings():
        # Brevitas and torch.fx deprecation chatter about their own internals: nothing a user can act on.
        warnings.filterwarnings("ignore", module=r"brevitas\..*")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\..*")
        return _compare(task, seed, data, quick, out, export, budget, threads, progress or (lambda msg: None))


def _compare(task, seed, data, quick, out: Path, export, budget: Budget, threads: int, say) -> CompareResult:
    import torch

    from hcl.bridge import metrics, models, quant, train

    torch.set_num_threads(threads)
    t_start = time.monotonic()
    seg = _images(task, seed, data, budget)
    out.mkdir(parents=True, exist_ok=True)
    norm = train.Normalizer.fit(seg)
    x_test, m_test = train.split_tensors(seg.test, norm)
    calib = train.calibration_batches(seg, norm, budget.calib_images, budget.batch_size)
    example = x_test[:1]
    flip = tuple(seg.extra.get("flip_axes", ()))
    unit = "images" if seg.ndim == 2 else "traces"
    say(f"{task}: {len(seg.train)}/{len(seg.val)}/{len(seg.test)} train/val/test {unit}"
        f" of {'x'.join(map(str, seg.shape))}, {100 * seg.train.masks.mean():.1f} % {seg.foreground}")

    rows, details, preds, trained = [], {}, {}, {}

    def record(spec: ModelSpec, model, elapsed: float, log: list | None = None, extra: dict | None = None):
        pred = train.predict(model, x_test)
        q = metrics.segmentation_metrics(pred, m_test)
        w = metrics.weight_stats(model)
        b = metrics.bops(model, example)
        quantized = spec.kind in ("ptq", "qat")
        luts = metrics.unrolled_luts(model, example) if quantized else None
        row = {"model": spec.label, "key": spec.key, "kind": spec.kind, **q, "parameters": w["parameters"],
               "avg_weight_bits": round(w["avg_weight_bits"], 3), "weight_memory_bits": w["weight_memory_bits"],
               "bops": b["bops"], "luts": luts, "latency_ns": None,
               "hardware_figures": ("counted from the model (parameters, bits, memory, BOPs); " +
                                    (f"LUTs {metrics.UNROLLED_MODEL}" if quantized else
                                     "LUTs not estimated (FP32 arithmetic maps to DSPs)") +
                                    "; latency not estimated (a U-Net needs most of the frame first)"),
               "train_s": round(elapsed, 1)}
        rows.append(row)
        details[spec.key] = {"layers": w["layers"], "macs": b["macs"], "macs_per_pixel": b["macs_per_pixel"],
                             "log": log or [], **(extra or {})}
        preds[spec.key] = pred
        say(f"  {spec.label:<48} acc {100 * q['pixel_accuracy']:6.2f} %  Dice {q['dice']:.3f}  "
            f"IoU {q['iou']:.3f}  {w['parameters']} params  {w['avg_weight_bits']:.2f} bits  ({elapsed:.0f} s)")

    specs = model_specs()
    for spec in specs:
        if spec.kind == "lut":
            continue
        t0 = time.monotonic()
        if spec.kind == "fp32":
            tiny = spec.base == "tiny"
            # A few hundred parameters behind ReLUs can settle on "all background"; whether they do depends on the
            # initialisation and the learning rate (BUSI, seed 0: val Dice 0.00 at 1e-2, 0.25 at 3e-3, 0.34 at
            # 3e-2). So a collapsed run is retried at the next rate, then from a new seeded initialisation, at
            # most `restarts` runs in all. The small U-Net never needed one.
            attempts = []
            for attempt in range(budget.restarts if tiny else 1):
                init_seed = seed + 1000 * (attempt // len(budget.tiny_lrs))
                lr = budget.tiny_lrs[attempt % len(budget.tiny_lrs)] if tiny else budget.lr
                torch.manual_seed(init_seed)
                model = models.build_unet(spec.base, seg.ndim)
                cfg = train.TrainConfig(epochs=budget.tiny_epochs if tiny else budget.fp_epochs,
                                        batch_size=budget.batch_size, lr=lr, flip_axes=flip, seed=init_seed,
                                        max_batches=budget.max_batches)
                model = train.train(model, seg, norm, cfg)
                best_val = max((r["val_dice"] for r in cfg.log), default=0.0)
                attempts.append((best_val, attempt, model, cfg.log, init_seed, lr))
                if best_val >= MIN_VAL_DICE:
                    break
            best_val, attempt, model, log, init_seed, lr = max(attempts, key=lambda a: (a[0], -a[1]))
            trained[spec.base] = model
            record(spec, model, time.monotonic() - t0, log, {"spec": model.spec.to_dict(), "runs": len(attempts),
                                                             "run_used": attempt, "init_seed": init_seed, "lr": lr,
                                                             "best_val_dice": best_val,
                                                             "collapsed": best_val < MIN_VAL_DICE})
        elif spec.kind == "ptq":
            bits = {"w8a8": 8, "w4a4": 4}[spec.how]
            model = quant.ptq(trained[spec.base], calib, bits, bits)
            trained[spec.key] = model
            record(spec, model, time.monotonic() - t0, None, {"recipe": {"weight_bits": bits, "act_bits": bits,
                                                                         "bias_correction": True}})
        else:
            recipe = _recipe(spec.how)
            torch.manual_seed(seed)
            model = quant.qat_model(trained[spec.base], calib, recipe)
            learned = recipe.learn_bits
            cfg = train.TrainConfig(epochs=budget.learned_epochs if learned else budget.qat_epochs,
                                    batch_size=budget.batch_size, lr=budget.qat_lr, bit_lr=budget.bit_lr,
                                    bit_penalty=budget.bit_penalty if learned else 0.0, flip_axes=flip, seed=seed,
                                    max_batches=budget.max_batches)
            model = train.train(model, seg, norm, cfg)
            trained[spec.key] = model
            record(spec, model, time.monotonic() - t0, cfg.log, {"recipe": recipe.to_dict()})

    lut_row, lut_pred, lut_detail = _lut_row(task, seg, seed, budget, out / "lut", say)
    rows.append(lut_row)
    preds["lut-k6"] = lut_pred
    details["lut-k6"] = lut_detail

    files = write_outputs(task, seed, quick, budget, seg, rows, details, preds, out, time.monotonic() - t_start)
    if export is not None:
        from hcl.bridge.export import export_models
        files["export"] = export_models({k: v for k, v in trained.items() if k.startswith("unet-")},
                                        {"small": trained["small"], "tiny": trained["tiny"]}, example,
                                        Path(export), lut_dir=out / "lut")
    return CompareResult(rows, details, out, files)


def _lut_row(task, seg, seed, budget: Budget, run_dir: Path, say) -> tuple[dict, np.ndarray, dict]:
    from hcl import cost
    from hcl.bridge import metrics
    from hcl.encode import Encoder
    from hcl.evaluate import predict
    from hcl.evolve import EvolveConfig, evolve
    from hcl.tasks.segmentation import image_windows, pixel_dataset, pixel_defaults

    t0 = time.monotonic()
    pixel = {**pixel_defaults(task), **budget.pixel_options}
    ds = pixel_dataset(seg, seed, **pixel)
    config = EvolveConfig(task=task, k=6, generations=budget.lut_generations, population=budget.lut_population,
                          seed=seed, max_luts=budget.lut_max_luts, trainer=budget.lut_trainer,
                          time_limit=budget.lut_time_limit, out=str(run_dir) if budget.lut_run_dir else None)
    c0 = time.process_time()
    result = evolve(config, dataset=ds, progress=False)
    search_cpu_s = time.process_time() - c0
    net = result.best
    if not budget.lut_run_dir:
        net.save(run_dir / "best.json")
    X = image_windows(seg.test.images, pixel["window"], pixel["dilation"])
    packed = Encoder.from_dict(net.encoder).encode_packed(X)
    pred = predict(net, packed, len(X)).reshape(seg.test.masks.shape).astype(bool)
    q = metrics.segmentation_metrics(pred, seg.test.masks)
    c = cost.estimate(net)
    table_bits = net.n_luts * (1 << net.k)
    elapsed = time.monotonic() - t0
    row = {"model": "LUT network (hcl evolve, K=6)", "key": "lut-k6", "kind": "lut", **q,
           "parameters": table_bits, "avg_weight_bits": 1.0, "weight_memory_bits": table_bits, "bops": None,
           "luts": c["luts"], "latency_ns": timing.latency_ns(c["depth"])["latency_ns"],
           "hardware_figures": (f"LUTs: hcl.cost model estimate, encoder {c['luts_encoder']} + network "
                                f"{c['luts_network']} + output {c['luts_output']}, not synthesized; the "
                                f"{pixel['window']}-tap window's line buffers not counted; parameters and memory: "
                                f"truth-table bits (n_luts x 2^K); latency {metrics.LATENCY_MODEL}, "
                                f"{c['depth']} levels, combinational per pixel"),
           "train_s": round(elapsed, 1)}
    say(f"  {row['model']:<48} acc {100 * q['pixel_accuracy']:6.2f} %  Dice {q['dice']:.3f}  IoU {q['iou']:.3f}  "
        f"{c['luts']} LUTs, depth {c['depth']}  (pixel val acc {result.val_accuracy:.3f}, {elapsed:.0f} s)")
    detail = {"layers": net.layer_sizes, "cost": c, "pixel_dataset": {**pixel, "n_train": int(len(ds.y_train))},
              "pixel_val_accuracy": result.val_accuracy, "pixel_test_accuracy": result.test_accuracy,
              "generations": result.generations_done, "run_dir": str(run_dir), "network": str(run_dir / "best.json"),
              "trainer": config.trainer, "max_luts": config.max_luts, "time_limit": config.time_limit,
              "wall_s": round(elapsed, 1), "search_cpu_s": round(search_cpu_s, 1)}
    return row, pred, detail


def run_lut_only(task: str, seed: int = 0, data=None, quick: bool = False, out: str | Path | None = None,
                 budget: Budget | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Only the LUT network of `hcl compare`: the same image splits, per-pixel sample, search, test pixels and
    metrics as its row in the full comparison, without training a U-Net (and without torch). Returns the row and
    its details, with wall and CPU seconds of the whole call (loading included)."""
    _check_task(task)
    budget = budget or (QUICK if quick else FULL)
    out = Path(out) if out is not None else Path(f"runs/compare-lut-{task}-s{seed}{'-quick' if quick else ''}")
    t0, c0 = time.monotonic(), time.process_time()
    seg = _images(task, seed, data, budget)
    out.mkdir(parents=True, exist_ok=True)
    row, _, detail = _lut_row(task, seg, seed, budget, out / "lut", progress or (lambda msg: None))
    return {"task": task, "seed": seed, "row": row, "detail": detail, "budget": budget.to_dict(),
            "wall_s": round(time.monotonic() - t0, 1), "cpu_s": round(time.process_time() - c0, 1)}


# ---- outputs ------------------------------------------------------------------------------------------------------

def _fmt(key: str, v) -> str:
    if v is None:
        return "n/a"
    if key in ("pixel_accuracy",):
        return f"{100 * v:.2f} %"
    if key in ("dice", "iou"):
        return f"{v:.3f}"
    if key == "avg_weight_bits":
        return f"{v:.2f}"
    if key in ("parameters", "weight_memory_bits", "bops", "luts"):
        return f"{int(v):,}"
    if key == "latency_ns":
        return f"{v:g} ns"
    return str(v)


def _short_source(row: dict) -> str:
    return {"fp32": "counted", "ptq": "counted; LUTs est. [U]", "qat": "counted; LUTs est. [U]",
            "lut": "LUTs est. [C]; latency est. [L]"}[row["kind"]]


def markdown(task: str, rows: list[dict], seg, budget: Budget, quick: bool, seed: int) -> str:
    from hcl.bridge import metrics
    head = ["model", "pixel acc", "Dice", "IoU", "params", "avg w bits", "w memory bits", "BOPs", "LUTs", "latency",
            "hardware figures"]
    lines = [f"# hcl compare: {task} (seed {seed}{', --quick: smoke-test budget, not a result' if quick else ''})",
             "",
             f"Test split: {len(seg.test)} {'images' if seg.ndim == 2 else 'traces'} of "
             f"{'x'.join(map(str, seg.shape))} ({100 * seg.test.masks.mean():.1f} % {seg.foreground}); every "
             "metric pooled over all test pixels.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        # Dice 0 on the whole test split: the model predicts (almost) no foreground, whatever its pixel accuracy.
        name = r["model"] + (" (collapsed: Dice 0)" if r["kind"] != "lut" and r["dice"] == 0 else "")
        cells = [name] + [_fmt(k, r[k]) for k in COLUMNS[1:-1]] + [_short_source(r)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["",
              "How the figures were obtained:",
              "- counted: parameters (weights + biases, batch norm folded), bits per weight averaged over weights, "
              "memory = weights x bits + biases x 32 (int32 biases; quantizer scales not counted), "
              "BOPs = MACs x weight bits x input-activation bits for one image (FP32: 32 x 32), from the model.",
              f"- [U] {metrics.UNROLLED_MODEL}. An order-of-magnitude figure for comparing with the LUT network, "
              "not a synthesis result.",
              "- [C] hcl.cost model of the emitted design (comparator encoder + LUT network + popcount/argmax "
              "output), not synthesized; the window's line buffers are not counted. The LUT network's "
              "'parameters' and 'memory' are its truth-table bits (n_luts x 2^K).",
              f"- [L] {metrics.LATENCY_MODEL}; the LUT network is combinational per pixel. U-Net latency is not "
              "estimated: it needs most of the frame before the first output.",
              f"- LUT network: hcl evolve, K=6, trainer {budget.lut_trainer}, --max-luts {budget.lut_max_luts} "
              f"(hcl.cost, encoder included), at most {budget.lut_generations} generations"
              + (f" or {budget.lut_time_limit:g} s" if budget.lut_time_limit else "")
              + "; the network of the highest validation pixel accuracy on the final front is kept.",
              f"- Training: Adam, BCE + Dice, best validation Dice kept; the tiny U-Net gets up to {budget.restarts} "
              f"runs (learning rates {', '.join(f'{lr:g}' for lr in budget.tiny_lrs)} in turn from one seeded "
              f"initialisation, then a new one; the first whose validation Dice reaches {MIN_VAL_DICE} is kept).",
              "- PTQ: Brevitas graph quantization (BN merged), per-tensor weight scales at the MSE-optimal clip, "
              "activation calibration on training images, bias correction; input and output at 8 bits.",
              "- QAT: from the FP32 weights; learned clip = PACT-style trained activation thresholds initialised "
              "at the MSE-optimal clip; stats clip = running percentile statistics. Learned bits: Brevitas "
              f"BitWidthImplType.PARAMETER (>= 2 bits), loss BCE + Dice + {budget.bit_penalty} x (avg weight "
              "bits + avg act bits) / 16.",
              ""]
    return "\n".join(lines)


def write_outputs(task, seed, quick, budget, seg, rows, details, preds, out: Path, elapsed: float) -> dict:
    from hcl import __version__
    from hcl.bridge import plots

    files = {"markdown": out / "compare.md", "csv": out / "compare.csv", "json": out / "compare.json",
             "cost_png": out / "cost.png", "examples_png": out / "examples.png"}
    atomic_write_text(files["markdown"], markdown(task, rows, seg, budget, quick, seed))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS + ["kind", "train_s"], extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in COLUMNS + ["kind", "train_s"]})
    atomic_write_text(files["csv"], buf.getvalue())
    import brevitas
    import torch
    summary = {"task": task, "seed": seed, "quick": quick, "budget": budget.to_dict(), "rows": rows,
               "details": details, "elapsed_s": round(elapsed, 1),
               "split_sizes": {s: len(seg.split(s)) for s in ("train", "val", "test")},
               "versions": {"hcl": __version__, "python": platform.python_version(), "numpy": np.__version__,
                            "torch": torch.__version__, "brevitas": brevitas.__version__}}
    atomic_write_text(files["json"], json.dumps(summary, indent=1, default=_json_default) + "\n")
    title = f"{task}: test split, seed {seed}{' (quick)' if quick else ''}"
    plots.cost_plot(rows, files["cost_png"], title)
    idx = example_indices(seg.test.masks, 4 if seg.ndim == 2 else 3)
    labels = {r["key"]: r["model"] for r in rows}
    plots.examples_plot(seg.test.images[idx], seg.test.masks[idx], {labels[k]: v[idx] for k, v in preds.items()},
                        files["examples_png"], title)
    return {k: str(v) for k, v in files.items()}


def example_indices(masks: np.ndarray, n: int) -> np.ndarray:
    """Up to n test examples, those with foreground first (spread over the split), in split order."""
    has = np.flatnonzero(masks.reshape(len(masks), -1).any(axis=1))
    pool = has if len(has) >= n else np.arange(len(masks))
    pick = pool[np.linspace(0, len(pool) - 1, min(n, len(pool))).round().astype(int)]
    return np.unique(pick)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.ndarray, tuple)):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")
