"""Would more than one free input bit per pixel beat one comparator per pixel on MNIST at DWN's footing?

    HCL_DATA=/work/shared/data .venv/bin/python benchmarks/bench_mnist_bitplanes.py --max-luts 700 --seed 0 \
        --out RUN [--planes 7,6 | --thermometer 3] [--time-limit 1800]

With ``--threshold-bits 1`` every comparator is a wire, and on 8-bit pixels that leaves one: x >= 128, the top bit.
The next bit down (b6) is a wire too, and a LUT reading both b7 and b6 of a pixel sees four grey levels for free. This
script runs the default MNIST search (`hcl evolve --task mnist --luts 6 --max-luts B --threshold-bits 1`, the same
trainer, shifted copies and time limit) on inputs that are the pixels' bit planes `--planes` as one-bit words
(x >= 1 on a one-bit word is a wire: the encoder costs nothing, as with one comparator per pixel). The planes are
stacked as a (28 x planes) x 28 image, so --augment shift moves every plane with its pixel (the rows where planes
meet are MNIST's blank border rows). The run directory is an ordinary `hcl evolve` run: compare its run.json with
the default run's of the same budget and seed.

``--thermometer N`` feeds DWN's own inputs instead (torch_dwn.DistributiveThermometer(N), feature-wise): per pixel the
N quantiles of its training values at 1/(N+1) .. N/(N+1), one bit ``x > q`` each, fitted on the training split only.
DWN does not count this encoder; neither does this run (the bits are one-bit words, so every comparator is a wire):
its LUT counts are on DWN's footing, not hcl's (whose default counts every comparator that is not a wire).
``--with-encoder RUN/best.json --out NET.json`` writes such a thermometer run's network with its input bits recoded as
hcl comparators on the 8-bit pixels (``x > q`` as ``x >= q + 1``; same LUTs), so that `hcl info`, and `hcl synth`
of its `hcl emit-vhdl` design, count the encoder as hcl counts it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hcl.evolve.config import EvolveConfig  # noqa: E402
from hcl.evolve.run import evolve  # noqa: E402
from hcl.network import Network  # noqa: E402
from hcl.tasks import load_task  # noqa: E402


def bit_planes(X: np.ndarray, planes: list[int]) -> np.ndarray:
    """[n, 784 * len(planes)]: bit p of every pixel, plane by plane."""
    X = X.astype(np.int64)
    return np.hstack([(X >> p) & 1 for p in planes])


def thermometer_thresholds(X_train: np.ndarray, n: int) -> np.ndarray:
    """[n, n_features]: DWN's distributive thermometer, feature-wise -- the training values' order statistics at
    rank floor(rows * i / (n + 1)), i = 1..n (torch_dwn.DistributiveThermometer.get_thresholds)."""
    data = np.sort(X_train, axis=0)
    return data[[int(len(data) * i / (n + 1)) for i in range(1, n + 1)]]


def thermometer(X: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """[n, n_features * levels]: bit ``x > threshold`` of every pixel, level by level (as bit_planes lays planes)."""
    return np.hstack([(X > t[None, :]).astype(np.int64) for t in thresholds])


def with_encoder(run_network: Path, out: Path) -> None:
    """The thermometer network `run_network`, its one-bit inputs recoded as comparators on the pixels."""
    net = Network.load(run_network)
    X_train = load_task("mnist", seed=net.meta.get("seed", 0)).X_train
    pixels = X_train.shape[1]
    levels = net.encoder["n_features"] // pixels
    thresholds = thermometer_thresholds(X_train, levels)
    d = net.to_dict()
    bits = []
    for feature, _, _ in d["encoder"]["bits"]:
        level, pixel = divmod(feature, pixels)
        bits.append([pixel, ">=", int(thresholds[level, pixel]) + 1])
    d["encoder"] = {**d["encoder"], "n_features": pixels, "input_width": 8, "bits": bits, "bits_per_feature": levels}
    Network.from_dict(d).save(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-luts", type=int)
    parser.add_argument("--seed", type=int, default=0)
    inputs = parser.add_mutually_exclusive_group()
    inputs.add_argument("--planes", default="7,6", help="bit planes, most significant first (default 7,6)")
    inputs.add_argument("--thermometer", type=int, help="DWN's distributive thermometer with this many bits a pixel")
    parser.add_argument("--with-encoder", type=Path, help="a --thermometer run's best.json: write it to --out with "
                        "its thermometer as hcl comparators")
    parser.add_argument("--time-limit", type=float, default=1800.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.with_encoder:
        with_encoder(args.with_encoder, args.out)
        return 0
    if args.max_luts is None:
        parser.error("--max-luts is required (unless --with-encoder)")
    ds = load_task("mnist", seed=args.seed)
    if args.thermometer:
        thresholds = thermometer_thresholds(ds.X_train, args.thermometer)     # training rows only
        levels, bits = args.thermometer, (lambda X: thermometer(X, thresholds))
    else:
        planes = [int(p) for p in args.planes.split(",")]
        levels, bits = len(planes), (lambda X: bit_planes(X, planes))
    side = ds.extra["image_shape"][1]
    ds = dataclasses.replace(ds, X_train=bits(ds.X_train), X_val=bits(ds.X_val), X_test=bits(ds.X_test),
                             input_width=1, signed=False,
                             extra={**ds.extra, "image_shape": (ds.extra["image_shape"][0] * levels, side)})
    # One-bit words: the uniform encoder's one threshold is x >= 1, the bit itself (the sixth session's runs; the
    # quantile encoder dropped bits set in most rows until its fallback to these cuts, hcl.encode._thermometer).
    config = EvolveConfig(task="mnist", k=6, max_luts=args.max_luts, threshold_bits=1, encoder="uniform",
                          time_limit=args.time_limit, seed=args.seed, out=str(args.out))
    evolve(config, dataset=ds, progress=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
