"""@njit kernels of the trainer: arrays in, arrays out; nothing else from hcl (hcl.train.efd is their oracle).

Shapes: a batch of ``B`` samples, a layer of ``n`` K-input LUTs reading ``n_prev`` signals.
``x`` uint8 ``[B, n_prev]`` (0/1), ``wiring`` int32 ``[n, K]``, ``signs`` uint8 ``[n, 2^K]`` (table entry > 0),
``addr`` int32 ``[B, n]``, ``D`` float32 ``[n, 2^K, K]`` (the EFD input gradients per address: ``efd_grads``,
equal to ``tables @ efd.efd_matrix``). Loops whose writes would collide run over the index that owns the written
row: table gradients over LUTs, input gradients over samples, slot weights over blocks of slots, so every sum is
accumulated in one fixed order (the result does not depend on threads).

Where an epoch's time went (MNIST, 1000 + 500 LUT6, batch 32, slot weights stepped every 8th batch; issue 12;
profiled per kernel on the shared 2-core machine, CPU ms per step): 26 before, of which 14 the EFD products
``tables @ E`` (through a multi-threaded BLAS whose workers competed with Numba's), 6 the slot weights (their
gradient as a dense product, then Adam on 6,000 x 717 weights, every 8th step), under 2 the forward, the other
gradients and the tables' Adam. Now: ``efd_grads`` (Numba, product form) and one fused, cache-blocked
``adam_mapping`` pass that never writes the gradient out.
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


# ---- Adam ------------------------------------------------------------------------------------------------------
# PyTorch's step: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr / c1 * m / (sqrt(v) / c2 + eps), with
# c1 = 1 - b1^t, c2 = sqrt(1 - b2^t). The scalars are computed once in Python (float64) and cast to the arrays'
# dtype, so float32 state is stepped in float32 arithmetic, as torch.optim.Adam steps float32 parameters (8 lanes
# per AVX2 instruction instead of 4), and float64 state in float64.

def _adam_scalars(dtype, lr, b1, b2, eps, step):
    t = np.dtype(dtype).type
    c1 = 1.0 - b1 ** step
    c2 = np.sqrt(1.0 - b2 ** step)
    return t(b1), t(1.0 - b1), t(b2), t(1.0 - b2), t(lr / c1), t(c2), t(eps)


@njit(inline="always", cache=True)
def _adam_row(p, g, m, v, b1, nb1, b2, nb2, step_size, c2, eps):
    """One Adam step on the 1-d arrays ``p, m, v`` (gradient ``g``) in place."""
    for c in range(p.shape[0]):
        gr = g[c]
        mr = b1 * m[c] + nb1 * gr
        vr = b2 * v[c] + nb2 * gr * gr
        m[c] = mr
        v[c] = vr
        p[c] = p[c] - step_size * mr / (np.sqrt(vr) / c2 + eps)


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def _adam_clamp(p, g, m, v, b1, nb1, b2, nb2, step_size, c2, eps, lo, hi):
    for r in prange(p.shape[0]):
        row = p[r]
        _adam_row(row, g[r], m[r], v[r], b1, nb1, b2, nb2, step_size, c2, eps)
        for c in range(row.shape[0]):
            row[c] = min(hi, max(lo, row[c]))


def adam_clamp(p, g, m, v, lr, b1, b2, eps, step, lo, hi):
    """One Adam step (PyTorch's bias correction) on rows of ``p`` in place, then clamp to [lo, hi]."""
    t = p.dtype.type
    _adam_clamp(p, g, m, v, *_adam_scalars(p.dtype, lr, b1, b2, eps, step), t(lo), t(hi))


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def _adam_argmax(w, g, m, v, b1, nb1, b2, nb2, step_size, c2, eps, choice):
    for r in prange(w.shape[0]):
        row = w[r]
        _adam_row(row, g[r], m[r], v[r], b1, nb1, b2, nb2, step_size, c2, eps)
        best = row[0]
        arg = 0
        for c in range(1, row.shape[0]):
            if row[c] > best:
                best = row[c]
                arg = c
        choice[r] = arg


def adam_argmax(w, g, m, v, lr, b1, b2, eps, step, choice):
    """Adam on the slot weights ``w [n_slots, n_inputs]`` in place, and each slot's argmax (lowest on a tie)
    into ``choice``: the mapping the next forward uses. (The trainer uses ``adam_mapping``, which forms ``g``
    on the fly on transposed weights; this is its plain form, the oracle of the tests.)"""
    _adam_argmax(w, g, m, v, *_adam_scalars(w.dtype, lr, b1, b2, eps, step), choice)


# ---- the slot weights' gradient, sparse in the inputs ----------------------------------------------------------
# G[r, c] = sum_b gs[b, r] * (2 x[b, c] - 1) = 2 * (sum of gs[b, r] over the samples where x[b, c] = 1) - tot[r]
#         = tot[r] - 2 * (the same sum over the samples where x[b, c] = 0),
# with tot[r] = sum_b gs[b, r]; per input, the shorter of the two sample lists is summed (inputs of one comparator
# bit per pixel are ~19 % ones on MNIST: ~5x fewer additions than the dense product). Slots go in blocks of
# SLOT_BLOCK: a block's rows of gs stay in cache while every input's sum is formed, each sum is a run of
# contiguous vector additions, and the slot weights are stored transposed (``[n_inputs, n_slots]``), so the Adam
# step and the running argmax of a block are contiguous too. Each thread owns whole blocks of slots and each sum
# runs over its samples in increasing order: the result does not depend on the number of threads.

SLOT_BLOCK = 512


@njit(cache=True)
def _samples_by_input(x):
    """Per input ``c``: ``flip[c]`` (1 when the list holds the samples where x = 0) and its sample list
    ``idx[ptr[c]:ptr[c + 1]]`` (increasing), the shorter of the samples with x = 1 and with x = 0."""
    R, n_in = x.shape
    ones = np.zeros(n_in, dtype=np.int64)
    for b in range(R):
        for c in range(n_in):
            if x[b, c] != 0:
                ones[c] += 1
    flip = np.zeros(n_in, dtype=np.uint8)
    ptr = np.zeros(n_in + 1, dtype=np.int64)
    for c in range(n_in):
        if 2 * ones[c] > R:
            flip[c] = 1
        ptr[c + 1] = ptr[c] + (R - ones[c] if flip[c] else ones[c])
    idx = np.empty(ptr[n_in], dtype=np.int32)
    fill = ptr[:n_in].copy()
    for b in range(R):
        for c in range(n_in):
            if (x[b, c] != 0) != (flip[c] == 1):
                idx[fill[c]] = b
                fill[c] += 1
    return flip, ptr, idx


@njit(inline="always", cache=True)
def _block_total(gs, r0, width, tot):
    for s in range(width):
        tot[s] = 0.0
    for b in range(gs.shape[0]):
        row = gs[b, r0:r0 + width]
        for s in range(width):
            tot[s] += row[s]


@njit(inline="always", cache=True)
def _block_grad(gs, r0, width, flip, ptr, idx, tot, c, acc):
    """``acc[s]`` = the gradient of slot ``r0 + s``'s weight for input ``c``."""
    for s in range(width):
        acc[s] = 0.0
    for q in range(ptr[c], ptr[c + 1]):
        row = gs[idx[q], r0:r0 + width]
        for s in range(width):
            acc[s] += row[s]
    if flip[c]:
        for s in range(width):
            acc[s] = tot[s] - np.float32(2.0) * acc[s]
    else:
        for s in range(width):
            acc[s] = np.float32(2.0) * acc[s] - tot[s]


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def mapping_grad(gs, x):
    """The slot weights' gradient ``[n_slots, n_inputs]`` (float32): ``sum_b gs[b, r] * (2 x[b, c] - 1)`` for
    slot gradients ``gs [B, n_slots]`` and 0/1 inputs ``x [B, n_inputs]``."""
    R, n_slots = gs.shape
    n_in = x.shape[1]
    flip, ptr, idx = _samples_by_input(x)
    G = np.empty((n_slots, n_in), dtype=np.float32)
    n_blocks = (n_slots + SLOT_BLOCK - 1) // SLOT_BLOCK
    for blk in prange(n_blocks):
        r0 = blk * SLOT_BLOCK
        width = min(SLOT_BLOCK, n_slots - r0)
        tot = np.empty(width, dtype=np.float32)
        acc = np.empty(width, dtype=np.float32)
        _block_total(gs, r0, width, tot)
        for c in range(n_in):
            _block_grad(gs, r0, width, flip, ptr, idx, tot, c, acc)
            for s in range(width):
                G[r0 + s, c] = acc[s]
    return G


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def _adam_mapping(wt, gs, x, mt, vt, b1, nb1, b2, nb2, step_size, c2, eps, choice):
    R, n_slots = gs.shape
    n_in = x.shape[1]
    flip, ptr, idx = _samples_by_input(x)
    n_blocks = (n_slots + SLOT_BLOCK - 1) // SLOT_BLOCK
    for blk in prange(n_blocks):
        r0 = blk * SLOT_BLOCK
        width = min(SLOT_BLOCK, n_slots - r0)
        tot = np.empty(width, dtype=np.float32)
        acc = np.empty(width, dtype=np.float32)
        best = np.empty(width, dtype=wt.dtype)
        arg = np.zeros(width, dtype=np.int32)
        _block_total(gs, r0, width, tot)
        for c in range(n_in):
            _block_grad(gs, r0, width, flip, ptr, idx, tot, c, acc)
            row = wt[c, r0:r0 + width]
            _adam_row(row, acc, mt[c, r0:r0 + width], vt[c, r0:r0 + width], b1, nb1, b2, nb2, step_size, c2, eps)
            if c == 0:
                best[:] = row
            else:
                for s in range(width):
                    better = row[s] > best[s]
                    best[s] = row[s] if better else best[s]
                    arg[s] = c if better else arg[s]
        for s in range(width):
            choice[r0 + s] = arg[s]


def adam_mapping(wt, gs, x, mt, vt, lr, b1, b2, eps, step, choice):
    """``adam_argmax`` on the gradient ``mapping_grad(gs, x)``, in one pass and on transposed slot weights
    ``wt [n_inputs, n_slots]`` (Adam moments ``mt``, ``vt`` likewise): each block of slots forms its gradient in
    cache, input by input, steps its weights and keeps a running argmax (lowest input on a tie), so the
    gradient matrix is never written out."""
    _adam_mapping(wt, gs, x, mt, vt, *_adam_scalars(wt.dtype, lr, b1, b2, eps, step), choice)


# ---- extended finite differences ---------------------------------------------------------------------------

EFD_CHUNK = 16       # LUTs transformed side by side (the vector lanes of every step below)


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def efd_grads(tables, k, alpha, beta):
    """``D [n, 2^K, K]`` (float32): the EFD input gradients of every LUT at every address, equal to
    ``tables @ efd.efd_matrix(K, alpha, beta)`` but by the formula's product form (~20x fewer operations than
    that product for K = 6): the weight of entry a2 in input i's gradient at a is ``alpha * s_i(a2) *
    prod over bits l != i of (beta if a and a2 differ in l else 1)``, so D[:, :, i] is the difference along
    bit i, then along every other bit l the 2x2 step ``(u0, u1) -> (u0 + beta u1, beta u0 + u1)``. In float64,
    on EFD_CHUNK LUTs at a time (rows ``work[a]`` hold one address of each)."""
    n, size = tables.shape
    D = np.empty((n, size, k), dtype=np.float32)
    n_chunks = (n + EFD_CHUNK - 1) // EFD_CHUNK
    for ch in prange(n_chunks):
        j0 = ch * EFD_CHUNK
        J = min(EFD_CHUNK, n - j0)
        t = np.zeros((size, EFD_CHUNK))
        work = np.empty((size, EFD_CHUNK))
        for jj in range(J):
            for a in range(size):
                t[a, jj] = tables[j0 + jj, a]
        for i in range(k):
            bi = 1 << i
            for a in range(size):
                if a & bi == 0:
                    for jj in range(EFD_CHUNK):
                        work[a, jj] = t[a | bi, jj] - t[a, jj]
            for l in range(k):
                if l == i:
                    continue
                bl = 1 << l
                for a in range(size):
                    if a & (bi | bl) == 0:
                        a1 = a | bl
                        for jj in range(EFD_CHUNK):
                            u0 = work[a, jj]
                            u1 = work[a1, jj]
                            work[a, jj] = u0 + beta * u1
                            work[a1, jj] = beta * u0 + u1
            for jj in range(J):
                for a in range(size):
                    D[j0 + jj, a, i] = alpha * work[a & ~bi, jj]
    return D


@njit(cache=True)
def group_scores(out, group_of, n_classes):
    B, n = out.shape
    s = np.zeros((B, n_classes), dtype=np.float32)
    for b in range(B):
        for j in range(n):
            s[b, group_of[j]] += out[b, j]
    return s
