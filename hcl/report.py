"""What `hcl info` shows about a network file: structure, cost estimate, and accuracy on a task split."""

from __future__ import annotations

from pathlib import Path

from hcl import cost, timing
from hcl.errors import ConfigError
from hcl.network import Network


def network_info(path: str | Path, task: str | None = None, split: str = "test", data: str | Path | None = None,
                 seed: int | None = None) -> dict:
    net = Network.load(path)
    estimate = cost.estimate(net)
    info = {
        "task": net.task,
        "k": net.k,
        "n_inputs": net.n_inputs,
        "layers": net.layer_sizes,
        "classes": net.classes,
        "group_sizes": [len(g) for g in net.groups],
        "luts": estimate["luts"],
        "luts_encoder": estimate["luts_encoder"],
        "luts_network": estimate["luts_network"],
        "luts_output": estimate["luts_output"],
        "luts_estimate": cost.describe_estimate(estimate["luts"], net.k),
        "luts_error_band": cost.error_band(estimate["luts"], net.k),
        "depth": estimate["depth"],
        "latency_ns_combinational": timing.latency_ns(estimate["depth"])["latency_ns"],
        "latency_source": f"hcl.timing: depth x {timing.stage_ns(1)} ns ({timing.DEFAULT_FAMILY}; estimate)",
        "cost_source": estimate["estimate"],
    }
    if net.meta.get("inputs"):       # a network of a user's table: how each column becomes its input word
        from hcl.encode import Encoder
        from hcl.tasks.columns import InputMap
        enc = Encoder.from_dict(net.encoder, expect_bits=net.n_inputs)
        info["inputs"] = [f"x({o + w - 1} downto {o}): {c.name!r}, {c.describe()}"
                          for c, o, w in zip(InputMap.from_dict(net.meta["inputs"]).columns, enc.word_offsets(),
                                             enc.widths)]
    if task is not None:
        info.update(evaluate_on_task(net, task, split, data, seed))
    return info


def evaluate_on_task(net: Network, task: str, split: str, data, seed: int | None) -> dict:
    from hcl.encode import Encoder
    from hcl.evaluate import accuracy
    from hcl.tasks import load_task
    if net.encoder is None:
        raise ConfigError("network has no encoder section, so raw task data cannot be encoded for it")
    seed = net.meta.get("seed", 0) if seed is None else seed
    options = net.meta.get("task_options", {}) if task == net.task else {}
    data = data if data is not None else (net.meta.get("data") if task == net.task else None)
    ds = load_task(task, seed=seed, data=data, **options)
    X, y = ds.split(split)
    encoder = Encoder.from_dict(net.encoder, expect_bits=net.n_inputs)
    if encoder.n_features != ds.n_features:
        raise ConfigError(f"--task {task}: has {ds.n_features} features but the network's encoder expects "
                          f"{encoder.n_features}")
    return {"split": split, "samples": int(len(y)), "accuracy": accuracy(net, encoder.encode_packed(X), y)}
