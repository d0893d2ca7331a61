"""microtorch.utils.data: datasets, samplers, collation and DataLoader with PyTorch's semantics,
and the same random calls, in the same order, as PyTorch's samplers and loader make."""
import warnings
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import microtorch as torch
from microtorch.utils import data as data_module
from microtorch.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)
from microtorch.utils.data.dataloader import DataLoader as DataLoaderFromSubmodule


class Words(Dataset):
    """makemore.py's CharDataset in miniature: (x, y) pairs of int64 tensors."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.full((3,), i, dtype=torch.long), torch.tensor([i, -1, i])


def test_tensor_dataset_and_subset_and_concat():
    x, y = torch.arange(10).view(5, 2), torch.arange(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5 and ds[2][0].tolist() == [4, 5] and ds[2][1].item() == 2
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, torch.arange(4))
    sub = Subset(ds, [4, 0])
    assert len(sub) == 2 and sub[0][1].item() == 4
    both = ds + sub
    assert isinstance(both, ConcatDataset) and len(both) == 7 and both[5][1].item() == 4 and both[-1][1].item() == 0


def test_default_collate():
    t = default_collate([torch.ones(2), torch.zeros(2)])
    assert t.shape == (2, 2)
    assert default_collate([1, 2]).dtype == torch.int64 and default_collate([1.5, 2.0]).dtype == torch.float64
    assert default_collate([True, False]).dtype == torch.bool and default_collate(["a", "b"]) == ["a", "b"]
    pairs = default_collate([(torch.ones(2), 1), (torch.zeros(2), 0)])
    assert isinstance(pairs, list) and pairs[0].shape == (2, 2) and pairs[1].tolist() == [1, 0]  # a tuple gives a list
    dicts = default_collate([{"x": torch.ones(3), "n": 1}, {"x": torch.ones(3), "n": 2}])
    assert dicts["x"].shape == (2, 3) and dicts["n"].tolist() == [1, 2]
    assert isinstance(default_collate([OrderedDict(a=1), OrderedDict(a=2)]), OrderedDict)
    Point = namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3]
    assert default_collate([np.ones(2), np.zeros(2)]).shape == (2, 2)
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([None, None])


@pytest.mark.filterwarnings("ignore:'pin_memory' argument")
def test_dataloader_batches_and_options():
    ds = Words(10)
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert batches[0][1].tolist()[1] == [1, -1, 1]
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2 and len(list(DataLoader(ds, batch_size=4, drop_last=True))) == 2
    single = list(DataLoader(ds, batch_size=None))
    assert len(single) == 10 and single[3][0].tolist() == [3, 3, 3]
    assert len(list(DataLoaderFromSubmodule(ds, batch_size=5, collate_fn=lambda b: len(b)))) == 2
    batch_sampler = BatchSampler(SequentialSampler(ds), 3, drop_last=False)
    assert [len(b[0]) for b in DataLoader(ds, batch_sampler=batch_sampler)] == [3, 3, 3, 1]
    with pytest.warns(UserWarning, match="main process"):
        workers = DataLoader(ds, batch_size=5, num_workers=2, pin_memory=True, persistent_workers=True)
    assert len(list(workers)) == 2


def test_dataloader_errors_as_in_pytorch():
    ds = Words(4)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=SequentialSampler(ds))
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=BatchSampler(SequentialSampler(ds), 2, False))
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        BatchSampler(SequentialSampler(ds), 0, False)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(ds, num_samples=0)


def test_shuffle_visits_every_example_once_per_epoch_and_follows_the_generator():
    ds = Words(10)
    g = torch.Generator().manual_seed(3)
    loader = DataLoader(ds, batch_size=3, shuffle=True, generator=g)
    seen = [int(i) for b in loader for i in b[0][:, 0]]
    assert sorted(seen) == list(range(10))
    torch.manual_seed(5)
    a = [b[0][:, 0].tolist() for b in DataLoader(ds, batch_size=3, shuffle=True)]
    torch.manual_seed(5)
    b = [b[0][:, 0].tolist() for b in DataLoader(ds, batch_size=3, shuffle=True)]
    assert a == b


def test_random_sampler_with_replacement_is_lazy_and_bounded():
    sampler = RandomSampler(range(27), replacement=True, num_samples=int(1e10))  # makemore.py's sampler
    assert len(sampler) == 10**10
    it = iter(DataLoader(Words(27), batch_size=32, sampler=sampler))
    for _ in range(3):
        x, y = next(it)
        assert x.shape == (32, 3) and int(x.max()) < 27
    draws = list(RandomSampler(range(5), replacement=True, num_samples=70, generator=torch.Generator().manual_seed(0)))
    assert len(draws) == 70 and set(draws) <= set(range(5))
    perm = list(RandomSampler(range(5), num_samples=12, generator=torch.Generator().manual_seed(0)))
    assert len(perm) == 12 and sorted(perm[:5]) == list(range(5)) and sorted(perm[5:10]) == list(range(5))


def test_other_samplers():
    g = torch.Generator().manual_seed(1)
    assert sorted(SubsetRandomSampler([3, 7, 9], generator=g)) == [3, 7, 9]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0], 20, generator=g))
    assert w == [1] * 20
    assert list(BatchSampler(range(7), 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]] and len(BatchSampler(range(7), 3, False)) == 3


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(Stream(), batch_size=None))[:2] == [0, 1]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(), shuffle=True)


def test_random_split():
    g = torch.Generator().manual_seed(42)
    a, b = random_split(range(10), [7, 3], generator=g)
    assert len(a) == 7 and len(b) == 3 and sorted(list(a) + list(b)) == list(range(10))
    parts = random_split(range(11), [0.5, 0.3, 0.2], generator=g)
    assert [len(p) for p in parts] == [6, 3, 2]  # floor(5.5, 3.3, 2.2) = 5, 3, 2; the remainder goes to the first
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        random_split(range(10), [5, 4])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        assert [len(p) for p in random_split(range(2), [0.9, 0.1], generator=g)] == [2, 0]


def test_fraction_lengths_match_torch():
    torch_ = pytest.importorskip("torch")
    for n, fractions in [(11, [0.5, 0.3, 0.2]), (10, [0.9, 0.1]), (7, [1 / 3, 1 / 3, 1 / 3]), (2, [0.9, 0.1])]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = [len(p) for p in random_split(range(n), fractions)]
            theirs = [len(p) for p in torch_.utils.data.random_split(range(n), fractions)]
        assert ours == theirs


def _record_torch_calls(torch_, monkeypatch):
    calls = []
    real_randint, real_randperm, real_random_ = torch_.randint, torch_.randperm, torch_.Tensor.random_

    def randint(*args, **kwargs):
        calls.append(("randint", kwargs["high"], tuple(kwargs["size"]), kwargs.get("generator") is not None))
        return real_randint(*args, **kwargs)

    def randperm(n, **kwargs):
        calls.append(("randperm", n, kwargs.get("generator") is not None))
        return real_randperm(n, **kwargs)

    def random_(self, *args, **kwargs):
        calls.append(("seed", kwargs.get("generator") is not None))
        return real_random_(self, *args, **kwargs)

    monkeypatch.setattr(torch_, "randint", randint)
    monkeypatch.setattr(torch_, "randperm", randperm)
    monkeypatch.setattr(torch_.utils.data.dataset, "randperm", randperm)  # random_split's own import
    monkeypatch.setattr(torch_.Tensor, "random_", random_)
    return calls


def _record_our_calls(monkeypatch):
    calls = []
    sampler_module = data_module.sampler
    real_randint, real_randperm, real_seed = sampler_module.randint, sampler_module.randperm, sampler_module._draw_seed

    drawing_seed = []

    def randint(low, high, size, generator=None, dtype=None):
        if not drawing_seed:  # (the seed draw may use randint until Tensor.random_ exists)
            calls.append(("randint", high, tuple(size), generator is not None))
        return real_randint(low, high, size, generator=generator, dtype=dtype)

    def randperm(n, generator=None):
        calls.append(("randperm", n, generator is not None))
        return real_randperm(n, generator=generator)

    def draw_seed(generator=None):
        calls.append(("seed", generator is not None))
        drawing_seed.append(True)
        try:
            return real_seed(generator)
        finally:
            drawing_seed.pop()

    monkeypatch.setattr(sampler_module, "randint", randint)
    monkeypatch.setattr(sampler_module, "randperm", randperm)
    monkeypatch.setattr(sampler_module, "_draw_seed", draw_seed)
    monkeypatch.setattr(data_module.dataloader, "_draw_seed", draw_seed)
    monkeypatch.setattr(data_module.dataset, "randperm", randperm)
    return calls


def _scenarios(lib):
    """The same loader code for either library; returns nothing, only makes random calls."""
    data = lib.utils.data
    words = data.TensorDataset(lib.arange(70).view(70, 1))
    list(data.DataLoader(words, batch_size=32, shuffle=True))  # two epochs' worth of shuffling
    list(data.DataLoader(words, batch_size=32, shuffle=True))
    it = iter(data.DataLoader(words, batch_size=32, sampler=data.RandomSampler(words, replacement=True, num_samples=10**10)))
    for _ in range(3):
        next(it)
    g = lib.Generator().manual_seed(0)
    list(data.DataLoader(words, batch_size=10, shuffle=True, generator=g))
    list(data.RandomSampler(words, num_samples=150, generator=g))
    data.random_split(words, [0.8, 0.2])


def test_same_random_calls_as_pytorch(monkeypatch):
    """Call for call (seed draws from the default or a given generator, randperm, randint with
    their sizes), microtorch's loader and samplers make PyTorch's calls, so the batches agree
    once the generators agree."""
    torch_ = pytest.importorskip("torch")
    theirs = _record_torch_calls(torch_, monkeypatch)
    _scenarios(torch_)
    ours = _record_our_calls(monkeypatch)
    _scenarios(torch)
    assert ours == theirs and len(ours) > 10


def test_the_drawn_seeds_are_random_s_full_range():
    """The loader's base seed and a RandomSampler's own seed are torch.empty((), dtype=int64).random_():
    a draw over [0, 2**63), not [0, 2**63 - 1); the two differ by one whenever the raw word is >= 2**63,
    as for seed 0. Known answers from torch 2.13 (makemore.py's InfiniteDataLoader, then shuffle=True)."""
    from microtorch.utils.data.sampler import _draw_seed

    torch.manual_seed(0)
    assert _draw_seed() == 900450186894289455
    torch.manual_seed(0)
    sampler = RandomSampler(range(100), replacement=True, num_samples=10**10)
    assert next(iter(DataLoader(list(range(100)), sampler=sampler, batch_size=6))).tolist() == [26, 83, 17, 10, 37, 41]
    torch.manual_seed(0)
    assert next(iter(DataLoader(list(range(100)), shuffle=True, batch_size=6))).tolist() == [26, 88, 59, 58, 73, 11]


def test_pin_memory_is_accepted_with_pytorch_s_notice():
    """makemore.py passes pin_memory=True: no accelerator here, so each pass warns as PyTorch does
    (torch 2.13's wording) and the batches are the ordinary ones."""
    loader = DataLoader(TensorDataset(torch.arange(4)), batch_size=2, pin_memory=True)
    with pytest.warns(UserWarning, match=r"^'pin_memory' argument is set as true but no accelerator is found, "
                                         r"then device pinned memory won't be used\.$"):
        batches = [b[0].tolist() for b in loader]
    assert batches == [[0, 1], [2, 3]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(DataLoader(TensorDataset(torch.arange(4)), batch_size=2))) == 2
