"""The LUT network: the one definition of its semantics, and its JSON file format.

Semantics (the same in the Numba kernels, the numpy reference, and the emitted VHDL):

* Layer 0 is the encoded input: ``n_inputs`` bits, bit ``i`` being the encoder's comparison ``i``.
* LUT layer ``l`` (1-based) holds ``layer_sizes[l-1]`` K-input LUTs. LUT ``j`` of layer ``l`` reads the K signals
  ``wiring[l-1][j][0..K-1]`` of layer ``l-1`` (indices local to that layer).
* LUT address bit order: ``address = sum(in[i] << i for i in range(K))`` -- input 0 is the least significant
  address bit. The truth table is a 2^K-bit integer; the LUT's output is bit ``address`` of it. In the file the
  table is written as hexadecimal (most significant digit first, ``2^K / 4`` digits, at least one).
* The last layer is split into class groups: ``groups[c]`` lists the last-layer LUT indices of class ``c``; the
  groups partition the last layer. A class's score is the popcount of its group.
* The prediction is the argmax of the scores; a tie goes to the lowest class index.

File format (JSON, ``"format": "hcl-lut-network"``, ``"version": 1``)::

    {"format": "hcl-lut-network", "version": 1, "task": "sipm", "k": 6,
     "encoder": {...},                       # see hcl.encode.Encoder.to_dict
     "n_inputs": 96, "layer_sizes": [64, 20],
     "layers": [{"wiring": [[i0, ..., iK-1], ...], "tables": ["f0e1...", ...]}, ...],
     "classes": ["single", "pileup"], "groups": [[0, ..., 9], [10, ..., 19]],
     "meta": {...}}                          # free-form: seed, scores, hcl version
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hcl import schemas
from hcl.files import atomic_write_text
from hcl.errors import NetworkFormatError

FORMAT = "hcl-lut-network"
VERSION = 1
K_MIN, K_MAX = schemas.K_MIN, schemas.K_MAX


def table_mask(k: int) -> int:
    return (1 << (1 << k)) - 1


@dataclass
class Network:
    k: int
    n_inputs: int
    wiring: list[np.ndarray]          # per LUT layer: int32 [n_luts, k], indices into the previous layer
    tables: list[np.ndarray]          # per LUT layer: uint64 [n_luts], low 2^k bits used
    groups: list[list[int]]           # per class: last-layer LUT indices
    classes: list[str]
    task: str = ""
    encoder: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    # ---- structure -------------------------------------------------------------------------------------------
    @property
    def layer_sizes(self) -> list[int]:
        return [int(w.shape[0]) for w in self.wiring]

    @property
    def n_luts(self) -> int:
        return int(sum(self.layer_sizes))

    @property
    def depth(self) -> int:
        """LUT levels of the network proper (the encoder and output logic are counted by hcl.cost)."""
        return len(self.wiring)

    @property
    def n_classes(self) -> int:
        return len(self.groups)

    def layer_offsets(self) -> np.ndarray:
        """Global signal index of each layer's first signal: inputs first, then every LUT layer in order."""
        return np.cumsum([0, self.n_inputs] + self.layer_sizes).astype(np.int64)

    def flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kernel form: wiring in global signal indices int32 [n_luts, k], tables uint64 [n_luts], and
        ``group_of`` int32 [n_luts]: the class of each last-layer LUT, -1 elsewhere."""
        offsets = self.layer_offsets()
        wires = np.concatenate([w.astype(np.int64) + offsets[i] for i, w in enumerate(self.wiring)]).astype(np.int32)
        tables = np.concatenate(self.tables).astype(np.uint64)
        group_of = np.full(self.n_luts, -1, dtype=np.int32)
        last = self.n_luts - self.layer_sizes[-1]
        for c, members in enumerate(self.groups):
            group_of[last + np.asarray(members, dtype=np.int64)] = c
        return wires, tables, group_of

    def live_luts(self) -> list[np.ndarray]:
        """Per layer, a bool mask of the LUTs in the cone of some class output (the others are dead logic)."""
        live = [np.zeros(n, dtype=bool) for n in self.layer_sizes]
        live[-1][:] = True
        for layer in range(len(self.wiring) - 1, 0, -1):
            live[layer - 1][np.unique(self.wiring[layer][live[layer]])] = True
        return live

    def live_inputs(self) -> np.ndarray:
        """Bool mask of the encoded input bits some live first-layer LUT reads."""
        used = np.zeros(self.n_inputs, dtype=bool)
        used[np.unique(self.wiring[0][self.live_luts()[0]])] = True
        return used

    def pruned(self) -> tuple["Network", np.ndarray]:
        """The network without dead LUTs, and the global indices (into this network's LUTs) of those kept."""
        live = self.live_luts()
        if all(m.all() for m in live):
            return self, np.arange(self.n_luts)
        net = self.copy()
        kept = []
        offset = 0
        for layer, mask in enumerate(live):
            net.wiring[layer] = net.wiring[layer][mask]
            net.tables[layer] = net.tables[layer][mask]
            kept.append(offset + np.flatnonzero(mask))
            offset += len(mask)
            if layer + 1 < len(live):
                new_index = np.cumsum(mask) - 1
                net.wiring[layer + 1] = new_index[net.wiring[layer + 1]].astype(np.int32)
        return net, np.concatenate(kept)

    def copy(self) -> "Network":
        return Network(self.k, self.n_inputs, [w.copy() for w in self.wiring], [t.copy() for t in self.tables],
                       [list(g) for g in self.groups], list(self.classes), self.task,
                       json.loads(json.dumps(self.encoder)) if self.encoder is not None else None,
                       dict(self.meta))

    def validate(self) -> "Network":
        """Raise NetworkFormatError naming the first inconsistent field."""
        if not (K_MIN <= self.k <= K_MAX):
            raise NetworkFormatError(f"k: {self.k} is outside {K_MIN}..{K_MAX}")
        if self.n_inputs < 1:
            raise NetworkFormatError(f"n_inputs: must be at least 1, got {self.n_inputs}")
        if not self.wiring:
            raise NetworkFormatError("layers: a network needs at least one LUT layer")
        if len(self.wiring) != len(self.tables):
            raise NetworkFormatError("layers: wiring and tables have different layer counts")
        prev = self.n_inputs
        for i, (w, t) in enumerate(zip(self.wiring, self.tables)):
            where = f"layers[{i}]"
            if w.ndim != 2 or w.shape[1] != self.k:
                raise NetworkFormatError(f"{where}.wiring: each LUT needs exactly k={self.k} inputs")
            if w.shape[0] < 1:
                raise NetworkFormatError(f"{where}: a layer needs at least one LUT")
            if t.shape != (w.shape[0],):
                raise NetworkFormatError(f"{where}.tables: {t.shape[0]} tables for {w.shape[0]} LUTs")
            if w.min() < 0 or w.max() >= prev:
                bad = int(w.max()) if w.max() >= prev else int(w.min())
                raise NetworkFormatError(f"{where}.wiring: index {bad} out of range 0..{prev - 1}")
            if self.k < 6 and (t.astype(np.uint64) >> np.uint64(1 << self.k)).any():
                raise NetworkFormatError(f"{where}.tables: a table has bits above 2^k={1 << self.k}")
            prev = w.shape[0]
        if len(self.classes) != len(self.groups) or len(self.groups) < 2:
            raise NetworkFormatError(f"groups: need one group per class and at least 2 classes, "
                                     f"got {len(self.groups)} groups for {len(self.classes)} classes")
        members = sorted(i for g in self.groups for i in g)
        if members != list(range(prev)):
            raise NetworkFormatError(f"groups: must partition the last layer's {prev} LUTs (each index once)")
        if any(len(g) == 0 for g in self.groups):
            raise NetworkFormatError("groups: every class needs at least one LUT")
        return self

    # ---- file format -----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        digits = max(1, (1 << self.k) // 4)
        return {
            "format": FORMAT,
            "version": VERSION,
            "task": self.task,
            "k": self.k,
            "encoder": self.encoder,
            "n_inputs": self.n_inputs,
            "layer_sizes": self.layer_sizes,
            "layers": [{"wiring": w.tolist(), "tables": [format(int(x), f"0{digits}x") for x in t]}
                       for w, t in zip(self.wiring, self.tables)],
            "classes": list(self.classes),
            "groups": [list(map(int, g)) for g in self.groups],
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, d: Any) -> "Network":
        """Read a network file's object: its JSON types and ranges against `hcl.schemas.NETWORK`, then what
        depends on values (table lengths on k, wiring on layer sizes, groups, the encoder) in `validate`."""
        problem = schemas.first_error(d)
        if problem is not None:
            raise NetworkFormatError(problem)
        k, sizes = d["k"], d["layer_sizes"]
        layers = d["layers"]
        if len(layers) != len(sizes):
            raise NetworkFormatError(f"layer_sizes: {len(sizes)} entries for {len(layers)} layers")
        wiring, tables = [], []
        digits = max(1, (1 << k) // 4)
        for i, (layer, size) in enumerate(zip(layers, sizes)):
            where = f"layers[{i}]"
            rows = layer["wiring"]
            if not all(len(r) == k for r in rows):
                raise NetworkFormatError(f"{where}.wiring: each LUT needs exactly k={k} input indices")
            w = np.asarray(rows, dtype=np.int64).reshape(len(rows), k)
            if w.shape[0] != size:
                raise NetworkFormatError(f"layer_sizes[{i}]: says {size} but {where}.wiring has {w.shape[0]} LUTs")
            t = layer["tables"]
            if len(t) != w.shape[0]:
                raise NetworkFormatError(f"{where}.tables: need {w.shape[0]} tables")
            for j, h in enumerate(t):
                if len(h) != digits:
                    raise NetworkFormatError(f"{where}.tables[{j}]: need {digits} lowercase hex digits "
                                             f"(0-9a-f, no prefix or spaces) for k={k}, got {h!r:.40}")
            wiring.append(w.astype(np.int32))
            tables.append(np.array([int(h, 16) for h in t], dtype=np.uint64))
        encoder = d.get("encoder")
        net = cls(k, d["n_inputs"], wiring, tables, [list(g) for g in d["groups"]], list(d["classes"]),
                  d.get("task", ""), encoder, dict(d.get("meta", {})))
        net.validate()
        if encoder is not None:
            from hcl.encode import Encoder  # validates the encoder section against n_inputs
            Encoder.from_dict(encoder, expect_bits=d["n_inputs"])
        return net

    def save(self, path: str | os.PathLike) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Network":
        p = Path(path)
        try:
            if p.stat().st_size > MAX_FILE_BYTES:
                raise NetworkFormatError(f"{p}: {p.stat().st_size:,} bytes exceed {MAX_FILE_BYTES:,} (a network of "
                                         "the largest size hcl builds is a few tens of MB); not a network file?")
            text = p.read_text()
        except FileNotFoundError:
            raise NetworkFormatError(f"{p}: no such file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise NetworkFormatError(f"{p}: cannot read ({e.__class__.__name__})") from None
        try:
            d = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as e:
            raise NetworkFormatError(f"{p}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); "
                                     "truncated file?") from None
        except RecursionError:
            raise NetworkFormatError(f"{p}: JSON nested too deeply; not an hcl network file") from None
        except ValueError as e:          # NaN/Infinity, or a number of more than 4,300 digits
            raise NetworkFormatError(f"{p}: not valid JSON ({str(e).split(';')[0]})") from None
        try:
            return cls.from_dict(d)
        except NetworkFormatError as e:
            raise NetworkFormatError(f"{p}: {e}") from None


MAX_FILE_BYTES = 256 * 2**20


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def random_network(rng: np.random.Generator, k: int, n_inputs: int, layer_sizes: list[int], n_classes: int,
                   classes: list[str] | None = None, task: str = "") -> Network:
    """A random network: uniform wiring, uniform truth tables, last layer split into equal contiguous groups."""
    if layer_sizes[-1] < n_classes:
        raise NetworkFormatError(f"layer_sizes: the last layer needs at least one LUT per class ({n_classes})")
    wiring, tables, prev = [], [], n_inputs
    for size in layer_sizes:
        wiring.append(rng.integers(0, prev, size=(size, k), dtype=np.int32))
        tables.append(random_tables(rng, k, size))
        prev = size
    bounds = np.linspace(0, layer_sizes[-1], n_classes + 1).round().astype(int)
    groups = [list(range(bounds[c], bounds[c + 1])) for c in range(n_classes)]
    classes = classes or [str(c) for c in range(n_classes)]
    return Network(k, n_inputs, wiring, tables, groups, classes, task).validate()


def random_tables(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    raw = rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)
    return raw & np.uint64(table_mask(k))
