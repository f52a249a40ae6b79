"""The torch side of hcl: U-Nets in FP32, Brevitas PTQ/QAT, and `hcl compare` against the evolved LUT network.

Nothing in the core imports this package; its modules import torch and Brevitas at the top, so import them only
where they are needed (the CLI does so inside the `compare` command). :func:`require_torch` turns a missing
install into a one-line error.
"""

from __future__ import annotations

from hcl.errors import ConfigError


def require_torch() -> None:
    """Raise a ConfigError saying how to install the bridge's dependencies when torch or Brevitas is missing."""
    missing = []
    for name in ("torch", "brevitas"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ConfigError(f"{' and '.join(missing)} not installed: hcl compare needs the bridge extra "
                          "(pip install -e '.[bridge]')")
