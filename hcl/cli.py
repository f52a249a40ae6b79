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
