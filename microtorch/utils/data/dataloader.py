"""DataLoader and the default collation of samples into batches."""
from __future__ import annotations

import collections.abc
import itertools
import math
import warnings
from typing import Any, Callable, Generic, Iterable, TypeVar

import numpy as np

from ...random import Generator
from ...tensor import Tensor, as_tensor, int64, stack, tensor
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _draw_seed, _InfiniteConstantSampler

T = TypeVar("T")


# ---------------------------------------------------------------------- collation
_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def default_collate(batch: list) -> Any:
    """Merge a list of samples into a batch: tensors (and numpy arrays) are stacked along a new
    dimension 0, floats become a float64 tensor, ints an int64 tensor, bools a bool tensor,
    strings stay a list; dicts, tuples and lists are collated field by field (a tuple gives a
    list, as in PyTorch; a namedtuple keeps its type)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray) and elem.dtype.kind in "biufc":
        return stack([as_tensor(b) for b in batch], 0)
    if isinstance(elem, np.generic) and elem.dtype.kind in "biufc":
        return as_tensor(np.array(batch))
    if isinstance(elem, bool):
        return tensor(batch)
    if isinstance(elem, float):
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, int):
        return tensor(batch, dtype=int64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Without batching (batch_size=None): numpy arrays become tensors, containers are converted
    item by item, everything else is returned as it is."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biufc":
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(d) for d in data)
    return data


# ---------------------------------------------------------------------- the loader
class DataLoader(Generic[T]):
    """Batches from a dataset: DataLoader(dataset, batch_size=32, shuffle=True).

    shuffle=True uses a RandomSampler (drawing from `generator`, else the global generator);
    sampler / batch_sampler replace the index order; collate_fn merges samples (default_collate);
    batch_size=None yields single samples. num_workers, pin_memory, timeout, worker_init_fn,
    prefetch_factor and persistent_workers are accepted; loading happens in this process.
    """

    def __init__(
        self,
        dataset: Dataset[T],
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context=None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if num_workers > 0:
            warnings.warn(
                f"microtorch's DataLoader loads in the main process: num_workers={num_workers} gives the same batches, without worker processes",
                stacklevel=2,
            )
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> "_LoaderIterator":
        return _LoaderIterator(self)

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


class _LoaderIterator:
    """One pass over a DataLoader. Like PyTorch's, it draws a base seed from the loader's
    generator (or the global one) when created, so the random streams stay in step with PyTorch."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        if loader.pin_memory:  # PyTorch's notice on a machine without an accelerator, as here always
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", stacklevel=3)
        self._indices = iter(loader._index_sampler)
        self._base_seed = _draw_seed(loader.generator)
        self._stream = iter(loader.dataset) if loader._iterable else None
        self._done = False

    def __iter__(self) -> "_LoaderIterator":
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        loader = self._loader
        index = next(self._indices)  # StopIteration ends the pass
        if self._stream is not None:
            return self._next_from_stream(loader, index)
        dataset = loader.dataset
        if loader._auto_collation:
            getitems = getattr(dataset, "__getitems__", None)
            samples = getitems(index) if callable(getitems) else [dataset[i] for i in index]
        else:
            samples = dataset[index]
        return loader.collate_fn(samples)

    def _next_from_stream(self, loader: DataLoader, index):
        if not loader._auto_collation:
            return loader.collate_fn(next(self._stream))
        samples = list(itertools.islice(self._stream, len(index)))
        if not samples or (loader.drop_last and len(samples) < len(index)):
            self._done = True
            raise StopIteration
        return loader.collate_fn(samples)
