"""A run of the search with its run directory: config, checkpoints, per-generation log, results, resume.

Run directory (every file written atomically)::

    config.toml        the options used (resume reads it back)
    run.json           status, seed, versions, timings, figures of the best network
    log.csv            one row per generation
    checkpoint.json    population + RNG state after the last checkpointed generation
    best.json          the selected network (highest validation accuracy; fewest LUTs on a tie)
    pareto/NNN.json    the Pareto front (validation accuracy vs LUTs), fewest LUTs first
    convergence.png    accuracy and LUTs over generations
    pareto.png         the final population and its Pareto front
    .lock              held (flock) by the run writing the folder: a second run on it is refused
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import platform
import signal
import sys
import time
from pathlib import Path

import numpy as np

from hcl import __version__, cost
from hcl.errors import ConfigError
from hcl.evolve import plots
from hcl.evolve.config import UNTIL_TIME_LIMIT, EvolveConfig, load_toml, to_toml
from hcl.evolve.problem import Problem, candidate, validation_accuracy
from hcl.evolve.search import EvolveResult, SearchState, pareto_front, run_search
from hcl.files import atomic_write_text
from hcl.network import Network
from hcl.tasks import Dataset

CHECKPOINT_VERSION = 1


RUN_FILES = ("config.toml", "checkpoint.json", "run.json", "best.json")
# What --resume may change; every other option is the run's and must be as it started.
RESUMABLE = ("generations", "time_limit", "executor", "out")


def evolve(config: EvolveConfig, dataset: Dataset | None = None, progress: bool = True,
           overwrite: bool = False) -> EvolveResult:
    """Run a search; write the run directory when `config.out` is set. A folder that holds a run already is
    refused unless `overwrite` (it would be replaced)."""
    config.validate()
    t_start = time.monotonic()      # --time-limit counts loading the data too
    out = Path(config.out) if config.out else None
    if out is not None and not overwrite:
        _refuse_a_run_folder(out)
    problem = Problem(config, dataset)
    if out is None:
        return _run(problem, None, out, progress, t_start)
    out.mkdir(parents=True, exist_ok=True)
    with run_folder_lock(out):
        if not overwrite:
            _refuse_a_run_folder(out)       # again, holding the lock: another run may have written it meanwhile
        atomic_write_text(out / "config.toml", to_toml(config.to_dict()))
        return _run(problem, None, out, progress, t_start)


def resume(run_dir: str | Path, generations: int | None = None, time_limit: float | None = None,
           dataset: Dataset | None = None, progress: bool = True, executor: str | None = None) -> EvolveResult:
    """Continue the run in `run_dir` from its checkpoint; only the stopping rules may change."""
    out = Path(run_dir)
    if not (out / "config.toml").is_file() or not (out / "checkpoint.json").is_file():
        raise ConfigError(f"--resume: {out} holds no config.toml + checkpoint.json from an earlier hcl evolve")
    config = EvolveConfig.from_dict(load_toml(out / "config.toml"), where=str(out / "config.toml"))
    if generations is not None:
        config.generations = generations
    config.time_limit = time_limit
    if executor is not None:
        config.executor = executor
    config.out = str(out)
    config.validate()
    t_start = time.monotonic()
    with run_folder_lock(out):
        problem = Problem(config, dataset)
        state = load_checkpoint(problem, out / "checkpoint.json")
        _check_resumable(problem, out)
        atomic_write_text(out / "config.toml", to_toml(config.to_dict()))
        return _run(problem, state, out, progress, t_start)


def _refuse_a_run_folder(out: Path) -> None:
    held = [name for name in RUN_FILES if (out / name).exists()]
    if held:
        raise ConfigError(f"--out {out}: holds a run already ({', '.join(held)}); a new run would replace it: give "
                          f"another --out, continue it with --resume {out}, or replace it with --overwrite")


def _check_resumable(problem: Problem, out: Path) -> None:
    """--resume continues the run on the data and options it started with: the checkpoint records both (the
    splits' sha256, the options); an edited config.toml or changed data is refused, naming what changed."""
    saved = json.loads((out / "checkpoint.json").read_text())
    config = problem.config.to_dict()
    started = saved.get("config")
    if isinstance(started, dict):
        changed = [key for key in sorted(set(started) | set(config))
                   if key not in RESUMABLE and started.get(key) != config.get(key)]
        if changed:
            shown = "; ".join(f"{key} {started.get(key)!r} -> {config.get(key)!r}" for key in changed[:3])
            raise ConfigError(f"--resume {out}: config.toml was edited since the run started ({shown}); a run "
                              "continues with its own options (only --generations, --time-limit and --executor "
                              "may change): restore them, or start a new run with another --out")
    splits = saved.get("splits")
    if not isinstance(splits, dict) and (out / "run.json").is_file():
        with contextlib.suppress(ValueError, OSError):
            splits = json.loads((out / "run.json").read_text()).get("splits")
    if isinstance(splits, dict):
        now = split_record(problem)
        for name in ("train", "val", "test"):
            if isinstance(splits.get(name), dict) and splits[name].get("sha256") != now[name]["sha256"]:
                raise ConfigError(f"--resume {out}: the data changed since the run started (the {name} split's "
                                  f"rows differ: {splits[name].get('rows')} rows then, {now[name]['rows']} now, "
                                  f"sha256 differs); resume on the data the run started with ({problem.config.data}"
                                  "), or start a new run with another --out")


@contextlib.contextmanager
def run_folder_lock(out: Path):
    """Hold an exclusive flock on ``out/.lock`` while a run writes the folder; the kernel releases it when the
    process ends, however it ends, so a killed run leaves no stale lock. Holding it, the temporary files of
    atomic writes that a killed run left (``.NAME.*.tmp``, in the folder and pareto/) are known stale: removed."""
    with open(out / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"--out {out}: another hcl evolve is writing this folder; wait for it to end, "
                              "or give another --out") from None
        for stale in [*out.glob(".*.tmp"), *out.glob("pareto/.*.tmp")]:
            stale.unlink(missing_ok=True)
        yield


def _run(problem: Problem, state: SearchState | None, out: Path | None, progress: bool,
         t_start: float) -> EvolveResult:
    config = problem.config
    problem.verbose = progress
    problem.t_start = t_start
    for warning in problem.warnings:       # shown even with --quiet; kept in run.json
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    display = Progress(config, enabled=progress)

    def on_generation(st: SearchState, row: dict) -> None:
        display.update(row)
        if out is not None:
            write_log(out / "log.csv", st.log)
            if st.generation % config.checkpoint_every == 0 or st.generation == config.generations:
                save_checkpoint(problem, st, out / "checkpoint.json")

    def should_stop(st: SearchState) -> str | None:
        # --time-limit covers the whole run: loading and the start count (t_start), and a generation that would
        # end after the limit (judged by the last one's length) is not begun.
        if config.time_limit is not None and \
                time.monotonic() - t_start + _last_generation_s(st.log) >= config.time_limit:
            return "time-limit"
        return None

    interrupted = []

    def on_sigint(signum, frame):  # finish the generation in flight, then checkpoint and stop
        interrupted.append(True)
        display.note("interrupt: finishing this generation, then writing a checkpoint")

    from hcl.evolve.executors import make_executor
    executor = make_executor(config.executor, problem)
    previous = signal.signal(signal.SIGINT, on_sigint) if _main_thread() else None
    try:
        state, stopped = run_search(problem, state, on_generation,
                                    lambda st: "interrupted" if interrupted else should_stop(st), executor)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        display.close()
        executor.close()
    if out is not None:
        save_checkpoint(problem, state, out / "checkpoint.json")
    return finish(problem, state, stopped, out)


def _last_generation_s(log: list[dict]) -> float:
    return log[-1]["elapsed_s"] - log[-2]["elapsed_s"] if len(log) >= 2 else 0.0


def _main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def select_best(front: list[tuple[Network, float, int]]) -> tuple[Network, float, int]:
    """The run's result, chosen on the validation split (the accuracy the front holds: validation_accuracy):
    the most accurate network, fewest LUTs on a tie. The test split is only reported, never chosen on."""
    return max(front, key=lambda f: (f[1], -f[2]))


def check_limits(config: EvolveConfig, nets: list[Network]) -> None:
    """Every network a run returns must be within --max-luts / --max-depth: one that is not means the search
    let it through (a bug), and it must not reach a file as if it fitted."""
    for net in nets:
        c = cost.estimate(net)
        if (config.max_luts is not None and c["luts"] > config.max_luts) or \
                (config.max_depth is not None and c["depth"] > config.max_depth):
            raise RuntimeError(f"internal error: a network of {c['luts']} LUTs / depth {c['depth']} reached the "
                               f"results, over --max-luts {config.max_luts} / --max-depth {config.max_depth}; "
                               "nothing was written (please report this)")


def finish(problem: Problem, state: SearchState, stopped: str, out: Path | None) -> EvolveResult:
    front = pareto_front(problem, state.population, state.archive)
    check_limits(problem.config, [net for net, _, _ in front])
    best_net, best_val, _ = select_best(front)
    best_cost = cost.estimate(best_net)
    train = problem.accuracy(best_net, "train")
    test = problem.accuracy(best_net, "test")
    for net, val, luts in front:
        net.meta = _meta(problem, net, val)
    best_net.meta = _meta(problem, best_net, best_val)
    result = EvolveResult(best_net, [f[0] for f in front], train, best_val, test, best_cost, state.log,
                          state.generation, stopped, out)
    if out is not None:
        best_net.save(out / "best.json")
        pareto_dir = out / "pareto"
        pareto_dir.mkdir(exist_ok=True)
        for stale in pareto_dir.glob("*.json"):
            stale.unlink()
        for i, (net, _, _) in enumerate(front):
            net.save(pareto_dir / f"{i:03d}.json")
        title = f"{problem.config.task}, K={problem.config.k}, seed {problem.config.seed}"
        if state.log:
            plots.convergence(state.log, out / "convergence.png", title)
        population = [(c.luts, validation_accuracy(problem, c)) for c in state.population]
        plots.pareto(population, [(luts, val) for _, val, luts in front], out / "pareto.png", title)
        atomic_write_text(out / "run.json", json.dumps(run_summary(problem, result), indent=1) + "\n")
    return result


def _meta(problem: Problem, net: Network, val: float) -> dict:
    c = problem.config
    inputs = problem.dataset.extra.get("inputs")      # how a user's file becomes the input words (hcl predict)
    return {"seed": c.seed, "task_options": c.task_options, "data": c.data, "k": c.k,
            **({"inputs": inputs} if inputs else {}),
            "train_accuracy": round(problem.accuracy(net, "train"), 6), "val_accuracy": round(val, 6),
            "test_accuracy": round(problem.accuracy(net, "test"), 6), "cost": cost.estimate(net),
            "fitted_on": problem.fitted_on, "hcl_version": __version__}


def run_summary(problem: Problem, result: EvolveResult) -> dict:
    import deap
    import numba
    return {
        "status": result.stopped,
        "generations_done": result.generations_done,
        "task": problem.config.task,
        "seed": problem.config.seed,
        "train_accuracy": result.train_accuracy,
        "val_accuracy": result.val_accuracy,
        "test_accuracy": result.test_accuracy,
        **{k: v for k, v in result.cost.items() if k != "estimate"},
        "pareto_points": len(result.pareto),
        "warnings": problem.warnings,
        **({"arch_search": problem.arch_summary} if problem.arch_summary is not None else {}),
        "splits": split_record(problem),
        "fitted_on": problem.fitted_on,
        "evaluations": result.log[-1]["evaluations"] if result.log else 0,
        "elapsed_s": result.log[-1]["elapsed_s"] if result.log else 0.0,
        "versions": {"hcl": __version__, "python": platform.python_version(), "numpy": np.__version__,
                     "numba": numba.__version__, "deap": deap.__version__},
    }


def split_record(problem: Problem) -> dict:
    """Rows and a sha256 of each split's raw features and labels: two runs used the same data iff these match.
    The hashes are the splits' identities (Dataset.identity), computed once per data set."""
    out = {}
    for name in ("train", "val", "test"):
        split = problem.dataset.identity(name)
        out[name] = {"rows": split.rows, "sha256": split.sha256}
    source = problem.dataset.extra.get("split_source")
    if source:
        out["source"] = source
    return out


# ---- checkpoints ------------------------------------------------------------------------------------------------
def save_checkpoint(problem: Problem, state: SearchState, path: Path) -> None:
    data = {
        "format": "hcl-checkpoint", "version": CHECKPOINT_VERSION,
        "generation": state.generation, "evaluations": state.evaluations, "elapsed": state.elapsed,
        "rng": state.rng.bit_generator.state,
        "population": [{"network": c.ev.net.to_dict(), "crowding": getattr(c.fitness, "crowding_dist", 0.0)}
                       for c in state.population],
        "log": state.log,
        "archive": [net.to_dict() for net, _, _ in state.archive],
        "config": problem.config.to_dict(),      # what --resume must find unchanged (_check_resumable)
        "splits": split_record(problem),
    }
    atomic_write_text(path, json.dumps(data) + "\n")


def load_checkpoint(problem: Problem, path: Path) -> SearchState:
    try:
        data = json.loads(path.read_text())
        if data.get("format") != "hcl-checkpoint" or data.get("version") != CHECKPOINT_VERSION:
            raise ConfigError(f"{path}: not an hcl checkpoint of version {CHECKPOINT_VERSION}")
        rng = np.random.default_rng()
        rng.bit_generator.state = data["rng"]
        pop = []
        for item in data["population"]:
            cand = candidate(problem, problem.train.full(Network.from_dict(item["network"])))
            cand.fitness.crowding_dist = item["crowding"]
            pop.append(cand)
        archive = []
        for item in data.get("archive", []):
            net = Network.from_dict(item)
            archive.append((net, problem.accuracy(net, "val"), cost.estimate(net)["luts"]))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"{path}: damaged checkpoint ({e.__class__.__name__}: {e}); start a new run") from None
    return SearchState(int(data["generation"]), pop, rng, list(data["log"]), int(data["evaluations"]),
                       float(data["elapsed"]), archive)


def write_log(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())


# ---- progress display ---------------------------------------------------------------------------------------------
class Progress:
    """A rich progress bar on a terminal; a plain line per generation otherwise (CI logs)."""

    def __init__(self, config: EvolveConfig, enabled: bool):
        self.config = config
        self.enabled = enabled
        self.bar = None
        if enabled and sys.stderr.isatty():
            from rich.progress import BarColumn, Progress as RichProgress, TextColumn, TimeRemainingColumn
            timed = config.generations >= UNTIL_TIME_LIMIT
            self.bar = RichProgress(TextColumn("gen {task.completed}" + ("" if timed else "/{task.total}")),
                                    BarColumn(), TextColumn("{task.fields[status]}"), TimeRemainingColumn(),
                                    transient=False)
            self.task = self.bar.add_task("evolve", total=None if timed else config.generations, status="starting")
            self.bar.start()

    def update(self, row: dict) -> None:
        if not self.enabled:
            return
        status = (f"train {row['best_train_accuracy']:.4f} val {row['best_val_accuracy']:.4f} "
                  f"LUTs {row['best_luts']} depth {row['best_depth']} {row['evals_per_s']:.0f} evals/s")
        if self.config.time_limit:
            status += f" {max(0.0, self.config.time_limit - row['elapsed_s']):.0f}s left"
        if self.bar is not None:
            self.bar.update(self.task, completed=row["generation"], status=status)
        else:
            total = "" if self.config.generations >= UNTIL_TIME_LIMIT else f"/{self.config.generations}"
            print(f"gen {row['generation']:>4}{total} {status}", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
