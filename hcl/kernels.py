"""Numba kernels over bit-packed samples. Arrays in, arrays out; nothing else from hcl is imported here.

Conventions shared with hcl.network (the definition) and hcl.reference (the oracle):

* ``x``: uint64 ``[n_inputs, n_words]``, sample ``s`` at bit ``s % 64`` of word ``s // 64``.
* ``wires``: int32 ``[n_luts, k]`` in *global* signal indices (inputs are rows ``0..n_inputs-1``, LUT ``i`` is row
  ``n_inputs + i``); LUTs are in topological (layer) order.
* ``tables``: uint64 ``[n_luts]``; bit ``a`` is the output for address ``a = sum(in[j] << j)``.
* ``group_of``: int32 ``[n_luts]``, the class of a last-layer LUT, -1 for the others.

How a LUT is evaluated (64 samples per word, all bitwise)
---------------------------------------------------------
A multiplexer tree over the truth table costs 2^k - 1 word selects of 3 operations (189 for k = 6). Two rewrites
bring that to 42 operations for k = 6, after which loads and stores, not arithmetic, limit the kernel:

1. *The 2-input functions of the two lowest inputs are shared.* A nibble of the table is a function of
   ``(in0, in1)``, and there are only 16 such functions. Per LUT and chunk of words all of them are written to a
   small scratch ``F`` (``F[c]`` = the function whose nibble is ``c``): 12 operations, 14 stores, L1-resident.
2. *Positive Davio (Reed-Muller) expansion over the other inputs.* ``f = f0 ^ (x & (f0 ^ f1))``, and the XOR of
   two 2-input functions is the function of the XOR of their nibbles, so expanding over ``in2..in{k-1}`` gives
   ``out = XOR over subsets S of (F[c_S] & AND of in_j for j in S)`` with ``c_S`` the Moebius transform of the
   table's nibbles (computed once per LUT and call on the scalar table, in ``_leaves``). In Horner form that is
   one AND and one XOR per node: 30 operations for k = 6, reading the 16 leaves as rows of ``F``.

Both inner loops run over the words of a chunk with all row indices fixed, so LLVM vectorizes them (ymm
``vpand``/``vpxor`` with memory operands on AVX2). On the project's 2-core Zen 3 machine, with the rows in cache,
a LUT costs ~30 cycles per 4 words (~13 for F's stores, ~19 for the tree's 20 loads); a multiplexer tree of 63
selects would need ~47 in registers alone (micro-benchmarks while tuning; benchmarks/bench_eval.py
measures the end-to-end rates and the select roofline).

Order of evaluation
-------------------
``forward`` and ``forward_delta`` go level by level (a LUT's level is one more than the deepest LUT it reads), in
parallel over the LUTs of a level, each LUT over all words in chunks of ``CHUNK`` words. Every output row is thus
written once, front to back, straight into the returned ``[n_rows, n_words]`` array. (The column-blocked order --
the whole network on one block of words, then the next -- keeps a block in cache but must scatter each row's
block into the result afterwards; measured, that copy costs more than the locality gains.) ``count_correct``
writes no signals out, so it is column-blocked: each block of ``CHUNK`` words goes through the whole network in a
private arena and is scored there.
"""

import os

import numpy as np

# numba's OpenMP workers spin for a while after a parallel region before they sleep (libgomp's default). On the
# project's 2-core machines, shared with other jobs, a spinning worker holds the core its partner is waiting for:
# measured there under load, forward took 40 ms instead of 4.4 ms. Passive waiting costs microseconds per region.
# It must be set before numba loads libgomp (its first parallel call); an explicit setting by the user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from llvmlite import ir  # noqa: E402
from numba import carray, njit, prange, types  # noqa: E402
from numba.core import cgutils  # noqa: E402
from numba.extending import intrinsic  # noqa: E402

BLOCK = CHUNK = 64   # words per inner-loop run: F is 16 x 512 B, in L1 next to the chunk of the 6 input rows;
#                      long enough to amortize the per-chunk setup (row pointers, LLVM's runtime alias checks)
SCORE_BLOCK = 64     # words per class-scoring work item
# Parallelize explicit prange loops only: by default numba also turns every array expression, np.zeros/arange
# and .sum() in a parallel function into a parallel region of its own, each a gufunc that costs seconds to compile
# and a thread launch to run, for work that takes microseconds. (A copy per use: numba pops the keys.)
_PRANGE_ONLY = {"prange": True, "comprehension": False, "reduction": False, "inplace_binop": False,
                "setitem": False, "numpy": False, "stencil": False, "fusion": False}
_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_NIB = np.uint64(15)


# ---- per-call preparation --------------------------------------------------------------------------------------
@njit(cache=True)
def _leaves(tables, k, todo):
    """Davio leaf functions of the LUTs in ``todo``: ``c_S`` (a nibble, the row of F) for S < 2^(k-2).

    ``c_S`` = XOR of the table's nibbles ``T_S'`` over the subsets S' of S: the Moebius transform over address
    bits 2..k-1, the leaf index S being those bits. int32 [n_luts, 16]; rows not in ``todo`` are 0."""
    n_leaf = 1 << (k - 2)
    leaves = np.zeros((tables.shape[0], 16), dtype=np.int32)
    nib = np.empty(16, dtype=np.int64)
    for t in range(todo.shape[0]):
        i = todo[t]
        table = tables[i]
        for s in range(n_leaf):
            nib[s] = np.int64((table >> np.uint64(4 * s)) & _NIB)
        h = 1
        while h < n_leaf:
            for s in range(n_leaf):
                if s & h:
                    nib[s] ^= nib[s ^ h]
            h <<= 1
        for s in range(n_leaf):
            leaves[i, s] = nib[s]
    return leaves


@njit(cache=True)
def _by_level(wires, n_in, todo):
    """The LUTs of ``todo`` (topological order) grouped by level: ``order[start[l]:start[l+1]]`` is level l.

    A LUT's level is 1 + the deepest LUT of ``todo`` it reads (0 when it reads none); LUTs of one level never
    read each other, so they can be evaluated in parallel."""
    n_luts = wires.shape[0]
    level = np.full(n_luts, -1, dtype=np.int64)      # -1: not in todo (its row is ready: an input, or clean)
    n_levels = 0
    for t in range(todo.shape[0]):
        i = todo[t]
        lv = 0
        for q in range(wires.shape[1]):
            r = wires[i, q]
            if r >= n_in:
                lv = max(lv, level[r - n_in] + 1)
        level[i] = lv
        n_levels = max(n_levels, lv + 1)
    start = np.zeros(n_levels + 1, dtype=np.int64)
    for t in range(todo.shape[0]):
        start[level[todo[t]] + 1] += 1
    for lv in range(n_levels):
        start[lv + 1] += start[lv]
    fill = start[:n_levels].copy()
    order = np.empty(todo.shape[0], dtype=np.int64)
    for t in range(todo.shape[0]):
        i = todo[t]
        order[fill[level[i]]] = i
        fill[level[i]] += 1
    return order, start


# ---- one LUT ------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _fill_f(F, nw, a_row, b_row):
    """F[c, :nw] = the 2-input function with nibble c of (a, b) = (in0, in1); address bit 0 is in0.
    F[0] and F[15] are the constants, set once per scratch."""
    for w in range(nw):
        a = a_row[w]
        b = b_row[w]
        na = ~a
        nb = ~b
        F[1, w] = na & nb
        F[2, w] = a & nb
        F[3, w] = nb
        F[4, w] = na & b
        F[5, w] = na
        F[6, w] = a ^ b
        F[7, w] = na | nb
        F[8, w] = a & b
        F[9, w] = ~(a ^ b)
        F[10, w] = a
        F[11, w] = a | nb
        F[12, w] = b
        F[13, w] = na | b
        F[14, w] = a | b


@njit(cache=True, inline="always")
def _lut_chunk(F, nw, k, lr, out, in0, in1, in2, in3, in4, in5):
    """One LUT over nw words: ``out[:nw]`` from the input rows ``in0..in{k-1}`` (1-D views, the unused ones any
    row) and the leaf functions ``lr``. Views indexed from 0 let LLVM see that no index is negative, so the
    vector loops carry no wraparound selects."""
    _fill_f(F, nw, in0, in1)
    l0 = lr[0]
    if k == 6:
        l1 = lr[1]
        l2 = lr[2]
        l3 = lr[3]
        l4 = lr[4]
        l5 = lr[5]
        l6 = lr[6]
        l7 = lr[7]
        l8 = lr[8]
        l9 = lr[9]
        l10 = lr[10]
        l11 = lr[11]
        l12 = lr[12]
        l13 = lr[13]
        l14 = lr[14]
        l15 = lr[15]
        for w in range(nw):
            x2 = in2[w]
            x3 = in3[w]
            v0 = F[l0, w] ^ (x2 & F[l1, w])
            v1 = F[l2, w] ^ (x2 & F[l3, w])
            v2 = F[l4, w] ^ (x2 & F[l5, w])
            v3 = F[l6, w] ^ (x2 & F[l7, w])
            v4 = F[l8, w] ^ (x2 & F[l9, w])
            v5 = F[l10, w] ^ (x2 & F[l11, w])
            v6 = F[l12, w] ^ (x2 & F[l13, w])
            v7 = F[l14, w] ^ (x2 & F[l15, w])
            u0 = v0 ^ (x3 & v1)
            u1 = v2 ^ (x3 & v3)
            u2 = v4 ^ (x3 & v5)
            u3 = v6 ^ (x3 & v7)
            x4 = in4[w]
            z0 = u0 ^ (x4 & u1)
            z1 = u2 ^ (x4 & u3)
            out[w] = z0 ^ (in5[w] & z1)
    elif k == 5:
        l1 = lr[1]
        l2 = lr[2]
        l3 = lr[3]
        l4 = lr[4]
        l5 = lr[5]
        l6 = lr[6]
        l7 = lr[7]
        for w in range(nw):
            x2 = in2[w]
            x3 = in3[w]
            v0 = F[l0, w] ^ (x2 & F[l1, w])
            v1 = F[l2, w] ^ (x2 & F[l3, w])
            v2 = F[l4, w] ^ (x2 & F[l5, w])
            v3 = F[l6, w] ^ (x2 & F[l7, w])
            u0 = v0 ^ (x3 & v1)
            u1 = v2 ^ (x3 & v3)
            out[w] = u0 ^ (in4[w] & u1)
    elif k == 4:
        l1 = lr[1]
        l2 = lr[2]
        l3 = lr[3]
        for w in range(nw):
            x2 = in2[w]
            v0 = F[l0, w] ^ (x2 & F[l1, w])
            v1 = F[l2, w] ^ (x2 & F[l3, w])
            out[w] = v0 ^ (in3[w] & v1)
    elif k == 3:
        l1 = lr[1]
        for w in range(nw):
            out[w] = F[l0, w] ^ (in2[w] & F[l1, w])
    else:
        for w in range(nw):
            out[w] = F[l0, w]


@njit(cache=True, inline="always")
def _lut_words(S, F, lo, hi, wr, lr, k, o):
    """One LUT into S[o, lo:hi] (hi - lo <= CHUNK), reading the rows ``wr`` of S."""
    r5 = wr[k - 1]                  # stands in for the inputs a LUT with k < 6 does not have
    _lut_chunk(F, hi - lo, k, lr, S[o, lo:hi], S[wr[0], lo:hi], S[wr[1], lo:hi], S[wr[min(2, k - 1)], lo:hi],
               S[wr[min(3, k - 1)], lo:hi], S[wr[min(4, k - 1)], lo:hi], S[r5, lo:hi])


@intrinsic
def _stack_f(typingctx):
    """Pointer to 16 * CHUNK uint64 in the calling function's stack frame, 32-byte aligned.

    F lives on the stack rather than in np.empty for two reasons, both measured (5-10 % on forward and
    forward_delta): no allocator call per LUT, and LLVM knows a stack slot that does not escape aliases no array
    argument, so the F loops need no runtime alias checks against the signal rows."""
    def codegen(context, builder, signature, args):
        slot = cgutils.alloca_once(builder, ir.ArrayType(ir.IntType(64), 16 * CHUNK))   # in the entry block
        slot.align = 32
        return builder.bitcast(slot, ir.PointerType(ir.IntType(64)))
    return types.CPointer(types.uint64)(), codegen


@njit(cache=True, inline="always")
def _f_scratch():
    """Scratch for the 16 functions F over CHUNK words, with the constants F[0] = 0 and F[15] = 1 set. The
    view is valid until the function that inlines this returns."""
    F = carray(_stack_f(), (16, CHUNK))
    for w in range(CHUNK):
        F[0, w] = _ZERO
        F[15, w] = _ONES
    return F


@njit(cache=True)
def _eval_lut(S, n_words, wr, lr, k, o):
    """One LUT over all words of S, chunk by chunk through a private F scratch."""
    F = _f_scratch()
    for lo in range(0, n_words, CHUNK):
        _lut_words(S, F, lo, min(lo + CHUNK, n_words), wr, lr, k, o)


@njit(cache=True)
def _copy_row(dst, src, r, n_words):
    d = dst[r]
    v = src[r]
    for w in range(n_words):
        d[w] = v[w]


# ---- whole-network evaluation -----------------------------------------------------------------------------------
@njit(cache=True)
def _delta_rows(wires, n_in, changed):
    """The LUTs to recompute (the dirty cone) and the signal rows to copy from the parent (all others)."""
    dirty = dirty_cone(wires, n_in, changed)
    n_rows = n_in + wires.shape[0]
    n_dirty = 0
    for i in range(dirty.shape[0]):
        n_dirty += dirty[i]
    todo = np.empty(n_dirty, dtype=np.int64)
    clean = np.empty(n_rows - n_dirty, dtype=np.int64)
    a = 0
    b = 0
    for r in range(n_rows):
        if r >= n_in and dirty[r - n_in]:
            todo[a] = r - n_in
            a += 1
        else:
            clean[b] = r
            b += 1
    return todo, clean


# The parallel functions below contain their prange loops themselves and call only serial helpers: a cached
# serial function that calls a cached parallel one can crash when loaded from the cache (numba issue #8578).
@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def forward(x, wires, tables, k):
    """All signals: uint64 [n_inputs + n_luts, n_words] (inputs first)."""
    n_in, n_words = x.shape
    n_luts = wires.shape[0]
    todo = np.arange(n_luts)
    leaves = _leaves(tables, k, todo)
    order, start = _by_level(wires, n_in, todo)
    sig = np.empty((n_in + n_luts, n_words), dtype=np.uint64)
    for r in prange(n_in):
        _copy_row(sig, x, r, n_words)
    for lv in range(start.shape[0] - 1):
        for j in prange(start[lv], start[lv + 1]):
            i = order[j]
            _eval_lut(sig, n_words, wires[i], leaves[i], k, n_in + i)
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


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def forward_delta(parent_sig, wires, tables, k, changed):
    """Signals of a child that differs from the parent in the LUTs flagged in `changed` (wiring or table).

    Only the affected cone is recomputed; the result equals ``forward`` on the child."""
    n_rows, n_words = parent_sig.shape
    n_luts = wires.shape[0]
    n_in = n_rows - n_luts
    todo, clean = _delta_rows(wires, n_in, changed)
    leaves = _leaves(tables, k, todo)
    order, start = _by_level(wires, n_in, todo)
    sig = np.empty((n_rows, n_words), dtype=np.uint64)
    for j in prange(clean.shape[0]):            # dirty rows are overwritten in full below
        _copy_row(sig, parent_sig, clean[j], n_words)
    for lv in range(start.shape[0] - 1):
        for j in prange(start[lv], start[lv + 1]):
            i = order[j]
            _eval_lut(sig, n_words, wires[i], leaves[i], k, n_in + i)
    return sig


# ---- class scores -------------------------------------------------------------------------------------------------
@njit(cache=True)
def _groups(group_of, n_classes):
    """Last-layer LUTs sorted by class (``members``; class c is ``members[start[c]:start[c+1]]``) and the bit
    width of the largest group's popcount."""
    start = np.zeros(n_classes + 1, dtype=np.int64)
    for i in range(group_of.shape[0]):
        if group_of[i] >= 0:
            start[group_of[i] + 1] += 1
    biggest = 0
    for c in range(n_classes):
        biggest = max(biggest, start[c + 1])
        start[c + 1] += start[c]
    members = np.empty(start[n_classes], dtype=np.int64)
    fill = start[:n_classes].copy()
    for i in range(group_of.shape[0]):
        c = group_of[i]
        if c >= 0:
            members[fill[c]] = i
            fill[c] += 1
    n_bits = 1
    while (1 << n_bits) <= biggest:
        n_bits += 1
    return members, start, n_bits


@njit(cache=True)
def _count_block(S, lo, nw, row0, members, start, n_classes, n_bits, cnt, carry):
    """Bit-sliced popcount of each class group over words [lo, lo+nw) of rows ``row0 + members``: ``cnt[c, q, w]``
    is bit q of class c's score for the 64 samples of word ``lo + w``. A member is added with a ripple carry
    (2 operations per bit plane) vectorized over the words, instead of 64 bit extractions per word."""
    for c in range(n_classes):
        for q in range(n_bits):
            for w in range(nw):
                cnt[c, q, w] = _ZERO
        for m in range(start[c], start[c + 1]):
            row = S[row0 + members[m], lo:lo + nw]
            for w in range(nw):
                carry[w] = row[w]
            for q in range(n_bits):
                for w in range(nw):
                    s = cnt[c, q, w]
                    cnt[c, q, w] = s ^ carry[w]
                    carry[w] = s & carry[w]


# byte i of _SPREAD[b] is bit i of b: spreads 8 samples' bits into 8 bytes with one table load
_SPREAD = np.array([sum(((b >> i) & 1) << (8 * i) for i in range(8)) for b in range(256)], dtype=np.uint64)


@njit(cache=True, inline="always")
def _unslice(planes, n_bits, out, acc):
    """``out[s] = sum(((planes[q] >> s) & 1) << q for q < n_bits)`` for the 64 samples s of a word: bit-sliced
    numbers back to integers. Up to 8 bit planes (values < 256) each sample gets a byte of ``acc`` (uint64[8]),
    filled by table lookups 8 samples at a time; wider ones take a vectorized pass over the 64 lanes a plane."""
    if n_bits <= 8:
        for j in range(8):
            acc[j] = _ZERO
        for q in range(n_bits):
            word = planes[q]
            for j in range(8):
                acc[j] |= _SPREAD[(word >> np.uint64(8 * j)) & np.uint64(255)] << np.uint64(q)
        for s in range(64):
            out[s] = np.int64((acc[s >> 3] >> np.uint64(8 * (s & 7))) & np.uint64(255))
    else:
        for s in range(64):
            out[s] = 0
        for q in range(n_bits):
            word = planes[q]
            for s in range(64):
                out[s] |= np.int64((word >> np.uint64(s)) & _ONE) << q


@njit(cache=True)
def _scores_block(sig, lo, nw, n_in, members, start, n_classes, n_bits, n_samples, scores):
    cnt = np.empty((n_classes, n_bits, nw), dtype=np.uint64)
    carry = np.empty(nw, dtype=np.uint64)
    _count_block(sig, lo, nw, n_in, members, start, n_classes, n_bits, cnt, carry)
    if n_bits <= 8:
        # scores < 256: byte s of acc[c] is sample s's score for class c, spread 8 samples per table load
        acc = np.empty((n_classes, 8), dtype=np.uint64)
        accb = acc.view(np.uint8)
        for w in range(nw):
            for c in range(n_classes):
                for j in range(8):
                    acc[c, j] = _ZERO
                for q in range(n_bits):
                    word = cnt[c, q, w]
                    for j in range(8):
                        acc[c, j] |= _SPREAD[(word >> np.uint64(8 * j)) & np.uint64(255)] << np.uint64(q)
            base = (lo + w) * 64
            for s in range(min(64, n_samples - base)):      # sample-major, as scores is laid out
                for c in range(n_classes):
                    scores[base + s, c] = accb[c, s]
        return
    planes = np.empty(n_bits, dtype=np.uint64)
    lanes = np.empty((n_classes, 64), dtype=np.int64)
    spare = np.empty(8, dtype=np.uint64)
    for w in range(nw):
        for c in range(n_classes):
            for q in range(n_bits):
                planes[q] = cnt[c, q, w]
            _unslice(planes, n_bits, lanes[c], spare)
        base = (lo + w) * 64
        for s in range(min(64, n_samples - base)):
            for c in range(n_classes):
                scores[base + s, c] = lanes[c, s]


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def class_scores(sig, n_in, group_of, n_classes, n_samples):
    """Popcount per class group for every sample: int32 [n_samples, n_classes]."""
    members, start, n_bits = _groups(group_of, n_classes)
    scores = np.empty((n_samples, n_classes), dtype=np.int32)
    n_words = (n_samples + 63) // 64
    n_blocks = (n_words + SCORE_BLOCK - 1) // SCORE_BLOCK
    for b in prange(n_blocks):
        lo = b * SCORE_BLOCK
        _scores_block(sig, lo, min(SCORE_BLOCK, n_words - lo), n_in, members, start, n_classes, n_bits,
                      n_samples, scores)
    return scores


@njit(cache=True)
def _argmax_block(cnt, n_classes, n_bits, nw, idx):
    """Bit-sliced argmax over the classes for 64 samples a word: ``idx[j, w]`` gets bit j of the winning class.

    Classes are visited in order and replace the running best only when strictly greater, so a tie keeps the
    lowest index, as hcl.network defines."""
    best = np.empty((n_bits, nw), dtype=np.uint64)
    gt = np.empty(nw, dtype=np.uint64)
    eq = np.empty(nw, dtype=np.uint64)
    for q in range(n_bits):
        for w in range(nw):
            best[q, w] = cnt[0, q, w]
    for j in range(idx.shape[0]):
        for w in range(nw):
            idx[j, w] = _ZERO
    for c in range(1, n_classes):
        for w in range(nw):
            gt[w] = _ZERO
            eq[w] = _ONES
        for q in range(n_bits - 1, -1, -1):      # compare from the most significant bit down
            for w in range(nw):
                s = cnt[c, q, w]
                m = best[q, w]
                gt[w] |= eq[w] & s & ~m
                eq[w] &= ~(s ^ m)
        for q in range(n_bits):
            for w in range(nw):
                m = best[q, w]
                best[q, w] = m ^ ((m ^ cnt[c, q, w]) & gt[w])
        for j in range(idx.shape[0]):
            bit = _ZERO - np.uint64((c >> j) & 1)
            for w in range(nw):
                idx[j, w] = (idx[j, w] & ~gt[w]) | (bit & gt[w])


@njit(cache=True)
def _hits_block(S, lo, nw, first, n_in, members, start, n_classes, n_bits, n_idx, labels):
    """Correctly classified samples among words [lo, lo+nw) of S, whose word 0 is sample word ``first``."""
    n_samples = labels.shape[0]
    cnt = np.empty((n_classes, n_bits, nw), dtype=np.uint64)
    carry = np.empty(nw, dtype=np.uint64)
    idx = np.empty((n_idx, nw), dtype=np.uint64)
    planes = np.empty(n_idx, dtype=np.uint64)
    pred = np.empty(64, dtype=np.int64)
    acc = np.empty(8, dtype=np.uint64)
    _count_block(S, lo, nw, n_in, members, start, n_classes, n_bits, cnt, carry)
    _argmax_block(cnt, n_classes, n_bits, nw, idx)
    hits = 0
    for w in range(nw):
        base = (first + lo + w) * 64
        for j in range(n_idx):
            planes[j] = idx[j, w]
        _unslice(planes, n_idx, pred, acc)
        for bit in range(min(64, n_samples - base)):
            hits += pred[bit] == labels[base + bit]
    return hits


@njit(cache=True)
def _block_hits(x, lo, nw, wires, leaves, k, members, g_start, n_classes, n_bits, n_idx, labels):
    """Evaluate words [lo, lo+nw) of x (nw <= CHUNK) in a private arena -- that block's slice of every signal --
    and count the correctly classified samples among them."""
    n_in = x.shape[0]
    n_luts = wires.shape[0]
    A = np.empty((n_in + n_luts, CHUNK), dtype=np.uint64)
    F = _f_scratch()
    for r in range(n_in):
        v = x[r, lo:lo + nw]
        for w in range(nw):
            A[r, w] = v[w]
    for i in range(n_luts):
        _lut_words(A, F, 0, nw, wires[i], leaves[i], k, n_in + i)
    return _hits_block(A, 0, nw, lo, n_in, members, g_start, n_classes, n_bits, n_idx, labels)


@njit(parallel=dict(_PRANGE_ONLY), cache=True)
def count_correct(x, wires, tables, k, group_of, n_classes, labels):
    """Fused evaluation for fitness: how many samples the network classifies correctly.

    Column-blocked, unlike ``forward``: each block of CHUNK words goes through the whole network in its own
    arena and is scored there, so nothing of size n_samples is written and memory does not grow with the sample
    count; one parallel region in all."""
    n_in, n_words = x.shape
    n_luts = wires.shape[0]
    leaves = _leaves(tables, k, np.arange(n_luts))
    members, g_start, n_bits = _groups(group_of, n_classes)
    n_idx = 1
    while (1 << n_idx) < n_classes:
        n_idx += 1
    n_words = min(n_words, (labels.shape[0] + 63) // 64)
    n_blocks = (n_words + CHUNK - 1) // CHUNK
    hits = np.zeros(n_blocks, dtype=np.int64)
    for b in prange(n_blocks):
        lo = b * CHUNK
        hits[b] = _block_hits(x, lo, min(CHUNK, n_words - lo), wires, leaves, k, members, g_start, n_classes,
                              n_bits, n_idx, labels)
    return hits.sum()


# ---- greedy input selection (hcl.evolve.grow) -------------------------------------------------------------------
@njit(cache=True)
def split_scores(xt, rows, positive, address, candidates, n_cells):
    """For each candidate signal j (a row of ``xt``, uint8 [n_signals, n_samples], 0/1), over the samples ``rows``:
    the total-variation distance between the positive and the negative samples' distributions over the cells
    ``address * 2 + xt[j, rows]`` (``address`` < n_cells, per entry of ``rows``), i.e. the sum over cells of
    max(0, P(cell | positive) - P(cell | negative)). float64 [n_candidates]; 0 when either side has no sample.
    (Signals as rows: one candidate's samples are contiguous, so the gather through ``rows`` stays in cache.)"""
    n = rows.shape[0]
    n_pos = 0
    for s in range(n):
        if positive[s]:
            n_pos += 1
    n_neg = n - n_pos
    out = np.zeros(candidates.shape[0], dtype=np.float64)
    if n_pos == 0 or n_neg == 0:
        return out
    pos = np.zeros(2 * n_cells, dtype=np.int64)
    neg = np.zeros(2 * n_cells, dtype=np.int64)
    for ci in range(candidates.shape[0]):
        signal = xt[candidates[ci]]
        pos[:] = 0
        neg[:] = 0
        for s in range(n):
            cell = address[s] * 2 + signal[rows[s]]
            if positive[s]:
                pos[cell] += 1
            else:
                neg[cell] += 1
        total = 0.0
        for cell in range(2 * n_cells):
            d = pos[cell] / n_pos - neg[cell] / n_neg
            if d > 0:
                total += d
        out[ci] = total
    return out
