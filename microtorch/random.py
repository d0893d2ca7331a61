"""Random numbers: Generator (numpy-backed), manual_seed, and the sampling factories."""
from __future__ import annotations

import numpy as np

from .tensor import Tensor, _DEFAULT_FLOAT, _dtype, _new, _size

_DEFAULT_SEED = 67280421310721  # PyTorch's default seed; the streams differ (numpy's PCG64)


class Generator:
    """A seedable stream of random numbers, like torch.Generator (the numbers differ from torch's)."""

    def __init__(self, device: str = "cpu") -> None:
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from `seed`; returns self so `Generator().manual_seed(42)` chains."""
        self._seed = int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        """Seed from fresh entropy and return the seed used."""
        return self.manual_seed(int(np.random.SeedSequence().entropy % 2**63)).initial_seed()

    def get_state(self) -> dict:
        """The full stream state as a JSON-serialisable dict (for checkpoints)."""
        return {"seed": self._seed, "bit_generator": self._rng.bit_generator.state}

    def set_state(self, state: dict) -> "Generator":
        self._seed = state["seed"]
        self._rng.bit_generator.state = state["bit_generator"]
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator used when no generator is passed."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def _numpy_rng(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator)._rng


def _float_tensor(array: np.ndarray, dtype, requires_grad: bool) -> Tensor:
    dtype = _dtype(dtype) or _DEFAULT_FLOAT
    if dtype.kind != "f":
        raise TypeError(f"expected a floating point dtype, got {dtype}")
    t = _new(array.astype(dtype, copy=False))
    if requires_grad:
        t.requires_grad = True
    return t


def randn(*size, generator: Generator | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Samples from N(0, 1) of the given size."""
    return _float_tensor(_numpy_rng(generator).standard_normal(_size(size)), dtype, requires_grad)


def rand(*size, generator: Generator | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Samples from U[0, 1) of the given size."""
    below_one = np.nextafter(np.array(1, dtype=_dtype(dtype) or _DEFAULT_FLOAT), 0)
    # a float64 draw within half a step of 1 in the target dtype would round up to 1 in the cast
    return _float_tensor(np.minimum(_numpy_rng(generator).random(_size(size)), below_one), dtype, requires_grad)


def randn_like(input: Tensor, dtype=None, requires_grad: bool = False, generator: Generator | None = None) -> Tensor:
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def rand_like(input: Tensor, dtype=None, requires_grad: bool = False, generator: Generator | None = None) -> Tensor:
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint(low: int, high: int | None = None, size: tuple | None = None, *, generator: Generator | None = None, dtype=None) -> Tensor:
    """Integers in [low, high): randint(high, size) or randint(low, high, size)."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=size)
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _new(_numpy_rng(generator).integers(low, high, size=tuple(size), dtype=_dtype(dtype) or np.int64))


def randperm(n: int, *, generator: Generator | None = None) -> Tensor:
    return _new(_numpy_rng(generator).permutation(n).astype(np.int64))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Generator | None = None) -> Tensor:
    """Draw category indices in proportion to the (unnormalised) weights in each row of input."""
    probs = input._array.astype(np.float64)
    if probs.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got shape {tuple(probs.shape)}")
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = probs.reshape(-1, probs.shape[-1])
    totals = rows.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without replacement ({num_samples} > {rows.shape[1]})")
    rng = _numpy_rng(generator)
    rows = rows / totals
    if replacement:
        # inverse-CDF sampling: the first category whose cumulative probability exceeds u
        cdf = np.cumsum(rows, axis=1)
        u = rng.random((rows.shape[0], num_samples))
        out = np.stack([np.searchsorted(c, x, side="right") for c, x in zip(cdf, u)])
        out = np.minimum(out, rows.shape[1] - 1)
    else:
        if ((rows > 0).sum(axis=1) < num_samples).any():
            raise RuntimeError("invalid multinomial distribution (with replacement=False, not enough non-negative category to sample)")
        out = np.stack([rng.choice(rows.shape[1], num_samples, replace=False, p=p) for p in rows])
    out = out.astype(np.int64)
    return _new(out.reshape(num_samples) if probs.ndim == 1 else out)


def normal(mean: float, std: float, size: tuple, *, generator: Generator | None = None, dtype=None) -> Tensor:
    return _float_tensor(_numpy_rng(generator).standard_normal(tuple(size)) * std + mean, dtype, False)
