"""The trained start alone: softmax temperature and the output refit, per task and seed.

    python benchmarks/bench_start.py --task mnist --threshold-bits 1 --hidden 660 --group 12 --logit 15 10 --seeds 3
    python benchmarks/bench_start.py --task mnist --threshold-bits 1 --hidden 660 --group 12 --augment none shift

Trains the topology from scratch as ``hcl evolve --trainer efd`` trains its start (lamarck.start_config: the epochs
follow --time-limit and the number of samples the trainer reads), once per seed, --augment and full-group logit
(tau = group / logit; hcl's default is hcl.train.model.GROUP_LOGIT), and prints one JSON line per run: train / val /
test accuracy of the binarized network ("raw") and after the exact refit of its output tables to the training split
("refit"), and the training CPU-s. Decide on the validation columns; test is reported.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np

from hcl.evolve import lamarck
from hcl.evolve.config import EvolveConfig
from hcl.evolve.problem import Problem

from _data import default_data

DATA_DIRS = {"mnist": "mnist"}


def run(problem: Problem, seed: int, hidden: list[int], group: int, logit: float, epochs: float | None) -> dict:
    config = problem.config
    train = lamarck.start_config(config, problem.train.n_trainer_samples, sum(hidden) + group * len(problem.classes))
    train = replace(train, tau=group / logit, **({"epochs": epochs} if epochs else {}))
    c0 = time.process_time()
    net, _ = lamarck.train_from_scratch(*problem.train.trainer_data, np.random.default_rng(seed), config.k,
                                     problem.encoder.n_bits, hidden, group, problem.classes, train,
                                     split=problem.train.split)
    cpu_s = time.process_time() - c0
    raw = problem.train.full(problem.decorate(net))
    refit = problem.train.refit_outputs(raw)
    row = {"task": config.task, "hidden": hidden, "group": group, "logit": logit, "seed": seed,
           "augment": config.augment, "samples": problem.train.n_trainer_samples, "epochs": round(train.epochs, 1),
           "cpu_s": round(cpu_s, 1)}
    for name, ev in (("raw", raw), ("refit", refit)):
        row[name] = [round(problem.accuracy(ev.net, split), 4) for split in ("train", "val", "test")]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="digits")
    ap.add_argument("--data", default=None)
    ap.add_argument("--threshold-bits", type=int, default=6)
    ap.add_argument("--hidden", type=int, nargs="+", required=True)
    ap.add_argument("--group", type=int, required=True)
    ap.add_argument("--logit", type=float, nargs="+", default=[10.0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--augment", nargs="+", default=[None], help="none, shift; default: the task's")
    ap.add_argument("--epochs", type=float, default=None, help="default: as hcl evolve's start under --time-limit")
    ap.add_argument("--time-limit", type=float, default=1500)
    args = ap.parse_args()
    data = args.data or (default_data(DATA_DIRS[args.task]) if args.task in DATA_DIRS else None)
    for seed in range(args.seeds):
        for augment in args.augment:
            problem = Problem(EvolveConfig(task=args.task, data=data, seed=seed, threshold_bits=args.threshold_bits,
                                           trainer="efd", augment=augment, time_limit=args.time_limit))
            for logit in args.logit:
                print(json.dumps(run(problem, seed, args.hidden, args.group, logit, args.epochs)), flush=True)


if __name__ == "__main__":
    main()
