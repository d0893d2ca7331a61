"""Factories (tensor, zeros, ones, arange, ...) and functions of several tensors (cat, stack, where, ...)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .devices import _check_device
from .dtypes import _DEFAULT_FLOAT, _dtype, _is_float, _promote_all, _scalar_dtype, bool_, float64, int64
from .tensor import Tensor, _extremum, _from_data, _needs_grad, _new, _numpy_names, _size, _where

# ---------------------------------------------------------------------- factories
def tensor(data, dtype=None, requires_grad: bool = False, *, device=None, pin_memory: bool = False) -> Tensor:
    """A new tensor (a copy) from data: Python floats give float32, ints int64, bools bool;
    a numpy array keeps its dtype."""
    _check_device(device)
    t = _from_data(data, dtype)
    if requires_grad:
        t.requires_grad = True
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like tensor(), but shares an ndarray's storage when no conversion is needed."""
    _check_device(device)
    if isinstance(data, Tensor) and (dtype is None or _dtype(dtype) == data._array.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or _dtype(dtype) == data.dtype):
        return _new(data)
    return tensor(data, dtype=dtype)


from_numpy = as_tensor


def _filled(shape: tuple, value, dtype, requires_grad: bool, device=None) -> Tensor:
    _check_device(device)
    t = _new(np.full(shape, value, dtype=_dtype(dtype) or _DEFAULT_FLOAT))
    if requires_grad:
        t.requires_grad = True
    return t


def zeros(*size, dtype=None, requires_grad: bool = False, device=None, pin_memory: bool = False) -> Tensor:
    return _filled(_size(size), 0, dtype, requires_grad, device)


def ones(*size, dtype=None, requires_grad: bool = False, device=None, pin_memory: bool = False) -> Tensor:
    return _filled(_size(size), 1, dtype, requires_grad, device)


def empty(*size, dtype=None, requires_grad: bool = False, device=None, pin_memory: bool = False) -> Tensor:
    return _filled(_size(size), 0, dtype, requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad: bool = False, *, device=None, pin_memory: bool = False) -> Tensor:
    """A tensor of `size` filled with fill_value; the dtype follows the value as in PyTorch."""
    if dtype is None:
        dtype = _scalar_dtype(fill_value, bool_) if not isinstance(fill_value, bool) else bool_
    return _filled(tuple(size), fill_value, dtype, requires_grad, device)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    return _filled(t.shape, 0, dtype or t._array.dtype, requires_grad, device)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    return _filled(t.shape, 1, dtype or t._array.dtype, requires_grad, device)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    return _filled(t.shape, fill_value, dtype or t._array.dtype, requires_grad, device)


def empty_like(t: Tensor, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    return zeros_like(t, dtype, requires_grad, device=device)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    """Values from start up to (not including) end: int64 for integer arguments, else float32."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    all_ints = all(isinstance(v, int) for v in (start, end, step))
    t = _new(np.arange(start, end, step, dtype=_dtype(dtype) or (int64 if all_ints else _DEFAULT_FLOAT)))
    if requires_grad:
        t.requires_grad = True
    return t


def linspace(start: float, end: float, steps: int, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    _check_device(device)
    t = _new(np.linspace(start, end, steps, dtype=_dtype(dtype) or _DEFAULT_FLOAT))
    if requires_grad:
        t.requires_grad = True
    return t


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    _check_device(device)
    t = _new(np.eye(n, m, dtype=_dtype(dtype) or _DEFAULT_FLOAT))
    return t.requires_grad_() if requires_grad else t


# ---------------------------------------------------------------------- functions of several tensors
@_numpy_names
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    arrays = [t._array for t in tensors]
    if len({a.dtype for a in arrays}) > 1:
        dtype = _promote_all(arrays)
        arrays = [a.astype(dtype, copy=False) for a in arrays]
    try:
        out = np.concatenate(arrays, axis=dim)
    except ValueError:
        raise RuntimeError(f"cat: tensors of shapes {[tuple(a.shape) for a in arrays]} cannot be joined along dim {dim}") from None
    if not _needs_grad(*tensors):
        return _new(out)
    bounds = np.cumsum([a.shape[dim] for a in arrays])[:-1]

    def backward(g):
        # d cat/d x_k = 1 on x_k's slice of the output
        return tuple(np.split(g, bounds, axis=dim))

    return _new(out, tuple(tensors), backward, "CatBackward0", ())


concat = cat


@_numpy_names
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along a new dimension."""
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, got shapes {sorted(shapes)}")
    arrays = [t._array for t in tensors]
    if len({a.dtype for a in arrays}) > 1:
        dtype = _promote_all(arrays)
        arrays = [a.astype(dtype, copy=False) for a in arrays]
    out = np.stack(arrays, axis=dim)
    if not _needs_grad(*tensors):
        return _new(out)
    axis = dim % out.ndim

    def backward(g):
        # d stack/d x_k = 1 on x_k's slice of the output
        return tuple(np.take(g, k, axis=axis) for k in range(len(arrays)))

    return _new(out, tuple(tensors), backward, "StackBackward0", ())


def where(condition: Tensor, input, other) -> Tensor:
    """Elements of input where condition holds, else of other."""
    return _where(condition, input, other)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return _extremum(np.maximum, input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return _extremum(np.minimum, input, other)


def histogram(input: Tensor, bins: int = 100, *, range: tuple | None = None, weight=None, density: bool = False):
    """Counts of values in equal-width bins: (hist, bin_edges), both float tensors."""
    array = input._array
    if range is None:
        range = (float(array.min()), float(array.max())) if array.size else (0.0, 1.0)
    w = None if weight is None else weight._array
    hist, edges = np.histogram(array, bins=bins, range=range, weights=w, density=density)
    dtype = array.dtype if _is_float(array.dtype) else _DEFAULT_FLOAT
    return _new(hist.astype(dtype)), _new(edges.astype(dtype))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    return input.allclose(other, rtol, atol, equal_nan)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()

