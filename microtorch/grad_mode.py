"""Grad mode: whether ops record the graph (no_grad, enable_grad, set_grad_enabled, inference_mode).

Imports nothing of ours: tensor.py reads _GradMode.enabled on every op.
"""
from __future__ import annotations

import functools
from typing import Callable


class _GradMode:
    """Whether ops record the graph. Read on every op, so a plain class attribute."""

    enabled = True


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward."""
    return _GradMode.enabled


class _GradModeSwitch:
    """Sets grad mode to `mode` inside a `with` block or a decorated function, then restores it."""

    mode = True

    def __enter__(self) -> None:
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc) -> None:
        _GradMode.enabled = self.prev

    def __call__(self, func: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = _GradMode.enabled
            _GradMode.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                _GradMode.enabled = prev

        return wrapper


class _NoParamSwitch(_GradModeSwitch):
    """A switch that also decorates without parentheses, `@no_grad`, as in PyTorch 2."""

    def __new__(cls, func: Callable | None = None):
        switch = super().__new__(cls)
        return switch if func is None else switch(func)


class no_grad(_NoParamSwitch):
    """Context manager and decorator: ops inside record no graph (eval, sampling, updates)."""

    mode = False


class enable_grad(_NoParamSwitch):
    """Context manager and decorator: ops inside record the graph, even within no_grad."""

    mode = True


class set_grad_enabled(_GradModeSwitch):
    """Set grad mode now (as a call), or for a `with` block or a decorated function."""

    def __init__(self, mode: bool) -> None:
        self.prev = _GradMode.enabled
        self.mode = bool(mode)
        _GradMode.enabled = self.mode

    def __enter__(self) -> None:  # the mode was set by __init__; keep the mode from before it
        _GradMode.enabled = self.mode

    def __call__(self, func: Callable) -> Callable:
        _GradMode.enabled = self.prev  # used as a decorator: only the function changes mode
        return super().__call__(func)


class _InferenceMode:
    enabled = False


def is_inference_mode_enabled() -> bool:
    """True inside inference_mode() (and not inside an inner inference_mode(False))."""
    return _InferenceMode.enabled


class inference_mode(_GradModeSwitch):
    """Context manager and decorator: like no_grad (microtorch has no separate inference tensors)."""

    def __enter__(self) -> None:
        self.prev_inference = _InferenceMode.enabled
        _InferenceMode.enabled = not self.mode
        super().__enter__()

    def __exit__(self, *exc) -> None:
        _InferenceMode.enabled = self.prev_inference
        super().__exit__(*exc)

    def __call__(self, func: Callable) -> Callable:
        inference = not self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with inference_mode(inference):
                return func(*args, **kwargs)

        return wrapper

    def __new__(cls, mode=True):
        switch = super().__new__(cls)
        if callable(mode):  # @inference_mode without parentheses
            switch.mode = False
            return switch(mode)
        return switch

    def __init__(self, mode: bool = True) -> None:
        if not callable(mode):
            self.mode = not mode
