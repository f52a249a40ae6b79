"""Which rows fitted what: each split's identity, and the one check that only the training split fits anything.

A split's identity (:class:`Split`) is made once, where the data set is split: ``Dataset.identity(name)`` for
the rows a task returns, and hcl.tasks.tabular for the rows its input map is fitted on (before the data set
exists). It is the split's name, its row count and the sha256 of its features and of its labels.

Every fitted piece is given the identity of the rows it fits on and calls :func:`fitted_on` with what it was
given: the input map's fixed-point formats and category counts (hcl.tasks.columns), the encoder's thresholds
(hcl.encode), the search's training evaluator, whose rows the trainer, the refits and the selection by training
accuracy read (hcl.evolve.fitness), the regrow's sample (hcl.evolve.grow) and every call of the trainer
(hcl.evolve.lamarck). A piece given another split, or rows that are not the split's own, raises
:class:`~hcl.errors.LeakError` naming the piece and the split: a bug, never bad input. A run records what each
piece was fitted on (``meta.fitted_on`` of its networks and ``fitted_on`` in run.json: :func:`record`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from hcl.errors import LeakError

TRAIN = "train"


def digest(*arrays: np.ndarray) -> str:
    """sha256 of arrays: their dtypes, shapes and bytes (two splits hold the same rows iff these match)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _labels(y: np.ndarray) -> str:
    return digest(np.asarray(y, dtype=np.int64))


@dataclass(frozen=True)
class Split:
    name: str                      # train, val or test
    rows: int
    labels: str                    # sha256 of the labels as int64
    features: str | None = None    # sha256 of the feature rows as the data set holds them (None: not yet built)
    sha256: str | None = None      # of features and labels together: run.json's ``splits`` record

    @classmethod
    def of(cls, name: str, y: np.ndarray, X: np.ndarray | None = None) -> "Split":
        y = np.asarray(y)
        if X is None:
            return cls(name, int(len(y)), _labels(y))
        return cls(name, int(len(y)), _labels(y), digest(X), digest(X, y))

    def same_rows(self, other: "Split") -> bool:
        return (self.name, self.rows, self.labels) == (other.name, other.rows, other.labels)

    def describe(self) -> str:
        return f"the {self.name} split ({self.rows} rows)"


def fitted_on(piece: str, split: Split | None, *, X: np.ndarray | None = None, y: np.ndarray | None = None,
              n_rows: int | None = None, copies: bool = False) -> Split:
    """The one check: `piece` is being fitted on `split`, given feature rows `X`, labels `y` or just `n_rows`
    values of one column. Passes only for the training split's own rows; returns the split for the piece to
    record. With `copies`, `y` may be followed by whole copies of the split's labels (--augment's shifted
    images keep their labels)."""
    if split is None:
        raise LeakError(f"internal error: {piece} was fitted on rows of no known split; only the training split "
                        "may fit anything (please report this)")
    if split.name != TRAIN:
        raise LeakError(f"internal error: {piece} was fitted on {split.describe()}; only the training split may "
                        "fit anything (please report this)")
    given = len(X) if X is not None else len(y) if y is not None else n_rows
    if y is not None and copies and split.rows and given % split.rows == 0:
        chunks = np.asarray(y).reshape(-1, split.rows)
        if (chunks == chunks[0]).all():
            y, given = chunks[0], split.rows
    problem = None
    if given != split.rows:
        problem = f"{given} rows"
    elif y is not None and _labels(y) != split.labels:
        problem = "labels that are not its own"
    elif X is not None and split.features is not None and digest(X) != split.features:
        problem = "feature rows that are not its own"
    if problem is not None:
        raise LeakError(f"internal error: {piece} was given {problem} where {split.describe()} belongs; only the "
                        "training split's rows may fit anything (please report this)")
    return split


def record(pieces: dict[str, Split | None], train: Split) -> dict:
    """What a run's networks and run.json say about the rows their pieces were fitted on, after checking that
    each piece recorded the training split `train` (the data set's own)."""
    for piece, split in pieces.items():
        fitted_on(piece, split, n_rows=train.rows)
        if not split.same_rows(train):
            raise LeakError(f"internal error: {piece} was fitted on rows other than {train.describe()} (its "
                            f"labels differ); only the training split may fit anything (please report this)")
    return {"split": train.name, "rows": train.rows, "sha256": train.sha256, "pieces": sorted(pieces)}
