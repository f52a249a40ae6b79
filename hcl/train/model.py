"""The trainer: a LUT network with real-valued tables, trained by minibatch Adam on DWN's gradients (hcl.train.efd).

Topology: LUT layers ``sizes`` (the last one split into ``n_classes`` contiguous groups of ``group`` LUTs).
Layer 0 reads the encoded input bits through a learnable mapping (or a fixed wiring); every later layer reads the
layer before it through a fixed wiring that uses each of its signals equally often (as DWN's ``layer_mapping``), or,
for the last layer with ``learn_last_mapping`` (measured, not the default), a learnable mapping as layer 0's.
The exported :class:`~hcl.network.Network` keeps the learned wiring and each table's signs, so its predictions
are the trained model's binarized predictions, sample for sample.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from hcl import reference
from hcl.errors import ConfigError
from hcl.network import Network
from hcl.train import efd, kernels


@dataclass
class TrainConfig:
    epochs: float = 1.0                    # passes over the training split (fractions allowed)
    batch_size: int = 32
    lr: float = 1e-2
    lr_decay: float = 0.1                  # the learning rate is multiplied by this at each of lr_steps
    lr_steps: tuple[float, ...] = (0.7,)   # fractions of the run (a step schedule, as DWN's StepLR)
    tau: float | None = None               # softmax temperature; None: default_tau(mean LUTs per class)
    alpha: float | None = None             # EFD scale; None: efd.default_alpha(K)
    beta: float = efd.DEFAULT_BETA         # EFD decay per Hamming step
    learn_mapping: bool = True
    mapping_every: int = 8                 # batches per slot-weight update (their gradients summed): the update
                                           # touches n0*K*n_inputs weights (4.7 M on MNIST), the table update 96 K
    time_limit: float | None = None        # seconds: the schedule runs on the clock where it is ahead of the
                                           # steps (_clock_share), so a slow machine decays and stops in time
    distill: float = 0.0                   # weight of a teacher's soft targets in the loss (0: labels only)
    input_noise: float = 0.0               # probability that a training step sees an input bit flipped
    spectral: float = 0.0                  # weight of the tables' total influence in the loss (spectral_grad)

    def validate(self) -> "TrainConfig":
        if not self.epochs > 0:
            raise ConfigError(f"--epochs: must be positive, got {self.epochs}")
        if not (1 <= self.batch_size <= 65536):
            raise ConfigError(f"--batch-size: must be 1..65536, got {self.batch_size}")
        if not (0 < self.lr <= 1):
            raise ConfigError(f"--lr: must be in (0, 1], got {self.lr}")
        if not (0 < self.lr_decay <= 1) or any(not (0 < s < 1) for s in self.lr_steps):
            raise ConfigError("lr schedule: decay in (0, 1], steps as fractions in (0, 1)")
        if self.tau is not None and not self.tau > 0:
            raise ConfigError(f"--tau: must be positive, got {self.tau}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ConfigError(f"training time limit: must be positive seconds, got {self.time_limit}")
        if not (1 <= self.mapping_every <= 1024):
            raise ConfigError(f"mapping_every: must be 1..1024, got {self.mapping_every}")
        if not (0 <= self.input_noise < 0.5):
            raise ConfigError(f"input noise: must be in [0, 0.5), got {self.input_noise}")
        if not self.spectral >= 0:
            raise ConfigError(f"spectral regularization weight: must be >= 0, got {self.spectral}")
        if not (0 <= self.distill <= 1):
            raise ConfigError(f"distillation weight: must be in [0, 1], got {self.distill}")
        if not (0 < self.beta < 1) or (self.alpha is not None and not self.alpha > 0):
            raise ConfigError("EFD: need alpha > 0 and 0 < beta < 1")
        return self


@dataclass
class TrainableNetwork:
    k: int
    n_inputs: int
    wiring: list[np.ndarray]               # int32 [n, K] per layer; layer 0 follows `mapping` when it is learned
    tables: list[np.ndarray]               # float32 [n, 2^K] per layer, in [-1, 1]
    group_of: np.ndarray                   # int32 [n_last]: the class of each last-layer LUT
    mapping: np.ndarray | None = None      # float32 [n_inputs, n0 * K]: per slot (column) a weight per input bit;
                                           # the argmax of each column is layer 0's wiring (transposed, so that
                                           # kernels.adam_mapping steps a block of slots contiguously)
    state: dict = field(default_factory=dict)   # Adam moments and step count
    last_mapping: np.ndarray | None = None  # float32 [n_prev, n_last * K]: slot weights of the last layer (as
                                            # `mapping`; None: its wiring stays fixed)

    @property
    def sizes(self) -> list[int]:
        return [int(w.shape[0]) for w in self.wiring]

    @property
    def n_classes(self) -> int:
        return int(self.group_of.max()) + 1

    @property
    def group(self) -> float:
        """Mean LUTs per class."""
        return self.sizes[-1] / self.n_classes

    # ---- construction ----------------------------------------------------------------------------------------
    @classmethod
    def random(cls, rng: np.random.Generator, k: int, n_inputs: int, hidden: list[int], group: int,
               n_classes: int, learn_mapping: bool = True, learn_last_mapping: bool = False) -> "TrainableNetwork":
        sizes = [int(n) for n in hidden] + [int(group) * n_classes]
        wiring, tables, prev = [], [], n_inputs
        for n in sizes:
            wiring.append(spread_wiring(rng, prev, n, k))
            tables.append(rng.uniform(-1, 1, size=(n, 1 << k)).astype(np.float32))
            prev = n
        mapping = rng.uniform(0, 1, size=(sizes[0] * k, n_inputs)).astype(np.float32) if learn_mapping else None
        group_of = (np.arange(sizes[-1]) // int(group)).astype(np.int32)
        net = cls(k, n_inputs, wiring, tables, group_of, None if mapping is None else np.ascontiguousarray(mapping.T))
        if mapping is not None:
            net.wiring[0] = mapping.argmax(axis=1).astype(np.int32).reshape(sizes[0], k)
        if learn_last_mapping and len(sizes) > 1:
            # Start at the spread wiring (every hidden LUT read equally often); argmax of random weights would
            # leave ~e^-2 of the hidden LUTs unread from the first step.
            slots = net.wiring[-1].reshape(-1)
            weights = rng.uniform(0, 1, size=(len(slots), sizes[-2])).astype(np.float32)
            weights[np.arange(len(slots)), slots] = 1.0 + 0.02
            net.last_mapping = np.ascontiguousarray(weights.T)
        return net

    @classmethod
    def from_network(cls, net: Network, rng: np.random.Generator, learn_mapping: bool = True,
                     magnitude: float = 0.1, lift: float = 0.02) -> "TrainableNetwork":
        """Continue training a binary network (Lamarckian inheritance): each entry starts at +-magnitude by its
        bit; the slot weights start random in [0, 1) with the current input at 1 + lift. Both margins are small
        on purpose: a short continuation (Adam moves a weight by about lr a step) must be able to flip an entry
        or move an input, or it would train nothing."""
        _, _, flat_group_of = net.flat()
        group_of = flat_group_of[net.n_luts - net.layer_sizes[-1]:].copy()
        addr = np.arange(1 << net.k, dtype=np.uint64)
        tables = [np.where((t[:, None] >> addr[None, :]) & np.uint64(1), magnitude, -magnitude).astype(np.float32)
                  for t in net.tables]
        wiring = [w.astype(np.int32).copy() for w in net.wiring]
        mapping = None
        if learn_mapping:
            slots = wiring[0].reshape(-1)
            mapping = rng.uniform(0, 1, size=(len(slots), net.n_inputs)).astype(np.float32)
            mapping[np.arange(len(slots)), slots] = 1.0 + lift
            mapping = np.ascontiguousarray(mapping.T)
        return cls(net.k, net.n_inputs, wiring, tables, group_of, mapping)

    # ---- the model -------------------------------------------------------------------------------------------
    def signs(self) -> list[np.ndarray]:
        return [(t > 0).astype(np.uint8) for t in self.tables]

    def forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        addrs, outs, sig = [], [], x
        for w, s in zip(self.wiring, self.signs()):
            addr, sig = kernels.forward_layer(sig, w, s)
            addrs.append(addr)
            outs.append(sig)
        return addrs, outs

    def scores(self, x: np.ndarray, batch: int = 4096) -> np.ndarray:
        """Integer class scores (popcounts) ``[n, n_classes]`` of the binarized model."""
        parts = []
        for lo in range(0, len(x), batch):
            _, outs = self.forward(np.ascontiguousarray(x[lo:lo + batch]))
            parts.append(kernels.group_scores(outs[-1], self.group_of, self.n_classes))
        return np.concatenate(parts).astype(np.int32)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return reference.winner(self.scores(x))

    def export(self, classes: list[str], task: str = "") -> Network:
        """The binarized network in hcl's one semantics: wiring kept, table bit ``a`` = entry ``a`` > 0."""
        weights = np.uint64(1) << np.arange(1 << self.k, dtype=np.uint64)
        tables = [(s.astype(np.uint64) * weights[None, :]).sum(axis=1, dtype=np.uint64) for s in self.signs()]
        groups = [np.flatnonzero(self.group_of == c).tolist() for c in range(self.n_classes)]
        return Network(self.k, self.n_inputs, [w.copy() for w in self.wiring], tables, groups, list(classes),
                       task).validate()

    # ---- one step --------------------------------------------------------------------------------------------
    def gradients(self, x: np.ndarray, y: np.ndarray, tau: float, efd_ab: tuple[float, float],
                  slots_only: bool = False, soft: np.ndarray | None = None, soft_weight: float = 0.0,
                  last_slots: list | None = None):
        """Loss and gradients on one batch: table gradients per layer, and the slot weights' gradient (with
        `slots_only`, the slot gradients ``[B, n0 * K]`` instead, for the caller to accumulate). `efd_ab` is the
        EFD's ``(alpha, beta)``. With `soft` (a teacher's class probabilities ``[B, n_classes]``), the target is
        ``(1 - soft_weight) * one-hot(y) + soft_weight * soft`` (distillation). With a learned last-layer mapping,
        its slot gradients and the rows they read (the layer before) are appended to `last_slots`."""
        addrs, outs = self.forward(x)
        scores = kernels.group_scores(outs[-1], self.group_of, self.n_classes) / np.float32(tau)
        z = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        b = len(y)
        loss = float(-np.log(p[np.arange(b), y] + 1e-30).mean())
        if soft is None or soft_weight == 0.0:
            p[np.arange(b), y] -= 1.0
        else:
            p -= np.float32(soft_weight) * soft
            p[np.arange(b), y] -= np.float32(1.0 - soft_weight)
        g = np.ascontiguousarray((p / np.float32(b * tau))[:, self.group_of], dtype=np.float32)
        dtables = [None] * len(self.tables)
        dmap = None
        size = 1 << self.k
        alpha, beta = efd_ab
        for layer in range(len(self.tables) - 1, -1, -1):
            addr = addrs[layer]
            dtables[layer] = kernels.table_grad(g, addr, size)
            if layer == 0 and self.mapping is None:
                break                       # a fixed first layer needs no input gradient
            D = kernels.efd_grads(self.tables[layer], self.k, alpha, beta)
            if layer > 0 and layer == len(self.tables) - 1 and self.last_mapping is not None \
                    and last_slots is not None:
                last_slots.append((kernels.slot_grad(g, addr, D), outs[layer - 1]))
            if layer > 0:
                g = kernels.input_grad(g, addr, self.wiring[layer], D, self.sizes[layer - 1])
            else:
                gs = kernels.slot_grad(g, addr, D)
                dmap = gs if slots_only else kernels.mapping_grad(gs, x)
        return loss, dtables, dmap

    def step(self, x: np.ndarray, y: np.ndarray, lr: float, tau: float, efd_ab: tuple[float, float],
             mapping_every: int = 1, soft: np.ndarray | None = None, soft_weight: float = 0.0,
             spectral: float = 0.0) -> float:
        """One Adam step on the tables; the slot weights take one every `mapping_every` calls, on the sum of
        their gradients (the wiring stays fixed in between)."""
        last_slots = []
        loss, dtables, gs = self.gradients(x, y, tau, efd_ab, slots_only=True, soft=soft, soft_weight=soft_weight,
                                           last_slots=last_slots)
        st = self.state
        st["step"] = st.get("step", 0) + 1
        if "m" not in st:
            st["m"] = [np.zeros_like(t) for t in self.tables]
            st["v"] = [np.zeros_like(t) for t in self.tables]
            for weights, keys in ((self.mapping, FIRST_SLOTS), (self.last_mapping, LAST_SLOTS)):
                if weights is not None:
                    st[keys[2]], st[keys[3]] = np.zeros_like(weights), np.zeros_like(weights)
        if spectral > 0:
            dtables = [d + np.float32(spectral) * spectral_grad(t, self.k) for d, t in zip(dtables, self.tables)]
        for t, d, m, v in zip(self.tables, dtables, st["m"], st["v"]):
            kernels.adam_clamp(t, d, m, v, lr, 0.9, 0.999, 1e-8, st["step"], -1.0, 1.0)
        for entry in last_slots:
            self._slot_round(-1, self.last_mapping, LAST_SLOTS, entry, lr, mapping_every)
        if gs is not None:
            self._slot_round(0, self.mapping, FIRST_SLOTS, (gs, x), lr, mapping_every)
        return loss

    def _slot_round(self, layer: int, weights: np.ndarray, keys: tuple[str, str, str, str],
                    entry: tuple[np.ndarray, np.ndarray], lr: float, every: int) -> None:
        """Queue one batch's (slot gradients, the rows those slots read) for `layer`'s slot weights; every `every`
        batches, one Adam step on their sum, and the slots' argmax becomes the layer's wiring. `keys`: this
        mapping's entries in ``state`` (queue, step count, Adam moments)."""
        queue, count, m, v = keys
        st = self.state
        st.setdefault(queue, []).append(entry)
        if len(st[queue]) < every:
            return
        pending, st[queue] = st[queue], []
        gs = pending[0][0] if len(pending) == 1 else np.concatenate([p[0] for p in pending])
        rows = pending[0][1] if len(pending) == 1 else np.concatenate([p[1] for p in pending])
        st[count] = st.get(count, 0) + 1
        choice = np.empty(weights.shape[1], dtype=np.int64)
        kernels.adam_mapping(weights, gs, rows, st[m], st[v], lr, 0.9, 0.999, 1e-8, st[count], choice)
        self.wiring[layer] = choice.astype(np.int32).reshape(self.sizes[layer], self.k)


# State keys of the two learnable mappings (TrainableNetwork._slot_round): queue, step count, Adam moments.
FIRST_SLOTS = ("pending", "map_step", "mm", "mv")
LAST_SLOTS = ("last_pending", "last_map_step", "lm", "lv")


# A full group's logit (group / tau). DWN's 1/0.3 at 50 LUTs a class gives 15; 10 generalizes better on the groups
# hcl trains (binarized start, validation accuracy, seeds 0-2: MNIST [660] + 12/class 0.9577 -> 0.9611, digits
# [120] + 3/class 0.907 -> 0.922; 7.5 and 5 underfit MNIST in 30 epochs: benchmarks/results/ablation_tau.md).
GROUP_LOGIT = 10.0


def default_tau(group: float) -> float:
    """Softmax temperature for a mean group of `group` LUTs: a full group's logit is GROUP_LOGIT whatever the
    group size."""
    return max(group, 1.0) / GROUP_LOGIT


def spectral_grad(tables: np.ndarray, k: int) -> np.ndarray:
    """Gradient of the tables' total influence, sum over LUTs and inputs i of the mean over addresses of
    ((T[a | bit i] - T[a & ~bit i]) / 2)^2 -- equal to the sum over Walsh coefficients of degree x coefficient^2,
    a spectral regularizer after DWN's (Bacellar et al. 2024; their exact weighting of the degrees not checked
    here): ``(K T[a] - sum_i T[a ^ bit i]) / 2^K``. It pulls an
    entry toward its Hamming neighbours, so addresses the training rows rarely visit take their neighbours' sign
    instead of keeping their random start."""
    size = 1 << k
    addr = np.arange(size)
    neighbours = sum(tables[:, addr ^ (1 << i)] for i in range(k))
    return ((k * tables - neighbours) / np.float32(size)).astype(np.float32)


def spread_wiring(rng: np.random.Generator, n_prev: int, n: int, k: int) -> np.ndarray:
    """``[n, K]`` indices into ``n_prev`` signals, each used equally often (+-1): concatenated permutations."""
    need = n * k
    reps = -(-need // n_prev)
    flat = np.concatenate([rng.permutation(n_prev) for _ in range(reps)])[:need]
    return flat.reshape(n, k).astype(np.int32)


@dataclass
class TrainLog:
    epochs: float
    steps: int
    seconds: float
    cpu_seconds: float
    losses: list[float]
    planned_steps: int = 0

    @property
    def cut_by_clock(self) -> bool:
        return self.steps < self.planned_steps


def train_network(model: TrainableNetwork, x: np.ndarray, y: np.ndarray, config: TrainConfig,
                  rng: np.random.Generator, soft: np.ndarray | None = None) -> TrainLog:
    """Train ``model`` in place on ``x`` (uint8 0/1 ``[n_samples, n_inputs]``) and labels ``y``; with `soft`, a
    teacher's class probabilities per sample, distilled with weight ``config.distill``."""
    config.validate()
    x = np.ascontiguousarray(x, dtype=np.uint8)
    y = np.ascontiguousarray(y, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != model.n_inputs or len(y) != len(x):
        raise ConfigError(f"train: data has shape {x.shape}, the network reads {model.n_inputs} inputs")
    tau = config.tau if config.tau is not None else default_tau(model.group)
    alpha = config.alpha if config.alpha is not None else efd.default_alpha(model.k)
    n = len(x)
    bs = min(config.batch_size, n)
    per_epoch = max(1, n // bs)
    total = max(1, int(round(config.epochs * per_epoch)))
    t0, c0 = time.perf_counter(), time.process_time()
    losses, step, order = [], 0, np.empty(0, dtype=np.int64)
    while step < total and (clock := _clock_share(time.perf_counter() - t0, config.time_limit)) < 1.0:
        if step % per_epoch == 0:
            order = rng.permutation(n)
        lr = config.lr * config.lr_decay ** sum(step >= s * total or clock >= s for s in config.lr_steps)
        idx = order[(step % per_epoch) * bs:(step % per_epoch + 1) * bs]
        xb = x[idx]
        if config.input_noise > 0:
            xb = xb ^ (rng.random(xb.shape, dtype=np.float32) < config.input_noise).astype(np.uint8)
        losses.append(model.step(xb, y[idx], lr, tau, (alpha, config.beta), config.mapping_every,
                                 None if soft is None else soft[idx], config.distill, config.spectral))
        step += 1
    for queue in (FIRST_SLOTS[0], LAST_SLOTS[0]):
        model.state.pop(queue, None)   # gradients of a partial mapping round are dropped, not applied late
    return TrainLog(step / per_epoch, step, time.perf_counter() - t0, time.process_time() - c0, losses, total)


def _clock_share(elapsed: float, time_limit: float | None) -> float:
    """The share of `time_limit` spent (0 without one). The learning-rate steps and the stop read it beside the step
    count, whichever is further, so a run the clock cuts still decays its rate before it ends (stopping at the limit
    mid-schedule left the tables at the high rate); a machine as fast as planned trains by the steps alone, the
    same network for the same seed."""
    return 0.0 if time_limit is None else elapsed / time_limit
