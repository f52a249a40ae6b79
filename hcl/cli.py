"""The `hcl` command line: thin click commands over the modules; no logic of its own.

Every HclError becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import errno
import json
import sys
from pathlib import Path

import click

from hcl import __version__
from hcl import timing
from hcl.augment import AUGMENTS
from hcl.errors import HclError
from hcl.evolve.config import MAX_SEED

# A seed seeds numpy's generators, which take non-negative integers (a run, a task split, the test vectors).
SEED = click.IntRange(0, MAX_SEED)


class PositiveTime(click.ParamType):
    """A time in ns: finite and > 0 (a NaN or a negative budget would let every check pass or none)."""
    name = "NS"

    def convert(self, value, param, ctx):
        try:
            ns = float(value)
        except (TypeError, ValueError):
            ns = float("nan")
        if not (0 < ns < float("inf")):
            self.fail(f"{value!r} is not a positive, finite number of nanoseconds", param, ctx)
        return ns


class PositiveSeconds(click.ParamType):
    """A time limit in seconds: finite and at least 1 (NaN would compare false with every deadline)."""
    name = "SECONDS"

    def convert(self, value, param, ctx):
        try:
            s = float(value)
        except (TypeError, ValueError):
            s = float("nan")
        if not (1 <= s < float("inf")):
            self.fail(f"{value!r} is not a finite number of seconds >= 1", param, ctx)
        return s


class HclGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except HclError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)
        except OSError as e:
            full = e.errno in (errno.ENOSPC, errno.EDQUOT)
            if e.filename is None and not full:       # not about a path the user gave: a bug to see whole
                raise
            # A folder that is read-only, a regular file, under /proc, a full disk: atomic writes left what
            # was there untouched; say which path and why.
            where = f"{e.filename}: " if e.filename is not None else ""
            fix = "free space on that disk or give another folder" if full else "give a writable folder"
            click.echo(f"error: {where}{e.strerror or e}; {fix}", err=True)
            sys.exit(2)


@click.group(cls=HclGroup)
@click.version_option(__version__, prog_name="hcl")
def main():
    """hcl: evolve LUT networks under a hardware budget, emit VHDL, prove it bit-exact, synthesize it."""


@main.command()
@click.argument("network", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--task", default=None, help="Evaluate accuracy on this task (default: none).")
@click.option("--split", type=click.Choice(["train", "val", "test"]), default="test", show_default=True)
@click.option("--data", type=click.Path(path_type=Path), default=None, help="Data file or folder for the task.")
@click.option("--seed", type=SEED, default=None, help="Task seed (default: the one saved in the network).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(network, task, split, data, seed, as_json):
    """Show a network's layers, LUT count, depth and, with --task, its accuracy."""
    from hcl.report import network_info
    result = network_info(network, task=task, split=split, data=data, seed=seed)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            if key == "inputs":          # one line per input word
                value = ("\n" + " " * 18).join(value)
            click.echo(f"{key:>16}: {value}")


@main.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="TOML file with any of these options ([evolve] table); flags given here override it.")
@click.option("--task", default=None, help="Task name (sipm, digits, mnist, file, ...). Default: sipm.")
@click.option("--data", default=None, help="Data file or folder (or set HCL_DATA).")
@click.option("--label", default=None, help="Label column, for --task file with a CSV/NPZ.")
@click.option("--features", default=None, help="--task file: the feature columns, comma-separated names or 0-based "
              "indices. Default: every column but the label (and the split column).")
@click.option("--drop", default=None, help="--task file: columns to leave out (an id, a second label), comma-separated.")
@click.option("--categorical", default=None, help="--task file: columns to treat as categories even if numeric.")
@click.option("--numeric", default=None, help="--task file: columns that must be numbers (an error names any text cell).")
@click.option("--max-categories", type=int, default=None,
              help="--task file: most distinct values a categorical column may have (default 32).")
@click.option("--top-categories", type=int, default=None,
              help="--task file: keep the N most frequent values of each categorical column; the rest become 'other'.")
@click.option("--input-bits", type=int, default=None,
              help="--task file: bits of the fixed-point code of each float column (default 12); with it, integer "
                   "columns are coded the same way instead of as raw words.")
@click.option("--fixed", default=None, help="--task file: fixed-point formats your hardware delivers, "
              "NAME=BITS:FRAC[:OFFSET],... (code = clip(floor(x * 2**FRAC) - OFFSET, 0, 2**BITS - 1)).")
@click.option("--test-data", default=None, help="--task file: a file of test rows with the same columns (an "
              "official test split); the data file then gives train and validation rows.")
@click.option("--val-data", default=None, help="--task file: a file of validation rows (with --test-data).")
@click.option("--split-column", default=None,
              help="--task file: a column saying train, val or test for every row (never a feature).")
@click.option("--val-fraction", type=float, default=None, help="--task file: share of validation rows (default 0.15).")
@click.option("--test-fraction", type=float, default=None, help="--task file: share of test rows (default 0.15).")
@click.option("--luts", "k", type=int, default=None, help="LUT inputs K (2..6; 6 = one FPGA LUT6). Default 6.")
@click.option("--generations", type=int, default=None, help="Generations to run. Default 40, or as many as --time-limit allows when it is given.")
@click.option("--population", type=int, default=None, help="Population size. Default 24.")
@click.option("--seed", type=SEED, default=None, help="Seed of every random choice. Default 0.")
@click.option("--layers", default=None, help="Hidden LUT layer sizes, comma-separated, e.g. 64,32; 0 = none "
              "(the output LUTs read the comparators directly).")
@click.option("--group-size", type=int, default=None, help="Output LUTs per class.")
@click.option("--bits", type=int, default=None, help="Thermometer levels per input feature. Default: the task's "
              "(digits 2, mnist 1), else 4.")
@click.option("--encoder", type=click.Choice(["quantile", "uniform"]), default=None, help="Threshold placement.")
@click.option("--threshold-bits", type=int, default=None,
              help="Round comparator thresholds to the top N bits of the input word (default 6: one LUT6 each; "
                   "0 = exact thresholds).")
@click.option("--start", type=click.Choice(["grow", "random"]), default=None,
              help="Initial population: grow (default: each LUT's inputs chosen greedily from the data) or random "
                   "wiring.")
@click.option("--refit", type=click.Choice(["vote", "output-exact", "exact", "both", "none"]), default=None,
              help="How truth tables are refitted from data after a change (none: random tables, mutation only). "
                   "Default output-exact.")
@click.option("--select-on", type=click.Choice(["train", "val"]), default=None,
              help="Accuracy objective of the selection: train (default) or val (less overfitting).")
@click.option("--max-luts", type=int, default=None, help="Hard limit on total LUTs (encoder + network + output).")
@click.option("--max-depth", type=int, default=None, help="Hard limit on LUT levels from input to class.")
@click.option("--time-limit", type=float, default=None, help="Stop after this many seconds (at a generation end).")
@click.option("--checkpoint-every", type=int, default=None, help="Checkpoint every N generations. Default 5.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run directory. Default runs/<task>-k<K>-s<seed>.")
@click.option("--resume", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Continue the run in this directory from its checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace the run an --out folder holds (refused without it).")
@click.option("--executor", default=None,
              help="Where children are evaluated: local (default), dask-local:N, or dask://HOST:PORT; add "
                   "/samples to a Dask one to split the training data by sample shards instead.")
@click.option("--trainer", type=click.Choice(["none", "efd"]), default=None,
              help="efd: train the tables by gradients (DWN's extended finite differences) and let the search "
                   "shape the topology; none: genetic search of the tables too. Default: the task's suggestion.")
@click.option("--augment", type=click.Choice(AUGMENTS), default=None,
              help="efd: train on extra copies of the training images, each moved one pixel (shift: 5x the "
                   "samples; image tasks only). Default: the task's suggestion (mnist shift, else none).")
@click.option("--train-epochs", type=float, default=None,
              help="efd: epochs of the start network's training. Default 3 (at least 4,000 steps).")
@click.option("--tune-steps", type=int, default=None, help="efd: training steps of each child. Default 100.")
@click.option("--arch-search/--no-arch-search", default=None,
              help="efd: search the architecture (hidden layers, LUTs per class) by NSGA-II over trained members "
                   "with successive halving before the genetic loop, instead of one start from the fixed rule.")
@click.option("--quiet", is_flag=True, help="No progress display.")
def evolve(config_file, task, data, label, features, drop, categorical, numeric, max_categories, top_categories,
           input_bits, fixed, test_data, val_data, split_column, val_fraction, test_fraction, k, generations, population,
           seed, layers, group_size, bits, encoder, threshold_bits, start, refit, select_on, max_luts, max_depth,
           time_limit, checkpoint_every, out, resume, overwrite, executor, trainer, augment, train_epochs, tune_steps, arch_search,
           quiet):
    """Evolve a LUT network for a task under a hardware budget; write a run directory."""
    from hcl.errors import ConfigError
    from hcl.evolve import EvolveConfig, evolve as run_evolve, resume as run_resume
    from hcl.evolve.config import UNTIL_TIME_LIMIT, load_toml

    table_options = {"label": label, "features": features, "drop": drop, "categorical": categorical,
                     "numeric": numeric, "max_categories": max_categories, "top_categories": top_categories,
                     "input_bits": input_bits, "fixed": fixed, "test_data": test_data, "val_data": val_data,
                     "split_column": split_column, "val_fraction": val_fraction, "test_fraction": test_fraction}
    if resume is not None:
        fixed = {"--config": config_file, "--task": task, "--data": data, "--luts": k,
                 **{"--" + key.replace("_", "-"): value for key, value in table_options.items()},
                 "--population": population, "--seed": seed, "--layers": layers, "--group-size": group_size,
                 "--bits": bits, "--encoder": encoder, "--threshold-bits": threshold_bits, "--start": start,
                 "--refit": refit, "--select-on": select_on, "--max-luts": max_luts, "--max-depth": max_depth,
                 "--checkpoint-every": checkpoint_every, "--out": out, "--trainer": trainer, "--augment": augment,
                 "--train-epochs": train_epochs, "--tune-steps": tune_steps, "--overwrite": overwrite or None,
                 "--arch-search": arch_search}
        given = [flag for flag, value in fixed.items() if value is not None]
        if given:
            raise ConfigError(f"--resume continues a run with the options in {resume}/config.toml; {given[0]} "
                              "cannot change (only --generations, --time-limit and --executor may): drop it, or "
                              "start a new run with another --out")
        result = run_resume(resume, generations=generations, time_limit=time_limit, progress=not quiet,
                            executor=executor)
    else:
        options = load_toml(config_file) if config_file else {}
        flags = {"task": task, "data": data, "k": k, "generations": generations, "population": population,
                 "seed": seed, "group_size": group_size, "bits": bits, "encoder": encoder,
                 "threshold_bits": threshold_bits, "start": start, "refit": refit, "select_on": select_on,
                 "max_luts": max_luts, "max_depth": max_depth, "time_limit": time_limit,
                 "checkpoint_every": checkpoint_every, "out": str(out) if out else None, "executor": executor,
                 "trainer": trainer, "augment": augment, "train_epochs": train_epochs, "tune_steps": tune_steps,
                 "arch_search": arch_search}
        if layers is not None:
            try:
                flags["layers"] = [int(x) for x in layers.split(",") if x.strip() and int(x) != 0]
            except ValueError:
                raise ConfigError(f"--layers: expected comma-separated integers, got {layers!r}") from None
        options.update({key: value for key, value in flags.items() if value is not None})
        if options.get("time_limit") is not None and "generations" not in options:
            options["generations"] = UNTIL_TIME_LIMIT
        for key, value in table_options.items():
            if value is not None:
                options.setdefault("task_options", {})[key] = value
        config = EvolveConfig.from_dict(options, where=str(config_file) if config_file else "options")
        if config.out is None:
            config.out = f"runs/{config.task}-k{config.k}-s{config.seed}"
        result = run_evolve(config, progress=not quiet, overwrite=overwrite)
    c = result.cost
    click.echo(f"{result.stopped} after {result.generations_done} generations: "
               f"test accuracy {result.test_accuracy:.4f} (val {result.val_accuracy:.4f}, "
               f"train {result.train_accuracy:.4f})")
    click.echo(f"LUTs {c['luts']} (encoder {c['luts_encoder']} + network {c['luts_network']} + output "
               f"{c['luts_output']}, hcl.cost estimate), depth {c['depth']} LUT levels, "
               f"Pareto front {len(result.pareto)} networks")
    click.echo(f"results: {result.out}/best.json (log.csv, pareto/, run.json, convergence.png, pareto.png)")
    if result.stopped == "interrupted":
        click.echo(f"interrupted: continue with  hcl evolve --resume {result.out}", err=True)
        sys.exit(130)


@main.command("emit-vhdl")
@click.argument("network", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Design directory: <entity>.vhd, vectors.txt, manifest.json (written last).")
@click.option("--entity", default=None, help="VHDL entity name. Default hcl_<task>_k<K>.")
@click.option("--registers", default="none", show_default=True,
              help="none (combinational), layer (after the encoder, each LUT layer and the output) or every=N "
                   "(after every N LUT layers and the output).")
@click.option("--family", type=click.Choice(list(timing.SIM_FAMILIES)), default=timing.DEFAULT_FAMILY, show_default=True,
              help="Default delays of the simulation delay model (generics G_LUT_PS, G_NET_PS), from hcl.timing.")
@click.option("--task", default=None, help="Task for the test vectors. Default: the network's own.")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="Data file or folder for the task.")
@click.option("--seed", type=SEED, default=None, help="Task seed. Default: the one saved in the network.")
@click.option("--split", type=click.Choice(["train", "val", "test"]), default="test", show_default=True)
@click.option("--max-vectors", type=int, default=None, help="Keep only the first N vectors (quick simulations).")
@click.option("--no-vectors", is_flag=True, help="Write no test vectors (for synthesis only; hcl sim refuses it).")
@click.option("--vectors", "vectors_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Golden vectors for the rows of this CSV/NPZ file (your own rows, coded by the network's input "
                   "map) instead of the task's split.")
@click.option("--vectors-extra", type=click.IntRange(0, 100_000), default=0, show_default=True,
              help="Append up to N vectors chosen to exercise truth-table addresses the others miss (from the "
                   "task's training rows and random inputs); hcl sim reports the coverage.")
def emit_vhdl(network, out, entity, registers, family, task, data, seed, split, max_vectors, no_vectors,
              vectors_file, vectors_extra):
    """Write a network as VHDL-2008 with its manifest and golden test vectors."""
    from hcl.emit import emit
    from hcl.errors import ConfigError
    if vectors_file is not None and (no_vectors or task or data):
        raise ConfigError("--vectors FILE gives the vectors: drop --no-vectors, --task and --data")
    m = emit(network, out, entity=entity, registers=registers, family=family, task=task, data=data, seed=seed,
             split=split, max_vectors=max_vectors, vectors=not no_vectors, vectors_extra=vectors_extra,
             vectors_file=vectors_file)
    latency = "combinational" if m["latency_cycles"] == 0 else f"latency {m['latency_cycles']} cycles"
    click.echo(f"{out}/{m['files'][0]}: entity {m['top']}, registers {m['registers']} ({latency}), "
               f"{m['luts']} LUTs estimated ({m['luts_encoder']} encoder + {m['luts_network']} network + "
               f"{m['luts_output']} output), depth {m['depth']}")
    if m["vectors"]:
        src = m["vector_source"]
        extra = f" + {src['extra']} chosen for table coverage" if src.get("extra") else ""
        origin = f"{src['task']} {src['split']}, seed {src['seed']}" if src["task"] else f"rows of {src['data']}"
        click.echo(f"{out}/{m['vectors']}: {m['n_vectors']} vectors ({origin}{extra}, golden outputs from "
                   "hcl.reference)")


@main.command()
@click.argument("network", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data", required=True, type=click.Path(path_type=Path),
              help="CSV or NPZ file of rows (the columns the network was trained on; the label column optional).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write row, class, class_name, score_<class>... (and label, correct) as CSV here.")
@click.option("--label", default=None, help="Label column, when it is not the one the network was trained with.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (rows, accuracy, out).")
def predict(network, data, out, label, as_json):
    """Class and scores of a network for every row of a file (the golden model the RTL equals)."""
    from hcl.files import refuse_overwriting_inputs
    from hcl.predict import predict as run_predict, write
    if out is not None:
        refuse_overwriting_inputs("--out", out, data_file=data, network_file=network)
    pred = run_predict(network, data, label=label)
    if out is not None:
        write(pred, out)
    summary = {"rows": int(len(pred.classes)), "accuracy": pred.accuracy, "label": pred.label,
               "out": str(out) if out else None,
               "counts": {n: int((pred.classes == c).sum()) for c, n in enumerate(pred.names)}}
    if as_json:
        click.echo(json.dumps(summary))
        return
    acc = f", accuracy {pred.accuracy:.4f} against column {pred.label!r}" if pred.accuracy is not None else \
        " (no label column: no accuracy)"
    click.echo(f"{data}: {summary['rows']} rows{acc}")
    click.echo("predicted: " + ", ".join(f"{n} {k}" for n, k in summary["counts"].items()))
    if out is not None:
        click.echo(f"predictions: {out}")


@main.command()
@click.argument("design", type=click.Path(file_okay=False, path_type=Path))
@click.option("--budget-ns", type=PositiveTime(), default=15.0, show_default=True,
              help="Settle-time budget of a combinational design under the delay model.")
@click.option("--clock-ns", type=PositiveTime(), default=None,
              help="Clock period of a registered design. Default: manifest.")
@click.option("--generic", "-g", "generics", multiple=True, metavar="NAME=VALUE",
              help="Override an integer generic, e.g. -g G_NET_PS=400.")
@click.option("--vectors", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Vector file to check instead of the design's own (e.g. hcl verify's counterexample).")
def sim(design, budget_ns, clock_ns, generics, vectors):
    """Simulate an emitted design with cocotb + GHDL: every vector bit-exact, latency / settle time checked."""
    from hcl.errors import ConfigError
    from hcl.simulate import simulate
    values = {}
    for item in generics:
        name, _, value = item.partition("=")
        if not name or not value.strip().isdigit():
            raise ConfigError(f"--generic {item!r}: expected NAME=INTEGER, a delay in picoseconds (>= 0)")
        values[name.strip()] = int(value)
    result = simulate(design, budget_ns=budget_ns, clock_ns=clock_ns, generics=values, vectors=vectors)
    for line in result.lines():
        click.echo(line)
    if not result.passed:
        click.echo(f"simulation log: {result.log}", err=True)
        sys.exit(1)


@main.command()
@click.argument("design", type=click.Path(file_okay=False, path_type=Path))
@click.option("--network", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The network the design was emitted from. Default: the copy emit-vhdl wrote beside it.")
@click.option("--timeout", type=PositiveSeconds(), default=1800, show_default=True,
              help="Seconds GHDL and the proof may take together.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def verify(design, network, timeout, as_json):
    """Prove an emitted design equal to its network for every input (GHDL synth + Yosys miter + SAT)."""
    from hcl.verify import dumps, verify as run_verify
    result = run_verify(design, network=network, timeout=timeout)
    if as_json:
        click.echo(dumps(result))
    else:
        for line in result.lines():
            click.echo(line)
    if not result.proved:
        sys.exit(1)


@main.command()
@click.option("--task", required=True, help="Segmentation task: busi, qubit or sipm-seg.")
@click.option("--data", default=None, help="Data file or folder (busi; or set HCL_DATA).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the splits, training and search.")
@click.option("--quick", is_flag=True, help="Smoke-test budget (every model, a few batches; ~a minute).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder. Default runs/compare-<task>-s<seed>[-quick].")
@click.option("--export", "export_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write ONNX QCDQ files and integer weights of the quantized models here.")
@click.option("--threads", type=int, default=1, show_default=True, help="Torch CPU threads.")
@click.option("--lut-trainer", type=click.Choice(["efd", "none"]), default=None,
              help="The LUT network's search: efd = tables trained by gradients inside it (as hcl evolve --trainer "
                   "efd; the default); none = the genetic search alone.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (rows and output files).")
def compare(task, data, seed, quick, out, export_dir, threads, lut_trainer, as_json):
    """FP32, PTQ and QAT U-Nets (Brevitas) beside an evolved LUT network: table, CSV, plots."""
    from hcl.bridge.compare import run_compare
    progress = None if as_json else (lambda line: click.echo(line, err=True))
    result = run_compare(task, seed=seed, data=data, quick=quick, out=out, export=export_dir, threads=threads,
                         progress=progress, lut_trainer=lut_trainer)
    if as_json:
        click.echo(json.dumps({"rows": result.rows, "files": result.files}, default=str))
    else:
        click.echo(Path(result.files["markdown"]).read_text())
        click.echo(f"results: {result.out}/ (compare.md, compare.csv, compare.json, cost.png, examples.png, lut/)")


@main.command()
@click.argument("design", type=click.Path(file_okay=False, path_type=Path))
@click.option("--target", required=True,
              help="xilinx: Yosys synth_xilinx (post-synthesis LUTs, depth); ice40: + nextpnr-ice40 on an HX8K, "
                   "ecp5: + nextpnr-ecp5 on an LFE5U-85F (routed Fmax and critical path).")
@click.option("--family", default=None,
              help="Xilinx family (ultrascale or 7series) for synth_xilinx and the per-level delay. Default ultrascale.")
@click.option("--timeout", type=PositiveSeconds(), default=900, show_default=True, help="Seconds the whole flow may take.")
@click.option("--no-cache", is_flag=True, help="Run the tools even when a cached result matches.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def synth(design, target, family, timeout, no_cache, as_json):
    """Synthesize an emitted design (hcl emit-vhdl) and set the tool's LUTs and depth beside hcl's estimate."""
    from hcl.synth import format_table, synth as run_synth
    result = run_synth(design, target, family=family, timeout=timeout, use_cache=not no_cache)
    click.echo(json.dumps(result) if as_json else format_table(result))


if __name__ == "__main__":
    main()
