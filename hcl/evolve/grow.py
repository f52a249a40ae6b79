"""Greedy growth of a LUT network from the data, and the `regrow` operator built on it.

A K-input LUT over binary signals is an oblivious decision tree of depth K: every input splits every cell of the
ones before it. Growing one is therefore a tree induction: pick, level by level, the input that best separates the
LUT's target -- the largest total-variation distance between the positive and the negative samples' distributions
over the cells so far (``kernels.split_scores``) -- among ``candidate_count`` signals drawn at random (the random
subspace keeps the LUTs of one target different; so does drawing each LUT's training subsample anew).

Targets: a hidden LUT separates one unordered pair of classes (only that pair's samples are used, and the table
fires where the first class is the more frequent, see ``fitness.pair_decision``); the LUTs of a layer go round
the pairs in a random order. An output LUT separates its class from the rest. Pairwise features are what lifts
the start: on MNIST (1 thermometer bit per pixel, 1000 hidden LUTs, 16 output LUTs per class, seed 0) one-vs-rest
hidden LUTs reached 0.909 validation accuracy after the output refit, pairwise ones 0.926, random wiring 0.846.

Layer by layer from the inputs, each layer's outputs on the training split feeding the next, so a grown network
costs one pass per layer and ``K x candidate_count`` split evaluations of at most ``subsample`` samples per LUT.
"""

from __future__ import annotations

import numpy as np

from hcl import kernels
from hcl.encode import pack_bits, unpack_rows
from hcl.evolve.fitness import (best_pair, class_pairs, locate, pair_decision, target_class, vote_counts,
                                vote_decision)
from hcl.evolve.operators import consumers
from hcl.network import Network
from hcl.splits import Split, fitted_on

SUBSAMPLE = 8192      # samples per LUT's input choice (MNIST: a class pair has ~10,000)
CANDIDATES = 64       # signals tried per level, at most ...
SUBSPACE = 4          # ... and at most 1/SUBSPACE of the signals, at least 4


def candidate_count(n_signals: int) -> int:
    """Signals drawn per level: few enough that LUTs sharing a target differ. Measured on grown starts (mean of 4
    draws, seed 1): sipm (2 classes, so every hidden LUT separates the same pair; 93 inputs) reached 0.906 test
    accuracy drawing 64, 0.924 drawing 23 (a quarter) and 0.926 drawing 12; digits (8 draws) 0.907 drawing 64, 0.908
    drawing 26; MNIST (717 inputs, 45 pairs; 1 draw) 0.9385 drawing 64 and 0.9267 drawing 27."""
    return int(min(CANDIDATES, max(4, n_signals // SUBSPACE)))


def choose_inputs(rng: np.random.Generator, xt: np.ndarray, rows: np.ndarray, positive: np.ndarray, k: int,
                  candidates: int | None = None) -> np.ndarray:
    """K distinct signals (rows of `xt`, uint8 [n_signals, n_samples]) chosen greedily to separate, over the
    samples `rows`, the `positive` ones (bool, one per entry of `rows`) from the rest; with fewer than K signals,
    repeats. `candidates`: signals drawn per level (default candidate_count)."""
    n_signals = xt.shape[0]
    candidates = candidate_count(n_signals) if candidates is None else candidates
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    address = np.zeros(len(rows), dtype=np.int64)
    chosen: list[int] = []
    for level in range(k):
        pool = np.setdiff1d(np.arange(n_signals), chosen)
        if len(pool) == 0:
            chosen.append(int(rng.integers(n_signals)))
            continue
        cand = rng.choice(pool, size=min(candidates, len(pool)), replace=False).astype(np.int64)
        scores = kernels.split_scores(xt, rows, positive, address, cand, 1 << level)
        best = int(cand[int(np.argmax(scores))])
        chosen.append(best)
        address |= xt[best, rows].astype(np.int64) << level
    return np.array(chosen, dtype=np.int32)


def _addresses(xt: np.ndarray, wires: np.ndarray) -> np.ndarray:
    address = np.zeros(xt.shape[1], dtype=np.int64)
    for i, w in enumerate(wires):
        address |= xt[int(w)].astype(np.int64) << i
    return address


def _outputs(xt: np.ndarray, wires: np.ndarray, table: int) -> np.ndarray:
    return ((np.uint64(table) >> _addresses(xt, wires).astype(np.uint64)) & np.uint64(1)).astype(np.uint8)


def _subsample(rng: np.random.Generator, rows: np.ndarray, size: int) -> np.ndarray:
    return rows if len(rows) <= size else np.sort(rng.choice(rows, size=size, replace=False))


def _pair_rows(labels: np.ndarray, pair: tuple[int, int]) -> np.ndarray:
    """The samples of either class of `pair`."""
    return np.flatnonzero((labels == pair[0]) | (labels == pair[1]))


def grow_network(rng: np.random.Generator, packed: np.ndarray, labels: np.ndarray, k: int, hidden: list[int],
                 group: int, classes: list[str], candidates: int | None = None,
                 subsample: int = SUBSAMPLE) -> Network:
    """A network grown on the training split (packed inputs uint64 [n_inputs, n_words], labels int [n])."""
    labels = np.asarray(labels, dtype=np.int64)
    n_classes = len(classes)
    xt = unpack_rows(packed, len(labels))
    n_inputs = xt.shape[0]
    pairs = class_pairs(n_classes)
    wiring, tables = [], []
    order = rng.permutation(len(pairs))       # which pairs a layer smaller than the pair count covers
    for size in hidden:
        w = np.empty((size, k), dtype=np.int32)
        t = np.empty(size, dtype=np.uint64)
        out = np.empty((size, len(labels)), dtype=np.uint8)
        for j in range(size):
            pair = pairs[order[j % len(pairs)]]
            rows = _subsample(rng, _pair_rows(labels, pair), subsample)
            w[j] = choose_inputs(rng, xt, rows, labels[rows] == pair[0], k, candidates)
            t[j] = pair_decision(vote_counts(_addresses(xt, w[j]), labels, k, n_classes), pair)
            out[j] = _outputs(xt, w[j], int(t[j]))
        wiring.append(w)
        tables.append(t)
        xt = out
    w = np.empty((group * n_classes, k), dtype=np.int32)
    t = np.empty(group * n_classes, dtype=np.uint64)
    all_rows = np.arange(len(labels))
    for i in range(group * n_classes):
        c = i // group
        rows = _subsample(rng, all_rows, subsample)
        w[i] = choose_inputs(rng, xt, rows, labels[rows] == c, k, candidates)
        t[i] = vote_decision(vote_counts(_addresses(xt, w[i]), labels, k, n_classes), c)
    wiring.append(w)
    tables.append(t)
    groups = [list(range(c * group, (c + 1) * group)) for c in range(n_classes)]
    return Network(k=k, n_inputs=n_inputs, wiring=wiring, tables=tables, groups=groups, classes=list(classes))


class GrowSample:
    """A fixed, seeded subsample of the training split on which `regrow` chooses inputs (the driver holds it, so
    a child's genome does not depend on the executor that evaluates it)."""

    def __init__(self, packed: np.ndarray, labels: np.ndarray, seed: int, *, split: Split, size: int = SUBSAMPLE):
        labels = np.asarray(labels, dtype=np.int64)
        self.split = fitted_on("the regrow's sample", split, y=labels)
        rows = _subsample(np.random.default_rng([seed, 0x6E0]), np.arange(len(labels)), size)
        self.packed = pack_bits(unpack_rows(packed, len(labels))[:, rows].T)
        self.labels = labels[rows]


def regrow(rng: np.random.Generator, net: Network, sample: GrowSample,
           candidates: int | None = None) -> tuple[Network, np.ndarray, list[int]]:
    """Choose new inputs for one LUT greedily (its target kept: an output LUT's class; for a hidden LUT the class
    pair its current inputs separate best), then refit it and its readers."""
    child = net.copy()
    lut = int(rng.integers(net.n_luts))
    layer, index = locate(child, lut)
    labels = sample.labels
    if layer == 0:
        xt = unpack_rows(sample.packed, len(labels))
    else:
        wires, tables, _ = net.flat()
        sig = kernels.forward(sample.packed, wires, tables, net.k)
        start = net.layer_offsets()[layer]
        xt = unpack_rows(sig[start:start + net.layer_sizes[layer - 1]], len(labels))
    target = target_class(net, lut)
    if target is None:
        counts = vote_counts(_addresses(xt, net.wiring[layer][index]), labels, net.k, len(net.groups))
        pair = best_pair(counts)
        rows = _pair_rows(labels, pair)
        positive = labels[rows] == pair[0]
    else:
        rows = np.arange(len(labels))
        positive = labels == target
    child.wiring[layer][index] = choose_inputs(rng, xt, rows, positive, net.k, candidates)
    changed = np.zeros(net.n_luts, dtype=np.bool_)
    changed[lut] = True
    return child, changed, [lut] + consumers(child, layer, index)
