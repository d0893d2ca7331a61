"""Optimizers and learning-rate schedulers with PyTorch's API: `torch.optim.SGD(model.parameters(), lr=0.1)`."""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
