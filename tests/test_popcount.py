"""hcl.popcount: the counter tree the emitted design counts a class group with equals a popcount, for every input."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from hcl import cost
from hcl.popcount import MAX_COUNTER_INPUTS, Counter, check_tree, counter_tree


@pytest.mark.parametrize("n", range(1, 13))
def test_tree_counts_every_input_exactly(n):
    bits = np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.uint8).reshape(-1, n)
    assert np.array_equal(counter_tree(n).evaluate(bits), bits.sum(axis=1))


@pytest.mark.parametrize("n", [13, 16, 17, 31, 32, 50, 64, 65, 100, 128, 200])
def test_tree_counts_random_and_extreme_inputs(n):
    rng = np.random.default_rng(n)
    bits = rng.integers(0, 2, size=(3000, n), dtype=np.uint8)
    bits[0], bits[1] = 0, 1                                    # the count's smallest and largest value
    bits[2:2 + n] = np.eye(n, dtype=np.uint8)                  # each input alone
    assert np.array_equal(counter_tree(n).evaluate(bits), bits.sum(axis=1))


@pytest.mark.parametrize("n", [2, 7, 16, 64, 100])
def test_tree_is_a_layered_lut_netlist(n):
    """Each counter is a LUT6 or smaller per output, reads only signals made in earlier stages, outputs no bit
    that can only be 0 (weight >= 2^width), and the rows to add are at most two (one carry-chain adder)."""
    tree = counter_tree(n)
    made = set(range(n))
    for stage in tree.stages:
        new = set()
        for counter in stage:
            assert 2 <= len(counter.inputs) <= MAX_COUNTER_INPUTS
            assert set(counter.inputs) <= made
            assert all(counter.column + b < tree.width for b in range(len(counter.outputs)))
            new |= set(counter.outputs)
        made |= new
    assert len(tree.rows) <= 2 and all(len(row) == tree.width for row in tree.rows)
    used = [s for row in tree.rows for s in row if s is not None]
    assert len(used) == len(set(used)) and set(used) <= made


def test_counter_table_is_the_count_bit_of_its_address():
    c = counter_tree(6).stages[0][0]
    assert len(c.inputs) == 6 and c.table(0) == 0x6996966996696996
    for a in range(64):
        assert [(c.table(b) >> a) & 1 for b in range(3)] == [(a.bit_count() >> b) & 1 for b in range(3)]


def test_cost_tables_were_measured_for_this_tree():
    """hcl.cost's popcount tables are Yosys measurements of this structure: a changed tree needs a re-measure
    (benchmarks/bench_synth.py --calibrate) and new POPCOUNT_TREE_LUTS."""
    assert {n: counter_tree(n).luts for n in cost.POPCOUNT_TREE_LUTS} == cost.POPCOUNT_TREE_LUTS


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 33, 64, 100, 200])
def test_check_tree_accepts_the_trees_the_design_uses(n):
    assert check_tree(counter_tree(n)) is counter_tree(n)


def _broken(tree, **change):
    return dataclasses.replace(tree, **change)


@pytest.mark.parametrize("breaking", ["lost bit", "double use", "wrong column", "wrong table", "dropped output"])
def test_check_tree_refuses_a_tree_that_miscounts(breaking):
    """Each change makes the tree count wrongly for some input: the check must say so (hcl verify relies on it)."""
    tree = counter_tree(16)
    stages = [list(s) for s in tree.stages]
    first = stages[0][0]
    if breaking == "lost bit":
        stages[0][0] = dataclasses.replace(first, inputs=first.inputs[:-1])
    elif breaking == "double use":
        stages[0][1] = dataclasses.replace(stages[0][1], inputs=(first.inputs[0],) + stages[0][1].inputs[1:])
    elif breaking == "wrong column":
        stages[0][0] = dataclasses.replace(first, column=1)
    elif breaking == "wrong table":
        stages[0][0] = BadTable(first.column, first.inputs, first.outputs)
    else:
        stages[0][0] = dataclasses.replace(first, outputs=first.outputs[:-1])
    broken = _broken(tree, stages=tuple(tuple(s) for s in stages))
    with pytest.raises(RuntimeError, match="popcount tree of 16 bits"):
        check_tree(broken)


@dataclasses.dataclass(frozen=True)
class BadTable(Counter):
    def table(self, bit: int) -> int:
        return super().table(bit) ^ (1 << 5)
