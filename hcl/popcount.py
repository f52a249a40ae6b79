"""A class's popcount as a tree of LUT counters: the one structure the emitted design uses to count a group.

A K-input LUT can output any bit of the count of its inputs, so a LUT6 triple is a 6:3 counter (three bits of
weight 1, 2, 4 from six bits of weight 1): one LUT per bit removed, against two for the full adders (3:2) that
Yosys builds from a plain sum. The tree works column by column (a column holds the bits of weight 2^c): each stage
splits every column of two or more bits into counters of at most six inputs, whose outputs land in the columns
above, until every column holds one bit -- the score. Bits of weight >= 2^width (width = bits of the largest
possible count) are always 0 and are not built. Parandeh-Afshar, Brisk, Ienne, "Efficient synthesis of
compressor trees on FPGAs" (ASP-DAC 2008) builds the same kind of tree from generalized parallel counters.

The Python model (``evaluate``) and the VHDL (``templates/network.vhd.j2`` renders every counter bit as a LUT
table) are both generated from :func:`counter_tree`: one structure, so the RTL cannot count differently from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MAX_COUNTER_INPUTS = 6          # a LUT6 per output bit


def uses_tree(k: int) -> bool:
    """Whether a K-input network's design counts with the tree. Only K = 6: a smaller LUT feeding a counter is
    merged into it by ABC, which then duplicates logic (K = 4 fed popcounts of 64 bits cost 294 LUTs beside the
    tree's 82 at K = 6, Yosys synth_xilinx); K <= 5 keep the template's plain VHDL sum."""
    return k >= MAX_COUNTER_INPUTS


@dataclass(frozen=True)
class Counter:
    column: int                  # its inputs all weigh 2^column
    inputs: tuple[int, ...]      # signal ids: 0..n-1 the group's bits, then counter outputs in creation order
    outputs: tuple[int, ...]     # output b weighs 2^(column + b); outputs that would be always 0 are left out

    def table(self, bit: int) -> int:
        """Truth table of output `bit`: table bit a = bit `bit` of the number of ones in address a."""
        return sum(1 << a for a in range(1 << len(self.inputs)) if (a.bit_count() >> bit) & 1)


@dataclass(frozen=True)
class CounterTree:
    n: int                                   # bits counted
    width: int                               # bits of the count
    stages: tuple[tuple[Counter, ...], ...]  # each stage reads only signals made before it: one LUT level each
    rows: tuple[tuple[int | None, ...], ...]  # the count = the sum of these rows; per bit (LSB first) a signal,
                                              # None for a constant 0

    @property
    def counters(self) -> list[Counter]:
        return [c for stage in self.stages for c in stage]

    @property
    def luts(self) -> int:
        return sum(len(c.outputs) for c in self.counters)

    @property
    def levels(self) -> int:
        return len(self.stages)

    def evaluate(self, bits: np.ndarray) -> np.ndarray:
        """The count of ones of each row of `bits` (``[samples, n]`` 0/1), computed through the counters."""
        bits = np.asarray(bits, dtype=np.uint64)
        signals = [bits[:, i] for i in range(self.n)]
        for counter in self.counters:
            addr = sum((signals[s] << np.uint64(i) for i, s in enumerate(counter.inputs)), np.uint64(0))
            for b, out in enumerate(counter.outputs):
                assert out == len(signals)
                signals.append((np.uint64(counter.table(b)) >> addr) & np.uint64(1))
        total = np.zeros(len(bits), dtype=np.int64)
        for row in self.rows:
            for c, s in enumerate(row):
                if s is not None:
                    total += signals[s].astype(np.int64) << c
        return total


def _split(height: int) -> list[int]:
    """Counter sizes for a column of `height` bits (a 1 passes on as it is): as few counters as possible, sizes
    balanced (7 bits: 4 + 3, not 6 + 1, so both halves reduce)."""
    n_counters = -(-height // MAX_COUNTER_INPUTS)
    base, extra = divmod(height, n_counters)
    return [base + 1] * extra + [base] * (n_counters - extra)


@lru_cache(maxsize=None)
def counter_tree(n: int, final_rows: int = 2) -> CounterTree:
    """The counter tree of a popcount of `n` bits."""
    if n < 0:
        raise ValueError(f"popcount of {n} bits")
    width = max(1, n.bit_length())
    columns: dict[int, list[int]] = {0: list(range(n))}
    next_id, stages = n, []
    while any(len(bits) > final_rows for bits in columns.values()):
        stage, after = [], {}
        for c in sorted(columns):
            bits = columns[c]
            if len(bits) == 1:
                after.setdefault(c, []).extend(bits)
                continue
            at = 0
            for size in _split(len(bits)):
                group = tuple(bits[at:at + size])
                at += size
                if size == 1:
                    after.setdefault(c, []).extend(group)
                    continue
                outs = []
                for b in range(size.bit_length()):
                    if c + b >= width:
                        break
                    outs.append(next_id)
                    after.setdefault(c + b, []).append(next_id)
                    next_id += 1
                stage.append(Counter(c, group, tuple(outs)))
        stages.append(tuple(stage))
        columns = after
    rows = tuple(tuple(columns[c][r] if len(columns.get(c, ())) > r else None for c in range(width))
                 for r in range(final_rows))
    return CounterTree(n, width, tuple(stages), rows)


def check_tree(tree: CounterTree) -> CounterTree:
    """`tree` itself when it counts every input of its n bits, else RuntimeError. Not by simulation: by the
    invariant that makes it a popcount. Every signal (input or counter output) is used exactly once, by a counter
    or in a row, at its own weight; a counter's inputs share a column and its output b sits b columns above; its
    table b is bit b of the count of ones for all of its addresses; the only outputs left out weigh >= 2^width.
    Then each counter replaces its inputs by outputs of the same weighted sum, so the rows add up to the count;
    a left-out output is 0, or the weighted sum would exceed n < 2^width."""
    def fail(why: str):
        raise RuntimeError(f"popcount tree of {tree.n} bits: {why}")

    if tree.n >= 1 << tree.width:
        fail(f"width {tree.width} cannot hold {tree.n}")
    column = {i: 0 for i in range(tree.n)}
    used: set[int] = set()
    for stage in tree.stages:
        made = {}
        for counter in stage:
            s = len(counter.inputs)
            if not 2 <= s <= MAX_COUNTER_INPUTS:
                fail(f"a counter of {s} inputs")
            if any(i not in column or i in used or column[i] != counter.column for i in counter.inputs):
                fail(f"counter inputs {counter.inputs} are not unused signals of column {counter.column}")
            used.update(counter.inputs)
            if len(counter.outputs) != min(s.bit_length(), tree.width - counter.column):
                fail(f"counter {counter.outputs} leaves out an output below weight 2^{tree.width}")
            for b, out in enumerate(counter.outputs):
                if out in column or out in made:
                    fail(f"signal {out} is made twice")
                if any(((counter.table(b) >> a) & 1) != ((a.bit_count() >> b) & 1) for a in range(1 << s)):
                    fail(f"the table of signal {out} is not bit {b} of its inputs' count")
                made[out] = counter.column + b
        column.update(made)                  # a stage reads only what earlier stages made
    for row in tree.rows:
        if len(row) != tree.width:
            fail(f"a row of {len(row)} bits")
        for c, s in enumerate(row):
            if s is not None and (s not in column or s in used or column[s] != c):
                fail(f"row bit {c} is signal {s}, not an unused signal of column {c}")
            used.add(s)
    if used - {None} != set(column):
        fail(f"signals {sorted(set(column) - used)} are never used")
    return tree
