"""Tensor: an ndarray with reverse-mode autodiff. Each op's forward and derivative side by side.

An op computes its output array, then (only when grad mode is on and an input requires grad)
records its inputs and a `backward(g)` closure that maps the output's gradient to one gradient
per input: raw ndarrays, or None for an input that needs none.
"""
from __future__ import annotations

import functools
import math
from collections import namedtuple
from heapq import heappop, heappush
from itertools import count
from typing import Iterator

import numpy as np

from .dtypes import (  # noqa: F401  (float32, _dtype, ... also importable from here, their old home)
    _DEFAULT_FLOAT,
    _DTYPE_ALIASES,
    _PY_NUMBERS,
    _category,
    _dtype,
    _floating,
    _is_float,
    _promote,
    _promote_all,
    _scalar_dtype,
    bool_,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    short,
    uint8,
)
from .grad_mode import _GradMode

_next_seq = count().__next__  # creation order of graph nodes, for backward's visiting order
MaxMin = namedtuple("MaxMin", ["values", "indices"])
Size = tuple


def _new(array: np.ndarray, parents: tuple = (), backward=None) -> "Tensor":
    """Wrap an op's output array; record the graph when given a backward and grad mode is on."""
    t = _tensor_new(Tensor)
    t._array = array
    t._grad = None
    t._retains_grad = False
    if backward is not None and _GradMode.enabled:
        t._requires_grad = True
        t._parents = parents
        t._backward = backward
        t._seq = _next_seq()
    else:
        t._requires_grad = False
        t._parents = ()
        t._backward = None
    return t


def _needs_grad(*tensors: "Tensor") -> bool:
    if not _GradMode.enabled:
        return False
    for t in tensors:
        if t._requires_grad:
            return True
    return False


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a broadcast gradient back to an input's shape (d(x broadcast)/dx sums the copies)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _as_tensor(value, like: "Tensor") -> "Tensor":
    """The other operand of a binary op, as a Tensor of the right dtype."""
    if type(value) is Tensor:
        return value
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float, bool)):
        return _new(np.array(value, dtype=_scalar_dtype(value, like._array.dtype)))
    return _from_data(value)


def _broadcast_error(op: str, a: np.ndarray, b: np.ndarray) -> RuntimeError:
    return RuntimeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together")


def _binary_arrays(a: "Tensor", b: "Tensor") -> tuple[np.ndarray, np.ndarray]:
    """The two arrays of a binary op, cast to the promoted dtype when their dtypes differ."""
    x, y = a._array, b._array
    if x.dtype != y.dtype:
        dtype = _promote(x, y)
        x, y = x.astype(dtype, copy=False), y.astype(dtype, copy=False)
    return x, y


def _normalize_dims(dim, ndim: int) -> tuple | None:
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
    return tuple(d % ndim if ndim else 0 for d in dims)


def _expand_reduced(grad: np.ndarray, dims: tuple | None, keepdim: bool, shape: tuple) -> np.ndarray:
    """Reshape a reduction's gradient so it broadcasts against the input of `shape`."""
    if dims is None:
        return grad.reshape((1,) * len(shape))
    if not keepdim:
        grad = np.expand_dims(grad, dims)
    return grad


def _unwrap_index(index):
    """Turn Tensors (and ranges) inside an index into ndarrays numpy understands."""
    if type(index) is tuple:
        return tuple(_unwrap_index(i) for i in index)
    if isinstance(index, Tensor):
        return index._array
    if isinstance(index, range):
        return np.arange(index.start, index.stop, index.step)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic_index(index) -> bool:
    """Ints, slices, None and Ellipsis select without repeats: the gradient can be assigned."""
    items = index if type(index) is tuple else (index,)
    return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) and not isinstance(i, bool) for i in items)


def _scatter_rows(index: np.ndarray, grad: np.ndarray, n_rows: int) -> np.ndarray:
    """Sum the gradient rows of `table[index]` back into a (n_rows, ...) table gradient.

    The same as np.add.at(out, index, grad), computed as a one-hot matmul, onehot(index) @ grad,
    which is several times faster; np.add.at is kept for tables too large for a one-hot matrix.
    """
    flat_index = index.reshape(-1)
    rows = grad.reshape(flat_index.size, -1)
    if n_rows * flat_index.size > _ONEHOT_LIMIT:
        out = np.zeros((n_rows, rows.shape[1]), dtype=grad.dtype)
        np.add.at(out, flat_index, rows)
    else:
        onehot = np.zeros((n_rows, flat_index.size), dtype=grad.dtype)
        onehot[flat_index, np.arange(flat_index.size)] = 1
        out = onehot @ rows
    return out.reshape((n_rows,) + grad.shape[index.ndim :])


_ONEHOT_LIMIT = 1 << 22  # elements of the one-hot matrix (16 MiB in float32)


# ---------------------------------------------------------------------- helpers of the shape, sort and scan ops
Topk = namedtuple("topk", ["values", "indices"])
Sort = namedtuple("sort", ["values", "indices"])
_NUMPY_NAMES = (("axis", "dim"), ("keepdims", "keepdim"))


def _numpy_names(method):
    """Accept PyTorch's NumPy-style keyword names, axis= for dim= and keepdims= for keepdim=
    (the reductions on the hot path take them as keyword-only parameters instead)."""
    name = method.__name__

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        if kwargs:
            for alias, real in _NUMPY_NAMES:
                if alias in kwargs:
                    if real in kwargs:
                        raise TypeError(f"{name}() got an unexpected keyword argument '{alias}'")
                    kwargs[real] = kwargs.pop(alias)
        return method(*args, **kwargs)

    return wrapper


def _aliases(name: str, dim, keepdim: bool, axis, keepdims) -> tuple:
    """A reduction's (dim, keepdim) given PyTorch's aliases axis= and keepdims=; both a name
    and its alias is a TypeError, as in PyTorch."""
    if axis is not None:
        if dim is not None and dim != ():
            raise TypeError(f"{name}() got an unexpected keyword argument 'axis'")
        dim = axis
    if keepdims is not None:
        if keepdim:  # (keepdim=False given with keepdims= cannot be told from the default)
            raise TypeError(f"{name}() got an unexpected keyword argument 'keepdims'")
        keepdim = keepdims
    return dim, keepdim


def _check_device(device) -> None:
    """Only the CPU exists here: 'cuda' fails as on PyTorch's CPU build, never a silent CPU run.
    (A minimal local check until the devices module of issue 13 replaces it.)"""
    if device is None:
        return
    name = str(device)
    if name in ("cpu", "cpu:0"):
        return
    if name.startswith("cuda"):
        raise AssertionError("Torch not compiled with CUDA enabled")
    raise RuntimeError(f"microtorch runs on the CPU only, got device {name!r}")


def _one_dim(dim, ndim: int) -> int:
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    return _normalize_dims(int(dim), ndim)[0]


def _reduction_dims(dim, ndim: int) -> tuple | None:
    """A reduction's dims as a tuple of non-negative ints, or None for all (dim None or ())."""
    if dim is None or dim == () or dim == [] or ndim == 0:
        if ndim == 0 and dim not in (None, (), []):
            _normalize_dims(dim, 0)  # range check only
        return None
    dims = _normalize_dims(dim, ndim)
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return dims


def _reduced_shape(shape: tuple, dims: tuple | None) -> tuple:
    return () if dims is None else tuple(n for i, n in enumerate(shape) if i not in dims)


def _argsort(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort along axis; descending keeps ties in their order and puts NaN first
    (the flip-sort-flip trick), as PyTorch's sort(descending=True, stable=True)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    return (a.shape[axis] - 1) - np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)


def _leading(shape: tuple) -> tuple:
    """The index of the leading block of `shape` in a tensor at least that large."""
    return tuple(slice(0, n) for n in shape)


def _along(a: np.ndarray, dim, index, name: str, src: np.ndarray | None = None) -> tuple:
    """Check gather's / scatter's index against self (and src); return (dim, coordinates), the
    coordinates a tuple of broadcasting arrays addressing self[i][index[i][j]] (for dim 1)."""
    if a.ndim == 0:
        raise RuntimeError(f"{name}(): microtorch supports tensors of at least one dimension here")
    d = _one_dim(dim, a.ndim)
    idx = index._array if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if idx.ndim != a.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    too_big = any(i > n for k, (i, n) in enumerate(zip(idx.shape, a.shape)) if k != d)
    if src is not None:
        if src.ndim != a.ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
        if too_big or any(i > n for i, n in zip(idx.shape, src.shape)):
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self {list(a.shape)} apart from dimension {d} and to be no larger size than src {list(src.shape)}")
    elif too_big:
        k = next(k for k, (i, n) in enumerate(zip(idx.shape, a.shape)) if k != d and i > n)
        prefix = f"Size does not match at dimension {k} expected" if name == "gather" else "Expected"
        raise RuntimeError(f"{prefix} index {list(idx.shape)} to be no larger than self {list(a.shape)} apart from dimension {d}")
    n = a.shape[d]
    if idx.size:
        bad = idx[(idx < 0) | (idx >= n)]
        if bad.size:
            raise RuntimeError(f"index {bad.flat[0]} is out of bounds for dimension {d} with size {n}")
    coords = list(np.indices(idx.shape, sparse=True))
    coords[d] = idx
    return d, tuple(coords)


def _products_before(x: np.ndarray, axis: int) -> np.ndarray:
    """prod_{k<i} x_k along axis (1 for the first), without division: exact with zeros."""
    if not x.shape[axis]:
        return np.ones_like(x)
    ones = np.ones_like(np.take(x, [0], axis))
    return np.cumprod(np.concatenate([ones, np.delete(x, -1, axis)], axis), axis=axis)


def _products_of_others(x: np.ndarray, axis: int) -> np.ndarray:
    """prod_{k != i} x_k along axis: the products before i times the products after i."""
    after = np.flip(_products_before(np.flip(x, axis), axis), axis)
    return _products_before(x, axis) * after


class Tensor:
    """An n-dimensional array that can record the operations applied to it and backpropagate."""

    __slots__ = ("_array", "_grad", "_requires_grad", "_parents", "_backward", "_retains_grad", "_seq", "__weakref__")
    __array_priority__ = 1000  # numpy defers `ndarray op tensor` to the tensor

    def __init__(self, *data, dtype=None, requires_grad: bool = False) -> None:
        """torch.Tensor(data) or torch.Tensor(*sizes): always the default float dtype, as in PyTorch."""
        if data and all(type(n) is int for n in data):
            data = (np.zeros(data),)
        t = _from_data(data[0] if len(data) == 1 else [], dtype or _DEFAULT_FLOAT)
        if requires_grad:
            t.requires_grad = True
        self._array = t._array
        self._grad = None
        self._requires_grad = t._requires_grad
        self._parents = ()
        self._backward = None
        self._retains_grad = False

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        return self._array.shape

    @property
    def dtype(self) -> np.dtype:
        return self._array.dtype

    @property
    def ndim(self) -> int:
        return self._array.ndim

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user (not by an op that records the graph)."""
        return self._backward is None

    @property
    def grad_fn(self):
        """The backward closure of the op that made this tensor, or None for a leaf."""
        return self._backward

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._backward is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        if value and not _is_float(self._array.dtype):
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got {self.dtype}")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set requires_grad in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self) -> "Tensor | None":
        """The accumulated gradient (a Tensor sharing the gradient's storage), or None."""
        return None if self._grad is None else _new(self._grad)

    @grad.setter
    def grad(self, value) -> None:
        if value is None:
            self._grad = None
            return
        array = value._storage() if isinstance(value, Tensor) else np.asarray(value)
        if array.shape != self._array.shape:
            raise RuntimeError(f"assigned grad has shape {tuple(array.shape)} but the tensor has shape {tuple(self.shape)}")
        if array.dtype != self._array.dtype:
            raise RuntimeError(f"assigned grad has dtype {array.dtype} but the tensor has dtype {self.dtype}")
        self._grad = array

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's storage that records nothing: `p.data += -lr * p.grad`."""
        return _new(self._storage())

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._array = value._array if isinstance(value, Tensor) else np.asarray(value)

    @property
    def T(self) -> "Tensor":
        return self.permute(*range(self.ndim - 1, -1, -1))

    @_numpy_names
    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension."""
        return self._array.shape if dim is None else self._array.shape[dim]

    def dim(self) -> int:
        return self._array.ndim

    def numel(self) -> int:
        return self._array.size

    nelement = numel

    def is_floating_point(self) -> bool:
        return _is_float(self._array.dtype)

    # ------------------------------------------------------------------ autograd
    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor after backward."""
        if self._backward is not None:
            self._retains_grad = True

    def detach(self) -> "Tensor":
        """The same storage, cut from the graph."""
        return _new(self._storage())

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into .grad of every leaf that requires grad."""
        if not self._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if gradient is None:
            if self._array.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            seed = np.ones_like(self._array)
        else:
            seed = gradient._array if isinstance(gradient, Tensor) else np.asarray(gradient)
            if seed.shape != self._array.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output has shape {tuple(seed.shape)} and output has shape {tuple(self.shape)}")
            seed = seed.astype(self._array.dtype, copy=False)
        _run_backward(self, seed)

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The underlying array (shared storage)."""
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._storage()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def tolist(self):
        return self._array.tolist()

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._array.size != 1:
            raise RuntimeError(f"a Tensor with {self._array.size} elements cannot be converted to Scalar")
        return self._array.reshape(-1)[0].item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._array.dtype.kind not in "iu" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __format__(self, spec: str) -> str:
        if self._array.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)  # a format spec on a 1-d tensor is a TypeError, as in PyTorch

    def __len__(self) -> int:
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._array.shape[0]))

    def __repr__(self) -> str:
        array = self._array
        if _is_float(array.dtype) and array.size and not np.all(np.isfinite(array) & (array == np.round(array))):
            body = np.array2string(array, separator=", ", prefix="tensor(", precision=4, floatmode="fixed")
        else:
            body = np.array2string(array, separator=", ", prefix="tensor(")
        extras = []
        if array.dtype not in (float32, int64, bool_) or array.size == 0 and array.dtype != float32:
            extras.append(f"dtype=microtorch.{array.dtype}")
        if self._backward is not None:
            extras.append(f"grad_fn=<{_grad_fn_name(self._backward)}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __hash__ = object.__hash__

    def to(self, *args, **kwargs) -> "Tensor":
        """Convert to a dtype (differentiable between float dtypes); devices other than 'cpu' are refused."""
        dtype = kwargs.get("dtype")
        for arg in args:
            if isinstance(arg, str) or arg is None:
                if arg not in (None, "cpu"):
                    raise RuntimeError(f"microtorch runs on the CPU only, got device {arg!r}")
            else:
                dtype = arg
        if kwargs.get("device") not in (None, "cpu"):
            raise RuntimeError(f"microtorch runs on the CPU only, got device {kwargs['device']!r}")
        return self if dtype is None else self._cast(_dtype(dtype))

    def _cast(self, dtype: np.dtype) -> "Tensor":
        source = self._array.dtype
        if dtype == source:
            return self
        out = self._array.astype(dtype)
        if not (_is_float(dtype) and _needs_grad(self)):
            return _new(out)

        def backward(g):
            return (g.astype(source),)

        return _new(out, (self,), backward)

    def float(self) -> "Tensor":
        return self._cast(float32)

    def double(self) -> "Tensor":
        return self._cast(float64)

    def half(self) -> "Tensor":
        return self._cast(float16)

    def long(self) -> "Tensor":
        return self._cast(int64)

    def int(self) -> "Tensor":
        return self._cast(int32)

    def bool(self) -> "Tensor":
        return self._cast(bool_)

    def type(self, dtype=None):
        return str(self.dtype) if dtype is None else self._cast(_dtype(dtype))

    def cpu(self) -> "Tensor":
        return self

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other) -> "Tensor":
        if type(other) in _PY_NUMBERS and self._array.dtype.kind == "f":
            return self._with_number(self._array + other, 1)
        other = _as_tensor(other, self)
        a, b = _binary_arrays(self, other)
        try:
            out = a + b
        except ValueError:
            raise _broadcast_error("add", a, b) from None
        if not _needs_grad(self, other):
            return _new(out)

        def backward(g):
            return _unbroadcast(g, a.shape), _unbroadcast(g, b.shape)

        return _new(out, (self, other), backward)

    __radd__ = __add__

    def __sub__(self, other) -> "Tensor":
        if type(other) in _PY_NUMBERS and self._array.dtype.kind == "f":
            return self._with_number(self._array - other, 1)
        other = _as_tensor(other, self)
        a, b = _binary_arrays(self, other)
        try:
            out = a - b
        except ValueError:
            raise _broadcast_error("sub", a, b) from None
        if not _needs_grad(self, other):
            return _new(out)

        def backward(g):
            return _unbroadcast(g, a.shape), _unbroadcast(-g, b.shape)

        return _new(out, (self, other), backward)

    def __rsub__(self, other) -> "Tensor":
        if type(other) in _PY_NUMBERS and self._array.dtype.kind == "f":
            return self._with_number(other - self._array, -1)
        return _as_tensor(other, self) - self

    def __mul__(self, other) -> "Tensor":
        if type(other) in _PY_NUMBERS and self._array.dtype.kind == "f":
            return self._with_number(self._array * other, other)
        other = _as_tensor(other, self)
        a, b = _binary_arrays(self, other)
        try:
            out = a * b
        except ValueError:
            raise _broadcast_error("mul", a, b) from None
        if not _needs_grad(self, other):
            return _new(out)
        a_needs, b_needs = self._requires_grad, other._requires_grad

        def backward(g):
            return (
                _unbroadcast(g * b, a.shape) if a_needs else None,
                _unbroadcast(g * a, b.shape) if b_needs else None,
            )

        return _new(out, (self, other), backward)

    __rmul__ = __mul__

    def __truediv__(self, other) -> "Tensor":
        if type(other) in _PY_NUMBERS and self._array.dtype.kind == "f":
            return self._with_number(self._array / other, 1 / other if other else np.inf)
        other = _as_tensor(other, self)
        a, b = _binary_arrays(self, other)
        if not _is_float(a.dtype):
            a, b = a.astype(_DEFAULT_FLOAT), b.astype(_DEFAULT_FLOAT)
        try:
            out = a / b
        except ValueError:
            raise _broadcast_error("div", a, b) from None
        if not _needs_grad(self, other):
            return _new(out)
        b_needs = other._requires_grad

        # d(a/b)/da = 1/b ; d(a/b)/db = -a/b^2 = -out/b
        def backward(g):
            ga = g / b
            return _unbroadcast(ga, a.shape), (_unbroadcast(-ga * out, b.shape) if b_needs else None)

        return _new(out, (self, other), backward)

    def __rtruediv__(self, other) -> "Tensor":
        return _as_tensor(other, self) / self

    def _with_number(self, out: np.ndarray, slope: float) -> "Tensor":
        """The result of `self op number` for a float tensor, whose derivative is the constant slope.

        numpy keeps a float32 array float32 next to a Python number, as PyTorch does.
        """
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            return (g if slope == 1 else g * slope,)

        return _new(out, (self,), backward)

    def __floordiv__(self, other) -> "Tensor":
        other = _as_tensor(other, self)
        a, b = _binary_arrays(self, other)
        return _new(np.floor_divide(a, b))

    def __mod__(self, other) -> "Tensor":
        """Remainder with the sign of the divisor (PyTorch's remainder, Python's %)."""
        other = _as_tensor(other, self)
        a, b = _binary_arrays(self, other)
        try:
            out = np.mod(a, b)
        except ValueError:
            raise _broadcast_error("remainder", a, b) from None
        if not _needs_grad(self, other):
            return _new(out)
        b_needs = other._requires_grad

        # a % b = a - b floor(a / b): d/da = 1, d/db = -floor(a / b)
        def backward(g):
            return _unbroadcast(g, a.shape), (_unbroadcast(-g * np.floor_divide(a, b), b.shape) if b_needs else None)

        return _new(out, (self, other), backward)

    def __rfloordiv__(self, other) -> "Tensor":
        return _as_tensor(other, self) // self

    def __rmod__(self, other) -> "Tensor":
        return _as_tensor(other, self) % self

    def __pow__(self, exponent) -> "Tensor":
        if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
            return self._pow_scalar(exponent)
        other = _as_tensor(exponent, self)
        a, b = _binary_arrays(self, other)
        try:
            out = a**b
        except ValueError:
            raise _broadcast_error("pow", a, b) from None
        if not _needs_grad(self, other):
            return _new(out)
        a_needs, b_needs = self._requires_grad, other._requires_grad

        # d(a^b)/da = b a^(b-1), 0 where b = 0 ; d(a^b)/db = a^b ln(a), 0 where a = 0 <= b
        # (its limit), NaN for a < 0: the rules of PyTorch's pow backward
        def backward(g):
            ga = gb = None
            if a_needs:
                ga = _unbroadcast(np.where(b == 0, 0, g * b * a ** (b - 1)), a.shape)
            if b_needs:
                gb = _unbroadcast(np.where((a == 0) & (b >= 0), 0, g * out * np.log(a)), b.shape)
            return ga, gb

        return _new(out, (self, other), backward)

    def _pow_scalar(self, exponent: float) -> "Tensor":
        a = self._array
        if isinstance(exponent, float) and not _is_float(a.dtype):
            a = a.astype(_DEFAULT_FLOAT)
        out = a**2 if exponent == 2 else a**exponent
        if not _needs_grad(self):
            return _new(out)

        # d(a^n)/da = n a^(n-1)
        def backward(g):
            if exponent == 0:
                return (np.zeros_like(g),)
            return (g * (2 * a if exponent == 2 else exponent * a ** (exponent - 1)),)

        return _new(out, (self,), backward)

    def __rpow__(self, base) -> "Tensor":
        return _as_tensor(base, self) ** self

    def pow(self, exponent) -> "Tensor":
        return self**exponent

    def __neg__(self) -> "Tensor":
        out = -self._array
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            return (-g,)

        return _new(out, (self,), backward)

    def __pos__(self) -> "Tensor":
        return self

    def add(self, other, alpha=1) -> "Tensor":
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other, alpha=1) -> "Tensor":
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other) -> "Tensor":
        return self * other

    def div(self, other) -> "Tensor":
        return self / other

    def neg(self) -> "Tensor":
        return -self

    # ------------------------------------------------------------------ in place
    def _check_inplace(self) -> None:
        if self._requires_grad and _GradMode.enabled:
            if self._backward is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            raise RuntimeError("microtorch does not support in-place operations on tensors that are part of a graph; use an out-of-place op")
        self._storage()

    def _storage(self) -> np.ndarray:
        """The array, made a writable 0-d ndarray if an op left a numpy scalar (0-d results do)."""
        if type(self._array) is not np.ndarray:
            self._array = np.array(self._array)
        return self._array

    def _inplace(self, ufunc, other) -> "Tensor":
        self._check_inplace()
        value = other._array if isinstance(other, Tensor) else other
        if _GradMode.enabled and isinstance(other, Tensor) and other._requires_grad:
            raise RuntimeError("microtorch does not record in-place operations: the right-hand side requires grad")
        try:
            ufunc(self._array, value, out=self._array, casting="same_kind")
        except ValueError:
            raise _broadcast_error(ufunc.__name__, self._array, np.asarray(value)) from None
        except TypeError as e:  # numpy's UFuncTypeError: e.g. a float result into an int tensor
            raise RuntimeError(f"result type {np.result_type(self._array, value)} can't be cast to the desired output type {self.dtype}") from e
        return self

    def __iadd__(self, other) -> "Tensor":
        return self._inplace(np.add, other)

    def __isub__(self, other) -> "Tensor":
        return self._inplace(np.subtract, other)

    def __imul__(self, other) -> "Tensor":
        return self._inplace(np.multiply, other)

    def __itruediv__(self, other) -> "Tensor":
        return self._inplace(np.true_divide, other)

    def add_(self, other, alpha=1) -> "Tensor":
        return self._inplace(np.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1) -> "Tensor":
        return self._inplace(np.subtract, other if alpha == 1 else other * alpha)

    def mul_(self, other) -> "Tensor":
        return self._inplace(np.multiply, other)

    def div_(self, other) -> "Tensor":
        return self._inplace(np.true_divide, other)

    def copy_(self, src) -> "Tensor":
        """Copy src's values into this tensor (broadcasting, casting to this dtype)."""
        self._check_inplace()
        self._array[...] = src._array if isinstance(src, Tensor) else src
        return self

    def fill_(self, value) -> "Tensor":
        self._check_inplace()
        self._array.fill(value)
        return self

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None) -> "Tensor":
        """Fill with samples from N(mean, std^2)."""
        from .random import _numpy_rng

        self._check_inplace()
        self._array[...] = _numpy_rng(generator).standard_normal(self.shape, dtype=np.float64) * std + mean
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None) -> "Tensor":
        """Fill with samples from U(a, b)."""
        from .random import _numpy_rng

        self._check_inplace()
        self._array[...] = _numpy_rng(generator).random(self.shape) * (b - a) + a
        return self

    def __setitem__(self, index, value) -> None:
        self._check_inplace()
        self._array[_unwrap_index(index)] = value._array if isinstance(value, Tensor) else value

    # ------------------------------------------------------------------ comparisons
    def _compare(self, ufunc, other) -> "Tensor":
        other = _as_tensor(other, self)
        a, b = _binary_arrays(self, other)
        try:
            return _new(ufunc(a, b))
        except ValueError:
            raise _broadcast_error(ufunc.__name__, a, b) from None

    def __eq__(self, other) -> "Tensor":
        return False if other is None else self._compare(np.equal, other)

    def __ne__(self, other) -> "Tensor":
        return True if other is None else self._compare(np.not_equal, other)

    def __lt__(self, other) -> "Tensor":
        return self._compare(np.less, other)

    def __le__(self, other) -> "Tensor":
        return self._compare(np.less_equal, other)

    def __gt__(self, other) -> "Tensor":
        return self._compare(np.greater, other)

    def __ge__(self, other) -> "Tensor":
        return self._compare(np.greater_equal, other)

    def eq(self, other) -> "Tensor":
        return self == other

    def __and__(self, other) -> "Tensor":
        return self._compare(np.bitwise_and, other)

    def __or__(self, other) -> "Tensor":
        return self._compare(np.bitwise_or, other)

    def __invert__(self) -> "Tensor":
        return _new(~self._array)

    def all(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """True where every element (of all, or along dim) is non-zero."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("all", dim, keepdim, axis, keepdims)
        return _new(np.asarray(self._array.all(axis=_normalize_dims(dim, self._array.ndim), keepdims=keepdim)))

    def any(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """True where some element (of all, or along dim) is non-zero."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("any", dim, keepdim, axis, keepdims)
        return _new(np.asarray(self._array.any(axis=_normalize_dims(dim, self._array.ndim), keepdims=keepdim)))

    def allclose(self, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
        return bool(np.allclose(self._array, _as_tensor(other, self)._array, rtol=rtol, atol=atol, equal_nan=equal_nan))

    # ------------------------------------------------------------------ matmul
    def __matmul__(self, other) -> "Tensor":
        if not isinstance(other, Tensor):
            other = _from_data(other)
        a, b = _binary_arrays(self, other)
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
        try:
            out = a @ b
        except ValueError:
            if a.ndim <= 2 and b.ndim <= 2:
                left, right = "x".join(map(str, a.shape)), "x".join(map(str, b.shape))
                raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({left} and {right})") from None
            raise RuntimeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied") from None
        if not _needs_grad(self, other):
            return _new(out)
        a_needs, b_needs = self._requires_grad, other._requires_grad

        # out = a @ b: da = g @ b^T, db = a^T @ g (1-D operands as a row / a column)
        def backward(g):
            if a.ndim == 2 and b.ndim == 2:
                return (g @ b.T if a_needs else None), (a.T @ g if b_needs else None)
            a2 = a[None, :] if a.ndim == 1 else a
            b2 = b[:, None] if b.ndim == 1 else b
            g2 = g.reshape(g.shape + (1,) * (b.ndim == 1))
            if a.ndim == 1:
                g2 = np.expand_dims(g2, -2)
            ga = gb = None
            if a_needs:
                ga = _unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
            if b_needs:
                gb = _unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
            return ga, gb

        return _new(out, (self, other), backward)

    def __rmatmul__(self, other) -> "Tensor":
        return _from_data(other) @ self

    matmul = __matmul__

    # ------------------------------------------------------------------ unary
    def exp(self) -> "Tensor":
        out = np.exp(_floating(self._array))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # d exp(x) = exp(x)
            return (g * out,)

        return _new(out, (self,), backward)

    def log(self) -> "Tensor":
        a = _floating(self._array)
        out = np.log(a)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # d ln(x) = 1/x
            return (g / a,)

        return _new(out, (self,), backward)

    def log10(self) -> "Tensor":
        a = _floating(self._array)
        out = np.log10(a)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # d log10(x) = 1 / (x ln 10)
            return (g / (a * math.log(10.0)),)

        return _new(out, (self,), backward)

    def sqrt(self) -> "Tensor":
        out = np.sqrt(_floating(self._array))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # d sqrt(x) = 1 / (2 sqrt(x))
            return (g / (2 * out),)

        return _new(out, (self,), backward)

    def abs(self) -> "Tensor":
        a = self._array
        out = np.abs(a)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # d|x| = sign(x), 0 at 0 as in PyTorch
            return (g * np.sign(a),)

        return _new(out, (self,), backward)

    __abs__ = abs

    def tanh(self) -> "Tensor":
        out = np.tanh(_floating(self._array))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # d tanh(x) = 1 - tanh(x)^2
            return (g * (1 - out * out),)

        return _new(out, (self,), backward)

    def sigmoid(self) -> "Tensor":
        out = np.exp(-np.logaddexp(0, -_floating(self._array)))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # d sigmoid(x) = s (1 - s)
            return (g * out * (1 - out),)

        return _new(out, (self,), backward)

    def relu(self) -> "Tensor":
        a = self._array
        out = np.maximum(a, 0)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # d relu(x) = 1 where x > 0
            return (g * (a > 0),)

        return _new(out, (self,), backward)

    def clamp(self, min=None, max=None) -> "Tensor":
        """Limit values to [min, max] (numbers or tensors). The gradient goes to the input where
        it is within the limits (ties included), else to the limit that applied, as in PyTorch."""
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        a = self._array
        lo = min._array if isinstance(min, Tensor) else min
        hi = max._array if isinstance(max, Tensor) else max
        out = np.clip(a, lo, hi)
        if isinstance(min, float) or isinstance(max, float):
            out = out.astype(_scalar_dtype(1.0, a.dtype), copy=False)
        bounds = tuple(t for t in (min, max) if isinstance(t, Tensor))
        if not _needs_grad(self, *bounds):
            return _new(out)

        def backward(g):
            below = a < lo if lo is not None else np.False_
            above = a > hi if hi is not None else np.False_
            grads = [_unbroadcast(g * ~(below | above), a.shape)]
            if isinstance(min, Tensor):
                grads.append(_unbroadcast(g * below, lo.shape))
            if isinstance(max, Tensor):
                grads.append(_unbroadcast(g * above, hi.shape))
            return tuple(grads)

        return _new(out, (self,) + bounds, backward)

    clip = clamp

    def sign(self) -> "Tensor":
        return _new(np.sign(self._array))

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None) -> "Tensor":
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("sum", dim, keepdim, axis, keepdims)
        a = self._array
        dims = _normalize_dims(dim, a.ndim)
        out_dtype = _dtype(dtype) or (int64 if a.dtype.kind in "bui" else None)
        out = np.asarray(a.sum(axis=dims, keepdims=keepdim, dtype=out_dtype))
        if not _needs_grad(self):
            return _new(out)
        shape = a.shape

        def backward(g):  # every input element gets the output's gradient
            return (np.broadcast_to(_expand_reduced(g, dims, keepdim, shape), shape),)

        return _new(out, (self,), backward)

    def mean(self, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None) -> "Tensor":
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("mean", dim, keepdim, axis, keepdims)
        a = self._array
        if not _is_float(a.dtype) and dtype is None:
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {a.dtype}")
        dims = _normalize_dims(dim, a.ndim)
        if dtype is not None:
            a = a.astype(_dtype(dtype))
        total = a.sum(axis=dims, keepdims=keepdim)
        out = np.asarray(total * (1.0 / (a.size // max(np.size(total), 1))) if a.size else a.mean(axis=dims, keepdims=keepdim))
        if not _needs_grad(self):
            return _new(out)
        shape = a.shape
        count = a.size // max(out.size, 1) if a.size else 0

        def backward(g):  # d mean = 1/N
            return (np.broadcast_to(_expand_reduced(g, dims, keepdim, shape) / count, shape),)

        return _new(out, (self,), backward)

    def var(self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None, axis=None, keepdims=None) -> "Tensor":
        """Variance with Bessel's correction by default (correction=1, i.e. unbiased=True)."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("var", dim, keepdim, axis, keepdims)
        if isinstance(dim, bool):  # var(True) is var(unbiased=True), as in PyTorch
            dim, unbiased = None, dim
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        a = self._array
        if not _is_float(a.dtype):
            raise RuntimeError(f"std and var only support floating point and complex dtypes, got {a.dtype}")
        dims = _normalize_dims(dim, a.ndim)
        total = a.sum(axis=dims, keepdims=True)
        count = a.size // max(total.size, 1)
        centered = a - total * (1.0 / max(count, 1))
        dof = max(count - correction, 0)  # no degrees of freedom left: NaN, and an infinite gradient, as in PyTorch
        out = np.asarray((centered * centered).sum(axis=dims, keepdims=keepdim) / dof)
        if not _needs_grad(self):
            return _new(out)
        shape = a.shape
        scale = 2 / dof if dof else float("inf")

        def backward(g):  # d var / dx_i = 2 (x_i - mean) / (N - correction)
            return (_expand_reduced(g, dims, keepdim, shape) * centered * scale,)

        return _new(out, (self,), backward)

    def std(self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None, axis=None, keepdims=None) -> "Tensor":
        """Standard deviation: sqrt of var (same correction rules)."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("std", dim, keepdim, axis, keepdims)
        v = self.var(dim, unbiased, keepdim, correction=correction)
        out = np.sqrt(v._array)
        if not _needs_grad(v):
            return _new(out)

        def backward(g):  # d sqrt(v) = 1 / (2 sqrt(v)); 0 where std is 0 (constant input), as in PyTorch
            return (g / (2 * np.where(out == 0, np.inf, out)),)

        return _new(out, (v,), backward)

    def _extreme(self, name: str, dim, keepdim: bool):
        a = self._array
        pick = np.argmax if name == "max" else np.argmin
        if dim is None:
            if a.size == 0:
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            out = np.asarray(a.max() if name == "max" else a.min())
            if not _needs_grad(self):
                return _new(out)

            def backward_all(g):  # the gradient is shared evenly among tied extremes
                hits = a == out
                return (hits * (g / int(hits.sum())),)  # a Python int keeps g's float32

            return _new(out, (self,), backward_all)
        d = _normalize_dims(dim, a.ndim)[0]
        indices = np.expand_dims(pick(a, axis=d), d)
        values = np.take_along_axis(a, indices, axis=d)
        if not keepdim:
            values, indices = values.squeeze(d), indices.squeeze(d)
        if not _needs_grad(self):
            return MaxMin(_new(values), _new(indices))
        kept = indices if keepdim else np.expand_dims(indices, d)

        def backward(g):  # only the chosen element receives the gradient
            grad = np.zeros_like(a)
            np.put_along_axis(grad, kept, g if keepdim else np.expand_dims(g, d), axis=d)
            return (grad,)

        return MaxMin(_new(values, (self,), backward), _new(indices))

    def max(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """The largest value, or (values, indices) along dim."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("max", dim, keepdim, axis, keepdims)
        if isinstance(dim, Tensor):
            return _extremum(np.maximum, self, dim)
        return self._extreme("max", dim, keepdim)

    def min(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """The smallest value, or (values, indices) along dim."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("min", dim, keepdim, axis, keepdims)
        if isinstance(dim, Tensor):
            return _extremum(np.minimum, self, dim)
        return self._extreme("min", dim, keepdim)

    def argmax(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("argmax", dim, keepdim, axis, keepdims)
        if dim is None:
            return _new(np.asarray(np.argmax(self._array, keepdims=keepdim)))
        return self._extreme("max", dim, keepdim).indices

    def argmin(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("argmin", dim, keepdim, axis, keepdims)
        if dim is None:
            return _new(np.asarray(np.argmin(self._array, keepdims=keepdim)))
        return self._extreme("min", dim, keepdim).indices

    # ------------------------------------------------------------------ softmax family
    @_numpy_names
    def softmax(self, dim: int) -> "Tensor":
        a = self._array
        shifted = np.exp(a - a.max(axis=dim, keepdims=True))
        out = shifted / shifted.sum(axis=dim, keepdims=True)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # ds_i/dx_j = s_i (delta_ij - s_j)
            return (out * (g - (g * out).sum(axis=dim, keepdims=True)),)

        return _new(out, (self,), backward)

    @_numpy_names
    def log_softmax(self, dim: int) -> "Tensor":
        a = self._array
        shifted = a - a.max(axis=dim, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # d logsoftmax_i / dx_j = delta_ij - softmax_j
            return (g - np.exp(out) * g.sum(axis=dim, keepdims=True),)

        return _new(out, (self,), backward)

    # ------------------------------------------------------------------ shape
    def _reshaped(self, out: np.ndarray) -> "Tensor":
        """An op that only rearranges elements: the gradient is reshaped back."""
        if not _needs_grad(self):
            return _new(out)
        shape = self._array.shape

        def backward(g):
            return (g.reshape(shape),)

        return _new(out, (self,), backward)

    def view(self, *shape) -> "Tensor":
        """The same elements in a new shape (one dimension may be -1)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            out = self._array.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {self._array.size}") from None
        return self._reshaped(out)

    reshape = view

    def view_as(self, other: "Tensor") -> "Tensor":
        return self.view(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        shape = self._array.shape
        if not shape:
            return self.view(1)
        start, end = start_dim % len(shape), end_dim % len(shape)
        return self.view(shape[:start] + (-1,) + shape[end + 1 :]) if end >= start else self

    @_numpy_names
    def squeeze(self, dim=None) -> "Tensor":
        a = self._array
        if dim is None:
            return self._reshaped(a.squeeze())
        dims = tuple(d for d in _normalize_dims(dim, a.ndim) if a.shape[d] == 1)
        return self._reshaped(a.squeeze(dims)) if dims else self

    @_numpy_names
    def unsqueeze(self, dim: int) -> "Tensor":
        return self._reshaped(np.expand_dims(self._array, dim))

    def expand(self, *sizes) -> "Tensor":
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        a = self._array
        target = tuple(a.shape[i - len(sizes) + a.ndim] if s == -1 else s for i, s in enumerate(sizes))
        out = np.broadcast_to(a, target)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            return (_unbroadcast(g, a.shape),)

        return _new(out, (self,), backward)

    def permute(self, *dims) -> "Tensor":
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        out = self._array.transpose(dims)
        if not _needs_grad(self):
            return _new(out)
        inverse = tuple(np.argsort([d % out.ndim for d in dims]))

        def backward(g):
            return (g.transpose(inverse),)

        return _new(out, (self,), backward)

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        dims = list(range(self._array.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self.permute(*dims)

    def t(self) -> "Tensor":
        """Transpose a 2-D tensor; 0-D and 1-D tensors are returned as they are."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.transpose(0, 1) if self.ndim == 2 else self

    def contiguous(self) -> "Tensor":
        """self when already contiguous, else a copy (so writing to it leaves the base alone)."""
        return self if self._array.flags.c_contiguous else self.clone()

    def clone(self) -> "Tensor":
        out = self._array.copy()
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            return (g,)

        return _new(out, (self,), backward)

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, index) -> "Tensor":
        a = self._array
        index = _unwrap_index(index)
        try:
            out = a[index]
        except IndexError as e:
            raise IndexError(f"{e} (tensor of shape {tuple(a.shape)})") from None
        if not _needs_grad(self):
            return _new(out)
        if type(index) is np.ndarray and index.dtype.kind in "iu" and a.ndim >= 1:
            n_rows = a.shape[0]

            def backward_rows(g):  # rows picked several times sum their gradients
                return (_scatter_rows(index, g, n_rows),)

            return _new(out, (self,), backward_rows)
        basic = _is_basic_index(index)

        def backward(g):
            grad = np.zeros_like(a)
            if basic:
                grad[index] = g
            else:
                np.add.at(grad, index, g)
            return (grad,)

        return _new(out, (self,), backward)

    # ------------------------------------------------------------------ shape, sort and scan ops (the series' programs)
    @_numpy_names
    def split(self, split_size_or_sections, dim: int = 0) -> tuple:
        """Pieces of split_size along dim (the last one may be shorter), or of the given sizes.
        Each piece is a view; its gradient lands in its place in the input's gradient."""
        a = self._array
        if a.ndim == 0:
            raise RuntimeError("split expects at least a 1-dimensional tensor")
        d = _one_dim(dim, a.ndim)
        n = a.shape[d]
        if isinstance(split_size_or_sections, (int, np.integer)):
            size = int(split_size_or_sections)
            if size < 0:
                raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
            if size == 0 and n:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
            sizes = [size] * (n // size) + [n % size] * (n % size > 0) if n else [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at dimension {d}), but got split_sizes={sizes}")
        lead = (slice(None),) * d
        pieces, start = [], 0
        for size in sizes:
            pieces.append(self._piece(lead + (slice(start, start + size),)))
            start += size
        return tuple(pieces)

    @_numpy_names
    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """At most `chunks` pieces of equal size ceil(n / chunks) along dim (the last may be shorter)."""
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        if self._array.ndim == 0:
            raise RuntimeError("chunk expects at least a 1-dimensional tensor")
        n = self._array.shape[_one_dim(dim, self._array.ndim)]
        return self.split(max(-(-n // chunks), 1 if n else 0), dim)

    @_numpy_names
    def unbind(self, dim: int = 0) -> tuple:
        """The slices along dim, without it: x.unbind(1)[i] is x[:, i]."""
        a = self._array
        if a.ndim == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        d = _one_dim(dim, a.ndim)
        lead = (slice(None),) * d
        return tuple(self._piece(lead + (i,)) for i in range(a.shape[d]))

    def _piece(self, index: tuple) -> "Tensor":
        """A view of self by a basic index (split, chunk, unbind): the piece's gradient is
        written into zeros of the input's shape at the piece's place."""
        a = self._array
        out = a[index]
        if not _needs_grad(self):
            return _new(out)
        shape = a.shape

        def backward(g):
            grad = np.zeros(shape, dtype=g.dtype)
            grad[index] = g
            return (grad,)

        return _new(out, (self,), backward)

    def tril(self, diagonal: int = 0) -> "Tensor":
        """The lower triangle of the last two dimensions (on and below `diagonal`), zeros above."""
        return self._triangle(np.tril, "tril", diagonal)

    def triu(self, diagonal: int = 0) -> "Tensor":
        """The upper triangle of the last two dimensions (on and above `diagonal`), zeros below."""
        return self._triangle(np.triu, "triu", diagonal)

    def _triangle(self, keep, name: str, diagonal: int) -> "Tensor":
        a = self._array
        if a.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        out = keep(a, diagonal)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # the kept elements pass their gradient, the zeroed ones none
            return (keep(g, diagonal),)

        return _new(out, (self,), backward)

    @_numpy_names
    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        """The k largest (or smallest) elements along dim and their indices, best first."""
        a = self._array
        work = a.reshape(1) if a.ndim == 0 else a
        d = _one_dim(dim, a.ndim)
        if not 0 <= k <= work.shape[d]:
            raise RuntimeError("selected index k out of range")
        indices = np.take(_argsort(work, d, largest), np.arange(k), axis=d)
        return self._sorted_pick(Topk, work, indices, d)

    @_numpy_names
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """(values, indices) sorted along dim; ties keep their order (always stable here);
        NaN sorts as the largest value, as in PyTorch."""
        a = self._array
        work = a.reshape(1) if a.ndim == 0 else a
        d = _one_dim(dim, a.ndim)
        return self._sorted_pick(Sort, work, _argsort(work, d, descending), d)

    def _sorted_pick(self, kind, work: np.ndarray, indices: np.ndarray, d: int):
        """topk's and sort's (values, indices): each value's gradient goes back to where it was taken."""
        values = np.take_along_axis(work, indices, axis=d)
        shape = self._array.shape
        if not shape:
            values, indices = values.reshape(()), indices.reshape(())
        if not _needs_grad(self):
            return kind(_new(values), _new(indices))
        kept = indices.reshape(values.shape) if shape else indices.reshape(1)

        def backward(g):
            grad = np.zeros(work.shape, dtype=g.dtype)
            np.put_along_axis(grad, kept, g.reshape(kept.shape), axis=d)  # the indices are distinct
            return (grad.reshape(shape),)

        return kind(_new(values, (self,), backward), _new(indices))

    @_numpy_names
    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> "Tensor":
        """The indices that sort along dim (stable: ties keep their order)."""
        return self.sort(dim, descending).indices

    def roll(self, shifts, dims=None) -> "Tensor":
        """Shift elements cyclically along dims (or over the flattened tensor when dims is None)."""
        a = self._array
        shift_list = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        if dims is None:
            if len(shift_list) != 1:
                raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shift_list)}, dims:0")
            out = np.roll(a.reshape(-1), shift_list[0]).reshape(a.shape)
        else:
            dim_list = _normalize_dims(dims, a.ndim)
            if len(shift_list) != len(dim_list):
                raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shift_list)}, dims:{len(dim_list)}")
            out = np.roll(a, shift_list, dim_list)
        if not _needs_grad(self):
            return _new(out)
        back = tuple(-s for s in shift_list)

        def backward(g):  # rolling back puts each gradient where its element came from
            if dims is None:
                return (np.roll(g.reshape(-1), back[0]).reshape(g.shape),)
            return (np.roll(g, back, dim_list),)

        return _new(out, (self,), backward)

    @_numpy_names
    def gather(self, dim: int, index: "Tensor", *, sparse_grad: bool = False) -> "Tensor":
        """out[i][j] = self[index[i][j]][j] (dim 0), self[i][index[i][j]] (dim 1), ...; index may
        be smaller than self in the other dimensions. Repeated indices sum their gradients."""
        a = self._array
        d, at = _along(a, dim, index, "gather")
        out = a[at]
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            grad = np.zeros(a.shape, dtype=g.dtype)
            np.add.at(grad, at, g)
            return (grad,)

        return _new(out, (self,), backward)

    @_numpy_names
    def scatter(self, dim: int, index: "Tensor", src=None, *, value=None, reduce=None) -> "Tensor":
        """A copy of self with src's elements (or a value) written at index along dim:
        out[index[i][j]][j] = src[i][j] (dim 0). Where an index repeats, which write wins is
        unspecified, as in PyTorch. The overwritten elements of self get no gradient."""
        if reduce is not None:
            return self._scatter_reduce(dim, index, src, value, reduce)
        return self._scatter(dim, index, src, value, add=False)

    @_numpy_names
    def scatter_add(self, dim: int, index: "Tensor", src: "Tensor") -> "Tensor":
        """A copy of self with src's elements added at index along dim (repeats accumulate)."""
        return self._scatter(dim, index, src, None, add=True)

    @_numpy_names
    def scatter_(self, dim: int, index: "Tensor", src=None, *, value=None, reduce=None) -> "Tensor":
        """scatter in place."""
        if reduce is not None:
            return self.copy_(self._scatter_reduce(dim, index, src, value, reduce))
        return self._scatter_inplace(dim, index, src, value, add=False)

    @_numpy_names
    def scatter_add_(self, dim: int, index: "Tensor", src: "Tensor") -> "Tensor":
        """scatter_add in place."""
        return self._scatter_inplace(dim, index, src, None, add=True)

    def _scatter_reduce(self, dim, index, src, value, reduce: str) -> "Tensor":
        if reduce != "add":
            raise NotImplementedError(f"microtorch: scatter(reduce={reduce!r}) is not supported; use reduce='add'")
        if src is None or not isinstance(src, Tensor):
            src = _new(np.broadcast_to(np.asarray(src if value is None else value, dtype=self.dtype), tuple(index.shape)))
        return self._scatter(dim, index, src, None, add=True)

    def _scatter_source(self, dim, index, src, value):
        """The checked scatter arguments: (dim, coordinates of the writes, src tensor or None,
        the values written: src's elements within index's shape, or the value cast to self's dtype)."""
        a = self._array
        if value is None and not isinstance(src, Tensor):
            src, value = None, src
        if src is None and value is None:
            raise TypeError("scatter() missing 1 required argument: 'src' or 'value'")
        if src is not None:
            if src._array.dtype != a.dtype:
                raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
            d, at = _along(a, dim, index, "scatter", src._array)
            return d, at, src, src._array[_leading(index._array.shape)]
        value = value.item() if isinstance(value, Tensor) else value
        d, at = _along(a, dim, index, "scatter")
        return d, at, None, np.array(value).astype(a.dtype)

    def _scatter(self, dim, index, src, value, add: bool) -> "Tensor":
        a = self._array
        d, at, src, values = self._scatter_source(dim, index, src, value)
        out = a.copy()
        if add:
            np.add.at(out, at, values)
        else:
            out[at] = values
        parents = (self,) if src is None else (self, src)
        if not _needs_grad(*parents):
            return _new(out)
        region = _leading(index._array.shape)
        src_shape = None if src is None else src._array.shape

        def backward(g):
            if add:  # d out / d self = 1 everywhere
                grad_self = g
            else:  # the overwritten elements of self do not reach the output
                grad_self = g.copy()
                grad_self[at] = 0
            if src_shape is None:
                return (grad_self,)
            grad_src = np.zeros(src_shape, dtype=g.dtype)
            grad_src[region] = g[at]  # each src element went to one place
            return grad_self, grad_src

        return _new(out, parents, backward)

    def _scatter_inplace(self, dim, index, src, value, add: bool) -> "Tensor":
        self._check_inplace()
        if isinstance(src, Tensor) and src._requires_grad and _GradMode.enabled:
            raise RuntimeError("microtorch does not record in-place operations: the right-hand side requires grad")
        d, at, src, values = self._scatter_source(dim, index, src, value)
        if add:
            np.add.at(self._array, at, values)
        else:
            self._array[at] = values
        return self

    @_numpy_names
    def index_select(self, dim: int, index: "Tensor") -> "Tensor":
        """The entries at the (1-D) index along dim, in index's order; repeats sum their gradients."""
        a = self._array
        d = _one_dim(dim, a.ndim)
        idx = index._array if isinstance(index, Tensor) else np.asarray(index)
        if idx.dtype.kind not in "iu":
            raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
        if idx.ndim > 1:
            raise IndexError("index_select(): Index is supposed to be a vector")
        idx = idx.reshape(-1)
        n = a.shape[d] if a.ndim else 1
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError("index out of range in self")
        work = a.reshape(1) if a.ndim == 0 else a
        out = np.take(work, idx, axis=d)
        if a.ndim == 0:
            out = out.reshape(())
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            grad = np.zeros(work.shape, dtype=g.dtype)
            np.add.at(np.moveaxis(grad, d, 0), idx, np.moveaxis(g.reshape(out.shape if a.ndim else (1,)), d, 0))
            return (grad.reshape(a.shape),)

        return _new(out, (self,), backward)

    @_numpy_names
    def cumsum(self, dim: int, *, dtype=None) -> "Tensor":
        """Running sums along dim; integer and bool inputs give int64, as in PyTorch."""
        a = self._array
        d = _one_dim(dim, a.ndim)
        out_dtype = _dtype(dtype) or (int64 if a.dtype.kind in "bui" else a.dtype)
        out = np.cumsum(a.reshape(a.shape or (1,)), axis=d, dtype=out_dtype).reshape(a.shape)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # x_i appears in every sum from i on: the reversed running sum of g
            if not g.ndim:
                return (g,)
            return (np.flip(np.cumsum(np.flip(g, d), axis=d), d),)

        return _new(out, (self,), backward)

    @_numpy_names
    def cumprod(self, dim: int, *, dtype=None) -> "Tensor":
        """Running products along dim. The gradient is exact with zeros in the input.

        With out_j = prod_{k<=j} x_k, d out_j / d x_i = L_i * prod_{i<k<=j} x_k for j >= i, where
        L_i = prod_{k<i} x_k. So grad_i = L_i * R_i with R_i = sum_{j>=i} g_j prod_{i<k<=j} x_k,
        which obeys R_i = g_i + x_{i+1} R_{i+1}: one backward scan, no division by x.
        """
        a = self._array
        d = _one_dim(dim, a.ndim)
        out_dtype = _dtype(dtype) or (int64 if a.dtype.kind in "bui" else a.dtype)
        out = np.cumprod(a.reshape(a.shape or (1,)), axis=d, dtype=out_dtype).reshape(a.shape)
        if not _needs_grad(self):
            return _new(out)
        x = np.moveaxis(a.reshape(a.shape or (1,)), d, 0)  # (n, ...): the scanned dim first
        left = _products_before(x, 0)  # L_i

        def backward(g):
            gm = np.moveaxis(g.reshape(a.shape or (1,)), d, 0)
            if not len(gm):
                return (np.zeros_like(g),)
            r = np.empty_like(gm)
            r[-1] = gm[-1]
            for i in range(len(gm) - 2, -1, -1):
                r[i] = gm[i] + x[i + 1] * r[i + 1]
            return (np.moveaxis(left * r, 0, d).reshape(a.shape),)

        return _new(out, (self,), backward)

    def amax(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """The largest values over dim (all dimensions by default); tied maxima share the
        gradient equally, as in PyTorch."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("amax", dim, keepdim, axis, keepdims)
        return self._amax_amin(np.maximum, "amax", dim, keepdim)

    def amin(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """The smallest values over dim (all dimensions by default); ties share the gradient."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("amin", dim, keepdim, axis, keepdims)
        return self._amax_amin(np.minimum, "amin", dim, keepdim)

    def _amax_amin(self, ufunc, name: str, dim, keepdim: bool) -> "Tensor":
        a = self._array
        dims = _reduction_dims(dim, a.ndim)
        if a.size == 0 and (dims is None or any(a.shape[i] == 0 for i in dims)):
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        kept = ufunc.reduce(a, axis=dims, keepdims=True)
        out = np.asarray(kept if keepdim else kept.reshape(_reduced_shape(a.shape, dims)))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # each tied extreme gets an equal share
            hits = a == kept
            return (hits * (g.reshape(kept.shape) / hits.sum(axis=dims, keepdims=True)),)

        return _new(out, (self,), backward)

    def logsumexp(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """log(sum(exp(x))) over dim (required, as in PyTorch), computed stably (shifted by the
        maximum). d/dx_i = exp(x_i - logsumexp(x)), the softmax."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("logsumexp", dim, keepdim, axis, keepdims)
        if dim is None:
            raise TypeError('logsumexp() missing 1 required positional arguments: "dim"')
        a = _floating(self._array)
        dims = _reduction_dims(dim, a.ndim)
        shift = a.max(axis=dims, keepdims=True) if a.size else np.zeros((1,) * a.ndim, a.dtype)
        shift = np.where(np.isfinite(shift), shift, 0)
        with np.errstate(divide="ignore"):  # all -inf: log(0) = -inf, as in PyTorch
            kept = np.log(np.exp(a - shift).sum(axis=dims, keepdims=True)) + shift
        out = np.asarray(kept if keepdim else kept.reshape(_reduced_shape(a.shape, dims)))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            return (g.reshape(kept.shape) * np.exp(a - kept),)

        return _new(out, (self,), backward)

    def prod(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> "Tensor":
        """The product of all elements, or along one dim. The gradient is exact with zeros:
        d prod / d x_i is the product of the others, from running products from both ends."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("prod", dim, keepdim, axis, keepdims)
        a = self._array
        out_dtype = _dtype(dtype) or (int64 if a.dtype.kind in "bui" else a.dtype)
        if dim is None:
            out = np.asarray(np.prod(a, dtype=out_dtype))
            d, x = 0, a.reshape(-1)
        else:
            d = _one_dim(dim, a.ndim)
            out = np.asarray(np.prod(a, axis=d if a.ndim else None, keepdims=keepdim and a.ndim > 0, dtype=out_dtype))
            x = a.reshape(a.shape or (1,))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            if dim is not None and not keepdim and a.ndim:
                g = np.expand_dims(g, d)
            return ((_products_of_others(x, d) * g).reshape(a.shape),)

        return _new(out, (self,), backward)

    def masked_fill_(self, mask: "Tensor", value) -> "Tensor":
        """masked_fill in place: value where mask (bool, broadcast to self's shape) is True."""
        m = mask._array if isinstance(mask, Tensor) else np.asarray(mask)
        if m.dtype != bool_:
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {m.dtype}")
        self._check_inplace()
        if isinstance(value, Tensor):
            if value._array.ndim:
                raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._array.ndim} dimension(s).")
            if value._requires_grad and _GradMode.enabled:
                raise RuntimeError("microtorch does not record in-place operations: the right-hand side requires grad")
            value = value._array
        try:
            np.copyto(self._array, np.asarray(value).astype(self._array.dtype), where=np.broadcast_to(m, self._array.shape))
        except ValueError:
            raise RuntimeError(f"masked_fill_: the mask of shape {tuple(m.shape)} does not broadcast to the tensor's shape {tuple(self.shape)}") from None
        return self

    def clamp_min(self, min) -> "Tensor":
        return self.clamp(min=min)

    def clamp_max(self, max) -> "Tensor":
        return self.clamp(max=max)

    def type_as(self, other: "Tensor") -> "Tensor":
        """self converted to other's dtype."""
        return self._cast(other._array.dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """A new tensor from data with self's dtype (unless given)."""
        _check_device(device)
        t = _from_data(data, _dtype(dtype) or self._array.dtype)
        return t.requires_grad_() if requires_grad else t

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """A new tensor of size filled with fill_value, with self's dtype (unless given)."""
        _check_device(device)
        t = _new(np.full(_size((size,)), fill_value, dtype=_dtype(dtype) or self._array.dtype))
        return t.requires_grad_() if requires_grad else t

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        return self.new_full(_size(size), 0, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        return self.new_full(_size(size), 1, dtype=dtype, device=device, requires_grad=requires_grad)

    new_empty = new_zeros

    # ------------------------------------------------------------------ misc
    def masked_fill(self, mask: "Tensor", value) -> "Tensor":
        """self with value where mask is True; the result keeps self's dtype, as in PyTorch."""
        dtype = self._array.dtype
        value = value._cast(dtype) if isinstance(value, Tensor) else _new(np.array(value, dtype=dtype))
        return _where(mask, value, self)

    def histc(self, bins: int = 100, min: float = 0, max: float = 0) -> "Tensor":
        lo, hi = (min, max) if min != max else (self._array.min(), self._array.max())
        return _new(np.histogram(self._array, bins=bins, range=(lo, hi))[0].astype(self.dtype))


_tensor_new = object.__new__



def _grad_fn_name(backward) -> str:
    qualname = getattr(backward, "__qualname__", "")
    parts = qualname.split(".")
    op = parts[-3] if len(parts) >= 3 else qualname
    return "".join(word.capitalize() for word in op.strip("_").split("_")) + "Backward"


def _run_backward(root: Tensor, seed: np.ndarray) -> None:
    """Propagate `seed` from root to every tensor that requires grad.

    Nodes are visited newest first: an op's output is always created after its inputs, so when
    a node is popped every consumer has already added its share of the node's gradient. This is
    a topological order without a separate sort, and iterative, so deep graphs work.
    """
    if root._backward is None:
        _accumulate(root, seed)
        return
    grads = {root: seed}
    heap = [(-root._seq, root)]
    while heap:
        node = heappop(heap)[1]
        g = grads.pop(node)
        if node._retains_grad:
            _accumulate(node, g)
        for parent, pg in zip(node._parents, node._backward(g)):
            if pg is None or not parent._requires_grad:
                continue
            if parent._backward is None:
                _accumulate(parent, pg)
            elif parent in grads:
                grads[parent] = grads[parent] + pg
            else:
                grads[parent] = pg
                heappush(heap, (-parent._seq, parent))


def _accumulate(t: Tensor, g: np.ndarray) -> None:
    """Add g into t's .grad in place (a tensor taken from .grad sees it, as in PyTorch);
    the first time, as a fresh copy the user owns."""
    if t._grad is None:
        t._grad = np.array(g, dtype=t._array.dtype)
    else:
        t._grad += g



def _size(size: tuple) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _extremum(ufunc, input: Tensor, other: Tensor) -> Tensor:
    other = _as_tensor(other, input)
    a, b = _binary_arrays(input, other)
    try:
        out = ufunc(a, b)
    except ValueError:
        raise _broadcast_error(ufunc.__name__, a, b) from None
    if not _needs_grad(input, other):
        return _new(out)

    def backward(g):  # the chosen operand gets the gradient; ties share it equally, as in PyTorch
        ga = np.where(a == b, g * 0.5, np.where(a == out, g, 0))
        return _unbroadcast(ga, a.shape), _unbroadcast(g - ga, b.shape)

    return _new(out, (input, other), backward)


def _where(condition: Tensor, input, other) -> Tensor:
    """Elements of input where condition holds, else of other (creation.where)."""
    cond = condition._array if isinstance(condition, Tensor) else np.asarray(condition)
    like = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) else _from_data(input)
    x, y = _as_tensor(input, like), _as_tensor(other, like)
    a, b = _binary_arrays(x, y)
    try:
        out = np.where(cond, a, b)
    except ValueError:
        raise RuntimeError(f"where: shapes {tuple(cond.shape)}, {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together") from None
    if not _needs_grad(x, y):
        return _new(out)

    def backward(g):
        return _unbroadcast(np.where(cond, g, 0), a.shape), _unbroadcast(np.where(cond, 0, g), b.shape)

    return _new(out, (x, y), backward)


def _from_data(data, dtype=None) -> "Tensor":
    """A new tensor (a copy) from data (creation.tensor without requires_grad)."""
    dtype = _dtype(dtype)
    if isinstance(data, Tensor):
        array = data._array.astype(dtype or data._array.dtype, copy=True)
    elif isinstance(data, np.ndarray) or isinstance(data, np.generic):
        array = np.array(data, dtype=dtype, copy=True)
    else:
        array = np.array(_unwrap_nested(data), dtype=dtype)
        if dtype is None and array.dtype == float64:
            array = array.astype(_DEFAULT_FLOAT)
        elif dtype is None and array.dtype.kind in "iu":
            array = array.astype(int64, copy=False)
    return _new(array)


def _unwrap_nested(data):
    """Lists may contain tensors (e.g. a list of losses): take their values."""
    if isinstance(data, Tensor):
        return data._array
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], (Tensor, list, tuple)):
        return [_unwrap_nested(x) for x in data]
    return data


_MOVED_TO_CREATION = {
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like", "ones_like",
    "full_like", "empty_like", "arange", "linspace", "eye", "cat", "concat", "stack", "where",
    "maximum", "minimum", "histogram", "allclose", "is_tensor", "numel",
}


def __getattr__(name: str):
    """Old import paths (`from microtorch.tensor import tensor, zeros`): the factories live in
    creation.py now, which imports this module; they are looked up there on first use."""
    if name in _MOVED_TO_CREATION:
        from . import creation

        return getattr(creation, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
