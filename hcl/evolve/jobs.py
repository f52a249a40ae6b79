"""A child to evaluate: proposed from the population by one RNG (all of a generation's randomness), then evaluated
by whichever executor runs it (evaluate_job), with the same result everywhere."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hcl.evolve import grow, lamarck, operators
from hcl.evolve.config import OPERATOR_WEIGHTS
from hcl.evolve.fitness import Evaluated, Evaluator
from hcl.evolve.problem import Candidate, Problem, prune
from hcl.network import Network


def tournament(rng: np.random.Generator, pop: list):
    """Binary tournament on (dominance, crowding distance) over anything with a DEAP ``fitness``: the genetic
    loop's candidates and the architecture search's members alike."""
    i, j = rng.integers(len(pop), size=2)
    a, b = pop[i], pop[j]
    if a.fitness.dominates(b.fitness):
        return a
    if b.fitness.dominates(a.fitness):
        return b
    return a if getattr(a.fitness, "crowding_dist", 0) >= getattr(b.fitness, "crowding_dist", 0) else b


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
    parent = tournament(rng, pop)
    if op == "crossover":
        other = tournament(rng, pop)
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
        ev = evaluator.full(lamarck.continue_training(*evaluator.trainer_data, job.child, job.seed, tuning,
                                                      split=evaluator.split))
    elif job.changed is None or job.parent.ev.sig is None:
        ev = evaluator.full(job.child)
    elif job.changed.any():
        ev = evaluator.delta(job.parent.ev, job.child, job.changed)
    else:
        ev = Evaluated(job.child, job.parent.ev.sig, job.parent.ev.correct, job.parent.ev.scores)
    for lut in job.refit if refit_mode != "none" else ():
        ev = evaluator.refit(ev, lut, refit_mode)
    return prune(ev)
