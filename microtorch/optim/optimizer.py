"""Optimizer: the base class holding param groups and per-parameter state, as in PyTorch.

Subclasses implement `step()` by updating each parameter's `_array` in place, so views of a
parameter's storage (e.g. `p.data`) see the update and no graph is recorded.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from itertools import chain
from typing import Any, Callable, Iterable

from ..autograd import enable_grad
from ..tensor import Tensor


class Optimizer:
    """Base class: `param_groups` is a list of dicts ('params' plus per-group options such as
    'lr', which a user or a scheduler may edit between steps); `state` maps a parameter to a dict."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(f"params argument given to the optimizer should be an iterable of Tensors or dicts, but got {type(params).__name__}")
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters; options it leaves out take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        param_group["params"] = _param_list(param_group["params"])
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every gradient (set_to_none=True), or fill the gradients with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p._grad = None
                elif p._grad is not None:
                    p._grad.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update the parameters from their gradients; returns the closure's loss, if given."""
        raise NotImplementedError

    # ------------------------------------------------------------------ state_dict
    def state_dict(self) -> dict:
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}, with copied arrays.

        Parameters are numbered in order across the groups, so the dict can be loaded into
        another optimizer built over parameters of the same shapes."""
        index = {id(p): i for i, p in enumerate(self._params())}
        groups = [{**_options(group), "params": [index[id(p)] for p in group["params"]]} for group in self.param_groups]
        state = {index[id(p)]: value for p, value in self.state.items()}
        return copy.deepcopy({"state": state, "param_groups": groups})

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and state saved by `state_dict()` onto this optimizer's parameters."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group")
        params = dict(zip(chain.from_iterable(s["params"] for s in saved_groups), self._params()))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in params:
                state[params[key]] = _state_for(params[key], value)
            else:
                state[key] = copy.deepcopy(value)
        self.param_groups = [{**copy.deepcopy(_options(s)), "params": g["params"]} for g, s in zip(self.param_groups, saved_groups)]
        self.state = state

    def _params(self) -> Iterable[Tensor]:
        return chain.from_iterable(group["params"] for group in self.param_groups)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(_options(group)))
        return "\n".join(lines) + "\n)"


def _param_list(params) -> list[Tensor]:
    """A group's parameters as a list of leaf tensors, in a fixed order."""
    if isinstance(params, Tensor):
        return [params]
    if isinstance(params, set):
        raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets will change between runs. Please use a list instead.")
    params = list(params)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
        if not p.is_leaf:
            raise ValueError("can't optimize a non-leaf Tensor")
    return params


def _options(group: dict) -> dict:
    return {k: v for k, v in group.items() if k != "params"}


def _state_for(param: Tensor, saved: dict) -> dict:
    """A copy of one parameter's saved state, its tensors cast to the parameter's dtype ('step' kept)."""
    state = {}
    for key, value in saved.items():
        if isinstance(value, Tensor) and key != "step":
            if value.shape != param.shape:
                raise ValueError(f"loaded state dict has '{key}' of shape {tuple(value.shape)} for a parameter of shape {tuple(param.shape)}")
            value = value.detach().to(param.dtype)
        state[key] = copy.deepcopy(value)
    return state


def _run_closure(closure: Callable[[], Any] | None) -> Any:
    """Call the closure (which typically recomputes the loss and backpropagates) with grad on."""
    if closure is None:
        return None
    with enable_grad():
        return closure()
