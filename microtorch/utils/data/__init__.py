"""torch.utils.data for microtorch: datasets, samplers, DataLoader and random_split.

The random samplers draw from microtorch's generators with the same calls, in the same order,
as PyTorch's (a seed for a fresh generator from `empty((), dtype=int64).random_()`, then
`randperm(n)` per epoch, or `randint(0, n, (32,))` per 32 draws with replacement), and
iterating a DataLoader draws its base seed first, as PyTorch's does; so once the generators
produce PyTorch's stream, a loader yields PyTorch's batches for the same seed.

Loading is always in the main process: num_workers > 0 is accepted (with a note) and runs the
same code in-process; pin_memory is accepted and changes nothing on the CPU.
"""
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler",
    "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "default_collate", "default_convert", "random_split",
]
