"""dtypes: PyTorch's dtype names (numpy dtypes here), their aliases and PyTorch's promotion rules."""
from __future__ import annotations

from typing import Sequence

import numpy as np


float16 = half = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

_DEFAULT_FLOAT = float32
_PY_NUMBERS = (float, int)  # exact types: bool is not a number here
_DTYPE_ALIASES = {float: float32, int: int64, bool: bool_}


def _dtype(dtype) -> np.dtype | None:
    """Normalise a dtype argument (numpy dtype, numpy type, or Python float/int/bool)."""
    if dtype is None:
        return None
    return _DTYPE_ALIASES.get(dtype) or np.dtype(dtype)


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

