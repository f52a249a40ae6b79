"""The network file format: round trip, and a one-line error naming the field for every kind of bad file."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from hcl.cli import main
from hcl.errors import NetworkFormatError
from hcl.network import Network, random_network


@pytest.fixture
def net():
    return random_network(np.random.default_rng(3), 6, 10, [8, 4], 2, ["a", "b"], task="tiny")


def test_round_trip_is_exact(net, tmp_path):
    path = tmp_path / "net.json"
    net.save(path)
    back = Network.load(path)
    assert back.layer_sizes == net.layer_sizes and back.groups == net.groups and back.classes == net.classes
    for a, b in zip(net.wiring + net.tables, back.wiring + back.tables):
        assert np.array_equal(a, b)
    assert back.to_dict() == net.to_dict()


@pytest.mark.parametrize("k,digits", [(2, 1), (3, 2), (4, 4), (5, 8), (6, 16)])
def test_tables_are_hex_of_2_pow_k_bits(k, digits):
    n = random_network(np.random.default_rng(k), k, 5, [3, 2], 2)
    assert all(len(t) == digits for t in n.to_dict()["layers"][0]["tables"])


def _broken(net, edit):
    d = net.to_dict()
    edit(d)
    return d


CASES = [
    (lambda d: d.update(version=99), "version"),
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d.pop("groups"), "groups: missing"),
    (lambda d: d["layers"][0]["tables"].__setitem__(0, "abc"), "layers[0].tables[0]"),
    (lambda d: d["layers"][0]["tables"].__setitem__(1, "zz" * 8), "lowercase hex digits"),
    (lambda d: d["layers"][0]["tables"].__setitem__(1, "0x" + "f" * 14), "lowercase hex digits"),
    (lambda d: d["layers"][0]["tables"].__setitem__(1, "+" + "f" * 15), "lowercase hex digits"),
    (lambda d: d["layers"][0]["tables"].__setitem__(1, " " + "f" * 14 + " "), "lowercase hex digits"),
    (lambda d: d["layers"][0]["tables"].__setitem__(1, "ff_ff" + "f" * 11), "lowercase hex digits"),
    (lambda d: d["layers"][0]["tables"].__setitem__(1, "\u0661" * 16), "lowercase hex digits"),
    (lambda d: d["layers"][0]["wiring"][0].__setitem__(0, 2**32 + 3), "wiring[0][0]: expected an integer 0..2147483647"),
    (lambda d: d["layers"][0]["wiring"][0].__setitem__(0, 1.5), "expected an integer"),
    (lambda d: d["layers"][0]["wiring"][0].__setitem__(0, "3"), "expected an integer"),
    (lambda d: d["layers"][0]["wiring"][0].__setitem__(0, True), "expected an integer"),
    (lambda d: d.update(meta=[1]), "meta: expected an object"),
    (lambda d: d["meta"].update(seed=1.5), "meta.seed: expected an integer"),
    (lambda d: d["meta"].update(seed=-1), "meta.seed: expected an integer 0.."),
    (lambda d: d["layers"][0]["wiring"][0].__setitem__(0, 3.0), "expected an integer"),
    (lambda d: d.update(classes=[1, 2]), "classes[0]: expected a string"),
    (lambda d: d.update(n_inputs=0), "n_inputs: expected an integer 1.."),
    (lambda d: d.update(layers={}), "layers: expected a non-empty list"),
    (lambda d: d.update(encoder=[]), "encoder: expected an object or null"),
    (lambda d: d.update(groups=[[0, 1, 2, 3], []]), "at least one LUT"),
    (lambda d: d["layers"][1]["wiring"][0].__setitem__(0, 8), "layers[1].wiring: index 8 out of range"),
    (lambda d: d["layers"][0]["wiring"][0].__setitem__(0, -1), "layers[0].wiring"),
    (lambda d: d["layers"][0]["wiring"][0].pop(), "layers[0].wiring"),
    (lambda d: [w.pop() for w in d["layers"][0]["wiring"]], "exactly k=6"),
    (lambda d: d.update(layer_sizes=[9, 4]), "layer_sizes[0]"),
    (lambda d: d.update(groups=[[0, 1], [1, 2, 3]]), "partition"),
    (lambda d: d.update(k=7), "k: expected an integer 2..6, got 7"),
    (lambda d: d.update(k="6"), "k: expected an integer"),
    (lambda d: d.update(classes=["a"]), "groups"),
]


@pytest.mark.parametrize("edit,message", CASES)
def test_bad_files_name_the_field(net, tmp_path, edit, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_broken(net, edit)))
    with pytest.raises(NetworkFormatError) as err:
        Network.load(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_truncated_file_is_one_line_error_and_exit_2(net, tmp_path):
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(net.to_dict())[:200])
    result = CliRunner().invoke(main, ["info", str(path)])
    assert result.exit_code == 2
    assert "not valid JSON" in result.output and "Traceback" not in result.output


def test_missing_file_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["info", str(tmp_path / "none.json")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_encoder_section_is_validated(tmp_path, tiny):
    from hcl.encode import Encoder
    enc = Encoder.fit(tiny.X_train, bits=2, input_width=6)
    n = random_network(np.random.default_rng(0), 4, enc.n_bits, [6, 3], 3)
    n.encoder = enc.to_dict()
    d = n.to_dict()
    d["encoder"]["bits"][0][0] = 99
    path = tmp_path / "enc.json"
    path.write_text(json.dumps(d))
    with pytest.raises(NetworkFormatError, match=r"encoder.bits\[0\]: feature 99"):
        Network.load(path)


@pytest.mark.parametrize("edit,message", [
    (lambda e: e.update(signed="yes"), "encoder.signed: expected true or false, or a list of them (one per feature), "
                                       "got 'yes'"),
    (lambda e: e.update(input_width=[6, 0]), "encoder.input_width: expected an integer 1..64, null, or a list"),
    (lambda e: e.update(input_width=[6, 6]), "encoder.input_width: 2 entries, need one per feature (6)"),
    (lambda e: e.update(bits_per_feature="4"), "encoder.bits_per_feature: expected an integer"),
    (lambda e: e.update(bits_per_feature=[4]), "encoder.bits_per_feature: expected an integer"),
    (lambda e: e["bits"][0].__setitem__(2, 2**63), "encoder.bits[0][2]: expected a number"),
    (lambda e: e["bits"][0].__setitem__(2, 1.5), "encoder.bits[0]: integer inputs need an integer threshold"),
    (lambda e: e["bits"][0].__setitem__(1, ">"), "encoder.bits[0][1]: expected '>=' or '=='"),
    (lambda e: e.pop("n_features"), "encoder.n_features: missing"),
])
def test_encoder_fields_have_exact_types(tmp_path, tiny, edit, message):
    from hcl.encode import Encoder
    enc = Encoder.fit(tiny.X_train, bits=2, input_width=6)
    n = random_network(np.random.default_rng(0), 4, enc.n_bits, [6, 3], 3)
    n.encoder = enc.to_dict()
    d = n.to_dict()
    edit(d["encoder"])
    path = tmp_path / "enc.json"
    path.write_text(json.dumps(d))
    with pytest.raises(NetworkFormatError) as err:
        Network.load(path)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("text,message", [
    ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
    ('{"format": "hcl-lut-network", "version": ' + "9" * 5000 + "}", "not valid JSON"),
    ('{"format": "hcl-lut-network", "version": NaN}', "NaN is not a JSON number"),
    ('{"format": "hcl-lut-network", "version": 1, "k": Infinity}', "Infinity is not a JSON number"),
    ("[1, 2]", "file: expected a JSON object"),
    ('{"format": "other"}', "format: expected 'hcl-lut-network'"),
])
def test_hostile_json_is_one_line_exit_2(tmp_path, text, message):
    path = tmp_path / "hostile.json"
    path.write_text(text)
    result = CliRunner().invoke(main, ["info", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_atomic_save_leaves_no_temp_files(net, tmp_path):
    net.save(tmp_path / "a.json")
    net.save(tmp_path / "a.json")
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_atomic_save_gives_normal_file_mode(net, tmp_path):
    import os
    net.save(tmp_path / "m.json")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "m.json").stat().st_mode & 0o777 == 0o666 & ~umask
