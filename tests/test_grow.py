"""Greedy growth: the split kernel against numpy, input choice on planted signals, grown networks, regrow."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hcl import kernels, reference
from hcl.encode import pack_bits
from hcl.evolve import EvolveConfig, evolve
from hcl.evolve.config import START_MODES
from hcl.evolve.fitness import best_pair, pair_decision, vote_counts, vote_decision
from hcl.evolve.grow import GrowSample, choose_inputs, grow_network, regrow
from hcl.errors import ConfigError
from hcl.splits import Split

from conftest import make_tiny


def split_scores_numpy(xt, rows, positive, address, candidates, n_cells):
    out = []
    for j in candidates:
        cell = address * 2 + xt[j, rows]
        p = np.bincount(cell[positive], minlength=2 * n_cells) / max(positive.sum(), 1)
        q = np.bincount(cell[~positive], minlength=2 * n_cells) / max((~positive).sum(), 1)
        out.append(np.clip(p - q, 0, None).sum() if positive.any() and (~positive).any() else 0.0)
    return np.array(out)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.integers(0, 4))
def test_split_scores_equal_numpy(seed, n, level):
    rng = np.random.default_rng(seed)
    xt = rng.integers(0, 2, size=(9, n + 7)).astype(np.uint8)
    rows = np.sort(rng.choice(n + 7, size=n, replace=False)).astype(np.int64)
    positive = rng.random(n) < rng.random()
    address = rng.integers(0, 1 << level, size=n).astype(np.int64)
    cand = rng.choice(9, size=5, replace=False).astype(np.int64)
    got = kernels.split_scores(xt, rows, positive, address, cand, 1 << level)
    assert np.allclose(got, split_scores_numpy(xt, rows, positive, address, cand, 1 << level))


def test_choose_inputs_finds_the_planted_columns():
    # The label is the AND of columns 3 and 11 of 40 random ones: the only informative inputs.
    rng = np.random.default_rng(0)
    xt = rng.integers(0, 2, size=(40, 4000)).astype(np.uint8)
    positive = (xt[3] & xt[11]).astype(bool)
    rows = np.arange(4000)
    chosen = choose_inputs(np.random.default_rng(1), xt, rows, positive, k=4, candidates=40)
    assert set(chosen[:2].tolist()) == {3, 11}
    assert len(set(chosen.tolist())) == 4
    # Only the samples in `rows` count: on the half where column 3 is 0 the label is constant, nothing separates.
    half = np.flatnonzero(xt[3] == 1)
    chosen = choose_inputs(np.random.default_rng(1), xt, half, positive[half], k=1, candidates=40)
    assert chosen.tolist() == [11]


def test_choose_inputs_with_fewer_signals_than_lut_inputs_repeats():
    xt = np.array([[0, 1, 0, 1], [0, 0, 1, 1]], dtype=np.uint8)
    chosen = choose_inputs(np.random.default_rng(0), xt, np.arange(4), np.array([0, 0, 0, 1], bool), k=4)
    assert sorted(chosen[:2].tolist()) == [0, 1] and set(chosen.tolist()) <= {0, 1}


def test_pair_decision_and_best_pair():
    # 4 addresses x 3 classes: classes 0 and 2 live on different addresses, class 1 is spread out.
    counts = np.array([[50, 10, 0], [50, 10, 0], [0, 10, 50], [0, 10, 50]])
    assert best_pair(counts) == (0, 2)
    assert pair_decision(counts, (0, 2)) == 0b0011
    assert pair_decision(counts, (2, 0)) == 0b1100
    # A hidden LUT's vote (no target class) is the decision for its best pair.
    assert vote_decision(counts, None) == 0b0011
    # With two classes the pair rule is the one-vs-rest rule of an output LUT of class 0.
    two = np.array([[30, 5], [5, 30], [10, 10], [0, 0]])
    assert vote_decision(two, None) == vote_decision(two, 0)


def _tiny_packed(n_classes=3):
    ds = make_tiny(n_classes=n_classes)
    from hcl.encode import Encoder
    enc = Encoder.fit(ds.X_train, bits=3)
    return ds, enc, enc.encode_packed(ds.X_train), np.asarray(ds.y_train)


def test_grown_network_is_valid_deterministic_and_learns():
    ds, enc, packed, labels = _tiny_packed()
    classes = list(ds.classes)
    a = grow_network(np.random.default_rng(3), packed, labels, 4, [12], 3, classes)
    b = grow_network(np.random.default_rng(3), packed, labels, 4, [12], 3, classes)
    c = grow_network(np.random.default_rng(4), packed, labels, 4, [12], 3, classes)
    a.validate()
    assert a.to_dict() == b.to_dict() and a.to_dict() != c.to_dict()
    assert a.layer_sizes == [12, 9] and a.groups == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    # Every hidden LUT reads K distinct inputs.
    assert all(len(set(row)) == 4 for row in a.wiring[0].tolist())
    test_bits = enc.transform(ds.X_test)
    # 3 balanced classes, chance ~0.33; a random forest gets ~0.82 on this data.
    assert reference.accuracy(a, test_bits, ds.y_test) > 0.7


def test_grown_hidden_luts_separate_their_pair():
    ds, enc, packed, labels = _tiny_packed()
    net = grow_network(np.random.default_rng(0), packed, labels, 4, [6], 1, list(ds.classes))
    bits = enc.transform(ds.X_train)
    hidden = reference.layer_outputs(net, bits)[1]
    # The layer goes round the 3 pairs in the order of the generator's first draw, each pair twice; each LUT's table
    # is its pair's decision, and it fires more often on the pair's first class than on its second.
    pairs = [(0, 1), (0, 2), (1, 2)]
    order = np.random.default_rng(0).permutation(3)
    for j in range(6):
        a, b = pairs[order[j % 3]]
        address = np.zeros(len(labels), dtype=np.int64)
        for i, w in enumerate(net.wiring[0][j]):
            address |= bits[:, w].astype(np.int64) << i
        assert int(net.tables[0][j]) == pair_decision(vote_counts(address, labels, 4, 3), (a, b))
        assert hidden[labels == a, j].mean() > hidden[labels == b, j].mean()


def test_regrow_changes_one_lut_and_keeps_its_class():
    ds, enc, packed, labels = _tiny_packed()
    net = grow_network(np.random.default_rng(0), packed, labels, 4, [12], 3, list(ds.classes))
    sample = GrowSample(packed, labels, seed=0, size=200, split=Split.of("train", labels))
    assert sample.packed.shape[1] == 4 and len(sample.labels) == 200
    for seed in range(10):
        child, changed, refit = regrow(np.random.default_rng(seed), net, sample)
        again, _, _ = regrow(np.random.default_rng(seed), net, sample)
        assert child.to_dict() == again.to_dict()
        lut = int(np.flatnonzero(changed)[0])
        assert changed.sum() == 1 and refit[0] == lut
        assert child.groups == net.groups and child.layer_sizes == net.layer_sizes
        diff = [(l, i) for l, (w0, w1) in enumerate(zip(net.wiring, child.wiring))
                for i in np.flatnonzero((w0 != w1).any(axis=1))]
        assert len(diff) <= 1
        child.validate()


def test_grow_start_beats_random_start_on_the_tiny_task(tmp_path):
    grown = evolve(EvolveConfig(task="tiny", k=4, generations=1, population=4, seed=2, layers=[12], group_size=3,
                                bits=3, out=str(tmp_path / "g")), progress=False)
    random = evolve(EvolveConfig(task="tiny", k=4, generations=1, population=4, seed=2, layers=[12], group_size=3,
                                 bits=3, start="random", refit="none", out=str(tmp_path / "r")), progress=False)
    assert grown.val_accuracy > random.val_accuracy


def test_unknown_start_is_a_config_error():
    assert START_MODES == ("grow", "random")
    with pytest.raises(ConfigError, match="--start"):
        EvolveConfig(start="greedy").validate()


def test_result_is_the_best_validation_network_of_the_whole_run(tmp_path):
    # The search selects on training accuracy; the archive keeps every generation's validation front, so the
    # returned network is at least as good on validation as the best-train member of any generation.
    result = evolve(EvolveConfig(task="tiny", k=4, generations=6, population=6, seed=3, layers=[12], group_size=3,
                                 bits=3, out=str(tmp_path)), progress=False)
    assert result.val_accuracy >= max(row["best_val_accuracy"] for row in result.log)
    from hcl.evolve.search import _non_dominated
    a, b, c = (object(), 0.9, 100), (object(), 0.8, 120), (object(), 0.95, 150)
    assert [e[1:] for e in _non_dominated([a, b, c])] == [(0.9, 100), (0.95, 150)]


def test_candidate_count_is_a_bounded_random_subspace():
    from hcl.evolve.grow import candidate_count
    assert candidate_count(2) == 4 and candidate_count(93) == 23 and candidate_count(717) == 64
