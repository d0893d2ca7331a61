"""Tensor: an ndarray with reverse-mode autodiff. Each op's forward and derivative side by side.

Writing an op: compute the output array; when `_needs_grad(inputs...)`, define `backward(g)` (the
output's gradient in, one gradient per input out: raw ndarrays, None for an input that needs none;
the engine accumulates) with its derivative as a comment on the line under `def backward(g):`, and
return `_new(out, inputs, backward, name, saved)`:
  name   PyTorch's grad_fn name, e.g. "MulBackward0" (None: derived from the closure's name).
  saved  the tensors backward reads, so that an in-place change to one of them before backward
         raises (version counters): inputs as themselves, the op's output as OUTPUT. A node
         that saves is freed by backward (a second backward raises unless retain_graph=True).
         saved=() declares that backward reads nothing (sum, view, ...): it may run again; the
         default None means state of the op's own (a number, an index array): freed, nothing
         to check.
An op that saves nothing pays nothing for version checks: versions are recorded as ints next
to the closure only for the tensors listed.
"""
from __future__ import annotations

import functools
import math
import re
import warnings
import weakref
from collections import namedtuple
from heapq import heappop, heappush
from sys import getrefcount
from typing import Iterator, Sequence

import numpy as np

from .dtypes import *  # noqa: F401,F403  (float32, int64, ...: also importable from here, their old home)
from .dtypes import _DEFAULT_FLOAT, _DTYPE_ALIASES, _PY_NUMBERS, _category, _dtype, _floating, _is_float, _promote, _promote_all, _public, _scalar_dtype  # noqa: F401
from .grad_mode import _GradMode
from .devices import CPU, _check_device, _parse_to
from .generator import default_generator
from .printing import Size, _type_name, tensor_repr

_seq = 0  # the last graph node's creation number (backward visits newest first); _new bumps it inline


def _next_seq() -> int:
    """The next node's creation number."""
    global _seq
    _seq += 1
    return _seq


MaxMin = namedtuple("MaxMin", ["values", "indices"])


# ---------------------------------------------------------------------- graph nodes
class Node:
    """One recorded op: the grad_fn of its output, as PyTorch's (name(), next_functions, metadata).

    _backward is the op's closure, _next the input edges (a Node, a leaf Tensor that requires grad,
    or None), _seq the creation order, _saved the tensors it saved (None: nothing, so never freed;
    _FREED after a backward without retain_graph) and _versions (the count of in-place changes of
    any tensor, then the saved tensors' versions) when they were saved.
    """

    __slots__ = ("_backward", "_next", "_seq", "_saved", "_versions", "_retain", "__weakref__")

    def name(self) -> str:
        """PyTorch's name of the op's backward, e.g. 'TanhBackward0'."""
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        """((node, 0), ...): one pair per input; leaves as AccumulateGrad nodes, None where no gradient flows."""
        return tuple((None if e is None else _accumulate_grad(e) if isinstance(e, Tensor) else e, 0) for e in self._next)

    @property
    def metadata(self) -> dict:
        """A dict for the user's annotations (kept as long as the node lives)."""
        return _METADATA.setdefault(self, {})

    def __call__(self, grad) -> tuple:
        """Apply the op's backward to the output's gradient: one Tensor (or None) per input."""
        g = grad._array if isinstance(grad, Tensor) else np.asarray(grad)
        return tuple(None if x is None else _new(np.asarray(x)) for x in _release(self, True)(g))

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"


class _NamedFromClosure(Node):
    """A node whose op gave no name: 'LayerNormBackward0' from a closure defined in `layer_norm`."""

    __slots__ = ()

    def name(self) -> str:
        parts = getattr(self._backward, "__qualname__", "").split(".")
        op = parts[-3] if len(parts) >= 3 else "".join(parts[:1]) or "Unknown"
        return "".join(word.capitalize() for word in op.strip("_").split("_")) + "Backward0"


_NODE_TYPES: dict = {}  # name -> Node subclass of that name, so type(grad_fn).__name__ is the name (a plain dict: cheaper lookups)


def _node_type(name: str) -> type:
    """The Node subclass called name, made on first use."""
    cls = _NODE_TYPES.get(name)
    if cls is None:
        cls = _NODE_TYPES[name] = type(name, (Node,), {"__slots__": (), "__module__": __name__})
    return cls


_NODE_TYPES["CopySlices"] = type("CopySlices", (Node,), {"__slots__": (), "__module__": __name__, "name": lambda self: "torch::autograd::CopySlices"})
_METADATA: "weakref.WeakKeyDictionary[Node, dict]" = weakref.WeakKeyDictionary()
_FREED = object()  # _saved of a node whose saved state backward released


OUTPUT = object()  # in `saved`: the op's own output


class _SavedOutput:
    """Stands for an op's saved output in node._saved: the output's version counter and array,
    without the output tensor (which holds the node: no reference cycle)."""

    __slots__ = ("_vc", "_array")


class AccumulateGrad:
    """The node at a leaf that requires grad: backward adds the leaf's gradient into .grad."""

    __slots__ = ("variable", "__weakref__")

    def __init__(self, variable: "Tensor") -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    next_functions = ()

    @property
    def metadata(self) -> dict:
        return _METADATA.setdefault(self, {})

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


_ACCUMULATORS: "weakref.WeakValueDictionary[int, AccumulateGrad]" = weakref.WeakValueDictionary()


def _accumulate_grad(leaf: "Tensor") -> AccumulateGrad:
    """The leaf's AccumulateGrad node: one per leaf while it is referenced (as in PyTorch, the
    node holds the leaf, the leaf does not hold the node)."""
    acc = _ACCUMULATORS.get(id(leaf))
    if acc is None or acc.variable is not leaf:
        acc = _ACCUMULATORS[id(leaf)] = AccumulateGrad(leaf)
    return acc


def _edge(t: "Tensor"):
    """What a new node's input edge points to: t's node, t itself for a leaf that requires grad, or None."""
    if not t._requires_grad:
        return None
    if t._base is not None:
        _refresh_view(t)
    return t._node or t


def _new(array: np.ndarray, parents: tuple = (), backward=None, name: str | None = None, saved=None) -> "Tensor":
    """Wrap an op's output array; record the graph when given a backward and grad mode is on."""
    global _seq
    t = _tensor_new(Tensor)
    t._array = array
    t._grad = None
    t._retains_grad = False
    t._vc = None
    t._base = None
    if backward is not None and _GradMode.enabled:
        t._requires_grad = True
        if name is None:
            node = _NamedFromClosure()
        else:
            try:
                node = _NODE_TYPES[name]()  # a call of the class: cheaper than object.__new__(cls)
            except KeyError:
                node = _node_type(name)()
        node._backward = backward
        n = len(parents)
        if n == 1:
            p = parents[0]
            node._next = ((p._node or p) if p._requires_grad and p._base is None else _edge(p),)
        elif n == 2:
            p, q = parents
            node._next = (
                (p._node or p) if p._requires_grad and p._base is None else _edge(p),
                (q._node or q) if q._requires_grad and q._base is None else _edge(q),
            )
        elif n == 3:
            p, q, r = parents
            node._next = (
                (p._node or p) if p._requires_grad and p._base is None else _edge(p),
                (q._node or q) if q._requires_grad and q._base is None else _edge(q),
                (r._node or r) if r._requires_grad and r._base is None else _edge(r),
            )
        else:
            node._next = tuple([(p._node or p) if p._requires_grad and p._base is None else _edge(p) for p in parents])
        _seq += 1
        node._seq = _seq
        node._retain = None
        if saved is None:
            node._saved = ()
        elif saved:
            n = len(saved)
            if n == 1:
                if saved[0] is OUTPUT:  # the output's stand-in: its counter and array (not the output, which holds the node)
                    standin = _SavedOutput()  # a call of the class: cheaper than object.__new__
                    standin._vc = t._vc = [0]
                    standin._array = array
                    node._saved = (standin,)
                    node._versions = (_changes[0], 0)
                else:
                    node._saved = saved
                    vc = saved[0]._vc
                    node._versions = (_changes[0], vc[0] if vc else 0)
            elif n == 2 and saved[0] is not OUTPUT and saved[1] is not OUTPUT:
                node._saved = saved
                vc, vd = saved[0]._vc, saved[1]._vc
                node._versions = (_changes[0], vc[0] if vc else 0, vd[0] if vd else 0)
            else:
                _save(node, saved, t)
        else:
            node._saved = None
        t._node = node
    else:
        t._requires_grad = False
        t._node = None
    return t


def _save(node: Node, saved: tuple, out: "Tensor") -> None:
    """Record the tensors node saved, OUTPUT as a stand-in holding the output's counter and
    array, and their versions after the count of in-place changes so far (_versions[0])."""
    versions = [_changes[0]]
    entries = []
    for s in saved:
        if s is OUTPUT:
            s = _SavedOutput()  # a call of the class: cheaper than object.__new__
            s._vc = out._vc = [0]
            s._array = out._array
        entries.append(s)
        vc = s._vc
        versions.append(vc[0] if vc else 0)
    node._saved = tuple(entries)
    node._versions = tuple(versions)


def _needs_grad(*tensors: "Tensor") -> bool:
    if not _GradMode.enabled:
        return False
    for t in tensors:
        if t._requires_grad:
            return True
        if t._base is not None and _refresh_view(t):
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


_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf Tensor, "
    "use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you access "
    "the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)  # PyTorch's warning, word for word


def _drop_leading_ones(value, target: tuple | None):
    """A tensor value of `t[index] = value` without the leading size-1 dims it has beyond the
    target's shape (all of them when target is None), as PyTorch's setitem: t[0] = x of shape (1, n)."""
    if not isinstance(value, Tensor) or (target is not None and value._array.ndim <= len(target)):
        return value  # (the common case, at once)
    shape = value._array.shape
    k = 0
    while k < len(shape) - (0 if target is None else len(target)) and shape[k] == 1:
        k += 1
    if target is not None and len(shape) - k > len(target):
        raise RuntimeError(f"expand({_type_name(value)}{{{list(shape[k:])}}}, size={list(target)}): the number of "
                           f"sizes provided ({len(target)}) must be greater or equal to the number of dimensions "
                           f"in the tensor ({len(shape) - k})")
    return value.reshape(shape[k:]) if k else value


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


def _index_saved(index) -> tuple | None:
    """What gather/scatter/index_select save: the index tensor, whose values backward reads
    (an in-place change to it before backward raises PyTorch's error); an index given as a
    list or array is state of the op's own (None)."""
    return (index,) if isinstance(index, Tensor) else None


def _scatter_op(t: "Tensor", dim, index, src, value, reduce) -> "Tensor":
    """scatter as a function of its operands, for scatter_ (Tensor._inplace_op)."""
    return t.scatter(dim, index, src, value=value, reduce=reduce)


_C_TYPE_NAMES = {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
                 "float64": "double", "float32": "float", "float16": "c10::Half"}  # how PyTorch's messages name dtypes


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

    __slots__ = ("_array", "_grad", "_requires_grad", "_node", "_retains_grad", "_vc", "_base", "__weakref__")
    # _node: the grad_fn (a Node) or None; _vc: the version counter, [n], shared with views (None
    # until needed: version 0); _base: (base tensor, steps replaying the view, version) for a view
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
        self._node = None
        self._retains_grad = False
        self._vc = None
        self._base = None

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> Size:
        return Size(self._array.shape)

    @property
    def dtype(self):
        """torch.float32, torch.int64, ...: a dtype object (inside microtorch, use _array.dtype)."""
        return _public(self._array.dtype)

    @property
    def ndim(self) -> int:
        return self._array.ndim

    @property
    def device(self):
        return CPU

    is_cuda = False

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user (not by an op that records the graph)."""
        return self.grad_fn is None

    @property
    def grad_fn(self) -> "Node | None":
        """The node of the op that made this tensor (name(), next_functions), or None for a leaf."""
        if self._base is not None:
            _refresh_view(self)
        return self._node

    @property
    def requires_grad(self) -> bool:
        if self._base is not None:
            return _refresh_view(self)
        return self._requires_grad

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has seen (shared with its views)."""
        vc = self._vc
        return vc[0] if vc else 0

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._node is not None:
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
        """The accumulated gradient (a Tensor sharing the gradient's storage), or None; a non-leaf
        tensor that does not retain its gradient warns as PyTorch (its .grad stays None)."""
        if self._grad is None:
            if not self._retains_grad and self.grad_fn is not None:
                warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
            return None
        return _new(self._grad)

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
        return self._permuted(tuple(range(self.ndim - 1, -1, -1)), "PermuteBackward0")

    @_numpy_names
    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension."""
        return Size(self._array.shape) if dim is None else self._array.shape[dim]

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
        node = self.grad_fn
        if node is not None:
            node._retain = weakref.ref(self)
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def detach(self) -> "Tensor":
        """The same storage (and version counter), cut from the graph."""
        out = _new(self._storage())
        out._vc = _counter(self)
        return out

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into .grad of every leaf that requires grad; the graph's
        saved state is freed unless retain_graph=True."""
        if create_graph:
            raise NotImplementedError(_NO_CREATE_GRAPH)
        if inputs is not None:
            raise NotImplementedError("backward(inputs=...) is not supported; use microtorch.autograd.grad")
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        _run_backward((self,), (_seed(self, gradient),), bool(retain_graph))

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
        return tensor_repr(self)

    __hash__ = object.__hash__

    def to(self, *args, **kwargs) -> "Tensor":
        """Convert to a dtype (differentiable between float dtypes); to('cpu') is self, other
        devices raise PyTorch's error; copy=True always returns a new tensor."""
        dtype = _parse_to(args, kwargs)
        out = self if dtype is None else self._cast(_dtype(dtype))
        return out.clone() if kwargs.get("copy") and out is self else out

    def cuda(self, device=None, non_blocking: bool = False) -> "Tensor":
        """Raises PyTorch's error: microtorch has no CUDA."""
        return self.to("cuda")

    def _cast(self, dtype: np.dtype) -> "Tensor":
        source = self._array.dtype
        if dtype == source:
            return self
        out = self._array.astype(dtype)
        if not (_is_float(dtype) and _needs_grad(self)):
            return _new(out)

        def backward(g):
            # d x/dx = 1, in the input's dtype
            return (g.astype(source),)

        return _new(out, (self,), backward, "ToCopyBackward0", ())

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
        return _type_name(self) if dtype is None else self._cast(_dtype(dtype))

    def cpu(self) -> "Tensor":
        return self

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other) -> "Tensor":
        if type(other) in _PY_NUMBERS and self._array.dtype.kind == "f":
            return self._with_number(self._array + other, 1, "AddBackward0")
        other = _as_tensor(other, self)
        a, b = _binary_arrays(self, other)
        try:
            out = a + b
        except ValueError:
            raise _broadcast_error("add", a, b) from None
        if not _needs_grad(self, other):
            return _new(out)

        def backward(g):
            # d(a + b)/da = 1, d(a + b)/db = 1
            return _unbroadcast(g, a.shape), _unbroadcast(g, b.shape)

        return _new(out, (self, other), backward, "AddBackward0", ())

    __radd__ = __add__

    def __sub__(self, other) -> "Tensor":
        if type(other) in _PY_NUMBERS and self._array.dtype.kind == "f":
            return self._with_number(self._array - other, 1, "SubBackward0")
        other = _as_tensor(other, self)
        a, b = _binary_arrays(self, other)
        try:
            out = a - b
        except ValueError:
            raise _broadcast_error("sub", a, b) from None
        if not _needs_grad(self, other):
            return _new(out)

        def backward(g):
            # d(a - b)/da = 1, d(a - b)/db = -1
            return _unbroadcast(g, a.shape), _unbroadcast(-g, b.shape)

        return _new(out, (self, other), backward, "SubBackward0", ())

    def __rsub__(self, other) -> "Tensor":
        if type(other) in _PY_NUMBERS and self._array.dtype.kind == "f":
            return self._with_number(other - self._array, -1, "RsubBackward1")
        return _as_tensor(other, self) - self

    def __mul__(self, other) -> "Tensor":
        if type(other) in _PY_NUMBERS and self._array.dtype.kind == "f":
            return self._with_number(self._array * other, other, "MulBackward0")
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
            # d(a b)/da = b, d(a b)/db = a
            return (
                _unbroadcast(g * b, a.shape) if a_needs else None,
                _unbroadcast(g * a, b.shape) if b_needs else None,
            )

        # as PyTorch's: b is saved for a's gradient, a for b's
        saved = (other, self) if a_needs and b_needs else (other,) if a_needs else (self,)
        return _new(out, (self, other), backward, "MulBackward0", saved)

    __rmul__ = __mul__

    def __truediv__(self, other) -> "Tensor":
        if type(other) in _PY_NUMBERS and self._array.dtype.kind == "f":
            return self._with_number(self._array / other, 1 / other if other else np.inf, "DivBackward0")
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

        def backward(g):
            # d(a/b)/da = 1/b ; d(a/b)/db = -a/b^2 = -out/b
            ga = g / b
            return _unbroadcast(ga, a.shape), (_unbroadcast(-ga * out, b.shape) if b_needs else None)

        return _new(out, (self, other), backward, "DivBackward0", (other, self) if b_needs else (other,))

    def __rtruediv__(self, other) -> "Tensor":
        return _as_tensor(other, self) / self

    def _with_number(self, out: np.ndarray, slope: float, name: str) -> "Tensor":
        """The result of `self op number` for a float tensor, whose derivative is the constant slope.

        numpy keeps a float32 array float32 next to a Python number, as PyTorch does. As PyTorch's,
        a product or quotient saves the number (so it is freed by backward); a sum saves nothing.
        """
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d(x op c)/dx = slope
            return (g if slope == 1 else g * slope,)

        t = _new(out, (self,), backward, name, () if slope == 1 or slope == -1 else None)  # None: saves the number
        if slope != -1:  # the number's edge, as in PyTorch's next_functions (rsub has none)
            t._node._next += (None,)
        return t

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

        def backward(g):
            # a % b = a - b floor(a / b): d/da = 1, d/db = -floor(a / b)
            return _unbroadcast(g, a.shape), (_unbroadcast(-g * np.floor_divide(a, b), b.shape) if b_needs else None)

        return _new(out, (self, other), backward, "RemainderBackward1" if b_needs else "RemainderBackward0", (self, other))

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

        def backward(g):
            # d(a^b)/da = b a^(b-1), 0 where b = 0 ; d(a^b)/db = a^b ln(a), 0 where a = 0 <= b
            # (its limit), NaN for a < 0: the rules of PyTorch's pow backward
            ga = gb = None
            if a_needs:
                ga = _unbroadcast(np.where(b == 0, 0, g * b * a ** (b - 1)), a.shape)
            if b_needs:
                gb = _unbroadcast(np.where((a == 0) & (b >= 0), 0, g * out * np.log(a)), b.shape)
            return ga, gb

        name = "PowBackward1" if a_needs else "PowBackward2"  # PowBackward2: a number or constant base
        return _new(out, (self, other), backward, name, (self, other, OUTPUT))

    def _pow_scalar(self, exponent: float) -> "Tensor":
        a = self._array
        if isinstance(exponent, float) and not _is_float(a.dtype):
            a = a.astype(_DEFAULT_FLOAT)
        out = a**2 if exponent == 2 else a * a * a if exponent == 3 else a**exponent  # x*x*x: ATen's cube, 25x numpy's powf
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d(a^n)/da = n a^(n-1)
            if exponent == 0:
                return (np.zeros_like(g),)
            return (g * (2 * a if exponent == 2 else exponent * a ** (exponent - 1)),)

        return _new(out, (self,), backward, "PowBackward0", (self,))

    def __rpow__(self, base) -> "Tensor":
        return _as_tensor(base, self) ** self

    def pow(self, exponent) -> "Tensor":
        return self**exponent

    def __neg__(self) -> "Tensor":
        out = -self._array
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d(-x)/dx = -1
            return (-g,)

        return _new(out, (self,), backward, "NegBackward0", ())

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
    def _storage(self) -> np.ndarray:
        """The array, made a writable 0-d ndarray if an op left a numpy scalar (0-d results do)."""
        if type(self._array) is not np.ndarray:
            self._array = np.array(self._array)
        return self._array

    def _recorded(self, *others) -> bool:
        """Whether an in-place op on self must be recorded: grad mode on and self or an operand requires grad."""
        if not _GradMode.enabled:
            return False
        _check_inplace(self)
        return _needs_grad(self, *(o for o in others if isinstance(o, Tensor)))

    def _inplace(self, ufunc, other) -> "Tensor":
        """self = ufunc(self, other) in place: a numpy call outside the graph, else the op recorded
        out of place and its result written back (the node gets self's old history as input)."""
        if self._recorded(other):
            saves_self = ufunc is np.multiply or ufunc is np.true_divide
            return _apply_inplace(self, _OUT_OF_PLACE[ufunc](_snapshot(self) if saves_self else self, other))
        value = other._array if isinstance(other, Tensor) else other
        array = self._storage()
        try:
            ufunc(array, value, out=array, casting="same_kind")
        except ValueError:
            if not array.flags.writeable:
                _write(self, array)  # raises PyTorch's error for an expanded tensor
            raise _broadcast_error(ufunc.__name__, array, np.asarray(value)) from None
        except TypeError as e:  # numpy's UFuncTypeError: e.g. a float result into an int tensor
            result = _scalar_dtype(value, array.dtype) if type(value) in _PY_NUMBERS else np.result_type(array, value)
            raise RuntimeError(f"result type {_TYPE_NAMES.get(result.name, result.name)} can't be cast to the desired output type {_TYPE_NAMES.get(array.dtype.name, array.dtype.name)}") from e
        _bump(self)
        return self

    def _inplace_op(self, op, *operands, copy_self: bool = False) -> "Tensor":
        """self = op(self, *operands) in place, for ops without a numpy fast path (tanh_, clamp_, ...)."""
        if self._recorded(*operands):
            return _apply_inplace(self, op(_snapshot(self) if copy_self else self, *operands))
        result = op(self, *operands)
        _write(self, result._array)
        _bump(self)
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

    def clamp_(self, min=None, max=None) -> "Tensor":
        return self._inplace_op(Tensor.clamp, min, max, copy_self=True)

    clip_ = clamp_

    def masked_fill_(self, mask: "Tensor", value) -> "Tensor":
        return self._inplace_op(Tensor.masked_fill, mask, value)

    def relu_(self) -> "Tensor":
        return self._inplace_op(Tensor.relu)

    def tanh_(self) -> "Tensor":
        return self._inplace_op(Tensor.tanh)

    def sigmoid_(self) -> "Tensor":
        return self._inplace_op(Tensor.sigmoid)

    def exp_(self) -> "Tensor":
        return self._inplace_op(Tensor.exp)

    def copy_(self, src) -> "Tensor":
        """Copy src's values into this tensor (broadcasting, casting to this dtype); src gets the gradient."""
        return self._inplace_op(_copy, src)

    def fill_(self, value) -> "Tensor":
        return self._inplace_op(_fill, value)

    def zero_(self) -> "Tensor":
        return self._inplace_op(_fill, 0)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None) -> "Tensor":
        """Fill with samples from N(mean, std^2) (PyTorch's values for the same seed)."""
        _check_inplace(self)
        (generator or default_generator).normal_(self._storage(), mean, std)
        return self._refilled()

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None) -> "Tensor":
        """Fill with samples from U(a, b) (PyTorch's values for the same seed)."""
        _check_inplace(self)
        (generator or default_generator).uniform_(self._storage(), a, b)
        return self._refilled()

    def _refilled(self) -> "Tensor":
        """After a fill with new values (normal_, uniform_): count the change; a graph tensor's
        history becomes a fill, which sends no gradient back (PyTorch's FillBackward)."""
        _bump(self)
        if _GradMode.enabled and self._requires_grad and self._node is not None:
            _rebase(self, _fill(self, 0)._node, None)
        return self

    def __setitem__(self, index, value) -> None:
        index = _unwrap_index(index)
        if _is_basic_index(index):
            view = self[index]
            view.copy_(_drop_leading_ones(value, view._array.shape))
            return
        value = _drop_leading_ones(value, None)
        if not self._recorded(value):
            if isinstance(value, Tensor):
                _write(self, _index_put(self, index, value)._array)  # checks the dtypes as PyTorch
            else:
                _write(self, np.asarray(value), index, check=False)
            _bump(self)
            return
        _apply_inplace(self, _index_put(self, index, value))

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

        def backward(g):
            # out = a @ b: da = g @ b^T, db = a^T @ g (1-D operands as a row / a column)
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

        saved = (other, self) if a_needs and b_needs else (other,) if a_needs else (self,)  # b for a's gradient, a for b's
        return _new(out, (self, other), backward, _matmul_name(a.ndim, b.ndim), saved)

    def __rmatmul__(self, other) -> "Tensor":
        return _from_data(other) @ self

    matmul = __matmul__

    # ------------------------------------------------------------------ unary
    def exp(self) -> "Tensor":
        out = np.exp(_floating(self._array))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d exp(x) = exp(x)
            return (g * out,)

        return _new(out, (self,), backward, "ExpBackward0", (OUTPUT,))

    def log(self) -> "Tensor":
        a = _floating(self._array)
        out = np.log(a)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d ln(x) = 1/x
            return (g / a,)

        return _new(out, (self,), backward, "LogBackward0", (self,))

    def log10(self) -> "Tensor":
        a = _floating(self._array)
        out = np.log10(a)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d log10(x) = 1 / (x ln 10)
            return (g / (a * math.log(10.0)),)

        return _new(out, (self,), backward, "Log10Backward0", (self,))

    def sqrt(self) -> "Tensor":
        out = np.sqrt(_floating(self._array))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d sqrt(x) = 1 / (2 sqrt(x))
            return (g / (2 * out),)

        return _new(out, (self,), backward, "SqrtBackward0", (OUTPUT,))

    def abs(self) -> "Tensor":
        a = self._array
        out = np.abs(a)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d|x| = sign(x), 0 at 0 as in PyTorch
            return (g * np.sign(a),)

        return _new(out, (self,), backward, "AbsBackward0", (self,))

    __abs__ = abs

    def tanh(self) -> "Tensor":
        out = np.tanh(_floating(self._array))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d tanh(x) = 1 - tanh(x)^2
            return (g * (1 - out * out),)

        return _new(out, (self,), backward, "TanhBackward0", (OUTPUT,))

    def sigmoid(self) -> "Tensor":
        out = np.exp(-np.logaddexp(0, -_floating(self._array)))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d sigmoid(x) = s (1 - s)
            return (g * out * (1 - out),)

        return _new(out, (self,), backward, "SigmoidBackward0", (OUTPUT,))

    def relu(self) -> "Tensor":
        a = self._array
        out = np.maximum(a, 0)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d relu(x) = 1 where x > 0 (where the output is > 0)
            return (g * (out > 0),)

        return _new(out, (self,), backward, "ReluBackward0", (OUTPUT,))

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
            # d clamp(x)/dx = 1 within [min, max]; a tensor bound gets the gradient where it applied
            below = a < lo if lo is not None else np.False_
            above = a > hi if hi is not None else np.False_
            grads = [_unbroadcast(g * ~(below | above), a.shape)]
            if isinstance(min, Tensor):
                grads.append(_unbroadcast(g * below, lo.shape))
            if isinstance(max, Tensor):
                grads.append(_unbroadcast(g * above, hi.shape))
            return tuple(grads)

        return _new(out, (self,) + bounds, backward, "ClampBackward0" if bounds else "ClampBackward1", (self,) + bounds)

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

        def backward(g):
            # d sum/dx_i = 1: every input element gets the output's gradient
            return (np.broadcast_to(_expand_reduced(g, dims, keepdim, shape), shape),)

        return _new(out, (self,), backward, "SumBackward0" if dims is None else "SumBackward1", ())

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

        def backward(g):
            # d mean/dx_i = 1/N
            return (np.broadcast_to(_expand_reduced(g, dims, keepdim, shape) / count, shape),)

        return _new(out, (self,), backward, "MeanBackward0" if dims is None else "MeanBackward1", ())

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

        def backward(g):
            # d var / dx_i = 2 (x_i - mean) / (N - correction)
            return (_expand_reduced(g, dims, keepdim, shape) * centered * scale,)

        return _new(out, (self,), backward, "VarBackward0", (self,))

    def std(self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None, axis=None, keepdims=None) -> "Tensor":
        """Standard deviation: sqrt of var (same correction rules)."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("std", dim, keepdim, axis, keepdims)
        v = self.var(dim, unbiased, keepdim, correction=correction)
        out = np.sqrt(v._array)
        if not _needs_grad(v):
            return _new(out)

        def backward(g):
            # d sqrt(v) = 1 / (2 sqrt(v)); 0 where std is 0 (constant input), as in PyTorch
            return (g / (2 * np.where(out == 0, np.inf, out)),)

        return _new(out, (v,), backward, "StdBackward0", (OUTPUT,))

    def _extreme(self, name: str, dim, keepdim: bool):
        a = self._array
        pick = np.argmax if name == "max" else np.argmin
        if dim is None:
            if a.size == 0:
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            out = np.asarray(a.max() if name == "max" else a.min())
            if not _needs_grad(self):
                return _new(out)

            def backward_all(g):
                # d max/dx_i = 1/k at the k tied extremes, else 0
                hits = a == out
                return (hits * (g / int(hits.sum())),)  # a Python int keeps g's float32

            return _new(out, (self,), backward_all, "MaxBackward1" if name == "max" else "MinBackward1", (self, OUTPUT))
        d = _normalize_dims(dim, a.ndim)[0]
        indices = np.expand_dims(pick(a, axis=d), d)
        values = np.take_along_axis(a, indices, axis=d)
        if not keepdim:
            values, indices = values.squeeze(d), indices.squeeze(d)
        if not _needs_grad(self):
            return MaxMin(_new(values), _new(indices))
        kept = indices if keepdim else np.expand_dims(indices, d)

        def backward(g):
            # d max_j/dx_i = 1 for the chosen element, else 0
            grad = np.zeros_like(a)
            np.put_along_axis(grad, kept, g if keepdim else np.expand_dims(g, d), axis=d)
            return (grad,)

        return MaxMin(_new(values, (self,), backward, "MaxBackward0" if name == "max" else "MinBackward0"), _new(indices))

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

        def backward(g):
            # ds_i/dx_j = s_i (delta_ij - s_j)
            return (out * (g - (g * out).sum(axis=dim, keepdims=True)),)

        return _new(out, (self,), backward, "SoftmaxBackward0", (OUTPUT,))

    @_numpy_names
    def log_softmax(self, dim: int) -> "Tensor":
        a = self._array
        shifted = a - a.max(axis=dim, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d logsoftmax_i / dx_j = delta_ij - softmax_j
            return (g - np.exp(out) * g.sum(axis=dim, keepdims=True),)

        return _new(out, (self,), backward, "LogSoftmaxBackward0", (OUTPUT,))

    # ------------------------------------------------------------------ shape
    def _reshaped(self, out: np.ndarray, name: str) -> "Tensor":
        """An op that only rearranges elements (a view when numpy gave one): the gradient is reshaped back."""
        a = self._array
        is_view = out.base is not None and (out.base is a or out.base is a.base)
        if not _needs_grad(self):
            t = _new(out)
        else:
            shape = a.shape

            def backward(g):
                # d view(x)/dx = 1, element for element
                return (g.reshape(shape),)

            t = _new(out, (self,), backward, name if is_view else "UnsafeViewBackward0", ())
        return _as_view(t, self, ("shape", out.shape)) if is_view else t

    def view(self, *shape) -> "Tensor":
        """The same elements in a new shape (one dimension may be -1)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            out = self._array.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {self._array.size}") from None
        return self._reshaped(out, "ViewBackward0")

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
            return self._reshaped(a.squeeze(), "SqueezeBackward0")
        dims = tuple(d for d in _normalize_dims(dim, a.ndim) if a.shape[d] == 1)
        return self._reshaped(a.squeeze(dims), "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2") if dims else self

    @_numpy_names
    def unsqueeze(self, dim: int) -> "Tensor":
        return self._reshaped(np.expand_dims(self._array, dim), "UnsqueezeBackward0")

    def expand(self, *sizes) -> "Tensor":
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        a = self._array
        target = tuple(a.shape[i - len(sizes) + a.ndim] if s == -1 else s for i, s in enumerate(sizes))
        out = np.broadcast_to(a, target)
        if not _needs_grad(self):
            return _as_view(_new(out), self, ("expand", target))

        def backward(g):
            # d expand(x)/dx: the copies' gradients are summed
            return (_unbroadcast(g, a.shape),)

        return _as_view(_new(out, (self,), backward, "ExpandBackward0", ()), self, ("expand", target))

    def permute(self, *dims) -> "Tensor":
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return self._permuted(dims, "PermuteBackward0")

    def _permuted(self, dims: tuple, name: str) -> "Tensor":
        out = self._array.transpose(dims)
        if not _needs_grad(self):
            return _as_view(_new(out), self, ("permute", dims))
        inverse = tuple(np.argsort([d % out.ndim for d in dims]))

        def backward(g):
            # d permute(x)/dx: the gradient permuted back
            return (g.transpose(inverse),)

        return _as_view(_new(out, (self,), backward, name, ()), self, ("permute", dims))

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        dims = list(range(self._array.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self._permuted(tuple(dims), "TransposeBackward0")

    def t(self) -> "Tensor":
        """Transpose a 2-D tensor; 0-D and 1-D tensors are returned as they are."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self._permuted((1, 0), "TBackward0") if self.ndim == 2 else self

    def contiguous(self) -> "Tensor":
        """self when already contiguous, else a copy (so writing to it leaves the base alone)."""
        return self if self._array.flags.c_contiguous else self.clone()

    def clone(self) -> "Tensor":
        out = self._array.copy()
        if not _needs_grad(self):
            return _new(out)

        def backward(g):
            # d clone(x)/dx = 1
            return (g,)

        return _new(out, (self,), backward, "CloneBackward0", ())

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, index) -> "Tensor":
        a = self._array
        index = _unwrap_index(index)
        try:
            out = a[index]
        except IndexError as e:
            raise IndexError(f"{e} (tensor of shape {tuple(a.shape)})") from None
        basic = type(index) is not np.ndarray and _is_basic_index(index)
        if basic and type(out) is not np.ndarray:
            index = (index if type(index) is tuple else (index,)) + (Ellipsis,)  # a 0-d view, not a numpy scalar
            out = a[index]
        if not _needs_grad(self):
            t = _new(out)
            return _as_view(t, self, ("index", index)) if basic else t
        if type(index) is np.ndarray and index.dtype.kind in "iu" and a.ndim >= 1:
            n_rows = a.shape[0]

            def backward_rows(g):
                # d x[rows]/dx: rows picked several times sum their gradients
                return (_scatter_rows(index, g, n_rows),)

            return _new(out, (self,), backward_rows, "IndexBackward0")

        def backward(g):
            # d x[index]/dx = 1 at the picked elements (summed where picked several times), else 0
            grad = np.zeros_like(a)
            if basic:
                grad[index] = g
            else:
                np.add.at(grad, index, g)
            return (grad,)

        if not basic:
            return _new(out, (self,), backward, "IndexBackward0")
        return _as_view(_new(out, (self,), backward, _basic_index_name(index), ()), self, ("index", index))

    # ------------------------------------------------------------------ shape, sort and scan ops (the series' programs)
    @_numpy_names
    def split(self, split_size, dim: int = 0) -> tuple:
        """Pieces of split_size along dim (the last one may be shorter), or of the given sizes.
        Each piece is a view; its gradient lands in its place in the input's gradient."""
        a = self._array
        if a.ndim == 0:
            raise RuntimeError("split expects at least a 1-dimensional tensor")
        d = _one_dim(dim, a.ndim)
        n = a.shape[d]
        if isinstance(split_size, (int, np.integer)):
            size = int(split_size)
            if size < 0:
                raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
            if size == 0 and n:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
            sizes = [size] * (n // size) + [n % size] * (n % size > 0) if n else [0]
        else:
            sizes = [int(s) for s in split_size]
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at dimension {d}), but got split_sizes={sizes}")
        lead = (slice(None),) * d
        name = "SplitBackward0" if isinstance(split_size, (int, np.integer)) else "SplitWithSizesBackward0"
        pieces, start = [], 0
        for size in sizes:
            pieces.append(self._piece(lead + (slice(start, start + size),), name))
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
        return tuple(self._piece(lead + (i,), "UnbindBackward0") for i in range(a.shape[d]))

    def _piece(self, index: tuple, name: str) -> "Tensor":
        """A view of self by a basic index (split, chunk, unbind): the piece's gradient is
        written into zeros of the input's shape at the piece's place."""
        a = self._array
        out = a[index]
        if not _needs_grad(self):
            return _new(out)
        shape = a.shape

        def backward(g):  # the piece's place in the input gets its gradient, the rest none
            grad = np.zeros(shape, dtype=g.dtype)
            grad[index] = g
            return (grad,)

        return _new(out, (self,), backward, name, ())

    def tril(self, diagonal: int = 0) -> "Tensor":
        """The lower triangle of the last two dimensions (on and below `diagonal`), zeros above."""
        return self._triangle(np.tril, "Tril", diagonal)

    def triu(self, diagonal: int = 0) -> "Tensor":
        """The upper triangle of the last two dimensions (on and above `diagonal`), zeros below."""
        return self._triangle(np.triu, "Triu", diagonal)

    def _triangle(self, keep, name: str, diagonal: int) -> "Tensor":
        a = self._array
        if a.ndim < 2:
            raise RuntimeError(f"{name.lower()}: input tensor must have at least 2 dimensions")
        out = keep(a, diagonal)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # the kept elements pass their gradient, the zeroed ones none
            return (keep(g, diagonal),)

        return _new(out, (self,), backward, name + "Backward0", ())

    @_numpy_names
    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        """The k largest (or smallest) elements along dim and their indices, best first."""
        a = self._array
        work = a.reshape(1) if a.ndim == 0 else a
        d = _one_dim(dim, a.ndim)
        if not 0 <= k <= work.shape[d]:
            raise RuntimeError("selected index k out of range")
        indices = np.take(_argsort(work, d, largest), np.arange(k), axis=d)
        return self._sorted_pick(Topk, "TopkBackward0", work, indices, d)

    @_numpy_names
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """(values, indices) sorted along dim; ties keep their order (always stable here);
        NaN sorts as the largest value, as in PyTorch."""
        a = self._array
        work = a.reshape(1) if a.ndim == 0 else a
        d = _one_dim(dim, a.ndim)
        return self._sorted_pick(Sort, "SortBackward0", work, _argsort(work, d, descending), d)

    def _sorted_pick(self, kind, name: str, work: np.ndarray, indices: np.ndarray, d: int):
        """topk's and sort's (values, indices): each value's gradient goes back to where it was taken."""
        values = np.take_along_axis(work, indices, axis=d)
        shape = self._array.shape
        if not shape:
            values, indices = values.reshape(()), indices.reshape(())
        if not _needs_grad(self):
            return kind(_new(values), _new(indices))
        kept = indices.reshape(values.shape) if shape else indices.reshape(1)

        def backward(g):  # each value's gradient goes back to its place (the indices are distinct)
            grad = np.zeros(work.shape, dtype=g.dtype)
            np.put_along_axis(grad, kept, g.reshape(kept.shape), axis=d)
            return (grad.reshape(shape),)

        return kind(_new(values, (self,), backward, name), _new(indices))  # saves its own indices

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

        return _new(out, (self,), backward, "RollBackward0", ())

    @_numpy_names
    def gather(self, dim: int, index: "Tensor", *, sparse_grad: bool = False) -> "Tensor":
        """out[i][j] = self[index[i][j]][j] (dim 0), self[i][index[i][j]] (dim 1), ...; index may
        be smaller than self in the other dimensions. Repeated indices sum their gradients."""
        a = self._array
        d, at = _along(a, dim, index, "gather")
        out = a[at]
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # each output element came from one place; repeated places add up
            grad = np.zeros(a.shape, dtype=g.dtype)
            np.add.at(grad, at, g)
            return (grad,)

        return _new(out, (self,), backward, "GatherBackward0", _index_saved(index))

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
        """scatter in place (recorded on a graph tensor, as PyTorch's)."""
        return self._inplace_op(_scatter_op, dim, index, src, value, reduce)

    @_numpy_names
    def scatter_add_(self, dim: int, index: "Tensor", src: "Tensor") -> "Tensor":
        """scatter_add in place (recorded on a graph tensor, as PyTorch's)."""
        return self._inplace_op(Tensor.scatter_add, dim, index, src)

    def _scatter_reduce(self, dim, index, src, value, reduce: str) -> "Tensor":
        if reduce != "add":
            raise NotImplementedError(f"microtorch: scatter(reduce={reduce!r}) is not supported; use reduce='add'")
        if src is None or not isinstance(src, Tensor):
            src = _new(np.broadcast_to(np.asarray(src if value is None else value, dtype=self._array.dtype), tuple(index.shape)))
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
            return d, at, src, src._array[_leading(np.shape(index))]
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
        region = _leading(np.shape(index))
        src_shape = None if src is None else src._array.shape
        name = "ScatterAddBackward0" if add else "ScatterBackward1" if src is None else "ScatterBackward0"

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

        return _new(out, parents, backward, name, _index_saved(index))

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

        return _new(out, (self,), backward, "IndexSelectBackward0", _index_saved(index))

    def _scan(self, scan, dim: int, dtype) -> tuple:
        """(dim, the running sums or products along it); integer and bool inputs give int64."""
        a = self._array
        d = _one_dim(dim, a.ndim)
        out_dtype = _dtype(dtype) or (int64 if a.dtype.kind in "bui" else a.dtype)
        return d, scan(a.reshape(a.shape or (1,)), axis=d, dtype=out_dtype).reshape(a.shape)

    @_numpy_names
    def cumsum(self, dim: int, *, dtype=None) -> "Tensor":
        """Running sums along dim; integer and bool inputs give int64, as in PyTorch."""
        d, out = self._scan(np.cumsum, dim, dtype)
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # x_i appears in every sum from i on: the reversed running sum of g
            if not g.ndim:
                return (g,)
            return (np.flip(np.cumsum(np.flip(g, d), axis=d), d),)

        return _new(out, (self,), backward, "CumsumBackward0", ())

    @_numpy_names
    def cumprod(self, dim: int, *, dtype=None) -> "Tensor":
        """Running products along dim. The gradient is exact with zeros in the input.

        With out_j = prod_{k<=j} x_k, d out_j / d x_i = L_i * prod_{i<k<=j} x_k for j >= i, where
        L_i = prod_{k<i} x_k. So grad_i = L_i * R_i with R_i = sum_{j>=i} g_j prod_{i<k<=j} x_k,
        which obeys R_i = g_i + x_{i+1} R_{i+1}: one backward scan, no division by x.
        """
        a = self._array
        d, out = self._scan(np.cumprod, dim, dtype)
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

        return _new(out, (self,), backward, "CumprodBackward0", (self,))

    def amax(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """The largest values over dim (all dimensions by default); tied maxima share the
        gradient equally, as in PyTorch."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("amax", dim, keepdim, axis, keepdims)
        return self._amax_amin(np.maximum, "Amax", dim, keepdim)

    def amin(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """The smallest values over dim (all dimensions by default); ties share the gradient."""
        if axis is not None or keepdims is not None:
            dim, keepdim = _aliases("amin", dim, keepdim, axis, keepdims)
        return self._amax_amin(np.minimum, "Amin", dim, keepdim)

    def _amax_amin(self, ufunc, name: str, dim, keepdim: bool) -> "Tensor":
        a = self._array
        dims = _reduction_dims(dim, a.ndim)
        if a.size == 0 and (dims is None or any(a.shape[i] == 0 for i in dims)):
            raise RuntimeError(f"{name.lower()}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        kept = ufunc.reduce(a, axis=dims, keepdims=True)
        out = np.asarray(kept if keepdim else kept.reshape(_reduced_shape(a.shape, dims)))
        if not _needs_grad(self):
            return _new(out)

        def backward(g):  # each tied extreme gets an equal share
            hits = a == kept
            return (hits * (g.reshape(kept.shape) / hits.sum(axis=dims, keepdims=True)),)

        return _new(out, (self,), backward, name + "Backward0", (self, OUTPUT))

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

        return _new(out, (self,), backward, "LogsumexpBackward0", (self, OUTPUT))

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

        return _new(out, (self,), backward, "ProdBackward0" if dim is None else "ProdBackward1", (self,))

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
        cond = mask._array if isinstance(mask, Tensor) else np.asarray(mask)
        if cond.dtype != bool_:
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {_C_TYPE_NAMES.get(cond.dtype.name, cond.dtype.name)}")
        a = self._array
        v = value._array.astype(a.dtype, copy=False) if isinstance(value, Tensor) else np.array(value, dtype=a.dtype)
        try:
            out = np.where(cond, v, a)
        except ValueError:
            raise RuntimeError(f"masked_fill: the mask of shape {tuple(cond.shape)} cannot be broadcast to the tensor of shape {tuple(a.shape)}") from None
        if out.shape != a.shape:
            raise RuntimeError(f"masked_fill: the mask of shape {tuple(cond.shape)} cannot be broadcast to the tensor of shape {tuple(a.shape)}")
        value_t = value if isinstance(value, Tensor) else None
        if not _needs_grad(self, *(() if value_t is None else (value_t,))):
            return _new(out)

        def backward(g):
            # d/dx = 1 where the mask is False; a tensor value gets the sum of g where it is True
            gx = np.where(cond, 0, g)
            if value_t is None:
                return (gx,)
            return gx, np.where(cond, g, 0).sum().reshape(value_t.shape).astype(value_t._array.dtype, copy=False)

        if value_t is None:
            return _new(out, (self,), backward, "MaskedFillBackward0", (mask,) if isinstance(mask, Tensor) else None)
        if value_t._array.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value_t._array.ndim} dimension(s).")
        return _new(out, (self, value_t), backward, "MaskedFillBackward1", (mask,) if isinstance(mask, Tensor) else None)

    def histc(self, bins: int = 100, min: float = 0, max: float = 0) -> "Tensor":
        lo, hi = (min, max) if min != max else (self._array.min(), self._array.max())
        return _new(np.histogram(self._array, bins=bins, range=(lo, hi))[0].astype(self._array.dtype))


def _basic_index_name(index) -> str:
    """PyTorch's node for a basic index: the last step that does something decides."""
    for item in reversed(index if type(index) is tuple else (index,)):
        if item is None:
            return "UnsqueezeBackward0"
        if isinstance(item, int):
            return "SelectBackward0"
        if isinstance(item, slice) and item != slice(None):
            return "SliceBackward0"
    return "AliasBackward0" if any(i is Ellipsis for i in (index if type(index) is tuple else (index,))) else "SliceBackward0"


def _matmul_name(a_ndim: int, b_ndim: int) -> str:
    """PyTorch's node for matmul by the operands' dimensions."""
    if a_ndim == 2 and b_ndim == 2:
        return "MmBackward0"
    if a_ndim == 1 and b_ndim == 1:
        return "DotBackward0"
    if a_ndim == 2 and b_ndim == 1:
        return "MvBackward0"
    if a_ndim == 1 and b_ndim == 2:
        return "SqueezeBackward4"
    return "UnsafeViewBackward0" if a_ndim >= 3 and b_ndim <= 2 else "BmmBackward0" if a_ndim == b_ndim == 3 else "UnsafeViewBackward0"


_tensor_new = object.__new__


def _snapshot(t: "Tensor") -> "Tensor":
    """t's values as they are now, with t's history: the operand of an in-place op that saves it
    (t's own array is about to be overwritten)."""
    s = _tensor_new(Tensor)
    s._array = t._array.copy()
    s._grad, s._retains_grad, s._vc, s._base = None, False, None, None
    s._requires_grad = t.requires_grad
    s._node = t._node
    return s


def _copy(dst: "Tensor", src) -> "Tensor":
    """copy_ out of place: src broadcast to dst's shape in dst's dtype (PyTorch's CopyBackwards)."""
    a = dst._array
    src_t = src if isinstance(src, Tensor) else _new(np.asarray(src))
    v = src_t._array
    try:
        out = np.broadcast_to(v, a.shape).astype(a.dtype)
    except ValueError:
        raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast shape {list(np.broadcast_shapes(a.shape, v.shape)) if _broadcastable(a.shape, v.shape) else list(v.shape)}") from None
    if not _needs_grad(dst, src_t):
        return _new(out)
    src_needs = src_t.requires_grad

    def backward(g):
        # the old values are overwritten: no gradient; d copy/d src = 1, summed over broadcast copies
        return None, (_unbroadcast(g, v.shape).astype(v.dtype, copy=False) if src_needs else None)

    return _new(out, (dst, src_t), backward, "CopyBackwards", ())


def _broadcastable(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _fill(t: "Tensor", value) -> "Tensor":
    """fill_ / zero_ out of place: the old values get no gradient."""
    out = np.full_like(t._array, value)
    if not _needs_grad(t):
        return _new(out)

    def backward(g):
        # a constant: no gradient to the overwritten values
        return (None,)

    return _new(out, (t,), backward, "ZeroBackward0" if value == 0 else "FillBackward2", ())


def _index_put(t: "Tensor", index, value) -> "Tensor":
    """t[index] = value (an advanced index) out of place, as PyTorch's index_put."""
    a = t._array
    value_t = value if isinstance(value, Tensor) else _new(np.asarray(value, dtype=a.dtype))
    v = value_t._array
    if v.dtype != a.dtype and isinstance(value, Tensor):
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got {_TYPE_NAMES.get(a.dtype.name, a.dtype.name)} for the destination and {_TYPE_NAMES.get(v.dtype.name, v.dtype.name)} for the source.")
    out = a.copy()
    try:
        out[index] = v
    except (ValueError, IndexError) as e:
        raise RuntimeError(f"index_put: {e} (tensor of shape {tuple(a.shape)}, value of shape {tuple(v.shape)})") from None
    if not _needs_grad(t, value_t):
        return _new(out)
    value_needs = value_t.requires_grad

    def backward(g):
        # the written elements get no gradient to their old values; the value gets theirs
        gt = g.copy()
        gt[index] = 0
        return gt, (_unbroadcast(np.broadcast_to(g[index], np.broadcast_shapes(a[index].shape, v.shape)), v.shape) if value_needs else None)

    return _new(out, (t, value_t), backward, "IndexPutBackward0")


# ---------------------------------------------------------------------- views and version counters
def _counter(t: "Tensor") -> list:
    """t's version counter, made on first need (a tensor never viewed, saved or modified has none)."""
    vc = t._vc
    if vc is None:
        vc = t._vc = [0]
    return vc


_changes = [0]  # in-place changes of any tensor so far: a node saved after the last one needs no check


def _bump(t: "Tensor") -> None:
    """Count an in-place change of t (and of every tensor sharing its storage's counter)."""
    _changes[0] += 1
    vc = t._vc
    if vc is None:
        t._vc = [1]
    else:
        vc[0] += 1


def _as_view(out: "Tensor", of: "Tensor", step: tuple) -> "Tensor":
    """Mark out as a view of `of` (sharing its version counter); step replays it on an array:
    ("index", index), ("shape", shape) or ("permute", dims)."""
    vc = out._vc = _counter(of)
    if of._base is None:
        out._base = (of, (step,), vc[0])
    else:
        base, steps, _ = of._base
        out._base = (base, steps + (step,), vc[0])
    return out


def _replay(array: np.ndarray, steps: tuple) -> np.ndarray:
    for kind, arg in steps:
        if kind == "index":
            array = array[arg]
        elif kind == "shape":
            array = array.reshape(arg)
        elif kind == "permute":
            array = array.transpose(arg)
        else:  # "expand"
            array = np.broadcast_to(array, arg)
    return array


def _view_positions(view: "Tensor") -> np.ndarray:
    """The flat (C-order) positions in its base of each element of a view, in the view's shape."""
    base, steps, _ = view._base
    return _replay(np.arange(base._array.size).reshape(base._array.shape), steps)


def _refresh_view(view: "Tensor") -> bool:
    """After an in-place change of its base (directly or through another view) a view's history
    is the base's new history, seen through the view (PyTorch's AsStridedBackward0). Returns
    whether the view requires grad."""
    base, steps, version = view._base
    if view._vc[0] != version:
        view._base = (base, steps, view._vc[0])
        if base._requires_grad and _GradMode.enabled and base._node is not None:
            view._node, view._requires_grad = _as_strided_node(view, base), True
    return view._requires_grad


def _as_strided_node(view: "Tensor", base: "Tensor") -> Node:
    pos = _view_positions(view)
    shape, dtype = base._array.shape, base._array.dtype

    def backward(g):
        # the view's elements sit at pos in the base; the other elements get no gradient
        grad = np.zeros(base._array.size, dtype=dtype)
        grad[pos] = g
        return (grad.reshape(shape),)

    node = _tensor_new(_node_type("AsStridedBackward0"))
    node._backward, node._next, node._seq, node._retain, node._saved = backward, (_edge(base),), _next_seq(), None, None
    return node


# ---------------------------------------------------------------------- in-place ops
def _check_inplace(t: "Tensor") -> None:
    """PyTorch's refusals: a leaf that requires grad, or a view of one, outside no_grad."""
    if not _GradMode.enabled:
        return
    if t._base is not None:
        base = t._base[0]
        if base._requires_grad and base._node is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    elif t._requires_grad and t._node is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def _write(t: "Tensor", value: np.ndarray, index=Ellipsis, check: bool = True) -> None:
    """Store value into t's array (at index), with PyTorch's casting rule for in-place results."""
    array = t._storage()
    if check and value.dtype != array.dtype and not np.can_cast(value.dtype, array.dtype, "same_kind"):
        raise RuntimeError(f"result type {_TYPE_NAMES.get(value.dtype.name, value.dtype.name)} can't be cast to the desired output type {_TYPE_NAMES.get(array.dtype.name, array.dtype.name)}")
    try:
        array[index] = value
    except ValueError as e:
        if not array.flags.writeable:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single memory location. "
                "Please clone() the tensor before performing the operation."
            ) from None
        raise RuntimeError(f"the result of shape {tuple(value.shape)} cannot be written into the tensor of shape {tuple(np.shape(array[index]))}: {e}") from None


def _apply_inplace(t: "Tensor", result: "Tensor") -> "Tensor":
    """Write an in-place op's result (computed out of place) into t; when it was recorded,
    rebase t's history onto the op's node (through the base, for a view)."""
    _write(t, result._array)
    _bump(t)
    if result._node is not None:
        _rebase(t, result._node, result)
    return t


def _rebase(t: "Tensor", node: Node, result: "Tensor | None") -> None:
    """t's grad_fn becomes node, whose first input is t's old history."""
    if result is not None and result._vc is not None and node._saved:  # the op saved its output: now t
        vc, out = result._vc, _counter(t)
        old = node._versions
        node._versions = (_changes[0],) + tuple(out[0] if s._vc is vc else v for s, v in zip(node._saved, old[1:]))
        for s in node._saved:
            if s._vc is vc:
                s._vc, s._array = out, t._array
    if t._base is None:
        if t._node is not None and t._node._retain is not None:
            node._retain, t._node._retain = t._node._retain, None
        t._node, t._requires_grad = node, True
        return
    base = t._base[0]
    base_node = _copy_slices(base, t, node)
    base._node, base._requires_grad = base_node, True
    t._base = (base, t._base[1], t._vc[0])
    t._node, t._requires_grad = _as_strided_node(t, base), True


def _copy_slices(base: "Tensor", view: "Tensor", node: Node) -> Node:
    """PyTorch's CopySlices: the base's new history after an in-place op (node) on one of its views."""
    pos = _view_positions(view)
    op_backward = node._backward

    def backward(g):
        # the view's part of g goes through the op; the view's old values got overwritten, so the
        # base's old history gets g elsewhere and, at the view, what the op sends to its old input
        flat = g.reshape(-1)
        grads = op_backward(flat[pos])
        old = flat.copy()
        old[pos] = 0 if grads[0] is None else grads[0]
        return (old.reshape(g.shape),) + tuple(grads[1:])

    slices = _tensor_new(_node_type("CopySlices"))
    slices._backward, slices._seq, slices._retain = backward, _next_seq(), None
    slices._next = (_edge(base),) + node._next[1:]
    slices._saved = node._saved
    if node._saved:
        slices._versions = node._versions
    return slices


# ---------------------------------------------------------------------- the backward engine
_TYPE_NAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
    "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
}
_SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
    "if you need to access saved tensors after calling backward."
)


def _short_name(node: Node) -> str:
    """How PyTorch names a node in the version error: 'Tanh' for TanhBackward0."""
    return re.sub(r"Backward\d*$", "", node.name())


def _check_versions(node: Node) -> None:
    """Raise PyTorch's error when a tensor saved by node was modified in place since."""
    versions = node._versions
    for k, s in enumerate(node._saved):
        vc = s._vc
        now = vc[0] if vc else 0
        expected = versions[k + 1]
        if now != expected:
            array = s._array
            what = f"[torch.{_TYPE_NAMES.get(array.dtype.name, array.dtype.name)}Tensor [{', '.join(map(str, np.shape(array)))}]]"
            if isinstance(s, _SavedOutput):
                what += f", which is output 0 of {_short_name(node)},"
            elif s._node is not None:
                what += f", which is output 0 of {_short_name(s._node)},"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"{what} is at version {now}; expected version {expected} instead. Hint: the tensor was modified "
                "in place after an op saved it for backward; use an out-of-place op, or clone() it first."
            )


def _run_backward(roots: Sequence["Tensor"], seeds: Sequence[np.ndarray], retain_graph: bool) -> None:
    """Propagate the seeds from the roots through the graph, accumulating into the leaves' .grad.

    Nodes are visited newest first: an op's output is always created after its inputs, so when
    a node is popped every consumer has already added its share of the node's gradient. This is
    a topological order without a separate sort, and iterative, so deep graphs work.
    """
    if len(roots) == 1 and (root := roots[0])._base is None and root._node is not None:  # loss.backward(): one root with a node
        node = root._node
        grads, heap = {node: seeds[0]}, [(-node._seq, node)]
    else:
        grads, heap = _start(roots, seeds, None)
    while heap:
        node = heappop(heap)[1]
        g = grads.pop(node)
        if node._retain is not None:
            _retained(node, g)
        saved = node._saved
        backward = node._backward
        if saved is not None:
            if saved is _FREED:
                raise RuntimeError(_SECOND_BACKWARD)
            if saved and node._versions[0] != _changes[0]:  # some tensor changed in place since: check
                _check_versions(node)
            if not retain_graph:
                node._saved = _FREED
                node._backward = None
        for edge, pg in zip(node._next, backward(g)):
            if pg is None or edge is None:
                continue
            if isinstance(edge, Tensor):
                if (
                    edge._grad is None and type(pg) is _ndarray and getrefcount(pg) == _ALONE and pg.dtype == edge._array.dtype
                    and ((b := pg.base) is None or type(b) is _ndarray and b.base is None and getrefcount(b) == _BASE_ALONE) and pg.flags.writeable
                ):
                    edge._grad = pg  # nothing else holds pg or its memory: it becomes .grad uncopied (PyTorch's AccumulateGrad steals too)
                else:
                    _accumulate(edge, pg)
            elif edge in grads:
                grads[edge] = grads[edge] + pg
            else:
                grads[edge] = pg
                heappush(heap, (-edge._seq, edge))


def _alone_counts() -> tuple[int, int]:
    """sys.getrefcount of an array held only by the backward's result, in _run_backward's loop
    (the result, the zip's reused pair, the loop variable, the call's argument: 4 on CPython 3.11),
    and of a base held only by that array's view (the view, the local b, the argument: 3), measured
    the same way here so that another interpreter cannot make a shared array look alone."""
    counts = []
    for _edge_, pg in zip((None,), (np.empty(2)[:1],)):
        counts.append(getrefcount(pg))
        b = pg.base
        counts.append(getrefcount(b))
    return counts[0], counts[1]


_ndarray = np.ndarray
_ALONE, _BASE_ALONE = _alone_counts()


def _run_grad(roots: Sequence["Tensor"], seeds: Sequence[np.ndarray], retain_graph: bool, capture: dict) -> None:
    """_run_backward for autograd.grad: the gradients reaching the captured edges (nodes or
    leaves) are summed into capture, .grad is left alone, and only nodes leading to a captured
    edge run."""
    needed = _leading_to(roots, capture)
    grads, heap = _start(roots, seeds, capture)
    while heap:
        node = heappop(heap)[1]
        g = grads.pop(node)
        if node in capture:
            capture[node] = g if capture[node] is None else capture[node] + g
        if node not in needed:
            continue
        backward = _release(node, retain_graph)
        for edge, pg in zip(node._next, backward(g)):
            if pg is None or edge is None:
                continue
            if isinstance(edge, Tensor):
                _deliver(edge, pg, capture)
            elif edge in grads:
                grads[edge] = grads[edge] + pg
            elif edge in needed or edge in capture:
                grads[edge] = pg
                heappush(heap, (-edge._seq, edge))


def _start(roots: Sequence["Tensor"], seeds: Sequence[np.ndarray], capture: dict | None) -> tuple[dict, list]:
    """The gradients waiting at the roots' nodes and the heap of nodes to visit."""
    grads: dict = {}
    heap: list = []
    for root, seed in zip(roots, seeds):
        edge = _edge(root)
        if isinstance(edge, Tensor):
            _deliver(edge, seed, capture)
        elif edge in grads:
            grads[edge] = grads[edge] + seed
        else:
            grads[edge] = seed
            heappush(heap, (-edge._seq, edge))
    return grads, heap


def _release(node: Node, retain_graph: bool):
    """node's backward closure, after the saved-tensor check; freed unless retain_graph."""
    saved = node._saved
    backward = node._backward
    if saved is not None:
        if saved is _FREED:
            raise RuntimeError(_SECOND_BACKWARD)
        if saved and node._versions[0] != _changes[0]:
            _check_versions(node)
        if not retain_graph:
            node._saved = _FREED
            node._backward = None
    return backward


def _retained(node: Node, g: np.ndarray) -> None:
    t = node._retain()
    if t is not None:
        _accumulate(t, g)


def _deliver(leaf: "Tensor", g: np.ndarray, capture: dict | None) -> None:
    if capture is None:
        _accumulate(leaf, g)
    elif leaf in capture:
        capture[leaf] = g if capture[leaf] is None else capture[leaf] + g


def _leading_to(roots: Sequence["Tensor"], capture: dict) -> set:
    """The nodes from which some captured edge is reachable (they must run for autograd.grad)."""
    order, seen, stack = [], set(), [e for e in map(_edge, roots) if isinstance(e, Node)]
    while stack:  # iterative depth-first search, then a pass in reverse finishing order
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(e for e in node._next if isinstance(e, Node) and e not in seen)
    needed = set()
    for node in sorted(order, key=lambda n: n._seq):  # inputs before their consumers
        if any(e is not None and (e in capture or e in needed) for e in node._next):
            needed.add(node)
    return needed


def _accumulate(t: "Tensor", g: np.ndarray) -> None:
    """Add g into t's .grad in place (a tensor taken from .grad sees it, as in PyTorch);
    the first time, as a fresh copy the user owns."""
    if t._grad is None:
        t._grad = np.array(g, dtype=t._array.dtype)
    else:
        t._grad += g


_NO_CREATE_GRAPH = (
    "create_graph=True (gradients of gradients) is not supported: microtorch's backward closures "
    "compute on raw arrays and record no graph of their own"
)


def _seed(output: "Tensor", gradient) -> np.ndarray:
    """The gradient backward starts from: ones for a one-element output, else the given one."""
    if gradient is None:
        if output._array.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        seed = np.empty(output._array.shape, output._array.dtype)  # np.ones_like in two C calls
        seed.fill(1)
        return seed
    seed = gradient._array if isinstance(gradient, Tensor) else np.asarray(gradient)
    if seed.shape != output._array.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output has shape {tuple(seed.shape)} and output has shape {tuple(output.shape)}")
    return seed.astype(output._array.dtype, copy=False)


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

    def backward(g):
        # the chosen operand gets the gradient; ties share it equally, as in PyTorch
        ga = np.where(a == b, g * 0.5, np.where(a == out, g, 0))
        return _unbroadcast(ga, a.shape), _unbroadcast(g - ga, b.shape)

    return _new(out, (input, other), backward, "MaximumBackward0" if ufunc is np.maximum else "MinimumBackward0", (input, other))


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
        # d where(c, x, y)/dx = c, d/dy = not c
        return _unbroadcast(np.where(cond, g, 0), a.shape), _unbroadcast(np.where(cond, 0, g), b.shape)

    return _new(out, (x, y), backward, "WhereBackward0", (condition,) if isinstance(condition, Tensor) else None)


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



_OUT_OF_PLACE = {np.add: Tensor.__add__, np.subtract: Tensor.__sub__, np.multiply: Tensor.__mul__, np.true_divide: Tensor.__truediv__}

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
