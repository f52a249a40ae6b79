"""Do hcl's synthetic SiPM pulses look like real ones? Measure real LEGEND-200 waveforms and synthetic records alike.

    .venv/bin/python benchmarks/sipm_vs_legend.py [--data DIR] [--png PATH]

Real data: legend200_sipm_waveforms.npz (6 channels x 10 waveforms x 6,000 samples, 16 ns) from `--data`, else
`$HCL_DATA/legend_sipm`, else ../shared/data/legend_sipm beside the repository. Synthetic data: records of the same
length and layout (a trigger pulse near sample 1,280 plus dark pulses at the model's rate) drawn with
`hcl.tasks.sipm.render` and the default `PulseModel`, so what is measured is exactly what the task generates.

Both go through the same estimators, so their biases cancel in the comparison:

* baseline and noise: median and RMS of the pre-trigger samples (before 1,200) away from any pulse (10 samples
  before to 300 after each edge);
* pulse edges: the two-sample rise x[i] - x[i-2] crosses 5 noise RMS * sqrt(2) (finds pulses on tails too);
* height: the maximum in the 10 samples after the edge above the mean of the 6 samples before it;
* rise 10-90 %: linear interpolation between samples on the leading edge;
* rise and decay constants: least-squares fit of `A (exp(-t/decay) - exp(-t/rise))` on isolated pulses (no other
  edge 150 samples before or 260 after), over the 260 samples around the edge;
* average pulse: the isolated pulses outside the trigger region (mostly single photoelectrons), scaled to unit
  height and aligned on their interpolated 50 % crossing, pooled on a 0.25-sample grid (equivalent-time sampling
  resolves the edge better than one 16 ns sample); its median is fitted with the generator's own shape (rise and
  decay constants, Gaussian edge smoothing), and its 10-90 % rise read off without noise;
* one-photoelectron height, per channel: SiPM heights come in whole photoelectrons; the median of the heights below
  1.5 x the channel's 20th-percentile height picks out the first (one-photoelectron) peak;
* dark rate: edges per microsecond outside the trigger region (samples 1,200-1,500).

Prints a real-vs-synthetic table and writes a PNG overlaying real and synthetic pulses.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import curve_fit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hcl.tasks import load_task  # noqa: E402
from hcl.tasks.sipm import SAMPLE_NS, PulseModel, pulse_heights, pulse_shape, render  # noqa: E402

TRIGGER_REGION = (1200, 1500)
MASK_BEFORE, MASK_AFTER = 10, 300
ISOLATION_BEFORE, FIT_LENGTH = 150, 260
FIT_START = 10  # samples before the edge included in a fit


@dataclass
class Pulse:
    record: int
    edge: int
    height: float
    rise_10_90: float = np.nan
    isolated: bool = False
    trigger: bool = False          # the first pulse in the trigger region
    rise_tau: float = np.nan
    decay_tau: float = np.nan
    segment: np.ndarray | None = field(default=None, repr=False)


@dataclass
class Measurement:
    noise: np.ndarray              # per record
    baseline: np.ndarray           # per record
    pulses: list[Pulse]
    one_pe: dict[int, float]       # per channel
    noise_per_channel: dict[int, float]
    dark_rate_per_us: dict[int, float]
    trigger_pileup: float          # share of records with a second edge within 26 samples of the trigger edge
    channel_of: np.ndarray         # per record


def find_edges(x: np.ndarray, noise: float, n_sigma: float = 5.0, lag: int = 2) -> np.ndarray:
    rise = np.zeros_like(x)
    rise[lag:] = x[lag:] - x[:-lag]
    above = rise > n_sigma * noise * np.sqrt(2)
    return np.flatnonzero(above[1:] & ~above[:-1]) + 1


def baseline_and_noise(x: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(baseline, noise RMS, pulse edges) of one record."""
    # Pulses barely disturb the spread of sample-to-sample differences, so it finds the pulses to leave out. It is
    # coarse (integer codes quantize the median) and is not iterated: a higher noise guess would hide pulses whose
    # tails would then raise the next guess.
    d = np.diff(x)
    rough = 1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2)
    # Only the pre-trigger stretch: after the trigger, scintillation light keeps arriving as single photons for
    # microseconds, too small to mask one by one.
    quiet = np.arange(len(x)) < TRIGGER_REGION[0]
    for k in find_edges(x, rough):
        quiet[max(0, k - MASK_BEFORE):k + MASK_AFTER] = False
    if quiet.sum() < 100:  # pulses everywhere
        return float(np.median(x)), float(rough), find_edges(x, rough)
    noise = float(np.std(x[quiet]))
    return float(np.median(x[quiet])), noise, find_edges(x, noise)


def difference_of_exponentials(t, amplitude, t0, rise_tau, decay_tau):
    """The per-pulse fit model: unsmoothed, so it stays stable on single noisy pulses."""
    s = np.clip(t - t0, 0.0, None)
    return amplitude * (np.exp(-s / decay_tau) - np.exp(-s / rise_tau))


def rise_10_90(seg: np.ndarray, peak: int, height: float) -> float:
    """Time from 10 % to 90 % of `height` on the edge ending at `peak`, interpolated between samples."""
    return _crossing(seg, peak, 0.9 * height) - _crossing(seg, peak, 0.1 * height)


def average_pulse(m: Measurement) -> tuple[np.ndarray, np.ndarray, int]:
    """(time from the 50 % crossing, median unit-height pulse, pulses used) on a 0.25-sample grid."""
    times, values = [], []
    for p in m.pulses:
        if not p.isolated or p.trigger or p.segment is None:
            continue
        seg = p.segment / p.height
        t50 = _crossing(seg, FIT_START + int(np.argmax(seg[FIT_START:FIT_START + 10])), 0.5)
        if np.isfinite(t50):
            times.append(np.arange(len(seg)) - t50), values.append(seg)
    t, v = np.concatenate(times), np.concatenate(values)
    edges = np.arange(-8.0, 120.0 + 1e-9, 0.25)
    which = np.digitize(t, edges) - 1
    centres = edges[:-1] + 0.125
    median = np.array([np.median(v[which == i]) if np.sum(which == i) >= 5 else np.nan
                       for i in range(len(centres))])
    ok = np.isfinite(median)
    return centres[ok], median[ok], len(times)


def fit_average(t: np.ndarray, v: np.ndarray) -> dict[str, float]:
    def model(t, amplitude, t0, rise_tau, decay_tau, edge_sigma):
        return amplitude * pulse_shape(t - t0, rise_tau, decay_tau, edge_sigma)
    fit, _ = curve_fit(model, t, v, p0=[1.0, -0.7, 0.7, 40.0, 0.5],
                       bounds=([0.5, -5, 0.05, 5, 0.01], [2, 5, 5, 500, 5]))
    fine = np.arange(-6, 20, 0.01)
    curve = model(fine, *fit)
    peak = int(np.argmax(curve))
    r10 = fine[np.argmax(curve >= 0.1 * curve[peak])]
    r90 = fine[np.argmax(curve >= 0.9 * curve[peak])]
    return {"rise_tau": fit[2], "decay_tau": fit[3], "edge_sigma": fit[4], "rise_10_90": r90 - r10,
            "model": lambda u: model(u, *fit)}


def _crossing(seg: np.ndarray, peak: int, level: float) -> float:
    """Interpolated time where the leading edge ending at `peak` crosses `level`."""
    for i in range(peak, max(peak - 12, 0), -1):
        if seg[i - 1] < level <= seg[i]:
            return i - 1 + (level - seg[i - 1]) / (seg[i] - seg[i - 1])
    return np.nan


def measure(records: np.ndarray, channel_of: np.ndarray) -> Measurement:
    records = records.astype(np.float64)
    baselines, noises, pulses = [], [], []
    pileup_at_trigger, trigger_seen = 0, 0
    edge_counts: dict[int, list[int]] = {}
    for r, x in enumerate(records):
        base, noise, edges = baseline_and_noise(x)
        baselines.append(base), noises.append(noise)
        outside = (edges < TRIGGER_REGION[0]) | (edges >= TRIGGER_REGION[1])
        edge_counts.setdefault(int(channel_of[r]), []).append(int(outside.sum()))
        in_trigger = edges[(edges >= TRIGGER_REGION[0]) & (edges < TRIGGER_REGION[1])]
        if len(in_trigger):
            trigger_seen += 1
            pileup_at_trigger += int(np.any((in_trigger > in_trigger[0]) & (in_trigger <= in_trigger[0] + 26)))
        for j, k in enumerate(edges):
            if k < 20 or k + FIT_LENGTH > len(x):
                continue
            local = float(np.mean(x[k - 8:k - 2]))
            seg = x[k - FIT_START:k - FIT_START + FIT_LENGTH] - local
            peak = FIT_START + int(np.argmax(seg[FIT_START:FIT_START + 10]))
            height = float(seg[peak])
            if height < 5 * noise:
                continue
            p = Pulse(r, int(k), height, rise_10_90(seg, peak, height))
            p.trigger = len(in_trigger) > 0 and k == in_trigger[0]
            prev_edge = edges[j - 1] if j else -10**9
            next_edge = edges[j + 1] if j + 1 < len(edges) else 10**9
            p.isolated = k - prev_edge > ISOLATION_BEFORE and next_edge - k > FIT_LENGTH
            if p.isolated and height > 8 * noise:
                t = np.arange(len(seg), dtype=np.float64)
                try:
                    fit, _ = curve_fit(difference_of_exponentials, t, seg,
                                       p0=[1.2 * height, FIT_START - 1.0, 0.7, 40.0],
                                       bounds=([0, 0, 0.05, 2], [10 * height, FIT_START + 8, 10, 1000]))
                    p.rise_tau, p.decay_tau = float(fit[2]), float(fit[3])
                except RuntimeError:
                    pass
                p.segment = seg
            pulses.append(p)
    noises_a = np.asarray(noises)
    one_pe, noise_ch, rate = {}, {}, {}
    outside_us = (records.shape[1] - (TRIGGER_REGION[1] - TRIGGER_REGION[0])) * SAMPLE_NS / 1000
    for ch in np.unique(channel_of):
        ch = int(ch)
        heights = np.array([p.height for p in pulses if channel_of[p.record] == ch])
        low = heights[heights < 1.5 * np.percentile(heights, 20)]
        one_pe[ch] = float(np.median(low))
        noise_ch[ch] = float(np.median(noises_a[channel_of == ch]))
        rate[ch] = float(np.mean(edge_counts[ch]) / outside_us)
    return Measurement(noises_a, np.asarray(baselines), pulses, one_pe, noise_ch, rate,
                       pileup_at_trigger / max(trigger_seen, 1), channel_of)


def synthetic_records(model: PulseModel, n_records: int, length: int, seed: int) -> np.ndarray:
    """Records laid out like the real ones: a trigger pulse near sample 1,280 and dark pulses anywhere."""
    rng = np.random.default_rng(seed)
    n_dark = rng.poisson(model.dark_rate * length, size=n_records)
    k = 1 + int(n_dark.max(initial=0))
    arrivals = np.full((n_records, k), np.nan)
    arrivals[:, 0] = 1280 + rng.uniform(0, 1, n_records)
    for r in range(n_records):
        arrivals[r, 1:1 + n_dark[r]] = rng.uniform(0, length, n_dark[r])
    return render(rng, length, arrivals, pulse_heights(rng, arrivals.shape, model), model)


def load_real(data: str | None) -> np.ndarray:
    candidates = [Path(data)] if data else []
    if os.environ.get("HCL_DATA"):
        candidates.append(Path(os.environ["HCL_DATA"]) / "legend_sipm")
    candidates.append(REPO.parent / "shared" / "data" / "legend_sipm")
    for folder in candidates:
        path = folder / "legend200_sipm_waveforms.npz" if folder.is_dir() else folder
        if path.is_file():
            with np.load(path) as z:
                return z["waveforms"]
    sys.exit(f"no real waveforms: looked for legend200_sipm_waveforms.npz in {', '.join(map(str, candidates))}; "
             "pass --data DIR")


def summary(values, digits: int = 2) -> str:
    v = np.asarray([x for x in values if np.isfinite(x)])
    if not len(v):
        return "n/a"
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return f"{med:.{digits}f} [{q1:.{digits}f}, {q3:.{digits}f}]"


def table(real: Measurement, synth: Measurement, real_avg: dict, synth_avg: dict) -> str:
    def ratio(m: Measurement) -> list[float]:
        return [m.noise_per_channel[c] / m.one_pe[c] for c in m.one_pe]

    def baseline_spread(m: Measurement) -> list[float]:
        return [np.std(m.baseline[m.channel_of == c]) / m.one_pe[c] for c in m.one_pe]

    def fitted(m: Measurement, attr: str) -> list[float]:
        return [getattr(p, attr) for p in m.pulses if p.isolated]

    def heights_pe(m: Measurement, trigger: bool = False) -> list[float]:
        return [p.height / m.one_pe[m.channel_of[p.record]] for p in m.pulses if p.trigger or not trigger]

    rows = [
        ("pulses found (isolated, fitted)",
         f"{len(real.pulses)} ({sum(np.isfinite(fitted(real, 'decay_tau')))})",
         f"{len(synth.pulses)} ({sum(np.isfinite(fitted(synth, 'decay_tau')))})", ""),
        ("rise 10-90 %", summary([p.rise_10_90 for p in real.pulses]),
         summary([p.rise_10_90 for p in synth.pulses]), "samples"),
        ("fitted rise constant", summary(fitted(real, "rise_tau")), summary(fitted(synth, "rise_tau")), "samples"),
        ("fitted decay constant", summary(fitted(real, "decay_tau"), 1), summary(fitted(synth, "decay_tau"), 1),
         "samples"),
        ("average pulse: rise 10-90 %", f"{real_avg['rise_10_90']:.2f}", f"{synth_avg['rise_10_90']:.2f}",
         "samples"),
        ("average pulse: rise constant", f"{real_avg['rise_tau']:.2f}", f"{synth_avg['rise_tau']:.2f}", "samples"),
        ("average pulse: decay constant", f"{real_avg['decay_tau']:.1f}", f"{synth_avg['decay_tau']:.1f}",
         "samples"),
        ("average pulse: edge smoothing RMS", f"{real_avg['edge_sigma']:.2f}", f"{synth_avg['edge_sigma']:.2f}",
         "samples"),
        ("baseline RMS noise", summary(real.noise), summary(synth.noise), "ADC counts*"),
        ("one-photoelectron height", summary(real.one_pe.values(), 1), summary(synth.one_pe.values(), 1),
         "ADC counts*"),
        ("baseline spread within a channel", summary(baseline_spread(real), 3), summary(baseline_spread(synth), 3),
         "photoelectrons"),
        ("noise / one-photoelectron height", summary(ratio(real), 3), summary(ratio(synth), 3), ""),
        ("pulse height, all pulses", summary(heights_pe(real)), summary(heights_pe(synth)), "photoelectrons"),
        ("pulse height, trigger pulses", summary(heights_pe(real, trigger=True)),
         summary(heights_pe(synth, trigger=True)), "photoelectrons"),
        ("dark pulse rate", summary(real.dark_rate_per_us.values(), 3), summary(synth.dark_rate_per_us.values(), 3),
         "per us"),
        ("2nd edge <= 26 samples after trigger**", f"{real.trigger_pileup:.2f}", f"{synth.trigger_pileup:.2f}",
         "of records"),
    ]
    widths = [max(len(r[i]) for r in rows + [("quantity", "real LEGEND-200", "synthetic (hcl sipm)", "unit")])
              for i in range(4)]
    lines = []
    for i, r in enumerate([("quantity", "real LEGEND-200", "synthetic (hcl sipm)", "unit")] + rows):
        lines.append(" | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            lines.append("-+-".join("-" * w for w in widths))
    lines.append("median [25th, 75th percentile]; samples are 16 ns. * real counts are the LEGEND digitizer's, "
                 "synthetic ones 12-bit codes (rescaled on purpose; the noise / height ratio is what must match).\n"
                 "** real: late argon-scintillation photons follow many trigger pulses; the task's own pile-up share "
                 "is 50 % by construction, these synthetic records only hold dark pulses.")
    decay_ch = {c: float(np.nanmedian([p.decay_tau for p in real.pulses if real.channel_of[p.record] == c
                                       and p.isolated] or [np.nan])) for c in real.one_pe}
    lines.append("real per channel (one-PE height / noise / decay constant / dark rate per us): " + ", ".join(
        f"ch{c} {real.one_pe[c]:.0f} / {real.noise_per_channel[c]:.1f} / {decay_ch[c]:.0f} / "
        f"{real.dark_rate_per_us[c]:.3f}" for c in real.one_pe))
    lines.append("calibration these numbers suggest for PulseModel: " + calibration(real, decay_ch, real_avg))
    return "\n".join(lines)


def calibration(real: Measurement, decay_per_channel: dict[int, float], real_avg: dict) -> str:
    """The PulseModel defaults the real data calls for, as `field=value` (gain stays at its 12-bit choice)."""
    model = PulseModel()
    decays = np.log([d for d in decay_per_channel.values() if np.isfinite(d)])
    ratio = np.median([real.noise_per_channel[c] / real.one_pe[c] for c in real.one_pe])
    trigger_pe = np.array([p.height / real.one_pe[real.channel_of[p.record]] for p in real.pulses if p.trigger])
    # A geometric photoelectron count has P(1) = 1 / mean: the share of one-photoelectron trigger pulses sets it.
    mean_pe = 1.0 / np.mean(trigger_pe < 1.5)
    spread_pe = np.median([np.std(real.baseline[real.channel_of == c]) / real.one_pe[c] for c in real.one_pe])
    dark_per_sample = np.mean(list(real.dark_rate_per_us.values())) * SAMPLE_NS / 1000
    return (f"rise_tau={real_avg['rise_tau']:.2f}, edge_sigma={real_avg['edge_sigma']:.2f}, "
            f"decay_tau={np.exp(np.median(decays)):.1f}, "
            f"decay_spread={np.std(decays):.2f}, noise={ratio * model.gain:.1f} (gain {model.gain:g}), "
            f"mean_pe={mean_pe:.1f}, baseline_jitter={spread_pe * np.sqrt(3) * model.gain:.0f} (uniform +-), "
            f"dark_rate={dark_per_sample:.1e} (mean over channels); then nudge until the synthetic column matches")


def plot(real_records, real: Measurement, real_avg: dict, synth_records, synth: Measurement, synth_avg: dict,
         png: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    ax = axes[0, 0]
    for records, m, colour, label, offset in ((real_records, real, "tab:blue", "real ch4 #0", 0),
                                              (synth_records, synth, "tab:orange", "synthetic #0", 4)):
        r = 40 if records is real_records else 0
        x = (records[r, 1000:3000] - m.baseline[r]) / m.one_pe[m.channel_of[r]]
        ax.plot(np.arange(1000, 3000), x + offset, lw=0.6, color=colour, label=label)
    ax.set(title="whole records (baseline removed), in photoelectrons", xlabel="sample (16 ns)",
           ylabel="photoelectrons (+ offset)")
    ax.legend(loc="upper right")

    ax = axes[0, 1]
    for m, avg, colour, label in ((real, real_avg, "tab:blue", "real"), (synth, synth_avg, "tab:orange", "synthetic")):
        t, v, n = average_pulse(m)
        ax.plot(t, v, ".", ms=2.5, color=colour, alpha=0.6, label=f"{label}: average of {n} isolated pulses")
        ax.plot(t, avg["model"](t), lw=1.5, color=colour,
                label=f"fit: rise {avg['rise_tau']:.2f}, decay {avg['decay_tau']:.0f}, edge {avg['edge_sigma']:.2f}")
    inset = ax.inset_axes([0.55, 0.3, 0.42, 0.35])
    for m, colour in ((real, "tab:blue"), (synth, "tab:orange")):
        t, v, _ = average_pulse(m)
        inset.plot(t[t < 8], v[t < 8], ".-", ms=2, lw=0.6, color=colour)
    inset.set_title("the edge", fontsize=8)
    inset.tick_params(labelsize=7)
    ax.set(title="average isolated pulse (equivalent time, 0.25-sample bins)", xlabel="samples after the 50 % point",
           ylabel="height / peak")
    ax.legend(loc="upper right", fontsize=8)

    ax = axes[1, 0]
    bins = np.linspace(0, 8, 65)
    for m, colour, label in ((real, "tab:blue", "real"), (synth, "tab:orange", "synthetic")):
        h = [p.height / m.one_pe[m.channel_of[p.record]] for p in m.pulses]
        ax.hist(h, bins=bins, histtype="step", lw=1.5, color=colour, density=True, label=label)
    ax.set(title="pulse heights in photoelectrons", xlabel="height / one-photoelectron height", ylabel="density")
    ax.legend()

    ax = axes[1, 1]
    ds = load_task("sipm", seed=0, n_samples=200)
    shown = {0: 0, 1: 0}
    for x, y in zip(ds.X_train, ds.y_train):
        if shown[int(y)] < 4:
            ax.step(np.arange(len(x)), x, where="mid", lw=1.0, color=("tab:green", "tab:red")[y],
                    label=ds.classes[y] if shown[int(y)] == 0 else None)
            shown[int(y)] += 1
    ax.set(title="task windows (hcl sipm, 12-bit ADC codes)", xlabel="sample in window", ylabel="ADC code")
    ax.legend()
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_name(png.name + ".tmp.png")
    fig.savefig(tmp, dpi=90)
    os.replace(tmp, png)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder holding legend200_sipm_waveforms.npz (or the file)")
    parser.add_argument("--png", default=str(REPO / "benchmarks" / "results" / "sipm_vs_legend.png"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    real_wf = load_real(args.data)
    n_ch, n_wf, length = real_wf.shape
    real_records = real_wf.reshape(n_ch * n_wf, length)
    # Six synthetic "channels" of ten records each, so the per-channel estimators see the same layout.
    synth_records = synthetic_records(PulseModel(), n_ch * n_wf, length, args.seed)
    channel_of = np.repeat(np.arange(n_ch), n_wf)
    real = measure(real_records, channel_of)
    synth = measure(synth_records, channel_of)
    real_avg, synth_avg = fit_average(*average_pulse(real)[:2]), fit_average(*average_pulse(synth)[:2])
    print(table(real, synth, real_avg, synth_avg))
    plot(real_records, real, real_avg, synth_records, synth, synth_avg, Path(args.png))
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
