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
from pathlib import Path
from typing import Callable

import numpy as np
from deap import tools

from hcl.evolve.executors import LocalExecutor
from hcl.evolve.jobs import propose
from hcl.evolve.problem import Candidate, Problem, candidate, validation_accuracy, within_limits
from hcl.evolve.start import initial_population
from hcl.network import Network

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
        pop = initial_population(problem, rng, executor)
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
                cand = candidate(problem, ev)
                if within_limits(config, cand):
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
