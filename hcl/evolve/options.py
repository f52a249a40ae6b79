"""Every option of a search, declared once.

Each row of `OPTIONS` is one option: its name (the EvolveConfig field, the TOML key under ``[evolve]`` and the
hcl.LUTClassifier parameter), its type and default, its allowed range or choices, its help text, its command-line
flag, and whether ``hcl evolve --resume`` may change it. From the table derive:

  - the EvolveConfig dataclass (hcl.evolve.config): one field per option, `task_options` holding the `table` ones;
  - the checks of a single value (type, range, choices): `check_value`, called by EvolveConfig.validate;
  - the TOML keys `load_toml` / `from_dict` accept;
  - the click options of ``hcl evolve`` (hcl.cli) and its ``--resume`` rule;
  - the parameters of hcl.LUTClassifier (hcl.estimator): the rows with `estimator=True`.

Adding an option is one row here (plus the code that uses it). Checks that relate several options (a trainer's
augmentation, an executor spec, the layer sizes' sum) stay in EvolveConfig.validate.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable

from hcl.augment import AUGMENTS
from hcl.errors import ConfigError
from hcl.network import K_MAX, K_MIN

START_MODES = ("grow", "random")
REFIT_MODES = ("vote", "output-exact", "exact", "both", "none")   # none: a plain GA (no table fitting)
TRAINERS = ("none", "efd")          # efd: tables trained by gradients (hcl.train, evolve.lamarck)
ENCODERS = ("quantile", "uniform")
MAX_SEED = 2**63 - 1
# Every signal of a network is a row of the bit-packed sample matrix: 200,000 LUTs on MNIST's 50,000 training
# samples are 1.25 GB, the most this project's 24 GiB machines hold with the validation copy and the children.
MAX_NETWORK_LUTS = 200_000
# `generations` when only --time-limit bounds a run.
UNTIL_TIME_LIMIT = 1_000_000
DEFAULT_GENERATIONS = 40
# Every candidate of a generation is held in memory as a network with its scores and bit-packed signals.
MAX_POPULATION = 100_000
# Thermometer levels per feature: a 12-bit word has 4,095 distinct thresholds; more only repeats comparators.
MAX_BITS = 4096
# Architecture search: every member is trained by gradients, so the counts stay small.
MAX_ARCH_POPULATION = 200
MAX_ARCH_GENERATIONS = 100
# Front starts: each is a network trained from scratch.
MAX_FRONT_STARTS = 16

Columns = str | list[str | int] | None       # column names or 0-based indices: "a,b,3" (CLI) or a list (TOML, API)


def layers_from_text(text: str) -> list[int]:
    """--layers "64,32" -> [64, 32]; 0 = no hidden layer (the output LUTs read the comparators directly)."""
    try:
        return [int(x) for x in text.split(",") if x.strip() and int(x) != 0]
    except ValueError:
        raise ConfigError(f"--layers: expected comma-separated integers, got {text!r}") from None


@dataclass(frozen=True)
class Option:
    name: str                         # EvolveConfig field, TOML key, estimator parameter (unless `param`)
    type: Any                         # the value's type, e.g. int | None (checked exactly: no bool for an int)
    default: Any
    help: str                         # one or two sentences; the CLI adds the default
    flag: str | None = ""             # command-line flag; "" = "--" + name with dashes; None = TOML / API only
    choices: tuple[str, ...] | None = None
    low: float | None = None          # smallest allowed value (inclusive, unless low_open)
    high: float | None = None         # largest allowed value (inclusive)
    low_open: bool = False
    why: str = ""                     # said when the range is broken: why the limit is there
    resumable: bool = False           # hcl evolve --resume may change it
    table: bool = False               # an option of --task file (kept in EvolveConfig.task_options)
    estimator: bool = True            # a parameter of hcl.LUTClassifier
    param: str | None = None          # the estimator's name for it, when it differs (seed -> random_state)
    parse: Callable[[str], Any] | None = None   # command-line text -> value, for types click cannot parse

    @property
    def cli_flag(self) -> str | None:
        return "--" + self.name.replace("_", "-") if self.flag == "" else self.flag

    @property
    def label(self) -> str:
        """How messages name the option: its flag, else its TOML key."""
        return self.cli_flag or self.name

    @property
    def param_name(self) -> str:
        return self.param or self.name


OPTIONS: tuple[Option, ...] = (
    # ---- the task and its data
    Option("task", str, "sipm", "Task name (sipm, digits, mnist, file, ...).", estimator=False),
    Option("data", str | None, None, "Data file or folder (or set HCL_DATA).", estimator=False),
    # ---- --task file: the user's table (hcl.tasks.tabular)
    Option("label", str | int | None, None, "--task file: the label column (name or 0-based index). Default: the "
           "last column (an NPZ's y or label array).", table=True, estimator=False),
    Option("features", Columns, None, "--task file: the feature columns, comma-separated names or 0-based indices. "
           "Default: every column but the label (and the split column).", table=True, estimator=False),
    Option("drop", Columns, None, "--task file: columns to leave out (an id, a second label), comma-separated.",
           table=True, estimator=False),
    Option("categorical", Columns, None, "--task file: columns to treat as categories even if numeric.", table=True),
    Option("numeric", Columns, None, "--task file: columns that must be numbers (an error names any text cell).",
           table=True, estimator=False),
    Option("max_categories", int | None, None, "--task file: most distinct values a categorical column may have "
           "(default 32).", table=True),
    Option("top_categories", int | None, None, "--task file: keep the N most frequent values of each categorical "
           "column; the rest become 'other'.", table=True),
    Option("input_bits", int | None, None, "--task file: bits of the fixed-point code of each float column (default "
           "12); with it, integer columns are coded the same way instead of as raw words.", table=True),
    Option("fixed", Columns, None, "--task file: fixed-point formats your hardware delivers, "
           "NAME=BITS:FRAC[:OFFSET],... (code = clip(floor(x * 2**FRAC) - OFFSET, 0, 2**BITS - 1)).", table=True),
    Option("test_data", str | None, None, "--task file: a file of test rows with the same columns (an official "
           "test split); the data file then gives train and validation rows.", table=True, estimator=False),
    Option("val_data", str | None, None, "--task file: a file of validation rows (with --test-data).", table=True,
           estimator=False),
    Option("split_column", str | int | None, None, "--task file: a column saying train, val or test for every row "
           "(never a feature).", table=True, estimator=False),
    Option("val_fraction", float | None, None, "--task file: share of validation rows (default 0.15).", table=True,
           estimator=False),
    Option("test_fraction", float | None, None, "--task file: share of test rows (default 0.15).", table=True,
           estimator=False),
    # ---- the network
    Option("k", int, 6, "LUT inputs K (6 = one FPGA LUT6).", flag="--luts", low=K_MIN, high=K_MAX),
    Option("layers", list[int] | None, None, "Hidden LUT layer sizes, comma-separated, e.g. 64,32; 0 = none (the "
           "output LUTs read the comparators directly). Default: chosen from the task.", parse=layers_from_text),
    Option("group_size", int | None, None, "Output LUTs per class. Default: chosen from the task.", low=1,
           high=MAX_NETWORK_LUTS // 10),
    Option("bits", int | None, None, "Thermometer levels per input feature. Default: the task's (digits 2, "
           "mnist 1), else 4.", low=1, high=MAX_BITS, why=" (a 12-bit word has 4,095 distinct thresholds)"),
    Option("encoder", str, "quantile", "Threshold placement.", choices=ENCODERS),
    Option("threshold_bits", int, 6, "Round comparator thresholds to the top N bits of the input word (6: one LUT6 "
           "each; 0 = exact thresholds).", low=0, high=64, why=" (input words have at most 64 bits)"),
    # ---- the search
    Option("seed", int, 0, "Seed of every random choice (the data split too).", low=0, high=MAX_SEED,
           param="random_state"),
    Option("generations", int | None, None, f"Generations to run. Default {DEFAULT_GENERATIONS}, or as many as "
           "--time-limit allows when it is given.", low=0, high=UNTIL_TIME_LIMIT,
           why=" (use --time-limit for a run bounded by time)", resumable=True),
    Option("population", int, 24, "Population size.", low=4, high=MAX_POPULATION,
           why=" (each candidate is held in memory)"),
    Option("offspring", int | None, None, "Children per generation. Default: the population size.", low=1,
           high=MAX_POPULATION),
    Option("start", str, "grow", "Initial population: grow (each LUT's inputs chosen greedily from the data) or "
           "random wiring.", choices=START_MODES),
    Option("refit", str, "output-exact", "How truth tables are refitted from data after a change (none: random "
           "tables, mutation only).", choices=REFIT_MODES),
    Option("select_on", str, "train", "Accuracy objective of the selection: train or val (less overfitting, one "
           "validation pass per child).", choices=("train", "val")),
    Option("operators", dict[str, float] | None, None, "Mutation operator name -> weight. Default: "
           "hcl.evolve.config.OPERATOR_WEIGHTS.", flag=None),
    Option("max_luts", int | None, None, "Hard limit on total LUTs (encoder + network + output).", low=1),
    Option("max_depth", int | None, None, "Hard limit on LUT levels from input to class.", low=1),
    Option("time_limit", float | None, None, "Stop after this many seconds (at a generation end); loading the data "
           "counts, and trained starts stop by 85 % of it on a machine slower than planned.", low=0, low_open=True,
           resumable=True),
    # ---- the gradient trainer (hcl.train, evolve.lamarck)
    Option("trainer", str | None, None, "efd: train the tables by gradients (DWN's extended finite differences) and "
           "let the search shape the topology; none: genetic search of the tables too. Default: the task's "
           "suggestion (mnist efd, else none).", choices=TRAINERS),
    Option("augment", str | None, None, "efd: train on extra copies of the training images, each moved one pixel "
           "(shift: 5x the samples; image tasks only). Default: the task's suggestion (mnist shift, else none).",
           choices=AUGMENTS),
    Option("train_epochs", float | None, None, "efd: epochs of the start network's training. Default 3 (at least "
           "4,000 steps); with --time-limit, as many as half the limit affords, up to max(30 epochs, 10,000 steps).", low=0, low_open=True, high=1000),
    Option("train_lr", float, 1e-2, "efd: learning rate of the start network's training.", low=0, low_open=True,
           high=1),
    Option("train_batch", int, 32, "efd: samples per training step.", low=1, high=65536),
    Option("tune_steps", int, 100, "efd: training steps of each child.", low=1, high=1_000_000),
    Option("tune_lr", float, 1e-3, "efd: learning rate of each child's training.", low=0, low_open=True, high=1),
    Option("front_starts", int, 3, "efd: networks trained from scratch beside the start, at budgets spread evenly "
           "below --max-luts (3: 3/4, 1/2 and 1/4 of it), so the front a run returns spans the budget; 0: the start "
           "alone.", low=0, high=MAX_FRONT_STARTS),
    Option("arch_search", bool, False, "efd: search the architecture (hidden layers, LUTs per class) by NSGA-II over "
           "trained members with successive halving before the genetic loop, instead of one start from the fixed "
           "rule."),
    Option("arch_population", int, 12, "--arch-search: architectures at rung 0 (successive halving promotes 1/2 per "
           "rung).", low=4, high=MAX_ARCH_POPULATION, why=" (each member is trained)", flag=None),
    Option("arch_generations", int, 1, "--arch-search: NSGA-II generations of architectures at rung 0.", low=0,
           high=MAX_ARCH_GENERATIONS, flag=None),
    # ---- where and how it runs
    Option("checkpoint_every", int, 5, "Checkpoint every N generations.", low=1, estimator=False),
    Option("executor", str, "local", "Where children are evaluated: local, dask-local:N, or dask://HOST:PORT; add "
           "/samples to a Dask one to split the training data by sample shards instead. Results do not depend on "
           "it.", resumable=True),
    Option("out", str | None, None, "Run directory. Default runs/<task>-k<K>-s<seed>.", estimator=False),
)

BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}
TABLE_OPTIONS: tuple[Option, ...] = tuple(o for o in OPTIONS if o.table)
CONFIG_OPTIONS: tuple[Option, ...] = tuple(o for o in OPTIONS if not o.table)   # fields of EvolveConfig
ESTIMATOR_OPTIONS: tuple[Option, ...] = tuple(o for o in OPTIONS if o.estimator)


def check_value(option: Option, value: Any, where: str | None = None) -> None:
    """A one-line ConfigError unless `value` has the option's type, range and choices (None: not given)."""
    label = f"{where}: {option.name}" if where else option.label
    if not has_type(value, option.type):
        shown = f"{value!r:.60}"
        raise ConfigError(f"{label} = {shown}: expected {describe(option.type)}" if where else
                          f"{label}: expected {describe(option.type)}, got {shown}")
    if value is None:
        return
    if option.choices is not None and value not in option.choices:
        raise ConfigError(f"{label}: {value!r} unknown: use one of {', '.join(option.choices)}")
    lo, hi = option.low, option.high
    too_low = lo is not None and (value <= lo if option.low_open else value < lo)
    too_high = hi is not None and value > hi
    if too_low or too_high:
        if lo is not None and hi is not None:
            bound = f"in ({_num(lo)}, {_num(hi)}]" if option.low_open else f"{_num(lo)}..{_num(hi)}"
        elif lo is not None:
            bound = f"> {_num(lo)}" if option.low_open else f"at least {_num(lo)}"
        else:
            bound = f"at most {_num(hi)}"
        raise ConfigError(f"{label}: must be {bound}{option.why}, got {value}")


def _num(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def has_type(value: Any, hint: Any) -> bool:
    """Whether a TOML / CLI / API value has an option's declared type, exactly: no bool for an int, no str for a
    number, finite floats only."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(has_type(value, a) for a in args)
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
        return isinstance(value, list) and all(has_type(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(has_type(k, args[0]) and has_type(v, args[1])
                                               for k, v in value.items())
    return True                                          # Any


def describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args if a is not type(None))
    plural = {int: "integers", float: "finite numbers", str: "strings", bool: "booleans"}
    if origin is list:
        inner = typing.get_args(args[0])
        return "a list of " + (" or ".join(plural.get(a, "values") for a in inner) if inner else
                               plural.get(args[0], "values"))
    if origin is dict:
        return f"a table of {plural.get(args[1], 'values')}"
    return {int: "an integer", float: "a finite number", str: "a string", bool: "true or false"}.get(hint, str(hint))


def gather(values: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Config values by option name over `base` (a TOML table): None means not given; the `table` options go into
    `task_options` (a TOML file may give them at the top level or in its task_options table)."""
    d = dict(base or {})
    if not isinstance(d.get("task_options", {}), dict):
        return d                                         # from_dict names the wrongly typed key
    task_options = dict(d.pop("task_options", None) or {})
    for option in TABLE_OPTIONS:
        if option.name in d:
            task_options[option.name] = d.pop(option.name)
    for name, value in values.items():
        if value is None:
            continue
        if BY_NAME[name].table:
            task_options[name] = value
        else:
            d[name] = value
    if task_options:
        d["task_options"] = task_options
    return d


def reference_table() -> str:
    """Every option as a Markdown table: docs/options.md shows it (written at build time by
    scripts/mkdocs_hooks.py)."""
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|")

    def allowed(o: Option) -> str:
        if o.choices:
            return ", ".join(o.choices)
        lo = "" if o.low is None else ("> " if o.low_open else ">= ") + _num(o.low)
        hi = "" if o.high is None else "<= " + _num(o.high)
        return ", ".join(x for x in (lo, hi) if x)

    lines = ["| TOML key | flag | estimator | type | default | allowed | resumable | what it does |",
             "|---|---|---|---|---|---|---|---|"]
    for o in OPTIONS:
        flag = o.cli_flag or "-"
        if o.type is bool and o.cli_flag:
            flag = f"{o.cli_flag} / --no-{o.cli_flag[2:]}"
        kind = describe(o.type).removeprefix("an ").removeprefix("a ")
        lines.append(f"| `{o.name}` | `{flag}` | {'`' + o.param_name + '`' if o.estimator else '-'} | {cell(kind)} | "
                     f"{'' if o.default is None else '`' + repr(o.default) + '`'} | {cell(allowed(o))} | "
                     f"{'yes' if o.resumable else ''} | {cell(o.help)} |")
    return "\n".join(lines) + "\n"
