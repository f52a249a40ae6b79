"""The Numba kernels agree bit for bit with the numpy reference (hcl.reference), which implements the semantics
defined in hcl.network: every signal, class scores, predictions (ties to the lowest class), the fused fitness count,
and delta evaluation of children against full evaluation.

Sample counts are drawn to hit the packing edges: 1, 63, 64, 65, and more than ``kernels.BLOCK * 64`` so that
several blocks and a partial last block (and a partial last word) run.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from hcl import kernels, reference
from hcl.encode import pack_bits, unpack_bits
from hcl.network import Network, random_network, random_tables, table_mask

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = 2 * kernels.BLOCK * 64 + 37          # two full blocks and a partial one, whose last word is partial
EDGE_COUNTS = [1, 2, 63, 64, 65, 127, 129, kernels.BLOCK * 64, MANY]


@st.composite
def cases(draw, max_layers: int = 3):
    """(network, encoded input bits bool [n, n_inputs], rng) for a random network and random inputs."""
    seed = draw(st.integers(0, 2**32 - 1))
    k = draw(st.integers(2, 6))
    n_inputs = draw(st.integers(1, 40))
    n_classes = draw(st.integers(2, 5))
    hidden = draw(st.lists(st.integers(1, 24), min_size=0, max_size=max_layers - 1))
    last = draw(st.integers(n_classes, 3 * n_classes + 2))
    n = draw(st.one_of(st.sampled_from(EDGE_COUNTS), st.integers(1, 300)))
    rng = np.random.default_rng(seed)
    net = random_network(rng, k, n_inputs, hidden + [last], n_classes)
    density = draw(st.sampled_from([0.5, 0.1, 0.9]))      # skewed inputs reach more table corners
    bits = rng.random((n, n_inputs)) < density
    return net, bits, rng


def signals(net: Network, bits: np.ndarray) -> np.ndarray:
    wires, tables, _ = net.flat()
    return kernels.forward(pack_bits(bits), wires, tables, net.k)


def reference_signals(net: Network, bits: np.ndarray) -> np.ndarray:
    return np.concatenate(reference.layer_outputs(net, bits), axis=1)


# ---- full evaluation ---------------------------------------------------------------------------------------------
@SETTINGS
@given(cases())
def test_forward_matches_reference_on_every_signal(case):
    net, bits, _ = case
    sig = signals(net, bits)
    assert sig.shape == (net.n_inputs + net.n_luts, pack_bits(bits).shape[1])
    assert sig.dtype == np.uint64
    assert np.array_equal(unpack_bits(sig, len(bits)), reference_signals(net, bits))


@SETTINGS
@given(cases())
def test_class_scores_and_predictions_match_reference(case):
    net, bits, _ = case
    _, _, group_of = net.flat()
    scores = kernels.class_scores(signals(net, bits), net.n_inputs, group_of, net.n_classes, len(bits))
    expected = reference.class_scores(net, bits)
    assert scores.shape == expected.shape
    assert np.array_equal(scores, expected)


@SETTINGS
@given(cases())
def test_count_correct_matches_reference_accuracy(case):
    net, bits, rng = case
    wires, tables, group_of = net.flat()
    predictions = reference.predict(net, bits)
    # labels that agree with the prediction about half the time, so both outcomes are exercised
    labels = np.where(rng.random(len(bits)) < 0.5, predictions, rng.integers(0, net.n_classes, len(bits)))
    hits = kernels.count_correct(pack_bits(bits), wires, tables, net.k, group_of, net.n_classes, labels)
    assert hits == int((predictions == labels).sum())
    assert hits == round(reference.accuracy(net, bits, labels) * len(bits))


# ---- ties go to the lowest class ----------------------------------------------------------------------------------
def constant_output_network(k: int, n_inputs: int, per_class_ones: list[int], group_size: int,
                            rng: np.random.Generator) -> Network:
    """One hidden layer of random LUTs, then an output layer whose class c has `per_class_ones[c]` LUTs fixed at 1
    (the rest fixed at 0): every sample gets exactly those scores."""
    n_classes = len(per_class_ones)
    net = random_network(rng, k, n_inputs, [8, n_classes * group_size], n_classes)
    last = np.zeros(n_classes * group_size, dtype=np.uint64)
    for c, ones in enumerate(per_class_ones):
        last[c * group_size: c * group_size + ones] = np.uint64(table_mask(k))
    net.tables[-1] = last
    return net.validate()


@SETTINGS
@given(st.integers(2, 6), st.integers(2, 6), st.data())
def test_ties_go_to_the_lowest_class(k, n_classes, data):
    group_size = 4
    ones = data.draw(st.lists(st.integers(0, group_size), min_size=n_classes, max_size=n_classes))
    top = max(ones)
    assume(ones.count(top) >= 2)                     # a real tie at the top
    winner = ones.index(top)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    net = constant_output_network(k, 9, ones, group_size, rng)
    n = data.draw(st.sampled_from(EDGE_COUNTS))
    bits = rng.random((n, 9)) < 0.5
    wires, tables, group_of = net.flat()
    scores = kernels.class_scores(signals(net, bits), net.n_inputs, group_of, n_classes, n)
    assert np.array_equal(scores, np.tile(ones, (n, 1)))
    assert (reference.predict(net, bits) == winner).all()
    labels = rng.integers(0, n_classes, n)
    hits = kernels.count_correct(pack_bits(bits), wires, tables, k, group_of, n_classes, labels)
    assert hits == int((labels == winner).sum())


def test_count_correct_ignores_padding_samples():
    """Outputs that are 1 on the padding bits of the last word (a table with bit 0 set reads all-zero padding
    inputs as address 0) must not be counted."""
    rng = np.random.default_rng(5)
    for n in (1, 63, 65):
        net = constant_output_network(3, 4, [0, 2], 2, rng)   # class 1 wins every sample
        wires, tables, group_of = net.flat()
        labels = np.ones(n, dtype=np.int64)
        assert kernels.count_correct(pack_bits(rng.random((n, 4)) < 0.5), wires, tables, 3, group_of, 2,
                                     labels) == n


@pytest.mark.parametrize("n_classes,last", [(2, 600), (300, 300)])
def test_wide_scores_and_many_classes(n_classes, last):
    """Groups of 300 LUTs (scores need 9 bits) and 300 classes (class indices need 9 bits) leave the fast
    byte-wide paths of the scoring kernels."""
    rng = np.random.default_rng(n_classes)
    net = random_network(rng, 4, 12, [16, last], n_classes)
    bits = rng.random((200, 12)) < 0.5
    wires, tables, group_of = net.flat()
    scores = kernels.class_scores(signals(net, bits), net.n_inputs, group_of, n_classes, len(bits))
    assert np.array_equal(scores, reference.class_scores(net, bits))
    predictions = reference.predict(net, bits)
    labels = np.where(rng.random(len(bits)) < 0.5, predictions, rng.integers(0, n_classes, len(bits)))
    hits = kernels.count_correct(pack_bits(bits), wires, tables, 4, group_of, n_classes, labels)
    assert hits == int((predictions == labels).sum())


# ---- delta evaluation ---------------------------------------------------------------------------------------------
def mutate(net: Network, rng: np.random.Generator, p: float) -> tuple[Network, np.ndarray]:
    """A child changing each LUT with probability p: new table, new wiring, or both. Returns (child, changed)."""
    child = net.copy()
    changed = np.zeros(net.n_luts, dtype=np.bool_)
    start = 0
    prev = net.n_inputs
    for layer, size in enumerate(net.layer_sizes):
        for j in range(size):
            if rng.random() < p:
                what = rng.integers(0, 3)
                if what in (0, 2):
                    child.tables[layer][j] = random_tables(rng, net.k, 1)[0]
                if what in (1, 2):
                    child.wiring[layer][j] = rng.integers(0, prev, size=net.k, dtype=np.int32)
                changed[start + j] = True
        start += size
        prev = size
    return child.validate(), changed


def expected_cone(net: Network, changed: np.ndarray) -> np.ndarray:
    """Changed LUTs and every LUT that reads (transitively) from one, by layers over the child's wiring."""
    dirty = changed.copy()
    offsets = np.cumsum([0] + net.layer_sizes)
    for layer in range(1, net.depth):
        prev_dirty = dirty[offsets[layer - 1]: offsets[layer]]
        reads_dirty = prev_dirty[net.wiring[layer]].any(axis=1)
        dirty[offsets[layer]: offsets[layer + 1]] |= reads_dirty
    return dirty


@SETTINGS
@given(cases(), st.sampled_from([0.0, 0.05, 0.2, 1.0]))
def test_forward_delta_equals_forward_on_the_child(case, p):
    net, bits, rng = case
    x = pack_bits(bits)
    wires, tables, _ = net.flat()
    parent_sig = kernels.forward(x, wires, tables, net.k)
    parent_copy = parent_sig.copy()
    child, changed = mutate(net, rng, p)
    c_wires, c_tables, _ = child.flat()
    dirty = kernels.dirty_cone(c_wires, net.n_inputs, changed)
    assert np.array_equal(dirty, expected_cone(child, changed))
    sig = kernels.forward_delta(parent_sig, c_wires, c_tables, net.k, changed)
    assert np.array_equal(sig, kernels.forward(x, c_wires, c_tables, net.k))
    assert np.array_equal(unpack_bits(sig, len(bits)), reference_signals(child, bits))
    assert np.array_equal(parent_sig, parent_copy), "the parent's signals must not be modified"
    # rows outside the cone are the parent's
    clean = np.concatenate([np.ones(net.n_inputs, dtype=bool), ~dirty])
    assert np.array_equal(sig[clean], parent_sig[clean])


def test_forward_delta_of_a_delta_result():
    """The search chains deltas: a child's signals (a kernel result) are the next child's parent."""
    rng = np.random.default_rng(11)
    net = random_network(rng, 6, 30, [20, 10, 6], 3)
    bits = rng.random((MANY, 30)) < 0.5
    x = pack_bits(bits)
    wires, tables, _ = net.flat()
    sig = kernels.forward(x, wires, tables, 6)
    for _ in range(4):
        net, changed = mutate(net, rng, 0.1)
        wires, tables, _ = net.flat()
        sig = kernels.forward_delta(sig, wires, tables, 6, changed)
    assert np.array_equal(unpack_bits(sig, MANY), reference_signals(net, bits))


# ---- packing --------------------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_pack_unpack_round_trip(n, m, seed):
    bits = np.random.default_rng(seed).random((n, m)) < 0.5
    packed = pack_bits(bits)
    assert packed.dtype == np.uint64 and packed.shape == (m, -(-n // 64))
    assert np.array_equal(unpack_bits(packed, n), bits)
    if n % 64:      # the padding bits of the last word are zero
        assert not (packed[:, -1] >> np.uint64(n % 64)).any()
    for s in {0, n - 1, n // 2}:    # sample s is bit s % 64 of word s // 64
        word = packed[:, s // 64]
        assert np.array_equal(((word >> np.uint64(s % 64)) & np.uint64(1)).astype(bool), bits[s])
