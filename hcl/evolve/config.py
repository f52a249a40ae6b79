"""Search configuration: one dataclass, loadable from TOML (`--config run.toml`), overridden by CLI flags.

Its fields, their types, defaults, ranges and help are the rows of hcl.evolve.options.OPTIONS (declared once);
`validate` checks each value against its row, then the rules that relate several options.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from hcl.errors import ConfigError
# The limits and choices live with the options (hcl.evolve.options); other modules import them from here too.
from hcl.evolve.options import (CONFIG_OPTIONS, DEFAULT_GENERATIONS, MAX_ARCH_GENERATIONS,  # noqa: F401
                                MAX_ARCH_POPULATION, MAX_BITS, MAX_NETWORK_LUTS, MAX_POPULATION, MAX_SEED,
                                REFIT_MODES, START_MODES, TABLE_OPTIONS, TRAINERS, UNTIL_TIME_LIMIT, check_value,
                                describe, gather, has_type)

DEFAULT_BITS = 4     # thermometer levels per feature when neither --bits nor the task (Dataset.bits) says
# --trainer when not given, by task. MNIST, 30 min, --max-luts 2000, seed 0: efd test 0.9725 at 1,938 LUTs, the
# genetic search alone 0.9327 (benchmarks/results/search_mnist_efd.md, search_mnist.md); other tasks: the
# ablation (benchmarks/results/ablation_<task>.md).
DEFAULT_TRAINER = {"mnist": "efd"}
# --augment when not given, by task, for the gradient trainer (hcl.augment; benchmarks/results/augment.md).
DEFAULT_AUGMENT = {"mnist": "shift"}
OPERATOR_WEIGHTS = {"rewire": 0.3, "regrow": 0.2, "crossover": 0.15, "refit": 0.1, "flip": 0.05,
                    "remove_lut": 0.06, "add_lut": 0.06, "shrink_group": 0.04, "grow_group": 0.04}
SHARD_SUFFIX = "/samples"
_SPEC_HELP = "use local, dask-local:N or dask://HOST:PORT, optionally followed by /samples (split by sample shards)"


def _field(option) -> tuple[str, Any, dataclasses.Field]:
    default = option.default
    if isinstance(default, (list, dict)):
        return option.name, option.type, dataclasses.field(default_factory=lambda: type(default)(default))
    return option.name, option.type, dataclasses.field(default=default)


class _Rules:
    """The methods of EvolveConfig (its fields come from the options table)."""

    def validate(self) -> "EvolveConfig":
        for option in CONFIG_OPTIONS:
            check_value(option, getattr(self, option.name))
        for option in TABLE_OPTIONS:
            if option.name in self.task_options:
                check_value(option, self.task_options[option.name])
        parse_executor(self.executor)
        if self.generations is None:
            self.generations = UNTIL_TIME_LIMIT if self.time_limit is not None else DEFAULT_GENERATIONS
        if self.layers is not None and sum(self.layers) > MAX_NETWORK_LUTS:
            raise ConfigError(f"--layers: {sum(self.layers)} hidden LUTs exceed {MAX_NETWORK_LUTS:,} (the signals "
                              "of every LUT are held for every training sample): give smaller layers")
        if self.layers is not None and any(n < 1 for n in self.layers):
            raise ConfigError(f"--layers: need positive sizes, got {self.layers}")
        if self.operators is not None:
            unknown = sorted(set(self.operators) - set(OPERATOR_WEIGHTS))
            if unknown:
                raise ConfigError(f"operators: unknown operator {unknown[0]!r}; known: {', '.join(OPERATOR_WEIGHTS)}")
            if any(w < 0 for w in self.operators.values()) or sum(self.operators.values()) <= 0:
                raise ConfigError("operators: weights must be >= 0 with a positive sum")
        if self.trainer is None:
            self.trainer = DEFAULT_TRAINER.get(self.task, "none")
        if self.augment is None:
            self.augment = DEFAULT_AUGMENT.get(self.task, "none") if self.trainer == "efd" else "none"
        if self.train_epochs is not None and self.trainer == "none":
            raise ConfigError("--train-epochs: the epochs of the gradient trainer, but --trainer is none: add "
                              "--trainer efd or drop --train-epochs")
        if self.augment != "none" and self.trainer == "none":
            raise ConfigError(f"--augment {self.augment}: the copies train the gradient trainer; add --trainer efd "
                              "or drop --augment")
        if self.trainer != "none" and self.executor.endswith("/samples"):
            raise ConfigError("--executor .../samples: the trainer needs every sample on one worker; "
                              "drop /samples (children are trained on whole workers) or use --trainer none")
        if self.arch_search and self.trainer != "efd":
            raise ConfigError("--arch-search: members are trained by the gradient trainer; add --trainer efd or "
                              "drop --arch-search")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "config") -> "EvolveConfig":
        """A config from TOML / CLI values by name (the `table` options at the top level or in task_options);
        a value of the wrong type is a one-line error naming the key and `where`."""
        d = gather({}, d)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown option {unknown[0]!r}; known: "
                              f"{', '.join(sorted(known | {o.name for o in TABLE_OPTIONS}))}")
        for option in CONFIG_OPTIONS:
            if option.name in d:
                check_type(option.name, d[option.name], option.type, where)
        task_options = d.get("task_options", {})
        check_type("task_options", task_options, dict[str, Any], where)
        for option in TABLE_OPTIONS:
            if option.name in task_options:
                check_type(option.name, task_options[option.name], option.type, where)
        return cls(**d)


def check_type(key: str, value: Any, hint: Any, where: str) -> None:
    if not has_type(value, hint):
        raise ConfigError(f"{where}: {key} = {value!r:.60}: expected {describe(hint)}")


EvolveConfig = dataclasses.make_dataclass(
    "EvolveConfig",
    [*(_field(o) for o in CONFIG_OPTIONS),
     ("task_options", dict[str, Any], dataclasses.field(default_factory=dict))],   # the `table` options and a
    bases=(_Rules,))                                                                  # task's own (tiny's n)
EvolveConfig.__module__ = __name__
EvolveConfig.__doc__ = "The options of a search (hcl.evolve.options.OPTIONS), one field each."


def load_toml(path: str | Path) -> dict[str, Any]:
    """Options from a TOML file: keys at the top level or under [evolve]; dashes and underscores both accepted."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8-sig"))    # a BOM (Windows editors) is no TOML error
    except FileNotFoundError:
        raise ConfigError(f"--config: {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"--config: cannot read {p} as UTF-8 text ({e.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"--config: {p} is not valid TOML ({e})") from None
    raw = raw.get("evolve", raw)
    if not isinstance(raw, dict):
        raise ConfigError(f"--config: {p}: [evolve] must be a table of options")
    return {re.sub("-", "_", key): value for key, value in raw.items()}


def to_toml(d: dict[str, Any]) -> str:
    """The config as TOML under [evolve] (tomli-w); None values are left out: TOML has no null."""
    def without_none(value):
        if isinstance(value, dict):
            return {k: without_none(v) for k, v in value.items() if v is not None}
        return value
    return tomli_w.dumps({"evolve": without_none(d)})


def max_local_workers() -> int:
    """The most worker processes dask-local:N may start here: each holds a copy of the data and Numba's code."""
    import os
    return max(4, 2 * (os.cpu_count() or 1))


def parse_executor(spec: str) -> tuple[str, str | int | None, bool]:
    """("local", None, False) | ("dask-local", n_workers, shard) | ("dask", "tcp://HOST:PORT", shard); a spec
    that is none of these is a one-line ConfigError."""
    shard = spec.endswith(SHARD_SUFFIX) and spec != SHARD_SUFFIX
    base = spec[: -len(SHARD_SUFFIX)] if shard else spec
    if base == "local" and not shard:
        return "local", None, False
    if base.startswith("dask-local:"):
        try:
            workers = int(base.split(":", 1)[1])
        except ValueError:
            workers = 0
        most = max_local_workers()
        if not 1 <= workers <= most:
            raise ConfigError(f"--executor {spec}: expected dask-local:N with 1 <= N <= {most} workers (twice "
                              "this machine's cores: more only compete for them; use dask://HOST:PORT for a cluster)")
        return "dask-local", workers, shard
    if base.startswith("dask://"):
        host, _, port = base[len("dask://"):].rpartition(":")
        if host and "/" not in host and port.isdigit() and 1 <= int(port) <= 65535:
            return "dask", f"tcp://{host}:{int(port)}", shard
    raise ConfigError(f"--executor {spec!r}: {_SPEC_HELP}")
