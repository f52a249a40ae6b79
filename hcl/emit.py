"""Emit a LUT network as VHDL-2008, with its manifest and golden test vectors.

Python prepares plain data (lists of dicts of ints and strings); the Jinja2 template ``templates/network.vhd.j2``
turns it into VHDL. Nothing here assembles VHDL text.

The emitted entity computes exactly what ``hcl.reference`` computes (the semantics of ``hcl.network``):

* ``x``: the raw integer features as one flat vector, feature 0 at the least significant end, each feature in a
  word of its own width (``input_width``: one for all, or one per feature; unsigned or two's complement as the
  encoder says; offsets from ``Encoder.word_offsets``). One port keeps the interface the same for 8 and for 784
  features and lets a testbench drive a whole sample with one write.
* the encoder: one comparator per input bit, ``x[f] >= T`` or ``x[f] = V``, on the raw word;
* one constant truth table ``std_logic_vector(2**K-1 downto 0)`` per LUT, indexed by its K input bits (input 0 is
  the least significant address bit), so synthesis maps each onto one physical LUT;
* a popcount per class group, then an argmax tree in which a node takes its right (higher-index) operand only when
  it is strictly greater: ties go to the lowest class index at every level, hence overall;
* ``class_idx`` and ``scores`` (class ``c`` in ``scores((c+1)*S-1 downto c*S)``, S = ``score_width``).

Registers (``--registers``): ``none`` is combinational (``out_valid = in_valid``, latency 0); ``layer`` registers
the encoder output, every LUT layer and the output logic (latency = LUT layers + 2); ``every=N`` registers after
LUT layers N, 2N, ... and after the output logic (latency = floor(layers / N) + 1). Only the valid pipeline is
reset: data registers need no reset, which keeps the reset net off thousands of flip-flops.

Delay model (simulation only; synthesis tools ignore ``after``): every comparator, LUT and output-logic node
drives its output ``after levels * (G_LUT_PS + G_NET_PS) ps``, ``levels`` being the LUT levels the cost model
(``hcl.cost``) gives that node; the defaults are the family's figures in ``hcl.timing``. The generics are integers
because GHDL 2.0 cannot override ``time`` generics.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from hcl import __version__, cost, reference, timing
from hcl.errors import ConfigError, DataError
from hcl.files import atomic_write_text
from hcl.network import Network
from hcl.registers import register_plan
from hcl.tasks.columns import word_range

TEMPLATE = "network.vhd.j2"
VECTORS_FILE = "vectors.txt"
MANIFEST_FILE = "manifest.json"
NETWORK_FILE = "network.json"     # the network the design was emitted from, for `hcl verify`
MANIFEST_FORMAT = "hcl-rtl-design"
MANIFEST_VERSION = 1

# VHDL-2008 reserved words (IEEE 1076-2008, 15.10), PSL's included: none may name an entity.
RESERVED = frozenset("""
abs access after alias all and architecture array assert assume assume_guarantee attribute begin block body buffer
bus case component configuration constant context cover default disconnect downto else elsif end entity exit
fairness file for force function generate generic group guarded if impure in inertial inout is label library linkage
literal loop map mod nand new next nor not null of on open or others out package parameter port postponed procedure
process property protected pure range record register reject release rem report restrict restrict_guarantee return
rol ror select sequence severity shared signal sla sll sra srl strong subtype then to transport type unaffected units
until use variable vmode vprop vunit wait when while with xnor xor
""".split())

# Names the generated file declares or uses: an entity with one of these names would hide it or be hidden.
INTERNAL = frozenset("""
ieee std work std_logic std_ulogic std_logic_vector std_ulogic_vector std_logic_1164 numeric_std unsigned signed
natural integer positive boolean time to_integer to_unsigned to_signed rising_edge resize rtl
clk rst in_valid x out_valid class_idx scores g_lut_ps g_net_ps t_level word_t word_array_t score_t index_t
score_array_t index_array_t to_sl popcount xw enc enc_q am_val am_idx scores_w scores_out cls_q scores_q valid_sr
""".split())

_BASIC_ID = re.compile(r"[A-Za-z](?:_?[A-Za-z0-9])*\Z")
_LAYER_NAME = re.compile(r"(l\d+(_q)?|tt_l\d+_\d+(_hi|_lo)?|grp\d+|xw_\d+|words|regs)\Z", re.IGNORECASE)
_MAX_ID = 96


# ---- identifiers -------------------------------------------------------------------------------------------------
def is_reserved(name: str) -> bool:
    low = name.lower()
    return low in RESERVED or low in INTERNAL or bool(_LAYER_NAME.match(low))


def vhdl_identifier(name: str, fallback: str = "hcl_net") -> str:
    """Turn any text into a legal, unreserved VHDL basic identifier (lower case; VHDL ignores case anyway)."""
    text = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")
    text = re.sub(r"_+", "_", text)[:_MAX_ID].strip("_")
    if not text:
        text = fallback
    if not text[0].isalpha():
        text = "n_" + text
    if is_reserved(text):
        text += "_e"
    return text


def check_entity(name: str) -> str:
    """Validate a user-given entity name; return it in lower case (GHDL, VPI and file names all use that)."""
    if not _BASIC_ID.match(name or ""):
        raise ConfigError(f"--entity {name!r}: not a VHDL basic identifier (a letter, then letters, digits and "
                          "single underscores, not ending in an underscore)")
    if len(name) > _MAX_ID:
        raise ConfigError(f"--entity {name!r}: longer than {_MAX_ID} characters")
    if name.lower() in RESERVED:
        raise ConfigError(f"--entity {name!r}: a VHDL-2008 reserved word")
    if is_reserved(name):
        raise ConfigError(f"--entity {name!r}: clashes with a name the generated VHDL uses; pick another")
    return name.lower()


def default_entity(net: Network) -> str:
    return vhdl_identifier(f"hcl_{net.task or 'net'}_k{net.k}")


def comment_text(text: Any) -> str:
    """Text safe inside a one-line VHDL comment: printable ASCII only (a newline would end the comment)."""
    return "".join(ch if " " <= ch <= "~" else "?" for ch in str(text))


# ---- template ----------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def environment():
    """The one Jinja2 environment; templates come from the package data ``hcl.templates``."""
    import jinja2

    root = importlib.resources.files("hcl.templates")

    def load(name: str):
        try:
            return root.joinpath(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    return jinja2.Environment(loader=jinja2.FunctionLoader(load), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                              autoescape=False)


# ---- design data -------------------------------------------------------------------------------------------------
def _encoder(net: Network):
    from hcl.encode import Encoder
    if net.encoder is None:
        raise ConfigError("network has no encoder section: the RTL needs its comparator thresholds")
    enc = Encoder.from_dict(net.encoder, expect_bits=net.n_inputs)
    if not enc.integer:
        raise ConfigError("encoder has float thresholds (input_width null): the RTL compares integer input words; "
                          "evolve on a task with integer features")
    return enc


def _bits(value: int, width: int) -> str:
    return format(value & ((1 << width) - 1), f"0{width}b")


def _words(enc, inputs: dict | None) -> list[dict[str, Any]]:
    """Each feature's input word: where it sits on the port `x`, its width and VHDL type, and (for a network
    trained on a user's table) the column it comes from and how that column is coded."""
    about = [""] * enc.n_features
    if inputs is not None:
        from hcl.tasks.columns import InputMap
        about = [comment_text(f"{c.name!r}: {c.describe()}") for c in InputMap.from_dict(inputs).columns]
    return [{"f": f, "lo": o, "hi": o + w - 1, "width": w, "signed": s, "type": "signed" if s else "unsigned",
             "about": about[f]}
            for f, (o, w, s) in enumerate(zip(enc.word_offsets(), enc.widths, enc.signs))]


def _comparators(enc) -> list[dict[str, Any]]:
    rows = []
    for bit, (f, op, t) in enumerate(zip(enc.features.tolist(), enc.ops, enc.thresholds.tolist())):
        t = int(t)
        width, signed = enc.widths[f], enc.signs[f]
        lo, hi = word_range(width, signed)
        # A threshold outside the word's range makes the comparison constant; emitting it as a constant also
        # keeps an out-of-range literal out of the VHDL.
        const = None
        if op == ">=" and t <= lo:
            const = "1"
        elif (op == ">=" and t > hi) or (op == "==" and not lo <= t <= hi):
            const = "0"
        levels = 0 if const else max(1, cost.comparator_cost(cost.comparator_bits(t, width, op))[1])
        rows.append({"bit": bit, "feature": int(f), "op": ">=" if op == ">=" else "=", "src_op": op, "value": t,
                     "width": width, "type": "signed" if signed else "unsigned",
                     "literal": _bits(t, width) if const is None else "", "const": const or "", "levels": levels})
    return rows


TABLE_WORD = 32   # the widest constant GHDL 2.0 synthesizes correctly whatever its value


def _halves(table: int) -> dict[str, str]:
    """A 64-bit truth table as its two 32-bit halves in hex: lo holds addresses 0..31, hi 32..63."""
    mask = (1 << TABLE_WORD) - 1
    return {"lo": format(table & mask, "08x"), "hi": format(table >> TABLE_WORD, "08x")}


def _argmax_tree(n_classes: int) -> list[dict[str, int]]:
    """Nodes of a balanced comparison tree over leaves 0..C-1; every node's left operand covers lower classes."""
    level, nodes, next_id = list(range(n_classes)), [], n_classes
    while len(level) > 1:
        merged = []
        for i in range(0, len(level) - 1, 2):
            nodes.append({"node": next_id, "left": level[i], "right": level[i + 1]})
            merged.append(next_id)
            next_id += 1
        if len(level) % 2:
            merged.append(level[-1])
        level = merged
    return nodes


def network_sha256(net: Network) -> str:
    """sha256 of the network's canonical JSON (sorted keys, no whitespace): the same for a file and its copy."""
    text = json.dumps(net.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def design_data(net: Network, entity: str | None = None, registers: str = "none",
                family: str = "ultrascale") -> dict[str, Any]:
    """Everything the template and the manifest need, as plain data."""
    net.validate()
    enc = _encoder(net)
    if family not in timing.SIM_FAMILIES:
        raise ConfigError(f"--family {family!r}: use one of {', '.join(timing.SIM_FAMILIES)}")
    fam = timing.family(family)
    top = check_entity(entity) if entity is not None else default_entity(net)
    plan = register_plan(registers, net.depth)
    est = cost.estimate(net, registers)
    n_layers = net.depth
    group_sizes = [len(g) for g in net.groups]
    score_width = cost.score_width(net)
    index_width = max(1, math.ceil(math.log2(net.n_classes)))
    node_levels = cost.comparator_cost(2 * score_width)[1] + 1
    tree = _argmax_tree(net.n_classes)
    comparators = _comparators(enc)
    digits = max(1, (1 << net.k) // 4)
    # GHDL 2.0's synthesis turns a constant wider than 32 bits whose low 32 bits are all zero into all zeros
    # (x"0000000800000000" becomes a constant 0 LUT; `hcl verify` found it). A K = 6 table is therefore written as
    # two 32-bit halves selected by address bit 5; synthesis still maps the pair onto one LUT6.
    split = (1 << net.k) > TABLE_WORD

    layers, prev = [], ("enc_q" if plan.after_encoder else "enc")
    for l, (wiring, tables) in enumerate(zip(net.wiring, net.tables), start=1):
        registered = l in plan.after_layers
        luts = [{"j": j, "table": format(int(t), f"0{digits}x"),
                 "halves": _halves(int(t)) if split else None,
                 "inputs": [int(i) for i in reversed(w.tolist())]}   # MSB first: input K-1 .. input 0
                for j, (w, t) in enumerate(zip(wiring, tables))]
        layers.append({"index": l, "name": f"l{l}", "size": int(wiring.shape[0]), "src": prev,
                       "registered": registered, "luts": luts})
        prev = f"l{l}_q" if registered else f"l{l}"

    groups = [{"c": c, "name": comment_text(name), "members": [int(i) for i in members],
               "levels": cost.popcount_levels(len(members))}
              for c, (name, members) in enumerate(zip(net.classes, net.groups))]
    root = tree[-1]["node"]
    depth = _tree_depth(tree, net.n_classes)

    # LUT levels between registers, for the clock a registered simulation can use and for the settle budget.
    enc_levels = max([c["levels"] for c in comparators] + [0])
    out_levels = max(g["levels"] for g in groups) + depth * node_levels
    segments, current = [], enc_levels
    if plan.after_encoder:
        segments.append(current)
        current = 0
    for l in range(1, n_layers + 1):
        current += 1
        if l in plan.after_layers:
            segments.append(current)
            current = 0
    segments.append(current + out_levels)
    level_ps = fam.level_ps
    critical_ps = max(segments) * level_ps
    # Registered simulation clock: the slowest register-to-register path plus a quarter, in whole nanoseconds.
    clock_ps = max(2000, math.ceil(critical_ps * 1.25 / 1000) * 1000) if plan.latency else 0

    generics = [{"name": "G_LUT_PS", "value": fam.lut_ps, "comment": "ps per LUT level: LUT delay"},
                {"name": "G_NET_PS", "value": fam.net_ps, "comment": "ps per LUT level: net delay"}]
    return {
        "top": top,
        "hcl_version": __version__,
        "network_sha256": network_sha256(net),
        "task": comment_text(net.task or "(none)"),
        "k": net.k,
        "n_inputs": net.n_inputs,
        "n_features": enc.n_features,
        "input_width": list(enc.input_width) if isinstance(enc.input_width, tuple) else enc.input_width,
        "signed": list(enc.signed) if isinstance(enc.signed, tuple) else bool(enc.signed),
        "uniform_words": not isinstance(enc.input_width, tuple) and not isinstance(enc.signed, tuple),
        "words": _words(enc, net.meta.get("inputs")),
        "port_width": enc.port_width,
        "layer_sizes": net.layer_sizes,
        "n_classes": net.n_classes,
        "score_width": score_width,
        "index_width": index_width,
        "classes": groups,
        "comparators": comparators,
        "uses_to_sl": any(not c["const"] for c in comparators),
        "layers": layers,
        "split_tables": split,
        "last_src": prev,
        "tree": tree,
        "tree_root": root,
        "node_levels": node_levels,
        "registers": plan.option,
        "after_encoder": plan.after_encoder,
        "after_output": plan.after_output,
        "latency": plan.latency,
        "family": family,
        "family_about": fam.source,
        "generics": generics,
        "level_ps": level_ps,
        "segment_levels": segments,
        "critical_path_ps": critical_ps,
        "clock_period_ps": clock_ps,
        "estimate": est,
    }


def _tree_depth(tree: list[dict[str, int]], n_classes: int) -> int:
    depth = {c: 0 for c in range(n_classes)}
    for node in tree:
        depth[node["node"]] = 1 + max(depth[node["left"]], depth[node["right"]])
    return depth[tree[-1]["node"]] if tree else 0


def render_vhdl(data: dict[str, Any]) -> str:
    return environment().get_template(TEMPLATE).render(**data)


# ---- test vectors ------------------------------------------------------------------------------------------------
def golden(net: Network, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class index [n] and scores [n, C] of the golden model (hcl.reference) on raw inputs X."""
    bits = _encoder(net).transform(X)
    scores = reference.class_scores(net, bits)
    return reference.winner(scores), scores


def _word_bounds(enc) -> tuple[np.ndarray, np.ndarray]:
    """Per feature, the smallest and largest value its word holds, as int64 (an unsigned 64-bit word's top half
    holds nothing an int64 input can reach)."""
    bounds = [word_range(w, s) for w, s in zip(enc.widths, enc.signs)]
    return (np.array([lo for lo, _ in bounds], dtype=np.int64),
            np.array([min(hi, np.iinfo(np.int64).max) for _, hi in bounds], dtype=np.int64))


def check_inputs(X: np.ndarray, enc, where: str) -> np.ndarray:
    """Raw inputs as int64, each within its feature's word, or DataError naming the first that is not."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0:
        raise DataError(f"{where}: expected a non-empty 2-D array [samples, features], got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.integer):
        if not (np.issubdtype(X.dtype, np.floating) and np.isfinite(X).all() and (X == np.round(X)).all()):
            raise DataError(f"{where}: features must be integers for the RTL's integer input words")
    Xi = X.astype(np.int64)
    lo, hi = _word_bounds(enc)
    bad = np.argwhere((Xi < lo) | (Xi > hi))
    if len(bad):
        r, c = bad[0]
        width, signed = enc.widths[c], enc.signs[c]
        raise DataError(f"{where}: sample {r}, feature {c} = {Xi[r, c]} does not fit its {width}-bit "
                        f"{'signed' if signed else 'unsigned'} input word ({lo[c]}..{hi[c]})")
    return Xi


def vectors_text(X: np.ndarray, classes: np.ndarray, scores: np.ndarray) -> str:
    """One vector per line, ``x0 .. xF-1 | class | s0 .. sC-1``, decimal; ``#`` lines are comments."""
    n, f = X.shape
    c = scores.shape[1]
    lines = [f"# hcl test vectors: {n} samples, {f} features, {c} classes",
             f"# columns: x[0..{f - 1}] (raw integers) | class index | score[0..{c - 1}]  (golden: hcl.reference)"]
    for x, k, s in zip(X.tolist(), classes.tolist(), scores.tolist()):
        lines.append(f"{' '.join(map(str, x))} | {k} | {' '.join(map(str, s))}")
    return "\n".join(lines) + "\n"


def task_vectors(net: Network, task: str | None = None, data: str | os.PathLike | None = None,
                 seed: int | None = None, split: str = "test", max_vectors: int | None = None
                 ) -> tuple[np.ndarray, dict[str, Any]]:
    """Raw inputs of a task split (default: the network's own task, seed and options)."""
    from hcl.tasks import load_task
    task = task or net.task
    if not task:
        raise ConfigError("network names no task: pass --task NAME to make test vectors")
    own = task == net.task
    seed = int(net.meta.get("seed", 0)) if seed is None else int(seed)
    options = dict(net.meta.get("task_options") or {}) if own else {}
    if data is None and own:
        data = net.meta.get("data")
    ds = load_task(task, seed=seed, data=data, **options)
    X, _ = ds.split(split)
    if max_vectors is not None:
        if max_vectors < 1:
            raise ConfigError(f"--max-vectors {max_vectors}: must be at least 1")
        X = X[:max_vectors]
    source = {"task": task, "split": split, "seed": seed, "options": options,
              "data": str(data) if data is not None else None}
    return X, source


def _extra_vectors(net: Network, enc, X: np.ndarray, n: int, task, data, seed, source) -> np.ndarray:
    """Candidates for extra vectors: the task's training rows (when the vectors came from a task) and as many
    uniformly random input words, drawn from the seed; hcl.coverage picks the ones that reach new addresses."""
    from hcl.coverage import extra_vectors
    if n < 0:
        raise ConfigError(f"--vectors-extra {n}: must be 0 or more")
    rng = np.random.default_rng([int(source.get("seed") or 0), 0xC0FE])
    lo, hi = _word_bounds(enc)
    pools = [rng.integers(lo, hi, size=(max(1000, 4 * n), enc.n_features), dtype=np.int64, endpoint=True)]
    if source.get("task"):
        train, _ = task_vectors(net, task, data, seed, "train", None)
        train = check_inputs(train, enc, f"{source['task']} train")
        pools.insert(0, train[rng.permutation(len(train))[:max(1000, 4 * n)]])
    return extra_vectors(net, X, np.concatenate(pools), n)


# ---- the whole design ----------------------------------------------------------------------------------------------
def emit(network: Network | str | os.PathLike, out: str | os.PathLike, entity: str | None = None,
         registers: str = "none", family: str = "ultrascale", task: str | None = None,
         data: str | os.PathLike | None = None, seed: int | None = None, split: str = "test",
         max_vectors: int | None = None, X: np.ndarray | None = None, vectors: bool = True,
         vectors_extra: int = 0, vectors_file: str | os.PathLike | None = None) -> dict[str, Any]:
    """Write ``<top>.vhd``, ``vectors.txt`` and ``manifest.json`` (last) into `out`; return the manifest.

    `X` gives raw input vectors directly instead of loading a task; ``vectors=False`` writes none (the design is
    then for synthesis only and ``hcl sim`` refuses it). `vectors_extra` appends up to that many vectors chosen to
    exercise truth-table addresses the others miss (hcl.coverage), from the task's training split and random words.
    `vectors_file` takes the vectors from the rows of a user's CSV/NPZ file, through the network's input map.
    """
    net = network if isinstance(network, Network) else Network.load(network)
    d = design_data(net, entity, registers, family)
    vhdl = render_vhdl(d)
    enc = _encoder(net)

    source: dict[str, Any] | None = None
    text, n_vectors = None, 0
    if vectors:
        if vectors_file is not None:
            from hcl.tasks.tabular import rows_for_network
            X, _, _ = rows_for_network(vectors_file, net.meta.get("inputs"), enc.n_features, net.classes)
            X = X[:max_vectors] if max_vectors is not None else X
            source = {"task": None, "split": None, "seed": None, "options": {}, "data": str(vectors_file)}
        elif X is None:
            X, source = task_vectors(net, task, data, seed, split, max_vectors)
        else:
            source = {"task": None, "split": None, "seed": None, "options": {}, "data": "array"}
            X = X[:max_vectors] if max_vectors is not None else X
        if X.shape[1] != enc.n_features:
            raise DataError(f"test vectors have {X.shape[1]} features but the network's encoder expects "
                            f"{enc.n_features}")
        Xi = check_inputs(X, enc, f"{source['task'] or 'input'} {source['split'] or ''}".strip())
        if vectors_extra:
            extra = _extra_vectors(net, enc, Xi, vectors_extra, task, data, seed, source)
            source["extra"] = int(len(extra))
            Xi = np.concatenate([Xi, extra])
        classes, scores = golden(net, Xi)
        text, n_vectors = vectors_text(Xi, classes, scores), int(len(Xi))

    est = d["estimate"]
    vhd_name = f"{d['top']}.vhd"
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "top": d["top"],
        "files": [vhd_name],
        "language": "VHDL-2008",
        "generics": {g["name"]: g["value"] for g in d["generics"]},
        "family": family,
        "delay_model": {"level_ps": d["level_ps"], "segment_levels": d["segment_levels"],
                        "critical_path_ps": d["critical_path_ps"], "clock_period_ps": d["clock_period_ps"],
                        "about": d["family_about"] + "; simulation only (synthesis ignores `after`)"},
        "registers": d["registers"],
        "latency_cycles": d["latency"],
        "ports": {"clk": "clk", "rst": "rst", "in_valid": "in_valid", "x": "x", "out_valid": "out_valid",
                  "class_idx": "class_idx", "scores": "scores"},
        "x_layout": ("feature f is x((f+1)*input_width-1 downto f*input_width)" if d["uniform_words"] else
                     "feature f is x(input_offsets[f]+input_width[f]-1 downto input_offsets[f])"),
        "input_offsets": [w["lo"] for w in d["words"]],
        "input_columns": [w["about"] for w in d["words"]] if net.meta.get("inputs") else None,
        "port_width": d["port_width"],
        "scores_layout": "class c is scores((c+1)*score_width-1 downto c*score_width)",
        "task": net.task,
        "k": net.k,
        "n_inputs": net.n_inputs,
        "n_features": d["n_features"],
        "input_width": d["input_width"],
        "signed": d["signed"],
        "layer_sizes": d["layer_sizes"],
        "n_classes": d["n_classes"],
        "score_width": d["score_width"],
        "index_width": d["index_width"],
        "classes": list(net.classes),
        "luts": est["luts"],
        "luts_encoder": est["luts_encoder"],
        "luts_network": est["luts_network"],
        "luts_output": est["luts_output"],
        "depth": est["depth"],
        "cost_source": est["estimate"],
        "vectors": VECTORS_FILE if vectors else None,
        "n_vectors": n_vectors,
        "vector_source": source,
        "network": NETWORK_FILE,
        "network_sha256": d["network_sha256"],
        "hcl_version": __version__,
    }
    out = Path(out)
    # A design directory is complete only once manifest.json exists: drop the old one first, so an emit that fails
    # half way leaves no manifest that describes files it did not write.
    (out / MANIFEST_FILE).unlink(missing_ok=True)
    atomic_write_text(out / vhd_name, vhdl)
    net.save(out / NETWORK_FILE)
    if text is not None:
        atomic_write_text(out / VECTORS_FILE, text)
    else:
        (out / VECTORS_FILE).unlink(missing_ok=True)
    from hcl import package
    manifest["fusesoc_core"], manifest["files_list"] = package.core_file(manifest), package.FILES_LIST
    package.write(out, manifest)
    atomic_write_text(out / MANIFEST_FILE, json.dumps(manifest, indent=1) + "\n")
    return manifest
