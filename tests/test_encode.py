"""Encoders: thresholds fitted on training data, integer comparators, one-hot, NaN errors, packing."""

import numpy as np
import pytest

from hcl.encode import Encoder, pack_bits, unpack_bits
from hcl.errors import ConfigError, DataError


def test_integer_thermometer_is_x_ge_t_with_integer_thresholds():
    X = np.arange(100).reshape(-1, 1)
    enc = Encoder.fit(X, bits=3, method="uniform", input_width=7)
    assert enc.thresholds.dtype == np.int64
    bits = enc.transform(X)
    for j, t in enumerate(enc.thresholds):
        assert np.array_equal(bits[:, j], X[:, 0] >= t)
    # Thermometer: levels are monotone in x.
    assert (np.diff(bits.sum(axis=1)) >= 0).all()


def test_quantile_thresholds_balance_the_training_data():
    rng = np.random.default_rng(0)
    X = rng.exponential(100, size=(5000, 1)).astype(np.int64)
    enc = Encoder.fit(X, bits=3, method="quantile", input_width=12)
    frac = enc.transform(X).mean(axis=0)
    assert np.allclose(sorted(frac, reverse=True), [0.75, 0.5, 0.25], atol=0.03)


def test_fitted_on_training_split_only():
    train = np.array([[0], [10], [20], [30]])
    enc = Encoder.fit(train, bits=1, method="uniform", input_width=8)
    assert enc.transform(np.array([[255]])).all() and not enc.transform(np.array([[0]])).any()
    assert enc.thresholds.tolist() == [16]


def test_constant_features_give_no_bits_and_all_constant_is_an_error():
    X = np.array([[5, 1], [5, 2], [5, 3]])
    assert set(Encoder.fit(X, bits=2, input_width=4).features.tolist()) == {1}
    with pytest.raises(DataError, match="constant"):
        Encoder.fit(np.full((4, 2), 7), input_width=4)


def test_one_hot_for_categorical_columns():
    X = np.array([[0, 3], [1, 7], [2, 3], [1, 9]])
    enc = Encoder.fit(X, bits=1, categorical=[1], input_width=4)
    onehot = [i for i, op in enumerate(enc.ops) if op == "=="]
    assert enc.thresholds[onehot].tolist() == [3, 7, 9]
    assert (enc.transform(X)[:, onehot].sum(axis=1) == 1).all()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_clear_errors(bad):
    X = np.ones((5, 3))
    X[2, 1] = bad
    with pytest.raises(DataError, match="row 2, column 1"):
        Encoder.fit(X)


def test_unknown_method_and_bad_bits():
    with pytest.raises(ConfigError):
        Encoder.fit(np.arange(10).reshape(-1, 1), method="median")
    with pytest.raises(ConfigError):
        Encoder.fit(np.arange(10).reshape(-1, 1), bits=0)


def test_transform_checks_feature_count():
    enc = Encoder.fit(np.arange(20).reshape(-1, 2), input_width=5)
    with pytest.raises(DataError, match="3 features"):
        enc.transform(np.zeros((2, 3)))


def test_dict_round_trip():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 4096, size=(300, 4))
    enc = Encoder.fit(X, bits=5, input_width=12)
    back = Encoder.from_dict(enc.to_dict(), expect_bits=enc.n_bits)
    assert np.array_equal(back.transform(X), enc.transform(X))


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_pack_layout_and_round_trip(n):
    rng = np.random.default_rng(n)
    bits = rng.random((n, 5)) < 0.5
    packed = pack_bits(bits)
    assert packed.shape == (5, -(-n // 64)) and packed.dtype == np.uint64
    assert ((packed[2, 0] >> np.uint64(0)) & np.uint64(1)) == bits[0, 2]
    assert np.array_equal(unpack_bits(packed, n), bits)
    if n % 64:
        assert (packed[:, -1] >> np.uint64(n % 64)).max() == 0, "padding bits must be zero"


def test_threshold_bits_round_to_top_bits_of_the_word():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 4096, size=(2000, 2))
    enc = Encoder.fit(X, bits=4, input_width=12, threshold_bits=3)
    assert (enc.thresholds % (1 << 9) == 0).all() and (enc.thresholds > 0).all()
    with pytest.raises(ConfigError):
        Encoder.fit(X.astype(float), threshold_bits=3)
