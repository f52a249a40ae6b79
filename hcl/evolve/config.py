"""Search configuration: one dataclass, loadable from TOML (`--config run.toml`), overridden by CLI flags."""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from hcl.augment import AUGMENTS
from hcl.errors import ConfigError
from hcl.network import K_MAX, K_MIN


START_MODES = ("grow", "random")
DEFAULT_BITS = 4     # thermometer levels per feature when neither --bits nor the task (Dataset.bits) says
# --trainer when not given, by task. MNIST, 30 min, --max-luts 2000, seed 0: efd test 0.9725 at 1,938 LUTs, the
# genetic search alone 0.9327 (benchmarks/results/search_mnist_efd.md, search_mnist.md); other tasks: the
# ablation (benchmarks/results/ablation_<task>.md).
DEFAULT_TRAINER = {"mnist": "efd"}
# --augment when not given, by task, for the gradient trainer (hcl.augment; benchmarks/results/augment.md).
DEFAULT_AUGMENT = {"mnist": "shift"}
MAX_SEED = 2**63 - 1
# Every signal of a network is a row of the bit-packed sample matrix: 200,000 LUTs on MNIST's 50,000 training
# samples are 1.25 GB, the most this project's 24 GiB machines hold with the validation copy and the children.
MAX_NETWORK_LUTS = 200_000
REFIT_MODES = ("vote", "output-exact", "exact", "both", "none")   # none: a plain GA (no table fitting)
# `generations` when only --time-limit bounds a run.
UNTIL_TIME_LIMIT = 1_000_000
# Every candidate of a generation is held in memory as a network with its scores and bit-packed signals.
MAX_POPULATION = 100_000
# Architecture search: every member is trained by gradients, so the counts stay small.
MAX_ARCH_POPULATION = 200
MAX_ARCH_GENERATIONS = 100
OPERATOR_WEIGHTS = {"rewire": 0.3, "regrow": 0.2, "crossover": 0.15, "refit": 0.1, "flip": 0.05,
                    "remove_lut": 0.06, "add_lut": 0.06, "shrink_group": 0.04, "grow_group": 0.04}
TRAINERS = ("none", "efd")          # efd: tables trained by gradients (hcl.train, evolve.lamarck)
SHARD_SUFFIX = "/samples"
_SPEC_HELP = "use local, dask-local:N or dask://HOST:PORT, optionally followed by /samples (split by sample shards)"
# Thermometer levels per feature: a 12-bit word has 4,095 distinct thresholds; more only repeats comparators.
MAX_BITS = 4096


@dataclass
class EvolveConfig:
    task: str = "sipm"
    data: str | None = None
    task_options: dict[str, Any] = field(default_factory=dict)
    k: int = 6
    seed: int = 0
    generations: int = 40
    population: int = 24
    offspring: int | None = None           # children per generation; default = population
    layers: list[int] | None = None        # hidden LUT layer sizes; default chosen from the task
    group_size: int | None = None          # output LUTs per class; default chosen from the task
    encoder: str = "quantile"              # thermometer thresholds: quantile | uniform
    bits: int | None = None                # thermometer levels per feature; None: the task's (Dataset.bits) or 4
    threshold_bits: int = 6                # round thresholds to the top N bits of the input word (cheap compare);
                                           # 6 keeps every comparator within one LUT6 (sipm: ~half the LUTs); 0 = exact
    select_on: str = "train"               # NSGA-II accuracy objective: train | val (val: less overfitting, costs
                                           # one validation pass per child)
    start: str = "grow"                    # initial population: grow (greedy, from the data: evolve.grow) | random
    refit: str = "output-exact"            # truth-table refitting, one of REFIT_MODES (see evolve.fitness)
    operators: dict[str, float] | None = None  # operator name -> weight; default OPERATOR_WEIGHTS
    trainer: str | None = None             # efd: tables trained by gradients (hcl.train, evolve.lamarck) | none;
                                           # None: DEFAULT_TRAINER of the task, else none
    augment: str | None = None             # efd: extra training copies (hcl.augment): shift | none; None: the
                                           # task's DEFAULT_AUGMENT with the trainer, else none
    train_epochs: float | None = None      # efd: training of a start member; None: 3 epochs, >= 4,000 steps
    train_lr: float = 1e-2
    train_batch: int = 32
    tune_steps: int = 100                  # efd: steps of continued training of each child
    tune_lr: float = 1e-3
    arch_search: bool = False              # efd: NSGA-II over trained architectures first (evolve.archsearch)
    arch_population: int = 12              # architectures at rung 0 (successive halving promotes 1/2 per rung)
    arch_generations: int = 1              # NSGA-II generations of architectures at rung 0
    max_luts: int | None = None            # hard limit on hcl.cost's total (encoder + network + output)
    max_depth: int | None = None           # hard limit on hcl.cost's depth (LUT levels input -> class)
    time_limit: float | None = None        # seconds; the run stops at the next generation boundary
    checkpoint_every: int = 5
    executor: str = "local"                # local | dask-local:N | dask://HOST:PORT, Dask ones optionally + /samples
                                           # (split the data by sample shards); results do not depend on it
    out: str | None = None

    def validate(self) -> "EvolveConfig":
        parse_executor(self.executor)
        if not (K_MIN <= self.k <= K_MAX):
            raise ConfigError(f"--luts: K={self.k} is outside {K_MIN}..{K_MAX}")
        if self.generations < 0:
            raise ConfigError(f"--generations: must be >= 0 (0: the start population only), got {self.generations}")
        for name in ("population", "bits", "checkpoint_every"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')}: must be at least 1, got {getattr(self, name)}")
        if not 4 <= self.population <= MAX_POPULATION:
            raise ConfigError(f"--population: must be 4..{MAX_POPULATION:,} (each candidate is held in memory), "
                              f"got {self.population}")
        if self.offspring is not None and not 1 <= self.offspring <= MAX_POPULATION:
            raise ConfigError(f"offspring: must be 1..{MAX_POPULATION:,}, got {self.offspring}")
        if self.bits is not None and self.bits > MAX_BITS:
            raise ConfigError(f"--bits: at most {MAX_BITS} thermometer levels per feature, got {self.bits}")
        if self.generations > UNTIL_TIME_LIMIT:
            raise ConfigError(f"--generations: at most {UNTIL_TIME_LIMIT:,} (use --time-limit for a run bounded by "
                              f"time), got {self.generations}")
        if not (0 <= self.seed <= MAX_SEED):
            raise ConfigError(f"--seed: must be in 0..2**63-1, got {self.seed}")
        if self.layers is not None and any(int(n) < 1 for n in self.layers):
            raise ConfigError(f"--layers: need positive sizes, got {self.layers}")
        if self.layers is not None and sum(self.layers) > MAX_NETWORK_LUTS:
            raise ConfigError(f"--layers: {sum(self.layers)} hidden LUTs exceed {MAX_NETWORK_LUTS:,} (the signals "
                              "of every LUT are held for every training sample): give smaller layers")
        if self.group_size is not None and not (1 <= self.group_size <= MAX_NETWORK_LUTS // 10):
            raise ConfigError(f"--group-size: must be 1..{MAX_NETWORK_LUTS // 10:,}, got {self.group_size}")
        if self.encoder not in ("quantile", "uniform"):
            raise ConfigError(f"--encoder: {self.encoder!r} unknown: use quantile or uniform")
        if self.select_on not in ("train", "val"):
            raise ConfigError(f"--select-on: {self.select_on!r} unknown: use train or val")
        if not 0 <= self.threshold_bits <= 64:
            raise ConfigError(f"--threshold-bits: must be 0..64 (input words have at most 64 bits; 0 = exact "
                              f"thresholds), got {self.threshold_bits}")
        if self.start not in START_MODES:
            raise ConfigError(f"--start: {self.start!r} unknown: use one of {', '.join(START_MODES)}")
        if self.refit not in REFIT_MODES:
            raise ConfigError(f"--refit: {self.refit!r} unknown: use one of {', '.join(REFIT_MODES)}")
        if self.operators is not None:
            unknown = sorted(set(self.operators) - set(OPERATOR_WEIGHTS))
            if unknown:
                raise ConfigError(f"operators: unknown operator {unknown[0]!r}; known: {', '.join(OPERATOR_WEIGHTS)}")
            if any(w < 0 for w in self.operators.values()) or sum(self.operators.values()) <= 0:
                raise ConfigError("operators: weights must be >= 0 with a positive sum")
        if self.trainer is None:
            self.trainer = DEFAULT_TRAINER.get(self.task, "none")
        if self.trainer not in TRAINERS:
            raise ConfigError(f"--trainer: {self.trainer!r} unknown: use one of {', '.join(TRAINERS)}")
        if self.augment is None:
            self.augment = DEFAULT_AUGMENT.get(self.task, "none") if self.trainer == "efd" else "none"
        if self.augment not in AUGMENTS:
            raise ConfigError(f"--augment: {self.augment!r} unknown: use one of {', '.join(AUGMENTS)}")
        if self.augment != "none" and self.trainer == "none":
            raise ConfigError(f"--augment {self.augment}: the copies train the gradient trainer; add --trainer efd "
                              "or drop --augment")
        if self.train_epochs is not None and not (0 < self.train_epochs <= 1000):
            raise ConfigError(f"--train-epochs: must be in (0, 1000], got {self.train_epochs}")
        if not (1 <= self.train_batch <= 65536):
            raise ConfigError(f"train_batch: must be 1..65536, got {self.train_batch}")
        if not (1 <= self.tune_steps <= 1_000_000):
            raise ConfigError(f"--tune-steps: must be 1..1000000, got {self.tune_steps}")
        for name in ("train_lr", "tune_lr"):
            if not (0 < getattr(self, name) <= 1):
                raise ConfigError(f"{name}: must be in (0, 1], got {getattr(self, name)}")
        if self.trainer != "none" and self.executor.endswith("/samples"):
            raise ConfigError("--executor .../samples: the trainer needs every sample on one worker; "
                              "drop /samples (children are trained on whole workers) or use --trainer none")
        if self.arch_search and self.trainer != "efd":
            raise ConfigError("--arch-search: members are trained by the gradient trainer; add --trainer efd or "
                              "drop --arch-search")
        if not 4 <= self.arch_population <= MAX_ARCH_POPULATION:
            raise ConfigError(f"arch_population: must be 4..{MAX_ARCH_POPULATION} (each member is trained), got "
                              f"{self.arch_population}")
        if not 0 <= self.arch_generations <= MAX_ARCH_GENERATIONS:
            raise ConfigError(f"arch_generations: must be 0..{MAX_ARCH_GENERATIONS}, got {self.arch_generations}")
        if self.max_luts is not None and self.max_luts < 1:
            raise ConfigError(f"--max-luts: must be positive, got {self.max_luts}")
        if self.max_depth is not None and self.max_depth < 1:
            raise ConfigError(f"--max-depth: must be positive, got {self.max_depth}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ConfigError(f"--time-limit: must be a positive number of seconds, got {self.time_limit}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "config") -> "EvolveConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown option {unknown[0]!r}; known: {', '.join(sorted(known))}")
        hints = typing.get_type_hints(cls)
        for key, value in d.items():
            if not _has_type(value, hints[key]):
                raise ConfigError(f"{where}: {key} = {value!r:.60}: expected {_describe(hints[key])}")
        return cls(**d)


def _has_type(value: Any, hint: Any) -> bool:
    """Whether a TOML / CLI value has the field's declared type, exactly: no bool for an int, no str for a number
    (a config field's type is declared once, in the dataclass)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_has_type(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if origin is list:
        return isinstance(value, list) and all(_has_type(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(_has_type(k, args[0]) and _has_type(v, args[1])
                                               for k, v in value.items())
    return True                                          # Any


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None))
    plural = {int: "integers", float: "finite numbers", str: "strings", bool: "booleans"}
    if origin is list:
        return f"a list of {plural.get(args[0], 'values')}"
    if origin is dict:
        return f"a table of {plural.get(args[1], 'values')}"
    return {int: "an integer", float: "a finite number", str: "a string", bool: "true or false"}.get(hint, str(hint))


def load_toml(path: str | Path) -> dict[str, Any]:
    """Options from a TOML file: keys at the top level or under [evolve]; dashes and underscores both accepted."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
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
