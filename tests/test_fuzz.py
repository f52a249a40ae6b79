"""Fuzz: thousands of mutated network files, configs, CSVs and manifests through the readers the commands use.

Every outcome must be success or a one-line HclError (exit 2 from the CLI), never another exception; and a value
outside the documented format (a wrong JSON type, an index out of range, a malformed table, a missing value) must
be refused, not read. Seeded: the same cases every run. The counts are printed (pytest -s) for the closing note.
"""

from __future__ import annotations

import copy
import json
import random

import numpy as np
import pytest
from click.testing import CliRunner

from hcl.cli import main
from hcl.errors import HclError

N_NETWORK, N_EMIT, N_CONFIG, N_CSV, N_MANIFEST, N_VECTORS, N_PREDICT = 1500, 60, 1200, 300, 400, 300, 150


def _leaves(d, path=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(d, list) and d:
        for i, v in enumerate(d):
            yield from _leaves(v, (*path, i))
    else:
        yield path, d


def _set(d, path, value):
    for p in path[:-1]:
        d = d[p]
    d[path[-1]] = value


def _delete(d, path):
    for p in path[:-1]:
        d = d[p]
    del d[path[-1]]


def _bad_values(path, value) -> list:
    """Values outside the documented format (hcl.schemas) for the leaf at `path` of a network file."""
    name = next((p for p in reversed(path) if isinstance(p, str)), "")
    threshold = name == "bits" and path[-1] == 2        # a number; an integer here, as the inputs are integers
    common = [[], {}, [1], {"a": 1}] + ([] if name == "input_width" else [None])
    if isinstance(value, bool):
        return [*common, "yes", "true", 1, 0]
    if isinstance(value, int):
        out = [*common, 1.5, str(value), True, False, 2**64, value + 0.5]
        if not threshold:
            out += [-1, -(2**40), float(value)]
        if name in ("wiring", "groups") or (name == "bits" and path[-1] == 0):
            out += [10**6]                              # beyond any layer or feature of this network
        return out
    if isinstance(value, str):
        if name == "tables":
            return [*common, 5, "0x" + value[2:], value.upper() if value.upper() != value else "G" + value[1:],
                    " " + value[1:], value[:-1], value + "0", "+" + value[1:], "\u0661" + value[1:], ""]
        if name in ("format", "kind"):
            return [*common, 5, value + "x", value.upper()]
        if name == "bits":                               # the comparison
            return [*common, 5, ">", "<=", " >="]
        return [*common, 5, True, 1.5]
    return []


def _ok_or_one_line(result, what):
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        f"{what}: {result.exception!r}\n{result.output}"
    assert result.exit_code in (0, 2), f"{what}: exit {result.exit_code}\n{result.output}"
    assert "Traceback" not in result.output, what
    if result.exit_code == 2:
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), f"{what}: {result.output!r}"


@pytest.fixture(scope="module")
def network_doc(tmp_path_factory):
    from tests.conftest import make_tiny
    from hcl.encode import Encoder
    from hcl.network import random_network
    tiny = make_tiny()
    enc = Encoder.fit(tiny.X_train, bits=2, input_width=8)
    net = random_network(np.random.default_rng(0), 4, enc.n_bits, [6, 3], 3, ["a", "b", "c"], task="tiny")
    net.encoder = enc.to_dict()
    net.meta = {"seed": 0, "task_options": {}, "data": None}
    return net.to_dict()


def test_fuzz_network_files(tmp_path, network_doc):
    rng = random.Random(20261203)
    runner = CliRunner()
    leaves = list(_leaves(network_doc))
    path = tmp_path / "n.json"
    counts = {"invalid refused": 0, "structural ok": 0, "structural refused": 0, "valid edit accepted": 0}
    text0 = json.dumps(network_doc)
    for case in range(N_NETWORK):
        doc = copy.deepcopy(network_doc)
        kind = rng.random()
        leaf, value = rng.choice(leaves)
        if kind < 0.6:
            bad = _bad_values(leaf, value)
            if not bad:
                continue
            _set(doc, leaf, rng.choice(bad))
            text, must_refuse = json.dumps(doc), True
        elif kind < 0.7:                                 # a value still inside the format: must be read
            if "wiring" in leaf:
                layer = leaf[1]
                bound = doc["n_inputs"] if layer == 0 else doc["layer_sizes"][layer - 1]
                _set(doc, leaf, rng.randrange(bound))
            elif "tables" in leaf:
                _set(doc, leaf, "".join(rng.choice("0123456789abcdef") for _ in value))
            else:
                continue
            text, must_refuse = json.dumps(doc), False
        elif kind < 0.85:                                # structure: a key or an element removed
            if len(leaf) > 1 and rng.random() < 0.5:
                leaf = leaf[:-1]
            _delete(doc, leaf)
            text, must_refuse = json.dumps(doc), None
        else:                                            # text: truncated, or one character replaced
            at = rng.randrange(len(text0))
            text = text0[:at] if rng.random() < 0.5 else text0[:at] + rng.choice('{}[]",:0a\\-e') + text0[at + 1:]
            must_refuse = None
        path.write_text(text)
        result = runner.invoke(main, ["info", str(path)])
        what = f"case {case}: {leaf} ({text[:80]!r})"
        _ok_or_one_line(result, what)
        if must_refuse is True:
            assert result.exit_code == 2, f"{what}: accepted a value outside the format"
            counts["invalid refused"] += 1
        elif must_refuse is False:
            assert result.exit_code == 0, f"{what}: refused a valid edit: {result.output}"
            counts["valid edit accepted"] += 1
        else:
            counts["structural ok" if result.exit_code == 0 else "structural refused"] += 1
    print("network files:", counts)
    assert counts["invalid refused"] > 500 and counts["valid edit accepted"] > 50


def test_fuzz_emit_vhdl(tmp_path, network_doc):
    rng = random.Random(7)
    runner = CliRunner()
    leaves = list(_leaves(network_doc))
    path = tmp_path / "n.json"
    refused = 0
    for case in range(N_EMIT):
        doc = copy.deepcopy(network_doc)
        leaf, value = rng.choice(leaves)
        bad = _bad_values(leaf, value)
        if not bad:
            continue
        _set(doc, leaf, rng.choice(bad))
        path.write_text(json.dumps(doc))
        out = tmp_path / f"rtl{case}"
        result = runner.invoke(main, ["emit-vhdl", str(path), "--out", str(out), "--no-vectors"])
        _ok_or_one_line(result, f"case {case}: {leaf}")
        assert result.exit_code == 2 and not out.exists(), f"case {case}: {leaf}: emitted from a bad file"
        refused += 1
    print("emit-vhdl:", {"invalid refused, nothing written": refused})


CONFIG_BAD = {
    int: [2.5, "6", True, [], {}, float("nan")],
    float: ["5", True, [], float("nan"), float("inf")],
    str: [5, True, [], 1.5],
}


def test_fuzz_configs(tmp_path):
    import dataclasses
    import typing

    from hcl.evolve.config import EvolveConfig, load_toml
    rng = random.Random(11)
    base = EvolveConfig(task="tiny", generations=1, population=4).to_dict()
    hints = typing.get_type_hints(EvolveConfig)
    fields = [f.name for f in dataclasses.fields(EvolveConfig)]
    counts = {"invalid refused": 0, "other ok": 0, "other refused": 0}
    path = tmp_path / "c.toml"
    import tomli_w
    for case in range(N_CONFIG):
        d = {k: v for k, v in base.items() if v is not None}
        key = rng.choice(fields)
        hint = hints[key]
        plain = next((t for t in (bool, int, float, str) if t is hint or t in typing.get_args(hint)), None)
        kind = rng.random()
        must_refuse = None
        if kind < 0.7 and plain in CONFIG_BAD:
            d[key] = rng.choice(CONFIG_BAD[plain])
            must_refuse = True
        elif kind < 0.8:
            d[rng.choice(["populaton", "k-", "evolve", "seeds"])] = 1
            must_refuse = True
        elif kind < 0.9 and plain in (int, float):
            d[key] = rng.choice([-1, 0, 10**30, -(10**30)])
        else:
            d[key] = rng.choice([None, "x", 3, [1, 2], {"a": 1}])
        d = {k: v for k, v in d.items() if v is not None}
        text = tomli_w.dumps({"evolve": d})
        if rng.random() < 0.1:                          # damaged text
            at = rng.randrange(len(text))
            text = text[:at] + rng.choice('=["\\\n') + text[at + 1:]
            must_refuse = None
        path.write_text(text)
        try:
            EvolveConfig.from_dict(load_toml(path), where=str(path)).validate()
        except HclError as e:
            assert "\n" not in str(e), f"case {case}: {key}: {e!r}"
            counts["invalid refused" if must_refuse else "other refused"] += 1
            continue
        except Exception as e:                           # noqa: BLE001 -- the bug this test looks for
            pytest.fail(f"case {case}: {key} = {d.get(key)!r}: {e.__class__.__name__}: {e}\n{text}")
        assert not must_refuse, f"case {case}: {key} = {d.get(key)!r} accepted\n{text}"
        counts["other ok"] += 1
    print("configs:", counts)
    assert counts["invalid refused"] > 500


def test_fuzz_configs_through_a_tiny_evolve(tmp_path):
    """A few valid configs end to end (evolve, tiny task): exit 0 and a loadable best.json."""
    runner = CliRunner()
    for case, extra in enumerate(["", "bits = 3\n", "layers = [5]\nrefit = \"vote\"\n"]):
        toml = tmp_path / f"c{case}.toml"
        toml.write_text(f"[evolve]\ntask = \"tiny\"\ngenerations = 1\npopulation = 4\nseed = {case}\n{extra}")
        result = runner.invoke(main, ["evolve", "--config", str(toml), "--quiet", "--out", str(tmp_path / f"r{case}")])
        _ok_or_one_line(result, f"tiny evolve {case}")
        assert result.exit_code == 0, result.output
        result = runner.invoke(main, ["info", str(tmp_path / f"r{case}" / "best.json")])
        assert result.exit_code == 0, result.output


CELLS = ["1", "-7", "0", "3.5", "1e3", "red", "blue", "", "NaN", "NA", "?", "inf", '"a,b"', '"x""y"', "  9 ",
         "\u00e9t\u00e9", '"multi\nline"', "0x10", "+4", "1_000"]
MISSING = {"", "NaN", "NA", "?", "inf"}


def test_fuzz_csv_files(tmp_path):
    from hcl.tasks import load_task
    rng = random.Random(5)
    counts = {"ok": 0, "refused": 0, "missing value refused": 0}
    path = tmp_path / "d.csv"
    for case in range(N_CSV):
        n_cols = rng.randint(2, 5)
        delimiter = rng.choice([",", ";", "\t"])
        header = delimiter.join(f"c{j}" for j in range(n_cols - 1)) + delimiter + "label"
        pool = CELLS[:5] if rng.random() < 0.5 else CELLS
        rows, has_missing = [], False
        for i in range(30):
            cells = [rng.choice(pool) for _ in range(n_cols - 1)] + [rng.choice(["a", "b"])]
            if rng.random() < 0.02:
                cells = cells[:-1]                       # ragged
            has_missing |= any(c in MISSING for c in cells[:-1]) and len(cells) == n_cols
            rows.append(delimiter.join(cells))
        data = (header + "\n" + "\n".join(rows) + "\n").encode()
        if rng.random() < 0.05:
            at = rng.randrange(len(data))
            data = data[:at] + bytes([rng.randrange(128, 256)]) + data[at + 1:]
        path.write_bytes(data)
        try:
            load_task("file", data=path, label="label")
        except HclError as e:
            assert "\n" not in str(e), f"case {case}: {e!r}"
            counts["missing value refused" if has_missing else "refused"] += 1
            continue
        except Exception as e:                           # noqa: BLE001
            pytest.fail(f"case {case}: {e.__class__.__name__}: {e}\n{data[:300]!r}")
        assert not has_missing, f"case {case}: a missing value was read\n{data[:300]!r}"
        counts["ok"] += 1
    print("CSV files:", counts)
    assert counts["ok"] > 20 and counts["missing value refused"] > 20


def test_fuzz_manifests(tmp_path):
    from hcl.emit import emit
    from hcl.simulate import read_manifest
    design = tmp_path / "rtl"
    emit(_example(), design, max_vectors=5)
    manifest0 = json.loads((design / "manifest.json").read_text())
    sim_fields = ("n_features", "n_classes", "score_width", "input_width", "ports", "delay_model")
    leaves = [leaf for leaf in _leaves(manifest0) if leaf[0][0] in ("top", "files", "generics", "latency_cycles",
                                                                      "vectors", *sim_fields)
              and leaf[0][-1] not in ("about", "segment_levels") and not isinstance(leaf[0][-1], int)]
    rng = random.Random(3)
    counts = {"invalid refused": 0, "other ok": 0, "other refused": 0}
    for case in range(N_MANIFEST):
        m = copy.deepcopy(manifest0)
        leaf, value = rng.choice(leaves)
        kind = rng.random()
        if kind < 0.7:
            if leaf[0] == "generics" and isinstance(value, (int, str)) and not isinstance(value, bool):
                bad = [None, [], {}, 1.5]
            elif leaf[0] == "latency_cycles":
                bad = [None, -1, "abc", 1.5, True, []]
            elif leaf[0] in ("files", "top", "vectors"):
                bad = [None, 5, [5], {}, "no/such/file.vhd" if leaf[0] != "top" else "1bad name"]
            elif leaf[0] == "ports":
                bad = [None, 5, [], "1bad", "a b"]
            elif leaf[0] == "delay_model":
                bad = [None, "abc", -1, [], True]
            elif leaf[0] in sim_fields:
                bad = [None, "abc", 1.5, True, [], -1, 0, 10**9]
            else:
                bad = []
            if not bad:
                continue
            _set(m, leaf, rng.choice(bad))
            text, must_refuse = json.dumps(m), True
        elif kind < 0.85:
            _delete(m, leaf[:1])
            text, must_refuse = json.dumps(m), None
        else:
            t0 = json.dumps(manifest0)
            at = rng.randrange(len(t0))
            text, must_refuse = t0[:at] + rng.choice('{}[]",:\\') + t0[at + 1:], None
        (design / "manifest.json").write_text(text)
        try:
            read_manifest(design)
        except HclError as e:
            assert "\n" not in str(e)
            counts["invalid refused" if must_refuse else "other refused"] += 1
            continue
        except Exception as e:                           # noqa: BLE001
            pytest.fail(f"case {case}: {leaf}: {e.__class__.__name__}: {e}\n{text[:200]}")
        assert not must_refuse, f"case {case}: {leaf} accepted: {text[:200]}"
        counts["other ok"] += 1
    print("manifests:", counts)
    assert counts["invalid refused"] > 150


def _example():
    from pathlib import Path
    return Path(__file__).parents[1] / "examples" / "sipm_k6.json"


def test_fuzz_vector_files(tmp_path):
    """Hand-edited vectors.txt lines: `hcl sim` reads them (hcl.simulate.read_vectors) before GHDL runs."""
    from hcl.emit import emit
    from hcl.simulate import read_manifest
    design = tmp_path / "rtl"
    emit(_example(), design, max_vectors=8)
    lines0 = (design / "vectors.txt").read_text().splitlines()
    data = [i for i, line in enumerate(lines0) if line and not line.startswith("#")]
    rng = random.Random(11)
    counts = {"invalid refused": 0, "other ok": 0, "other refused": 0}
    for case in range(N_VECTORS):
        lines = list(lines0)
        i = rng.choice(data)
        x, cls, scores = lines[i].split("|")
        kind = rng.randrange(6)
        must_refuse = True
        if kind == 0:
            lines[i] = rng.choice(["garbage", "1 2 3", "|||", "1 | 2", "x | 0 | 1 2", "\x00\x01"])
        elif kind == 1:
            lines[i] = f"{x} 7|{cls}|{scores}"                       # one input too many
        elif kind == 2:
            lines[i] = f"{x}|{cls}|{scores} 1"                       # one score too many
        elif kind == 3:
            lines[i] = f"{x.replace(x.split()[0], str(rng.choice([2**70, -2**70])), 1)}|{cls}|{scores}"
        elif kind == 4:
            lines[i] = f"{x}|{rng.choice(['-1', '99', '1.5', ''])}|{scores}"
        else:
            at = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:at] + rng.choice(" |#-0x,") + lines[i][at + 1:]
            must_refuse = None
        (design / "vectors.txt").write_text("\n".join(lines) + "\n")
        try:
            read_manifest(design)
        except HclError as e:
            assert "\n" not in str(e) and "vectors.txt" in str(e), str(e)
            counts["invalid refused" if must_refuse else "other refused"] += 1
            continue
        except Exception as e:                           # noqa: BLE001
            pytest.fail(f"case {case}: {e.__class__.__name__}: {e}\n{lines[i][:200]!r}")
        assert not must_refuse, f"case {case}: accepted {lines[i][:200]!r}"
        counts["other ok"] += 1
    print("vector files:", counts)
    assert counts["invalid refused"] > 200


def test_fuzz_predict(tmp_path):
    """Own-data rows through `hcl predict` of a network with an input map (raw, categorical, fixed-point)."""
    from hcl.encode import Encoder
    from hcl.network import random_network
    from hcl.tasks.columns import ColumnMap, InputMap
    rng = random.Random(7)
    maps = (ColumnMap("n", "raw", bits=6), ColumnMap("c", "categorical", ("blue", "red"), other=False),
            ColumnMap("f", "fixed", bits=4, frac=2, offset=0))
    X = np.array([[i % 64, i % 2, i % 16] for i in range(100)])
    enc = Encoder.fit(X, bits=2, input_width=[6, 1, 4])
    net = random_network(np.random.default_rng(1), 4, enc.n_bits, [6], 2, ["no", "yes"])
    net.encoder = enc.to_dict()
    net.meta = {"inputs": InputMap("label", maps).to_dict()}
    net.save(tmp_path / "net.json")
    pool = {"n": ["0", "63", "64", "-1", "2.5", "x", "", "1e2"], "c": ["red", "blue", "green", "", "1"],
            "f": ["0.25", "3.9", "-2", "1e9", "nan", "abc", ""], "label": ["yes", "no", "maybe", ""]}
    counts = {"ok": 0, "refused": 0}
    path = tmp_path / "rows.csv"
    for case in range(N_PREDICT):
        cols = ["n", "c", "f", "label"]
        rng.shuffle(cols)
        if rng.random() < 0.1:
            cols.remove(rng.choice(cols))
        rows = [",".join(rng.choice(pool[c][:2] if rng.random() < 0.9 else pool[c]) for c in cols)
                for _ in range(rng.randint(1, 6))]
        path.write_text(",".join(cols) + "\n" + "\n".join(rows) + "\n")
        r = CliRunner().invoke(main, ["predict", str(tmp_path / "net.json"), "--data", str(path), "--json"])
        _ok_or_one_line(r, f"case {case}: {path.read_text()!r}")
        counts["ok" if r.exit_code == 0 else "refused"] += 1
    print("predict:", counts)
    assert counts["ok"] > 20 and counts["refused"] > 20
