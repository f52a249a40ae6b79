"""Fitness of LUT networks on bit-packed data, with delta evaluation and exact truth-table refitting.

An :class:`Evaluated` network carries the signals of every LUT over the training samples, so that a child that
changes a few LUTs costs only their downstream cone (``kernels.forward_delta``).

Truth-table refitting is exact coordinate descent on training accuracy: for LUT ``i`` with its inputs fixed, force
its output to constant 0 and to constant 1, evaluate both (two delta evaluations of its cone), and for every table
address count how many of the samples that reach that address are classified correctly in each case. The best
entry for an address is the one with more correct samples (unchanged on a tie, so accuracy never decreases).
For an output LUT the two cases follow from the cached class scores alone (its class's score with and without
its vote), so no network evaluation is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hcl import kernels, reference
from hcl.encode import pack_bits, unpack_rows
from hcl.network import Network, table_mask
from hcl.splits import Split, fitted_on


def pack_row(bits: np.ndarray) -> np.ndarray:
    return pack_bits(bits[:, None])[0]


@dataclass
class Evaluated:
    net: Network
    sig: np.ndarray            # uint64 [n_inputs + n_luts, n_words]
    correct: np.ndarray        # bool [n_samples]
    scores: np.ndarray         # int32 [n_samples, n_classes]

    @property
    def accuracy(self) -> float:
        return float(self.correct.mean())


class Evaluator:
    """Evaluates networks on one packed dataset (the training split during the search). `split`: the identity of
    these rows (hcl.splits), checked here; the search's evaluator has the training split's, and the trainer's calls
    (evolve.lamarck) check their rows against it."""

    def __init__(self, packed: np.ndarray, labels: np.ndarray, copies: tuple[np.ndarray, np.ndarray] | None = None,
                 split: Split | None = None):
        self.split = None if split is None else fitted_on("the search's evaluator (trainer, refits, regrow)",
                                                          split, y=labels)
        self.packed = np.ascontiguousarray(packed, dtype=np.uint64)
        self.labels = np.ascontiguousarray(labels, dtype=np.int64)
        self.n_samples = len(self.labels)
        self.copies = copies          # (packed, labels): training copies the trainer reads besides (hcl.augment)
        self.evaluations = 0
        self._rows = None
        self._trainer_data = None

    @property
    def rows(self) -> np.ndarray:
        """uint8 0/1 ``[n_samples, n_inputs]``: the samples as the trainer reads them (unpacked on first use)."""
        if self._rows is None:
            self._rows = np.ascontiguousarray(unpack_rows(self.packed, self.n_samples).T)
        return self._rows

    @property
    def n_trainer_samples(self) -> int:
        return self.n_samples + (0 if self.copies is None else len(self.copies[1]))

    @property
    def trainer_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and labels the gradient trainer reads: these samples, then the copies. Accuracy, refits and
        selection see these samples only."""
        if self.copies is None:
            return self.rows, self.labels
        if self._trainer_data is None:
            packed, labels = self.copies
            rows = np.ascontiguousarray(np.concatenate([self.rows, unpack_rows(packed, len(labels)).T]))
            self._rows = rows[:self.n_samples]      # a view: the split is not held twice
            self._trainer_data = rows, np.concatenate([self.labels, labels])
        return self._trainer_data

    # ---- whole-network and delta evaluation -----------------------------------------------------------------
    def full(self, net: Network) -> Evaluated:
        wires, tables, _ = net.flat()
        sig = kernels.forward(self.packed, wires, tables, net.k)
        self.evaluations += 1
        return Evaluated(net, sig, *self._correct(net, sig))

    def delta(self, parent: Evaluated, child: Network, changed_luts: np.ndarray) -> Evaluated:
        """Evaluate `child`, which differs from `parent.net` only in the LUTs flagged by `changed_luts` (bool).

        Class scores are updated from the output LUTs in the changed cone only."""
        wires, tables, group_of = child.flat()
        sig = kernels.forward_delta(parent.sig, wires, tables, child.k, changed_luts)
        self.evaluations += 1
        dirty = kernels.dirty_cone(wires, child.n_inputs, changed_luts)
        scores = parent.scores.copy()
        n = self.n_samples
        for lut in np.flatnonzero(dirty & (group_of >= 0)):
            row = child.n_inputs + lut
            old = unpack_rows(parent.sig[row:row + 1], n)[0]
            new = unpack_rows(sig[row:row + 1], n)[0]
            scores[:, group_of[lut]] += new.astype(np.int32) - old.astype(np.int32)
        return Evaluated(child, sig, reference.winner(scores) == self.labels, scores)

    def _correct(self, net: Network, sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, _, group_of = net.flat()
        scores = kernels.class_scores(sig, net.n_inputs, group_of, net.n_classes, self.n_samples)
        return reference.winner(scores) == self.labels, scores

    # ---- truth-table refitting --------------------------------------------------------------------------------
    def addresses(self, ev: Evaluated, lut: int) -> np.ndarray:
        """The table address each training sample presents to global LUT `lut`: int64 [n_samples]."""
        wires, _, _ = ev.net.flat()
        rows = ev.sig[wires[lut]]
        bits = unpack_rows(rows, self.n_samples)
        weights = (1 << np.arange(ev.net.k, dtype=np.int64))[:, None]
        return (bits.astype(np.int64) * weights).sum(axis=0)

    def fit_layerwise(self, net: Network, exact_outputs: bool = False) -> Evaluated:
        """Vote-fit every LUT's table, layer by layer from the inputs: one forward pass per layer; then, with
        `exact_outputs`, one sweep of exact refitting over the output LUTs."""
        net = net.copy()
        ev = self.full(net)
        wires, _, group_of = net.flat()
        start = 0
        for layer, size in enumerate(net.layer_sizes):
            for i in range(size):
                target = int(group_of[start + i]) if group_of[start + i] >= 0 else None
                net.tables[layer][i] = np.uint64(vote_table(self.addresses(ev, start + i), self.labels, net.k,
                                                            net.n_classes, target))
            start += size
            ev = self.full(net)
        return self.refit_outputs(ev) if exact_outputs else ev

    def refit_outputs(self, ev: Evaluated) -> Evaluated:
        """One sweep of exact refits over the output LUTs."""
        for lut in range(ev.net.n_luts - ev.net.layer_sizes[-1], ev.net.n_luts):
            ev = self.refit_table(ev, lut)
        return ev

    # Each refit is a statistic (an integer count per table address, summed over samples, so shards of the data
    # can compute it apart and add) and a decision on that statistic (vote_decision, best_table): see shards.py.
    def vote_statistic(self, ev: Evaluated, lut: int) -> np.ndarray:
        """Per-address class counts of LUT `lut`: int64 [2**k, n_classes] (see vote_counts)."""
        return vote_counts(self.addresses(ev, lut), self.labels, ev.net.k, ev.net.n_classes)

    def with_table(self, ev: Evaluated, lut: int, new: int) -> Evaluated:
        """`ev` with LUT `lut`'s table set to `new` (a delta evaluation of its cone; `ev` itself when unchanged)."""
        net = ev.net
        if new == int(net.flat()[1][lut]):
            return ev
        child = net.copy()
        layer, index = locate(child, lut)
        child.tables[layer][index] = np.uint64(new)
        changed = np.zeros(net.n_luts, dtype=np.bool_)
        changed[lut] = True
        return self.delta(ev, child, changed)

    def refit_vote(self, ev: Evaluated, lut: int) -> Evaluated:
        """Set LUT `lut`'s table from per-address class votes (see vote_table)."""
        return self.with_table(ev, lut, vote_decision(self.vote_statistic(ev, lut), target_class(ev.net, lut)))

    def refit(self, ev: Evaluated, lut: int, mode: str = "vote") -> Evaluated:
        """Refit one LUT's table. Modes: "vote" (statistical, generalizes), "exact" (coordinate descent on training
        accuracy, overfits small data), "both" (vote, then exact), "output-exact" (vote; output LUTs then exact)."""
        if mode == "vote":
            return self.refit_vote(ev, lut)
        if mode == "exact":
            return self.refit_table(ev, lut)
        if mode == "output-exact" and ev.net.flat()[2][lut] < 0:
            return self.refit_vote(ev, lut)
        return self.refit_table(self.refit_vote(ev, lut), lut)

    def _output_cases(self, ev: Evaluated, lut: int, cls: int, address: np.ndarray):
        """Output LUT `lut` (class `cls`) forced to 0 and to 1: (scores without its vote, correct0, correct1)."""
        old = int(ev.net.flat()[1][lut])
        current = (np.uint64(old) >> address.astype(np.uint64)) & np.uint64(1)
        without = ev.scores.copy()
        without[:, cls] -= current.astype(np.int32)
        with_vote = without.copy()
        with_vote[:, cls] += 1
        correct0 = reference.winner(without) == self.labels
        correct1 = reference.winner(with_vote) == self.labels
        return without, correct0, correct1

    def _forced_cases(self, ev: Evaluated, lut: int) -> tuple[np.ndarray, np.ndarray]:
        """Hidden LUT `lut` forced to constant 0 and to constant 1: per-sample correctness of each (2 evaluations)."""
        net = ev.net
        wires, tables, _ = net.flat()
        changed = np.zeros(net.n_luts, dtype=np.bool_)
        changed[lut] = True
        outcome = []
        for constant in (0, table_mask(net.k)):
            forced = tables.copy()
            forced[lut] = np.uint64(constant)
            sig = kernels.forward_delta(ev.sig, wires, forced, net.k, changed)
            outcome.append(self._correct(net, sig)[0])
        self.evaluations += 2
        return outcome[0], outcome[1]

    def exact_statistic(self, ev: Evaluated, lut: int) -> np.ndarray:
        """Per-address gain in correct samples of entry 1 over entry 0 for LUT `lut`: int64 [2**k]."""
        address = self.addresses(ev, lut)
        group_of = ev.net.flat()[2]
        if group_of[lut] >= 0:
            _, correct0, correct1 = self._output_cases(ev, lut, int(group_of[lut]), address)
        else:
            correct0, correct1 = self._forced_cases(ev, lut)
        return _gain(address, correct0, correct1, ev.net.k)

    def _refit_output(self, ev: Evaluated, lut: int, cls: int, address: np.ndarray) -> Evaluated:
        old = int(ev.net.flat()[1][lut])
        shift = address.astype(np.uint64)
        without, correct0, correct1 = self._output_cases(ev, lut, cls, address)
        new = best_table(_gain(address, correct0, correct1, ev.net.k), old)
        if new == old:
            return ev
        child = ev.net.copy()
        layer, index = locate(child, lut)
        child.tables[layer][index] = np.uint64(new)
        output = ((np.uint64(new) >> shift) & np.uint64(1)).astype(bool)
        scores = without
        scores[:, cls] += output.astype(np.int32)
        sig = ev.sig.copy()
        sig[child.n_inputs + lut] = pack_row(output)
        self.evaluations += 1
        return Evaluated(child, sig, np.where(output, correct1, correct0), scores)

    def refit_table(self, ev: Evaluated, lut: int) -> Evaluated:
        """Return `ev` with LUT `lut`'s table set to its best entries given everything else (see module doc)."""
        group_of = ev.net.flat()[2]
        if group_of[lut] >= 0:
            return self._refit_output(ev, lut, int(group_of[lut]), self.addresses(ev, lut))
        return self.with_table(ev, lut, best_table(self.exact_statistic(ev, lut), int(ev.net.flat()[1][lut])))


def _gain(address: np.ndarray, correct0: np.ndarray, correct1: np.ndarray, k: int) -> np.ndarray:
    """Per-address (correct with entry 1) - (correct with entry 0), summed over samples: int64 [2**k]."""
    return np.bincount(address, weights=correct1.astype(np.int64) - correct0, minlength=1 << k).astype(np.int64)


def best_table(gain: np.ndarray, old: int) -> int:
    """The exact refit's decision: entry a is 1 where setting it gains correct samples, 0 where it loses,
    unchanged where neither."""
    new = 0
    for a in range(len(gain)):
        bit = 1 if gain[a] > 0 else 0 if gain[a] < 0 else (old >> a) & 1
        new |= bit << a
    return new


def vote_table(address: np.ndarray, labels: np.ndarray, k: int, n_classes: int, target: int | None) -> int:
    """Truth table from per-address class counts (see vote_decision)."""
    return vote_decision(vote_counts(address, labels, k, n_classes), target)


def vote_counts(address: np.ndarray, labels: np.ndarray, k: int, n_classes: int) -> np.ndarray:
    """The vote's statistic: samples per (address, class), int64 [2**k, n_classes]."""
    return np.bincount(address * n_classes + labels, minlength=(1 << k) * n_classes).reshape(1 << k, n_classes)


def target_class(net: Network, lut: int) -> int | None:
    """The class an output LUT votes for; None for a hidden LUT."""
    group = int(net.flat()[2][lut])
    return group if group >= 0 else None


def vote_decision(counts: np.ndarray, target: int | None) -> int:
    """The vote's decision from its statistic, per-address class counts [2**k, n_classes].

    An output LUT (``target`` its class) fires where its class is more frequent among the samples reaching that
    address than in the data overall (P(c|a) > P(c)). A hidden LUT (``target`` None) separates the pair of classes
    its inputs separate best (the largest total-variation distance between the two classes' address distributions)
    and fires where the first is the more frequent, relative to its size (P(a|first) > P(a|second)). With two
    classes both rules are the same. Unseen addresses give 0."""
    if target is None:
        return pair_decision(counts, best_pair(counts))
    per_address = counts.sum(axis=1)
    per_class = counts.sum(axis=0)
    n = per_address.sum()
    fires = counts[:, target] * n > per_address * per_class[target]
    return _table_of(fires)


def class_pairs(n_classes: int) -> list[tuple[int, int]]:
    """Unordered class pairs (a < b), the targets of hidden LUTs."""
    return [(a, b) for a in range(n_classes) for b in range(a + 1, n_classes)]


def best_pair(counts: np.ndarray) -> tuple[int, int]:
    """The class pair whose address distributions differ most (total variation); the first such pair on a tie."""
    per_class = counts.sum(axis=0)
    share = counts / np.maximum(per_class, 1)
    pairs = class_pairs(counts.shape[1])
    distance = [np.abs(share[:, a] - share[:, b]).sum() if per_class[a] and per_class[b] else -1.0
                for a, b in pairs]
    return pairs[int(np.argmax(distance))]


def pair_decision(counts: np.ndarray, pair: tuple[int, int]) -> int:
    """Fire where class pair[0] reaches the address more often than class pair[1], each relative to its size."""
    a, b = pair
    per_class = counts.sum(axis=0)
    return _table_of(counts[:, a] * per_class[b] > counts[:, b] * per_class[a])


def _table_of(fires: np.ndarray) -> int:
    return sum(1 << int(a) for a in np.flatnonzero(fires))


def locate(net: Network, lut: int) -> tuple[int, int]:
    """(layer, index within the layer) of global LUT index `lut`."""
    for layer, size in enumerate(net.layer_sizes):
        if lut < size:
            return layer, lut
        lut -= size
    raise IndexError("LUT index out of range")
