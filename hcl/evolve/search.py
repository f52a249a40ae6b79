"""The search loop: NSGA-II (Deb et al., IEEE TEC 6(2), 2002) over training accuracy and LUT count.

Each generation breeds ``offspring`` children from parents picked by binary tournament on (dominance, crowding
distance), evaluates them by delta evaluation (only the changed cone), refits the truth tables the operator asks
for, and keeps the best ``population`` of parents + children with DEAP's ``selNSGA2``. Model selection happens on
the validation split at the end; the test split is only reported.

Reproducibility: every random choice comes from one ``numpy.random.Generator`` seeded with ``config.seed``; its
state is saved in each checkpoint together with the population, so a resumed run continues exactly like an
uninterrupted one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
from deap import base, creator, tools

from hcl import augment, cost
from hcl.encode import Encoder
from hcl.errors import ConfigError
from hcl.evolve import grow, lamarck, operators
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


@dataclass
class EvolveResult:
    best: Network
    pareto: list[Network]
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float
    cost: dict
    log: list[dict]
    generations_done: int
    stopped: str                      # "completed", "time-limit", "interrupted"
    out: Path | None = None


@dataclass
class SearchState:
    """Everything a checkpoint holds: enough to continue the run bit for bit."""
    generation: int
    population: list[Candidate]
    rng: np.random.Generator
    log: list[dict]
    evaluations: int
    elapsed: float
    archive: list[tuple[Network, float, int]] = field(default_factory=list)   # see update_archive


class Problem:
    """The task's data, encoded once: packed splits and their labels."""

    def __init__(self, config: EvolveConfig, dataset: Dataset | None = None):
        self.config = config.validate()      # resolves the task's defaults (trainer, augment) too
        self.dataset = dataset or load_task(config.task, seed=config.seed, data=config.data, **config.task_options)
        ds = self.dataset
        self.bits = config.bits or ds.bits or DEFAULT_BITS
        names = ds.extra.get("feature_names")
        self.encoder = Encoder.fit(ds.X_train, bits=self.bits, method=config.encoder, categorical=ds.categorical,
                                   input_width=ds.input_width, signed=ds.signed,
                                   threshold_bits=_threshold_bits(config, ds), names=names,
                                   max_categories=ds.extra.get("max_categories", 32))
        self.warnings = list(ds.extra.get("warnings", ())) + _silent_features(self.encoder, ds, names)
        self.packed = {name: self.encoder.encode_packed(ds.split(name)[0]) for name in ("train", "val", "test")}
        self.labels = {name: np.asarray(ds.split(name)[1], dtype=np.int64) for name in ("train", "val", "test")}
        self.train = Evaluator(self.packed["train"], self.labels["train"], self._training_copies())
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
        return GrowSample(self.packed["train"], self.labels["train"], self.config.seed)

    def accuracy(self, net: Network, split: str) -> float:
        from hcl.evaluate import accuracy
        return accuracy(net, self.packed[split], self.labels[split])

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
            "the top bits of each word); try --threshold-bits 0 or more --bits"]


def default_topology(config: EvolveConfig, n_classes: int) -> tuple[list[int], int]:
    """Output LUTs per class: 32 in all, at least 4 a class. Hidden LUTs: twice the output LUTs, and with many
    classes at least 3 per class pair (grown hidden LUTs each separate one pair; on digits, 135 hidden LUTs grown
    at 4 per class reached 0.89..0.94 test accuracy over 3 seeds, 90 at 6 per class 0.88..0.91)."""
    group = config.group_size or max(4, 32 // n_classes)
    n_pairs = n_classes * (n_classes - 1) // 2
    hidden = config.layers if config.layers is not None else [max(16, 2 * group * n_classes, 3 * n_pairs)]
    return [int(n) for n in hidden], int(group)


def _candidate(problem: Problem, ev: Evaluated) -> Candidate:
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


def _within_limits(config: EvolveConfig, cand: Candidate) -> bool:
    return ((config.max_luts is None or cand.luts <= config.max_luts)
            and (config.max_depth is None or cand.depth <= config.max_depth))


def initial_population(problem: Problem, rng: np.random.Generator) -> list[Candidate]:
    config = problem.config
    if config.trainer == "efd":
        return _trained_population(problem, rng)
    options = starting_topologies(problem)
    pop = []
    for _ in range(config.population):
        # A member over the budget (fitting varies) is drawn again, then with the next smaller topology.
        for hidden, group in options:
            for attempt in range(_START_ATTEMPTS):
                cand = _candidate(problem, prune(_fitted_start(problem, rng, hidden, group)))
                if _within_limits(config, cand):
                    break
            else:
                continue
            break
        else:
            raise ConfigError(f"the starting topology {hidden} + {group}/class needs {cand.luts} LUTs and depth "
                              f"{cand.depth}, over --max-luts {config.max_luts} / --max-depth {config.max_depth}: "
                              "give smaller --layers / --group-size or a larger budget")
        pop.append(cand)
    return pop


_START_ATTEMPTS = 3


def _trained_population(problem: Problem, rng: np.random.Generator) -> list[Candidate]:
    """One network trained from scratch on the topology that fits the limits with the most network LUTs, the
    whole population starting from it: children diversify it, each continuing its parent's training.

    A topology fits by the estimate of a probe wired as the trainer wires (lamarck.sizing_probe: every hidden LUT
    read, the first layer on the comparators that are neither almost always 0 nor almost always 1). That is no
    bound -- the learned mapping chooses its own comparators -- so a trained network over the limits is dropped
    for the next topology, skipping those that would overshoot by the same ratio."""
    config = problem.config
    probe_rng = np.random.default_rng([config.seed, 0x70B0])
    inputs = lamarck.informative_inputs(problem.train.rows)   # the start trains on these rows next
    fitting = []
    for hidden, group in trained_topologies(problem):
        probe = problem.decorate(lamarck.sizing_probe(probe_rng, config.k, inputs, problem.encoder.n_bits, hidden,
                                                      group, problem.classes))
        c = cost.estimate(probe)
        if _within_limits(config, Candidate(None, c["luts"], c["depth"], 0.0)):
            fitting.append((c["luts_network"], -group, c["luts"], hidden, group))
    if not fitting:
        raise ConfigError(f"no topology fits --max-luts {config.max_luts} / --max-depth {config.max_depth}: "
                          "raise the limits (or give --layers / --group-size that fit)")
    fitting.sort(key=lambda f: (f[0], f[1]), reverse=True)
    # After a trained network overshoots, skip topologies that would overshoot by the same ratio.
    inflation, attempts = 1.0, 0
    for _, _, estimate, hidden, group in fitting:
        if config.max_luts is not None and estimate * inflation > config.max_luts:
            continue
        if attempts == _START_ATTEMPTS:
            break
        attempts += 1
        n_luts = sum(hidden) + group * len(problem.classes)
        net = lamarck.train_from_scratch(*problem.train.trainer_data, rng, config.k, problem.encoder.n_bits, hidden,
                                         group, problem.classes,
                                         lamarck.start_config(config, problem.train.n_trainer_samples, n_luts))
        ev = problem.train.full(problem.decorate(net))
        if config.refit in ("output-exact", "exact", "both"):
            ev = _refit_unless_overfitting(problem, ev)
        cand = _candidate(problem, prune(ev))
        if _within_limits(config, cand):
            return [cand] + [Candidate(cand.ev, cand.luts, cand.depth, cand.accuracy, val=cand.val)
                             for _ in range(config.population - 1)]
        inflation = max(inflation, cand.luts / estimate)
    raise ConfigError(f"the trained {hidden} + {group}/class network needs {cand.luts} LUTs / depth {cand.depth},"
                      f" over --max-luts {config.max_luts} / --max-depth {config.max_depth}: give smaller "
                      "--layers / --group-size or a larger budget")


def _refit_unless_overfitting(problem: Problem, ev: Evaluated) -> Evaluated:
    """The trained output tables refitted to the training split's argmax, kept only if validation accuracy does not
    drop: it lifts an underfit start (sipm [72] + 8/class, seeds 0-2: val 0.914 -> 0.929) and costs an overfit one
    accuracy (MNIST [660] + 12/class, seeds 0-2: train +0.6 points, val -0.1..-0.3; results/ablation_tau.md)."""
    refit = problem.train.refit_outputs(ev)
    return refit if problem.accuracy(refit.net, "val") >= problem.accuracy(ev.net, "val") else ev


def _cost_of(net: Network) -> tuple[int, int]:
    c = cost.estimate(net)
    return c["luts"], c["depth"]


def trained_topologies(problem: Problem) -> list[tuple[list[int], int]]:
    """Topologies for a trained start, largest first: --layers / --group-size as given, else DWN-like shapes
    (one hidden layer of 6 LUTs per output LUT at most: more would leave hidden LUTs unread) shrunk in steps of
    half an output layer, so the start fills a --max-luts budget to within ~half an output layer."""
    config = problem.config
    n_classes = len(problem.classes)
    groups = [config.group_size] if config.group_size else [g for g in (50, 32, 24, 16, 12, 10, 8, 6, 4, 3, 2, 1)]
    options = []
    ratios = [r / 2 for r in range(2 * config.k, 1, -1)]   # k, k - 1/2, ..., 1 hidden LUTs per output LUT
    for g in groups:
        if config.layers is not None:
            options.append((list(config.layers), g))
            continue
        out = g * n_classes
        top = min(2000, config.k * out)
        sizes = {top, min(1000, top)} | {int(round(r * out)) for r in ratios if r * out < top}
        options += [([max(1, hidden)], g) for hidden in sorted(sizes, reverse=True)]
    return options


def _fitted_start(problem: Problem, rng: np.random.Generator, hidden: list[int], group: int) -> Evaluated:
    config = problem.config
    if config.start == "grow":
        return _grown_start(problem, rng, hidden, group)
    net = problem.decorate(operators.random_network_for(rng, config.k, problem.encoder.n_bits, hidden, group,
                                                        problem.classes))
    if config.refit in ("vote", "output-exact"):
        return problem.train.fit_layerwise(net, exact_outputs=config.refit == "output-exact")
    ev = problem.train.full(net)
    if config.refit == "none":
        return ev
    # Fit the output layer to the random hidden features, then every LUT in order: a greedy start.
    last = net.n_luts - net.layer_sizes[-1]
    for lut in list(range(last, net.n_luts)) + list(range(net.n_luts)):
        ev = problem.train.refit(ev, lut, config.refit)
    return ev


def _grown_start(problem: Problem, rng: np.random.Generator, hidden: list[int], group: int) -> Evaluated:
    """A network grown greedily from the data (evolve.grow); then, as the refit mode asks, one sweep of exact
    refits over the output LUTs (the grown tables are votes; the sweep fits them to the argmax)."""
    config = problem.config
    net = problem.decorate(grow.grow_network(rng, problem.train.packed, problem.train.labels, config.k, hidden,
                                             group, problem.classes))
    ev = problem.train.full(net)
    return problem.train.refit_outputs(ev) if config.refit in ("output-exact", "exact", "both") else ev


def starting_topologies(problem: Problem) -> list[tuple[list[int], int]]:
    """Topologies to start from, largest first: the default one, or, when the user left --layers / --group-size
    open under --max-luts / --max-depth, the default shrunk until it fits (hidden layer scaled down, fewer output
    LUTs per class, no hidden layer), starting at the largest whose fitted probe network fits. Probes draw from
    their own seeded generator, so the search's random stream does not depend on them."""
    config = problem.config
    hidden, group = default_topology(config, len(problem.classes))
    if (config.max_luts is None and config.max_depth is None) or (config.layers is not None
                                                                   and config.group_size is not None):
        return [(hidden, group)]
    groups = [group] if config.group_size is not None else list(range(group, 0, -1))
    if config.layers is not None:
        layer_options = [hidden]
    else:
        layer_options = [[max(1, round(hidden[0] * f))] for f in (1, 0.75, 0.5, 0.375, 0.25, 0.125)] + [[]]
    options = {(tuple(h), g) for h in layer_options for g in groups}
    # Largest first by the unfitted estimate (an upper bound: fitting only removes dependencies and LUTs).
    probe = np.random.default_rng([config.seed, 0x70B0])
    sized = []
    for h, g in sorted(options):
        net = problem.decorate(operators.random_network_for(probe, config.k, problem.encoder.n_bits, list(h), g,
                                                            problem.classes))
        sized.append((cost.estimate(net)["luts"], len(h), g, h))
    ordered = [(list(h), g) for _, _, g, h in sorted(sized, reverse=True)]
    for i, (h, g) in enumerate(ordered):
        if _within_limits(config, _candidate(problem, prune(_fitted_start(problem, probe, h, g)))):
            return ordered[i:]
    return ordered


def _tournament(rng: np.random.Generator, pop: list[Candidate]) -> Candidate:
    i, j = rng.integers(len(pop), size=2)
    a, b = pop[i], pop[j]
    if a.fitness.dominates(b.fitness):
        return a
    if b.fitness.dominates(a.fitness):
        return b
    return a if getattr(a.fitness, "crowding_dist", 0) >= getattr(b.fitness, "crowding_dist", 0) else b


OPERATOR_WEIGHTS = {"rewire": 0.3, "regrow": 0.2, "crossover": 0.15, "refit": 0.1, "flip": 0.05,
                    "remove_lut": 0.06, "add_lut": 0.06, "shrink_group": 0.04, "grow_group": 0.04}
TOPOLOGY_OPERATORS = {"remove_lut": operators.remove_lut, "add_lut": operators.add_lut,
                      "shrink_group": operators.shrink_group, "grow_group": operators.grow_group}


@dataclass
class Job:
    """One child to evaluate: the parent it was derived from, what changed, and which tables to refit."""
    parent: Candidate
    child: Network
    changed: np.ndarray | None        # bool per LUT, or None when the topology changed (full evaluation)
    refit: list[int]
    seed: int | None = None           # the child's training seed (--trainer efd), drawn by the proposer


def propose(problem: Problem, rng: np.random.Generator, pop: list[Candidate]) -> Job:
    """Pick an operator and parent(s) and derive a child genome. All of a generation's randomness is here."""
    weights = problem.config.operators or OPERATOR_WEIGHTS
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=float)
    op = names[int(rng.choice(len(names), p=p / p.sum()))]
    parent = _tournament(rng, pop)
    if op == "crossover":
        other = _tournament(rng, pop)
        child, changed, refit = operators.lut_crossover(rng, parent.ev.net, other.ev.net)
    elif op == "rewire":
        child, changed, refit = operators.rewire(rng, parent.ev.net)
    elif op == "regrow":
        child, changed, refit = grow.regrow(rng, parent.ev.net, problem.grow_sample)
    elif op == "refit":
        child, changed, refit = operators.refit_random(rng, parent.ev.net)
    elif op in TOPOLOGY_OPERATORS:
        child, changed, refit = TOPOLOGY_OPERATORS[op](rng, parent.ev.net)
    else:
        child, changed, refit = operators.flip_table_bits(rng, parent.ev.net)
    seed = int(rng.integers(2**63)) if problem.tuning is not None else None
    return Job(parent, child, changed, refit, seed)


def evaluate_job(evaluator: Evaluator, job: Job, refit_mode: str, tuning=None) -> Evaluated:
    """Evaluate a child by delta from its parent's cached signals (or, with `tuning`, train it on from its
    parent's tables first: evolve.lamarck), refit the tables asked for, drop dead LUTs."""
    if tuning is not None and job.seed is not None:
        ev = evaluator.full(lamarck.continue_training(*evaluator.trainer_data, job.child, job.seed, tuning))
    elif job.changed is None or job.parent.ev.sig is None:
        ev = evaluator.full(job.child)
    elif job.changed.any():
        ev = evaluator.delta(job.parent.ev, job.child, job.changed)
    else:
        ev = Evaluated(job.child, job.parent.ev.sig, job.parent.ev.correct, job.parent.ev.scores)
    for lut in job.refit if refit_mode != "none" else ():
        ev = evaluator.refit(ev, lut, refit_mode)
    return prune(ev)


class LocalExecutor:
    """Evaluates children in this process, each by delta evaluation from its parent."""

    def evaluate(self, problem: Problem, jobs: list[Job]) -> list[Evaluated]:
        return [evaluate_job(problem.train, job, problem.config.refit, problem.tuning) for job in jobs]

    def close(self) -> None:
        pass


def generation_row(problem: Problem, state: SearchState, start_evals: int, t0: float,
                   t_loop: float | None = None) -> dict:
    best = max(state.population, key=lambda c: (c.fitness.values[0], -c.luts))
    elapsed = state.elapsed + (time.perf_counter() - t0)
    return {
        "generation": state.generation,
        "evaluations": state.evaluations,
        "best_train_accuracy": round(float(best.ev.accuracy), 6),
        "best_val_accuracy": round(validation_accuracy(problem, best), 6),
        "best_luts": best.luts,
        "best_depth": best.depth,
        "min_luts": min(c.luts for c in state.population),
        "elapsed_s": round(elapsed, 3),
        "evals_per_s": round((state.evaluations - start_evals)
                             / max(1e-9, time.perf_counter() - (t0 if t_loop is None else t_loop)), 1),
    }


_PROPOSALS_PER_CHILD = 20


def run_search(problem: Problem, state: SearchState | None = None,
               on_generation: Callable[[SearchState, dict], None] | None = None,
               should_stop: Callable[[SearchState], str | None] | None = None,
               executor=None) -> tuple[SearchState, str]:
    """Run generations until `config.generations` are done or `should_stop` says why to stop.

    The executor evaluates each batch of proposed children (`evaluate(problem, jobs) -> [Evaluated]`); proposals
    are made here, from the one RNG, so the result does not depend on which executor evaluated them."""
    config = problem.config
    executor = executor or LocalExecutor()
    t0 = time.perf_counter()
    if state is None:
        rng = np.random.default_rng(config.seed)
        pop = initial_population(problem, rng)
        # The start (a grown MNIST population takes minutes) counts in the run's elapsed time.
        state = SearchState(0, tools.selNSGA2(pop, len(pop)), rng, [], problem.train.evaluations, 0.0)
        state.archive = update_archive(problem, [], state.population)
    start_evals = state.evaluations
    t_loop = time.perf_counter()
    problem.train.evaluations = state.evaluations
    n_children = config.offspring or config.population
    stopped = "completed"
    while state.generation < config.generations:
        reason = should_stop(state) if should_stop else None
        if reason:
            stopped = reason
            break
        children, proposed = [], 0
        # Children over the limits are proposed again, up to _PROPOSALS_PER_CHILD each: a population at the edge
        # of a tight budget may have no child that fits, and the generation then keeps the parents.
        while len(children) < n_children and proposed < _PROPOSALS_PER_CHILD * n_children:
            jobs = [propose(problem, state.rng, state.population) for _ in range(n_children - len(children))]
            proposed += len(jobs)
            for ev in executor.evaluate(problem, jobs):
                cand = _candidate(problem, ev)
                if _within_limits(config, cand):
                    children.append(cand)
        state.population = tools.selNSGA2(state.population + children, config.population)
        state.archive = update_archive(problem, state.archive, state.population)
        state.generation += 1
        state.evaluations = problem.train.evaluations
        row = generation_row(problem, state, start_evals, t0, t_loop)
        state.log.append(row)
        if on_generation:
            on_generation(state, row)
    state.elapsed += time.perf_counter() - t0
    return state, stopped


def update_archive(problem: Problem, archive: list[tuple[Network, float, int]],
                   population: list[Candidate]) -> list[tuple[Network, float, int]]:
    """The networks non-dominated in (validation accuracy up, LUTs down) among all the populations seen so far.

    Selection in the loop is on training accuracy; on small data that saturates (digits: ~0.99 from the start),
    and the search then trades generalization for LUTs unseen. Keeping every generation's validation front is
    early stopping, point by point of the trade-off: the run's result is chosen from it on the validation split."""
    entries = list(archive) + [(c.ev.net, validation_accuracy(problem, c), c.luts) for c in population]
    return _non_dominated(entries)


def _non_dominated(entries: list[tuple[Network, float, int]]) -> list[tuple[Network, float, int]]:
    """(network, val, LUTs) non-dominated, fewest LUTs first; of equal (val, LUTs) the first seen is kept."""
    unique = {}
    for net, val, luts in entries:
        unique.setdefault((luts, round(val, 9)), (net, val, luts))
    # Fewest LUTs first (the most accurate first among equal LUTs): a point is on the front when it beats every
    # point before it on validation accuracy. One sort per generation, not a comparison of every pair.
    front, best = [], -1.0
    for entry in sorted(unique.values(), key=lambda e: (e[2], -e[1])):
        if entry[1] > best:
            front.append(entry)
            best = entry[1]
    return front


def pareto_front(problem: Problem, population: list[Candidate],
                 archive: list[tuple[Network, float, int]] = ()) -> list[tuple[Network, float, int]]:
    """Non-dominated (validation accuracy up, LUTs down) networks of the population and the archive, fewest LUTs
    first; duplicates removed."""
    return update_archive(problem, list(archive), population)
