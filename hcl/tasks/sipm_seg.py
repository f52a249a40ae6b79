"""The `sipm-seg` task: mark pulse arrivals in SiPM waveforms, sample by sample (1-D segmentation).

Waveforms come from the `sipm` task's detector model (hcl.tasks.sipm: pulse shape, photoelectron amplitudes, noise,
baseline, 12-bit ADC), here as long traces with pulses arriving at random (a Poisson process of `rate` pulses per
sample, the rate itself varying by a factor 0.5..1.5 from trace to trace), so traces hold isolated pulses, pile-up
at every delay, and tails of pulses that arrived before the trace began. The target marks the first `mark` samples
at or after each arrival inside the trace: the leading edge, which is what a trigger or a time-stamping stage needs.

Splits: 70/15/15 of whole traces, seeded (no classes). The per-sample task `sipm-seg` uses ``window`` raw ADC codes
centred on each sample (default 9).
"""

from __future__ import annotations

from dataclasses import asdict, fields, replace

import numpy as np

from hcl.errors import ConfigError
from hcl.tasks import Dataset, register
from hcl.tasks.segmentation import SegData, check_options, coerce, pixel_task, register_images, split_images
from hcl.tasks.sipm import ADC_BITS, PulseModel, pulse_heights, render

IMAGE_OPTIONS = ("n_traces", "length", "rate", "mark", "lookback", "val_fraction", "test_fraction")


def simulate(rng: np.random.Generator, n: int, length: int = 256, rate: float = 0.02, mark: int = 2,
             lookback: int = 200, model: PulseModel = PulseModel()) -> tuple[np.ndarray, np.ndarray, list]:
    """(traces int64 [n, length], masks bool [n, length], arrival times per trace)."""
    model.check()
    span = length + lookback
    rates = rate * rng.uniform(0.5, 1.5, n)
    counts = rng.poisson(rates * span)
    k = max(1, int(counts.max()))
    arrivals = np.full((n, k), np.nan)
    for i, c in enumerate(counts):
        arrivals[i, :c] = np.sort(rng.uniform(-lookback, length, c))
    heights = pulse_heights(rng, arrivals.shape, model)
    traces = render(rng, length, arrivals, heights, model)
    masks = np.zeros((n, length), dtype=bool)
    first = np.ceil(arrivals)
    for j in range(mark):
        rows, cols = np.nonzero(~np.isnan(first))
        at = first[rows, cols] + j
        ok = (at >= 0) & (at < length)
        masks[rows[ok], at[ok].astype(np.int64)] = True
    times = [arrivals[i, :c][(arrivals[i, :c] >= 0)] for i, c in enumerate(counts)]
    return traces, masks, times


@register_images("sipm-seg", window=9, dilation=1, per_image=48, pos_fraction=0.3)
def load_images(seed: int = 0, data=None, n_traces: int = 600, length: int = 256, rate: float = 0.02,
                mark: int = 2, lookback: int = 200, val_fraction: float = 0.15, test_fraction: float = 0.15,
                **model_options) -> SegData:
    """Simulated traces (no data files: `data` is ignored). Any PulseModel field is an option."""
    check_options("sipm-seg", model_options, IMAGE_OPTIONS + tuple(f.name for f in fields(PulseModel)))
    n_traces, length = coerce("n_traces", n_traces, int, "sipm-seg"), coerce("length", length, int, "sipm-seg")
    rate, mark = coerce("rate", rate, float, "sipm-seg"), coerce("mark", mark, int, "sipm-seg")
    lookback = coerce("lookback", lookback, int, "sipm-seg")
    if n_traces < 10:
        raise ConfigError(f"task 'sipm-seg': n_traces={n_traces} is too few to split; use at least 10")
    if length < 16:
        raise ConfigError(f"task 'sipm-seg': length={length} must be at least 16 samples")
    if not 0 < rate < 0.5:
        raise ConfigError(f"task 'sipm-seg': rate={rate} pulses per sample must be within (0, 0.5)")
    if mark < 1 or lookback < 0:
        raise ConfigError(f"task 'sipm-seg': need mark >= 1 and lookback >= 0, got mark={mark}, lookback={lookback}")
    model = PulseModel()
    try:
        model = replace(model, **{k: type(getattr(model, k))(v) for k, v in model_options.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"task 'sipm-seg': bad option value ({exc})") from None
    rng = np.random.default_rng(seed)
    traces, masks, _ = simulate(rng, n_traces, length, rate, mark, lookback, model)
    train, val, test = split_images(traces, masks, None, rng,
                                    coerce("val_fraction", val_fraction, float, "sipm-seg"),
                                    coerce("test_fraction", test_fraction, float, "sipm-seg"), "sipm-seg")
    return SegData("sipm-seg", train, val, test, input_width=ADC_BITS, foreground="arrival",
                   description=f"synthetic SiPM traces, {length} samples of 12-bit ADC codes, ~{rate * length:.1f} "
                               "pulses per trace",
                   extra={"length": length, "rate": rate, "mark": mark, "model": asdict(model)})


@register("sipm-seg", reads_files=False)
def load_sipm_seg(seed: int = 0, data=None, **options) -> Dataset:
    """Per-sample pulse-arrival classification. Options: the image options above, window, dilation, per_image,
    pos_fraction, and any PulseModel field."""
    return pixel_task("sipm-seg", seed, data, options)
