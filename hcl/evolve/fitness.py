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

from hcl import kernels
from hcl.encode import pack_bits
from hcl.network import Network, table_mask


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
    """Evaluates networks on one packed dataset (the training split during the search)."""

    def __init__(self, packed: np.ndarray, labels: np.ndarray):
        self.packed = np.ascontiguousarray(packed, dtype=np.uint64)
        self.labels = np.ascontiguousarray(labels, dtype=np.int64)
        self.n_samples = len(self.labels)
        self.evaluations = 0

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
            old = np.unpackbits(parent.sig[row].astype("<u8").view(np.uint8), bitorder="little")[:n]
            new = np.unpackbits(sig[row].astype("<u8").view(np.uint8), bitorder="little")[:n]
            scores[:, group_of[lut]] += new.astype(np.int32) - old.astype(np.int32)
        return Evaluated(child, sig, kernels.argmax_lowest(scores) == self.labels, scores)

    def _correct(self, net: Network, sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, _, group_of = net.flat()
        scores = kernels.class_scores(sig, net.n_inputs, group_of, net.n_classes, self.n_samples)
        return kernels.argmax_lowest(scores) == self.labels, scores

    # ---- truth-table refitting --------------------------------------------------------------------------------
    def addresses(self, ev: Evaluated, lut: int) -> np.ndarray:
        """The table address each training sample presents to global LUT `lut`: int64 [n_samples]."""
        wires, _, _ = ev.net.flat()
        rows = ev.sig[wires[lut]]
        bits = np.unpackbits(rows.astype("<u8").view(np.uint8), axis=1, bitorder="little")[:, : self.n_samples]
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
        if exact_outputs:
            for lut in range(net.n_luts - net.layer_sizes[-1], net.n_luts):
                ev = self.refit_table(ev, lut)
        return ev

    def refit_vote(self, ev: Evaluated, lut: int) -> Evaluated:
        """Set LUT `lut`'s table from per-address class votes (see vote_table)."""
        net = ev.net
        _, tables, group_of = net.flat()
        target = int(group_of[lut]) if group_of[lut] >= 0 else None
        new = vote_table(self.addresses(ev, lut), self.labels, net.k, net.n_classes, target)
        if new == int(tables[lut]):
            return ev
        child = net.copy()
        layer, index = locate(child, lut)
        child.tables[layer][index] = np.uint64(new)
        changed = np.zeros(net.n_luts, dtype=np.bool_)
        changed[lut] = True
        return self.delta(ev, child, changed)

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

    def _refit_output(self, ev: Evaluated, lut: int, cls: int, address: np.ndarray) -> Evaluated:
        old = int(ev.net.flat()[1][lut])
        shift = address.astype(np.uint64)
        current = (np.uint64(old) >> shift) & np.uint64(1)
        without = ev.scores.copy()
        without[:, cls] -= current.astype(np.int32)
        with_vote = without.copy()
        with_vote[:, cls] += 1
        correct0 = kernels.argmax_lowest(without) == self.labels
        correct1 = kernels.argmax_lowest(with_vote) == self.labels
        gain = np.bincount(address, weights=correct1.astype(np.int64) - correct0, minlength=1 << ev.net.k)
        new = _best_table(gain, old)
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
        net = ev.net
        k = net.k
        wires, tables, group_of = net.flat()
        changed = np.zeros(net.n_luts, dtype=np.bool_)
        changed[lut] = True
        address = self.addresses(ev, lut)
        if group_of[lut] >= 0:
            return self._refit_output(ev, lut, int(group_of[lut]), address)
        outcome = []
        for constant in (0, table_mask(k)):
            forced = tables.copy()
            forced[lut] = np.uint64(constant)
            sig = kernels.forward_delta(ev.sig, wires, forced, k, changed)
            outcome.append(self._correct(net, sig)[0])
        self.evaluations += 2
        gain = np.bincount(address, weights=outcome[1].astype(np.int64) - outcome[0], minlength=1 << k)
        old = int(tables[lut])
        new = _best_table(gain, old)
        if new == old:
            return ev
        child = net.copy()
        layer, index = locate(child, lut)
        child.tables[layer][index] = np.uint64(new)
        return self.delta(ev, child, changed)


def _best_table(gain: np.ndarray, old: int) -> int:
    """Entry a is 1 where setting it gains correct samples, 0 where it loses, unchanged where neither."""
    new = 0
    for a in range(len(gain)):
        bit = 1 if gain[a] > 0 else 0 if gain[a] < 0 else (old >> a) & 1
        new |= bit << a
    return new


def vote_table(address: np.ndarray, labels: np.ndarray, k: int, n_classes: int, target: int | None) -> int:
    """Truth table from per-address class counts: an entry is 1 where the target class is more frequent among the
    samples reaching that address than in the data overall (P(c|a) > P(c)); unseen addresses give 0.

    `target` None (a hidden LUT) picks the class whose one-vs-rest split this LUT's inputs separate best (the
    largest total-variation distance between the class's and the rest's address distributions)."""
    counts = np.bincount(address * n_classes + labels, minlength=(1 << k) * n_classes).reshape(1 << k, n_classes)
    per_address = counts.sum(axis=1)
    per_class = counts.sum(axis=0)
    n = per_address.sum()
    if target is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            in_class = counts / np.maximum(per_class, 1)
            rest = (per_address[:, None] - counts) / np.maximum(n - per_class, 1)
        target = int(np.argmax(np.abs(in_class - rest).sum(axis=0)))
    fires = counts[:, target] * n > per_address * per_class[target]
    return sum(1 << int(a) for a in np.flatnonzero(fires))


def locate(net: Network, lut: int) -> tuple[int, int]:
    """(layer, index within the layer) of global LUT index `lut`."""
    for layer, size in enumerate(net.layer_sizes):
        if lut < size:
            return layer, lut
        lut -= size
    raise IndexError("LUT index out of range")
