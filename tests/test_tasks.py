"""Tasks: seeded, fixed splits; shapes, dtypes and ranges the encoder and RTL rely on; clear errors on bad data."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from conftest import shared_data
from hcl.errors import ConfigError, DataError
from hcl.tasks import load_task, task_names
from hcl.tasks.mnist import FILES, read_idx
from hcl.tasks.sipm import PulseModel, pulse_shape, simulate
from hcl.tasks.tabular import integer_width


def all_splits(ds):
    return [ds.split(name) for name in ("train", "val", "test")]


def assert_disjoint(ds):
    """No sample appears in two splits (rows compared byte for byte)."""
    seen: dict[bytes, str] = {}
    for name, (X, _) in zip(("train", "val", "test"), all_splits(ds)):
        for row in np.ascontiguousarray(X):
            key = row.tobytes()
            assert seen.setdefault(key, name) == name, f"a {seen[key]} row is also in {name}"


def assert_one_line(excinfo, *fragments):
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_builtin_tasks_are_registered():
    assert {"sipm", "digits", "mnist", "file"} <= set(task_names())


# ---- sipm ---------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sipm_default():
    return load_task("sipm")


def test_sipm_default_shapes_dtypes_and_adc_range(sipm_default):
    ds = sipm_default
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (12000, 4000, 4000)
    assert ds.n_features == 32 and ds.input_width == 12 and not ds.signed
    assert ds.classes == ("single", "pileup")
    for X, y in all_splits(ds):
        assert X.dtype == np.int64 and y.dtype == np.int64
        assert X.min() >= 0 and X.max() <= 4095
        # Pulses go up from a baseline near 400 codes; the pre-trigger samples sit on it.
        assert 300 < np.median(X[:, :5]) < 500


def test_sipm_classes_are_balanced_in_every_split(sipm_default):
    for _, y in all_splits(sipm_default):
        counts = np.bincount(y, minlength=2)
        assert abs(int(counts[0]) - int(counts[1])) <= 1


def test_sipm_same_seed_same_data_other_seed_other_data():
    a, b = load_task("sipm", seed=5, n_samples=600), load_task("sipm", seed=5, n_samples=600)
    c = load_task("sipm", seed=6, n_samples=600)
    for (Xa, ya), (Xb, yb), (Xc, _) in zip(all_splits(a), all_splits(b), all_splits(c)):
        np.testing.assert_array_equal(Xa, Xb)
        np.testing.assert_array_equal(ya, yb)
        assert not np.array_equal(Xa, Xc)


def test_sipm_splits_are_disjoint():
    assert_disjoint(load_task("sipm", seed=1, n_samples=3000))


def test_sipm_is_learnable_but_not_trivial(sipm_default):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    ds = sipm_default
    X_train, y_train = ds.X_train[:6000], ds.y_train[:6000]
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X_train, y_train)
    for model in (linear, tree):
        accuracy = model.score(ds.X_test, ds.y_test)
        assert 0.75 < accuracy < 0.995, f"{model}: {accuracy:.3f}"


def test_sipm_hard_cases_are_the_close_overlaps():
    """Pile-up with a sub-sample delay is a single taller pulse; a two-sample-plus delay is a visible step."""
    rng = np.random.default_rng(0)
    X, y, truth = simulate(rng, 4000)
    assert np.isnan(truth["delay"][y == 0]).all()
    delays = truth["delay"][y == 1]
    assert delays.min() >= 0 and delays.max() <= 32 - 3 - 6
    assert np.mean(delays < 1.0) > 0.02  # hard cases are present


def test_sipm_options():
    ds = load_task("sipm", n_samples=200, window=48, pretrigger=10, noise=2.0)
    assert ds.n_features == 48 and ds.extra["model"]["noise"] == 2.0
    with pytest.raises(ConfigError) as excinfo:
        load_task("sipm", n_samples=200, widnow=48)
    assert_one_line(excinfo, "widnow")
    with pytest.raises(ConfigError):
        load_task("sipm", n_samples=200, window=8, pretrigger=6)
    with pytest.raises(ConfigError):
        load_task("sipm", n_samples=200, decay_tau=-1)


def test_pulse_shape_starts_at_zero_and_peaks_at_one():
    t = np.linspace(-5, 300, 3051)
    for edge_sigma in (0.0, 0.65):
        p = pulse_shape(t, PulseModel.rise_tau, PulseModel.decay_tau, edge_sigma)
        assert np.isfinite(p).all()
        assert p.max() == pytest.approx(1.0, abs=1e-3)
        assert abs(p[0]) < 1e-6 and p[-1] < 0.01
        assert 1.0 < t[np.argmax(p)] < 5.0


def test_sipm_needs_no_data_files(monkeypatch, tmp_path):
    monkeypatch.setenv("HCL_DATA", str(tmp_path / "nowhere"))
    assert load_task("sipm", n_samples=100).n_features == 32


# ---- digits --------------------------------------------------------------------------------------------------------

def test_digits_shapes_ranges_and_stratified_splits():
    ds = load_task("digits")
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (1257, 270, 270)
    assert ds.n_features == 64 and ds.input_width == 5 and ds.n_classes == 10
    for X, y in all_splits(ds):
        assert X.dtype == np.int64 and X.min() >= 0 and X.max() <= 16
        assert set(np.unique(y)) == set(range(10))
    np.testing.assert_array_equal(ds.X_test, load_task("digits").X_test)
    assert not np.array_equal(ds.y_test, load_task("digits", seed=1).y_test)


# ---- mnist ---------------------------------------------------------------------------------------------------------

def test_mnist_loads_the_official_files():
    folder = shared_data("mnist")
    ds = load_task("mnist", data=folder, n_train=3000)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (3000, 10000, 10000)
    assert ds.n_features == 784 and ds.input_width == 8 and ds.n_classes == 10
    for X, y in all_splits(ds):
        assert X.dtype == np.uint8 and X.max() == 255
        assert set(np.unique(y)) == set(range(10))
    # The official test set, in file order: its first label is a 7.
    assert ds.y_test[0] == 7
    np.testing.assert_array_equal(ds.y_train, load_task("mnist", data=folder, n_train=3000).y_train)


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


@pytest.fixture
def fake_mnist(tmp_path):
    """Four small IDX files in MNIST's layout (20 images per class in train, 4 in test)."""
    rng = np.random.default_rng(0)
    for prefix, per_class in (("train", 20), ("test", 4)):
        labels = np.repeat(np.arange(10), per_class)
        images = rng.integers(0, 256, size=(len(labels), 28, 28))
        write_idx(tmp_path / (FILES[f"{prefix}_images"] + ".gz"), images)
        write_idx(tmp_path / (FILES[f"{prefix}_labels"] + ".gz"), labels)
    return tmp_path


def test_mnist_reader_on_small_files(fake_mnist):
    ds = load_task("mnist", data=fake_mnist, n_val=50)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (150, 50, 40)
    assert_disjoint(ds)


def test_mnist_truncated_file_is_a_data_error(fake_mnist):
    path = fake_mnist / (FILES["train_images"] + ".gz")
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataError) as excinfo:
        load_task("mnist", data=fake_mnist, n_val=50)
    assert_one_line(excinfo, FILES["train_images"], "truncated")


def test_mnist_cut_gzip_stream_is_a_data_error(fake_mnist):
    path = fake_mnist / (FILES["test_labels"] + ".gz")
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(DataError) as excinfo:
        load_task("mnist", data=fake_mnist, n_val=50)
    assert_one_line(excinfo, FILES["test_labels"], "gzip")


def test_mnist_wrong_magic_and_mismatched_counts(fake_mnist, tmp_path):
    labels_as_images = fake_mnist / (FILES["train_labels"] + ".gz")
    with pytest.raises(DataError) as excinfo:
        read_idx(labels_as_images, expect_ndim=3)
    assert_one_line(excinfo, "magic number 0x00000801", "0x00000803")
    write_idx(fake_mnist / (FILES["test_labels"] + ".gz"), np.zeros(39))
    with pytest.raises(DataError) as excinfo:
        load_task("mnist", data=fake_mnist, n_val=50)
    assert_one_line(excinfo, "39 labels for the 40 images")


def test_mnist_missing_folder_says_how_to_point_at_it(monkeypatch, tmp_path):
    monkeypatch.delenv("HCL_DATA", raising=False)
    with pytest.raises(DataError) as excinfo:
        load_task("mnist")
    assert_one_line(excinfo, "--data", "HCL_DATA")
    with pytest.raises(DataError) as excinfo:
        load_task("mnist", data=tmp_path / "absent")
    assert_one_line(excinfo, "--data", "HCL_DATA")
    monkeypatch.setenv("HCL_DATA", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    with pytest.raises(DataError) as excinfo:
        load_task("mnist")
    assert_one_line(excinfo, FILES["train_images"])


# ---- file (CSV / NPZ) ------------------------------------------------------------------------------------------------

def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header] + rows) + "\n")
    return path


def mixed_rows(n: int = 60) -> list[str]:
    rng = np.random.default_rng(1)
    colours = ["red", "green", "blue"]
    return [f"{int(rng.integers(-5, 100))},{colours[i % 3]},{int(rng.integers(0, 8))},{'yes' if i % 2 else 'no'}"
            for i in range(n)]


def test_csv_integers_categories_and_string_labels(tmp_path):
    path = write_csv(tmp_path / "mixed.csv", "temp,colour,count,outcome", mixed_rows())
    ds = load_task("file", data=path, label="outcome")
    assert ds.classes == ("no", "yes")
    assert ds.n_features == 3 and ds.categorical == (1,)
    colour = ds.extra["inputs"]["features"][1]
    assert colour == {"name": "colour", "kind": "categorical", "values": ["blue", "green", "red"], "other": False}
    # Each feature its own word: -5..99 needs 8 bits in two's complement, 3 colours 2 bits, counts 0..7 3 bits.
    assert ds.X_train.dtype == np.int64 and ds.signed == (True, False, False)
    assert ds.input_width == (8, 2, 3)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (42, 9, 9)
    assert_disjoint(ds)
    again = load_task("file", data=path, label="outcome")
    np.testing.assert_array_equal(ds.X_test, again.X_test)
    assert not np.array_equal(ds.y_train, load_task("file", data=path, label="outcome", seed=1).y_train)


def test_csv_float_features_and_default_label(tmp_path):
    rows = [f"{i * 0.5:.2f};{(i * 7) % 11};{i % 3}" for i in range(45)]
    ds = load_task("file", data=write_csv(tmp_path / "f.csv", "a;b;kind", rows))
    # Float columns become 12-bit fixed-point codes (hcl.tasks.columns), integers keep their own word.
    assert ds.X_train.dtype == np.int64 and ds.input_width == (12, 4)
    a = ds.extra["inputs"]["features"][0]
    assert a["kind"] == "fixed" and a["bits"] == 12 and ds.X_train[:, 0].max() <= 4095
    assert ds.classes == ("0", "1", "2") and ds.extra["label"] == "kind"


def test_csv_unsigned_width(tmp_path):
    rows = [f"{i * 5},{i % 2}" for i in range(40)]  # 0..195
    ds = load_task("file", data=write_csv(tmp_path / "u.csv", "x,y", rows), label="y")
    assert (ds.input_width, ds.signed) == (8, False)


@pytest.mark.parametrize("cell, fragment", [("", "empty cell"), ("NaN", "'NaN'"), ("inf", "'inf'"), ("?", "'?'")])
def test_csv_missing_or_non_finite_value_names_column_and_line(tmp_path, cell, fragment):
    rows = mixed_rows(30)
    fields = rows[6].split(",")
    fields[2] = cell
    rows[6] = ",".join(fields)
    path = write_csv(tmp_path / "bad.csv", "temp,colour,count,outcome", rows)
    with pytest.raises(DataError) as excinfo:
        load_task("file", data=path, label="outcome")
    assert_one_line(excinfo, "bad.csv", "'count'", "line 8", fragment)


@pytest.mark.parametrize("delimiter, labels", [
    (",", ['a"; b', "c"]),                 # a sniffer took the quote for data: classes 'a"; b"' and 'c'
    (",", ["x;y\nz", "w;v\nu"]),          # quoted multi-line labels holding ';': refused as one column
    (";", ['p, "q"', "r,s"]),
])
def test_csv_standard_quoting_is_read_as_written(tmp_path, delimiter, labels):
    """Labels holding quotes, the other delimiters and newlines, written by Python's own csv module."""
    import csv
    path = tmp_path / "quoted.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(["v", "w", "label"])
        for i in range(60):
            w.writerow([i, (i * 7) % 13, labels[i % len(labels)]])
    ds = load_task("file", data=path, label="label")
    assert ds.classes == tuple(sorted(labels))
    assert ds.n_features == 2 and len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 60


def test_csv_malformed_inputs(tmp_path):
    header = "temp,colour,count,outcome"
    cases = {
        "missing label column": (write_csv(tmp_path / "a.csv", header, mixed_rows()), "label", ["'label'", "temp"]),
        "ragged row": (write_csv(tmp_path / "b.csv", header, mixed_rows()[:5] + ["1,red,3"] + mixed_rows()[5:]),
                       "outcome", ["line 7", "3 fields", "4"]),
        "single class": (write_csv(tmp_path / "c.csv", header, [r.rsplit(",", 1)[0] + ",yes" for r in mixed_rows()]),
                         "outcome", ["single class", "'yes'"]),
        "header only": (write_csv(tmp_path / "d.csv", header, []), "outcome", ["no data rows"]),
        "rare class": (write_csv(tmp_path / "e.csv", header, mixed_rows()[:20] + ["1,red,3,maybe"]), "outcome",
                       ["'maybe'", "1 row"]),
    }
    for case, (path, label, fragments) in cases.items():
        with pytest.raises(DataError) as excinfo:
            load_task("file", data=path, label=label)
        assert_one_line(excinfo, *fragments)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError) as excinfo:
        load_task("file", data=empty, label="y")
    assert_one_line(excinfo, "empty.csv", "empty")
    with pytest.raises(DataError) as excinfo:
        load_task("file")
    assert_one_line(excinfo, "--data")


def test_npz_arrays_and_columns(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.integers(0, 1000, size=(80, 5))
    y = np.array(["cat", "dog"] * 40)
    np.savez(tmp_path / "xy.npz", X=X, y=y)
    ds = load_task("file", data=tmp_path / "xy.npz")
    assert ds.classes == ("cat", "dog") and ds.n_features == 5 and (ds.input_width, ds.signed) == (10, False)

    np.savez(tmp_path / "cols.npz", height=rng.normal(size=80), colour=np.array(["r", "g"] * 40),
             species=rng.integers(0, 2, size=80))
    ds = load_task("file", data=tmp_path / "cols.npz", label="species")
    assert ds.input_width == (12, 1) and ds.categorical == (1,) and ds.classes == ("0", "1")

    bad = X.astype(float)
    bad[17, 3] = np.nan
    np.savez(tmp_path / "nan.npz", X=bad, y=y)
    with pytest.raises(DataError) as excinfo:
        load_task("file", data=tmp_path / "nan.npz")
    assert_one_line(excinfo, "nan.npz", "'x3'", "row 17")


@given(st.integers(-2**40, 2**40), st.integers(0, 2**40))
def test_integer_width_holds_the_range_and_no_less(lo, span):
    hi = lo + span
    width, signed = integer_width(lo, hi)
    low, high = (-(2 ** (width - 1)), 2 ** (width - 1) - 1) if signed else (0, 2**width - 1)
    assert low <= lo and hi <= high
    assert signed == (lo < 0)
    if width > 1:  # one bit fewer would not do
        low, high = (-(2 ** (width - 2)), 2 ** (width - 2) - 1) if signed else (0, 2 ** (width - 1) - 1)
        assert lo < low or hi > high


def test_task_suggests_thermometer_levels_and_the_flag_wins():
    from hcl.evolve import EvolveConfig
    from hcl.evolve.config import DEFAULT_BITS
    from hcl.evolve.problem import Problem
    assert Problem(EvolveConfig(task="digits")).bits == 2
    assert Problem(EvolveConfig(task="digits", bits=3)).bits == 3
    assert Problem(EvolveConfig(task="tiny")).bits == DEFAULT_BITS
