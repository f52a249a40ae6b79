"""Errors hcl raises on bad input; the CLI turns each into one line on stderr and exit code 2."""


class HclError(Exception):
    """Base of every error whose message is meant for the user as is."""


class NetworkFormatError(HclError):
    """A network file is malformed, truncated or inconsistent."""


class DataError(HclError):
    """Input data is missing, malformed, or contains NaN/inf."""


class ConfigError(HclError):
    """An option or configuration value is invalid."""


class ToolError(HclError):
    """An external tool (ghdl, yosys, nextpnr) is missing or failed."""


class LeakError(HclError, AssertionError):
    """A bug, not bad input: a fitted piece was given rows other than the training split's (hcl.splits)."""
