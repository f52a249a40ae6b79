"""`hcl predict`: what a network answers for every row of a user's file, computed by the golden model.

The rows go through the network's own input map (hcl.tasks.tabular.rows_for_network), the encoder and
hcl.reference: exactly what the emitted RTL computes (emit-vhdl's vectors come from the same functions).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hcl.emit import _encoder, check_inputs, golden
from hcl.files import atomic_write_text
from hcl.network import Network
from hcl.tasks.tabular import rows_for_network


@dataclass
class Predictions:
    classes: np.ndarray          # [n] class index
    scores: np.ndarray           # [n, C] popcounts
    names: list[str]             # class names
    y: np.ndarray | None         # [n] true class index, when the file has the label column
    label: str | None

    @property
    def accuracy(self) -> float | None:
        return None if self.y is None else float(np.mean(self.classes == self.y))

    def csv_text(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["row", "class", "class_name", *[f"score_{n}" for n in self.names],
                    *(["label", "correct"] if self.y is not None else [])])
        for i, (c, s) in enumerate(zip(self.classes.tolist(), self.scores.tolist())):
            extra = [self.names[self.y[i]], int(self.y[i] == c)] if self.y is not None else []
            w.writerow([i, c, self.names[c], *s, *extra])
        return buf.getvalue()


def predict(network: Network | str | os.PathLike, data: str | os.PathLike,
            label: str | int | None = None) -> Predictions:
    net = network if isinstance(network, Network) else Network.load(network)
    enc = _encoder(net)
    X, y, label_name = rows_for_network(data, net.meta.get("inputs"), enc.n_features, net.classes, label)
    X = check_inputs(X, enc, Path(data).name)
    classes, scores = golden(net, X)
    return Predictions(classes, scores, list(net.classes), y, label_name)


def write(pred: Predictions, out: str | os.PathLike) -> None:
    atomic_write_text(Path(out), pred.csv_text())
