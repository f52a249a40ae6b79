"""Architecture search: NSGA-II over trained architectures, with multi-fidelity evaluation.

The genome is the hardware the gradients cannot choose: the hidden LUT layers (one or two, their sizes) and the
output LUTs per class. Each member is trained by the Numba trainer (hcl.train) and scored on two objectives,
accuracy on *rank rows* and total LUTs (hcl.cost of the trained, pruned network: encoder + network + output
logic). NSGA-II (Deb et al. 2002: non-dominated sorting, then crowding distance) orders them.

Splits. Rank rows are a seeded, stratified share (``RANK_SHARE``) of the training split held out of training for
the whole search: they rank members, so the validation split stays unseen until the run picks its final network
from the validation front (and the test split is only reported). A member's training never reads them (nor the
--augment copies made from them).

Fidelity: successive halving with promotion by NSGA-II order (as multi-objective ASHA: Schmucker et al.,
"Multi-objective Asynchronous Successive Halving", 2021), rule:

1. rung 0: ``arch_population`` architectures whose pre-training price spreads over [B/4, 1.4 B] (B = --max-luts;
   without one, the default start's size; a trained network reads fewer comparators than its probe, and its own
   cost decides), trained ``E / eta^R`` epochs from scratch, then ``arch_generations`` NSGA-II generations at
   rung 0: binary tournament on (dominance, crowding), one mutation of the genome, the child trained from scratch
   at rung 0, survivors by NSGA-II;
2. rung r -> r + 1 (r < R): the ``ceil(n / eta)`` best of rung r of at least B/4 LUTs by NSGA-II order (so the
   promoted set spreads over the LUT axis) continue training (Lamarckian: the float tables, first-layer mapping and
   Adam moments carry on; each rung runs its own learning-rate schedule) up to ``E / eta^(R - r - 1)`` epochs;
   a promoted member whose rank-row accuracy drops keeps its earlier snapshot (early stopping, rung by rung);
3. rung R (full fidelity, E epochs) members are the start population of the genetic loop that prunes and
   fine-tunes them (hcl.evolve.search), and enter the validation front.

``eta = 2`` and ``R = 2`` (12 members -> 6 -> 3 at full fidelity: a front, not one network); ``E`` is what 80 % of
the time budget affords at the trainer's measured speed (lamarck.STEP_COST; a count of work, not a
clock, so a seed gives the same run on any machine and executor), at least the default start's epochs.

Every member is checked against --max-luts / --max-depth after training (the learned mapping chooses its own
inputs, so the estimate before training is no bound); one over the limits is dropped.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace

import numpy as np
from deap import base, creator, tools

from hcl import augment, cost
from hcl.errors import ConfigError
from hcl.evaluate import accuracy
from hcl.evolve import lamarck
from hcl.evolve.jobs import tournament
from hcl.evolve.problem import within_limits
from hcl.network import Network
from hcl.splits import fitted_on
from hcl.train import TrainConfig, TrainableNetwork, train_network

ETA = 2
RUNGS = 2                      # R: rungs above rung 0
RANK_SHARE = 0.1               # of the training split, held out to rank members
MIN_RANK_ROWS = 50
SEARCH_SHARE = 0.8             # of --time-limit for the architecture search (the rest: the genetic loop)
MAX_HIDDEN_LAYERS = 2
# A trained network reads fewer comparators than the probe that prices it before training (its learned mapping
# repeats inputs; unread comparators cost nothing), so architectures priced up to this much over B are trained and
# kept if their trained cost fits (digits, B = 300: members priced at B trained to ~220-230 LUTs).
PROBE_SLACK = 1.4
_GROUPS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64)
_RATIOS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)      # hidden LUTs per output LUT

if not hasattr(creator, "HclArchFitness"):
    # Maximize rank-row accuracy, minimize LUTs. Created once, here only.
    creator.create("HclArchFitness", base.Fitness, weights=(1.0, -1.0))


@dataclass(frozen=True)
class Arch:
    hidden: tuple[int, ...]
    group: int

    def n_luts(self, n_classes: int) -> int:
        return lamarck.n_trained_luts(list(self.hidden), self.group, n_classes)


@dataclass
class Member:
    arch: Arch
    model: TrainableNetwork          # the float state, so a promoted member trains on
    epochs: float                    # trained so far
    net: Network                     # binarized, pruned, decorated
    rank_accuracy: float
    luts: int
    depth: int
    fitness: "creator.HclArchFitness" = None

    def __post_init__(self):
        self.fitness = creator.HclArchFitness()
        self.fitness.values = (self.rank_accuracy, float(self.luts))


@dataclass
class TrainTask:
    """One member's training, self-contained so that any executor can run it: the result depends on the task
    and the data alone."""
    arch: Arch
    model: TrainableNetwork | None   # None: from scratch
    seed: int
    epochs: float                    # to add
    k: int
    n_inputs: int
    n_classes: int
    train: TrainConfig


def run_task(rows: np.ndarray, labels: np.ndarray, task: TrainTask) -> TrainableNetwork:
    rng = np.random.default_rng(task.seed)
    # A copy: the member being continued keeps its own state (early stopping may return to it), on every executor
    # alike -- a Dask worker trains a copy anyway.
    model = copy.deepcopy(task.model)
    if model is None:
        model = TrainableNetwork.random(rng, task.k, task.n_inputs, list(task.arch.hidden), task.arch.group,
                                        task.n_classes)
    train_network(model, rows, labels, replace(task.train, epochs=task.epochs), rng)
    return model


# ---- the data the search reads ------------------------------------------------------------------------------------

class SearchData:
    """The training split cut in two, once: rows the members train on (with their --augment copies) and rank rows."""

    def __init__(self, problem):
        ds, config = problem.dataset, problem.config
        y = problem.labels["train"]
        fitted_on("the architecture search's rank rows and members", problem.train.split, y=y)
        rng = np.random.default_rng([config.seed, 0xA5C4])
        n_rank = max(MIN_RANK_ROWS, int(round(RANK_SHARE * len(y))))
        if n_rank >= len(y) // 2:
            raise ConfigError(f"--arch-search: the training split has {len(y)} rows; ranking members needs "
                              f"{n_rank} of them held out and at least as many to train on: drop --arch-search")
        # Stratified: each class gives its share of rank rows.
        rank = []
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            rank.append(rng.choice(idx, size=max(1, int(round(n_rank * len(idx) / len(y)))), replace=False))
        rank = np.sort(np.concatenate(rank))
        keep = np.ones(len(y), dtype=bool)
        keep[rank] = False
        rows, labels = problem.train.trainer_data
        fitted_on("the architecture search's members", problem.train.split, y=labels, copies=True)
        copies = len(labels) // len(y)                     # the split, then each --augment copy, in row order
        mask = np.tile(keep, copies)
        self.rows = np.ascontiguousarray(rows[mask])
        self.labels = np.ascontiguousarray(labels[mask])
        self.rank_index = rank
        self.rank_packed = problem.encoder.encode_packed(ds.X_train[rank])
        self.rank_labels = np.ascontiguousarray(y[rank], dtype=np.int64)
        self.n_train_rows = int(keep.sum())
        assert copies == 1 + (len(augment.SHIFTS) if problem.config.augment != "none" else 0)


# ---- genome -------------------------------------------------------------------------------------------------------

def probe_cost(problem, inputs: np.ndarray, arch: Arch) -> tuple[int, int]:
    """(LUTs, depth) of a network wired as the trainer wires `arch` (lamarck.sizing_probe)."""
    rng = np.random.default_rng([problem.config.seed, 0x70B0, *arch.hidden, arch.group])
    net = problem.decorate(lamarck.sizing_probe(rng, problem.config.k, inputs, problem.encoder.n_bits,
                                                list(arch.hidden), arch.group, problem.classes))
    c = cost.estimate(net)
    return c["luts"], c["depth"]


def budget(problem, inputs: np.ndarray) -> int:
    """B: --max-luts, or without one the size of the default trained start."""
    if problem.config.max_luts is not None:
        return problem.config.max_luts
    from hcl.evolve.start import trained_topologies
    hidden, group = trained_topologies(problem)[0]
    return probe_cost(problem, inputs, Arch(tuple(hidden), group))[0]


def probe_fits(problem, luts: int, depth: int, B: int) -> bool:
    """A probe's price within PROBE_SLACK * B and --max-depth: worth training (its trained cost decides)."""
    return luts <= PROBE_SLACK * B and (problem.config.max_depth is None or depth <= problem.config.max_depth)


def initial_archs(problem, rng: np.random.Generator, inputs: np.ndarray, B: int, n: int) -> list[Arch]:
    """`n` architectures whose probe sizes spread over [B/4, PROBE_SLACK * B]: the grid of output groups x hidden
    ratios (one hidden layer, and two with the second half the first) priced, then one drawn per equal-width band
    of size."""
    n_classes, k = len(problem.classes), problem.config.k
    grid = set()
    for g in _GROUPS:
        out = g * n_classes
        for r in _RATIOS:
            h = max(1, int(round(r * out)))
            if h > k * out * 2:
                continue
            grid.add(Arch((h,), g))
            if h >= 2 * k:
                grid.add(Arch((h, max(1, h // 2)), g))
    priced = []
    for arch in sorted(grid, key=lambda a: (a.hidden, a.group)):
        luts, depth = probe_cost(problem, inputs, arch)
        if B / 4 <= luts and probe_fits(problem, luts, depth, B):
            priced.append((luts, arch))
    if not priced:
        raise ConfigError(f"--arch-search: no architecture fits between {B // 4} and {B} LUTs with --max-depth "
                          f"{problem.config.max_depth}: raise --max-luts / --max-depth")
    priced.sort(key=lambda p: p[0])
    edges = np.linspace(B / 4, PROBE_SLACK * B, n + 1)
    chosen = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        band = [a for luts, a in priced if lo <= luts <= hi and a not in chosen]
        if band:
            chosen.append(band[int(rng.integers(len(band)))])
    rest = [a for _, a in priced if a not in chosen]
    while len(chosen) < n and rest:
        chosen.append(rest.pop(int(rng.integers(len(rest)))))
    return chosen


def mutate(rng: np.random.Generator, arch: Arch, k: int) -> Arch:
    """One change: the output group or a hidden layer scaled by a random factor, or a second hidden layer added or
    removed."""
    hidden, group = list(arch.hidden), arch.group
    move = rng.integers(4)
    if move == 0:
        group = max(1, int(round(group * rng.choice([0.6, 0.8, 1.25, 1.6]))) + int(rng.choice([-1, 0, 1])))
    elif move == 1:
        i = int(rng.integers(len(hidden)))
        hidden[i] = max(1, int(round(hidden[i] * rng.choice([0.6, 0.8, 1.25, 1.6]))))
    elif move == 2 and len(hidden) < MAX_HIDDEN_LAYERS and hidden[0] >= 2 * k:
        hidden.append(max(1, hidden[0] // 2))
    elif len(hidden) > 1:
        hidden.pop(int(rng.integers(len(hidden))))
    else:
        hidden[0] = max(1, int(round(hidden[0] * rng.choice([0.7, 1.4]))))
    return Arch(tuple(hidden), max(1, group))


# ---- the search ---------------------------------------------------------------------------------------------------

@dataclass
class Plan:
    """The fidelity schedule: epochs at each rung, full fidelity last."""
    full_epochs: float
    population: int
    generations: int

    def epochs(self, rung: int) -> float:
        return self.full_epochs / ETA ** (RUNGS - rung)


def plan(problem, data: SearchData, archs: list[Arch]) -> Plan:
    """E, the full-fidelity epochs: what SEARCH_SHARE of --time-limit affords at the trainer's measured speed for
    the whole schedule (rung-0 trainings, the promoted members' continuations), at least the default start's epochs;
    else --train-epochs, else the default start's epochs."""
    config = problem.config
    n_classes = len(problem.classes)
    pop, gens = config.arch_population, config.arch_generations
    if config.train_epochs is not None:
        return Plan(float(config.train_epochs), pop, gens)
    if config.time_limit is None:
        base = lamarck.start_config(config, len(data.labels), 0).epochs
        return Plan(float(base), pop, gens)
    # Work in member-epochs: rung 0 trains every member it sees E / ETA^R epochs, rung r the members promoted to it
    # from E / ETA^(R - r + 1) to E / ETA^(R - r) epochs. An epoch of the mean member costs steps x STEP_COST.
    n = [pop]                                   # promotion starts from the rung-0 population
    for _ in range(RUNGS):
        n.append(math.ceil(n[-1] / ETA))
    fractions = [pop * (1 + gens) / ETA ** RUNGS] + [n[r] * (ETA ** r - ETA ** (r - 1)) / ETA ** RUNGS
                                                    for r in range(1, RUNGS + 1)]
    step = float(np.mean([lamarck.step_seconds(problem.encoder.n_bits, list(a.hidden), a.n_luts(n_classes),
                                               config.train_batch) for a in archs]))
    per_epoch = max(1, len(data.labels) // config.train_batch)
    affordable = SEARCH_SHARE * config.time_limit / (step * per_epoch)
    full = min(lamarck.max_default_epochs(per_epoch), affordable / sum(fractions))
    # As a trained start: at least the default start's epochs (>= 4,000 steps: small data needs them).
    return Plan(max(full, float(lamarck.start_config(config, len(data.labels), 0).epochs)), pop, gens)


def _train_config(problem) -> TrainConfig:
    c = problem.config
    return TrainConfig(batch_size=c.train_batch, lr=c.train_lr).validate()


def _member(problem, data: SearchData, arch: Arch, model: TrainableNetwork, epochs: float) -> Member:
    net = problem.decorate(model.export(problem.classes))
    net, _ = net.pruned()
    c = cost.estimate(net)
    return Member(arch, model, epochs, net, accuracy(net, data.rank_packed, data.rank_labels), c["luts"], c["depth"])


def _train(problem, data: SearchData, executor, rng, jobs: list[tuple[Arch, Member | None, float]]) -> list[Member]:
    """Train each (arch, member to continue or None, epochs to reach) on the executor; seeds drawn here, in order."""
    config = problem.config
    base = _train_config(problem)
    tasks = []
    for arch, parent, target in jobs:
        done = parent.epochs if parent is not None else 0.0
        tasks.append(TrainTask(arch, None if parent is None else parent.model, int(rng.integers(2**63)),
                               target - done, config.k, problem.encoder.n_bits, len(problem.classes), base))
    models = executor.train(data.rows, data.labels, tasks)
    return [_member(problem, data, arch, model, target) for (arch, _, target), model in zip(jobs, models)]


def nsga2_order(members: list[Member]) -> list[Member]:
    """Members best first: by non-dominated front, then by crowding distance (DEAP's selNSGA2 of all of them)."""
    fronts = tools.sortNondominated(members, len(members))
    out = []
    for front in fronts:
        tools.emo.assignCrowdingDist(front)
        out += sorted(front, key=lambda m: m.fitness.crowding_dist, reverse=True)
    return out


def promote(members: list[Member], low: float) -> list[Member]:
    """The ceil(n / ETA) best by NSGA-II order among the members of at least `low` LUTs (B/4: the front a run
    returns spans [B/4, B]; all members when none is that large): the documented promotion rule."""
    pool = [m for m in members if m.luts >= low] or members
    return nsga2_order(pool)[:math.ceil(len(pool) / ETA)]


def search(problem, rng: np.random.Generator, executor, log=None) -> tuple[list[Member], dict]:
    """The architecture search; returns the full-fidelity members (best first by NSGA-II order) and a summary."""
    config = problem.config
    data = SearchData(problem)
    inputs = lamarck.informative_inputs(data.rows)
    B = budget(problem, inputs)
    archs = initial_archs(problem, rng, inputs, B, config.arch_population)
    schedule = plan(problem, data, archs)
    note = log or (lambda *_: None)

    def limit_ok(m: Member) -> bool:
        return within_limits(config, m)

    e0 = schedule.epochs(0)
    pop = [m for m in _train(problem, data, executor, rng, [(a, None, e0) for a in archs]) if limit_ok(m)]
    pop = tools.selNSGA2(pop, len(pop))                  # assigns the crowding distances the tournament reads
    seen = {m.arch for m in pop} | set(archs)
    trainings = {0: len(archs)}                          # per rung, members trained (over the limits included)
    note(f"arch search: B={B}, {len(archs)} architectures, E={schedule.full_epochs:.2f} epochs at full fidelity")
    for gen in range(schedule.generations):
        if len(pop) < 2:
            break
        children = []
        for _ in range(config.arch_population):
            for _attempt in range(20):
                child = mutate(rng, tournament(rng, pop).arch, config.k)
                if child in seen:
                    continue
                luts, depth = probe_cost(problem, inputs, child)
                if probe_fits(problem, luts, depth, B):
                    break
            else:
                continue
            seen.add(child)
            children.append(child)
        trained = [m for m in _train(problem, data, executor, rng, [(a, None, e0) for a in children]) if limit_ok(m)]
        trainings[0] += len(children)
        pop = tools.selNSGA2(pop + trained, config.arch_population) if trained else pop
        note(f"arch search: rung-0 generation {gen + 1}: {len(trained)} children, front "
             f"{_front_text(pop)}")
    if not pop:
        raise ConfigError(f"--arch-search: every trained architecture exceeds --max-luts {config.max_luts} / "
                          f"--max-depth {config.max_depth}: raise the limits")
    current = pop
    for r in range(1, RUNGS + 1):
        chosen = promote(current, B / 4)
        trained = _train(problem, data, executor, rng, [(m.arch, m, schedule.epochs(r)) for m in chosen])
        # Early stopping at rung granularity: a member that scores lower on the rank rows after training on keeps
        # its earlier snapshot (small data overfits: digits trains to ~0.98 with ~0.92 held out).
        promoted = [new if new.rank_accuracy >= old.rank_accuracy or not limit_ok(old) else old
                    for new, old in zip(trained, chosen)]
        current = [m for m in promoted if limit_ok(m)] or current
        trainings[r] = len(trained)
        note(f"arch search: rung {r} ({schedule.epochs(r):.2f} epochs): {_front_text(current)}")
    summary = {"budget_luts": B, "full_epochs": round(schedule.full_epochs, 4), "rank_rows": len(data.rank_labels),
               "members_per_rung": trainings,
               "members": [{"hidden": list(m.arch.hidden), "group": m.arch.group, "luts": m.luts,
                            "rank_accuracy": round(m.rank_accuracy, 6), "epochs": round(m.epochs, 4)}
                           for m in nsga2_order(current)]}
    return nsga2_order(current), summary


def _front_text(members: list[Member]) -> str:
    front = tools.sortNondominated(members, len(members), first_front_only=True)[0]
    return ", ".join(f"{m.luts}:{m.rank_accuracy:.4f}" for m in sorted(front, key=lambda m: m.luts))
