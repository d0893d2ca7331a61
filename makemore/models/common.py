"""What every model family shares: counting parameters and cutting inputs into bounded batches."""

from __future__ import annotations

from collections.abc import Iterator

import microtorch
from microtorch import nn

EVAL_BATCH = 16_384  # rows per forward in evaluation and calibration: bounded memory, any split size


def count_parameters(model: nn.Module) -> int:
    """The number of trainable scalars (buffers such as running statistics excluded)."""
    return sum(p.numel() for p in model.parameters())


def batches(X: microtorch.Tensor, batch_size: int = EVAL_BATCH) -> Iterator[microtorch.Tensor]:
    """X in consecutive slices of at most batch_size rows (views of X's array, no copies)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    array = X.numpy()
    for start in range(0, len(array), batch_size):
        yield microtorch.from_numpy(array[start:start + batch_size])
