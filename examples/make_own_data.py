"""Write the "Your own data" example (README, docs/own-data.md): a small network-flow table as two CSV files.

    python examples/make_own_data.py DIR      -> DIR/flows.csv (train + validation rows), DIR/flows_test.csv

Columns as a user's export has them: an `id` (never a feature), a protocol and a service as text, a duration in
seconds and a byte rate as floats, packet counts as integers, the label, and `attack_cat`, a second label-like
column that gives the answer away (it must be dropped). Seeded: the same files every time.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

HEADER = ["id", "proto", "service", "duration", "rate", "packets", "ttl", "attack_cat", "label"]


def rows(n: int, rng: np.random.Generator, first_id: int) -> list[list]:
    attack = rng.random(n) < 0.4
    proto = np.where(attack, rng.choice(["tcp", "udp", "icmp", "sctp"], n, p=[0.3, 0.4, 0.2, 0.1]),
                     rng.choice(["tcp", "udp", "icmp", "sctp"], n, p=[0.7, 0.25, 0.04, 0.01]))
    service = rng.choice(["http", "dns", "ftp", "smtp", "-"], n)
    duration = np.where(attack, rng.exponential(0.05, n), rng.exponential(1.5, n))
    rate = np.where(attack, rng.lognormal(9, 1.0, n), rng.lognormal(6, 1.2, n))
    packets = np.where(attack, rng.poisson(4, n), rng.poisson(30, n)) + 1
    ttl = np.where(attack, rng.choice([254, 62], n, p=[0.8, 0.2]), rng.choice([31, 62, 254], n, p=[0.6, 0.3, 0.1]))
    noise = rng.random(n) < 0.05                          # some rows look like the other class
    label = np.where(attack ^ noise, "attack", "normal")
    cat = np.where(label == "attack", rng.choice(["dos", "exploit", "recon"], n), "benign")
    return [[first_id + i, proto[i], service[i], f"{duration[i]:.6f}", f"{rate[i]:.3f}", int(packets[i]),
             int(ttl[i]), cat[i], label[i]] for i in range(n)]


def write(folder: Path, n_train: int = 1600, n_test: int = 400, seed: int = 7) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "flows.csv", folder / "flows_test.csv"
    for path, n, first in ((paths[0], n_train, 1), (paths[1], n_test, n_train + 1)):
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(HEADER)
            w.writerows(rows(n, rng, first))
    return paths


if __name__ == "__main__":
    for p in write(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/own-data")):
        print(p)
