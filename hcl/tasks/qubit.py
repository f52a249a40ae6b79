"""The `qubit` task: find the charge-transition lines in charge-stability diagrams of a double quantum dot.

Tuning a spin qubit starts from a 2-D scan of two plunger-gate voltages (V1 fast axis, V2 slow axis) while a
nearby charge sensor is read out; every change of the dots' electron numbers (n1, n2) makes the sensor signal jump,
and those jumps trace the honeycomb the tuning software has to find. The images here are simulated; the target mask
marks every pixel a ground-state transition line passes through.

Physics, all parameters drawn per image from the seed (energies in units of a reference charging energy):

* Constant-interaction model. Gate charges ``q = A V`` with lever-arm matrix ``A`` (diagonal ~1, cross-capacitance
  ``A12/A11, A21/A22`` in `cross`); electrostatic energy ``E(n) = 1/2 (n - q)^T K (n - q)`` with
  ``K = [[Ec1, Ecm], [Ecm, Ec2]]`` (charging energies `charging`, interdot term ``Ecm = m sqrt(Ec1 Ec2)``, m in
  `mutual`, which opens the triple points into the honeycomb's short interdot edges). n1, n2 >= 0.
* Ground state: argmin over (n1, n2); the sensor sees the thermal average <n> at temperature `kt` (x Ec).
* Charge sensor: a sensing dot whose Coulomb peaks (period 1 in its potential phi, sech^2 line shape of width
  `sensor_width`) are read out on a flank. ``phi = phi0 + c . V - kappa . <n>``: each electron on dot i lowers phi
  by ``kappa_i`` (near dot more than far dot), and the gates' direct crosstalk ``c`` mostly compensates the average
  loading, so the signal is the familiar sawtooth: smooth ramps between transitions, a jump at each one.
* Noise: white read-out noise (`noise`, relative to the peak height), slow drift of the sensor's potential as a
  random walk from one scan line to the next (`drift`: charge noise / 1/f), and the finite bandwidth of the
  read-out chain as a one-pole low-pass along the fast axis (time constant `blur`, in pixels).
* Digitization: an 8-bit ADC whose range is set per scan from the signal's 0.5 .. 99.5 percentiles (as one sets
  the amplifier gain before a scan); values clipped to 0..255.

Mask: a pixel is on a transition line when the ground state is not the same at its four corners (the boundary
between two charge states crosses the pixel), so lines are one pixel wide and not shifted by half a pixel.

Splits: 70/15/15 of whole images, seeded (no classes to stratify on). The per-pixel task `qubit` uses
``window`` x ``window`` raw pixels (default 5x5).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from hcl.errors import ConfigError
from hcl.tasks import Dataset, register
from hcl.tasks.segmentation import SegData, check_options, coerce, pixel_task, register_images, split_images

ADC_BITS = 8
IMAGE_OPTIONS = ("n_images", "size", "val_fraction", "test_fraction")


@dataclass(frozen=True)
class DoubleDotModel:
    """Ranges (low, high) of the per-image parameters, drawn uniformly."""

    charging: tuple[float, float] = (0.8, 1.25)      # Ec1, Ec2
    mutual: tuple[float, float] = (0.1, 0.4)         # Ecm / sqrt(Ec1 Ec2)
    cross: tuple[float, float] = (0.05, 0.35)        # A12 / A11 and A21 / A22
    span: tuple[float, float] = (3.0, 5.0)           # scan range per gate, in electrons of gate charge
    start: tuple[float, float] = (-1.2, 1.5)         # lower scan edge; below ~0 the empty (0, 0) corner shows
    kt: tuple[float, float] = (0.01, 0.05)           # temperature, x Ec
    kappa_near: tuple[float, float] = (0.1, 0.25)    # sensor shift per electron on the nearer dot (periods)
    kappa_far: tuple[float, float] = (0.3, 0.8)      # far-dot shift relative to the near dot's
    compensation: tuple[float, float] = (0.8, 1.2)   # gate crosstalk onto the sensor / average electron loading
    sensor_width: tuple[float, float] = (0.1, 0.22)  # Coulomb-peak width, in periods
    working_point: tuple[float, float] = (0.4, 1.6)  # sensor's start on a peak flank, in peak widths off its top
    noise: tuple[float, float] = (0.02, 0.08)        # white noise RMS / peak height
    drift: tuple[float, float] = (0.002, 0.012)      # random-walk step of phi per scan line (periods)
    blur: tuple[float, float] = (0.2, 1.2)           # read-out low-pass time constant (pixels)

    def check(self) -> None:
        for f in fields(self):
            lo, hi = getattr(self, f.name)
            if not lo <= hi:
                raise ConfigError(f"qubit model {f.name}: range low {lo} exceeds high {hi}")
        if self.mutual[1] >= 1.0:
            raise ConfigError("qubit model mutual: Ecm / sqrt(Ec1 Ec2) must stay below 1 (else K is not positive)")


def _draw(rng: np.random.Generator, model: DoubleDotModel) -> dict[str, np.ndarray | float]:
    u = lambda name, size=None: rng.uniform(*getattr(model, name), size=size)  # noqa: E731
    ec = u("charging", 2)
    ecm = u("mutual") * np.sqrt(ec[0] * ec[1])
    cross = u("cross", 2)
    a11, a22 = rng.uniform(0.85, 1.15, 2)
    near = int(rng.integers(2))  # which dot sits next to the sensor
    width = u("sensor_width")
    kappa = np.empty(2)
    kappa[near] = u("kappa_near")
    kappa[1 - near] = kappa[near] * u("kappa_far")
    return {"K": np.array([[ec[0], ecm], [ecm, ec[1]]]),
            "A": np.array([[a11, cross[0] * a11], [cross[1] * a22, a22]]),
            "span": u("span"), "start": u("start", 2), "kt": u("kt") * ec.mean(), "kappa": kappa,
            "compensation": u("compensation"), "width": width,
            "phi0": rng.choice([-1.0, 1.0]) * u("working_point") * width,
            "noise": u("noise"), "drift": u("drift"), "blur": u("blur")}


# Candidate charge states around the gate charge: K is positive definite with a modest interdot term, so the
# ground state and every thermally populated state lie within -1..+2 of floor(q) in each dot.
_NEIGHBOURS = np.stack(np.meshgrid(np.arange(-1, 3), np.arange(-1, 3), indexing="ij"), axis=-1).reshape(-1, 2)


def _candidates(q: np.ndarray) -> np.ndarray:
    """Charge states [points, 16, 2] near gate charges q [points, 2]; negative entries are not states (the
    energies make them impossible)."""
    return np.floor(np.maximum(q, 0.0))[:, None, :] + _NEIGHBOURS[None, :, :]


def _energies(q: np.ndarray, states: np.ndarray, K: np.ndarray) -> np.ndarray:
    """E [points, candidates] of charge states [points, candidates, 2] at gate charges q [points, 2]."""
    d1 = states[..., 0] - q[:, 0, None]
    d2 = states[..., 1] - q[:, 1, None]
    e = 0.5 * (K[0, 0] * d1 * d1 + 2.0 * K[0, 1] * d1 * d2 + K[1, 1] * d2 * d2)
    return np.where((states < 0).any(axis=-1), np.inf, e)  # electron numbers are never negative


def simulate_one(rng: np.random.Generator, size: int, model: DoubleDotModel) -> tuple[np.ndarray, np.ndarray,
                                                                                      dict]:
    """One diagram: (8-bit image [size, size] with V2 along rows, V1 along columns; line mask; parameters)."""
    p = _draw(rng, model)
    # Pixel centres and pixel corners in gate-voltage space (units: electrons of own-gate charge).
    edges = np.linspace(0.0, p["span"], size + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    v2c, v1c = np.meshgrid(p["start"][1] + centres, p["start"][0] + centres, indexing="ij")
    v2e, v1e = np.meshgrid(p["start"][1] + edges, p["start"][0] + edges, indexing="ij")
    q_c = np.stack([v1c.ravel(), v2c.ravel()], axis=1) @ p["A"].T
    q_e = np.stack([v1e.ravel(), v2e.ravel()], axis=1) @ p["A"].T
    states_e = _candidates(q_e)
    best = np.argmin(_energies(q_e, states_e, p["K"]), axis=1)
    n_ground = states_e[np.arange(len(q_e)), best]
    ground = (n_ground[:, 0] * 4096 + n_ground[:, 1]).reshape(size + 1, size + 1)
    corners = np.stack([ground[:-1, :-1], ground[:-1, 1:], ground[1:, :-1], ground[1:, 1:]])
    mask = (corners != corners[0]).any(axis=0)

    states_c = _candidates(q_c)
    e = _energies(q_c, states_c, p["K"])
    w = np.exp(-(e - e.min(axis=1, keepdims=True)) / p["kt"])
    n_mean = np.einsum("ps,psi->pi", w, states_c) / w.sum(axis=1, keepdims=True)   # thermal <n1>, <n2>

    # Gate crosstalk onto the sensor compensates (roughly) the average electron loading per volt of each gate.
    loading = p["kappa"] @ p["A"]                                 # d(kappa . q) / dV
    v = np.stack([v1c.ravel(), v2c.ravel()], axis=1)
    sensed = n_mean @ p["kappa"]
    # Both terms centred on the scan: phi0 is where the sensor sits in the middle of the scan (set on a flank).
    phi = p["phi0"] + p["compensation"] * (v - v.mean(axis=0)) @ loading - (sensed - sensed.mean())
    phi = phi.reshape(size, size)
    phi += np.cumsum(p["drift"] * rng.standard_normal(size))[:, None]   # slow axis: line-to-line drift
    frac = phi - np.floor(phi)
    signal = sum(np.cosh((frac - k) / p["width"]) ** -2.0 for k in (-1, 0, 1, 2))
    signal = signal + p["noise"] * rng.standard_normal((size, size))
    # One-pole low-pass along the fast axis, the order the scan visits pixels in.
    a = np.exp(-1.0 / max(p["blur"], 1e-3))
    out = np.empty_like(signal)
    out[:, 0] = signal[:, 0]
    for j in range(1, size):
        out[:, j] = a * out[:, j - 1] + (1 - a) * signal[:, j]
    lo, hi = np.percentile(out, [0.5, 99.5])
    image = np.clip(np.rint((out - lo) / max(hi - lo, 1e-9) * 255.0), 0, 255).astype(np.int64)
    return image, mask, {k: (v.tolist() if isinstance(v, np.ndarray) else float(v)) for k, v in p.items()}


def simulate(rng: np.random.Generator, n: int, size: int = 64, model: DoubleDotModel = DoubleDotModel()
             ) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    model.check()
    images, masks, params = [], [], []
    for _ in range(n):
        img, msk, p = simulate_one(rng, size, model)
        images.append(img), masks.append(msk), params.append(p)
    return np.stack(images), np.stack(masks), params


@register_images("qubit", window=5, dilation=1, per_image=128, pos_fraction=0.3)
def load_images(seed: int = 0, data=None, n_images: int = 300, size: int = 64, val_fraction: float = 0.15,
                test_fraction: float = 0.15, **model_options) -> SegData:
    """Simulated diagrams (no data files: `data` is ignored). Any DoubleDotModel field is an option: (low, high)."""
    check_options("qubit", model_options, IMAGE_OPTIONS + tuple(f.name for f in fields(DoubleDotModel)))
    n_images, size = coerce("n_images", n_images, int, "qubit"), coerce("size", size, int, "qubit")
    if n_images < 10:
        raise ConfigError(f"task 'qubit': n_images={n_images} is too few to split; use at least 10")
    if not 8 <= size <= 512:
        raise ConfigError(f"task 'qubit': size={size} must be within 8..512 pixels")
    try:
        model = replace(DoubleDotModel(), **{k: tuple(float(x) for x in v) for k, v in model_options.items()})
    except (TypeError, ValueError):
        raise ConfigError(f"task 'qubit': model options take a (low, high) pair, got {model_options}") from None
    rng = np.random.default_rng(seed)
    images, masks, _ = simulate(rng, n_images, size, model)
    train, val, test = split_images(images, masks, None, rng, coerce("val_fraction", val_fraction, float, "qubit"),
                                    coerce("test_fraction", test_fraction, float, "qubit"), "qubit")
    return SegData("qubit", train, val, test, input_width=ADC_BITS, foreground="transition",
                   description=f"simulated double-quantum-dot charge-stability diagrams, {size}x{size} 8-bit "
                               "charge-sensor signal",
                   extra={"size": size, "model": asdict(model)})


@register("qubit", reads_files=False)
def load_qubit(seed: int = 0, data=None, **options) -> Dataset:
    """Per-pixel transition-line classification. Options: n_images, size, val_fraction, test_fraction, window,
    dilation, per_image, pos_fraction and the DoubleDotModel ranges."""
    return pixel_task("qubit", seed, data, options)
