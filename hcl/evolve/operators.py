"""Variation operators on LUT networks. Each returns (child, changed, refit):

* ``child``: a new Network (the parent is never modified);
* ``changed``: bool [n_luts], the LUTs whose wiring or table differ from the first parent (for delta evaluation);
* ``refit``: global LUT indices whose truth tables should be refitted from the data after the change.

All randomness comes from the numpy Generator passed in.
"""

from __future__ import annotations

import numpy as np

from hcl.network import Network, random_tables
from hcl.evolve.fitness import locate


def _global_index(net: Network, layer: int, index: int) -> int:
    return int(sum(net.layer_sizes[:layer])) + index


def rewire(rng: np.random.Generator, net: Network) -> tuple[Network, np.ndarray, list[int]]:
    """Move one input of one LUT to another signal of the previous layer, then refit that LUT's table."""
    child = net.copy()
    lut = int(rng.integers(net.n_luts))
    layer, index = locate(child, lut)
    n_prev = net.n_inputs if layer == 0 else net.layer_sizes[layer - 1]
    pin = int(rng.integers(net.k))
    current = set(child.wiring[layer][index].tolist())
    if len(current) < n_prev:
        # Prefer a signal the LUT does not read yet: a duplicate input wastes half the table.
        choices = np.setdiff1d(np.arange(n_prev), np.fromiter(current, dtype=np.int64))
        child.wiring[layer][index, pin] = int(rng.choice(choices))
    else:
        child.wiring[layer][index, pin] = int(rng.integers(n_prev))
    changed = np.zeros(net.n_luts, dtype=np.bool_)
    changed[lut] = True
    return child, changed, [lut] + consumers(child, layer, index)


def consumers(net: Network, layer: int, index: int) -> list[int]:
    """Global indices of the LUTs in the next layer that read LUT `index` of `layer`."""
    if layer + 1 >= len(net.wiring):
        return []
    readers = np.flatnonzero((net.wiring[layer + 1] == index).any(axis=1))
    return [_global_index(net, layer + 1, int(i)) for i in readers]


def flip_table_bits(rng: np.random.Generator, net: Network, max_bits: int = 3) -> tuple[Network, np.ndarray, list[int]]:
    """Plain bit-flip mutation: flip 1..max_bits entries of one LUT's truth table."""
    child = net.copy()
    lut = int(rng.integers(net.n_luts))
    layer, index = locate(child, lut)
    flips = rng.choice(1 << net.k, size=int(rng.integers(1, max_bits + 1)), replace=False)
    mask = 0
    for a in flips:
        mask |= 1 << int(a)
    child.tables[layer][index] = np.uint64(int(child.tables[layer][index]) ^ mask)
    changed = np.zeros(net.n_luts, dtype=np.bool_)
    changed[lut] = True
    return child, changed, []


def refit_random(rng: np.random.Generator, net: Network) -> tuple[Network, np.ndarray, list[int]]:
    """No structural change; refit the table of one random LUT (useful after upstream changes)."""
    return net.copy(), np.zeros(net.n_luts, dtype=np.bool_), [int(rng.integers(net.n_luts))]


def lut_crossover(rng: np.random.Generator, a: Network, b: Network) -> tuple[Network, np.ndarray, list[int]]:
    """Uniform LUT-wise crossover: each LUT (wiring and table together) comes from parent a or b.

    Only defined for parents of the same topology; otherwise the child is a copy of `a`."""
    child = a.copy()
    changed = np.zeros(a.n_luts, dtype=np.bool_)
    if a.layer_sizes != b.layer_sizes or a.groups != b.groups or a.n_inputs != b.n_inputs:
        return child, changed, []
    offset = 0
    for layer, size in enumerate(a.layer_sizes):
        take = rng.random(size) < 0.5
        child.wiring[layer][take] = b.wiring[layer][take]
        child.tables[layer][take] = b.tables[layer][take]
        differs = take & ((a.wiring[layer] != b.wiring[layer]).any(axis=1) | (a.tables[layer] != b.tables[layer]))
        changed[offset:offset + size] = differs
        offset += size
    return child, changed, []


def random_network_for(rng: np.random.Generator, k: int, n_inputs: int, hidden: list[int], group_size: int,
                       classes: list[str]) -> Network:
    """A random network with the given hidden layers and `group_size` output LUTs per class."""
    from hcl.network import random_network
    sizes = list(hidden) + [group_size * len(classes)]
    return random_network(rng, k, n_inputs, sizes, len(classes), classes)


__all__ = ["rewire", "flip_table_bits", "refit_random", "lut_crossover", "random_network_for", "random_tables"]
