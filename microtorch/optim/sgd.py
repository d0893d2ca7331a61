"""SGD with optional momentum, dampening, Nesterov momentum, weight decay and maximize."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import no_grad
from ..creation import as_tensor
from ..tensor import Tensor, _bump, _changes
from .optimizer import Optimizer, _run_closure


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's update rule:

        g = grad (negated if maximize) + weight_decay * p
        b = g on the first step, then momentum * b + (1 - dampening) * g
        g = g + momentum * b if nesterov else b        (when momentum != 0)
        p = p - lr * g
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = _run_closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            if group["momentum"] == 0 and group["weight_decay"] == 0:
                _plain_step(group["params"], -lr if group["maximize"] else lr)
            else:
                for p in group["params"]:
                    if p._grad is not None:
                        self._step_one(p, group, lr)
        return loss

    def _step_one(self, p: Tensor, group: dict, lr: float) -> None:
        """The full rule for one parameter: weight decay, then momentum, then the update."""
        g = -p._grad if group["maximize"] else p._grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p._array
        momentum = group["momentum"]
        if momentum != 0:
            buf = _momentum_buffer(self.state[p], g, momentum, group["dampening"])
            g = g + momentum * buf if group["nesterov"] else buf
        p._array -= lr * g
        _bump(p)  # an in-place change: a graph that saved p refuses to backward, as in PyTorch


def _plain_step(params: list[Tensor], lr: float) -> None:
    """The hot path: p -= lr * grad in place, nothing else (float32 stays float32)."""
    bumped = 0
    for p in params:
        g = p._grad
        if g is not None:
            p._array -= lr * g
            vc = p._vc  # _bump(p), inlined: the parameter's version counter, then the global count
            if vc is None:
                p._vc = [1]
            else:
                vc[0] += 1
            bumped += 1
    _changes[0] += bumped


def _momentum_buffer(state: dict, g: np.ndarray, momentum: float, dampening: float) -> np.ndarray:
    """Update (or start, as a copy of g) the parameter's momentum buffer; return its array."""
    buf = state.get("momentum_buffer")
    if buf is None:
        state["momentum_buffer"] = as_tensor(np.array(g, copy=True))
        return state["momentum_buffer"]._array
    b = buf._array
    b *= momentum
    b += (1 - dampening) * g
    return b
