"""microtorch.utils: data (datasets, samplers, DataLoader) and tensorboard (SummaryWriter)."""
from . import data

__all__ = ["data"]
