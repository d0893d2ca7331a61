"""Function forms of Tensor methods: torch.exp(t), torch.sum(t, 0), ... (they shadow builtins here)."""
from __future__ import annotations

from .tensor import Tensor, _as_tensor

def exp(input: Tensor) -> Tensor:
    return input.exp()


def log(input: Tensor) -> Tensor:
    return input.log()


def log10(input: Tensor) -> Tensor:
    return input.log10()


def sqrt(input: Tensor) -> Tensor:
    return input.sqrt()


def abs(input: Tensor) -> Tensor:
    return input.abs()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def relu(input: Tensor) -> Tensor:
    return input.relu()


def pow(input: Tensor, exponent) -> Tensor:
    return input.pow(exponent) if isinstance(input, Tensor) else _as_tensor(input, exponent) ** exponent


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    return input.clamp(min, max)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return input @ other


def sum(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    return input.sum(dim, keepdim, dtype)


def mean(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    return input.mean(dim, keepdim, dtype)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    return input.var(dim, unbiased, keepdim, correction=correction)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    return input.std(dim, unbiased, keepdim, correction=correction)


def max(input: Tensor, dim=None, keepdim: bool = False):
    return input.max(dim, keepdim)


def min(input: Tensor, dim=None, keepdim: bool = False):
    return input.min(dim, keepdim)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return input.argmax(dim, keepdim)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return input.argmin(dim, keepdim)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return input.all(dim, keepdim)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return input.any(dim, keepdim)


def softmax(input: Tensor, dim: int) -> Tensor:
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    return input.log_softmax(dim)


def reshape(input: Tensor, shape) -> Tensor:
    return input.reshape(shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return input.flatten(start_dim, end_dim)


def squeeze(input: Tensor, dim=None) -> Tensor:
    return input.squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return input.unsqueeze(dim)


def permute(input: Tensor, dims) -> Tensor:
    return input.permute(dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return input.transpose(dim0, dim1)


def clone(input: Tensor) -> Tensor:
    return input.clone()
