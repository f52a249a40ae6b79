"""From a pandas DataFrame to a proved design, in Python: fit hcl.LUTClassifier, plot its Pareto front, emit VHDL,
simulate it in GHDL and prove it equal to the network (tests/test_docs.py runs this script in `make test`).

    python examples/dataframe_to_rtl.py [OUT_DIR] [--budget SECONDS]

The table is the synthetic flow export of examples/make_own_data.py (integers, floats, text, an id and a second
label): the same rows `hcl evolve --task file` reads from its CSV. Simulation and the proof need GHDL and Yosys
(`make install` sets them up); without them the script says so and stops after emitting the design.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_own_data  # noqa: E402

from hcl import LUTClassifier  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default="runs/dataframe_example", type=Path)
    ap.add_argument("--budget", type=float, default=20.0, help="seconds of search")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    # 1. A DataFrame as a user has it: the label and the columns to leave out are named, not encoded by hand.
    make_own_data.write(args.out)
    train = pd.read_csv(args.out / "flows.csv")
    test = pd.read_csv(args.out / "flows_test.csv")
    X, y = train.drop(columns=["id", "attack_cat", "label"]), train["label"]
    X_test, y_test = test.drop(columns=["id", "attack_cat", "label"]), test["label"]

    # 2. Fit under a hardware budget: at most 60 LUTs (encoder, network and output), 20 s of search.
    clf = LUTClassifier(max_luts=60, time_limit=args.budget, random_state=1).fit(X, y)
    print(f"test accuracy {clf.score(X_test, y_test):.4f} at {clf.cost_['luts']} LUTs "
          f"(encoder {clf.cost_['luts_encoder']}), depth {clf.cost_['depth']}; classes {list(clf.classes_)}")

    # 3. The Pareto front: validation accuracy against LUTs (each network's meta holds its figures).
    luts = [n.meta["cost"]["luts"] for n in clf.pareto_]
    val = [n.meta["val_accuracy"] for n in clf.pareto_]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(luts, val, "o-", drawstyle="steps-post", label="Pareto front")
    ax.plot([clf.cost_["luts"]], [clf.network_.meta["val_accuracy"]], "r*", markersize=12, label="selected")
    ax.set(xlabel="LUTs (hcl.cost estimate)", ylabel="validation accuracy", title="flows: accuracy vs LUTs")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / "pareto.png", dpi=120)
    print(f"front of {len(clf.pareto_)} networks: {args.out / 'pareto.png'}")

    # 4. The design: VHDL with golden vectors from 200 test rows (coded by the input map fitted on training rows).
    design = clf.to_vhdl(args.out / "rtl", X_test.iloc[:200], registers="layer")
    print(f"{design.root}: entity {design.top}, {design.manifest['n_vectors']} vectors, "
          f"latency {design.manifest['latency_cycles']} cycles")
    clf.save(args.out / "network.json")                  # hcl info / predict / hcl.load read it

    # 5. Simulate every vector bit-exact, then prove the RTL equal to the network for every input.
    missing = [tool for tool in ("ghdl", "yosys") if shutil.which(tool) is None]
    if missing:
        print(f"skipped simulation and proof: {', '.join(missing)} not installed (make install sets them up)")
        return 0
    sim = clf.simulate(args.out / "rtl")
    print("\n".join(sim.lines()))
    proof = clf.verify(args.out / "rtl")
    print("\n".join(proof.lines()))
    return 0 if sim.passed and proof.proved else 1


if __name__ == "__main__":
    sys.exit(main())
