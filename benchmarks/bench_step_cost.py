"""The trainer's cost per Adam step, fitted: seconds = a + b * LUTs + c * n_inputs * first-layer LUTs (batch 32).

    python benchmarks/bench_step_cost.py

CPU seconds per step (time.process_time) of hcl.train on random 0/1 rows, for 60 and 784 inputs and four sizes
(10 classes); the least-squares fit is what hcl.evolve.lamarck.STEP_COST holds (paste it there when the trainer
changes). The first-layer term is the learned mapping (a weight per input bit per slot), the constant the per-step
overhead that dominates small networks.
"""

from __future__ import annotations

import time

import numpy as np

from hcl.train import TrainConfig, TrainableNetwork, train_network


def main() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for n_in in (60, 784):
        x = (rng.random((20000, n_in)) < 0.3).astype(np.uint8)
        y = rng.integers(0, 10, 20000)
        for hidden, group in (([10], 1), ([40], 4), ([200], 10), ([600], 30)):
            model = TrainableNetwork.random(rng, 6, n_in, hidden, group, 10)
            train_network(model, x, y, TrainConfig(epochs=0.05, batch_size=32), rng)      # compile once
            c0 = time.process_time()
            log = train_network(model, x, y, TrainConfig(epochs=0.5, batch_size=32), rng)
            luts = hidden[0] + group * 10
            rows.append((n_in, luts, hidden[0], (time.process_time() - c0) / log.steps))
            print(f"inputs {n_in:4d}  LUTs {luts:4d}  {rows[-1][3] * 1e6:7.0f} us/step", flush=True)
    d = np.array(rows, dtype=float)
    A = np.c_[np.ones(len(d)), d[:, 1], d[:, 0] * d[:, 2]]
    coef, *_ = np.linalg.lstsq(A, d[:, 3], rcond=None)
    print(f"STEP_COST = ({coef[0]:.3g}, {coef[1]:.3g}, {coef[2]:.3g})   # seconds: a + b * LUTs + c * inputs * first layer")


if __name__ == "__main__":
    main()
