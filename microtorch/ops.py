"""Function forms of Tensor methods: torch.exp(t), torch.sum(t, 0), ... (they shadow builtins here)."""
from __future__ import annotations

import builtins
from string import ascii_letters

import numpy as np

from .tensor import Tensor, _as_tensor, _needs_grad, _new

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


def sum(input: Tensor, dim=None, keepdim: bool = False, dtype=None, **aliases) -> Tensor:
    return input.sum(dim, keepdim, dtype, **aliases)


def mean(input: Tensor, dim=None, keepdim: bool = False, dtype=None, **aliases) -> Tensor:
    return input.mean(dim, keepdim, dtype, **aliases)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, **aliases) -> Tensor:
    return input.var(dim, unbiased, keepdim, correction=correction, **aliases)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, **aliases) -> Tensor:
    return input.std(dim, unbiased, keepdim, correction=correction, **aliases)


def max(input: Tensor, dim=None, keepdim: bool = False, **aliases):
    return input.max(dim, keepdim, **aliases)


def min(input: Tensor, dim=None, keepdim: bool = False, **aliases):
    return input.min(dim, keepdim, **aliases)


def argmax(input: Tensor, dim=None, keepdim: bool = False, **aliases) -> Tensor:
    return input.argmax(dim, keepdim, **aliases)


def argmin(input: Tensor, dim=None, keepdim: bool = False, **aliases) -> Tensor:
    return input.argmin(dim, keepdim, **aliases)


def all(input: Tensor, dim=None, keepdim: bool = False, **aliases) -> Tensor:
    return input.all(dim, keepdim, **aliases)


def any(input: Tensor, dim=None, keepdim: bool = False, **aliases) -> Tensor:
    return input.any(dim, keepdim, **aliases)


def softmax(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.softmax(input, dim)."""
    return input.softmax(*args, **kwargs)


def log_softmax(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.log_softmax(input, dim)."""
    return input.log_softmax(*args, **kwargs)


def reshape(input: Tensor, shape) -> Tensor:
    return input.reshape(shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return input.flatten(start_dim, end_dim)


def squeeze(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.squeeze(input, dim=None)."""
    return input.squeeze(*args, **kwargs)


def unsqueeze(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.unsqueeze(input, dim)."""
    return input.unsqueeze(*args, **kwargs)


def permute(input: Tensor, dims) -> Tensor:
    return input.permute(dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return input.transpose(dim0, dim1)


def clone(input: Tensor) -> Tensor:
    return input.clone()


# ---------------------------------------------------------------------- shape, sort and scan ops (the series' programs)
# Each is its Tensor method (see there); the methods take PyTorch's names and aliases (axis=, keepdims=).
def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """torch.split(tensor, split_size_or_sections, dim=0): pieces along dim (views)."""
    return tensor.split(split_size_or_sections, dim)


def chunk(input: Tensor, *args, **kwargs) -> tuple:
    """torch.chunk(input, chunks, dim=0)."""
    return input.chunk(*args, **kwargs)


def unbind(input: Tensor, *args, **kwargs) -> tuple:
    """torch.unbind(input, dim=0): the slices along dim."""
    return input.unbind(*args, **kwargs)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """torch.tril(input, diagonal=0): the lower triangle of the last two dimensions."""
    return input.tril(diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """torch.triu(input, diagonal=0): the upper triangle of the last two dimensions."""
    return input.triu(diagonal)


def topk(input: Tensor, *args, **kwargs):
    """torch.topk(input, k, dim=-1, largest=True, sorted=True) -> (values, indices)."""
    return input.topk(*args, **kwargs)


def sort(input: Tensor, *args, **kwargs):
    """torch.sort(input, dim=-1, descending=False, stable=False) -> (values, indices)."""
    return input.sort(*args, **kwargs)


def argsort(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.argsort(input, dim=-1, descending=False, stable=False)."""
    return input.argsort(*args, **kwargs)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """torch.roll(input, shifts, dims=None)."""
    return input.roll(shifts, dims)


def gather(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.gather(input, dim, index)."""
    return input.gather(*args, **kwargs)


def scatter(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.scatter(input, dim, index, src) or (input, dim, index, value=...)."""
    return input.scatter(*args, **kwargs)


def scatter_add(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.scatter_add(input, dim, index, src)."""
    return input.scatter_add(*args, **kwargs)


def index_select(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.index_select(input, dim, index)."""
    return input.index_select(*args, **kwargs)


def cumsum(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.cumsum(input, dim, *, dtype=None)."""
    return input.cumsum(*args, **kwargs)


def cumprod(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.cumprod(input, dim, *, dtype=None)."""
    return input.cumprod(*args, **kwargs)


def amax(input: Tensor, dim=(), keepdim: bool = False, **aliases) -> Tensor:
    """torch.amax(input, dim=(), keepdim=False): all dimensions by default."""
    return input.amax(dim, keepdim, **aliases)


def amin(input: Tensor, dim=(), keepdim: bool = False, **aliases) -> Tensor:
    """torch.amin(input, dim=(), keepdim=False)."""
    return input.amin(dim, keepdim, **aliases)


def logsumexp(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.logsumexp(input, dim, keepdim=False)."""
    return input.logsumexp(*args, **kwargs)


def prod(input: Tensor, *args, **kwargs) -> Tensor:
    """torch.prod(input, dim=None, keepdim=False, *, dtype=None)."""
    return input.prod(*args, **kwargs)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """torch.masked_fill(input, mask, value)."""
    return input.masked_fill(mask, value)


def clamp_min(input: Tensor, min) -> Tensor:
    return input.clamp(min=min)


def clamp_max(input: Tensor, max) -> Tensor:
    return input.clamp(max=max)


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both have the same shape and elements (dtypes may differ, as in PyTorch)."""
    a, b = input._array, other._array
    return a.shape == b.shape and bool(np.array_equal(a, b))


# ---------------------------------------------------------------------- einsum
_TORCH_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "uint8": "Byte",
                     "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool"}


def einsum(equation: str, *operands) -> Tensor:
    """Sums of products named by subscripts: 'ij,jk->ik', 'bij,bjk->bik', 'bi,bi->b', 'i,j->ij',
    '...ij,...jk->...ik', 'ii->i'; without '->' the output is the ellipsis' dimensions, then the
    letters seen once, in alphabetical order. Operands are given one by one or as one list.

    The gradient of operand k is an einsum too: the output's gradient contracted with the other
    operands onto k's subscripts; a letter only k has is broadcast back, a repeated letter (a
    diagonal) is written onto the diagonal, and a size-1 dimension that broadcast is summed.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type(t).__name__}")
    arrays = [t._array for t in operands]
    inputs, output, sizes = _einsum_subscripts(equation, arrays)
    dtypes = [a.dtype for a in arrays]
    for d in dtypes[1:]:
        if d != dtypes[0]:
            raise RuntimeError(f"expected scalar type {_TORCH_TYPE_NAMES.get(str(dtypes[0]), dtypes[0])} but found {_TORCH_TYPE_NAMES.get(str(d), d)}")
    spec = ",".join(inputs) + "->" + output
    out = np.asarray(np.einsum(spec, *arrays, optimize=len(arrays) > 1))
    if not _needs_grad(*operands):
        return _new(out)
    needs = [t._requires_grad for t in operands]

    def backward(g):
        return tuple(_einsum_grad(g, k, inputs, output, arrays, sizes) if needs[k] else None for k in range(len(arrays)))

    return _new(out, tuple(operands), backward, "EinsumBackward0", tuple(operands))


def _einsum_subscripts(equation: str, arrays: list) -> tuple:
    """Check the equation against the operands; return (each operand's subscripts, the output's,
    {letter: size}) with every ellipsis spelled out in letters the equation does not use."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(arrays):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(arrays):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for i, c in enumerate(eq):
        if not (c in ascii_letters or c in ".,->"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, subscripts must be in [a-zA-Z]")
    letters = [t.replace("...", "") for t in terms]
    if builtins.any("." in t for t in letters) or "." in rhs.replace("...", ""):
        raise RuntimeError("einsum(): found '.' for operand that is not part of any ellipsis")
    n_ellipsis = []
    for k, (term, plain, a) in enumerate(zip(terms, letters, arrays)):
        if "..." not in term and len(plain) != a.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(plain)}) does not match the number of dimensions ({a.ndim}) for operand {k} and no ellipsis was given")
        if len(plain) > a.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(plain)}) is more than the number of dimensions ({a.ndim}) for operand {k}")
        n_ellipsis.append(a.ndim - len(plain) if "..." in term else 0)
    spare = [c for c in ascii_letters if c not in eq][: builtins.max(n_ellipsis, default=0)]
    inputs = [term.replace("...", "".join(spare[len(spare) - n :])) for term, n in zip(terms, n_ellipsis)]
    sizes: dict = {}
    for k, (subs, a) in enumerate(zip(inputs, arrays)):
        seen: dict = {}
        for c, n in zip(subs, a.shape):
            if c in seen and seen[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the sizes don't match, {seen[c]} != {n}")
            seen[c] = n
            previous = sizes.get(c)
            if previous is None or previous == 1:
                sizes[c] = n
            elif n != 1 and n != previous:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which does not broadcast with previously seen size {previous}")
    if arrow:
        output = rhs.replace("...", "".join(spare))
        for c in output:
            if c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input operand")
            if output.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
    else:
        once = sorted(c for c in set("".join(letters)) if "".join(letters).count(c) == 1)
        output = "".join(spare) + "".join(once)
    return inputs, output, sizes


def _einsum_grad(g: np.ndarray, k: int, inputs: list, output: str, arrays: list, sizes: dict) -> np.ndarray:
    """d(einsum)/d(operand k), contracted with g (see einsum's docstring)."""
    subs = inputs[k]
    unique = "".join(dict.fromkeys(subs))
    others = [s for j, s in enumerate(inputs) if j != k]
    reachable = set(output).union(*others)
    kept = "".join(c for c in unique if c in reachable)
    spec = ",".join([output] + others) + "->" + kept
    part = np.einsum(spec, g, *(a for j, a in enumerate(arrays) if j != k), optimize=len(arrays) > 1)
    # letters only operand k has were summed away: broadcast them back
    part = part.reshape([sizes[c] if c in kept else 1 for c in unique] if kept != unique else part.shape)
    part = np.broadcast_to(part, [sizes[c] for c in unique])
    if len(unique) < len(subs):  # a repeated letter: the gradient lives on the diagonal
        grad = np.zeros([sizes[c] for c in subs], dtype=g.dtype)
        np.einsum(subs + "->" + unique, grad)[...] = part
    else:
        grad = part
    shape = arrays[k].shape
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return np.ascontiguousarray(grad, dtype=g.dtype)
