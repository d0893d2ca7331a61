"""torch.backends as seen without accelerators: mps and cudnn are never available."""
from . import cudnn, mps

__all__ = ["cudnn", "mps"]
