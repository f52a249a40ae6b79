"""Sample-shard evaluation: each worker holds a slice of the packed training words, the driver sums counts.

Every statistic a table refit decides on is an integer count over samples (the vote's per-address class counts,
the exact refit's per-address gain in correct samples), so a shard of the data computes its part and the driver
adds them up, decides the new table exactly as ``Evaluator.refit`` does (``vote_decision``, ``best_table``) and sends
the decision back. A batch of children advances in lockstep rounds: round r carries, for every child, the table
decided in round r-1 and the request for its next statistic, so a generation costs 1 + (refit steps of its longest
child) round trips whatever the number of children or shards. The last round returns each shard's per-sample
correctness (bit-packed), which the driver concatenates in shard order.

The result is the local executor's, bit for bit: shards evaluate each child in full from its genome (they hold no
parent signals) and every refit statistic reads only real samples (padding bits of a shard's last word are cut by
its own sample count). Evaluations are counted on the driver with the local path's rules.
"""

from __future__ import annotations

import numpy as np

from hcl.evolve.fitness import Evaluated, Evaluator, best_table, locate, target_class, vote_decision
from hcl.evolve.jobs import Job
from hcl.network import Network

WORD = 64


def split_words(n_words: int, n_shards: int) -> list[tuple[int, int]]:
    """Contiguous word ranges [a, b), as equal as possible; never more shards than words."""
    n_shards = max(1, min(n_shards, n_words))
    edges = [round(i * n_words / n_shards) for i in range(n_shards + 1)]
    return [(edges[i], edges[i + 1]) for i in range(n_shards)]


def shard_data(packed: np.ndarray, labels: np.ndarray, words: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Shard `words` of the packed inputs [n_bits, n_words] with the labels of the samples in those words."""
    a, b = words
    return np.ascontiguousarray(packed[:, a:b]), np.ascontiguousarray(labels[a * WORD: b * WORD])


def refit_steps(net: Network, refit: list[int], mode: str) -> list[tuple[int, str]]:
    """The refits `Evaluator.refit(ev, lut, mode)` performs for each LUT of `refit`, as (lut, "vote" | "exact")."""
    if mode == "none":
        return []
    group_of = net.flat()[2]
    steps = []
    for lut in refit:
        if mode == "vote" or (mode == "output-exact" and group_of[lut] < 0):
            steps.append((lut, "vote"))
        elif mode == "exact":
            steps.append((lut, "exact"))
        else:                                  # both; output-exact on an output LUT
            steps += [(lut, "vote"), (lut, "exact")]
    return steps


class Shard:
    """Worker side: one shard of the training data and the batch of children being evaluated on it.

    ``step(ops)`` takes one op per child, ``(child_id, network | None, (lut, table) | None, (lut, kind) | None)``:
    a network starts the child (full evaluation); a (lut, table) applies the driver's last decision; a (lut, kind)
    asks for the next statistic, and None in its place finishes the child, returning its packed correctness."""

    def __init__(self, packed: np.ndarray, labels: np.ndarray):
        self.evaluator = Evaluator(packed, labels)
        self.children: dict[int, Evaluated] = {}

    @property
    def n_samples(self) -> int:
        return self.evaluator.n_samples

    def step(self, ops: list[tuple]) -> list[np.ndarray]:
        if ops and ops[0][1] is not None:      # the first round of a new batch
            self.children = {}
        out = []
        for child_id, net, apply, stat in ops:
            ev = self.evaluator.full(net) if net is not None else self.children[child_id]
            if apply is not None:
                ev = self.evaluator.with_table(ev, *apply)
            if stat is None:
                self.children.pop(child_id, None)
                out.append(np.packbits(ev.correct, bitorder="little"))
                continue
            self.children[child_id] = ev
            lut, kind = stat
            out.append(self.evaluator.vote_statistic(ev, lut) if kind == "vote"
                       else self.evaluator.exact_statistic(ev, lut))
        return out


def evaluate_sharded(jobs: list[Job], refit_mode: str, run_round, shard_sizes: list[int]) -> tuple[list[Evaluated], int]:
    """Evaluate `jobs` on shards. `run_round(ops)` sends the ops to every shard and returns their answers, one list
    per shard in shard order; `shard_sizes` are the shards' sample counts. Returns the evaluated, pruned children
    (without signals) and the number of evaluations the local path would have counted."""
    nets = [job.child.copy() for job in jobs]
    steps = [refit_steps(job.child, job.refit, refit_mode) for job in jobs]
    done = [0] * len(jobs)
    correct: list[np.ndarray | None] = [None] * len(jobs)
    evaluations = sum(1 for job in jobs if job.changed is None or bool(job.changed.any()))
    ops = [(i, job.child, None, steps[i][0] if steps[i] else None) for i, job in enumerate(jobs)]
    while ops:
        answers = run_round(ops)
        following = []
        for j, (i, _, _, stat) in enumerate(ops):
            parts = [answer[j] for answer in answers]
            if stat is None:
                correct[i] = np.concatenate([np.unpackbits(p, count=n, bitorder="little").astype(bool)
                                             for p, n in zip(parts, shard_sizes)])
                continue
            lut, kind = stat
            net = nets[i]
            total = sum(parts[1:], parts[0])
            old = int(net.flat()[1][lut])
            target = target_class(net, lut)
            if kind == "vote":
                new = vote_decision(total, target)
            else:
                new = best_table(total, old)
                evaluations += 2 if target is None else 0
            apply = None
            if new != old:
                layer, index = locate(net, lut)
                net.tables[layer][index] = np.uint64(new)
                evaluations += 1
                apply = (lut, new)
            done[i] += 1
            following.append((i, None, apply, steps[i][done[i]] if done[i] < len(steps[i]) else None))
        ops = following
    out = []
    for net, ok in zip(nets, correct):
        out.append(Evaluated(net.pruned()[0], None, ok, None))
    return out, evaluations


class InProcessShards:
    """`run_round` over Shard objects in this process: the protocol without a cluster (tests, debugging)."""

    def __init__(self, packed: np.ndarray, labels: np.ndarray, n_shards: int):
        self.shards = [Shard(*shard_data(packed, labels, w)) for w in split_words(packed.shape[1], n_shards)]
        self.sizes = [s.n_samples for s in self.shards]

    def __call__(self, ops):
        return [shard.step(ops) for shard in self.shards]
