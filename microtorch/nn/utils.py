"""nn.utils: gradient clipping, as in torch.nn.utils."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..tensor import Tensor, _new


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p._grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients together, in place, so that their joint norm (the norm of the vector
    of every gradient element) is at most max_norm; returns that norm before clipping.

    As in PyTorch, the gradients are multiplied by min(1, max_norm / (norm + 1e-6)).
    """
    params = _with_grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not params:
        return _new(np.array(0.0, dtype=np.float32))
    grads = [p._grad for p in params]
    dtype = grads[0].dtype
    if norm_type == np.inf:
        norms = [np.abs(g).max() if g.size else np.zeros((), g.dtype) for g in grads]
        total = np.max(np.stack(norms))
    else:
        norms = [np.linalg.norm(g.reshape(-1), ord=norm_type) for g in grads]
        total = np.linalg.norm(np.asarray(norms, dtype=dtype), ord=norm_type)
    total = np.asarray(total, dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be clipped. "
            "To disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coef = np.minimum(np.asarray(max_norm, dtype=dtype) / (total + np.asarray(1e-6, dtype=dtype)), np.asarray(1.0, dtype=dtype))
    for g in grads:
        g *= coef
    return _new(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        np.clip(p._grad, -clip_value, clip_value, out=p._grad)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened into one 1-D tensor (a copy)."""
    return _new(np.concatenate([p._array.reshape(-1) for p in parameters]))


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D vec into the parameters, in place."""
    flat, start = vec._array, 0
    for p in parameters:
        n = p._array.size
        p._array[...] = flat[start : start + n].reshape(p._array.shape)
        start += n
