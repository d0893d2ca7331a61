"""dtypes: PyTorch's dtype objects (torch.float32, ...), the numpy dtypes that microtorch
computes in, their aliases and PyTorch's promotion rules.

Two layers: inside microtorch every array is a numpy array and code compares and passes numpy
dtypes (the names below: float32, int64, bool_, ...); at the public surface (microtorch.float32,
Tensor.dtype) a dtype is a `dtype` object, one per numpy dtype, that prints as PyTorch prints it
(torch.float32) and is accepted wherever a dtype is (numpy reads its `.dtype` attribute).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["float16", "half", "float32", "float64", "double", "int8", "uint8", "int16", "short", "int32", "int64", "long", "bool_"]

float16 = half = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)


class dtype:
    """A PyTorch dtype: microtorch.float32, microtorch.int64, microtorch.bool, ... One object
    per numpy dtype (compare with == or is); it equals its numpy dtype (and numpy scalar type),
    hashes as it, and numpy accepts it as that dtype: np.dtype(torch.float32) is float32."""

    __slots__ = ("dtype", "_name", "is_floating_point", "is_complex", "is_signed", "itemsize")

    def __init__(self, numpy_dtype: np.dtype, name: str) -> None:
        set_ = object.__setattr__
        set_(self, "dtype", numpy_dtype)  # numpy's protocol: np.dtype(x) is x.dtype
        set_(self, "_name", name)
        set_(self, "is_floating_point", numpy_dtype.kind == "f")
        set_(self, "is_complex", numpy_dtype.kind == "c")
        set_(self, "is_signed", numpy_dtype.kind in "ifc")
        set_(self, "itemsize", numpy_dtype.itemsize)

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.dtype' objects is not writable")

    def __repr__(self) -> str:
        return "torch." + self._name

    def __eq__(self, other) -> bool:
        if isinstance(other, dtype):
            return self is other
        if isinstance(other, np.dtype) or (isinstance(other, type) and issubclass(other, np.generic)):
            return self.dtype == other
        return NotImplemented  # a string or a Python type is not a dtype: False, as in PyTorch

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __reduce__(self):
        return _by_name, (self._name,)


_PUBLIC: dict[np.dtype, dtype] = {}  # numpy dtype -> its dtype object
_BY_NAME: dict[str, dtype] = {}  # 'float32' -> microtorch.float32


def _public(numpy_dtype: np.dtype) -> dtype:
    """The dtype object of a numpy dtype: Tensor.dtype. A dict lookup; one made (once) for a
    numpy dtype outside PyTorch's set (complex64, ...); a byte-swapped float32 is float32."""
    found = _PUBLIC.get(numpy_dtype)
    if found is None:
        name = numpy_dtype.name
        found = _BY_NAME.get(name)
        if found is None:
            found = _BY_NAME[name] = dtype(numpy_dtype if numpy_dtype.isnative else numpy_dtype.newbyteorder("="), name)
        _PUBLIC[numpy_dtype] = found
    return found


def _by_name(name: str) -> dtype:
    """The dtype object called name ('float32'): how a pickled or saved dtype loads back."""
    return _BY_NAME.get(name) or _public(np.dtype(name))


for _d in (float32, float64, float16, int8, uint8, int16, int32, int64, bool_):
    _public(_d)
del _d

_DEFAULT_FLOAT = float32
_PY_NUMBERS = (float, int)  # exact types: bool is not a number here
_DTYPE_ALIASES = {float: float64, int: int64, bool: bool_}  # PyTorch's: dtype=float is torch.float64


def _dtype(value) -> np.dtype | None:
    """Normalise a dtype argument (a dtype object, numpy dtype or type, or Python float/int/bool)
    to the numpy dtype microtorch computes in."""
    if value is None:
        return None
    if type(value) is dtype:
        return value.dtype
    return _DTYPE_ALIASES.get(value) or np.dtype(value)


def _is_float(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def _floating(a: np.ndarray) -> np.ndarray:
    """a itself when floating, else a in the default float dtype: PyTorch's exp, log, sqrt,
    tanh and sigmoid of an integer or bool tensor are float32."""
    return a if a.dtype.kind == "f" else a.astype(_DEFAULT_FLOAT)


def _scalar_dtype(value, like: np.dtype) -> np.dtype:
    """PyTorch's rule for a Python scalar next to a tensor: it never widens the tensor's dtype,
    but a float scalar makes an integer tensor's result the default float dtype."""
    if isinstance(value, bool):
        return like
    if isinstance(value, int):
        return int64 if like == bool_ else like
    if like.kind in "fc":
        return like
    return _DEFAULT_FLOAT


def _category(dtype: np.dtype) -> int:
    return {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[dtype.kind]


def _promote(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """PyTorch's type promotion for two tensors: the higher category wins (a 0-d float64 tensor
    makes an int tensor's result float64); a 0-d tensor does not widen a dimensioned one of the
    same category."""
    ca, cb = _category(a.dtype), _category(b.dtype)
    if ca != cb:
        return a.dtype if ca > cb else b.dtype
    if a.ndim == 0 and b.ndim > 0:
        return b.dtype
    if b.ndim == 0 and a.ndim > 0:
        return a.dtype
    return np.promote_types(a.dtype, b.dtype)


def _promote_all(arrays: Sequence[np.ndarray]) -> np.dtype:
    """PyTorch's promotion of several dimensioned tensors: the highest category wins, and
    within it the dtypes promote as usual (int8 with uint8 is int16)."""
    top = max(_category(a.dtype) for a in arrays)
    return np.result_type(*(a.dtype for a in arrays if _category(a.dtype) == top))

