"""Throughput of the Numba LUT-network evaluator, in LUT-sample evaluations per second (n_luts * n_samples / s).

    python benchmarks/bench_eval.py [--quick] [--samples 60000] [--layers 600,300,100] [--inputs 784]

Measured in one run on one random K=6 network (default 1,000 LUTs over 784 input bits, 10 classes):

* ``forward``        all signals stored (uint64 [n_inputs + n_luts, n_words]): what delta evaluation starts from;
* ``count_correct``  the fitness path: evaluate, popcount the class groups, argmax, compare with the labels,
                     keeping one block per thread (nothing of size n_samples is written);
* ``forward_delta`` / ``class_scores``  the search's per-child path, for a child that changes a few LUTs;
* the numpy reference (hcl.reference) on a subset of the samples, scaled to a rate;
* a roofline: the peak rate of the bit select ``(a & ~s) | (b & s)`` on 64-bit words in a parallel, vectorized
  Numba loop on this machine, as LUT evaluations (a K=6 multiplexer tree needs 63 selects per 64 samples, so
  ``roofline = selects_per_s * 64 / 63``). Two forms are timed: ``register`` (operands loaded from L1-resident
  arrays, then a long chain of selects in registers: the ALU limit, reported as the roofline) and ``stream``
  (every select loads its three operands from and stores its result to L1-resident arrays: the load/store limit).

Every figure is the best of several repetitions (the machine is shared; the best run is the least disturbed).
The kernel does not evaluate a multiplexer tree (see hcl/kernels.py: shared 2-input functions and a Davio
expansion need ~42 bitwise operations per LUT and word instead of 63 selects = 189), so it can exceed the roofline.

Other lines are a readable table; the LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402
from numba import njit, prange  # noqa: E402

from hcl import kernels, reference  # noqa: E402
from hcl.encode import pack_bits  # noqa: E402
from hcl.network import random_network  # noqa: E402

SELECTS_PER_LUT6 = 63


# ---- roofline kernels ------------------------------------------------------------------------------------------
# The loops live in serial functions compiled in-process (not cached), so their machine code can be inspected;
# the parallel wrappers, cached, run one row per thread.
@njit
def _stream_row(a, b, s, out, reps):
    """out = a where s is 0, b where s is 1, bitwise, streamed from L1-resident arrays."""
    n = out.shape[0]
    for _ in range(reps):
        for i in range(n):
            out[i] = (a[i] & ~s[i]) | (b[i] & s[i])
        a[0] ^= out[n - 1]          # a dependence between repetitions, so only the last one cannot be kept


ROUNDS = 16           # select rounds per loaded word in _register_row, 4 selects each


@njit
def _register_row(a, b, c, d, out, reps):
    """Four interleaved select chains per word, ROUNDS deep, on operands loaded once from L1-resident arrays:
    the arithmetic limit (four chains give the out-of-order core independent work)."""
    n = out.shape[0]
    for _ in range(reps):
        for i in range(n):
            p = a[i]
            q = b[i]
            u = c[i]
            v = d[i]
            for _r in range(ROUNDS):
                p = (p & ~u) | (q & u)
                q = (q & ~v) | (u & v)
                u = (u & ~p) | (v & p)
                v = (v & ~q) | (p & q)
            out[i] = p ^ q ^ u ^ v
        a[0] ^= out[n - 1]


@njit(parallel=True, cache=True)
def _select_stream(a, b, s, out, reps):
    for t in prange(out.shape[0]):
        _stream_row(a[t], b[t], s[t], out[t], reps)
    return out.sum()


@njit(parallel=True, cache=True)
def _select_register(a, b, c, d, out, reps):
    for t in prange(out.shape[0]):
        _register_row(a[t], b[t], c[t], d[t], out[t], reps)
    return out.sum()


def vector_report(fn) -> dict:
    """Which vector instructions the compiled kernel uses: proof that the select really is vectorized."""
    asm = "\n".join(fn.inspect_asm().values())
    counts = {op: len(re.findall(rf"\b{op}\b", asm)) for op in
              ("vpternlogq", "vpandn", "vpand", "vpor", "vpxor", "vpandnq", "vpandq", "vporq", "vpxorq")}
    regs = {r: len(re.findall(rf"%{r}\d+", asm)) for r in ("zmm", "ymm", "xmm")}
    width = "zmm (512-bit)" if regs["zmm"] else "ymm (256-bit)" if regs["ymm"] else "xmm (128-bit) or scalar"
    return {"widest_register": width, "instructions": {k: v for k, v in counts.items() if v},
            "registers": regs}


def kernel_vector_report() -> dict:
    """The same for the evaluator's LUT kernel: an uncached copy of kernels._eval_lut, compiled here because
    numba cannot show the machine code of a function it loaded from its cache."""
    fn = njit(kernels._eval_lut.py_func)
    S = np.zeros((8, kernels.CHUNK), dtype=np.uint64)
    fn(S, kernels.CHUNK, np.arange(6, dtype=np.int32), np.zeros(16, dtype=np.int32), 6, 7)
    return vector_report(fn)


def roofline(quick: bool) -> dict:
    nt = numba.get_num_threads()
    n = 512                     # 4 arrays x 512 words x 8 B = 16 KiB per thread: L1-resident
    rng = np.random.default_rng(1)
    arrays = [rng.integers(0, np.iinfo(np.uint64).max, size=(nt, n), dtype=np.uint64, endpoint=True)
              for _ in range(5)]
    _select_stream(*arrays[:4], 1)
    _select_register(*arrays, 1)
    _stream_row(*(v[0] for v in arrays[:4]), 1)         # compiled here, for the instruction report
    _register_row(*(v[0] for v in arrays), 1)
    reps_stream, reps_reg = 20000, 1500      # ~5 ms a run: short runs catch the quiet moments of a shared machine
    t_stream = best_time(lambda: _select_stream(*arrays[:4], reps_stream), 9 if quick else 25)
    t_reg = best_time(lambda: _select_register(*arrays, reps_reg), 9 if quick else 25)
    stream = nt * n * reps_stream / t_stream
    register = nt * n * reps_reg * ROUNDS * 4 / t_reg
    return {"threads": nt, "stream_selects_per_s": stream, "register_selects_per_s": register,
            "selects_per_s": max(stream, register),
            "vector_register": vector_report(_register_row), "vector_stream": vector_report(_stream_row)}


# ---- helpers ---------------------------------------------------------------------------------------------------
def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def llvm_cpu() -> tuple[str, bool]:
    import llvmlite.binding as ll
    name = os.environ.get("NUMBA_CPU_NAME") or ll.get_host_cpu_name()
    return name, "+avx512f" in ll.get_host_cpu_features().flatten()


def reference_rate(net, bits: np.ndarray, n_luts: int, n: int, repeats: int) -> tuple[float, float, float]:
    """Marginal throughput of hcl.reference: the slope between n/4 and n samples, so that its fixed cost
    (building the truth-table bit arrays in Python, ~20 ms here) does not count against it.
    Returns (LUT evals/s, seconds at n, fixed seconds)."""
    t_small = best_time(lambda: reference.class_scores(net, bits[: n // 4]), repeats)
    t_full = best_time(lambda: reference.class_scores(net, bits[:n]), repeats)
    per_sample = (t_full - t_small) / (n - n // 4)
    if per_sample <= 0:             # a disturbed run; fall back to the plain average
        per_sample = t_full / n
    return n_luts / per_sample, t_full, max(0.0, t_full - per_sample * n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and a smaller reference subset (< 30 s)")
    ap.add_argument("--samples", type=int, default=60000)
    ap.add_argument("--inputs", type=int, default=784)
    ap.add_argument("--layers", default="600,300,100")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--k", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=None, help="timed repetitions per kernel (best is kept)")
    ap.add_argument("--reference-samples", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    repeats = args.repeats or (7 if args.quick else 25)
    ref_n = args.reference_samples or (2048 if args.quick else 8192)
    layers = [int(v) for v in args.layers.split(",")]

    rng = np.random.default_rng(args.seed)
    net = random_network(rng, args.k, args.inputs, layers, args.classes)
    wires, tables, group_of = net.flat()
    n, n_luts = args.samples, net.n_luts
    bits = rng.random((n, args.inputs)) < 0.5
    x = pack_bits(bits)
    labels = rng.integers(0, args.classes, size=n).astype(np.int64)
    changed = np.zeros(n_luts, dtype=np.bool_)
    changed[rng.choice(layers[0], size=5, replace=False)] = True     # a child changing 5 first-layer LUTs
    child_tables = tables.copy()
    child_tables[changed] ^= np.uint64(0x5A5A5A5A5A5A5A5A)

    # JIT (cached on disk after the first run), then a correctness spot check against the reference
    t0 = time.perf_counter()
    sig = kernels.forward(x, wires, tables, args.k)
    kernels.count_correct(x, wires, tables, args.k, group_of, args.classes, labels)
    scores = kernels.class_scores(sig, net.n_inputs, group_of, args.classes, n)
    kernels.forward_delta(sig, wires, child_tables, args.k, changed)
    compile_s = time.perf_counter() - t0
    sub = min(ref_n, n)
    ref_scores = reference.class_scores(net, bits[:sub])
    assert np.array_equal(scores[:sub], ref_scores), "kernel and reference disagree"
    assert int((np.argmax(ref_scores, axis=1) == labels[:sub]).sum()) == kernels.count_correct(
        x[:, : (sub + 63) // 64], wires, tables, args.k, group_of, args.classes, labels[:sub])

    def child():
        child_sig = kernels.forward_delta(sig, wires, child_tables, args.k, changed)
        return kernels.class_scores(child_sig, net.n_inputs, group_of, args.classes, n)

    t_fwd = best_time(lambda: kernels.forward(x, wires, tables, args.k), repeats)
    t_cc = best_time(lambda: kernels.count_correct(x, wires, tables, args.k, group_of, args.classes, labels), repeats)
    t_cs = best_time(lambda: kernels.class_scores(sig, net.n_inputs, group_of, args.classes, n), repeats)
    t_delta = best_time(lambda: kernels.forward_delta(sig, wires, child_tables, args.k, changed), repeats)
    t_child = best_time(child, repeats)
    cone = int(kernels.dirty_cone(wires, net.n_inputs, changed).sum())
    rate_ref, t_ref, ref_fixed = reference_rate(net, bits, n_luts, sub, 1 if args.quick else 2)
    roof = roofline(args.quick)
    lut_asm = kernel_vector_report()

    rate = n_luts * n / t_fwd
    rate_cc = n_luts * n / t_cc
    roof_rate = roof["selects_per_s"] * 64 / SELECTS_PER_LUT6
    stream_rate = roof["stream_selects_per_s"] * 64 / SELECTS_PER_LUT6
    cpu_llvm, avx512 = llvm_cpu()
    result = {
        "lut_evals_per_s": rate,
        "reference_lut_evals_per_s": rate_ref,
        "roofline_lut_evals_per_s": roof_rate,
        "count_correct_lut_evals_per_s": rate_cc,
        "roofline_stream_lut_evals_per_s": stream_rate,
        "speedup_vs_reference": rate / rate_ref,
        "count_correct_speedup_vs_reference": rate_cc / rate_ref,
        "fraction_of_roofline": rate / roof_rate,
        "count_correct_fraction_of_roofline": rate_cc / roof_rate,
        "forward_s": t_fwd,
        "count_correct_s": t_cc,
        "class_scores_s": t_cs,
        "forward_delta_s": t_delta,
        "child_delta_plus_scores_s": t_child,
        "delta_cone_luts": cone,
        "reference_s": t_ref,
        "reference_samples": sub,
        "reference_fixed_s": ref_fixed,
        "n_luts": n_luts,
        "n_samples": n,
        "k": args.k,
        "chunk_words": kernels.CHUNK,
        "threads": roof["threads"],
        "cpu": cpu_name(),
        "llvm_cpu": cpu_llvm,
        "avx512": avx512,
        "roofline_vectorization": roof["vector_register"]["widest_register"],
        "kernel_vectorization": lut_asm["widest_register"],
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "jit_and_warmup_s": compile_s,
        "repeats": repeats,
        "quick": args.quick,
    }

    print(f"hcl evaluator: {n_luts} K={args.k} LUTs {layers}, {args.inputs} inputs, {args.classes} classes, "
          f"{n} samples; {roof['threads']} threads, {cpu_name()} ({cpu_llvm}, "
          f"{'AVX-512' if avx512 else 'no AVX-512'})")
    print(f"best of {repeats} runs each (reference: marginal rate between {sub // 4} and {sub} samples, "
          f"fixed cost {ref_fixed * 1e3:.0f} ms excluded); JIT + warm-up {compile_s:.1f} s")
    print(f"{'path':<40}{'time':>11}{'LUT evals/s':>13}{'vs reference':>14}{'of roofline':>13}")
    for name, t, r in (("forward (all signals stored)", t_fwd, rate),
                       ("count_correct (fitness path, fused)", t_cc, rate_cc),
                       (f"numpy reference (n = {sub})", t_ref, rate_ref)):
        print(f"{name:<40}{t * 1e3:>9.2f}ms{r:>13.3e}{r / rate_ref:>13.0f}x{r / roof_rate:>12.0%}")
    print(f"{'class_scores (all samples)':<40}{t_cs * 1e3:>9.2f}ms")
    print(f"{f'forward_delta ({cone}-LUT cone of 5 LUTs)':<40}{t_delta * 1e3:>9.2f}ms"
          f"   (copying the parent's {sig.nbytes / 2**20:.0f} MiB of signals included)")
    print(f"{'one child: forward_delta + class_scores':<40}{t_child * 1e3:>9.2f}ms"
          f"   ({t_fwd / t_child:.1f}x faster than forward alone)")
    print(f"roofline, bit select (a & ~s) | (b & s) on 64-bit words, {roof['threads']} threads: "
          f"{roof['register_selects_per_s']:.3e}/s in registers = {roof_rate:.3e} LUT evals/s at 63 per LUT; "
          f"{roof['stream_selects_per_s']:.3e}/s streamed through L1 = {stream_rate:.3e}")
    print(f"machine code: roofline loop {roof['vector_register']['widest_register']} "
          f"{roof['vector_register']['instructions']}; LUT kernel (_eval_lut) {lut_asm['widest_register']} "
          f"{lut_asm['instructions']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
