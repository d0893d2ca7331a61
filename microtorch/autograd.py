"""autograd: gradcheck (finite differences) and grad(); grad mode is re-exported from grad_mode."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .grad_mode import _GradMode, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytic and numerical gradients disagree."""


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _flat_outputs(fn: Callable, inputs: tuple) -> list:
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _numerical_jacobian(fn: Callable, inputs: tuple, wrt, eps: float) -> list[np.ndarray]:
    """Central differences: column i of J is (f(x + eps e_i) - f(x - eps e_i)) / 2 eps."""
    columns = []
    with no_grad():
        n_out = sum(o.numel() for o in _flat_outputs(fn, inputs))
        for t in wrt:
            array = t._array  # perturbed in place, element by element in C order (also when not contiguous)
            jac = np.zeros((n_out, array.size))
            for i in range(array.size):
                at = np.unravel_index(i, array.shape)
                original = array[at]
                array[at] = original + eps
                plus = np.concatenate([o._array.reshape(-1) for o in _flat_outputs(fn, inputs)])
                array[at] = original - eps
                minus = np.concatenate([o._array.reshape(-1) for o in _flat_outputs(fn, inputs)])
                array[at] = original
                jac[:, i] = (plus.astype(np.float64) - minus) / (2 * eps)
            columns.append(jac)
    return columns


def _analytic_jacobian(fn: Callable, inputs: tuple, wrt) -> list[np.ndarray]:
    """Row j of J is the gradient of output element j, from one backward pass per element."""
    outputs = _flat_outputs(fn, inputs)
    n_out = sum(o.numel() for o in outputs)
    jacobians = [np.zeros((n_out, t.numel())) for t in wrt]
    row = 0
    for out in outputs:
        for j in range(out.numel()):
            if out.requires_grad:
                seed = np.zeros(out.numel(), dtype=out._array.dtype)
                seed[j] = 1.0
                for t in wrt:
                    t._grad = None
                out.backward(seed.reshape(out.shape))
                for jac, t in zip(jacobians, wrt):
                    if t._grad is not None:
                        jac[row] = t._grad.reshape(-1)
            row += 1
    return jacobians


def gradcheck(
    fn: Callable,
    inputs: Sequence | object,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare fn's analytic gradients with central finite differences, in float64.

    Every input that requires grad must be float64. Returns True, or raises GradcheckError
    naming the input, the element and the worst mismatch (False instead if raise_exception=False).
    """
    inputs = _as_tuple(inputs)
    wrt = [t for t in inputs if getattr(t, "requires_grad", False)]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor with requires_grad=True")
    for t in wrt:
        if t.dtype != np.float64:
            raise ValueError(f"gradcheck needs float64 inputs, got {t.dtype}: finite differences in float32 are too coarse")
    saved = [t._grad for t in wrt]
    try:
        analytic = _analytic_jacobian(fn, inputs, wrt)
        numerical = _numerical_jacobian(fn, inputs, wrt, eps)
    finally:
        for t, g in zip(wrt, saved):
            t._grad = g
    for k, (a, n) in enumerate(zip(analytic, numerical)):
        bad = np.abs(a - n) > atol + rtol * np.abs(n)
        if bad.any():
            err = np.where(bad, np.abs(a - n), -1.0)
            out_i, in_i = np.unravel_index(np.argmax(err), err.shape)
            message = (
                f"Jacobian mismatch for input {k} (shape {tuple(wrt[k].shape)}): output element {out_i}, "
                f"input element {in_i}: analytic {a[out_i, in_i]:.8g} vs numerical {n[out_i, in_i]:.8g} "
                f"({int(bad.sum())} of {bad.size} entries outside atol={atol}, rtol={rtol})"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
