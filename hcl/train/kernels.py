"""@njit kernels of the trainer: arrays in, arrays out; nothing else from hcl (hcl.train.efd is their oracle).

Shapes: a batch of ``B`` samples, a layer of ``n`` K-input LUTs reading ``n_prev`` signals.
``x`` uint8 ``[B, n_prev]`` (0/1), ``wiring`` int32 ``[n, K]``, ``signs`` uint8 ``[n, 2^K]`` (table entry > 0),
``addr`` int32 ``[B, n]``, ``D`` float32 ``[n, 2^K, K]`` (the EFD input gradients per address, efd.efd_matrix).
Loops whose writes would collide run over the index that owns the written row: table gradients over LUTs, input
gradients over samples, so every sum is accumulated in one fixed order (the result does not depend on threads).
"""

import os

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # see hcl.kernels: spinning workers starve a 2-core machine

from numba import njit, prange  # noqa: E402

_PRANGE_ONLY = {"prange": True, "comprehension": False, "reduction": False, "inplace_binop": False,
                "setitem": False, "numpy": False, "stencil": False, "fusion": False}


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def forward_layer(x, wiring, signs):
    B = x.shape[0]
    n, k = wiring.shape
    addr = np.empty((B, n), dtype=np.int32)
    out = np.empty((B, n), dtype=np.uint8)
    for b in prange(B):
        for j in range(n):
            a = 0
            for i in range(k):
                a |= np.int32(x[b, wiring[j, i]]) << i
            addr[b, j] = a
            out[b, j] = signs[j, a]
    return addr, out


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def table_grad(g, addr, size):
    B, n = addr.shape
    dt = np.zeros((n, size), dtype=np.float32)
    for j in prange(n):
        for b in range(B):
            dt[j, addr[b, j]] += g[b, j]
    return dt


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def input_grad(g, addr, wiring, D, n_prev):
    B, n = addr.shape
    k = wiring.shape[1]
    gin = np.zeros((B, n_prev), dtype=np.float32)
    for b in prange(B):
        for j in range(n):
            gb = g[b, j]
            if gb != 0.0:
                a = addr[b, j]
                for i in range(k):
                    gin[b, wiring[j, i]] += gb * D[j, a, i]
    return gin


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def slot_grad(g, addr, D):
    B, n = addr.shape
    k = D.shape[2]
    gs = np.empty((B, n * k), dtype=np.float32)
    for b in prange(B):
        for j in range(n):
            a = addr[b, j]
            for i in range(k):
                gs[b, j * k + i] = g[b, j] * D[j, a, i]
    return gs


@njit(inline="always", cache=True)
def _adam_entry(p, g, m, v, r, c, lr, b1, b2, eps, c1, c2):
    """Adam's moments of entry (r, c) updated in place; returns the stepped value (the caller stores it)."""
    gr = g[r, c]
    mr = b1 * m[r, c] + (1.0 - b1) * gr
    vr = b2 * v[r, c] + (1.0 - b2) * gr * gr
    m[r, c] = mr
    v[r, c] = vr
    return p[r, c] - lr / c1 * mr / (np.sqrt(vr) / c2 + eps)


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def adam_clamp(p, g, m, v, lr, b1, b2, eps, step, lo, hi):
    """One Adam step (PyTorch's bias correction) on rows of ``p`` in place, then clamp to [lo, hi]."""
    c1 = 1.0 - b1 ** step
    c2 = np.sqrt(1.0 - b2 ** step)
    rows, cols = p.shape
    for r in prange(rows):
        for c in range(cols):
            p[r, c] = min(hi, max(lo, _adam_entry(p, g, m, v, r, c, lr, b1, b2, eps, c1, c2)))


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def adam_argmax(w, g, m, v, lr, b1, b2, eps, step, choice):
    """Adam on the slot weights ``w [n_slots, n_inputs]`` in place, and each slot's argmax (lowest on a tie)
    into ``choice``: the mapping the next forward uses."""
    c1 = 1.0 - b1 ** step
    c2 = np.sqrt(1.0 - b2 ** step)
    rows, cols = w.shape
    for r in prange(rows):
        best = -np.inf
        arg = 0
        for c in range(cols):
            q = _adam_entry(w, g, m, v, r, c, lr, b1, b2, eps, c1, c2)
            w[r, c] = q
            if q > best:
                best = q
                arg = c
        choice[r] = arg


@njit(cache=True)
def group_scores(out, group_of, n_classes):
    B, n = out.shape
    s = np.zeros((B, n_classes), dtype=np.float32)
    for b in range(B):
        for j in range(n):
            s[b, group_of[j]] += out[b, j]
    return s
