"""The network file format as a JSON Schema: every field's JSON type and range, declared once.

`Network.load` checks a file against `NETWORK` before it reads a value, so the reader never coerces (no 1.5 or
"3" or true for an index, no "yes" for a boolean) and every bad field is one line naming its path. What a schema
cannot say (a table's length depends on k, wiring indices on the previous layer's size, groups partition the last
layer, thresholds are integers when inputs are) stays in `Network.validate` and `Encoder.from_dict`.

``x-expect`` is hcl's own annotation (validators ignore unknown keywords): what the message says was expected.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, validators

K_MIN, K_MAX = 2, 6                 # LUT inputs: 6 = one FPGA LUT6; tables are held in 64 bits
INT32_MAX = 2**31 - 1           # wiring and sizes are held as int32
MAX_FEATURES = 1 << 20          # input words of an encoder: a bound on what a file can make hcl allocate (MNIST: 784)
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1

_index = {"type": "integer", "minimum": 0, "maximum": INT32_MAX, "x-expect": f"an integer 0..{INT32_MAX}"}
_size = {"type": "integer", "minimum": 1, "maximum": INT32_MAX, "x-expect": f"an integer 1..{INT32_MAX}"}
_hex = {"type": "string", "pattern": "^[0-9a-f]+$",
        "x-expect": "lowercase hex digits (0-9a-f, no prefix or spaces)"}

ENCODER = {
    "type": "object", "x-expect": "an object",
    "required": ["kind", "n_features", "bits"],
    "properties": {
        "kind": {"const": "comparators", "x-expect": "'comparators'"},
        "method": {"type": "string", "x-expect": "a string"},
        "bits_per_feature": {"type": "integer", "minimum": 0, "maximum": INT32_MAX,
                             "x-expect": f"an integer 0..{INT32_MAX}"},
        "n_features": {**_size, "maximum": MAX_FEATURES, "x-expect": f"an integer 1..{MAX_FEATURES}"},
        "input_width": {"oneOf": [{"type": ["integer", "null"], "minimum": 1, "maximum": 64},
                                  {"type": "array", "minItems": 1,
                                   "items": {"type": "integer", "minimum": 1, "maximum": 64}}],
                        "x-expect": "an integer 1..64, null, or a list of them (one per feature)"},
        "signed": {"oneOf": [{"type": "boolean"}, {"type": "array", "minItems": 1, "items": {"type": "boolean"}}],
                   "x-expect": "true or false, or a list of them (one per feature)"},
        "bits": {
            "type": "array", "minItems": 1, "x-expect": "a non-empty list of [feature, op, threshold]",
            "items": {
                "type": "array", "minItems": 3, "maxItems": 3, "x-expect": "[feature, '>=' or '==', threshold]",
                "prefixItems": [
                    _index,
                    {"enum": [">=", "=="], "x-expect": "'>=' or '=='"},
                    {"type": "number", "minimum": INT64_MIN, "maximum": INT64_MAX,
                     "x-expect": f"a number {INT64_MIN}..{INT64_MAX}"},
                ],
            },
        },
    },
}

# meta.inputs: how a table's columns become the input words (hcl.tasks.columns).
_name = {"type": "string", "minLength": 1, "x-expect": "a column name"}
INPUTS = {
    "type": "object", "x-expect": "an object", "required": ["label", "features"],
    "properties": {
        "label": _name,
        "features": {
            "type": "array", "minItems": 1, "x-expect": "a non-empty list of column maps",
            "items": {
                "type": "object", "required": ["name", "kind"], "x-expect": "an object",
                "properties": {
                    "name": _name,
                    "kind": {"enum": ["raw", "categorical", "fixed"], "x-expect": "'raw', 'categorical' or 'fixed'"},
                    "values": {"type": "array", "items": {"type": "string"}, "x-expect": "a list of strings"},
                    "other": {"type": "boolean", "x-expect": "true or false"},
                    "bits": {"type": "integer", "minimum": 1, "maximum": 64, "x-expect": "an integer 1..64"},
                    "signed": {"type": "boolean", "x-expect": "true or false"},
                    "frac": {"type": "integer", "minimum": -1000, "maximum": 1000,
                             "x-expect": "an integer -1000..1000"},
                    "offset": {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX,
                               "x-expect": f"an integer {INT64_MIN}..{INT64_MAX}"},
                },
                "allOf": [
                    {"if": {"properties": {"kind": {"const": "categorical"}}},
                     "then": {"required": ["values"]}},
                    {"if": {"properties": {"kind": {"const": "fixed"}}},
                     "then": {"required": ["bits", "frac", "offset"]}},
                    {"if": {"properties": {"kind": {"const": "raw"}}}, "then": {"required": ["bits"]}},
                ],
            },
        },
    },
}

META = {
    "type": "object", "x-expect": "an object",
    "properties": {
        "seed": {"type": "integer", "minimum": 0, "maximum": INT64_MAX, "x-expect": f"an integer 0..{INT64_MAX}"},
        "task_options": {"type": "object", "x-expect": "an object"},
        "data": {"type": ["string", "null"], "x-expect": "a path or null"},
        "inputs": INPUTS,
    },
}

NETWORK = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "hcl LUT network",
    "type": "object", "x-expect": "a JSON object",
    "required": ["format", "version", "k", "n_inputs", "layer_sizes", "layers", "classes", "groups"],
    "properties": {
        "format": {"const": "hcl-lut-network", "x-expect": "'hcl-lut-network' (is it an hcl network file?)"},
        "version": {"const": 1, "x-expect": "1, the version this hcl reads"},
        "task": {"type": "string", "x-expect": "a string"},
        "k": {"type": "integer", "minimum": K_MIN, "maximum": K_MAX, "x-expect": f"an integer {K_MIN}..{K_MAX}"},
        "n_inputs": _size,
        "layer_sizes": {"type": "array", "minItems": 1, "items": _size, "x-expect": "a non-empty list"},
        "layers": {
            "type": "array", "minItems": 1, "x-expect": "a non-empty list of layers",
            "items": {
                "type": "object", "required": ["wiring", "tables"], "x-expect": "an object",
                "properties": {
                    "wiring": {"type": "array", "x-expect": "a list of index lists, one per LUT",
                               "items": {"type": "array", "items": _index, "x-expect": "a list of indices"}},
                    "tables": {"type": "array", "items": _hex, "x-expect": "a list of hex strings"},
                },
            },
        },
        "classes": {"type": "array", "items": {"type": "string", "x-expect": "a string"},
                    "x-expect": "a list of class names"},
        "groups": {"type": "array", "x-expect": "a list of index lists, one per class",
                   "items": {"type": "array", "items": _index, "x-expect": "a list of indices"}},
        "encoder": {"type": ["object", "null"], "x-expect": "an object or null"},   # its fields: ENCODER
        "meta": META,
    },
}

# JSON integers only: jsonschema's own "integer" also admits 3.0, which the reader would then coerce.
_TYPES = Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool))
StrictValidator = validators.extend(Draft202012Validator, type_checker=_TYPES)
_NETWORK_VALIDATOR = StrictValidator(NETWORK)
ENCODER_VALIDATOR = StrictValidator(ENCODER)
INPUTS_VALIDATOR = StrictValidator(INPUTS)
_FIRST = ("format", "version")      # a file that is no hcl network says so before anything else


def first_error(instance: Any, validator=_NETWORK_VALIDATOR, root: tuple = ()) -> str | None:
    """The first violation of the schema as one line ``path: expected X, got Y``, or None; `root` is the path
    of `instance` in its file."""
    errors = list(validator.iter_errors(instance))
    if not errors:
        return None

    def rank(e) -> tuple:
        path = list(e.absolute_path)
        if not path:
            return (0 if e.validator == "type" else 2, 0)
        return (1 if path[0] in _FIRST else 3, len(path))

    e = min(errors, key=rank)
    if e.validator == "required":
        missing = [k for k in e.validator_value if k not in e.instance]
        return f"{_path([*root, *e.absolute_path], missing[0])}: missing"
    expect = e.schema.get("x-expect") if isinstance(e.schema, dict) else None
    return f"{_path([*root, *e.absolute_path]) or 'file'}: expected {expect or e.message}, got {_show(e.instance)}"


def _path(parts, last: str | None = None) -> str:
    out = ""
    for p in [*parts, *([last] if last is not None else [])]:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__.replace("dict", "an object") \
        .replace("list", "a list")
    return text if len(text) <= 40 else text[:37] + "..."
