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


# ---- by hand: thresholds, rounding, the file form, the checks (fast; the mutation benchmark's selection) -----------
def test_thermometer_thresholds_by_hand():
    """Integers: x > cut <=> x >= floor(cut) + 1; uniform cuts at lo + (hi - lo) * i / (bits + 1), quantile cuts at
    the training quantiles; floats keep the cut; a threshold at or below the minimum (or above the maximum) would
    be a constant bit and is dropped."""
    X = np.arange(100).reshape(-1, 1)
    for method in ("uniform", "quantile"):          # cuts 24.75, 49.5, 74.25 either way
        assert Encoder.fit(X, bits=3, method=method, input_width=7).thresholds.tolist() == [25, 50, 75]
    X = np.arange(4096).reshape(-1, 1)               # cuts 682.5, 1365, 2047.5, 2730, 3412.5
    assert Encoder.fit(X, bits=5, method="uniform", input_width=12).thresholds.tolist() == \
        [683, 1366, 2048, 2731, 3413]
    floats = Encoder.fit(np.array([[0.0, 1], [1, 2], [2, 3], [3, 4]]), bits=1, method="uniform")
    assert floats.thresholds.tolist() == [1.5, 2.5] and floats.thresholds.dtype == np.float64
    # [0, 0, 0, 1]: the median cut 0 equals the minimum and splits nothing, so the uniform cut 0.5 (the column
    # varies: it must get a bit); [1, 2, 3, 4]: 2.5
    skewed = Encoder.fit(np.array([[0.0, 1], [0, 2], [0, 3], [1, 4]]), bits=1)
    assert (skewed.features.tolist(), skewed.thresholds.tolist()) == ([0, 1], [0.5, 2.5])
    # integer 0/1 flags set in most rows or in few: the median cut ties the maximum (x > 1 is never true) or the
    # minimum; either way the flag keeps its one bit, x >= 1
    flags = Encoder.fit(np.array([[1, 0], [1, 0], [1, 0], [0, 1]]), bits=1, input_width=1)
    assert (flags.features.tolist(), flags.thresholds.tolist()) == ([0, 1], [1, 1])
    narrow = Encoder.fit(np.array([[0, 5], [1, 6]]), bits=3, method="uniform", input_width=4)
    assert narrow.thresholds.tolist() == [1, 6]      # all cuts of [0, 1] give 1, of [5, 6] give 6: one bit each
    per = Encoder.fit(np.arange(200).reshape(-1, 2), bits=[1, 3], method="uniform", input_width=8)
    assert per.features.tolist() == [0, 1, 1, 1] and per.bits_per_feature == 3
    with pytest.raises(ConfigError, match=r"encoder bits: need one value >= 1 per feature \(2 features\)"):
        Encoder.fit(np.arange(200).reshape(-1, 2), bits=[1, 3, 2])


def test_threshold_bits_round_to_the_words_top_bits_by_hand():
    X = np.arange(4096).reshape(-1, 1)
    # 683, 1366, 2048, 2731, 3413 rounded to multiples of 2**(12 - 3) = 512 (at least 512)
    assert Encoder.fit(X, bits=5, method="uniform", input_width=12, threshold_bits=3).thresholds.tolist() == \
        [512, 1536, 2048, 2560, 3584]
    low = Encoder.fit(np.array([[0], [1], [4095]]), bits=1, method="quantile", input_width=12, threshold_bits=3)
    assert low.thresholds.tolist() == [512]          # the cut 1 -> 2 rounds to 0: kept at the first step
    words = Encoder.fit(np.column_stack([np.arange(8), np.arange(8)]), bits=3, method="uniform",
                        input_width=[12, 3], threshold_bits=3)
    # feature 0 (12 bits, values 0..7): its cuts round to 512, above every training value: no bit; feature 1 (a
    # 3-bit word) is compared exactly
    assert (words.features.tolist(), words.thresholds.tolist()) == ([1, 1, 1], [2, 4, 6])
    for bad in (0, 65):
        with pytest.raises(ConfigError, match=f"threshold_bits: needs integer inputs and a value in 1..64, got {bad}"):
            Encoder.fit(X, input_width=12, threshold_bits=bad)
    assert Encoder.fit(X, bits=1, input_width=12, threshold_bits=64).thresholds.tolist() == [2048]


def test_too_many_categories_name_the_column():
    X = np.array([[0, 3], [1, 7], [2, 3], [1, 9]])
    with pytest.raises(DataError, match=r"^column 'colour': 3 categories exceed 2; is it really categorical\?$"):
        Encoder.fit(X, categorical=[1], max_categories=2, names=["n", "colour"], input_width=4)
    with pytest.raises(DataError, match=r"^column 1: 3 categories exceed 2"):
        Encoder.fit(X, categorical=[1], max_categories=2, input_width=4)
    assert Encoder.fit(X, categorical=[1], max_categories=3, input_width=4).n_bits == 3 + 2


def test_the_file_form_by_hand():
    enc = Encoder.fit(np.array([[0, 5], [1, 6]]), bits=3, method="uniform", input_width=[4, 4], signed=[False, False])
    assert (enc.input_width, enc.signed) == (4, False)          # one value when every feature agrees
    assert enc.to_dict() == {"kind": "comparators", "method": "uniform", "bits_per_feature": 3, "n_features": 2,
                             "input_width": 4, "signed": False, "bits": [[0, ">=", 1], [1, ">=", 6]]}
    mixed = Encoder.fit(np.array([[0, -5], [1, 6]]), bits=1, input_width=[4, 5], signed=[False, True])
    d = mixed.to_dict()
    assert (d["input_width"], d["signed"]) == ([4, 5], [False, True])
    assert all(type(t) is int for _, _, t in d["bits"])
    back = Encoder.from_dict(d, expect_bits=2)
    assert (back.input_width, back.signed, back.method, back.bits_per_feature) == ((4, 5), (False, True), "quantile", 1)
    assert (back.widths, back.signs, back.word_offsets(), back.port_width) == ([4, 5], [False, True], [0, 4], 9)
    assert back.integer and back.n_bits == 2
    floats = Encoder.fit(np.array([[0.0, 1], [0, 2], [0, 3], [1, 4]]), bits=1).to_dict()
    assert floats["input_width"] is None and floats["bits"] == [[0, ">=", 0.5], [1, ">=", 2.5]]
    assert not Encoder.from_dict(floats).integer
    with pytest.raises(ConfigError, match=r"encoder input_width: 3 values for 2 features"):
        Encoder.fit(np.array([[0, 5], [1, 6]]), input_width=[4, 4, 4])


@pytest.mark.parametrize("edit, says", [
    (lambda d: d["bits"].append([2, ">=", 1]), r"^encoder.bits\[2\]: feature 2 out of range 0..1$"),
    (lambda d: d["bits"][0].__setitem__(2, 1.5), r"^encoder.bits\[0\]: integer inputs need an integer threshold, got 1.5$"),
    (lambda d: d.__setitem__("input_width", [4, 4, 4]), r"^encoder.input_width: 3 entries, need one per feature \(2\)$"),
    (lambda d: d.__setitem__("signed", [True]), r"^encoder.signed: 1 entries, need one per feature \(2\)$"),
])
def test_a_bad_encoder_in_a_file_names_the_field(edit, says):
    from hcl.errors import NetworkFormatError
    d = Encoder.fit(np.array([[0, 5], [1, 6]]), bits=1, input_width=4).to_dict()
    edit(d)
    with pytest.raises(NetworkFormatError, match=says):
        Encoder.from_dict(d)


def test_expect_bits_must_match_the_network():
    from hcl.errors import NetworkFormatError
    d = Encoder.fit(np.array([[0, 5], [1, 6]]), bits=1, input_width=4).to_dict()
    assert Encoder.from_dict(d, expect_bits=2).n_bits == 2
    with pytest.raises(NetworkFormatError, match=r"^encoder.bits: 2 comparisons but the network has n_inputs=3$"):
        Encoder.from_dict(d, expect_bits=3)


def test_transform_compares_integer_words_and_floats_as_they_are():
    enc = Encoder.fit(np.arange(100).reshape(-1, 1), bits=3, method="uniform", input_width=7)   # 25, 50, 75
    assert enc.transform(np.array([[24], [25], [74], [75]])).tolist() == [[False] * 3, [True, False, False],
                                                                           [True, True, False], [True] * 3]
    assert enc.transform(np.array([[24.9]])).tolist() == [[False] * 3]        # an integer word: 24
    onehot = Encoder.fit(np.array([[0, 3], [1, 7]]), bits=1, categorical=[1], input_width=4)
    assert onehot.transform(np.array([[1, 7], [0, 4]])).tolist() == [[True, False, True], [False, False, False]]
    floats = Encoder.fit(np.array([[0.0], [1.0]]), bits=1, method="uniform")                  # 0.5
    assert floats.transform(np.array([[0.5], [0.49]])).tolist() == [[True], [False]]


@pytest.mark.parametrize("X, says", [(np.arange(3), r"^data: expected a 2-D array \[samples, features\], got "
                                                    r"shape \(3,\)$"),
                                     (np.zeros((0, 2)), r"^data: no samples$"),
                                     (np.array([["a"]]), r"^data: features must be numeric, got dtype <U1$"),
                                     (np.array([[1.0, np.nan]]), r"^data: NaN or inf at row 0, column 1: clean")])
def test_check_data_names_what_is_wrong(X, says):
    from hcl.encode import check_data
    with pytest.raises(DataError, match=says):
        check_data(X, "data")
    check_data(np.array([[True, False]]), "data")


def test_unpack_rows_is_one_row_per_bit():
    from hcl.encode import unpack_rows
    bits = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)             # 3 samples, 2 bits
    rows = unpack_rows(pack_bits(bits), 3)
    assert rows.dtype == np.uint8 and rows.tolist() == [[1, 1, 0], [0, 1, 1]]
    assert pack_bits(np.zeros((0, 2), dtype=bool)).shape == (2, 1)


# ---- for the mutation benchmark's survivors ---------------------------------------------------------------------
def test_the_defaults_of_fit():
    """bits 4 (quantile cuts at 20 % .. 80 %), unsigned words, at most 32 categories, no split recorded."""
    enc = Encoder.fit(np.arange(100).reshape(-1, 1), input_width=7)
    assert enc.thresholds.tolist() == [20, 40, 60, 80] and enc.signed is False and enc.method == "quantile"
    assert enc.fitted_on is None
    X = np.column_stack([np.arange(64) % 33, np.arange(64)])
    with pytest.raises(DataError, match="33 categories exceed 32"):
        Encoder.fit(X, categorical=[0], input_width=7)
    assert Encoder.fit(np.column_stack([np.arange(64) % 32, np.arange(64)]), categorical=[0], input_width=7).n_bits \
        == 32 + 4


def test_fit_checks_and_records_the_split_it_was_given():
    from hcl.errors import LeakError
    from hcl.splits import Split
    X, y = np.arange(20).reshape(-1, 2), np.zeros(10)
    split = Split.of("train", y, X)
    assert Encoder.fit(X, bits=1, input_width=5, split=split).fitted_on is split
    with pytest.raises(LeakError, match=r"^internal error: the encoder's thresholds was given feature rows that are "
                                        r"not its own where the train split \(10 rows\) belongs"):
        Encoder.fit(X[::-1], bits=1, input_width=5, split=split)


def test_every_message_of_fit_and_transform_says_which_data():
    with pytest.raises(DataError, match=r"^training data: no samples$"):
        Encoder.fit(np.zeros((0, 2)))
    enc = Encoder.fit(np.arange(20).reshape(-1, 2), input_width=5)
    with pytest.raises(DataError, match=r"^input data: no samples$"):
        enc.transform(np.zeros((0, 2)))
    with pytest.raises(ConfigError, match=r"^encoder method 'median' unknown: use one of quantile, uniform$"):
        Encoder.fit(np.arange(10).reshape(-1, 1), method="median")
    with pytest.raises(DataError, match=r"^training data: every feature is constant, nothing to encode$"):
        Encoder.fit(np.full((4, 2), 7), input_width=4)
    with pytest.raises(ConfigError, match=r"^encoder signed: 3 values for 2 features$"):
        Encoder.fit(np.arange(20).reshape(-1, 2), input_width=5, signed=[False] * 3)


def test_threshold_bits_of_one_and_a_step_of_two():
    X = np.arange(4096).reshape(-1, 1)
    assert Encoder.fit(X, bits=1, input_width=12, threshold_bits=1).thresholds.tolist() == [2048]
    # 4-bit words, 3 kept: a step of 2; cuts 3, 6, 9, 12 -> 4, 7, 10, 13 -> rounded (half to even) 4, 8, 10, 12
    small = Encoder.fit(np.arange(16).reshape(-1, 1), bits=4, method="uniform", input_width=4, threshold_bits=3)
    assert small.thresholds.tolist() == [4, 8, 10, 12]


def test_negative_thresholds_of_signed_words_are_kept_as_they_are():
    signed = Encoder.fit(np.arange(-10, 11).reshape(-1, 1), bits=3, method="uniform", input_width=5, signed=True)
    assert signed.thresholds.tolist() == [-4, 1, 6]       # cuts -5, 0, 5


def test_a_threshold_at_the_training_minimum_is_dropped_and_a_float_one_at_the_maximum_kept():
    # column 0: the median 600 -> 601 rounds to 512 = the minimum: a bit always 1, dropped; the uniform cut
    # 2303.5 -> 2304 rounds to 2048 and splits: kept. Column 1 (512, 600, 700): both round to 512, no bit.
    X = np.array([[512, 0, 512], [600, 1, 600], [4095, 2, 700]])
    enc = Encoder.fit(X, bits=1, input_width=[12, 2, 12], threshold_bits=3)
    assert list(zip(enc.features.tolist(), enc.thresholds.tolist())) == [(0, 2048), (1, 2)]
    floats = Encoder.fit(np.array([[0.0], [1.0], [1.0], [1.0]]), bits=1)      # the median is 1.0, the maximum
    assert floats.thresholds.tolist() == [1.0]


def test_every_categorical_column_is_one_hot():
    X = np.array([[0, 3], [1, 7], [2, 3]])
    enc = Encoder.fit(X, categorical=[0, 1], input_width=4)
    assert list(zip(enc.features.tolist(), enc.thresholds.tolist())) == [(0, 0), (0, 1), (0, 2), (1, 3), (1, 7)]


def test_the_file_forms_types_and_defaults():
    import json
    from hcl.errors import NetworkFormatError
    enc = Encoder.fit(np.array([[0, 5], [1, 6]]), bits=1, input_width=np.array([4, 4]))
    assert type(enc.input_width) is int and json.dumps(enc.to_dict())
    d = enc.to_dict()
    for key in ("signed", "method", "bits_per_feature"):
        d.pop(key)
    back = Encoder.from_dict(d)
    assert (back.signed, back.method, back.bits_per_feature) == (False, "", 0)
    assert back.features.dtype == np.int64 and back.thresholds.dtype == np.int64
    floats = Encoder.from_dict(Encoder.fit(np.array([[0.0], [1.0]]), bits=1, method="uniform").to_dict())
    assert floats.thresholds.dtype == np.float64 and floats.thresholds.tolist() == [0.5]
    with pytest.raises(NetworkFormatError, match=r"^encoder"):
        Encoder.from_dict({"kind": "comparators"})


def test_structure_and_packing_details():
    enc = Encoder(3, np.array([0, 1, 2]), [">="] * 3, np.array([1, 1, 1]), (3, 5, 2))
    assert (enc.word_offsets(), enc.port_width) == ([0, 3, 8], 10)
    X = np.array([[1, 0, 1], [0, 2, 0]])
    assert np.array_equal(enc.encode_packed(X), pack_bits(enc.transform(X)))
    out = unpack_bits(pack_bits(np.array([[1, 0]], dtype=bool)), 1)
    assert out.dtype == bool and out.tolist() == [[True, False]]
