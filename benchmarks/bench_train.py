"""The Numba trainer alone on a fixed topology: CPU-seconds per epoch, peak memory, accuracy of the export.

    python benchmarks/bench_train.py --task mnist --layers 1000 --group-size 50 --epochs 1 [--bits 1] [--seed 0]

The task's data come from --data or $HCL_DATA (../shared/data here). Accuracy is of the exported (binarized)
network, by hcl's own evaluator, on the task's validation and test splits; LUTs are hcl.cost estimates with the
encoder counted (and shown apart). The last line printed is one JSON object; --out FILE also saves the network.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

from hcl import cost
from hcl.encode import Encoder, unpack_bits
from hcl.evaluate import accuracy
from hcl.tasks import load_task
from hcl.train import TrainConfig, TrainableNetwork, train_network

from _data import default_data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="mnist")
    ap.add_argument("--data", default=None)
    ap.add_argument("--layers", default="1000")
    ap.add_argument("--group-size", type=int, default=50)
    ap.add_argument("--k", type=int, default=6)
    ap.add_argument("--bits", type=int, default=None)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    data = args.data if args.data is not None else default_data(args.task)
    ds = load_task(args.task, seed=args.seed, data=data)
    bits = args.bits or ds.bits or 4
    enc = Encoder.fit(ds.X_train, bits=bits, categorical=ds.categorical, input_width=ds.input_width,
                      signed=ds.signed, threshold_bits=6 if (ds.input_width or 0) > 6 else None)
    packed = {s: enc.encode_packed(ds.split(s)[0]) for s in ("train", "val", "test")}
    labels = {s: np.asarray(ds.split(s)[1], dtype=np.int64) for s in ("train", "val", "test")}
    x = unpack_bits(packed["train"], len(labels["train"])).astype(np.uint8)
    rng = np.random.default_rng(args.seed)
    hidden = [int(v) for v in args.layers.split(",") if v]
    model = TrainableNetwork.random(rng, args.k, enc.n_bits, hidden, args.group_size, len(ds.classes))
    # compile outside the timing
    warm = TrainableNetwork.random(np.random.default_rng(1), args.k, enc.n_bits, [8], 2, len(ds.classes))
    train_network(warm, x[:64], labels["train"][:64], TrainConfig(epochs=1, batch_size=32), np.random.default_rng(1))
    log = train_network(model, x, labels["train"], TrainConfig(epochs=args.epochs, batch_size=args.batch_size,
                                                               lr=args.lr), rng)
    net = model.export(list(ds.classes), args.task)
    net.encoder = enc.to_dict()
    c = cost.estimate(net)
    result = {
        "task": args.task, "layers": hidden, "group_size": args.group_size, "k": args.k, "bits": bits,
        "train_samples": len(x), "epochs": round(log.epochs, 3), "steps": log.steps,
        "wall_s": round(log.seconds, 1), "cpu_s": round(log.cpu_seconds, 1),
        "cpu_s_per_epoch": round(log.cpu_seconds / max(log.epochs, 1e-9), 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "train_loss_last": round(float(np.mean(log.losses[-200:])), 4),
        "val_accuracy": round(accuracy(net, packed["val"], labels["val"]), 4),
        "test_accuracy": round(accuracy(net, packed["test"], labels["test"]), 4),
        "luts": c["luts"], "luts_encoder": c["luts_encoder"], "luts_network": c["luts_network"],
        "luts_output": c["luts_output"], "depth": c["depth"],
    }
    if args.out:
        net.meta = {"seed": args.seed, "val_accuracy": result["val_accuracy"], "test_accuracy": result["test_accuracy"]}
        net.save(args.out)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
