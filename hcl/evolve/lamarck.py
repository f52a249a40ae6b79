"""Lamarckian fitness: networks whose tables are trained by gradients (hcl.train) inside the genetic search.

The search owns what gradients cannot change -- layer sizes, LUTs per class, which LUTs and inputs exist -- and the
trainer owns the tables and the first layer's wiring. A start member is trained from scratch; a child, after its
operator changed the genome, continues training from its parent's binarized tables (``TrainableNetwork.
from_network``) for a few hundred steps, and what it learned is inherited by its own children. Each child's
training draws from its own seed, chosen by the proposer, so no result depends on which executor trained it.
"""

from __future__ import annotations

import numpy as np

from hcl.network import Network
from hcl.splits import Split, fitted_on
from hcl.train import TrainConfig, TrainableNetwork, TrainLog, train_network
from hcl.train.model import spread_wiring


# Trainer speed for the default training length: wall seconds per sample per LUT per epoch, measured on this
# project's 2-core machine (benchmarks/bench_train.py: 1,500 LUT6 on MNIST's 50,000 samples, 12.3 s an epoch).
# Only the number of epochs derives from it, so a run stays the same on any machine for the same options.
SECONDS_PER_SAMPLE_LUT = 12.3 / (50_000 * 1_500)
# CPU seconds per Adam step of 32 samples: a + b * LUTs + c * n_inputs * first-layer LUTs (the learned mapping),
# fitted on this project's 2-core machine under load (benchmarks/bench_step_cost.py, 2026-12-06: 60 and 784 inputs,
# 20-900 LUTs, within ~15 % of 7 of 8 points). The architecture search plans its work with it: small networks are
# dominated by the per-step constant, which SECONDS_PER_SAMPLE_LUT leaves out (sipm members ran 1.7x over plan).
STEP_COST = (3.5e-4, 1.0e-6, 1.02e-8)
MAX_DEFAULT_EPOCHS = 30          # DWN's MNIST schedule: 30 epochs
MIN_DEFAULT_STEPS = 4_000
# Small data counts steps, not epochs: 30 epochs of digits' ~1,000 rows are 1,000 Adam steps. Measured on digits
# [68] + 4/class, validation, seeds 0-2 (benchmarks/results/trainer_ablation.md): 4,000 steps 0.916, 10,000 0.933,
# 33,000 0.927; sipm [60] + 10/class already has 11,000 steps in 30 epochs and gains nothing from more (0.928 ->
# 0.925 at 120 epochs). So a --time-limit run may train up to max(30 epochs, LONG_STEPS steps).
LONG_STEPS = 10_000


def max_default_epochs(per_epoch: int) -> float:
    """The longest default training, in epochs of `per_epoch` steps: 30 epochs, or LONG_STEPS steps on small data."""
    return max(float(MAX_DEFAULT_EPOCHS), LONG_STEPS / per_epoch)


# Shares of --time-limit the trained start, and all the front starts together, may plan for; the genetic loop has
# the rest (at least 15 %). The loop's time went to the front starts: on MNIST (700 and 1,400 LUTs, 33-272
# generations) its best network was the start every time, and its pruned children stayed ~4 points under networks
# trained for their size.
START_SHARE = 0.5
FRONT_SHARE = 0.35


def start_config(config, n_samples: int, n_luts: int = 0, share: float = START_SHARE) -> TrainConfig:
    """Training of a start member: ``train_epochs``; by default 3 epochs and at least MIN_DEFAULT_STEPS steps, and
    with a --time-limit up to as many epochs (at most max_default_epochs) as `share` of the limit allows at the
    measured trainer speed for `n_luts` LUTs (several networks of n_luts LUTs together, each trained that long)."""
    per_epoch = max(1, n_samples // config.train_batch)
    epochs = config.train_epochs
    if epochs is None:
        epochs = max(3.0, MIN_DEFAULT_STEPS / per_epoch)
        if config.time_limit is not None and n_luts > 0:
            affordable = share * config.time_limit / (SECONDS_PER_SAMPLE_LUT * n_samples * n_luts)
            epochs = max(epochs, min(max_default_epochs(per_epoch), float(int(affordable))))
    return TrainConfig(epochs=epochs, batch_size=config.train_batch, lr=config.train_lr).validate()


def n_trained_luts(hidden: list[int], group: int, n_classes: int) -> int:
    """LUTs of a network train_from_scratch builds: its hidden layers and `group` output LUTs per class."""
    return sum(hidden) + group * n_classes


def step_seconds(n_inputs: int, hidden: list[int], n_luts: int, batch: int = 32) -> float:
    """STEP_COST's estimate of one Adam step, scaled to the batch size."""
    a, b, c = STEP_COST
    return (a + b * n_luts + c * n_inputs * (hidden[0] if hidden else n_luts)) * batch / 32


def tune_config(config, n_samples: int) -> TrainConfig:
    """A child's continued training: ``tune_steps`` steps at ``tune_lr``, no decay (short and at a low rate)."""
    per_epoch = max(1, n_samples // config.train_batch)
    return TrainConfig(epochs=config.tune_steps / per_epoch, batch_size=config.train_batch, lr=config.tune_lr,
                       lr_steps=()).validate()


def train_from_scratch(rows: np.ndarray, labels: np.ndarray, rng: np.random.Generator, k: int, n_inputs: int,
                       hidden: list[int], group: int, classes: list[str], train: TrainConfig, *,
                       split: Split) -> tuple[Network, TrainLog]:
    """A network trained from a random start on `rows` / `labels` (`split`'s rows, then any --augment copies), and
    its training log."""
    fitted_on("the trainer", split, y=labels, copies=True)
    model = TrainableNetwork.random(rng, k, n_inputs, hidden, group, len(classes))
    log = train_network(model, rows, labels, train, rng)
    return model.export(classes), log


def sizing_probe(rng: np.random.Generator, k: int, inputs: np.ndarray, n_inputs: int, hidden: list[int], group: int,
                 classes: list[str]) -> Network:
    """A network wired as ``train_from_scratch`` wires one (every hidden LUT read), its first layer spread over
    `inputs`, the ones the trained mapping will read: priced by hcl.cost, it sizes a trained start to a budget."""
    model = TrainableNetwork.random(rng, k, n_inputs, hidden, group, len(classes), learn_mapping=False)
    model.wiring[0] = np.asarray(inputs, dtype=np.int32)[spread_wiring(rng, len(inputs), int(hidden[0]), k)]
    return model.export(classes)


def informative_inputs(rows: np.ndarray, rare: float = 0.02) -> np.ndarray:
    """Indices of the inputs set in more than `rare` and fewer than 1 - `rare` of the samples (`rows`: the trainer's
    uint8 ``[n_samples, n_inputs]``). A trained first layer leaves the others almost unread (MNIST, [960] + 16/class
    trained 40 epochs: 446 of 717 comparators read, 433 of them among the 457 this keeps), so they are not priced."""
    share = rows.mean(axis=0)
    keep = np.flatnonzero((share > rare) & (share < 1 - rare))
    return keep if keep.size else np.arange(rows.shape[1])


def continue_training(rows: np.ndarray, labels: np.ndarray, net: Network, seed: int, tune: TrainConfig, *,
                      split: Split) -> Network:
    """`net` trained on for `tune`'s steps from its own tables, its wiring fixed; task, encoder, meta kept.
    `rows` / `labels`: `split`'s rows, then any --augment copies.

    The inherited entries start at +-30 lr (a sign flips after ~30 consistent steps). Measured on MNIST (1000 +
    10/class, one epoch trained, 5 rounds of 100 steps): with the wiring fixed, val 0.912 -> 0.921 at lr 1e-3;
    with the first layer's mapping re-learned from a fresh random start, 0.912 -> 0.888 (fresh slot weights
    move inputs at random before the gradient can order them)."""
    fitted_on("the trainer", split, y=labels, copies=True)
    rng = np.random.default_rng(seed)
    model = TrainableNetwork.from_network(net, rng, learn_mapping=False, magnitude=30 * tune.lr)
    train_network(model, rows, labels, tune, rng)
    out = model.export(list(net.classes), net.task)
    out.encoder, out.meta = net.encoder, dict(net.meta)
    return out
