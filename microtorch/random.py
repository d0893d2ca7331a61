"""The random factories (rand, randn, randint, randperm, multinomial, normal, bernoulli, ...) and
the global generator's seed and state, on generator.py's PyTorch-exact CPU stream."""
from __future__ import annotations

import numpy as np

from .devices import _check_device
from .generator import Generator, default_generator
from .tensor import Tensor, _DEFAULT_FLOAT, _dtype, _new, _size


def _gen(generator: Generator | None) -> Generator:
    return default_generator if generator is None else generator


def manual_seed(seed: int) -> Generator:
    """Seed the global generator used when no generator is passed; returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the global generator from fresh entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The global generator's state as a uint8 Tensor (PyTorch's 5056-byte layout)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the global generator's state from get_rng_state()."""
    default_generator.set_state(new_state)


def _float_dtype(dtype) -> np.dtype:
    dtype = _dtype(dtype) or _DEFAULT_FLOAT
    if dtype.kind != "f":
        raise TypeError(f"expected a floating point dtype, got {dtype}")
    return dtype


def _wrap(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = _new(array)
    if requires_grad:
        t.requires_grad = True
    return t


def randn(*size, generator: Generator | None = None, dtype=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False) -> Tensor:
    """Samples from N(0, 1) of the given size (PyTorch's values for the same seed)."""
    _check_device(device)
    out = np.empty(_size(size), dtype=_float_dtype(dtype))
    return _wrap(_gen(generator).normal_(out), requires_grad)


def rand(*size, generator: Generator | None = None, dtype=None, device=None, requires_grad: bool = False,
         pin_memory: bool = False) -> Tensor:
    """Samples from U[0, 1) of the given size (PyTorch's values for the same seed)."""
    _check_device(device)
    out = np.empty(_size(size), dtype=_float_dtype(dtype))
    return _wrap(_gen(generator).uniform_(out), requires_grad)


def normal(mean: float, std: float, size: tuple, *, generator: Generator | None = None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Samples from N(mean, std^2) of the given size (float mean and std)."""
    _check_device(device)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    out = np.empty(_size((size,)), dtype=_float_dtype(dtype))
    return _wrap(_gen(generator).normal_(out, mean, std), requires_grad)


def randn_like(input: Tensor, dtype=None, requires_grad: bool = False, generator: Generator | None = None, *,
               device=None) -> Tensor:
    _check_device(device)
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def rand_like(input: Tensor, dtype=None, requires_grad: bool = False, generator: Generator | None = None, *,
              device=None) -> Tensor:
    _check_device(device)
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint(low: int, high: int | None = None, size: tuple | None = None, *, generator: Generator | None = None,
            dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Integers in [low, high): randint(high, size) or randint(low, high, size)."""
    _check_device(device)
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=size)
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    low, high = int(low), int(high)
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if requires_grad:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    return _new(_gen(generator).randint(low, high, _size((size,)), _dtype(dtype) or np.int64))


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype=None, device=None,
                 generator: Generator | None = None) -> Tensor:
    """randint with input's shape (and dtype unless given): randint_like(input, high) or (input, low, high)."""
    _check_device(device)
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype)


def randperm(n: int, *, generator: Generator | None = None, dtype=None, device=None,
             pin_memory: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (PyTorch's Fisher-Yates for the same seed)."""
    _check_device(device)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    return _new(_gen(generator).randperm(n).astype(_dtype(dtype) or np.int64, copy=False))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Generator | None = None) -> Tensor:
    """Draw category indices in proportion to the (unnormalised) weights in each row of input."""
    probs = input._array
    if probs.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got shape {tuple(probs.shape)}")
    if probs.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {probs.dtype}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > probs.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = probs.reshape(-1, probs.shape[-1])
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    out = _gen(generator).multinomial(rows, num_samples, replacement)
    return _new(out.reshape(num_samples) if probs.ndim == 1 else out)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Generator | None = None) -> Tensor:
    """0/1 samples (input's dtype): 1 with probability input[i], or with probability p when given."""
    x = input._array
    if p is None:
        if ((x < 0) | (x > 1)).any():
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        keep = _gen(generator).bernoulli(x.shape, x)
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        keep = _gen(generator).bernoulli(x.shape, float(p))
    return _new(keep.astype(x.dtype))


__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
           "rand", "randn", "normal", "rand_like", "randn_like", "randint", "randint_like", "randperm", "multinomial",
           "bernoulli"]
