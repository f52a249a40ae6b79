"""The formulas of DWN training, written once, plainly (numpy): the oracle of hcl.train.kernels.

A LUT ``j`` holds real entries ``T[j, a]`` for its ``2^K`` addresses; on binary inputs it outputs
``T[j, addr] > 0`` (the table binarized by its sign; the straight-through estimator passes the output's gradient
to the entry unchanged). Its gradient with respect to input ``i`` is the *extended finite difference* (EFD)::

    dOut/dx_i (addr) = alpha * sum over all addresses a2 of  s_i(a2) * beta^H_i(addr, a2) * T[j, a2]

with ``s_i(a2) = +1`` when bit ``i`` of ``a2`` is set, else ``-1``, and ``H_i`` the Hamming distance of the two
addresses ignoring bit ``i``: the plain finite difference ``T[addr | bit i] - T[addr & ~bit i]`` (H = 0), plus
the differences at every other address, weighted down by distance. Defaults as the paper's code:
``alpha = 0.5 * 0.75^(K-1)``, ``beta = 0.25 / 0.75``.

The first layer reads the inputs through a learnable mapping: per LUT input slot a weight per encoded input bit;
forward takes the argmax, backward gives slot weight ``w[slot, n]`` the gradient ``g_slot * (2 x_n - 1)``.
The output: class score = sum of its group's LUT outputs / tau; softmax cross-entropy, averaged over the batch.
"""

from __future__ import annotations

import numpy as np


def default_alpha(k: int) -> float:
    return 0.5 * 0.75 ** (k - 1)


DEFAULT_BETA = 0.25 / 0.75


def efd_matrix(k: int, alpha: float, beta: float) -> np.ndarray:
    """``E[a2, a, i]`` (float32 ``[2^K, 2^K, K]``): the weight of entry ``a2`` in the gradient of input ``i`` at
    address ``a``, so that ``D[j, a, i] = sum_a2 T[j, a2] E[a2, a, i]``."""
    size = 1 << k
    a2 = np.arange(size)[:, None, None]
    a = np.arange(size)[None, :, None]
    i = np.arange(k)[None, None, :]
    diff = (a ^ a2) & ~(1 << i)
    dist = np.vectorize(lambda v: int(v).bit_count())(diff)
    sign = np.where((a2 >> i) & 1, 1.0, -1.0)
    return (alpha * sign * beta ** dist).astype(np.float32)


def efd_reference(tables: np.ndarray, k: int, alpha: float, beta: float) -> np.ndarray:
    """``D[j, a, i]`` by the formula, one entry at a time (slow, obvious)."""
    n, size = tables.shape
    out = np.zeros((n, size, k))
    for j in range(n):
        for a in range(size):
            for i in range(k):
                total = 0.0
                for a2 in range(size):
                    h = bin((a ^ a2) & ~(1 << i)).count("1")
                    s = 1.0 if (a2 >> i) & 1 else -1.0
                    total += s * beta ** h * tables[j, a2]
                out[j, a, i] = alpha * total
    return out


def forward_reference(x: np.ndarray, wiring: list[np.ndarray], tables: list[np.ndarray]):
    """Per layer: addresses ``[B, n]`` and binary outputs ``[B, n]`` (layer 0 reads ``x`` through ``wiring[0]``)."""
    addrs, outs, sig = [], [], x.astype(np.int64)
    for w, t in zip(wiring, tables):
        addr = np.zeros((sig.shape[0], w.shape[0]), dtype=np.int64)
        for i in range(w.shape[1]):
            addr |= sig[:, w[:, i]] << i
        out = (t[np.arange(w.shape[0])[None, :], addr] > 0).astype(np.int64)
        addrs.append(addr)
        outs.append(out)
        sig = out
    return addrs, outs


def loss_reference(last: np.ndarray, groups: np.ndarray, labels: np.ndarray, tau: float):
    """Mean cross-entropy of softmax(group sums / tau), and its gradient with respect to each last-layer output."""
    n_classes = int(groups.max()) + 1
    scores = np.stack([last[:, groups == c].sum(axis=1) for c in range(n_classes)], axis=1) / tau
    z = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    b = len(labels)
    loss = -np.log(p[np.arange(b), labels]).mean()
    dscore = p.copy()
    dscore[np.arange(b), labels] -= 1.0
    dscore /= (b * tau)
    return loss, dscore[:, groups]


def backward_reference(x: np.ndarray, wiring: list[np.ndarray], tables: list[np.ndarray], groups: np.ndarray,
                       labels: np.ndarray, tau: float, k: int, alpha: float, beta: float):
    """Gradients of the loss: per layer the table gradient ``[n, 2^K]``, and the first layer's slot gradients
    ``[B, n0 * K]`` (slot ``j * K + i`` is input ``i`` of LUT ``j``), by the formulas above, loop by loop."""
    addrs, outs = forward_reference(x, wiring, tables)
    loss, g = loss_reference(outs[-1], groups, labels, tau)
    dtables = [None] * len(tables)
    slot_grad = None
    for layer in range(len(tables) - 1, -1, -1):
        t, w, addr = tables[layer], wiring[layer], addrs[layer]
        d = efd_reference(t, k, alpha, beta)
        dt = np.zeros_like(t, dtype=np.float64)
        for b in range(addr.shape[0]):
            for j in range(addr.shape[1]):
                dt[j, addr[b, j]] += g[b, j]
        dtables[layer] = dt
        n_prev = x.shape[1] if layer == 0 else tables[layer - 1].shape[0]
        gin = np.zeros((addr.shape[0], n_prev))
        gslot = np.zeros((addr.shape[0], w.shape[0] * k))
        for b in range(addr.shape[0]):
            for j in range(addr.shape[1]):
                for i in range(k):
                    v = g[b, j] * d[j, addr[b, j], i]
                    gin[b, w[j, i]] += v
                    gslot[b, j * k + i] = v
        if layer == 0:
            slot_grad = gslot
        g = gin
    return loss, dtables, slot_grad


def mapping_grad_reference(x: np.ndarray, slot_grad: np.ndarray) -> np.ndarray:
    """Slot weight gradients ``[n_slots, n_inputs]``: ``g_slot * (2 x_n - 1)`` summed over the batch."""
    return slot_grad.T @ (2.0 * x - 1.0)
