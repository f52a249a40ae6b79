"""The `hcl` command line: thin click commands over the modules; no logic of its own.

Every HclError becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import errno
import json
import sys
import typing
from pathlib import Path

import click

from hcl import __version__
from hcl import timing
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


def _click_option(option):
    """The click option of one row of hcl.evolve.options.OPTIONS: given or None (the config's default applies)."""
    if option.type is bool:                       # --name / --no-name
        flag = option.cli_flag
        return click.option(f"{flag}/--no-{flag[2:]}", option.name, default=None,
                            help=option.help + f" Default: --{'' if option.default else 'no-'}{flag[2:]}.")
    if option.choices:
        kind = click.Choice(option.choices)
    elif option.parse:
        kind = str
    else:
        first = next(t for t in typing.get_args(option.type) or (option.type,) if t is not type(None))
        kind = first if first in (int, float) else str
    default = "" if option.default is None or "Default" in option.help else f" Default: {option.default}."
    callback = (lambda ctx, param, value: None if value is None else option.parse(value)) if option.parse else None
    return click.option(option.cli_flag, option.name, type=kind, default=None, callback=callback,
                        help=option.help + default)


def evolve_options(command):
    """Every option of hcl.evolve.options.OPTIONS that has a flag, in the table's order."""
    from hcl.evolve.options import OPTIONS
    for option in reversed([o for o in OPTIONS if o.cli_flag]):
        command = _click_option(option)(command)
    return command


@main.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="TOML file with any of these options ([evolve] table); flags given here override it.")
@evolve_options
@click.option("--resume", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Continue the run in this directory from its checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace the run an --out folder holds (refused without it).")
@click.option("--quiet", is_flag=True, help="No progress display.")
def evolve(config_file, resume, overwrite, quiet, **values):
    """Evolve a LUT network for a task under a hardware budget; write a run directory."""
    from hcl.errors import ConfigError
    from hcl.evolve import EvolveConfig, evolve as run_evolve, resume as run_resume
    from hcl.evolve.config import load_toml
    from hcl.evolve.options import BY_NAME, OPTIONS

    if resume is not None:
        fixed = [BY_NAME[name].cli_flag for name, value in values.items()
                 if value is not None and not BY_NAME[name].resumable]
        fixed = (["--config"] if config_file is not None else []) + fixed + (["--overwrite"] if overwrite else [])
        if fixed:
            may = ", ".join(o.cli_flag for o in OPTIONS if o.resumable)
            raise ConfigError(f"--resume continues a run with the options in {resume}/config.toml; {fixed[0]} "
                              f"cannot change (only {may} may): drop it, or start a new run with another --out")
        changes = {name: value for name, value in values.items() if BY_NAME[name].resumable}
        result = run_resume(resume, progress=not quiet, **changes)
    else:
        base = load_toml(config_file) if config_file else {}
        config = EvolveConfig.from_dict({**base, **{k: v for k, v in values.items() if v is not None}},
                                        where=str(config_file) if config_file else "options")
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
