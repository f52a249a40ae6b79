"""Segmentation tasks (busi, qubit, sipm-seg): image splits and per-pixel datasets are seeded, fixed, shaped right,
physically sensible, and bad input gets a one-line error."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import shared_data
from hcl.errors import ConfigError, DataError
from hcl.tasks import load_task, task_names
from hcl.tasks.qubit import DoubleDotModel, simulate_one
from hcl.tasks.segmentation import (gather_windows, image_windows, load_images, pixel_dataset, pixel_defaults,
                                    segmentation_task_names, window_offsets)

SPLITS = ("train", "val", "test")


def one_line(excinfo, *fragments):
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def assert_same(a, b):
    for s in SPLITS:
        assert np.array_equal(a.split(s).images, b.split(s).images)
        assert np.array_equal(a.split(s).masks, b.split(s).masks)


def assert_disjoint(seg):
    seen = {}
    for s in SPLITS:
        for img in seg.split(s).images:
            assert seen.setdefault(img.tobytes(), s) == s, f"an image of {seen[img.tobytes()]} is also in {s}"


def test_segmentation_tasks_are_registered_in_both_forms():
    assert {"busi", "qubit", "sipm-seg"} <= set(task_names())
    assert set(segmentation_task_names()) == {"busi", "qubit", "sipm-seg"}
    for name in segmentation_task_names():
        assert set(pixel_defaults(name)) == {"window", "dilation", "per_image", "pos_fraction"}


# ---- windows ------------------------------------------------------------------------------------------------------

def test_gather_windows_replicates_edges_and_orders_taps_row_major():
    img = np.arange(16).reshape(1, 4, 4)
    rows = gather_windows(img, np.array([0, 0]), np.array([[0, 0], [2, 1]]), window=3, dilation=1)
    assert rows.tolist() == [[0, 0, 1, 0, 0, 1, 4, 4, 5],
                             [4, 5, 6, 8, 9, 10, 12, 13, 14]]
    dilated = gather_windows(img, np.array([0]), np.array([[1, 1]]), window=3, dilation=2)
    assert dilated.tolist() == [[0, 1, 3, 4, 5, 7, 12, 13, 15]]   # rows/cols -1->0, 1, 3
    assert window_offsets(1, 5, 1).ravel().tolist() == [-2, -1, 0, 1, 2]


def test_image_windows_centre_tap_is_the_pixel():
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 255, size=(3, 5, 7))
    rows = image_windows(imgs, window=5, dilation=2)
    assert rows.shape == (3 * 35, 25)
    assert np.array_equal(rows[:, 12], imgs.reshape(-1))
    traces = rng.integers(0, 4095, size=(2, 30))
    rows1 = image_windows(traces, window=9, dilation=1)
    assert rows1.shape == (60, 9) and np.array_equal(rows1[:, 4], traces.reshape(-1))


# ---- qubit --------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def qubit_small():
    return load_images("qubit", seed=3, n_images=20)


def test_qubit_images_are_seeded_shaped_and_split_70_15_15(qubit_small):
    seg = qubit_small
    assert (len(seg.train), len(seg.val), len(seg.test)) == (14, 3, 3)
    assert seg.ndim == 2 and seg.shape == (64, 64) and seg.input_width == 8
    for s in SPLITS:
        x, m = seg.split(s).images, seg.split(s).masks
        assert x.dtype == np.int64 and m.dtype == bool and x.shape == m.shape
        assert x.min() >= 0 and x.max() <= 255
    assert 0.05 < seg.train.masks.mean() < 0.35   # one-pixel lines of a honeycomb, a few per axis
    assert_same(seg, load_images("qubit", seed=3, n_images=20))
    assert not np.array_equal(seg.train.images, load_images("qubit", seed=4, n_images=20).train.images)
    assert_disjoint(seg)


def test_qubit_signal_jumps_on_transition_lines(qubit_small):
    """The charge sensor jumps where an electron enters: the fast-axis step is larger on the lines."""
    x = qubit_small.train.images.astype(float)
    m = qubit_small.train.masks
    step = np.abs(np.diff(x, axis=2))
    on = step[m[:, :, 1:] | m[:, :, :-1]].mean()
    off = step[~(m[:, :, 1:] | m[:, :, :-1])].mean()
    assert on > 1.3 * off


def test_qubit_charge_states_follow_the_constant_interaction_model():
    rng = np.random.default_rng(0)
    # Both plunger gates far below the first electron: the (0, 0) state everywhere, nothing to find.
    _, mask, _ = simulate_one(rng, 32, DoubleDotModel(start=(-4.0, -3.5), span=(2.0, 2.5)))
    assert not mask.any()
    # Uncoupled dots, no cross-capacitance: a square grid, every line pixel in a full column (dot 1) or row (dot 2);
    # the scan covers 3 electrons per gate from 0.2, so 3 lines each.
    grid = DoubleDotModel(cross=(0.0, 0.0), mutual=(0.0, 0.0), start=(0.2, 0.2), span=(3.0, 3.0))
    _, mask, _ = simulate_one(rng, 64, grid)
    cols, rows = mask.mean(axis=0) > 0.9, mask.mean(axis=1) > 0.9
    assert cols.sum() in (3, 4, 6) and rows.sum() in (3, 4, 6)   # a line on a pixel border marks both neighbours
    assert not (mask & ~cols[None, :] & ~rows[:, None]).any()
    # Interdot coupling tilts the lines and splits the crossings into the honeycomb: no full column or row left.
    _, mask, _ = simulate_one(rng, 64, replace(grid, mutual=(0.3, 0.3)))
    assert mask.any() and not (mask.mean(axis=0) > 0.9).any() and not (mask.mean(axis=1) > 0.9).any()


def test_qubit_bad_options_are_one_line_errors():
    with pytest.raises(ConfigError) as e:
        load_images("qubit", n_images=5)
    one_line(e, "n_images=5")
    with pytest.raises(ConfigError) as e:
        load_images("qubit", colour="blue")
    one_line(e, "unknown option", "colour")
    with pytest.raises(ConfigError) as e:
        load_images("qubit", n_images=20, mutual=(0.5, 1.2))
    one_line(e, "mutual")
    with pytest.raises(ConfigError) as e:
        load_task("qubit", n_images=20, window=4)
    one_line(e, "window must be an odd number")


# ---- sipm-seg -----------------------------------------------------------------------------------------------------

def test_sipm_seg_traces_mark_the_leading_edges():
    seg = load_images("sipm-seg", seed=1, n_traces=40)
    assert (len(seg.train), len(seg.val), len(seg.test)) == (28, 6, 6)
    assert seg.ndim == 1 and seg.shape == (256,) and seg.input_width == 12
    x, m = seg.train.images, seg.train.masks
    assert x.dtype == np.int64 and x.min() >= 0 and x.max() <= 4095
    assert 0.01 < m.mean() < 0.12
    # A marked sample is on a rising edge: two samples later the trace is higher than two samples before.
    i, t = np.nonzero(m[:, 2:-2])
    t = t + 2
    assert np.mean(x[i, t + 2] - x[i, t - 2]) > 30
    assert_same(seg, load_images("sipm-seg", seed=1, n_traces=40))
    assert_disjoint(seg)
    with pytest.raises(ConfigError) as e:
        load_images("sipm-seg", n_traces=40, rate=2.0)
    one_line(e, "rate=2.0")


# ---- per-pixel datasets -------------------------------------------------------------------------------------------

def test_pixel_dataset_labels_are_the_centre_pixels_mask(qubit_small):
    ds = pixel_dataset(qubit_small, seed=0, window=5, dilation=1, per_image=64, pos_fraction=0.3)
    assert ds.name == "qubit" and ds.classes == ("background", "foreground")
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (14 * 64, 3 * 64, 3 * 64)
    assert ds.n_features == 25 and ds.X_train.dtype == np.int64 and ds.input_width == 8
    assert 0.2 < ds.y_train.mean() <= 0.31
    # Every sample's centre value and label occur together at some pixel of the training images.
    pairs = set(zip(qubit_small.train.images.ravel().tolist(), qubit_small.train.masks.ravel().astype(int).tolist()))
    assert all((int(v), int(y)) in pairs for v, y in zip(ds.X_train[:, 12], ds.y_train))
    again = pixel_dataset(qubit_small, seed=0, window=5, dilation=1, per_image=64, pos_fraction=0.3)
    assert np.array_equal(ds.X_train, again.X_train) and np.array_equal(ds.y_test, again.y_test)


def test_registered_pixel_task_is_seeded_and_takes_string_options():
    a = load_task("sipm-seg", seed=2, n_traces="30", per_image="16")
    b = load_task("sipm-seg", seed=2, n_traces=30, per_image=16)
    assert np.array_equal(a.X_train, b.X_train) and a.n_features == 9 and a.input_width == 12
    assert len(a.y_train) == len(load_images("sipm-seg", seed=2, n_traces=30).train) * 16


def test_hcl_evolve_runs_on_a_segmentation_task(tmp_path):
    from hcl.cli import main
    result = CliRunner().invoke(main, ["evolve", "--task", "sipm-seg", "--generations", "2", "--population", "4",
                                       "--out", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "best.json").is_file()


# ---- busi -------------------------------------------------------------------------------------------------------

def test_busi_images_split_stratified_and_downsampled():
    folder = shared_data("busi")
    seg = load_images("busi", seed=0, data=folder)
    assert seg.shape == (64, 64) and seg.input_width == 8 and seg.foreground == "lesion"
    assert sum(len(seg.split(s)) for s in SPLITS) == 149
    assert (len(seg.train), len(seg.val), len(seg.test)) == (103, 23, 23)
    for s in SPLITS:
        assert set(seg.split(s).labels.tolist()) == {0, 1, 2}    # every class in every split
        assert seg.split(s).images.max() <= 255
    # Normal images have no lesion; the others do.
    normal = seg.train.labels == seg.image_classes.index("normal")
    assert not seg.train.masks[normal].any() and seg.train.masks[~normal].any(axis=(1, 2)).all()
    assert_same(seg, load_images("busi", seed=0, data=folder / "busi128.npz"))
    assert_disjoint(seg)
    assert load_images("busi", seed=0, data=folder, size=32).shape == (32, 32)
    ds = load_task("busi", seed=0, data=folder, per_image=16)
    assert ds.n_features == 25 and len(ds.y_train) == 103 * 16


def test_busi_missing_or_bad_data_is_a_one_line_error(tmp_path, monkeypatch):
    with pytest.raises(DataError) as e:
        load_images("busi", data=tmp_path)
    one_line(e, "busi128.npz not found", "HCL_DATA")
    monkeypatch.delenv("HCL_DATA", raising=False)
    with pytest.raises(DataError) as e:
        load_task("busi")
    one_line(e, "HCL_DATA")
    (tmp_path / "busi128.npz").write_bytes(b"not a zip file")
    with pytest.raises(DataError) as e:
        load_images("busi", data=tmp_path)
    one_line(e, "not a readable .npz")
    np.savez(tmp_path / "busi128.npz", images=np.zeros((3, 128, 128), np.uint8))
    with pytest.raises(DataError) as e:
        load_images("busi", data=tmp_path)
    one_line(e, "lacks array(s) masks, labels")
    np.savez(tmp_path / "busi128.npz", images=np.zeros((3, 64, 64), np.uint8), masks=np.zeros((3, 64, 64), bool),
             labels=np.zeros(3, np.uint8))
    with pytest.raises(DataError) as e:
        load_images("busi", data=tmp_path)
    one_line(e, "images must be [n, 128, 128]")
    with pytest.raises(ConfigError) as e:
        load_images("busi", data=tmp_path, size=48)
    one_line(e, "size=48 must divide 128")
