"""Your own data, first time right (issue 15): the README's worked example end to end, and one test per friction a
new user met on a real 82,000-row CSV."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hcl.cli import main
from hcl.errors import ConfigError, DataError
from hcl.network import Network
from hcl.tasks import load_task
from conftest import make_tiny, needs_ghdl

ROOT = Path(__file__).resolve().parents[1]


def _example():
    spec = importlib.util.spec_from_file_location("make_own_data", ROOT / "examples" / "make_own_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def flows(tmp_path_factory) -> tuple[Path, Path]:
    return _example().write(tmp_path_factory.mktemp("own"))


def hcl(*args: str) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def hcl_error(*args: str) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def write_rows(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


# ---- the README's worked example ----------------------------------------------------------------------------------

@needs_ghdl
def test_worked_example_from_csv_to_simulated_rtl(flows, tmp_path):
    train, test = flows
    run = tmp_path / "run"
    out = hcl("evolve", "--task", "file", "--data", train, "--test-data", test, "--label", "label",
              "--drop", "id,attack_cat", "--max-luts", 60, "--generations", 6, "--population", 8, "--seed", 1,
              "--out", run, "--quiet")
    assert "test accuracy" in out
    summary = json.loads((run / "run.json").read_text())
    assert summary["splits"]["test"]["rows"] == 400                 # the official test file, whole
    assert summary["splits"]["train"]["rows"] + summary["splits"]["val"]["rows"] == 1600
    net = Network.load(run / "best.json")
    inputs = net.meta["inputs"]
    kinds = {c["name"]: c["kind"] for c in inputs["features"]}
    assert kinds == {"proto": "categorical", "service": "categorical", "duration": "fixed", "rate": "fixed",
                     "packets": "raw", "ttl": "raw"}                 # no id, no answer-giving attack_cat
    assert summary["luts_encoder"] > 0                               # float columns are real comparators now

    info = json.loads(hcl("info", run / "best.json", "--json"))
    assert any(line.startswith("x(") and "'duration', 12-bit fixed point" in line for line in info["inputs"])

    rtl = tmp_path / "rtl"
    hcl("emit-vhdl", run / "best.json", "--out", rtl, "--registers", "layer")
    manifest = json.loads((rtl / "manifest.json").read_text())
    assert manifest["luts_encoder"] == summary["luts_encoder"]
    assert manifest["n_vectors"] == 400
    assert "'duration': 12-bit fixed point" in (rtl / f"{manifest['top']}.vhd").read_text()
    sim = hcl("sim", rtl)
    assert "400 of 400 checked bit-exact, 0 mismatches" in sim

    # hcl predict on the test file agrees with the run's test accuracy, row by row with the vectors.
    preds = tmp_path / "preds.csv"
    said = hcl("predict", run / "best.json", "--data", test, "--out", preds)
    assert f"accuracy {summary['test_accuracy']:.4f}" in said
    rows = list(csv.DictReader(open(preds)))
    vector_classes = [int(line.split("|")[1]) for line in (rtl / "vectors.txt").read_text().splitlines()
                      if not line.startswith("#")]
    assert [int(r["class"]) for r in rows] == vector_classes

    # Golden vectors for the user's own rows (here: the first 50 test rows) simulate bit-exact too.
    own = tmp_path / "own-rtl"
    hcl("emit-vhdl", run / "best.json", "--out", own, "--vectors", test, "--max-vectors", 50)
    assert "50 of 50 checked bit-exact" in hcl("sim", own)


# ---- friction 1: a wide categorical column is named, and the user can keep its top values or drop it ---------------

def _many_categories(tmp_path: Path, n_values: int = 40) -> Path:
    rng = np.random.default_rng(0)
    rows = [[int(rng.integers(0, 50)), f"svc{i % n_values}", ["a", "b"][i % 2]] for i in range(300)]
    return write_rows(tmp_path / "cats.csv", ["x", "service", "y"], rows)


def test_too_many_categories_names_the_column_and_the_ways_out(tmp_path):
    path = _many_categories(tmp_path)
    with pytest.raises(DataError) as e:
        load_task("file", data=path)
    msg = str(e.value)
    assert "'service'" in msg and "--top-categories" in msg and "--drop service" in msg and "--max-categories" in msg
    wide = load_task("file", data=path, max_categories=64)
    assert len(wide.extra["inputs"]["features"][1]["values"]) == 40
    top = load_task("file", data=path, top_categories=5)
    service = top.extra["inputs"]["features"][1]
    assert len(service["values"]) == 5 and service["other"] is True
    assert top.X_train[:, 1].max() == 5                              # code 5 = 'other'
    assert load_task("file", data=path, drop="service").extra["feature_names"] == ["x"]


# ---- friction 2: column selection --------------------------------------------------------------------------------

def test_features_and_drop_choose_the_columns(flows):
    train, _ = flows
    ds = load_task("file", data=train, label="label", drop="id,attack_cat")
    assert ds.extra["feature_names"] == ["proto", "service", "duration", "rate", "packets", "ttl"]
    ds = load_task("file", data=train, label="label", features="duration,5")      # a name and an index
    assert ds.extra["feature_names"] == ["duration", "packets"]
    with pytest.raises(ConfigError, match="'label' is the label column"):
        load_task("file", data=train, label="label", features="duration,label")
    with pytest.raises(DataError, match="no column 'bogus'; the columns are 'id', 'proto'"):
        load_task("file", data=train, label="label", drop="bogus")


def test_an_id_and_a_copy_of_the_answer_are_warned_about(flows):
    train, _ = flows
    warnings = load_task("file", data=train, label="label").extra["warnings"]
    assert len(warnings) == 2
    assert warnings[0].startswith("column 'id': every training row has its own value (an id?); --drop id")
    assert warnings[1].startswith("column 'attack_cat' alone gives the label for 100.0% of the training rows")
    assert load_task("file", data=train, label="label", drop="id,attack_cat").extra["warnings"] == []


def test_categorical_and_numeric_overrides(tmp_path):
    rows = [[i % 4, f"{i % 7}", ["x", "y"][i % 2]] for i in range(60)]
    path = write_rows(tmp_path / "o.csv", ["port", "level", "y"], rows)
    ds = load_task("file", data=path, categorical="port")
    assert ds.categorical == (0,) and ds.extra["inputs"]["features"][0]["kind"] == "categorical"
    rows[9][1] = "high"
    path = write_rows(tmp_path / "o2.csv", ["port", "level", "y"], rows)
    with pytest.raises(DataError, match=r"column 'level', line 11: 'high' is not a number, but --numeric level"):
        load_task("file", data=path, numeric="level")


# ---- frictions 3 and 4: inputs as the hardware sees them ----------------------------------------------------------

def test_each_feature_has_its_own_word_and_rounding_keeps_narrow_features(tmp_path):
    rng = np.random.default_rng(3)
    n = 400
    y = rng.integers(0, 2, n)
    wide = rng.integers(0, 2**40, n) + y * 2**39                    # a 41-bit counter
    narrow = rng.integers(0, 8, n) + 4 * y                          # a 4-bit code
    path = write_rows(tmp_path / "w.csv", ["wide", "narrow", "y"],
                      [[int(a), int(b), int(c)] for a, b, c in zip(wide, narrow, y)])
    ds = load_task("file", data=path)
    assert ds.input_width == (41, 4)
    from hcl.evolve.config import EvolveConfig
    from hcl.evolve.problem import Problem
    config = EvolveConfig.from_dict({"task": "file", "data": str(path), "threshold_bits": 6, "bits": 4})
    problem = Problem(config)
    features = set(problem.encoder.features.tolist())
    assert features == {0, 1}                                        # one shared 41-bit word kept only 'wide'
    assert problem.warnings == []


def test_a_feature_rounded_away_is_a_warning_in_run_json(tmp_path):
    rng = np.random.default_rng(4)
    n = 300
    y = rng.integers(0, 2, n)
    x = 1000 + rng.integers(0, 3, n) + y                            # 10-bit word, all the variation in 2 low bits
    path = write_rows(tmp_path / "r.csv", ["x", "z", "y"],
                      [[int(a), int(b), int(c)] for a, b, c in zip(x, rng.integers(0, 60, n), y)])
    run = tmp_path / "run"
    hcl("evolve", "--task", "file", "--data", path, "--threshold-bits", 2, "--generations", 1, "--population", 4,
        "--out", run, "--quiet")
    warnings = json.loads((run / "run.json").read_text())["warnings"]
    assert len(warnings) == 1 and warnings[0].startswith("feature 'x' varies in the training data but has no "
                                                          "comparator")


def test_float_columns_become_fixed_point_codes_the_network_file_documents(tmp_path):
    rng = np.random.default_rng(5)
    v = rng.normal(0.0, 3.0, 200)
    path = write_rows(tmp_path / "f.csv", ["volts", "y"], [[f"{a:.5f}", int(a > 0)] for a in v])
    ds = load_task("file", data=path, input_bits=8)
    m = ds.extra["inputs"]["features"][0]
    assert m["kind"] == "fixed" and m["bits"] == 8
    codes = np.concatenate([ds.X_train[:, 0], ds.X_val[:, 0], ds.X_test[:, 0]])
    assert codes.min() >= 0 and codes.max() <= 255 and ds.X_train[:, 0].max() >= 128   # the range is used
    # The documented formula reproduces the codes from the raw values.
    from hcl.tasks.columns import ColumnMap
    cmap = ColumnMap("volts", "fixed", bits=8, frac=m["frac"], offset=m["offset"])
    expect = np.clip(np.floor(v * 2.0 ** m["frac"]) - m["offset"], 0, 255)
    np.testing.assert_array_equal(cmap.apply(v, "t", str), expect)
    # Fitted on the training rows only: a test row far outside their range saturates, it does not rescale.
    far = write_rows(tmp_path / "far.csv", ["volts", "y"], [["100.0", 1], ["-100.0", 0]] * 10)
    ds = load_task("file", data=path, test_data=far, input_bits=8)
    assert ds.extra["inputs"]["features"][0] == m and set(ds.X_test[:, 0].tolist()) == {0, 255}
    # A format the user's hardware already has, declared: used as given, not fitted.
    ds = load_task("file", data=path, fixed="volts=10:6:-320")
    assert ds.extra["inputs"]["features"][0] == {"name": "volts", "kind": "fixed", "bits": 10, "frac": 6,
                                                 "offset": -320}
    assert ds.input_width == 10
    with pytest.raises(ConfigError, match="--fixed 'volts=10': expected NAME=BITS:FRAC"):
        load_task("file", data=path, fixed="volts=10")
    with pytest.raises(ConfigError, match="--input-bits: expected an integer 1..32, got 0"):
        load_task("file", data=path, input_bits=0)


# ---- friction 5: the user's own splits ----------------------------------------------------------------------------

def test_split_column_and_fractions(tmp_path):
    rows = [[i % 13, ["a", "b"][i % 2], (["train"] * 6 + ["val", "validation", "test", "TEST"])[i % 10]]
            for i in range(200)]
    path = write_rows(tmp_path / "s.csv", ["x", "y", "part"], rows)
    ds = load_task("file", data=path, label="y", split_column="part")
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (120, 40, 40)
    assert ds.extra["feature_names"] == ["x"]                        # the split column is never a feature
    rows[3][2] = "holdout"
    path = write_rows(tmp_path / "s2.csv", ["x", "y", "part"], rows)
    with pytest.raises(DataError, match="column 'part', line 5: 'holdout' is not a split name"):
        load_task("file", data=path, label="y", split_column="part")
    ds = load_task("file", data=tmp_path / "s.csv", label="y", drop="part", val_fraction=0.25, test_fraction=0.25)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (100, 50, 50)


def test_test_file_is_the_test_split(flows):
    train, test = flows
    ds = load_task("file", data=train, test_data=test, label="label", drop="id,attack_cat")
    assert len(ds.y_test) == 400 and len(ds.y_train) + len(ds.y_val) == 1600
    # The test rows are the test file's, in its order.
    alone = load_task("file", data=test, test_data=test, label="label", drop="id,attack_cat")
    np.testing.assert_array_equal(ds.y_test, alone.y_test)


# ---- friction 6: a parsed file is cached by content ---------------------------------------------------------------

def test_parsed_table_is_cached_by_content(tmp_path, monkeypatch):
    from hcl.tasks import cache
    path = _many_categories(tmp_path)
    first = load_task("file", data=path, drop="service")

    def no_parse(path):
        raise AssertionError("parsed again")
    monkeypatch.setattr(cache, "read_table", no_parse)
    second = load_task("file", data=path, drop="service")
    np.testing.assert_array_equal(first.X_train, second.X_train)
    with open(path, "a") as f:
        f.write("7,svc1,a\n")                                        # a changed file is parsed again
    with pytest.raises(AssertionError, match="parsed again"):
        load_task("file", data=path, drop="service")


# ---- friction 7: --time-limit covers loading ----------------------------------------------------------------------

def test_time_limit_counts_loading(tmp_path, monkeypatch):
    import time

    from hcl.evolve import EvolveConfig, evolve
    from hcl.tasks import register

    @register("slow-tiny")
    def _slow(seed=0, data=None, **options):
        time.sleep(1.5)
        return make_tiny(seed)
    result = evolve(EvolveConfig.from_dict({"task": "slow-tiny", "generations": 1000, "population": 4,
                                            "time_limit": 1.0}), progress=False)
    assert result.stopped == "time-limit" and result.generations_done == 0


# ---- friction 8 and bad input: hcl predict ------------------------------------------------------------------------

def test_predict_errors_are_one_line(flows, tmp_path):
    train, test = flows
    run = tmp_path / "run"
    hcl("evolve", "--task", "file", "--data", train, "--test-data", test, "--drop", "id,attack_cat",
        "--generations", 2, "--population", 4, "--out", run, "--quiet")
    rows = list(csv.reader(open(test)))
    header = rows[0]
    no_rate = [[c for c, h in zip(r, header) if h != "rate"] for r in rows]
    p = write_rows(tmp_path / "no_rate.csv", no_rate[0], no_rate[1:])
    assert "no column 'rate'" in hcl_error("predict", run / "best.json", "--data", p)
    bad = [r[:] for r in rows]
    bad[5][header.index("proto")] = "gre"
    p = write_rows(tmp_path / "gre.csv", bad[0], bad[1:])
    assert "column 'proto', line 6: value 'gre' is not one of the 4" in hcl_error("predict", run / "best.json",
                                                                                  "--data", p)
    bad = [r[:] for r in rows]
    bad[7][header.index("label")] = "maybe"
    p = write_rows(tmp_path / "maybe.csv", bad[0], bad[1:])
    assert "label 'maybe' is not one of the network's classes" in hcl_error("predict", run / "best.json",
                                                                            "--data", p)
    # Without the label column: classes and scores, no accuracy.
    unlabeled = [[c for c, h in zip(r, header) if h != "label"] for r in rows]
    p = write_rows(tmp_path / "unlabeled.csv", unlabeled[0], unlabeled[1:])
    out = json.loads(hcl("predict", run / "best.json", "--data", p, "--json"))
    assert out["rows"] == 400 and out["accuracy"] is None


@pytest.mark.parametrize("flags, says", [
    (["--input-bits", "0"], "--input-bits: expected an integer 1..32, got 0"),
    (["--val-fraction", "1.5"], "--val-fraction: expected a number between 0 and 1, got 1.5"),
    (["--fixed", "duration"], "--fixed 'duration': expected NAME=BITS:FRAC"),
    (["--drop", "nosuch"], "--drop: no column 'nosuch'; the columns are 'id', 'proto'"),
    (["--split-column", "proto"], "column 'proto', line 2: 'udp' is not a split name"),
    (["--test-data", "missing.csv"], "missing.csv: no such file"),
    (["--val-data", "x.csv"], "--val-data needs --test-data too"),
])
def test_bad_table_options_are_one_line(flows, tmp_path, flags, says):
    train, _ = flows
    line = hcl_error("evolve", "--task", "file", "--data", train, *flags, "--generations", 1, "--out", tmp_path / "r",
                     "--quiet")
    assert says in line
    assert not (tmp_path / "r" / "best.json").exists()
