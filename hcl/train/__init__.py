"""Gradient training of LUT networks (DWN's method: Bacellar et al., ICML 2024, arXiv 2410.11112), in Numba.

``efd`` holds the formulas (the extended-finite-difference matrix and a slow numpy reference of every gradient),
``kernels`` the @njit forward/backward/Adam kernels, ``model`` the trainer: real-valued tables, a learnable
first-layer mapping, group-sum output with a temperature, minibatch Adam; its ``export`` gives a plain
:class:`hcl.network.Network` with the one network semantics.
"""

from hcl.train.model import TrainConfig, TrainableNetwork, TrainLog, train_network

__all__ = ["TrainConfig", "TrainableNetwork", "TrainLog", "train_network"]
