"""Loading speed of a user's CSV (issue 15): rows/s of the reader before and after, and of the parsed-table cache.

    python benchmarks/bench_load.py [--rows 100000] [--repeats 3] [--out benchmarks/results/load.md]

The file is shaped like the 82,000-row intrusion CSV a user brought: an id, three string columns (up to 131
values), 39 numeric columns (integers and floats), a label and a second label-like column; seeded. "before" is
the reader of commit f799784 (a Python int()/float() per cell), taken from git, so both run in one process on the
same file; "after" is hcl.tasks.tablefile.read_table; "cached" is hcl.tasks.cache.cached_table on a warm cache
(hashing the file, loading the .npz). Medians of --repeats runs, CPU seconds beside wall seconds.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BEFORE = "f799784"


def make_csv(path: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    header = ["id", "proto", "service", "state"] + [f"f{j}" for j in range(39)] + ["attack_cat", "label"]
    cols = [np.arange(1, n + 1).astype(str),
            np.char.add("p", rng.integers(0, 131, n).astype(str)),
            np.char.add("s", rng.integers(0, 13, n).astype(str)),
            np.char.add("st", rng.integers(0, 9, n).astype(str))]
    for j in range(39):
        cols.append(rng.integers(0, 10**6, n).astype(str) if j % 2 else np.char.mod("%.6f", rng.exponential(3.0, n)))
    cols.append(np.char.add("c", rng.integers(0, 10, n).astype(str)))
    cols.append(rng.integers(0, 2, n).astype(str))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(zip(*[c.tolist() for c in cols]))


def old_reader():
    """`_read_csv` of the reader before this change, from git (None when git or the commit is not there)."""
    try:
        text = subprocess.run(["git", "show", f"{BEFORE}:hcl/tasks/tabular.py"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = Path(tempfile.mkdtemp())
    (folder / "old_tabular.py").write_text(text.replace('@register("file")', ""))
    spec = importlib.util.spec_from_file_location("old_tabular", folder / "old_tabular.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return lambda path: module._read_csv(path, None)


def timed(fn, repeats: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "load.md")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hcl-load-"))
    os.environ["HCL_CACHE_DIR"] = str(work / "cache")
    from hcl.tasks.cache import cached_table
    from hcl.tasks.tablefile import read_table

    path = work / "flows.csv"
    make_csv(path, args.rows)
    size_mb = path.stat().st_size / 1e6
    rows = [("after: read_table (int/float mapped straight into numpy)", lambda: read_table(path))]
    old = old_reader()
    if old is not None:
        rows.insert(0, (f"before: reader of {BEFORE} (int()/float() per cell)", lambda: old(path)))
    cached_table(path)                                  # warm the cache
    rows.append(("cached: cached_table, warm (sha256 + .npz)", lambda: cached_table(path)))
    lines = [f"# Loading a user's CSV ({args.rows:,} rows x 45 columns, {size_mb:.1f} MB)", "",
             f"    python benchmarks/bench_load.py --rows {args.rows} --repeats {args.repeats}", "",
             f"Medians of {args.repeats} runs on this machine; one process, same file.", "",
             "| reader | wall s | CPU s | rows/s (wall) |", "|---|---|---|---|"]
    for name, fn in rows:
        wall, cpu = timed(fn, args.repeats)
        lines.append(f"| {name} | {wall:.2f} | {cpu:.2f} | {args.rows / wall:,.0f} |")
        print(lines[-1], flush=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
