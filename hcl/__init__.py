"""hcl: a genetic-algorithm hardware compiler for LUT-based binary neural networks.

    from hcl import LUTClassifier          # the search as a scikit-learn estimator (hcl.estimator)
    clf = LUTClassifier(max_luts=300).fit(X, y)
    clf = hcl.load("runs/x/best.json")     # a fitted estimator from a network file

The estimator is imported on first use, so `import hcl` (and the CLI) stay light.
"""

__version__ = "0.1.0"
__all__ = ["LUTClassifier", "load", "__version__"]


def __getattr__(name: str):
    if name in ("LUTClassifier", "load"):
        from hcl import estimator
        return getattr(estimator, name)
    raise AttributeError(f"module 'hcl' has no attribute {name!r}")
