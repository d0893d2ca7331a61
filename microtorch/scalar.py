"""A scalar reverse-mode autodiff engine in the style of micrograd, for teaching.

Every op builds a new Value that remembers its inputs (`_prev`) and a `_backward` closure
which adds the op's local derivative times the output's gradient into each input's `.grad`.

    a, b = Value(2.0), Value(-3.0)
    out = (a * b + 1.0).tanh()
    out.backward()          # a.grad == d out / d a

The tensor engine (microtorch.tensor) does the same on numpy arrays.
"""
from __future__ import annotations

import math
from numbers import Real
from typing import Callable


def _no_backward() -> None:
    """A leaf has no inputs to pass a gradient to."""


def _value(x: Value | float) -> Value:
    """x as a Value: a Python number becomes a constant leaf."""
    if isinstance(x, Value):
        return x
    if isinstance(x, Real):
        return Value(x)
    raise TypeError(f"a Value can be combined only with a Value or a real number, not {type(x).__name__}")


class Value:
    """One float in a computation graph, and the gradient of the output with respect to it."""

    __slots__ = ("data", "grad", "_prev", "_op", "_backward")

    def __init__(self, data: float, _children: tuple[Value, ...] = (), _op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self._prev = _children
        self._op = _op
        self._backward: Callable[[], None] = _no_backward

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # ---------------------------------------------------------------- binary ops
    def __add__(self, other: Value | float) -> Value:
        other = _value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __sub__(self, other: Value | float) -> Value:
        other = _value(other)
        out = Value(self.data - other.data, (self, other), "-")

        def _backward() -> None:
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = _value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other: Value | float) -> Value:
        other = _value(other)
        out = Value(self.data / other.data, (self, other), "/")

        # d(a/b)/da = 1/b ; d(a/b)/db = -a/b^2
        def _backward() -> None:
            self.grad += out.grad / other.data
            other.grad -= self.data / other.data**2 * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: float) -> Value:
        if isinstance(exponent, Value) or not isinstance(exponent, Real):
            raise TypeError(
                f"Value ** {type(exponent).__name__}: only constant exponents (int or float) are supported"
            )
        result = self.data**exponent
        if isinstance(result, complex):
            raise ValueError(f"{self.data} ** {exponent} is not a real number")
        out = Value(result, (self,), f"**{exponent}")

        # d(x^n)/dx = n x^(n-1); x^0 is the constant 1 (also at x = 0)
        def _backward() -> None:
            if exponent != 0:
                self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def __rpow__(self, base: float) -> Value:
        raise TypeError(
            f"{type(base).__name__} ** Value: only constant exponents (int or float) are supported"
        )

    # Python numbers on the left: 2 + v, 2 - v, 2 * v, 2 / v.
    def __radd__(self, other: float) -> Value:
        return self + other

    def __rsub__(self, other: float) -> Value:
        return _value(other) - self

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __rtruediv__(self, other: float) -> Value:
        return _value(other) / self

    # ---------------------------------------------------------------- unary ops
    def __neg__(self) -> Value:
        out = Value(-self.data, (self,), "neg")

        def _backward() -> None:
            self.grad -= out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        """e ** self."""
        out = Value(math.exp(self.data), (self,), "exp")

        # d e^x = e^x, which is out.data
        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        """Natural logarithm; raises ValueError when self.data <= 0."""
        if self.data <= 0:
            raise ValueError(f"log of a non-positive number: {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        # d ln x = 1/x
        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        out = Value(math.tanh(self.data), (self,), "tanh")

        # d tanh x = 1 - tanh^2 x
        def _backward() -> None:
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        """max(0, self); the derivative at 0 is taken to be 0, as in PyTorch."""
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward() -> None:
            if self.data > 0:
                self.grad += out.grad

        out._backward = _backward
        return out

    # ---------------------------------------------------------------- backward
    def backward(self) -> None:
        """Add d(self)/d(leaf) to .grad of every leaf self depends on.

        Leaves accumulate across calls, as in PyTorch (reset them with `p.grad = 0.0`);
        every interior node, self included, is set to this pass's gradient.
        """
        # Depth-first post-order with an explicit stack: recursion would stop at ~1,000 ops.
        order: list[Value] = []
        seen = {self}
        stack = [(self, iter(self._prev))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child._prev)))
                    break
            else:  # every input of node is in `order` already
                stack.pop()
                order.append(node)

        for node in order:
            if node._prev:
                node.grad = 0.0
        self.grad += 1.0
        for node in reversed(order):
            node._backward()
