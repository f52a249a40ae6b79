"""hcl.LUTClassifier: the search of `hcl evolve` as a scikit-learn estimator, with the hardware flow as methods.

    clf = hcl.LUTClassifier(max_luts=300, time_limit=60).fit(X_train, y_train)   # numpy arrays or a DataFrame
    clf.score(X_test, y_test); clf.pareto_; clf.cost_
    clf.to_vhdl("rtl", X_test[:200]); clf.simulate("rtl"); clf.verify("rtl"); clf.synth("rtl", target="xilinx")

The parameters are the rows of hcl.evolve.options.OPTIONS marked `estimator` (the same names as the TOML keys;
`random_state` is `seed`), plus `validation_fraction` and `verbose`. They are stored untouched by ``__init__`` and
checked by `fit`, which calls the same library function as ``hcl evolve`` (hcl.evolve.evolve) on the same data path
as ``hcl evolve --task file``: the rows become a table (hcl.tasks.tablefile.Table), and hcl.tasks.tabular.load_file
types its columns, fits the input map on the training rows (raw integers, categories, fixed-point codes of floats;
hcl.tasks.columns) and splits it. So a DataFrame and the CSV of the same rows give the same network:

    fit(X, y)                        = hcl evolve --task file --data X.csv --test-data X.csv --val-fraction F
                                       (validation rows drawn from X by the seed; F = validation_fraction)
    fit(X, y, eval_set=(Xv, yv))     = hcl evolve --task file --data X.csv --val-data V.csv --test-data V.csv

The estimator holds no test rows (score it on your own): its networks carry no test accuracy.

Bad input (wrong shapes, NaN, unseen categories, one class, other feature names than in fit) raises the one-line
DataError / ConfigError the CLI prints, as subclasses that are also ValueError, scikit-learn's convention.
"""

from __future__ import annotations

import inspect
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from hcl.errors import ConfigError, DataError, HclError
from hcl.evolve.options import ESTIMATOR_OPTIONS

DEFAULT_VALIDATION_FRACTION = 0.15
DEFAULT_VECTORS = 256          # to_vhdl without rows: random input words chosen for truth-table coverage


class InputError(DataError, ValueError):
    """Bad X, y or eval_set: the CLI's one-line DataError, and the ValueError scikit-learn expects."""


class ParameterError(ConfigError, ValueError):
    """A bad estimator parameter: the CLI's one-line ConfigError, and the ValueError scikit-learn expects."""


class NotFitted(HclError, NotFittedError):
    """predict / to_vhdl / ... before fit."""


# ---- the parameters: the options table, plus the estimator's own ------------------------------------------------
_OWN = (("validation_fraction", DEFAULT_VALIDATION_FRACTION), ("verbose", False))
_PARAMS: tuple[tuple[str, Any], ...] = tuple((o.param_name, o.default) for o in ESTIMATOR_OPTIONS) + _OWN


def _signature() -> inspect.Signature:
    keyword = inspect.Parameter.KEYWORD_ONLY
    return inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                              *(inspect.Parameter(name, keyword, default=default) for name, default in _PARAMS)])


@dataclass(frozen=True)
class SynthResult:
    """hcl.synth's report of one design: LUTs and depth as the tool counts them beside hcl's estimate."""
    design: Path
    target: str
    report: dict[str, Any]

    @property
    def luts(self) -> int | None:
        return self.report.get("luts")

    def lines(self) -> list[str]:
        from hcl.synth import format_table
        return format_table(self.report).splitlines()


class LUTClassifier(ClassifierMixin, BaseEstimator):
    """A LUT network classifier found by hcl's search under a hardware budget (see the module docstring).

    Fitted attributes: ``network_`` (the selected hcl.network.Network: best validation accuracy, fewest LUTs on
    a tie), ``pareto_`` (the Pareto front, fewest LUTs first; each network's ``meta`` holds its accuracies and
    cost), ``classes_``, ``n_features_in_``, ``feature_names_in_`` (DataFrames with string column names),
    ``cost_`` (hcl.cost's estimate of network_: LUTs encoder + network + output, depth), ``result_`` (the search's
    EvolveResult: log per generation, stop reason).
    """

    def __init__(self, **params):
        unknown = sorted(set(params) - {name for name, _ in _PARAMS})
        if unknown:
            raise TypeError(f"LUTClassifier got an unexpected keyword argument {unknown[0]!r}")
        for name, default in _PARAMS:
            setattr(self, name, params.get(name, default))

    __init__.__signature__ = _signature()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True      # text and category columns become categories
        tags.input_tags.string = True
        return tags

    # ---- fit -------------------------------------------------------------------------------------------------------
    def fit(self, X, y=None, eval_set=None):
        """Search a network for rows X (array [samples, features] or DataFrame) and labels y.

        Validation rows: `eval_set` = (X_val, y_val) if given, else `validation_fraction` of X, stratified and
        drawn by `random_state`. Selection (and `select_on="val"`) sees the validation rows; everything fitted (the
        input map, the thresholds, the tables) sees the training rows only."""
        from hcl.evolve import evolve
        from hcl.tasks.tabular import load_file

        config = self._config()
        with _as_value_errors():
            if y is None:
                raise InputError(f"This {type(self).__name__} estimator requires y to be passed, but the target y is "
                                 "None")
            table_X = self._table(X, y, "X", reset=True)
            options = dict(config.task_options, label=table_X.names[-1], class_order=self._class_names)
            if eval_set is not None:
                X_val, y_val = _pair(eval_set)
                table_val = self._table(X_val, y_val, "eval_set", reset=False)
                dataset = load_file(seed=config.seed, data=table_X, val_data=table_val, test_data=table_val,
                                    **options)
            else:
                dataset = load_file(seed=config.seed, data=table_X, test_data=table_X,
                                    val_fraction=self.validation_fraction, **options)
        result = evolve(config, dataset=dataset, progress=bool(self.verbose))
        for net in [result.best, *result.pareto]:
            # The test split of this run is a copy of rows it saw (the estimator has none): no test figure.
            net.meta.pop("test_accuracy", None)
            net.meta["estimator"] = {"classes": self.classes_.tolist(), "feature_names_in": self._names_in()}
        self.network_ = result.best
        self.pareto_ = list(result.pareto)
        self.cost_ = dict(result.cost)
        self.result_ = result
        self._set_map(self.network_)
        return self

    def _config(self):
        """The EvolveConfig of this estimator's parameters, checked by the options table."""
        from hcl.evolve import EvolveConfig
        from hcl.evolve.options import gather
        values = {o.name: getattr(self, o.param_name) for o in ESTIMATOR_OPTIONS}
        for name, value in values.items():
            if isinstance(value, tuple):              # a tuple in a parameter grid: the options take lists
                values[name] = list(value)
            elif isinstance(value, np.integer):
                values[name] = int(value)
            elif isinstance(value, np.floating):
                values[name] = float(value)
        fraction = self.validation_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise ParameterError(f"validation_fraction: expected a number between 0 and 1, got {fraction!r}")
        try:
            return EvolveConfig.from_dict(gather(values, {"task": "file"}), where="LUTClassifier").validate()
        except ConfigError as e:
            message = str(e)
            for option in ESTIMATOR_OPTIONS:        # the estimator's names for the options, not the CLI's flags
                if option.cli_flag and message.startswith(option.cli_flag + ":"):
                    message = option.param_name + message[len(option.cli_flag):]
            raise ParameterError(message) from None

    # ---- rows -> the table hcl.tasks.tabular reads --------------------------------------------------------------------
    def _table(self, X, y, what: str, reset: bool):
        """Rows X with labels y as a Table (label last): the columns typed as a CSV file's would be."""
        from hcl.tasks.tablefile import Table
        columns = self._columns(X, what, reset)
        names = list(self._names_in() or [f"x{j}" for j in range(len(columns))])
        given = getattr(y, "name", None)               # a pandas Series names its column
        label = next(n for n in (given, "label", "label_", "__label__") if isinstance(n, str) and n not in names)
        y = column_or_1d(y, warn=True)
        if len(y) != len(columns[0]):
            raise InputError(f"{what}: X has {len(columns[0])} rows but y has {len(y)} labels")
        if reset:
            check_classification_targets(y)
            self.classes_ = np.unique(y)
            self._class_names = [str(c) for c in self.classes_]
            if len(set(self._class_names)) < len(self._class_names):
                raise InputError(f"{what}: y holds labels that read the same as text ({self._class_names}); use "
                                 "labels of one type")
            if len(self.classes_) < 2:
                raise InputError(f"{what}: y has 1 class ({self._class_names[0]!r}); a classifier needs at least "
                                 "two")
        cells = np.array([str(v) for v in y.tolist()], dtype=str)
        return Table(what, names + [label], columns + [cells], {}, default_label=len(names), row_word="row",
                     first_row=0)

    def _columns(self, X, what: str, reset: bool) -> list[np.ndarray]:
        """X's columns as int64, float64 or str arrays (the types hcl.tasks.tablefile gives a CSV's columns):
        integers stay integers, floats floats, anything else is read as text (numbers in text become numbers)."""
        from hcl.tasks.tablefile import _parse_column
        # Shapes, sparse and complex input, feature names and counts: scikit-learn's checks and messages. Missing
        # values: below, naming the column and the row.
        arr = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False, ensure_min_samples=1)
        frame = X if hasattr(X, "columns") and hasattr(X, "iloc") else None
        out = []
        for j in range(arr.shape[1]):
            col = np.asarray(frame.iloc[:, j]) if frame is not None else arr[:, j]
            name = str(frame.columns[j]) if frame is not None else f"x{j}"
            if col.dtype.kind in "iu":
                out.append(col.astype(np.int64))
            elif col.dtype.kind == "f":
                bad = np.flatnonzero(~np.isfinite(col))
                if len(bad):
                    raise InputError(f"{what}: column {name!r}, row {bad[0]}: {col[bad[0]]} (NaN or inf); hcl does not "
                                     "impute: fill it first (e.g. sklearn.impute.SimpleImputer in a Pipeline)")
                out.append(col.astype(np.float64))
            else:                                    # bool, text, categories, objects: as a CSV file holds them
                values = col.tolist()
                bad = [i for i, v in enumerate(values) if v is None or (isinstance(v, float) and not math.isfinite(v))]
                if bad:
                    raise InputError(f"{what}: column {name!r}, row {bad[0]}: {values[bad[0]]} (a missing value, NaN "
                                     "or inf); hcl does not impute: fill it first")
                parsed, problem = _parse_column(name, tuple(v if isinstance(v, str) else str(v) for v in values), what)
                if problem is not None:              # a missing-value marker ("NA", "?") in a text column
                    raise InputError(re.sub(r", line (\d+):", lambda m: f", row {int(m.group(1)) - 2}:", problem))
                out.append(parsed)
        return out

    def _names_in(self) -> list[str] | None:
        names = getattr(self, "feature_names_in_", None)
        return None if names is None else [str(n) for n in names]

    # ---- the fitted network ----------------------------------------------------------------------------------------
    def _set_map(self, net) -> None:
        from hcl.emit import _encoder
        from hcl.tasks.columns import InputMap
        inputs = net.meta.get("inputs")
        self._input_map = InputMap.from_dict(inputs) if inputs is not None else None
        self._encoder = _encoder(net)

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self, "network_")
        except NotFittedError as e:
            raise NotFitted(str(e)) from None

    def input_words(self, X) -> np.ndarray:
        """The integer words [samples, features] the hardware reads for rows X (the input map fitted in fit)."""
        self._check_fitted()
        from hcl.emit import check_inputs
        with _as_value_errors():
            columns = self._columns(X, "X", reset=False)
            if self._input_map is None:            # a network of a built-in task: the rows are its raw words
                words = np.column_stack(columns)
            else:
                words = np.column_stack([m.apply(c, "X", lambda i: f"row {i}")
                                         for m, c in zip(self._input_map.columns, columns)])
            return check_inputs(words, self._encoder, "X")

    def _golden(self, X) -> tuple[np.ndarray, np.ndarray]:
        from hcl.emit import golden
        words = self.input_words(X)                      # checks that fit has run first
        return golden(self.network_, words)

    def decision_function(self, X) -> np.ndarray:
        """Class scores (popcounts of each class's output LUTs) [samples, classes]; for two classes, the score of
        classes_[1] minus that of classes_[0] (> 0: classes_[1]; a tie is classes_[0], as predict)."""
        _, scores = self._golden(X)
        return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

    def predict(self, X) -> np.ndarray:
        """The class of each row: the highest score, the lowest class index on a tie (the RTL's argmax)."""
        winner, _ = self._golden(X)
        return self.classes_[winner]

    # ---- hardware ----------------------------------------------------------------------------------------------------
    def to_vhdl(self, directory, X=None, *, registers: str = "none", family: str = "ultrascale",
                entity: str | None = None, max_vectors: int | None = None, vectors_extra: int = 0):
        """Write the design (hcl emit-vhdl): VHDL, manifest, golden test vectors of rows X (their input words);
        without X, up to 256 random input words chosen to exercise the truth tables. Returns hcl.design.Design."""
        from hcl.design import load_design
        from hcl.emit import emit
        self._check_fitted()
        if X is not None:
            words = self.input_words(X)
        else:
            rng = np.random.default_rng(int(self.random_state or 0))
            lo, hi = self._word_bounds()
            words, vectors_extra = rng.integers(lo, hi, endpoint=True)[None, :], vectors_extra or DEFAULT_VECTORS - 1
        emit(self.network_, directory, entity=entity, registers=registers, family=family, X=words,
             max_vectors=max_vectors, vectors_extra=vectors_extra)
        return load_design(directory)

    def _word_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        from hcl.emit import _word_bounds
        return _word_bounds(self._encoder)

    def _design_of_mine(self, directory) -> Path:
        from hcl.design import load_design
        from hcl.emit import network_sha256
        self._check_fitted()
        design = load_design(directory)
        if design.manifest.get("network_sha256") != network_sha256(self.network_):
            raise ConfigError(f"{directory}: emitted from another network than this estimator's: call "
                              f"to_vhdl({str(directory)!r}) first")
        return design.root

    def simulate(self, directory, budget_ns: float = 15.0, clock_ns: float | None = None):
        """Simulate the design in `directory` (hcl sim: cocotb + GHDL, every vector bit-exact). Returns
        hcl.simulate.SimResult (passed, vectors, mismatches, lines())."""
        from hcl.simulate import simulate
        return simulate(self._design_of_mine(directory), budget_ns=budget_ns, clock_ns=clock_ns)

    def verify(self, directory, timeout: float = 1800):
        """Prove the design in `directory` equal to network_ for every input (hcl verify). Returns
        hcl.verify.VerifyResult (proved, counterexample, lines())."""
        from hcl.verify import verify
        return verify(self._design_of_mine(directory), timeout=timeout)

    def synth(self, directory, target: str = "xilinx", family: str | None = None, timeout: float = 900,
              use_cache: bool = True) -> SynthResult:
        """Synthesize the design in `directory` (hcl synth: Yosys, nextpnr). Returns a SynthResult."""
        from hcl.synth import synth
        root = self._design_of_mine(directory)
        return SynthResult(root, target, synth(root, target, family=family, timeout=timeout, use_cache=use_cache))

    def save(self, path) -> None:
        """Write network_ as a network file (hcl info / emit-vhdl / predict read it; hcl.load reads it back)."""
        self._check_fitted()
        self.network_.save(path)


def load(path: str | os.PathLike) -> LUTClassifier:
    """A fitted LUTClassifier from a network file (hcl evolve's best.json, LUTClassifier.save) or a run folder
    (its best.json, and pareto/ as pareto_)."""
    from hcl import cost
    from hcl.network import Network
    path = Path(path)
    run = path.is_dir()
    net = Network.load(path / "best.json" if run else path)
    clf = LUTClassifier(random_state=int(net.meta.get("seed", 0)), k=net.k)
    saved = net.meta.get("estimator") or {}
    clf.classes_ = np.array(saved.get("classes", list(net.classes)))
    if len(clf.classes_) != net.n_classes:
        raise ConfigError(f"{path}: meta.estimator.classes has {len(clf.classes_)} entries, the network "
                          f"{net.n_classes} classes")
    clf.network_ = net
    clf.pareto_ = ([Network.load(p) for p in sorted((path / "pareto").glob("*.json"))] if run else []) or [net]
    clf.cost_ = cost.estimate(net)
    clf._set_map(net)
    clf.n_features_in_ = clf._encoder.n_features
    names = saved.get("feature_names_in") or (clf._input_map.names if clf._input_map is not None else None)
    if names is not None:
        clf.feature_names_in_ = np.array(names, dtype=object)
    return clf


def _pair(eval_set) -> tuple[Any, Any]:
    if isinstance(eval_set, list) and len(eval_set) == 1:       # xgboost's [(X_val, y_val)]
        eval_set = eval_set[0]
    if not isinstance(eval_set, tuple) or len(eval_set) != 2:
        raise InputError("eval_set: expected (X_val, y_val)")
    return eval_set


class _as_value_errors:
    """HclErrors of the data path (and scikit-learn's ValueErrors about X and y) as InputError: one line, a
    DataError for the CLI's handling, a ValueError for scikit-learn's."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if error is None or isinstance(error, (InputError, ParameterError)):
            return False
        if isinstance(error, ConfigError):
            raise ParameterError(str(error)) from None
        if isinstance(error, DataError) or (isinstance(error, ValueError) and not isinstance(error, HclError)):
            raise InputError(" ".join(str(error).split())) from None
        return False
