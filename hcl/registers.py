"""Where `hcl emit-vhdl --registers` puts pipeline registers: one plan that the emitter builds and hcl.cost prices."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hcl.errors import ConfigError


@dataclass(frozen=True)
class RegisterPlan:
    """Where the pipeline registers go. ``after_layers`` holds LUT layer numbers (1-based)."""

    option: str
    after_encoder: bool
    after_layers: tuple[int, ...]
    after_output: bool

    @property
    def latency(self) -> int:
        return int(self.after_encoder) + len(self.after_layers) + int(self.after_output)


def register_plan(option: str, n_layers: int) -> RegisterPlan:
    text = str(option).strip().lower()
    if text == "none":
        return RegisterPlan("none", False, (), False)
    if text == "layer":
        return RegisterPlan("layer", True, tuple(range(1, n_layers + 1)), True)
    m = re.fullmatch(r"every=(\d+)", text)
    if m and int(m.group(1)) >= 1:
        n = int(m.group(1))
        return RegisterPlan(f"every={n}", False, tuple(range(n, n_layers + 1, n)), True)
    raise ConfigError(f"--registers {option!r}: use none, layer or every=N (N >= 1)")
