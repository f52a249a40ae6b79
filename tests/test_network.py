"""The network file format: round trip, and a one-line error naming the field for every kind of bad file."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from hcl.cli import main
from hcl.errors import NetworkFormatError
from hcl.network import Network, random_network, table_mask


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


# ---- the structure by hand (fast; the mutation benchmark's selection) --------------------------------------------
def _hand() -> Network:
    """4 inputs; layer 1: 3 LUTs (LUT 2 read by nobody); layer 2: 2 LUTs, one per class. K = 2."""
    return Network(2, 4, [np.array([[0, 1], [2, 3], [3, 3]], dtype=np.int32), np.array([[0, 1], [1, 1]], dtype=np.int32)],
                   [np.array([8, 6, 1], dtype=np.uint64), np.array([14, 2], dtype=np.uint64)], [[0], [1]],
                   ["a", "b"], "hand").validate()


def test_structure_by_hand():
    net = _hand()
    assert (net.layer_sizes, net.n_luts, net.depth, net.n_classes) == ([3, 2], 5, 2, 2)
    assert net.layer_offsets().tolist() == [0, 4, 7, 9] and net.layer_offsets().dtype == np.int64
    wires, tables, group_of = net.flat()
    assert wires.tolist() == [[0, 1], [2, 3], [3, 3], [4, 5], [5, 5]] and wires.dtype == np.int32
    assert tables.tolist() == [8, 6, 1, 14, 2] and tables.dtype == np.uint64
    assert group_of.tolist() == [-1, -1, -1, 0, 1] and group_of.dtype == np.int32
    assert [m.tolist() for m in net.live_luts()] == [[True, True, False], [True, True]]
    assert net.live_inputs().tolist() == [True, True, True, True]
    three = Network(2, 5, [np.array([[0, 1], [4, 4]], dtype=np.int32), np.array([[0, 0], [0, 0]], dtype=np.int32),
                           np.array([[0, 1], [1, 0]], dtype=np.int32)],
                    [np.array([1, 2], dtype=np.uint64)] * 3, [[0], [1]], ["a", "b"]).validate()
    # layer 2 reads only LUT 0 of layer 1, so LUT 1 (inputs 4) is dead and input 4 unread
    assert [m.tolist() for m in three.live_luts()] == [[True, False], [True, True], [True, True]]
    assert three.live_inputs().tolist() == [True, True, False, False, False]


def test_pruned_drops_dead_luts_and_rewires_their_readers():
    net = _hand()
    net.wiring[1] = np.array([[2, 1], [1, 1]], dtype=np.int32)     # now LUT 0 of layer 1 is dead, LUT 2 live
    small, kept = net.pruned()
    assert kept.tolist() == [1, 2, 3, 4]
    assert small.layer_sizes == [2, 2] and small.wiring[0].tolist() == [[2, 3], [3, 3]]
    assert small.wiring[1].tolist() == [[1, 0], [0, 0]] and small.wiring[1].dtype == np.int32
    assert small.tables[0].tolist() == [6, 1] and small.tables[1].tolist() == [14, 2]
    assert net.layer_sizes == [3, 2]                                 # the original is untouched
    small, kept = _hand().pruned()                                   # its LUT 2 of layer 1 is read by nobody
    assert kept.tolist() == [0, 1, 3, 4] and small.layer_sizes == [2, 2]
    full = random_network(np.random.default_rng(0), 2, 3, [2], 2)
    assert full.pruned()[0] is full and full.pruned()[1].tolist() == [0, 1]


def test_copy_is_deep():
    net = _hand()
    net.encoder = {"bits": [[0, ">=", 1]]}
    net.meta = {"seed": 1}
    other = net.copy()
    other.wiring[0][0, 0] = 3
    other.tables[1][0] = 0
    other.groups[0].append(1)
    other.classes[0] = "z"
    other.encoder["bits"][0][2] = 9
    other.meta["seed"] = 2
    assert (net.wiring[0][0, 0], int(net.tables[1][0]), net.groups, net.classes) == (0, 14, [[0], [1]], ["a", "b"])
    assert (net.encoder, net.meta, other.task) == ({"bits": [[0, ">=", 1]]}, {"seed": 1}, "hand")
    bare = _hand()
    assert bare.copy().encoder is None


@pytest.mark.parametrize("edit, says", [
    (lambda n: setattr(n, "k", 1), r"^k: 1 is outside 2..6$"),
    (lambda n: setattr(n, "k", 7), r"^k: 7 is outside 2..6$"),
    (lambda n: setattr(n, "n_inputs", 0), r"^n_inputs: must be at least 1, got 0$"),
    (lambda n: (setattr(n, "wiring", []), setattr(n, "tables", [])), r"^layers: a network needs at least one LUT layer$"),
    (lambda n: n.tables.pop(), r"^layers: wiring and tables have different layer counts$"),
    (lambda n: n.wiring.__setitem__(0, n.wiring[0][:, :1]), r"^layers\[0\].wiring: each LUT needs exactly k=2 inputs$"),
    (lambda n: n.wiring.__setitem__(0, n.wiring[0][0]), r"^layers\[0\].wiring: each LUT needs exactly k=2 inputs$"),
    (lambda n: (n.wiring.__setitem__(1, np.zeros((0, 2), dtype=np.int32)),
                n.tables.__setitem__(1, np.zeros(0, dtype=np.uint64))), r"^layers\[1\]: a layer needs at least one LUT$"),
    (lambda n: n.tables.__setitem__(0, n.tables[0][:2]), r"^layers\[0\].tables: 2 tables for 3 LUTs$"),
    (lambda n: n.wiring[0].__setitem__((1, 1), 4), r"^layers\[0\].wiring: index 4 out of range 0..3$"),
    (lambda n: n.wiring[1].__setitem__((1, 0), -1), r"^layers\[1\].wiring: index -1 out of range 0..2$"),
    (lambda n: n.wiring[1].__setitem__((1, 0), 3), r"^layers\[1\].wiring: index 3 out of range 0..2$"),
    (lambda n: n.tables[1].__setitem__(0, 16), r"^layers\[1\].tables: a table has bits above 2\^k=4$"),
    (lambda n: n.classes.pop(), r"^groups: need one group per class and at least 2 classes, got 2 groups for 1"),
    (lambda n: (n.groups.pop(), n.classes.pop()), r"^groups: need one group per class and at least 2 classes, got 1"),
    (lambda n: n.groups.__setitem__(1, [0]), r"^groups: must partition the last layer's 2 LUTs \(each index once\)$"),
    (lambda n: (n.groups.__setitem__(0, [0, 1]), n.groups.__setitem__(1, [])),
     r"^groups: every class needs at least one LUT$"),
])
def test_validate_names_the_first_inconsistent_field(edit, says):
    net = _hand()
    edit(net)
    with pytest.raises(NetworkFormatError, match=says):
        net.validate()


def test_a_k6_table_may_use_all_64_bits_and_a_k2_table_reads_one_hex_digit():
    net = random_network(np.random.default_rng(0), 6, 6, [2], 2)
    net.tables[0][0] = np.uint64(2**64 - 1)
    assert net.validate().to_dict()["layers"][0]["tables"][0] == "f" * 16
    assert _hand().to_dict()["layers"][1]["tables"] == ["e", "2"]
    back = Network.from_dict(_hand().to_dict())
    assert back.wiring[0].dtype == np.int32 and back.tables[0].dtype == np.uint64 and back.task == "hand"


def test_random_network_groups_split_the_last_layer_evenly():
    net = random_network(np.random.default_rng(1), 3, 5, [4, 7], 3)
    assert net.groups == [[0, 1], [2, 3, 4], [5, 6]] and net.classes == ["0", "1", "2"]
    assert all(int(t) >> 8 == 0 for t in np.concatenate(net.tables))
    assert net.wiring[0].max() < 5 and net.wiring[1].max() < 4
    with pytest.raises(NetworkFormatError, match=r"the last layer needs at least one LUT per class \(3\)"):
        random_network(np.random.default_rng(1), 3, 5, [4, 2], 3)


def test_from_dict_counts_layers_and_sizes():
    d = _hand().to_dict()
    d["layer_sizes"] = [3]
    with pytest.raises(NetworkFormatError, match=r"^layer_sizes: 1 entries for 2 layers$"):
        Network.from_dict(d)
    d = _hand().to_dict()
    d["layers"][1]["tables"].append("0")
    with pytest.raises(NetworkFormatError, match=r"^layers\[1\].tables: need 2 tables$"):
        Network.from_dict(d)


# ---- for the mutation benchmark's survivors (written after its run; not re-measured) -----------------------------
def _three() -> Network:
    """LUT layers of 3, 3 and 2 LUTs (K = 2); the outputs read layer 2's LUT 0, which reads layer 1's LUT 0 only."""
    return Network(2, 3, [np.array([[0, 1], [1, 2], [2, 2]], dtype=np.int32),
                          np.array([[0, 0], [1, 2], [2, 2]], dtype=np.int32), np.array([[0, 0], [0, 0]], dtype=np.int32)],
                   [np.array([6, 8, 1], dtype=np.uint64), np.array([2, 6, 6], dtype=np.uint64),
                    np.array([2, 4], dtype=np.uint64)], [[0], [1]], ["a", "b"]).validate()


def test_three_layers_flat_and_pruned():
    net = _three()
    _, _, group_of = net.flat()
    assert group_of.tolist() == [-1] * 6 + [0, 1]
    small, kept = net.pruned()
    assert kept.tolist() == [0, 3, 6, 7] and small.layer_sizes == [1, 1, 2]
    assert [w.tolist() for w in small.wiring] == [[[0, 1]], [[0, 0]], [[0, 0], [0, 0]]]
    assert net.live_inputs().dtype == bool and net.live_inputs().tolist() == [True, True, False]


def test_copy_keeps_every_field_and_a_file_keeps_encoder_meta_and_task():
    net = _three()
    net.meta, net.task = {"seed": 3}, "t"
    c = net.copy()
    assert (c.k, c.n_inputs, c.meta, c.task) == (2, 3, {"seed": 3}, "t")
    enc = {"kind": "comparators", "method": "uniform", "bits_per_feature": 1, "n_features": 3, "input_width": 4,
           "signed": False, "bits": [[0, ">=", 1], [1, ">=", 2], [2, ">=", 3]]}
    net.encoder = enc
    back = Network.from_dict(net.to_dict())
    assert (back.encoder, back.meta, back.task) == (enc, {"seed": 3}, "t")
    d = net.to_dict()
    for key in ("task", "meta"):
        d.pop(key)
    bare = Network.from_dict(d)
    assert (bare.task, bare.meta) == ("", {})
    d["encoder"] = dict(enc, bits=enc["bits"][:2])
    with pytest.raises(NetworkFormatError, match=r"encoder.bits: 2 comparisons but the network has n_inputs=3"):
        Network.from_dict(d)


def test_one_input_and_a_layer_of_one_lut_are_valid():
    Network(2, 1, [np.zeros((1, 2), dtype=np.int32), np.zeros((2, 2), dtype=np.int32)],
            [np.array([6], dtype=np.uint64), np.array([2, 4], dtype=np.uint64)], [[0], [1]], ["a", "b"]).validate()


def test_random_tables_use_every_bit_of_the_mask():
    from hcl.network import random_tables
    t = random_tables(np.random.default_rng(0), 2, 200)
    assert table_mask(2) == 15 and table_mask(6) == 2**64 - 1
    assert int(np.bitwise_or.reduce(t)) == 15 and int(np.bitwise_and.reduce(t)) == 0
    net = random_network(np.random.default_rng(0), 2, 3, [40, 2], 2, task="t")
    assert net.task == "t" and net.wiring[0].dtype == np.int32 and net.wiring[0].min() == 0
