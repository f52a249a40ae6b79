"""How much of a network's truth tables a set of input vectors exercises, and vectors chosen to exercise more.

A simulation can only see a truth-table bit that some vector addresses. The coverage of vectors is the fraction of
(LUT, address) pairs they reach, out of the pairs the wiring allows: a LUT that reads one signal on two inputs can
never see the addresses where those two bits differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hcl import reference
from hcl.encode import Encoder
from hcl.network import Network


@dataclass(frozen=True)
class Coverage:
    covered: int
    possible: int

    @property
    def fraction(self) -> float:
        return self.covered / self.possible if self.possible else 1.0

    def line(self) -> str:
        return (f"table coverage: {100 * self.fraction:.1f} % of the (LUT, address) pairs the wiring allows "
                f"({self.covered} of {self.possible}) are exercised by the vectors")


def addresses(net: Network, bits: np.ndarray) -> np.ndarray:
    """The address every LUT sees for every encoded sample: int64 [n, n_luts], layers in order."""
    outs = reference.layer_outputs(net, bits)
    per_layer = []
    for prev, wiring in zip(outs[:-1], net.wiring):
        a = np.zeros((prev.shape[0], wiring.shape[0]), dtype=np.int64)
        for i in range(net.k):
            a |= prev[:, wiring[:, i]].astype(np.int64) << i
        per_layer.append(a)
    return np.concatenate(per_layer, axis=1)


def possible_pairs(net: Network) -> int:
    """(LUT, address) pairs the wiring allows: 2^(distinct inputs) per LUT."""
    return int(sum(1 << len(set(w.tolist())) for wiring in net.wiring for w in wiring))


def table_coverage(net: Network, X: np.ndarray) -> Coverage:
    enc = Encoder.from_dict(net.encoder, expect_bits=net.n_inputs)
    a = addresses(net, enc.transform(X))
    seen = np.zeros((a.shape[1], 1 << net.k), dtype=bool)
    seen[np.arange(a.shape[1])[None, :], a] = True
    return Coverage(int(seen.sum()), possible_pairs(net))


def extra_vectors(net: Network, X: np.ndarray, candidates: np.ndarray, n: int) -> np.ndarray:
    """Up to `n` rows of `candidates`, picked greedily, each reaching the most (LUT, address) pairs that `X` and
    the rows picked before it do not (ties: the first candidate). Stops early when no candidate adds any."""
    enc = Encoder.from_dict(net.encoder, expect_bits=net.n_inputs)
    base = addresses(net, enc.transform(X))
    cand = addresses(net, enc.transform(candidates))
    luts = np.arange(base.shape[1])[None, :]
    seen = np.zeros((base.shape[1], 1 << net.k), dtype=bool)
    seen[luts, base] = True
    picked: list[int] = []
    for _ in range(n):
        gain = (~seen[luts, cand]).sum(axis=1)
        best = int(np.argmax(gain))
        if gain[best] == 0:
            break
        picked.append(best)
        seen[luts[0], cand[best]] = True
    return candidates[picked]
