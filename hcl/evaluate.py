"""Glue between a Network and the Numba kernels: packed data in, scores / predictions / accuracy out."""

from __future__ import annotations

import numpy as np

from hcl import kernels, reference
from hcl.network import Network


def signals(net: Network, packed: np.ndarray) -> np.ndarray:
    wires, tables, _ = net.flat()
    return kernels.forward(np.ascontiguousarray(packed, dtype=np.uint64), wires, tables, net.k)


def class_scores(net: Network, packed: np.ndarray, n_samples: int) -> np.ndarray:
    _, _, group_of = net.flat()
    return kernels.class_scores(signals(net, packed), net.n_inputs, group_of, net.n_classes, n_samples)


def predict(net: Network, packed: np.ndarray, n_samples: int) -> np.ndarray:
    return reference.winner(class_scores(net, packed, n_samples))


def accuracy(net: Network, packed: np.ndarray, labels: np.ndarray) -> float:
    wires, tables, group_of = net.flat()
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    hits = kernels.count_correct(np.ascontiguousarray(packed, dtype=np.uint64), wires, tables, net.k, group_of,
                                 net.n_classes, labels)
    return float(hits) / len(labels)
