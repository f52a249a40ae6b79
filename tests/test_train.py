"""The Numba trainer against the numpy formulas (hcl.train.efd), and its export to the one network semantics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hcl.encode import unpack_bits
from hcl.errors import ConfigError
from hcl.evaluate import accuracy
from hcl.train import TrainConfig, TrainableNetwork, efd, train_network
from hcl.train.model import spectral_grad, spread_wiring


def _small(seed: int, k: int, n_in: int = 12, hidden=(7,), group: int = 3, classes: int = 3, batch: int = 9):
    rng = np.random.default_rng(seed)
    model = TrainableNetwork.random(rng, k, n_in, list(hidden), group, classes)
    x = rng.integers(0, 2, size=(batch, n_in), dtype=np.uint8)
    y = rng.integers(0, classes, size=batch)
    return model, x, y


@settings(max_examples=25, deadline=None)
@given(k=st.integers(2, 6), seed=st.integers(0, 2**31 - 1))
def test_efd_matrix_equals_formula(k, seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(-1, 1, size=(3, 1 << k))
    alpha = efd.default_alpha(k)
    size = 1 << k
    E = efd.efd_matrix(k, alpha, efd.DEFAULT_BETA).reshape(size, size * k)
    fast = (t.astype(np.float32) @ E).reshape(3, size, k)
    np.testing.assert_allclose(fast, efd.efd_reference(t, k, alpha, efd.DEFAULT_BETA), rtol=1e-5, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 7), seed=st.integers(0, 2**31 - 1), beta=st.floats(0.01, 0.99))
def test_efd_kernel_equals_formula(k, seed, beta):
    """The trainer's product-form transform (kernels.efd_grads) against the formula, entry by entry."""
    from hcl.train.kernels import efd_grads
    t = np.random.default_rng(seed).uniform(-1, 1, size=(5, 1 << k)).astype(np.float32)
    alpha = efd.default_alpha(k)
    np.testing.assert_allclose(efd_grads(t, k, alpha, beta), efd.efd_reference(t.astype(np.float64), k, alpha, beta),
                               rtol=1e-5, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), rows=st.integers(1, 70), slots=st.integers(1, 80),
       density=st.floats(0.0, 1.0))
def test_mapping_kernels_equal_the_plain_product_and_adam(seed, rows, slots, density):
    """kernels.mapping_grad equals ``gs.T @ (2x - 1)``; adam_mapping equals adam_argmax on that gradient, bit for
    bit (slot counts not a multiple of the block, inputs mostly 0 or mostly 1)."""
    from hcl.train.kernels import adam_argmax, adam_mapping, mapping_grad
    rng = np.random.default_rng(seed)
    gs = rng.normal(size=(rows, slots)).astype(np.float32)
    x = (rng.uniform(size=(rows, 23)) < density).astype(np.uint8)
    G = mapping_grad(gs, x)
    np.testing.assert_allclose(G, gs.astype(np.float64).T @ (2.0 * x - 1.0), rtol=1e-5, atol=1e-5)
    w = rng.uniform(size=(slots, 23)).astype(np.float32)
    m = (rng.normal(size=w.shape) * 0.1).astype(np.float32)
    v = rng.uniform(0, 0.1, size=w.shape).astype(np.float32)
    args = (1e-2, 0.9, 0.999, 1e-8, 5)
    want = [a.copy() for a in (w, m, v)]
    want_choice = np.zeros(slots, dtype=np.int64)
    adam_argmax(want[0], G, want[1], want[2], *args, want_choice)
    got = [np.ascontiguousarray(a.T) for a in (w, m, v)]      # adam_mapping keeps the weights transposed
    got_choice = np.zeros(slots, dtype=np.int64)
    adam_mapping(got[0], gs, x, got[1], got[2], *args, got_choice)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.T, b)
    np.testing.assert_array_equal(got_choice, want_choice)


def test_efd_at_distance_zero_is_the_finite_difference():
    """beta -> 0 leaves the plain difference T[a | bit i] - T[a & ~bit i], times alpha."""
    k, rng = 3, np.random.default_rng(0)
    t = rng.uniform(-1, 1, size=(1, 8))
    d = efd.efd_reference(t, k, 1.0, 1e-12)
    for a in range(8):
        for i in range(k):
            assert d[0, a, i] == pytest.approx(t[0, a | (1 << i)] - t[0, a & ~(1 << i)], abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(k=st.integers(2, 6), seed=st.integers(0, 2**31 - 1), layers=st.integers(1, 3))
def test_gradients_equal_reference(k, seed, layers):
    hidden = [7, 5][: layers - 1]
    model, x, y = _small(seed, k, hidden=hidden)
    tau = 0.7
    alpha = efd.default_alpha(k)
    loss, dtables, dmap = model.gradients(x, y, tau, (alpha, efd.DEFAULT_BETA))
    r_loss, r_tables, r_slots = efd.backward_reference(x, model.wiring, model.tables, model.group_of, y, tau, k,
                                                       alpha, efd.DEFAULT_BETA)
    assert loss == pytest.approx(r_loss, rel=1e-5)
    for fast, ref in zip(dtables, r_tables):
        np.testing.assert_allclose(fast, ref, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dmap, efd.mapping_grad_reference(x, r_slots), rtol=1e-4, atol=1e-6)


def test_a_step_lowers_the_loss_on_its_batch():
    """Guards the sign of every gradient: one small Adam step against it must not raise the batch loss on
    average over many batches (a flipped sign raises it)."""
    model, x, y = _small(3, 4, n_in=16, hidden=[24], group=6, classes=2, batch=64)
    E = (efd.default_alpha(model.k), efd.DEFAULT_BETA)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, size=(512, 16), dtype=np.uint8)
    y = (x[:, 0] ^ x[:, 3]).astype(np.int64) | (x[:, 5] & x[:, 7])
    first = model.gradients(x, y, 0.4, E)[0]
    for _ in range(150):
        model.step(x, y, 1e-2, 0.4, E)
    assert model.gradients(x, y, 0.4, E)[0] < first - 0.05


def _xor_task(seed: int, n: int = 3000, n_in: int = 20):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n, n_in), dtype=np.uint8)
    y = (2 * (x[:, 2] ^ x[:, 11]) + (x[:, 4] & x[:, 17] | x[:, 8])).astype(np.int64)
    return x, y


def test_training_learns_a_task_the_wiring_must_find():
    """The classes depend on 5 of 20 inputs, in XOR: the learnable mapping has to find them."""
    x, y = _xor_task(0)
    rng = np.random.default_rng(0)
    model = TrainableNetwork.random(rng, 4, x.shape[1], [32], 6, 4)
    before = (model.predict(x) == y).mean()
    train_network(model, x, y, TrainConfig(epochs=6, batch_size=32), rng)
    after = (model.predict(x) == y).mean()
    assert before < 0.45 and after > 0.9


def test_export_predicts_like_the_trained_model():
    x, y = _xor_task(1, n=1000)
    rng = np.random.default_rng(2)
    model = TrainableNetwork.random(rng, 6, x.shape[1], [16, 12], 4, 4)
    train_network(model, x, y, TrainConfig(epochs=1), rng)
    net = model.export([f"c{i}" for i in range(4)])
    from hcl.encode import pack_bits
    packed = pack_bits(x.astype(bool))
    assert np.array_equal(unpack_bits(packed, len(x)), x.astype(bool))
    assert accuracy(net, packed, y) == pytest.approx((model.predict(x) == y).mean(), abs=0)
    from hcl.evaluate import predict
    np.testing.assert_array_equal(predict(net, packed, len(x)), model.predict(x))
    # and back: a network continued from its export predicts the same before any step
    again = TrainableNetwork.from_network(net, np.random.default_rng(3))
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_same_seed_same_model():
    x, y = _xor_task(4, n=600)
    nets = []
    for _ in range(2):
        rng = np.random.default_rng(7)
        m = TrainableNetwork.random(rng, 5, x.shape[1], [10], 3, 4)
        train_network(m, x, y, TrainConfig(epochs=2), rng)
        nets.append(m.export(list("abcd")).to_dict())
    assert nets[0] == nets[1]


def test_a_training_the_clock_cuts_decays_its_rate_before_it_stops(monkeypatch):
    """A slow machine must not overrun a training's time limit, nor stop it mid-schedule at the high rate: the
    schedule follows the clock where the clock is ahead of the steps. Fake clock: one second per reading."""
    from hcl.train import model as model_module
    x, y = _xor_task(5, n=640)
    clock = iter(range(10**6))
    monkeypatch.setattr(model_module.time, "perf_counter", lambda: float(next(clock)))
    rates = []
    m = TrainableNetwork.random(np.random.default_rng(0), 4, x.shape[1], [8], 2, 4)
    real_step = m.step
    monkeypatch.setattr(m, "step", lambda xb, yb, lr, *a: rates.append(lr) or real_step(xb, yb, lr, *a))
    log = train_network(m, x, y, TrainConfig(epochs=100, lr=1e-2, time_limit=20.0), np.random.default_rng(0))
    assert log.cut_by_clock and len(rates) == log.steps and 15 <= log.steps <= 20
    assert rates[0] == pytest.approx(1e-2) and rates[-1] == pytest.approx(1e-3)
    # the same training with time to spare runs every planned step, by the steps' schedule
    rates.clear()
    log = train_network(m, x, y, TrainConfig(epochs=1, lr=1e-2, time_limit=1e9), np.random.default_rng(0))
    assert not log.cut_by_clock and log.steps == log.planned_steps == 20
    assert rates.count(pytest.approx(1e-2)) == 14


def test_spread_wiring_uses_every_signal_evenly():
    w = spread_wiring(np.random.default_rng(0), 10, 7, 6)
    counts = np.bincount(w.ravel(), minlength=10)
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("field,value", [("epochs", 0), ("batch_size", 0), ("lr", 2.0), ("tau", -1.0),
                                         ("beta", 1.5), ("time_limit", 0.0)])
def test_bad_train_options_are_config_errors(field, value):
    with pytest.raises(ConfigError):
        TrainConfig(**{field: value}).validate()


def test_adam_kernels_take_pytorchs_step_then_clamp_or_pick_the_argmax():
    from hcl.train.kernels import adam_argmax, adam_clamp
    rng = np.random.default_rng(3)
    p, g = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    m, v = rng.normal(size=(5, 7)) * 0.1, rng.uniform(0, 0.1, size=(5, 7))
    lr, b1, b2, eps, step = 0.05, 0.9, 0.999, 1e-8, 3
    m2, v2 = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    want = p - lr / (1 - b1 ** step) * m2 / (np.sqrt(v2) / np.sqrt(1 - b2 ** step) + eps)
    pc, mc, vc = p.copy(), m.copy(), v.copy()
    adam_clamp(pc, g, mc, vc, lr, b1, b2, eps, step, -1.0, 1.0)
    np.testing.assert_allclose(pc, np.clip(want, -1, 1), rtol=1e-12)
    np.testing.assert_allclose(mc, m2, rtol=1e-12)
    np.testing.assert_allclose(vc, v2, rtol=1e-12)
    pw, choice = p.copy(), np.zeros(5, dtype=np.int32)
    adam_argmax(pw, g, m.copy(), v.copy(), lr, b1, b2, eps, step, choice)
    np.testing.assert_allclose(pw, want, rtol=1e-12)
    assert choice.tolist() == want.argmax(axis=1).tolist()


def test_adam_on_float32_state_steps_in_float32_like_pytorch():
    """float32 tables and slot weights are stepped in float32 arithmetic (as torch.optim.Adam steps float32
    parameters): equal to the float64 formula to float32 rounding."""
    from hcl.train.kernels import adam_clamp
    rng = np.random.default_rng(4)
    p, g = rng.uniform(-1, 1, size=(6, 64)), rng.normal(size=(6, 64)) * 1e-2
    m, v = rng.normal(size=(6, 64)) * 1e-3, rng.uniform(0, 1e-4, size=(6, 64))
    p, g, m, v = (a.astype(np.float32).astype(np.float64) for a in (p, g, m, v))   # the same inputs in both
    lr, b1, b2, eps, step = 1e-2, 0.9, 0.999, 1e-8, 7
    m2, v2 = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    want = np.clip(p - lr / (1 - b1 ** step) * m2 / (np.sqrt(v2) / np.sqrt(1 - b2 ** step) + eps), -1, 1)
    p32, m32, v32 = (a.astype(np.float32) for a in (p, m, v))
    adam_clamp(p32, g.astype(np.float32), m32, v32, lr, b1, b2, eps, step, -1.0, 1.0)
    np.testing.assert_allclose(p32, want, rtol=0, atol=1e-6)
    np.testing.assert_allclose(m32, m2, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(v32, v2, rtol=1e-6, atol=1e-14)


def test_same_seed_same_model_on_one_or_two_threads():
    """Numba's parallel loops must not make the result depend on the thread count (sums in a fixed order)."""
    import subprocess
    import sys
    from pathlib import Path
    script = (
        "import hashlib, json, sys, numpy as np\n"
        "sys.path.insert(0, 'tests')\n"
        "from test_train import _xor_task\n"
        "from hcl.train import TrainConfig, TrainableNetwork, train_network\n"
        "x, y = _xor_task(4, n=3000)\n"
        "rng = np.random.default_rng(7)\n"
        "m = TrainableNetwork.random(rng, 6, x.shape[1], [64], 8, 4)\n"
        "train_network(m, x, y, TrainConfig(epochs=2), rng)\n"
        "print(hashlib.sha256(json.dumps(m.export(list('abcd')).to_dict(), sort_keys=True).encode()).hexdigest())\n")
    root = Path(__file__).resolve().parents[1]
    digests = []
    for threads in ("1", "2"):
        env = {**__import__("os").environ, "NUMBA_NUM_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True,
                             check=True)
        digests.append(out.stdout.strip().splitlines()[-1])
    assert digests[0] == digests[1]


def test_distillation_target_mixes_labels_and_teacher_linearly():
    """The gradient is linear in the target, so with weight w it must be (1 - w) x the labels' gradient + w x the
    teacher's (weight 1), in every layer and for the slot weights."""
    model, x, y = _small(11, 4, hidden=(6, 5))
    rng = np.random.default_rng(3)
    soft = rng.dirichlet(np.ones(3), size=len(y)).astype(np.float32)
    ab = (efd.default_alpha(4), efd.DEFAULT_BETA)

    def grads(weight):
        _, dt, dm = model.gradients(x, y, 0.5, ab, soft=soft, soft_weight=weight)
        return dt + [dm]

    labels_only, teacher_only, mixed = grads(0.0), grads(1.0), grads(0.3)
    for a, b, m in zip(labels_only, teacher_only, mixed):
        np.testing.assert_allclose(m, 0.7 * a + 0.3 * b, rtol=1e-4, atol=1e-7)
    assert not np.allclose(labels_only[0], teacher_only[0])
    # a teacher that agrees with the labels (one-hot) changes nothing
    onehot = np.eye(3, dtype=np.float32)[y]
    _, dt, _ = model.gradients(x, y, 0.5, ab, soft=onehot, soft_weight=0.6)
    for a, b in zip(labels_only, dt):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)


def test_input_noise_flips_that_share_of_the_bits_a_step_reads_and_none_by_default():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(4000, 16), dtype=np.uint8)
    y = rng.integers(0, 2, size=4000)
    for noise, low, high in ((0.0, 0.0, 0.0), (0.1, 0.09, 0.11)):
        model = TrainableNetwork.random(np.random.default_rng(1), 4, 16, [6], 2, 2)
        seen = []
        step = model.step
        model.step = lambda xb, yb, *a, **kw: seen.append(xb.copy()) or step(xb, yb, *a, **kw)
        train_network(model, x, y, TrainConfig(epochs=1, batch_size=100, input_noise=noise),
                      np.random.default_rng(2))
        clean = x[np.random.default_rng(2).permutation(len(x))]      # the order the run drew first
        flipped = float(np.mean(np.concatenate(seen) != clean))
        assert low <= flipped <= high, (noise, flipped)


@pytest.mark.parametrize("field,value", [("distill", -0.1), ("distill", 1.5), ("input_noise", 0.5),
                                         ("input_noise", -0.01), ("spectral", -1e-3)])
def test_regularizer_options_out_of_range_are_config_errors(field, value):
    with pytest.raises(ConfigError):
        TrainConfig(**{field: value}).validate()


def _total_influence(t: np.ndarray, k: int) -> float:
    """By its Walsh spectrum: sum over subsets S of |S| * coefficient(S)^2, coefficient(S) = mean_a t[a] chi_S(a)."""
    size = 1 << k
    degree = np.array([bin(s).count("1") for s in range(size)])
    chi = np.array([[(-1) ** bin(a & s).count("1") for a in range(size)] for s in range(size)])
    return float(((t.astype(np.float64) @ chi.T / size) ** 2 * degree).sum())


@pytest.mark.parametrize("k", [2, 4, 6])
def test_spectral_gradient_is_the_gradient_of_the_total_influence(k):
    """Against central differences of the spectrum's degree-weighted energy (the spectral regularizer, after DWN's)."""
    t = np.random.default_rng(k).uniform(-1, 1, size=(2, 1 << k))
    g = spectral_grad(t.astype(np.float32), k)
    h = 1e-4
    for j, a in [(0, 0), (1, (1 << k) - 1), (0, 1), (1, 3 % (1 << k))]:
        up, down = t.copy(), t.copy()
        up[j, a] += h
        down[j, a] -= h
        numeric = (_total_influence(up, k) - _total_influence(down, k)) / (2 * h)
        assert g[j, a] == pytest.approx(numeric, abs=1e-5)


def test_spectral_regularization_fills_unvisited_addresses_from_their_neighbours():
    """Samples only ever show addresses with input 5 at 0. Unregularized, the unseen half (input 5 at 1) keeps its
    random start (agrees with its seen neighbour by chance); regularized, it is pulled toward its neighbours and
    mostly takes the seen neighbour's sign (not always: seen entries the loss no longer pushes stay near 0)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(3000, 6), dtype=np.uint8)
    x[:, 5] = 0
    y = (x[:, 0] ^ x[:, 1]).astype(np.int64)
    agree = {}
    for weight in (0.0, 0.05):
        model = TrainableNetwork.random(np.random.default_rng(1), 6, 6, [], 1, 2, learn_mapping=False)
        model.wiring[0] = np.tile(np.arange(6, dtype=np.int32), (2, 1))
        train_network(model, x, y, TrainConfig(epochs=3, spectral=weight), np.random.default_rng(2))
        s = model.signs()[0]
        agree[weight] = float(np.mean(s[:, :32] == s[:, 32:]))
    assert agree[0.05] > 0.7 and agree[0.0] < 0.6, agree


def test_a_learned_last_mapping_moves_the_wiring_and_exports_what_it_trained():
    """The output layer's inputs are learned as the first layer's (slot weights, argmax): it starts on the spread
    wiring, moves during training, and the exported network predicts as the trained model does."""
    x, y = _xor_task(1, n=1000)
    rng = np.random.default_rng(2)
    model = TrainableNetwork.random(rng, 6, x.shape[1], [16], 4, 4, learn_last_mapping=True)
    start = model.wiring[-1].copy()
    assert sorted(np.bincount(start.reshape(-1), minlength=16)) == sorted(
        np.bincount(spread_wiring(np.random.default_rng(0), 16, 16, 6).reshape(-1), minlength=16))
    train_network(model, x, y, TrainConfig(epochs=8 / (len(x) // 32)), rng)     # one slot-weight update
    assert np.mean(model.wiring[-1] == start) > 0.9        # the spread start is where the weights begin
    train_network(model, x, y, TrainConfig(epochs=2), rng)
    assert not np.array_equal(model.wiring[-1], start)
    net = model.export([f"c{i}" for i in range(4)])
    from hcl.encode import pack_bits
    from hcl.evaluate import predict
    np.testing.assert_array_equal(predict(net, pack_bits(x.astype(bool)), len(x)), model.predict(x))
