"""autograd: gradcheck (finite differences) and grad(); grad mode is re-exported from grad_mode."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .grad_mode import _GradMode, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .tensor import _NO_CREATE_GRAPH, Tensor, _edge, _new, _run_backward, _run_grad, _seed


def _tensors(x, what: str) -> tuple:
    items = _as_tuple(x)
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what} must be Tensors, got {type(t).__name__}")
    return items


def _seeds(outputs: tuple, grad_outputs) -> tuple:
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
        if len(grad_outputs) != len(outputs):
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs" if not grad_outputs else
                               f"Mismatch in number of gradients: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    return tuple(_seed(out, g) for out, g in zip(outputs, grad_outputs))


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False, inputs=None) -> None:
    """Accumulate the gradients of tensors (weighted by grad_tensors) into the leaves' .grad,
    in one pass through the graph (torch.autograd.backward)."""
    if create_graph:
        raise NotImplementedError(_NO_CREATE_GRAPH)
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...) is not supported; use microtorch.autograd.grad")
    outputs = _tensors(tensors, "tensors")
    _run_backward(outputs, _seeds(outputs, grad_tensors), bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple:
    """The gradients of outputs (weighted by grad_outputs) with respect to inputs, as a tuple,
    without touching any .grad. An input the outputs do not depend on raises, unless
    allow_unused=True (then its gradient is None, or zeros with materialize_grads=True)."""
    if create_graph:
        raise NotImplementedError(_NO_CREATE_GRAPH)
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not supported")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False.")
    outs = _tensors(outputs, "outputs")
    ins = _tensors(inputs, "inputs")
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    seeds = _seeds(outs, grad_outputs)
    edges = [_edge(t) for t in ins]
    capture = dict.fromkeys(edges)
    _run_grad(outs, seeds, bool(retain_graph), capture)
    result = []
    for t, edge in zip(ins, edges):
        g = capture[edge]
        if g is None:
            if not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
            result.append(_new(np.zeros_like(t._array)) if materialize_grads else None)
        else:
            result.append(_new(np.array(g, dtype=t._array.dtype)))
    return tuple(result)


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
    """Row j of J is the gradient of output element j, from one backward pass per element
    (through the same graph, retained; .grad is left alone)."""
    outputs = _flat_outputs(fn, inputs)
    n_out = sum(o.numel() for o in outputs)
    jacobians = [np.zeros((n_out, t.numel())) for t in wrt]
    row = 0
    for out in outputs:
        for j in range(out.numel()):
            if out.requires_grad:
                seed = np.zeros(out.numel(), dtype=out._array.dtype)
                seed[j] = 1.0
                grads = grad(out, wrt, seed.reshape(out.shape), retain_graph=True, allow_unused=True)
                for jac, g in zip(jacobians, grads):
                    if g is not None:
                        jac[row] = g._array.reshape(-1)
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
    analytic = _analytic_jacobian(fn, inputs, wrt)
    numerical = _numerical_jacobian(fn, inputs, wrt, eps)
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
