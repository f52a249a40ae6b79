"""hcl.LUTClassifier: scikit-learn's own estimator checks, Pipeline / GridSearchCV / pickle, the DataFrame path equal
to the CSV path, the CLI and the API giving the same network, one-line errors on bad input, the hardware methods."""

from __future__ import annotations

import pickle
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import hcl
from conftest import needs_ghdl
from hcl.cli import main
from hcl.errors import ConfigError, DataError, HclError
from hcl.estimator import InputError, LUTClassifier, ParameterError
from hcl.evolve.options import ESTIMATOR_OPTIONS, OPTIONS
from hcl.network import Network

# pandas is in the test extra (make install); a venv set up before it was added skips these tests, saying why.
pd = pytest.importorskip("pandas", reason="pandas is not installed: make install (the test extra) installs it")

# A small budget keeps the checks fast (each fit is a whole search); the estimator's defaults are the CLI's.
SMALL = dict(generations=1, population=4, layers=[8], group_size=2, bits=3)


@parametrize_with_checks([LUTClassifier(**SMALL)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def frame(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Integers, floats and text: each column kind of the own-data path; the label depends on all three."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 3, size=n)
    X = pd.DataFrame({
        "count": rng.integers(0, 50, size=n) + 15 * kind,
        "volts": rng.normal(size=n) + 0.8 * (kind == 1),
        "proto": np.where((kind == 2) ^ (rng.random(n) < 0.2), "udp", np.where(rng.random(n) < 0.5, "tcp", "icmp")),
    })
    return X, pd.Series(np.array(["dos", "normal", "scan"])[kind], name="kind")


def without_meta(net: Network) -> dict:
    d = net.to_dict()
    d.pop("meta")
    return d


def test_parameters_are_the_options_table_and_stored_untouched():
    params = LUTClassifier().get_params()
    assert set(params) == {o.param_name for o in ESTIMATOR_OPTIONS} | {"validation_fraction", "verbose"}
    assert {o.name for o in OPTIONS if o.estimator} >= {"k", "max_luts", "max_depth", "time_limit", "trainer"}
    assert params["k"] == 6 and params["random_state"] == 0
    bad = LUTClassifier(k=9, layers=(8,))                    # stored as given; checked by fit
    assert bad.k == 9 and bad.layers == (8,)
    with pytest.raises(ParameterError, match=r"^k: must be 2\.\.6, got 9$"):
        bad.fit(*frame(60))
    with pytest.raises(TypeError, match="unexpected keyword argument 'luts'"):
        LUTClassifier(luts=6)


def test_dataframe_equals_the_csv_path_with_an_eval_set(tmp_path):
    X, y = frame()
    Xv, yv = frame(90, seed=1)
    Xt, yt = frame(60, seed=2)
    pd.concat([X, y], axis=1).to_csv(tmp_path / "train.csv", index=False)
    pd.concat([Xv, yv], axis=1).to_csv(tmp_path / "val.csv", index=False)
    r = CliRunner().invoke(main, ["evolve", "--task", "file", "--data", str(tmp_path / "train.csv"), "--label",
                                  "kind", "--val-data", str(tmp_path / "val.csv"), "--test-data",
                                  str(tmp_path / "val.csv"), "--seed", "3", "--generations", "2", "--population",
                                  "4", "--layers", "8", "--quiet", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    cli = Network.load(tmp_path / "run" / "best.json")
    clf = LUTClassifier(random_state=3, generations=2, population=4, layers=[8]).fit(X, y, eval_set=(Xv, yv))
    assert without_meta(clf.network_) == without_meta(cli)
    assert clf.network_.meta["inputs"] == cli.meta["inputs"]
    assert [c["kind"] for c in cli.meta["inputs"]["features"]] == ["raw", "fixed", "categorical"]
    assert clf.network_.meta["val_accuracy"] == cli.meta["val_accuracy"]
    assert "test_accuracy" not in clf.network_.meta                 # the estimator holds no test rows
    # The run folder loads as a fitted estimator that predicts as the one fitted in Python.
    loaded = hcl.load(tmp_path / "run")
    assert list(loaded.feature_names_in_) == ["count", "volts", "proto"]
    assert np.array_equal(loaded.predict(Xt), clf.predict(Xt))
    assert clf.score(Xt, yt) > 0.6


def test_dataframe_equals_the_csv_path_with_a_validation_fraction(tmp_path):
    X, y = frame()
    pd.concat([X, y], axis=1).to_csv(tmp_path / "rows.csv", index=False)
    csv = str(tmp_path / "rows.csv")
    r = CliRunner().invoke(main, ["evolve", "--task", "file", "--data", csv, "--test-data", csv, "--val-fraction",
                                  "0.25", "--seed", "5", "--generations", "2", "--population", "4", "--quiet",
                                  "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    clf = LUTClassifier(random_state=5, generations=2, population=4, validation_fraction=0.25).fit(X, y)
    assert without_meta(clf.network_) == without_meta(Network.load(tmp_path / "run" / "best.json"))


def test_the_cli_and_the_api_give_the_same_network_for_the_same_seed(tmp_path):
    from hcl.evolve import EvolveConfig, evolve
    r = CliRunner().invoke(main, ["evolve", "--task", "sipm", "--seed", "7", "--generations", "2", "--population",
                                  "4", "--layers", "8", "--quiet", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    api = evolve(EvolveConfig(task="sipm", seed=7, generations=2, population=4, layers=[8]), progress=False)
    assert without_meta(api.best) == without_meta(Network.load(tmp_path / "run" / "best.json"))
    other = evolve(EvolveConfig(task="sipm", seed=8, generations=2, population=4, layers=[8]), progress=False)
    assert without_meta(other.best) != without_meta(api.best)      # the comparison can tell networks apart


def test_pipeline_grid_search_and_pickle():
    X, y = frame(150)
    X = X[["count", "volts"]].to_numpy(dtype=float)
    pipe = make_pipeline(StandardScaler(), LUTClassifier(**SMALL))
    grid = GridSearchCV(pipe, {"lutclassifier__k": [4, 6]}, cv=2).fit(X, y)
    assert grid.best_params_["lutclassifier__k"] in (4, 6) and grid.best_estimator_[-1].network_.k == \
        grid.best_params_["lutclassifier__k"]
    clf = LUTClassifier(**SMALL).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(again.predict(X), clf.predict(X))
    assert np.array_equal(again.decision_function(X), clf.decision_function(X))


def test_binary_decision_function_agrees_with_predict_on_ties():
    X, y = frame(150)
    y = (y == "normal").map({True: "yes", False: "no"})
    clf = LUTClassifier(**SMALL).fit(X, y)
    d = clf.decision_function(X)
    assert d.shape == (len(X),)
    assert np.array_equal(np.where(d > 0, clf.classes_[1], clf.classes_[0]), clf.predict(X))


@pytest.mark.parametrize("change, needle", [
    (lambda X, y: (X.iloc[:, :2], y), "Feature names seen at fit time, yet now missing: - proto"),
    (lambda X, y: (X.to_numpy()[:, :2], y), "X has 2 features, but LUTClassifier is expecting 3 features"),
    (lambda X, y: (X["count"].to_numpy(), y), "Expected 2D array, got 1D array instead"),
    (lambda X, y: (X.assign(volts=np.where(np.arange(len(X)) == 4, np.nan, X["volts"])), y), "NaN"),
    (lambda X, y: (X.assign(proto="sctp"), y), "value 'sctp' is not one of the 3"),
    (lambda X, y: (X.rename(columns={"volts": "amps"}), y), "feature names should match"),
])
def test_bad_input_at_predict_is_a_one_line_data_error(change, needle):
    X, y = frame(120)
    clf = LUTClassifier(**SMALL).fit(X, y)
    bad, _ = change(X.copy(), y)
    with pytest.raises(InputError) as e:
        clf.predict(bad)
    assert isinstance(e.value, DataError) and isinstance(e.value, ValueError)
    assert needle in str(e.value) and "\n" not in str(e.value), str(e.value)


@pytest.mark.parametrize("change, needle", [
    (lambda X, y: (X, pd.Series(["dos"] * len(y))), "y has 1 class ('dos')"),
    (lambda X, y: (X.assign(count=X["count"].astype(float).where(X.index != 3)), y), "column 'count', row 3: nan"),
    (lambda X, y: (X.iloc[:10], y), "X has 10 rows but y has 120 labels"),
    (lambda X, y: (X, y.map({"dos": 0.5, "normal": 1.5, "scan": 2.25})), "Unknown label type"),
])
def test_bad_input_at_fit_is_a_one_line_data_error(change, needle):
    X, y = frame(120)
    bad_X, bad_y = change(X.copy(), y.copy())
    with pytest.raises(InputError) as e:
        LUTClassifier(**SMALL).fit(bad_X, bad_y)
    assert needle in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_errors_are_the_kinds_the_cli_prints():
    assert issubclass(InputError, DataError) and issubclass(ParameterError, ConfigError)
    with pytest.raises(HclError, match="LUTClassifier instance is not fitted yet"):
        LUTClassifier().predict(np.zeros((2, 3)))
    with pytest.raises(ParameterError, match="validation_fraction"):
        LUTClassifier(validation_fraction=1.5).fit(*frame(60))
    with pytest.raises(ParameterError, match="^trainer: 'adam' unknown: use one of none, efd$"):
        LUTClassifier(trainer="adam").fit(*frame(60))


def test_load_reads_a_builtin_task_network_and_predicts_its_raw_words():
    from pathlib import Path

    from hcl.emit import golden
    from hcl.tasks import load_task
    path = Path(__file__).parents[1] / "examples" / "sipm_k6.json"
    clf = hcl.load(path)
    X, y = load_task("sipm", seed=int(clf.network_.meta.get("seed", 0))).split("test")
    assert np.array_equal(clf.predict(X[:200]), clf.classes_[golden(clf.network_, X[:200])[0]])
    assert clf.score(X, clf.classes_[y]) > 0.8


@needs_ghdl
@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys is not installed (make install): no proof, no synthesis")
def test_hardware_methods_emit_simulate_prove_and_synthesize(tmp_path):
    X, y = frame(150)
    clf = LUTClassifier(**SMALL).fit(X, y)
    design = clf.to_vhdl(tmp_path / "rtl", X.iloc[:40], registers="layer")
    assert design.manifest["n_vectors"] == 40 and design.manifest["input_columns"]
    sim = clf.simulate(tmp_path / "rtl")
    assert sim.passed and sim.vectors == 40 and sim.mismatches == 0
    proof = clf.verify(tmp_path / "rtl", timeout=300)
    assert proof.proved, proof.lines()
    synth = clf.synth(tmp_path / "rtl", target="xilinx")
    assert synth.luts > 0 and synth.target == "xilinx" and any("LUT" in line for line in synth.lines())
    clf.to_vhdl(tmp_path / "random")                       # no rows: random words chosen for table coverage
    assert clf.simulate(tmp_path / "random").vectors > 1
    other = LUTClassifier(**{**SMALL, "random_state": 1}).fit(X, y)
    with pytest.raises(ConfigError, match="emitted from another network"):
        other.simulate(tmp_path / "rtl")
