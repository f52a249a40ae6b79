"""The golden model: a slow, obvious numpy evaluation of a LUT network, written for clarity.

It is the oracle the Numba kernels, the emitted RTL and the test vectors are checked against. The semantics it
implements are defined in hcl.network's docstring.
"""

from __future__ import annotations

import numpy as np

from hcl.network import Network


def layer_outputs(net: Network, bits: np.ndarray) -> list[np.ndarray]:
    """Encoded input bits bool [n, n_inputs] -> the outputs of every layer, inputs first, each bool [n, size]."""
    outs = [np.asarray(bits, dtype=bool)]
    for wiring, tables in zip(net.wiring, net.tables):
        prev = outs[-1]
        address = np.zeros((prev.shape[0], wiring.shape[0]), dtype=np.int64)
        for i in range(net.k):
            address |= prev[:, wiring[:, i]].astype(np.int64) << i
        table_bits = np.array([[(int(t) >> a) & 1 for a in range(1 << net.k)] for t in tables], dtype=bool)
        outs.append(table_bits[np.arange(wiring.shape[0])[None, :], address])
    return outs


def class_scores(net: Network, bits: np.ndarray) -> np.ndarray:
    """Popcount of each class group: int64 [n, n_classes]."""
    last = layer_outputs(net, bits)[-1]
    return np.stack([last[:, g].sum(axis=1) for g in net.groups], axis=1).astype(np.int64)


def winner(scores: np.ndarray) -> np.ndarray:
    """The class of each row of scores: the highest score, ties to the lowest class (np.argmax returns the first
    maximum). The golden rule the kernels and the RTL's argmax tree are tested against."""
    return np.argmax(scores, axis=1)


def predict(net: Network, bits: np.ndarray) -> np.ndarray:
    return winner(class_scores(net, bits))


def accuracy(net: Network, bits: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predict(net, bits) == np.asarray(labels)))
