"""The start population: a trained network (--trainer efd) or grown / random ones, on the largest topology that
fits --max-luts / --max-depth."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from hcl import cost
from hcl.errors import ConfigError
from hcl.evolve import grow, lamarck, operators
from hcl.evolve.config import EvolveConfig
from hcl.evolve.fitness import Evaluated
from hcl.evolve.problem import Candidate, Problem, candidate, prune, within_budget, within_limits
from hcl.network import Network

def initial_population(problem: Problem, rng: np.random.Generator, executor=None) -> list[Candidate]:
    config = problem.config
    if config.trainer == "efd" and config.arch_search:
        return _searched_population(problem, rng, executor)
    if config.trainer == "efd":
        return _trained_population(problem, rng)
    options = starting_topologies(problem)
    pop = []
    for _ in range(config.population):
        # A member over the budget (fitting varies) is drawn again, then with the next smaller topology.
        for hidden, group in options:
            for attempt in range(_START_ATTEMPTS):
                cand = candidate(problem, prune(_fitted_start(problem, rng, hidden, group)))
                if within_limits(config, cand):
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
    """One network trained from scratch on the topology that fits the limits with the most network LUTs, and
    ``front_starts`` more at budgets spread evenly below --max-luts (each the largest topology that fits its
    budget), so that the front the run returns spans the budget with networks trained for their size -- pruning
    the start instead left them ~4 points under a dedicated run. The population is these, then copies of the start:
    children diversify them, each continuing its parent's training.

    The start plans its training on START_SHARE of --time-limit, the front starts all together on FRONT_SHARE
    (lamarck.start_config), each capped as the start is."""
    config = problem.config
    n_samples = problem.train.n_trainer_samples
    priced = _priced_topologies(problem)
    topologies = _within(problem, priced, config.max_luts)
    if not topologies:
        raise ConfigError(f"no topology fits --max-luts {config.max_luts} / --max-depth {config.max_depth}: "
                          "raise the limits (or give --layers / --group-size that fit)")
    start = _trained_start(problem, rng, config.max_luts, topologies,
                           lambda n_luts: lamarck.start_config(config, n_samples, n_luts))
    if start is None:
        raise ConfigError(f"the trained {topologies[0][2]} + {topologies[0][3]}/class network and the smaller ones "
                          f"tried need more than --max-luts {config.max_luts} / --max-depth {config.max_depth}: give "
                          "smaller --layers / --group-size or a larger budget")
    problem.note(f"trained start: {_shape(start)}, {start.luts} LUTs, train {start.accuracy:.4f}")
    members = [start]
    n = config.front_starts if config.max_luts is not None else 0
    budgets = [int(config.max_luts * i / (n + 1)) for i in range(n, 0, -1)]
    front = [(b, t) for b in budgets if b < start.luts and (t := _within(problem, priced, b))]
    if front:
        # one plan for all: the same epochs each, their LUTs summed (those of each budget's first-choice topology)
        total = sum(lamarck.n_trained_luts(t[0][2], t[0][3], len(problem.classes)) for _, t in front)
        plan = lamarck.start_config(config, n_samples, total, share=lamarck.FRONT_SHARE)
        for budget, tops in front:
            if _past_front_share(problem):
                problem.note(f"front starts: {_STARTS_SHARE:.0%} of --time-limit "
                             f"passed (a machine slower than the trainer's calibration): the ones within {budget} "
                             "LUTs and below are not trained")
                break
            cand = _trained_start(problem, rng, budget, tops, lambda _: plan)
            if cand is not None:
                members.append(cand)
                problem.note(f"front start within {budget} LUTs: {_shape(cand)}, {cand.luts} LUTs, train "
                             f"{cand.accuracy:.4f} ({plan.epochs:g} epochs)")
    members = members[:config.population]
    return members + [Candidate(start.ev, start.luts, start.depth, start.accuracy, val=start.val)
                      for _ in range(config.population - len(members))]


def _past_front_share(problem: Problem) -> bool:
    """The clock passed the start's and the front starts' shares of --time-limit (a machine slower or busier than
    the trainer's calibration): the front starts not yet trained are skipped, as the clock cuts the genetic loop."""
    left = _training_time_left(problem)
    return left is not None and left <= 0


# A training the clock would leave less than this share of --time-limit still gets it: a start must exist.
MIN_TRAINING_SHARE = 0.05
# The share of --time-limit by which the start and the front starts must be trained.
_STARTS_SHARE = lamarck.START_SHARE + lamarck.FRONT_SHARE


def _training_time_left(problem: Problem) -> float | None:
    """Seconds until the clock passes the start's and the front starts' shares of --time-limit (None without a
    limit). Their epochs are planned at the calibrated trainer speed, so the same seed trains the same networks; on a
    slower or busier machine the plan would overrun the limit (MNIST 1,000 on a loaded machine: 44 minutes for 30),
    so each training is also given this deadline, and its schedule follows the clock where the clock is ahead
    (hcl.train.model._clock_share)."""
    limit, t0 = problem.config.time_limit, problem.t_start
    if limit is None or t0 is None:
        return None
    return _STARTS_SHARE * limit - (time.monotonic() - t0)


def _shape(cand: Candidate) -> str:
    net = cand.ev.net
    return f"{net.layer_sizes[:-1]} + {net.layer_sizes[-1] / len(net.classes):g}/class"


def _priced_topologies(problem: Problem) -> list[tuple[int, int, int, list[int], int]]:
    """(estimated LUTs, depth, network LUTs, hidden, group) of every trained_topologies shape, priced by its sizing
    probe (lamarck.sizing_probe: every hidden LUT read, the first layer on the comparators that are neither almost
    always 0 nor almost always 1), the most network LUTs first (the smaller group on a tie). The probe is no bound --
    the learned mapping chooses its own comparators -- so _trained_start checks each trained network again."""
    config = problem.config
    probe_rng = np.random.default_rng([config.seed, 0x70B0])
    inputs = lamarck.informative_inputs(problem.train.rows)   # the start trains on these rows next
    priced = []
    for hidden, group in trained_topologies(problem):
        probe = problem.decorate(lamarck.sizing_probe(probe_rng, config.k, inputs, problem.encoder.n_bits, hidden,
                                                      group, problem.classes))
        c = cost.estimate(probe)
        priced.append((c["luts"], c["depth"], c["luts_network"], hidden, group))
    return sorted(priced, key=lambda p: (p[2], -p[4]), reverse=True)


def _within(problem: Problem, priced: list, budget: int | None) -> list[tuple[int, int, list[int], int]]:
    """(estimate, network LUTs, hidden, group) of the priced topologies that fit `budget` and --max-depth."""
    return [(luts, net_luts, hidden, group) for luts, depth, net_luts, hidden, group in priced
            if within_budget(problem.config, budget, luts, depth)]


def _trained_start(problem: Problem, rng: np.random.Generator, budget: int | None,
                   topologies: list[tuple[int, int, list[int], int]], plan) -> Candidate | None:
    """The first of `topologies` whose network, trained from scratch for `plan(LUTs)`, refitted and pruned, fits
    `budget` and --max-depth (None if _START_ATTEMPTS trained networks did not). After a trained network overshoots,
    topologies that would overshoot by the same ratio are skipped."""
    config = problem.config
    inflation, attempts = 1.0, 0
    for estimate, _, hidden, group in topologies:
        if budget is not None and estimate * inflation > budget:
            continue
        if attempts == _START_ATTEMPTS:
            break
        attempts += 1
        n_luts = lamarck.n_trained_luts(hidden, group, len(problem.classes))
        train = plan(n_luts)
        if (left := _training_time_left(problem)) is not None:
            train = replace(train, time_limit=max(left, MIN_TRAINING_SHARE * config.time_limit))
        net, log = lamarck.train_from_scratch(*problem.train.trainer_data, rng, config.k, problem.encoder.n_bits,
                                              hidden, group, problem.classes, train, split=problem.train.split)
        if log.cut_by_clock:
            problem.note(f"the clock cut the training of {hidden} + {group}/class at {log.epochs:.1f} of "
                         f"{train.epochs:g} epochs ({_STARTS_SHARE:.0%} of --time-limit: "
                         "this machine trains slower than the calibration the plan assumes)")
        ev = problem.train.full(problem.decorate(net))
        if config.refit in ("output-exact", "exact", "both"):
            ev = _refit_unless_overfitting(problem, ev)
        cand = candidate(problem, prune(ev))
        if within_budget(config, budget, cand.luts, cand.depth):
            return cand
        inflation = max(inflation, cand.luts / estimate)
    return None


def _searched_population(problem: Problem, rng: np.random.Generator, executor) -> list[Candidate]:
    """The full-fidelity members of the architecture search (evolve.archsearch), each refitted as a trained start
    is, the population filled by repeating them in NSGA-II order."""
    from hcl.evolve import archsearch
    from hcl.evolve.executors import LocalExecutor
    members, summary = archsearch.search(problem, rng, executor or LocalExecutor(), log=problem.note)
    problem.arch_summary = summary
    cands = []
    for m in members:
        ev = problem.train.full(m.net)
        if problem.config.refit in ("output-exact", "exact", "both"):
            ev = _refit_unless_overfitting(problem, ev)
        cand = candidate(problem, prune(ev))
        if within_limits(problem.config, cand):
            cands.append(cand)
    if not cands:
        raise ConfigError(f"--arch-search: no trained member fits --max-luts {problem.config.max_luts} / "
                          f"--max-depth {problem.config.max_depth}: raise the limits")
    n = problem.config.population
    repeats = [cands[i % len(cands)] for i in range(len(cands), n)]
    return cands[:n] + [Candidate(c.ev, c.luts, c.depth, c.accuracy, val=c.val) for c in repeats]


def _refit_unless_overfitting(problem: Problem, ev: Evaluated) -> Evaluated:
    """The trained output tables refitted to the training split's argmax, kept only if validation accuracy does not
    drop: it lifts an underfit start (sipm [72] + 8/class, seeds 0-2: val 0.914 -> 0.929) and costs an overfit one
    accuracy (MNIST [660] + 12/class, seeds 0-2: train +0.6 points, val -0.1..-0.3; results/ablation_tau.md)."""
    refit = problem.train.refit_outputs(ev)
    return refit if problem.accuracy(refit.net, "val") >= problem.accuracy(ev.net, "val") else ev


def _cost_of(net: Network) -> tuple[int, int]:
    c = cost.estimate(net)
    return c["luts"], c["depth"]


# Hidden LUTs per output LUT, at most, of a trained start's one hidden layer (K = 6 could read 6). MNIST, --max-luts
# 700 --threshold-bits 1, 30 min: the architecture search's pick [360] + 12/class (3 per output LUT) against the old
# rule's [439] + 8/class (5.5): validation 0.9609 / 0.9582 against 0.9563 / 0.9544 (seeds 1 / 2; test 0.9626 /
# 0.9619 against 0.9573 / 0.9605; benchmarks/results/archsearch.md). More output LUTs per class make a finer vote.
MAX_HIDDEN_PER_OUTPUT = 3


def trained_topologies(problem: Problem) -> list[tuple[list[int], int]]:
    """Topologies for a trained start, largest first: --layers / --group-size as given, else DWN-like shapes
    (one hidden layer of at most MAX_HIDDEN_PER_OUTPUT LUTs per output LUT, never more than K) shrunk in steps of
    half an output layer, so the start fills a --max-luts budget to within ~half an output layer."""
    config = problem.config
    n_classes = len(problem.classes)
    groups = [config.group_size] if config.group_size else [g for g in (50, 32, 24, 16, 12, 10, 8, 6, 4, 3, 2, 1)]
    options = []
    most = min(config.k, MAX_HIDDEN_PER_OUTPUT)
    ratios = [r / 2 for r in range(2 * most, 1, -1)]   # most, most - 1/2, ..., 1 hidden LUTs per output LUT
    for g in groups:
        if config.layers is not None:
            options.append((list(config.layers), g))
            continue
        out = g * n_classes
        top = min(2000, most * out)
        sizes = {top, min(1000, top)} | {int(round(r * out)) for r in ratios if r * out < top}
        options += [([max(1, hidden)], g) for hidden in sorted(sizes, reverse=True)]
    return options


def default_topology(config: EvolveConfig, n_classes: int) -> tuple[list[int], int]:
    """Output LUTs per class: 32 in all, at least 4 a class. Hidden LUTs: twice the output LUTs, and with many
    classes at least 3 per class pair (grown hidden LUTs each separate one pair; on digits, 135 hidden LUTs grown
    at 4 per class reached 0.89..0.94 test accuracy over 3 seeds, 90 at 6 per class 0.88..0.91)."""
    group = config.group_size or max(4, 32 // n_classes)
    n_pairs = n_classes * (n_classes - 1) // 2
    hidden = config.layers if config.layers is not None else [max(16, 2 * group * n_classes, 3 * n_pairs)]
    return [int(n) for n in hidden], int(group)


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
        if within_limits(config, candidate(problem, prune(_fitted_start(problem, probe, h, g)))):
            return ordered[i:]
    return ordered
