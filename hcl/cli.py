"""The `hcl` command line: thin click commands over the modules; no logic of its own.

Every HclError becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from hcl import __version__
from hcl.errors import HclError


class HclGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except HclError as e:
            click.echo(f"error: {e}", err=True)
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
@click.option("--seed", type=int, default=None, help="Task seed (default: the one saved in the network).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info(network, task, split, data, seed, as_json):
    """Show a network's layers, LUT count, depth and, with --task, its accuracy."""
    from hcl.report import network_info
    result = network_info(network, task=task, split=split, data=data, seed=seed)
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:>16}: {value}")


@main.command()
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="TOML file with any of these options ([evolve] table); flags given here override it.")
@click.option("--task", default=None, help="Task name (sipm, digits, mnist, file, ...). Default: sipm.")
@click.option("--data", default=None, help="Data file or folder (or set HCL_DATA).")
@click.option("--label", default=None, help="Label column, for --task file with a CSV/NPZ.")
@click.option("--luts", "k", type=int, default=None, help="LUT inputs K (2..6; 6 = one FPGA LUT6). Default 6.")
@click.option("--generations", type=int, default=None, help="Generations to run. Default 40.")
@click.option("--population", type=int, default=None, help="Population size. Default 24.")
@click.option("--seed", type=int, default=None, help="Seed of every random choice. Default 0.")
@click.option("--layers", default=None, help="Hidden LUT layer sizes, comma-separated, e.g. 64,32.")
@click.option("--group-size", type=int, default=None, help="Output LUTs per class.")
@click.option("--bits", type=int, default=None, help="Thermometer levels per input feature. Default 4.")
@click.option("--encoder", type=click.Choice(["quantile", "uniform"]), default=None, help="Threshold placement.")
@click.option("--threshold-bits", type=int, default=None,
              help="Round comparator thresholds to the top N bits of the input word (default 6: one LUT6 each; "
                   "0 = exact thresholds).")
@click.option("--refit", type=click.Choice(["vote", "output-exact", "exact", "both"]), default=None,
              help="How truth tables are refitted from data after a change. Default output-exact.")
@click.option("--max-luts", type=int, default=None, help="Hard limit on total LUTs (encoder + network + output).")
@click.option("--max-depth", type=int, default=None, help="Hard limit on LUT levels from input to class.")
@click.option("--time-limit", type=float, default=None, help="Stop after this many seconds (at a generation end).")
@click.option("--checkpoint-every", type=int, default=None, help="Checkpoint every N generations. Default 5.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run directory. Default runs/<task>-k<K>-s<seed>.")
@click.option("--resume", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Continue the run in this directory from its checkpoint.")
@click.option("--executor", default=None,
              help="Where children are evaluated: local (default), dask-local:N, or dask://HOST:PORT.")
@click.option("--quiet", is_flag=True, help="No progress display.")
def evolve(config_file, task, data, label, k, generations, population, seed, layers, group_size, bits, encoder,
           threshold_bits, refit, max_luts, max_depth, time_limit, checkpoint_every, out, resume, executor, quiet):
    """Evolve a LUT network for a task under a hardware budget; write a run directory."""
    from hcl.errors import ConfigError
    from hcl.evolve import EvolveConfig, evolve as run_evolve, resume as run_resume
    from hcl.evolve.config import load_toml

    if resume is not None:
        result = run_resume(resume, generations=generations, time_limit=time_limit, progress=not quiet,
                            executor=executor)
    else:
        options = load_toml(config_file) if config_file else {}
        flags = {"task": task, "data": data, "k": k, "generations": generations, "population": population,
                 "seed": seed, "group_size": group_size, "bits": bits, "encoder": encoder, "threshold_bits": threshold_bits, "refit": refit,
                 "max_luts": max_luts, "max_depth": max_depth, "time_limit": time_limit,
                 "checkpoint_every": checkpoint_every, "out": str(out) if out else None, "executor": executor}
        if layers is not None:
            try:
                flags["layers"] = [int(x) for x in layers.split(",") if x.strip()]
            except ValueError:
                raise ConfigError(f"--layers: expected comma-separated integers, got {layers!r}") from None
        options.update({key: value for key, value in flags.items() if value is not None})
        if label is not None:
            options.setdefault("task_options", {})["label"] = label
        config = EvolveConfig.from_dict(options, where=str(config_file) if config_file else "options")
        if config.out is None:
            config.out = f"runs/{config.task}-k{config.k}-s{config.seed}"
        result = run_evolve(config, progress=not quiet)
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


if __name__ == "__main__":
    main()
