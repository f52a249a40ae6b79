"""--augment shift: the trainer reads each training image moved one pixel each way, besides the image itself;
accuracy, refits and selection still see the training split alone, and bad uses are one-line errors."""

import numpy as np
import pytest
from click.testing import CliRunner

from hcl import augment
from hcl.cli import main
from hcl.encode import unpack_rows
from hcl.errors import ConfigError
from hcl.evolve import EvolveConfig, evolve, lamarck
from hcl.evolve.problem import Problem


def test_each_copy_moves_the_image_one_pixel_in_its_direction():
    image = np.zeros((5, 6), dtype=np.uint8)
    image[2, 3] = 9
    copies = augment.shifted_copies(image.reshape(1, -1), (5, 6)).reshape(len(augment.SHIFTS), 5, 6)
    for copy, (dy, dx) in zip(copies, augment.SHIFTS):
        assert list(zip(*np.nonzero(copy))) == [(2 + dy, 3 + dx)]
        assert copy[2 + dy, 3 + dx] == 9


def test_a_vacated_edge_repeats_its_neighbour_and_copies_come_shift_by_shift():
    X = np.arange(2 * 12).reshape(2, 12)
    copies = augment.shifted_copies(X, (3, 4))
    assert copies.shape == (len(augment.SHIFTS) * 2, 12)
    right = copies[1].reshape(3, 4)            # the second sample moved right (the first shift)
    assert (right[:, 0] == X[1].reshape(3, 4)[:, 0]).all() and (right[:, 1:] == X[1].reshape(3, 4)[:, :3]).all()


def test_samples_that_are_not_images_of_that_shape_are_refused():
    with pytest.raises(ConfigError, match="--augment shift"):
        augment.shifted_copies(np.zeros((3, 10)), (3, 4))


def digits(**kw) -> EvolveConfig:
    return EvolveConfig(**{"task": "digits", "trainer": "efd", "augment": "shift", "seed": 1, **kw})


def test_the_trainer_reads_the_split_then_its_encoded_shifted_copies():
    problem = Problem(digits())
    ev, ds = problem.train, problem.dataset
    rows, labels = ev.trainer_data
    n = ev.n_samples
    assert ev.n_trainer_samples == len(rows) == len(labels) == (1 + len(augment.SHIFTS)) * n
    assert (rows[:n] == ev.rows).all() and (labels[:n] == ev.labels).all()
    moved = augment.shifted_copies(ds.X_train, (8, 8))
    expect = unpack_rows(problem.encoder.encode_packed(moved), len(moved)).T
    assert (rows[n:] == expect).all()
    assert (labels[n:] == np.tile(ev.labels, len(augment.SHIFTS))).all()
    # Accuracy and the search's own evaluations stay on the training split.
    assert ev.packed.shape == problem.packed["train"].shape


def test_start_and_children_train_on_the_copies(monkeypatch):
    seen = []
    for name in ("train_from_scratch", "continue_training"):
        real = getattr(lamarck, name)
        monkeypatch.setattr(lamarck, name, lambda *a, real=real, name=name, **kw:
                            seen.append((name, len(a[0]))) or real(*a, **kw))
    problem = Problem(digits(generations=1, population=4, train_epochs=1, tune_steps=5))
    evolve(problem.config, progress=False)
    n_trainer = problem.train.n_trainer_samples
    assert {name for name, _ in seen} == {"train_from_scratch", "continue_training"}
    assert all(n == n_trainer for _, n in seen)


def test_the_default_is_the_tasks_with_the_trainer_and_a_flag_wins():
    assert EvolveConfig(task="mnist").validate().augment == "shift"
    assert EvolveConfig(task="mnist", trainer="none").validate().augment == "none"
    assert EvolveConfig(task="digits", trainer="efd").validate().augment == "none"
    assert EvolveConfig(task="mnist", augment="none").validate().augment == "none"


@pytest.mark.parametrize("args,needle", [(["--task", "digits", "--augment", "shift"], "--trainer efd"),
                                         (["--task", "tiny", "--trainer", "efd", "--augment", "shift"],
                                          "not a set of images"),
                                         (["--task", "digits", "--trainer", "efd", "--augment", "flip"],
                                          "--augment")])
def test_bad_augment_options_are_one_line_errors(tmp_path, args, needle):
    r = CliRunner().invoke(main, ["evolve", "--out", str(tmp_path / "x"), "--quiet", "--generations", "0"] + args)
    assert r.exit_code == 2, r.output
    assert needle in r.output and "Traceback" not in r.output
    assert not (tmp_path / "x").exists()


def test_dask_workers_train_children_on_the_copies_too():
    pytest.importorskip("dask.distributed", reason="dask.distributed not installed: pip install 'hcl[cluster]'")
    config = dict(generations=2, population=4, train_epochs=1, tune_steps=60, max_luts=300)
    local = evolve(digits(**config), progress=False)
    dask = evolve(digits(**config, executor="dask-local:2"), progress=False)
    front = lambda result: [net.to_dict()["layers"] for net in result.pareto]
    assert front(dask) == front(local)
