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


# ---- topology operators: they renumber LUTs, so the child is evaluated in full (changed = None) ---------------
def remove_lut(rng: np.random.Generator, net: Network) -> tuple[Network, np.ndarray | None, list[int]]:
    """Delete one hidden LUT; its readers take another signal of that layer, then are refitted."""
    hidden = [l for l in range(len(net.wiring) - 1) if net.layer_sizes[l] > 1]
    if not hidden:
        return shrink_group(rng, net)
    child = net.copy()
    layer = int(rng.choice(hidden))
    victim = int(rng.integers(net.layer_sizes[layer]))
    child.wiring[layer] = np.delete(child.wiring[layer], victim, axis=0)
    child.tables[layer] = np.delete(child.tables[layer], victim)
    readers = child.wiring[layer + 1]
    hit = readers == victim
    readers[readers > victim] -= 1
    readers[hit] = rng.integers(0, child.layer_sizes[layer], size=int(hit.sum()))
    rows = np.flatnonzero(hit.any(axis=1))
    return child, None, [_global_index(child, layer + 1, int(r)) for r in rows]


def add_lut(rng: np.random.Generator, net: Network) -> tuple[Network, np.ndarray | None, list[int]]:
    """Add one LUT to a hidden layer, wired at random, and make one LUT of the next layer read it."""
    if len(net.wiring) < 2:
        return grow_group(rng, net)
    child = net.copy()
    layer = int(rng.integers(len(net.wiring) - 1))
    n_prev = net.n_inputs if layer == 0 else net.layer_sizes[layer - 1]
    new_wires = rng.choice(n_prev, size=net.k, replace=n_prev < net.k).astype(np.int32)
    child.wiring[layer] = np.vstack([child.wiring[layer], new_wires[None, :]])
    child.tables[layer] = np.append(child.tables[layer], random_tables(rng, net.k, 1))
    new_index = child.layer_sizes[layer] - 1
    reader = int(rng.integers(child.layer_sizes[layer + 1]))
    child.wiring[layer + 1][reader, int(rng.integers(net.k))] = new_index
    return child, None, [_global_index(child, layer, new_index), _global_index(child, layer + 1, reader)]


def shrink_group(rng: np.random.Generator, net: Network) -> tuple[Network, np.ndarray | None, list[int]]:
    """Remove one output LUT from a class group that has more than one."""
    candidates = [c for c, g in enumerate(net.groups) if len(g) > 1]
    if not candidates:
        return net.copy(), np.zeros(net.n_luts, dtype=np.bool_), []
    child = net.copy()
    c = int(rng.choice(candidates))
    victim = int(rng.choice(child.groups[c]))
    child.wiring[-1] = np.delete(child.wiring[-1], victim, axis=0)
    child.tables[-1] = np.delete(child.tables[-1], victim)
    child.groups = [[i - (i > victim) for i in g if i != victim] for g in child.groups]
    return child, None, []


def grow_group(rng: np.random.Generator, net: Network) -> tuple[Network, np.ndarray | None, list[int]]:
    """Add one output LUT, wired at random, to a random class group; fit its table."""
    child = net.copy()
    n_prev = net.n_inputs if len(net.wiring) == 1 else net.layer_sizes[-2]
    new_wires = rng.choice(n_prev, size=net.k, replace=n_prev < net.k).astype(np.int32)
    child.wiring[-1] = np.vstack([child.wiring[-1], new_wires[None, :]])
    child.tables[-1] = np.append(child.tables[-1], random_tables(rng, net.k, 1))
    c = int(rng.integers(net.n_classes))
    child.groups[c] = child.groups[c] + [child.layer_sizes[-1] - 1]
    return child, None, [child.n_luts - 1]


def random_network_for(rng: np.random.Generator, k: int, n_inputs: int, hidden: list[int], group_size: int,
                       classes: list[str]) -> Network:
    """A random network with the given hidden layers and `group_size` output LUTs per class."""
    from hcl.network import random_network
    sizes = list(hidden) + [group_size * len(classes)]
    return random_network(rng, k, n_inputs, sizes, len(classes), classes)


__all__ = ["rewire", "flip_table_bits", "refit_random", "lut_crossover", "remove_lut", "add_lut", "shrink_group",
           "grow_group", "random_network_for", "random_tables"]
