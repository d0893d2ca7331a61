"""Adam and AdamW (Adam with decoupled weight decay)."""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import no_grad
from ..creation import tensor, zeros_like
from ..tensor import Tensor, _bump
from .optimizer import Optimizer, _run_closure


class Adam(Optimizer):
    """Adam, with PyTorch's update rule (t counts this parameter's steps):

        g = grad (negated if maximize) + weight_decay * p
        m = beta1 * m + (1 - beta1) * g,   v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v) if amsgrad (used in place of v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = _run_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None:
                    self._step_one(p, group)
        return loss

    def _step_one(self, p: Tensor, group: dict) -> None:
        state = self.state[p]
        if not state:
            _init_state(state, p, group["amsgrad"])
        lr, wd = float(group["lr"]), group["weight_decay"]
        beta1, beta2 = group["betas"]
        g = -p._grad if group["maximize"] else p._grad
        step_t = state["step"]._array
        step_t += 1
        step = float(step_t)
        if self.decoupled_weight_decay:
            p._array *= 1 - lr * wd
        elif wd != 0:
            g = g + wd * p._array
        m, v = state["exp_avg"]._array, state["exp_avg_sq"]._array
        m += (1 - beta1) * (g - m)  # lerp towards g, as PyTorch's exp_avg.lerp_(g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"]._array, v, out=state["max_exp_avg_sq"]._array)
        step_size = lr / (1 - beta1**step)
        denom = np.sqrt(v) / math.sqrt(1 - beta2**step) + group["eps"]
        p._array -= step_size * m / denom
        _bump(p)  # an in-place change, counted as PyTorch does


class AdamW(Adam):
    """Adam with decoupled weight decay: p = p * (1 - lr * weight_decay) before the Adam step."""

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


def _init_state(state: dict, p: Tensor, amsgrad: bool) -> None:
    """Zero moments and a float32 step count, as PyTorch keeps them."""
    state["step"] = tensor(0.0)
    state["exp_avg"] = zeros_like(p)
    state["exp_avg_sq"] = zeros_like(p)
    if amsgrad:
        state["max_exp_avg_sq"] = zeros_like(p)
