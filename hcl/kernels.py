"""Numba kernels over bit-packed samples. Arrays in, arrays out; nothing else from hcl is imported here.

Conventions shared with hcl.network (the definition) and hcl.reference (the oracle):

* ``x``: uint64 ``[n_inputs, n_words]``, sample ``s`` at bit ``s % 64`` of word ``s // 64``.
* ``wires``: int32 ``[n_luts, k]`` in *global* signal indices (inputs are rows ``0..n_inputs-1``, LUT ``i`` is row
  ``n_inputs + i``); LUTs are in topological (layer) order.
* ``tables``: uint64 ``[n_luts]``; bit ``a`` is the output for address ``a = sum(in[j] << j)``.
* ``group_of``: int32 ``[n_luts]``, the class of a last-layer LUT, -1 for the others.

A LUT is evaluated as a multiplexer tree over its truth table: the 2^k table bits become all-0/all-1 words, and
input ``j`` selects between pairs at level ``j``; a k-input LUT costs 2^k - 1 word selects per 64 samples. Samples
are processed in blocks of ``BLOCK`` words so that the block's slice of every signal stays in cache while the whole
network is evaluated on it, and blocks run in parallel (``prange``).
"""

import numpy as np
from numba import njit, prange

BLOCK = 16
_ONE = np.uint64(1)
_ZERO = np.uint64(0)


@njit(cache=True, inline="always")
def _eval_lut(sig, wire_row, table, k, lo, nw, out, out_row, out_lo, scratch):
    """Evaluate one LUT over words [lo, lo+nw) of `sig` rows, writing out[out_row, out_lo:out_lo+nw]."""
    half = 1 << (k - 1)
    r0 = wire_row[0]
    for a in range(half):
        m0 = _ZERO - ((table >> np.uint64(2 * a)) & _ONE)
        m1 = _ZERO - ((table >> np.uint64(2 * a + 1)) & _ONE)
        for w in range(nw):
            s = sig[r0, lo + w]
            scratch[a, w] = (m0 & ~s) | (m1 & s)
    n = half
    for j in range(1, k):
        rj = wire_row[j]
        n >>= 1
        for a in range(n):
            for w in range(nw):
                s = sig[rj, lo + w]
                scratch[a, w] = (scratch[2 * a, w] & ~s) | (scratch[2 * a + 1, w] & s)
    for w in range(nw):
        out[out_row, out_lo + w] = scratch[0, w]


@njit(parallel=True, cache=True)
def forward(x, wires, tables, k):
    """All signals: uint64 [n_inputs + n_luts, n_words] (inputs first)."""
    n_in, n_words = x.shape
    n_luts = wires.shape[0]
    sig = np.empty((n_in + n_luts, n_words), dtype=np.uint64)
    sig[:n_in] = x
    n_blocks = (n_words + BLOCK - 1) // BLOCK
    for b in prange(n_blocks):
        lo = b * BLOCK
        nw = min(BLOCK, n_words - lo)
        scratch = np.empty((32, BLOCK), dtype=np.uint64)
        for i in range(n_luts):
            _eval_lut(sig, wires[i], tables[i], k, lo, nw, sig, n_in + i, lo, scratch)
    return sig


@njit(cache=True)
def dirty_cone(wires, n_in, changed):
    """LUTs whose output may differ from the parent's: the changed ones and everything downstream of them."""
    n_luts = wires.shape[0]
    dirty = changed.copy()
    for i in range(n_luts):
        if not dirty[i]:
            for j in range(wires.shape[1]):
                r = wires[i, j]
                if r >= n_in and dirty[r - n_in]:
                    dirty[i] = True
                    break
    return dirty


@njit(parallel=True, cache=True)
def forward_delta(parent_sig, wires, tables, k, changed):
    """Signals of a child that differs from the parent in the LUTs flagged in `changed` (wiring or table).

    Only the affected cone is recomputed; the result equals ``forward`` on the child."""
    n_rows, n_words = parent_sig.shape
    n_luts = wires.shape[0]
    n_in = n_rows - n_luts
    dirty = dirty_cone(wires, n_in, changed)
    todo = np.nonzero(dirty)[0]
    sig = parent_sig.copy()
    n_blocks = (n_words + BLOCK - 1) // BLOCK
    for b in prange(n_blocks):
        lo = b * BLOCK
        nw = min(BLOCK, n_words - lo)
        scratch = np.empty((32, BLOCK), dtype=np.uint64)
        for t in range(todo.shape[0]):
            i = todo[t]
            _eval_lut(sig, wires[i], tables[i], k, lo, nw, sig, n_in + i, lo, scratch)
    return sig


@njit(parallel=True, cache=True)
def class_scores(sig, n_in, group_of, n_classes, n_samples):
    """Popcount per class group for every sample: int32 [n_samples, n_classes]."""
    n_luts = group_of.shape[0]
    scores = np.zeros((n_samples, n_classes), dtype=np.int32)
    n_words = sig.shape[1]
    for w in prange(n_words):
        base = w * 64
        nb = min(64, n_samples - base)
        for i in range(n_luts):
            c = group_of[i]
            if c >= 0:
                word = sig[n_in + i, w]
                for bit in range(nb):
                    scores[base + bit, c] += np.int32((word >> np.uint64(bit)) & _ONE)
    return scores


@njit(cache=True)
def argmax_lowest(scores):
    """Row-wise argmax; the first (lowest-index) maximum wins a tie."""
    n, m = scores.shape
    out = np.empty(n, dtype=np.int64)
    for s in range(n):
        best = 0
        for c in range(1, m):
            if scores[s, c] > scores[s, best]:
                best = c
        out[s] = best
    return out


@njit(parallel=True, cache=True)
def count_correct(x, wires, tables, k, group_of, n_classes, labels):
    """Fused evaluation for fitness: how many samples the network classifies correctly.

    Keeps only one block of every signal per thread, so memory does not grow with the sample count."""
    n_in, n_words = x.shape
    n_luts = wires.shape[0]
    n_samples = labels.shape[0]
    n_blocks = (n_words + BLOCK - 1) // BLOCK
    correct = np.zeros(n_blocks, dtype=np.int64)
    for b in prange(n_blocks):
        lo = b * BLOCK
        nw = min(BLOCK, n_words - lo)
        local = np.empty((n_in + n_luts, BLOCK), dtype=np.uint64)
        for r in range(n_in):
            for w in range(nw):
                local[r, w] = x[r, lo + w]
        scratch = np.empty((32, BLOCK), dtype=np.uint64)
        for i in range(n_luts):
            _eval_lut(local, wires[i], tables[i], k, 0, nw, local, n_in + i, 0, scratch)
        counts = np.zeros((BLOCK * 64, n_classes), dtype=np.int32)
        for i in range(n_luts):
            c = group_of[i]
            if c >= 0:
                for w in range(nw):
                    word = local[n_in + i, w]
                    for bit in range(64):
                        counts[w * 64 + bit, c] += np.int32((word >> np.uint64(bit)) & _ONE)
        n_valid = min(nw * 64, n_samples - lo * 64)
        hits = 0
        for s in range(n_valid):
            best = 0
            for c in range(1, n_classes):
                if counts[s, c] > counts[s, best]:
                    best = c
            if best == labels[lo * 64 + s]:
                hits += 1
        correct[b] = hits
    return correct.sum()
