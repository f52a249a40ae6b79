"""hcl.tasks.columns by hand: how each column of a user's table becomes the word the hardware reads (fast unit tests;
tests/test_own_data.py runs the same through whole files)."""

from __future__ import annotations

import numpy as np
import pytest

from hcl.errors import DataError, LeakError, NetworkFormatError
from hcl.splits import Split
from hcl.tasks.columns import (ColumnMap, InputMap, _numeric_cells, cell_text, compact, fit_categorical, fit_fixed,
                               word_range)


def _row(i: int) -> str:
    return f"line {i + 2}"


def _train(n: int) -> Split:
    return Split.of("train", np.zeros(n, dtype=np.int64))


@pytest.mark.parametrize("width, signed, lo_hi", [(8, False, (0, 255)), (8, True, (-128, 127)), (1, False, (0, 1)),
                                                  (1, True, (-1, 0)), (12, True, (-2048, 2047))])
def test_word_range_by_hand(width, signed, lo_hi):
    assert word_range(width, signed) == lo_hi


def test_compact_is_one_value_when_all_agree():
    assert compact([3, 3, 3]) == 3 and compact(x for x in (True, True)) is True
    assert compact([3, 4, 3]) == (3, 4, 3)


def test_cell_text_names_a_category_as_its_text():
    assert cell_text(np.array(["b", "a"])).tolist() == ["b", "a"]
    assert cell_text(np.array([3, -1], dtype=np.int32)).tolist() == ["3", "-1"]
    assert cell_text(np.array([True, False])).tolist() == ["1", "0"]
    assert cell_text(np.array([3.0, 2.5, -0.0, 1e20])).tolist() == ["3", "2.5", "0", "100000000000000000000"]


@pytest.mark.parametrize("cells, numeric", [(["1", "2.5", "-3", "1e3", " 4 "], [True] * 5),
                                            (["x", "inf", "nan", "-", "", "1,5"], [False] * 6)])
def test_numeric_cells_are_finite_numbers(cells, numeric):
    assert _numeric_cells(np.array(cells)).tolist() == numeric


@pytest.mark.parametrize("cmap, bits", [
    (ColumnMap("c", "categorical", ("a",)), 1), (ColumnMap("c", "categorical", ("a", "b")), 1),
    (ColumnMap("c", "categorical", ("a", "b", "c")), 2), (ColumnMap("c", "categorical", ("a", "b", "c", "d")), 2),
    (ColumnMap("c", "categorical", ("a", "b", "c", "d"), other=True), 3),
    (ColumnMap("c", "categorical", ("a",), other=True), 1), (ColumnMap("f", "fixed", bits=5), 5),
    (ColumnMap("r", "raw", bits=7, signed=True), 7)])
def test_code_bits_hold_every_code(cmap, bits):
    assert cmap.code_bits == bits


def test_categorical_codes_are_the_sorted_values_and_other_the_next():
    cmap = ColumnMap("colour", "categorical", ("a", "b", "d"))
    assert cmap.apply(np.array(["b", "a", "d", "b"]), "t.csv", _row).tolist() == [1, 0, 2, 1]
    with pytest.raises(DataError, match=r"^t.csv: column 'colour', line 4: value 'c' is not one of the 3 the network"):
        cmap.apply(np.array(["a", "b", "c", "e"]), "t.csv", _row)
    other = ColumnMap("colour", "categorical", ("a", "b", "d"), other=True)
    assert other.apply(np.array(["c", "a", "z", "d", "0"]), "t.csv", _row).tolist() == [3, 0, 3, 2, 3]
    assert other.apply(np.array(["e"]), "t.csv", _row).dtype == np.int64
    numbers = ColumnMap("n", "categorical", ("2.5", "3"))
    assert numbers.apply(np.array([3.0, 2.5, 3.0]), "t.csv", _row).tolist() == [1, 0, 1]
    nothing = ColumnMap("n", "categorical", (), other=True)       # a hand-edited map may list no values
    assert nothing.apply(np.array(["x", "y"]), "t.csv", _row).tolist() == [0, 0]
    with pytest.raises(DataError, match="value 'x' is not one of the 0"):
        ColumnMap("n", "categorical", ()).apply(np.array(["x"]), "t.csv", _row)


def test_raw_words_are_the_integers_as_they_are():
    raw = ColumnMap("n", "raw", bits=8)
    assert raw.apply(np.array([0, 255, 7]), "t.csv", _row).tolist() == [0, 255, 7]
    assert raw.apply(np.array([1.0, 2.0]), "t.csv", _row).tolist() == [1, 2]
    with pytest.raises(DataError, match=r"column 'n', line 3: 1.5 is not an integer"):
        raw.apply(np.array([1.0, 1.5, 2.5]), "t.csv", _row)
    with pytest.raises(DataError, match=r"line 3: 256 does not fit the 8-bit unsigned word the network reads \(0..255\)"):
        raw.apply(np.array([255, 256, 300]), "t.csv", _row)
    with pytest.raises(DataError, match=r"line 2: -1 does not fit"):
        raw.apply(np.array([-1, 0]), "t.csv", _row)
    signed = ColumnMap("s", "raw", bits=8, signed=True)
    assert signed.apply(np.array([-128, 127]), "t.csv", _row).tolist() == [-128, 127]
    with pytest.raises(DataError, match=r"line 2: -129 does not fit the 8-bit signed word .*\(-128..127\)"):
        signed.apply(np.array([-129]), "t.csv", _row)
    with pytest.raises(DataError, match=r"line 4: 128 does not fit"):
        signed.apply(np.array([0, 1, 128]), "t.csv", _row)
    with pytest.raises(DataError, match=r"column 'n', line 3: 'x' is not a number \(the network reads this column"):
        raw.apply(np.array(["1", "x"]), "t.csv", _row)


def test_fixed_point_codes_by_hand():
    """code = clip(floor(x * 2**frac) - offset, 0, 2**bits - 1)."""
    f = ColumnMap("f", "fixed", bits=4, frac=2, offset=1)
    # floor(0) - 1, floor(1.2) - 1, floor(4) - 1, floor(20) - 1, floor(-4) - 1, floor(4.4) - 1
    codes = f.apply(np.array([0.0, 0.3, 1.0, 5.0, -1.0, 1.1]), "t.csv", _row)
    assert codes.tolist() == [0, 0, 3, 15, 0, 3] and codes.dtype == np.int64
    # integers with frac <= 0: an exact right shift: [0, 7, 8, 100, -5] >> 2 = [0, 1, 2, 25, -2], less 1, clipped
    shift = ColumnMap("g", "fixed", bits=4, frac=-2, offset=1)
    assert shift.apply(np.array([0, 7, 8, 100, -5]), "t.csv", _row).tolist() == [0, 0, 1, 15, 0]
    assert shift.apply(np.array([2**60 + 7]), "t.csv", _row).tolist() == [15]
    exact = ColumnMap("h", "fixed", bits=20, frac=0, offset=-3)
    assert exact.apply(np.array([2**19 - 4, 2**19 - 3]), "t.csv", _row).tolist() == [2**19 - 1, 2**19]
    finer = ColumnMap("i", "fixed", bits=6, frac=1, offset=0)          # integers scaled up: the float path
    assert finer.apply(np.array([3, 40]), "t.csv", _row).tolist() == [6, 63]
    with pytest.raises(DataError, match=r"column 'f', line 2: 'a' is not a number"):
        f.apply(np.array(["a", "1"]), "t.csv", _row)


@pytest.mark.parametrize("values, bits, frac_offset", [
    ([0.0, 1.0], 4, (3, 0)),                  # 1.0 * 2**3 = 8 <= 15; 2**4 = 16 would not fit
    ([-1.5, 2.25], 8, (6, -96)),              # 2.25 * 64 - (-1.5 * 64) = 240 <= 255; at 7: 480
    ([0.1, 0.2], 8, (11, 204)),               # span 0.1: floor(409.6) - floor(204.8) = 205 <= 255; at 12: 410
    ([10, 1000], 4, (-6, 0)),                 # integers: 1000 >> 6 = 15; 10 >> 6 = 0
    ([0, 10], 8, (0, 0)),                     # integers are never scaled up
    ([-7, 9], 4, (-1, -4)),                   # 17 integers do not fit 16 codes: halved, -7 >> 1 = -4 .. 9 >> 1 = 4
    ([5.0, 5.0], 8, (0, 5)),                  # constant: code 0
    ([1e300, -1e300], 8, (-990, -96)),        # 1e300 / 2**990 = 95.5: -96 .. 95 (at -989: 382 codes)
])
def test_fit_fixed_by_hand(values, bits, frac_offset):
    col = np.array(values)
    m = fit_fixed("v", col, bits, _train(len(col)))
    assert (m.kind, m.bits, m.frac, m.offset) == ("fixed", bits) + frac_offset
    assert m.fitted_on.name == "train"
    codes = m.apply(col, "t.csv", _row)
    assert codes.min() >= 0 and codes.max() <= (1 << bits) - 1


def test_fit_categorical_by_hand():
    vocabulary = np.array(["b", "a", "c", "a", "b"])
    m = fit_categorical("c", vocabulary, np.array(["a", "a", "b"]), 32, None, "t.csv", _train(3))
    assert (m.values, m.other, m.fitted_on.rows) == (("a", "b", "c"), False, 3)
    # the most frequent training values: 'b' twice; ties go to the first in text order
    top = fit_categorical("c", vocabulary, np.array(["c", "b", "b", "a"]), 32, 1, "t.csv", _train(4))
    assert (top.values, top.other) == (("b",), True)
    tie = fit_categorical("c", vocabulary, np.array(["c", "b", "a", "c", "b"]), 32, 2, "t.csv", _train(5))
    assert tie.values == ("b", "c")
    assert fit_categorical("c", vocabulary, np.array(["a"]), 32, 3, "t.csv", _train(1)).values == ("a",)
    assert fit_categorical("n", np.array([2.0, 3.0]), np.array([3.0]), 32, None, "t.csv", _train(1)).values == \
        ("2", "3")
    assert fit_categorical("c", vocabulary, np.array(["a"]), 3, None, "t.csv", _train(1)).values == ("a", "b", "c")
    with pytest.raises(DataError, match=r"^t.csv: column 'c' has 3 distinct values, more than --max-categories 2: "
                                        r".*--top-categories N .*--drop c$"):
        fit_categorical("c", vocabulary, np.array(["a"]), 2, None, "t.csv", _train(1))
    with pytest.raises(LeakError, match="category counts was given 2 rows"):
        fit_categorical("c", vocabulary, np.array(["a", "b"]), 32, 1, "t.csv", _train(3))


@pytest.mark.parametrize("cmap, text, d", [
    (ColumnMap("r", "raw", bits=8), "raw integer, 8-bit unsigned", {"name": "r", "kind": "raw", "bits": 8,
                                                                    "signed": False}),
    (ColumnMap("s", "raw", bits=4, signed=True), "raw integer, 4-bit signed",
     {"name": "s", "kind": "raw", "bits": 4, "signed": True}),
    (ColumnMap("c", "categorical", ("a", "b")), "categorical, 2 values",
     {"name": "c", "kind": "categorical", "values": ["a", "b"], "other": False}),
    (ColumnMap("c", "categorical", ("a",), other=True), "categorical, 1 values + other",
     {"name": "c", "kind": "categorical", "values": ["a"], "other": True}),
    (ColumnMap("f", "fixed", bits=6, frac=-2, offset=3), "6-bit fixed point: clip(floor(x * 2**-2) - 3, 0, 63)",
     {"name": "f", "kind": "fixed", "bits": 6, "frac": -2, "offset": 3}),
])
def test_describe_and_to_dict_by_hand(cmap, text, d):
    assert cmap.describe() == text and cmap.to_dict() == d
    back = InputMap.from_dict({"label": "y", "features": [d]})
    assert back.columns == (cmap,) and back.names == [cmap.name] and back.label == "y"
    assert back.to_dict() == {"label": "y", "features": [d]}


@pytest.mark.parametrize("values", [["b", "a"], ["a", "a"]])
def test_an_input_map_with_unsorted_or_repeated_values_is_refused(values):
    bad = {"label": "y", "features": [{"name": "c", "kind": "categorical", "values": values, "other": False}]}
    with pytest.raises(NetworkFormatError, match=r"^meta.inputs: feature 'c': values must be distinct and sorted$"):
        InputMap.from_dict(bad)
    with pytest.raises(NetworkFormatError, match=r"^net.inputs: feature 'c'"):
        InputMap.from_dict(bad, where="net.inputs")
    with pytest.raises(NetworkFormatError, match="meta.inputs"):
        InputMap.from_dict({"label": "y"})


def test_defaults_of_an_input_map_entry():
    """Fields a file may leave out take the defaults the writer would have written."""
    m = InputMap.from_dict({"label": "y", "features": [{"name": "c", "kind": "categorical", "values": ["a"]},
                                                       {"name": "r", "kind": "raw", "bits": 3},
                                                       {"name": "f", "kind": "fixed", "bits": 2, "frac": 0,
                                                        "offset": 0}]})
    assert m.columns == (ColumnMap("c", "categorical", ("a",)), ColumnMap("r", "raw", bits=3),
                         ColumnMap("f", "fixed", bits=2))
    assert (m.columns[0].other, m.columns[1].signed) == (False, False)


# ---- for the mutation benchmark's survivors ---------------------------------------------------------------------
def test_fixed_point_codes_of_integers_are_exact_and_of_floats_scale_by_a_power_of_two():
    """Integer columns are shifted exactly (a double would round 2**59 - 1 up); frac = 3 scales by 8, not 6."""
    wide = ColumnMap("g", "fixed", bits=20, frac=-40, offset=0)
    codes = wide.apply(np.array([(2**19 + 3) * 2**40 - 1]), "t.csv", _row)
    assert codes.tolist() == [2**19 + 2] and codes.dtype == np.int64
    zero = ColumnMap("z", "fixed", bits=60, frac=0, offset=0)
    assert zero.apply(np.array([2**53 + 1]), "t.csv", _row).tolist() == [2**53 + 1]
    assert ColumnMap("f", "fixed", bits=8, frac=3, offset=0).apply(np.array([1.5, 2.0]), "t.csv", _row).tolist() == \
        [12, 16]
    halves = ColumnMap("h", "fixed", bits=4, frac=-1, offset=0)     # a float column with frac <= 0: floor(x / 2)
    assert halves.apply(np.array([3.0, 7.5, -1.0]), "t.csv", _row).tolist() == [1, 3, 0]


@pytest.mark.parametrize("values, bits, frac_offset", [
    ([0.5, 1.4999], 4, (4, 8)),               # the first guess, 3, leaves room: 23 - 8 = 15 codes at 4
    ([-1e-300, 1.875], 4, (2, -1)),           # the first guess, 3, needs 15 - (-1) = 16 codes: one less
    ([0.0, 1e-300], 8, (1000, 0)),            # the finest code allowed (FRAC_LIMIT)
    ([-1e308, 1e308], 8, (-1000, -9332637)),  # the coarsest allowed (their range overflows a double): codes clip
])
def test_fit_fixed_corrects_its_first_guess_within_the_limits(values, bits, frac_offset):
    m = fit_fixed("v", np.array(values), bits, _train(2))
    assert (m.frac, m.offset) == frac_offset


def test_messages_of_unreadable_cells_say_the_way_out():
    with pytest.raises(DataError, match=r"\(train with --top-categories N to code unseen and rare values as "
                                        r"'other'\)$"):
        ColumnMap("c", "categorical", ("a",)).apply(np.array(["b"]), "t.csv", _row)
    with pytest.raises(DataError, match=r"is not a number \(the network reads this column as numbers\)$"):
        ColumnMap("n", "raw", bits=4).apply(np.array(["x"]), "t.csv", _row)
    with pytest.raises(DataError, match=r"as raw integers \(retrain with --input-bits N for fixed-point codes\)$"):
        ColumnMap("n", "raw", bits=4).apply(np.array([1.5]), "t.csv", _row)
    with pytest.raises(LeakError, match=r"^internal error: column 'v'.s fixed-point format was given 3 rows"):
        fit_fixed("v", np.array([1.0, 2.0, 3.0]), 4, _train(2))


def test_fitted_maps_are_whole_and_record_their_split():
    vocabulary = np.array(["b", "a", "c"])
    split = _train(2)
    assert fit_categorical("colour", vocabulary, np.array(["a", "b"]), 32, 1, "t.csv", split) == \
        ColumnMap("colour", "categorical", ("a",), other=True)
    assert fit_categorical("colour", vocabulary, np.array(["a", "b"]), 32, None, "t.csv", split) == \
        ColumnMap("colour", "categorical", ("a", "b", "c"))
    for top in (1, None):
        assert fit_categorical("colour", vocabulary, np.array(["a", "b"]), 32, top, "t.csv", split).fitted_on is split
    assert fit_fixed("v", np.array([0.0, 1.0]), 4, split) == ColumnMap("v", "fixed", bits=4, frac=3, offset=0)
    assert compact([5]) == 5


def test_top_categories_break_ties_by_text_order_however_many_values():
    """60 values of 1..3 training rows each: the 10 kept are the most frequent, ties to the first in text order
    (a sort that is not stable picks others here)."""
    counts = np.random.default_rng(0).integers(1, 4, size=60)
    names = [f"v{i:02d}" for i in range(60)]
    train = np.array([n for n, c in zip(names, counts) for _ in range(c)])
    m = fit_categorical("c", np.array(names), train, 64, 10, "t.csv", _train(len(train)))
    assert m.values == tuple(sorted(sorted(names, key=lambda n: (-counts[names.index(n)], n))[:10]))
