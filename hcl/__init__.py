"""hcl: a genetic-algorithm hardware compiler for LUT-based binary neural networks."""

__version__ = "0.1.0"
