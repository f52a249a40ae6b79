"""The `sipm` task (the default): digitized silicon-photomultiplier pulses, single pulse (0) vs pile-up (1).

Each sample is a window of `window` consecutive 12-bit ADC codes (0..4095) cut around a leading-edge trigger, the way
an FPGA trigger would hand it to a classifier: `pretrigger` baseline samples, then the triggering pulse. A pile-up
window holds a second pulse that arrives later in the window; a single window holds only the triggering pulse,
perhaps on the decaying tail of a pulse that came before the window (those tails are not pile-up: the trigger saw
that pulse separately).

Physics, all randomized per window (time unit: one sample = 16 ns, as in the real data):

* Pulse shape: a difference of exponentials, `exp(-t/decay_tau) - exp(-t/rise_tau)`, smoothed by a Gaussian of RMS
  `edge_sigma` (front-end bandwidth and photon timing jitter: the real edges start with a foot) and scaled to peak 1.
  The rise and decay constants vary from window to window (log-normal, like channel-to-channel spread); all pulses
  of a window share them (same SiPM).
* Amplitude: a whole number of photoelectrons (geometric distribution, at least 1, mean `mean_pe`) times the gain,
  with the gain dispersion of each photoelectron (relative RMS `gain_spread`) added in quadrature.
* Arrival: the trigger pulse starts at `pretrigger` plus a uniform sub-sample phase; the second pulse follows after a
  uniform delay of 0 .. the last arrival that still leaves 3 samples of it in the window. Uniform delays and the
  amplitude distribution give the hard cases on purpose: a delay under a sample merges the two pulses into one
  taller pulse, and a one-photoelectron second pulse on a large first pulse is a small step.
* Baseline: `baseline` +- `baseline_jitter` (uniform); white Gaussian noise of RMS `noise`; the real noise is white
  (neighbouring-sample correlation 0.07-0.15). Earlier pulses (dark counts) arrive at `dark_rate` per sample in the
  `dark_lookback` samples ending 4 samples before the window, and leave their tails in it.
* Digitization: rounded to integers and clipped to 0..4095 (a saturating 12-bit ADC).

Calibration against real LEGEND-200 SiPM waveforms (/work/shared/data/legend_sipm: 6 channels x 10 records x 6,000
samples at 16 ns). `python benchmarks/sipm_vs_legend.py` runs the same estimators on the real records and on
synthetic records drawn from `PulseModel()`, and prints (median [quartiles]; times in samples):

    quantity                               real LEGEND-200        synthetic
    rise 10-90 %, per pulse                2.82 [1.91, 3.77]      2.38 [2.13, 2.93]
    average pulse: rise 10-90 %            1.90                   1.89
    average pulse: rise / decay constant   0.36 / 40.6            0.34 / 42.4
    average pulse: edge smoothing RMS      0.71                   0.70
    decay constant, per-pulse fit          43.3 [34.3, 63.7]      41.9 [35.5, 48.3]
    baseline RMS noise (own ADC counts)    4.69 [4.50, 4.94]      8.03 [7.89, 8.15]
    one-photoelectron height (own counts)  64.2 [61.4, 66.6]      109.0 [104.5, 109.5]
    noise / one-photoelectron height       0.075 [0.070, 0.077]   0.074 [0.073, 0.076]
    baseline spread within a channel (PE)  0.043                  0.045
    trigger pulse height (PE)              1.48 [1.01, 2.18]      1.10 [0.99, 2.05]
    dark pulse rate per us                 0.007 [0.003, 0.027]   0.024 (the mean over channels)

Per channel, the decay constant is 36-47 samples except one noisy, high-rate channel (64); the defaults take the
median of the channel medians (41) and their log spread (0.19). The rise and edge constants were set so that the
synthetic average pulse, measured like the real one, matches it (the averaging itself broadens the edge, so the
generator's own values are 0.45 and 0.65). Real trigger pulses are often followed by late argon-scintillation
photons (23 % of records have a second edge within 26 samples); the task does not model that light, its pile-up is
a second pulse of the same kind, half of the windows by construction.

The real digitizer's codes are not 12-bit (baseline near 7,700-8,200, one photoelectron ~64 counts), so amplitudes
are rescaled: one photoelectron is `gain` = 100 codes, the noise keeps the real noise-to-photoelectron ratio (8 codes,
a few LSB so quantization does not hide it), the baseline sits at 400 codes (room below for noise, ~36
photoelectrons of headroom above). Times are in samples and match the real data unscaled.

Difficulty (default options, test split): logistic regression on the raw window 95 %, a depth-4 decision tree 89 %,
gradient-boosted trees 96 %; the misses are mostly pile-up with a delay under two samples.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

import numpy as np
from scipy.special import erfc, erfcx

from hcl.errors import ConfigError
from hcl.tasks import Dataset, register
from hcl.tasks.tabular import stratified_split

SAMPLE_NS = 16.0
ADC_BITS = 12
ADC_MAX = 2**ADC_BITS - 1
CLASSES = ("single", "pileup")


@dataclass(frozen=True)
class PulseModel:
    """Detector and digitizer parameters; times in samples, amplitudes in 12-bit ADC codes."""

    gain: float = 100.0             # peak height of a one-photoelectron pulse
    gain_spread: float = 0.10       # relative RMS of one photoelectron's height
    mean_pe: float = 2.0            # mean photoelectrons per pulse (geometric, >= 1)
    max_pe: int = 36                # more would saturate the ADC anyway
    rise_tau: float = 0.45          # median rise constant
    rise_spread: float = 0.3        # log-normal sigma of rise_tau between windows
    decay_tau: float = 41.0         # median decay constant
    decay_spread: float = 0.19      # log-normal sigma of decay_tau between windows
    edge_sigma: float = 0.65        # Gaussian smoothing of the pulse (bandwidth, timing jitter)
    noise: float = 8.0              # white noise RMS
    baseline: float = 400.0
    baseline_jitter: float = 8.0    # baseline is uniform in baseline +- this
    dark_rate: float = 3.5e-4       # earlier (dark) pulses per sample, before the window
    dark_lookback: int = 200        # how far back earlier pulses can still leave a tail

    def check(self) -> None:
        positive = ("gain", "mean_pe", "rise_tau", "decay_tau", "max_pe")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ConfigError(f"sipm option {name}: must be > 0, got {getattr(self, name)}")
        for name in ("gain_spread", "rise_spread", "decay_spread", "edge_sigma", "noise", "baseline_jitter",
                     "dark_rate", "dark_lookback"):
            if getattr(self, name) < 0:
                raise ConfigError(f"sipm option {name}: must be >= 0, got {getattr(self, name)}")
        if self.mean_pe < 1:
            raise ConfigError(f"sipm option mean_pe: at least 1 photoelectron per pulse, got {self.mean_pe}")


def smoothed_exponential(t: np.ndarray, tau: np.ndarray | float, sigma: np.ndarray | float) -> np.ndarray:
    """`exp(-t/tau)` for t >= 0 (0 before), convolved with a Gaussian of RMS `sigma`: an exponentially modified
    Gaussian, `exp(sigma^2/2tau^2 - t/tau) erfc((sigma/tau - t/sigma)/sqrt2) / 2`."""
    t, tau, sigma = np.broadcast_arrays(np.asarray(t, dtype=np.float64), np.asarray(tau, dtype=np.float64),
                                        np.asarray(sigma, dtype=np.float64))
    sigma = np.maximum(sigma, 1e-6)  # sigma -> 0 is the plain exponential; keep the formula finite
    b = (sigma / tau - t / sigma) / np.sqrt(2.0)
    a = sigma**2 / (2 * tau**2) - t / tau
    # Before the pulse (b >= 0) exp(a) overflows while erfc(b) underflows; erfcx(b) = exp(b^2) erfc(b) and
    # a - b^2 = -t^2 / 2sigma^2 keep the product finite. After it, a < 0 and the direct form is safe.
    before = b >= 0
    return np.where(before, 0.5 * erfcx(np.where(before, b, 0.0)) * np.exp(-t**2 / (2 * sigma**2)),
                    0.5 * np.exp(np.where(before, 0.0, a)) * erfc(b))


def _difference(t, rise_tau, decay_tau, edge_sigma) -> np.ndarray:
    return smoothed_exponential(t, decay_tau, edge_sigma) - smoothed_exponential(t, rise_tau, edge_sigma)


def _shape_constants(rise_tau, decay_tau, edge_sigma) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rise, decay, peak height of their smoothed difference); decay nudged off rise, broadcast shapes."""
    rise_tau = np.asarray(rise_tau, dtype=np.float64)
    # Equal constants would make the difference vanish; a hair apart gives the same (alpha-function) limit shape.
    decay_tau = np.maximum(np.asarray(decay_tau, dtype=np.float64), rise_tau * 1.0001)
    edge_sigma = np.asarray(edge_sigma, dtype=np.float64)
    # The unsmoothed peak time is analytic; smoothing moves the peak by a fraction of edge_sigma, so a grid around
    # it finds the height (the top is flat: a 1/10-sigma step is good to ~1e-4).
    t_peak = rise_tau * decay_tau / (decay_tau - rise_tau) * np.log(decay_tau / rise_tau)
    grid = np.linspace(-1.0, 3.0, 41).reshape((-1,) + (1,) * np.ndim(t_peak))
    peak = _difference(t_peak + grid * np.maximum(edge_sigma, 0.05), rise_tau, decay_tau, edge_sigma).max(axis=0)
    return rise_tau, decay_tau, peak


def pulse_shape(t: np.ndarray, rise_tau, decay_tau, edge_sigma=0.0) -> np.ndarray:
    """Unit-peak pulse at time `t` after its start; arguments broadcast.

    `exp(-t/decay_tau) - exp(-t/rise_tau)` smoothed by a Gaussian of RMS `edge_sigma` (front-end bandwidth and
    photon timing jitter: the real pulses' edges start with a foot that the plain difference lacks).
    """
    rise_tau, decay_tau, peak = _shape_constants(rise_tau, decay_tau, edge_sigma)
    return _difference(np.asarray(t, dtype=np.float64), rise_tau, decay_tau, edge_sigma) / peak


def pulse_heights(rng: np.random.Generator, shape: tuple[int, ...], model: PulseModel) -> np.ndarray:
    """Heights in ADC codes: whole photoelectrons times the gain, each photoelectron with its own gain scatter."""
    n_pe = np.minimum(rng.geometric(1.0 / model.mean_pe, size=shape), model.max_pe)
    return model.gain * (n_pe + np.sqrt(n_pe) * model.gain_spread * rng.standard_normal(shape))


def render(rng: np.random.Generator, n_samples: int, arrivals: np.ndarray, heights: np.ndarray,
           model: PulseModel) -> np.ndarray:
    """Digitized waveforms [n, n_samples] (int64 ADC codes) holding pulses at `arrivals` (NaN = none) [n, k].

    Arrival times are real numbers in samples; sample i is the value at time i. Rise and decay constants, baseline
    and noise are drawn per waveform.
    """
    n = arrivals.shape[0]
    rise = model.rise_tau * np.exp(model.rise_spread * rng.standard_normal(n))
    decay = model.decay_tau * np.exp(model.decay_spread * rng.standard_normal(n))
    baseline = model.baseline + model.baseline_jitter * rng.uniform(-1.0, 1.0, n)
    # Shape constants per waveform, computed once: every pulse of a waveform shares them.
    rise, decay, peak = _shape_constants(rise, decay, model.edge_sigma)
    t = np.arange(n_samples, dtype=np.float64)
    signal = np.zeros((n, n_samples))
    for k in range(arrivals.shape[1]):
        rows = np.flatnonzero(~np.isnan(arrivals[:, k]))
        dt = t[None, :] - arrivals[rows, k, None]
        shape = _difference(dt, rise[rows, None], decay[rows, None], model.edge_sigma)
        signal[rows] += (heights[rows, k] / peak[rows])[:, None] * shape
    analog = baseline[:, None] + signal + model.noise * rng.standard_normal((n, n_samples))
    return np.clip(np.rint(analog), 0, ADC_MAX).astype(np.int64)


def earlier_pulses(rng: np.random.Generator, n: int, first_allowed: float, model: PulseModel) -> np.ndarray:
    """Arrival times [n, k] of dark pulses in the `dark_lookback` samples before `first_allowed` (NaN = none)."""
    counts = rng.poisson(model.dark_rate * model.dark_lookback, size=n)
    k = max(1, int(counts.max(initial=0)))
    times = first_allowed - model.dark_lookback * rng.uniform(0.0, 1.0, size=(n, k))
    times[np.arange(k)[None, :] >= counts[:, None]] = np.nan
    return times


def simulate(rng: np.random.Generator, n: int, window: int = 32, pretrigger: int = 6,
             model: PulseModel = PulseModel()) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """`n` windows, half of them pile-up (shuffled): (X int64 [n, window], y int64 [n], truth per window).

    `truth` holds the second pulse's delay and height (NaN for single windows), for studying which cases a
    classifier gets wrong.
    """
    model.check()
    if pretrigger < 0 or window < pretrigger + 4:
        raise ConfigError(f"sipm: window={window} must exceed pretrigger={pretrigger} by at least 4 samples so the "
                          "triggering pulse is seen rising")
    y = rng.permutation(np.arange(n) % 2).astype(np.int64)
    first = pretrigger + rng.uniform(0.0, 1.0, n)
    # The second pulse must leave 3 samples in the window to be seen at all.
    max_delay = (window - 3) - first
    delay = np.where(y == 1, rng.uniform(0.0, 1.0, n) * max_delay, np.nan)
    # A pulse just before the window would itself have fired the trigger; earlier ones leave only their tail.
    dark = earlier_pulses(rng, n, first_allowed=-4.0, model=model)
    arrivals = np.column_stack([first, first + delay, dark])
    heights = pulse_heights(rng, arrivals.shape, model)
    X = render(rng, window, arrivals, heights, model)
    truth = {"delay": delay, "second_height": np.where(y == 1, heights[:, 1], np.nan), "first_height": heights[:, 0]}
    return X, y, truth


OPTIONS = ("n_samples", "window", "pretrigger", "val_fraction", "test_fraction") + tuple(
    f.name for f in fields(PulseModel))


@register("sipm", reads_files=False)
def load_sipm(seed: int = 0, data=None, n_samples: int = 20000, window: int = 32, pretrigger: int = 6,
              val_fraction: float = 0.2, test_fraction: float = 0.2, **model_options) -> Dataset:
    """Synthetic SiPM windows (no data files: `data` is ignored); 60/20/20 split. Any PulseModel field is an option."""
    unknown = set(model_options) - set(OPTIONS)
    if unknown:
        raise ConfigError(f"task 'sipm': unknown option(s) {', '.join(sorted(unknown))}; "
                          f"it takes {', '.join(OPTIONS)}")
    model = PulseModel()
    try:  # options may arrive as strings from a command line or TOML file
        model = replace(model, **{k: type(getattr(model, k))(v) for k, v in model_options.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"task 'sipm': bad option value ({exc})") from None
    n_samples, window, pretrigger = int(n_samples), int(window), int(pretrigger)
    if n_samples < 20:
        raise ConfigError(f"task 'sipm': n_samples={n_samples} is too few to split; use at least 20")
    rng = np.random.default_rng(seed)
    X, y, _ = simulate(rng, n_samples, window, pretrigger, model)
    parts = stratified_split(X, y, rng, float(val_fraction), float(test_fraction), "sipm")
    return Dataset(
        "sipm", *parts, classes=CLASSES, input_width=ADC_BITS, signed=False,
        description=f"synthetic SiPM waveforms: {window} samples of 12-bit ADC codes at {SAMPLE_NS:g} ns, "
                    f"{pretrigger} before the trigger; single pulse vs pile-up",
        extra={"window": window, "pretrigger": pretrigger, "sample_ns": SAMPLE_NS, "model": asdict(model)})
