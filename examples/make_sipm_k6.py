"""Write examples/sipm_k6.json: a small K=6 LUT network for the sipm task, used by `make sim` and the tests.

Its truth tables and wiring are random (accuracy ~50 %): it exists to exercise emit and the testbench on the real
task's input words (32 x 12-bit ADC codes, comparators fitted on the training split), not to classify. Replace it
with an evolved network (`hcl evolve --task sipm ...`, then copy best.json here) for a meaningful demo; nothing else
needs to change.

    .venv/bin/python examples/make_sipm_k6.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hcl import __version__
from hcl.encode import Encoder
from hcl.network import random_network
from hcl.tasks import load_task

SEED = 0


def main() -> None:
    ds = load_task("sipm", seed=SEED)
    enc = Encoder.fit(ds.X_train, bits=4, input_width=ds.input_width, signed=ds.signed, threshold_bits=6)
    rng = np.random.default_rng(SEED)
    net = random_network(rng, 6, enc.n_bits, [48, 24, 10], ds.n_classes, classes=list(ds.classes), task="sipm")
    net.encoder = enc.to_dict()
    net.meta = {"seed": SEED, "task_options": {}, "hcl_version": __version__,
                "note": "random wiring and tables (examples/make_sipm_k6.py): a test fixture, not a trained network"}
    out = Path(__file__).with_name("sipm_k6.json")
    net.save(out)
    print(f"{out}: {enc.n_bits} comparators -> {net.layer_sizes} LUTs")


if __name__ == "__main__":
    main()
