"""Does a training technique buy accuracy at a fixed LUT count? One architecture trained from scratch with the
task's training rows (and --augment copies), with and without the technique, same seed, same number of Adam
steps; validation accuracy decides (test is not looked at: this is a design decision, not a figure to publish).

    python benchmarks/bench_trainer_ablation.py --task mnist --threshold-bits 1 --hidden 360 --group 12 \
        --epochs 15 --seeds 1 --variants base,distill:0.5:1,distill:0.3:2 --teacher RUN/best.json
    python benchmarks/bench_trainer_ablation.py --task digits --hidden 68 --group 4 --epochs 30 --seeds 3 \
        --variants base,noise:0.03,noise:0.08

Variants:
* ``base``: the trainer as hcl runs it (hcl.train.train_network);
* ``distill:W:T``: knowledge distillation: the target is (1 - W) one-hot + W teacher probabilities, the teacher's
  probabilities a softmax of its popcounts at T times its own training temperature (model.default_tau of its group).
  The teacher is a network hcl trained on the **same training split** (checked: same task, seed and encoder);
* ``noise:P``: every input bit a training step reads is flipped with probability P (input noise, a regularizer for
  small data);
* ``mapping:N``: the learnable mapping (slot weights) takes an Adam step every N batches on their summed gradients
  (TrainConfig.mapping_every; hcl's default 8, DWN steps it every batch);
* ``spectral:L``: a spectral regularizer after DWN's, L times the tables' total influence added to the loss
  (TrainConfig.spectral, model.spectral_grad);
* ``lastmap``: the last layer's wiring learned too (slot weights as the first layer's; DWN learns only the first).

The teacher's CPU time is not in the student's: at equal CPU, distillation must also pay for its teacher.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from hcl import reference
from hcl.evolve.config import EvolveConfig
from hcl.evolve.problem import Problem
from hcl.network import Network
from hcl.train import TrainConfig, TrainableNetwork, train_network
from hcl.train.model import default_tau

from _data import task_data


def teacher_targets(problem: Problem, path: str, rows: np.ndarray, temperature: float) -> np.ndarray:
    teacher = Network.load(path)
    if teacher.encoder != problem.encoder.to_dict() or teacher.meta.get("seed") != problem.config.seed:
        raise SystemExit(f"{path}: the teacher was trained on another encoding or split (seed "
                         f"{teacher.meta.get('seed')}); train it with the same --task, --seed and encoder options")
    scores = reference.class_scores(teacher, rows.astype(bool)).astype(np.float32)
    group = float(np.mean([len(g) for g in teacher.groups]))
    z = scores / np.float32(default_tau(group) * temperature)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def run(problem: Problem, hidden: list[int], group: int, epochs: float, seed: int, variant: str, teacher: str | None):
    rows, labels = problem.train.trainer_data
    kind, *args = variant.split(":")
    soft, extra, last = None, {}, False
    if kind == "distill":
        weight, temperature = float(args[0]), float(args[1])
        soft, extra = teacher_targets(problem, teacher, rows, temperature), {"distill": weight}
    elif kind == "noise":
        extra = {"input_noise": float(args[0])}
    elif kind == "mapping":
        extra = {"mapping_every": int(args[0])}
    elif kind == "spectral":
        extra = {"spectral": float(args[0])}
    elif kind == "lastmap":
        last = True
    elif kind != "base":
        raise SystemExit(f"unknown variant {variant!r}: base, distill:W:T, noise:P, mapping:N, spectral:L or lastmap")
    rng = np.random.default_rng(seed)
    model = TrainableNetwork.random(rng, problem.config.k, rows.shape[1], hidden, group, len(problem.classes),
                                    learn_last_mapping=last)
    c0 = time.process_time()
    train_network(model, rows, labels, TrainConfig(epochs=epochs, **extra), rng, soft=soft)
    cpu = time.process_time() - c0
    net = problem.decorate(model.export(problem.classes))
    acc = {name: problem.accuracy(net, name) for name in ("train", "val")}
    return {"variant": variant, "seed": seed, "train": round(acc["train"], 4), "val": round(acc["val"], 4),
            "cpu_s": round(cpu, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="digits")
    ap.add_argument("--data", default=None)
    ap.add_argument("--threshold-bits", type=int, default=None)
    ap.add_argument("--hidden", default="68", help="hidden layer sizes, comma-separated")
    ap.add_argument("--group", type=int, default=4)
    ap.add_argument("--epochs", type=float, default=30)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--variants", default="base,noise:0.03")
    ap.add_argument("--teacher", default=None, help="a network hcl trained on the same split (distill variants)")
    args = ap.parse_args()
    hidden = [int(h) for h in args.hidden.split(",")]
    rows = []
    for seed in range(args.seeds):
        extra = {} if args.threshold_bits is None else {"threshold_bits": args.threshold_bits}
        problem = Problem(EvolveConfig(task=args.task, data=task_data(args.task, args.data), trainer="efd",
                                       seed=seed, **extra))
        for variant in args.variants.split(","):
            rows.append(run(problem, hidden, args.group, args.epochs, seed, variant, args.teacher))
            print(json.dumps(rows[-1]), flush=True)
    print(f"| variant | seeds | train (mean) | val (mean) | val per seed | CPU s per run |")
    print("|---|---|---|---|---|---|")
    for variant in args.variants.split(","):
        mine = [r for r in rows if r["variant"] == variant]
        print(f"| {variant} | {len(mine)} | {np.mean([r['train'] for r in mine]):.4f} | "
              f"{np.mean([r['val'] for r in mine]):.4f} | {', '.join(str(r['val']) for r in mine)} | "
              f"{np.median([r['cpu_s'] for r in mine]):.0f} |")


if __name__ == "__main__":
    main()
