"""microtorch.nn: Module, Parameter, layers and containers, plus nn.functional and nn.init.

    import microtorch.nn as nn
    import microtorch.nn.functional as F
"""
from . import functional, init
from .module import Module, Parameter
from .modules import (
    BatchNorm1d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    Linear,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)

__all__ = [
    "BatchNorm1d",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "Linear",
    "Module",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "functional",
    "init",
]
