"""The genetic search: DEAP NSGA-II over LUT networks, fitness from the Numba kernels."""

from hcl.evolve.config import EvolveConfig
from hcl.evolve.run import evolve, resume
from hcl.evolve.search import EvolveResult

__all__ = ["EvolveConfig", "EvolveResult", "evolve", "resume"]
