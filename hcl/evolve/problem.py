"""The problem a run solves and its members: the task's data encoded once, and a candidate network priced by
hcl.cost (LUTs, depth) and scored for NSGA-II."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from deap import base, creator

from hcl import augment, cost, splits
from hcl.encode import Encoder
from hcl.errors import ConfigError
from hcl.evolve import lamarck
from hcl.evolve.config import DEFAULT_BITS, EvolveConfig
from hcl.evolve.fitness import Evaluated, Evaluator
from hcl.evolve.grow import GrowSample
from hcl.network import Network
from hcl.tasks import Dataset, load_task

if not hasattr(creator, "HclFitness"):
    # Maximize training accuracy, minimize LUTs. Created once, here only.
    creator.create("HclFitness", base.Fitness, weights=(1.0, -1.0))


@dataclass
class Candidate:
    ev: Evaluated
    luts: int
    depth: int
    accuracy: float                   # the selection objective: training or validation accuracy
    fitness: "creator.HclFitness" = field(default_factory=lambda: creator.HclFitness())
    val: float | None = None          # validation accuracy, once computed (see validation_accuracy)

    def __post_init__(self):
        self.fitness.values = (self.accuracy, float(self.luts))


class Problem:
    """The task's data, encoded once: packed splits and their labels. Everything fitted -- the input map (a
    ``--task file``'s), the encoder, the search's evaluator, whose rows the trainer, refits and regrow read -- is
    fitted on the training split, each piece checked by hcl.splits; ``fitted_on`` records it."""

    def __init__(self, config: EvolveConfig, dataset: Dataset | None = None):
        self.config = config.validate()      # resolves the task's defaults (trainer, augment) too
        self.dataset = dataset or load_task(config.task, seed=config.seed, data=config.data, **config.task_options)
        ds = self.dataset
        self.bits = config.bits or ds.bits or DEFAULT_BITS
        names = ds.extra.get("feature_names")
        train = ds.identity("train")
        self.encoder = Encoder.fit(ds.X_train, bits=self.bits, method=config.encoder, categorical=ds.categorical,
                                   input_width=ds.input_width, signed=ds.signed,
                                   threshold_bits=_threshold_bits(config, ds), names=names,
                                   max_categories=ds.extra.get("max_categories", 32), split=train)
        self.warnings = list(ds.extra.get("warnings", ())) + _silent_features(self.encoder, ds, names)
        self.notes: list[str] = []
        self.verbose = False
        self.arch_summary: dict | None = None           # set by the architecture search (evolve.archsearch)
        self.t_start: float | None = None               # time.monotonic() at the run's start (set by evolve.run)
        self.packed = {name: self.encoder.encode_packed(ds.split(name)[0]) for name in ("train", "val", "test")}
        self.labels = {name: np.asarray(ds.split(name)[1], dtype=np.int64) for name in ("train", "val", "test")}
        self.train = Evaluator(self.packed["train"], self.labels["train"], self._training_copies(), split=train)
        self.fitted_on = splits.record({**ds.extra.get("fitted_on", {}), "encoder": self.encoder.fitted_on,
                                        "search evaluator (trainer, refits, regrow)": self.train.split}, train)
        self.classes = list(ds.classes)
        self.tuning = (lamarck.tune_config(config, self.train.n_trainer_samples) if config.trainer == "efd"
                       else None)

    def _training_copies(self) -> tuple[np.ndarray, np.ndarray] | None:
        """--augment's extra training samples for the trainer, encoded as the training split is."""
        if self.config.augment == "none":
            return None
        ds = self.dataset
        shape = ds.extra.get("image_shape")
        if shape is None or ds.extra.get("segmentation"):
            raise ConfigError(f"--augment {self.config.augment}: task {ds.name!r} is not a set of images (its data "
                              "declares no image shape); drop --augment")
        X = augment.shifted_copies(ds.X_train, shape)
        return self.encoder.encode_packed(X), np.tile(self.labels["train"], len(augment.SHIFTS))

    @cached_property
    def grow_sample(self) -> GrowSample:
        """Built on the first regrow (a run without one never unpacks the training split for it)."""
        return GrowSample(self.packed["train"], self.labels["train"], self.config.seed, split=self.train.split)

    def accuracy(self, net: Network, split: str) -> float:
        from hcl.evaluate import accuracy
        return accuracy(net, self.packed[split], self.labels[split])

    def note(self, message: str) -> None:
        """A line of the run's story (the architecture search's rungs): kept for run.json, shown unless quiet."""
        self.notes.append(message)
        if self.verbose:
            print(message, file=sys.stderr, flush=True)

    def decorate(self, net: Network) -> Network:
        net.task = self.config.task if self.config.task != "file" else "file"
        net.encoder = self.encoder.to_dict()
        return net


def _threshold_bits(config: EvolveConfig, ds: Dataset) -> int | None:
    """Rounding applies to integer inputs (each word wider than the requested bits: the encoder decides per
    feature; narrower words compare exactly anyway)."""
    if config.threshold_bits == 0 or ds.input_width is None:
        return None
    return config.threshold_bits


def _silent_features(encoder: Encoder, ds: Dataset, names) -> list[str]:
    """A warning for the features that vary in the training data but got no comparator (e.g. their thresholds
    rounded away by --threshold-bits): the network cannot see them. One line, however many there are."""
    X = ds.X_train
    seen = set(encoder.features.tolist())
    silent = [f for f in range(encoder.n_features) if f not in seen and X[:, f].min() != X[:, f].max()]
    if not silent:
        return []
    shown = ", ".join(repr(names[f]) if names is not None else str(f) for f in silent[:8])
    more = f" and {len(silent) - 8} more" if len(silent) > 8 else ""
    one = len(silent) == 1
    what = "feature" if one else f"{len(silent)} features"
    return [f"{what} {shown}{more} {'varies' if one else 'vary'} in the training data but {'has' if one else 'have'} "
            f"no comparator: {'its' if one else 'their'} thresholds rounded away by --threshold-bits (which keeps "
            "the top bits of each word: values all below the lowest threshold it allows); try --threshold-bits 0 "
            "or a larger one"]


def candidate(problem: Problem, ev: Evaluated) -> Candidate:
    c = cost.estimate(ev.net)
    val = problem.accuracy(ev.net, "val") if problem.config.select_on == "val" else None
    return Candidate(ev, c["luts"], c["depth"], ev.accuracy if val is None else val, val=val)


def validation_accuracy(problem: Problem, cand: Candidate) -> float:
    if cand.val is None:
        cand.val = problem.accuracy(cand.ev.net, "val")
    return cand.val


def prune(ev: Evaluated) -> Evaluated:
    """Drop dead LUTs (outside every output's cone), keeping the matching signal rows."""
    net, kept = ev.net.pruned()
    if net is ev.net:
        return ev
    n_in = net.n_inputs
    rows = np.concatenate([np.arange(n_in), n_in + kept])
    return Evaluated(net, np.ascontiguousarray(ev.sig[rows]), ev.correct, ev.scores)


def within_limits(config: EvolveConfig, cand: Candidate) -> bool:
    return within_budget(config, config.max_luts, cand.luts, cand.depth)


def within_budget(config: EvolveConfig, budget: int | None, luts: int, depth: int) -> bool:
    """`luts` within `budget` (None: no bound) and `depth` within --max-depth."""
    return (budget is None or luts <= budget) and (config.max_depth is None or depth <= config.max_depth)
