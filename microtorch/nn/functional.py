"""nn.functional: stateless ops. cross_entropy, batch_norm, linear and embedding are single fused
ops with hand-derived backward passes (each agrees with its composition from primitive ops)."""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

from ..generator import Generator, default_generator
from ..tensor import OUTPUT, Tensor, _needs_grad, _new, _scatter_rows, _unbroadcast

_REDUCTIONS = ("mean", "sum", "none")
# ndarray.sum and .max call a Python wrapper of numpy's; on the hot path the ufunc reductions
# are called directly (same results)
_sum = np.add.reduce
_max = np.maximum.reduce
_ONES: dict[tuple, np.ndarray] = {}


def _rowsum(a: np.ndarray) -> np.ndarray:
    """a summed over its last axis, keepdims, as one matmul with a ones column: numpy's
    add.reduce over a short last axis pays a per-row overhead (3x slower at 64 columns)."""
    key = (a.shape[-1], a.dtype)
    ones = _ONES.get(key)
    if ones is None:
        ones = _ONES[key] = np.ones((a.shape[-1], 1), dtype=a.dtype)
    return a @ ones


def _rowmax(a: np.ndarray) -> np.ndarray:
    """a's maximum over its last axis, keepdims, one column at a time: float32 maximum.reduce over
    a short last axis is ~15x slower here (0.6 ms for (32, 4, 16, 16))."""
    m = a[..., :1].copy()
    for j in range(1, a.shape[-1]):
        np.maximum(m, a[..., j:j + 1], out=m)
    return m


def _lead_sum(g: np.ndarray) -> np.ndarray:
    """g summed over every dimension but the last (a broadcast parameter's gradient), as a ones
    row times g's rows (3x faster than add.reduce over axis 0 at (512, 256))."""
    rows = g.reshape(-1, g.shape[-1])
    return _rowsum(rows.T)[:, 0]
_UNSIGNED = {np.dtype(t): np.dtype(t.replace("int", "uint")) for t in ("int8", "int16", "int32", "int64")}


def _outside(index: np.ndarray, n: int) -> bool:
    """Whether any integer in index lies outside [0, n), in one reduction: read as unsigned
    (two's complement), a negative number is larger than any n."""
    if not index.size:
        return False
    unsigned = index.view(_UNSIGNED[index.dtype]) if index.dtype.kind == "i" else index
    return int(_max(unsigned, axis=None)) >= n


def _reduction(size_average, reduce, reduction: str) -> str:
    """The reduction to apply. As in PyTorch, the legacy size_average / reduce, when either is
    given, override `reduction` (None counts as True): mean if both, sum if only reduce, else none."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.", stacklevel=3)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _class_weight(weight: Tensor, n_classes: int, dtype: np.dtype) -> np.ndarray:
    """The per-class weights of a loss as an array in the input's dtype, checked to be of size C."""
    w = weight._array
    if w.shape != (n_classes,):
        raise ValueError(f"weight should be a 1D tensor of size C={n_classes}, got shape {tuple(w.shape)}")
    return w.astype(dtype, copy=False)


# ---------------------------------------------------------------------- activations
def tanh(input: Tensor) -> Tensor:
    """tanh, elementwise."""
    return input.tanh()


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise (inplace is accepted; the result is always a new tensor)."""
    return input.relu()


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), elementwise."""
    return input.sigmoid()


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim; with dtype, the input is cast to it first."""
    return _cast_to(input, dtype).softmax(_implicit_dim(input, dim, "softmax", _stacklevel))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x - log(sum(exp(x))) along dim, computed stably; with dtype, the input is cast to it first."""
    return _cast_to(input, dtype).log_softmax(_implicit_dim(input, dim, "log_softmax", _stacklevel))


def _cast_to(input: Tensor, dtype) -> Tensor:
    return input if dtype is None else input.to(dtype)


def _implicit_dim(input: Tensor, dim: int | None, name: str = "softmax", stacklevel: int = 3) -> int:
    """PyTorch's legacy choice when dim is omitted (with its warning): 0 for 0-, 1- and 3-D input, else 1."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if input.ndim in (0, 1, 3) else 1


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    d/dx x Phi(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi);
    tanh form, with u = sqrt(2/pi) (x + 0.044715 x^3) and t = tanh(u):
    d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    x = _floating_input(input, "GeluKernelImpl")
    if approximate == "tanh":
        t = x * x  # in place from here: one temporary for t = tanh(u), one for the output
        t *= _GELU_KAPPA
        t += 1.0
        t *= x
        t *= _SQRT_2_OVER_PI
        np.tanh(t, out=t)
        out = t + 1.0
        out *= x
        out *= 0.5
    else:
        cdf = (0.5 * (1 + _erf(x * _SQRT_HALF))).astype(x.dtype, copy=False)  # Phi(x)
        out = x * cdf
    if not _needs_grad(input):
        return _new(out)

    def backward(g):
        if approximate == "tanh":
            slope = x * x  # in place: (1 + 3 kappa x^2) sqrt(2/pi) x (1 - t^2) / 2 + (1 + t) / 2
            slope *= 3 * _GELU_KAPPA
            slope += 1.0
            slope *= x
            slope *= 0.5 * _SQRT_2_OVER_PI
            slope *= 1.0 - t * t
            slope += 0.5
            slope += 0.5 * t
            slope *= g
            return (slope,)
        else:
            slope = cdf + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return (g * slope,)

    return _new(out, (input,), backward, None, (input,))


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_GELU_KAPPA = 0.044715
_erf_elementwise = np.frompyfunc(math.erf, 1, 1)


def _erf(x: np.ndarray) -> np.ndarray:
    """The C library's erf, element by element, in float64 (numpy has no erf)."""
    return _erf_elementwise(x.astype(np.float64, copy=False)).astype(np.float64)


def _floating_input(input: Tensor, name: str) -> np.ndarray:
    x = input._array
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for \'{_TYPE_NAMES.get(x.dtype.name, x.dtype.name)}\'')
    return x


_TYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (the swish); d/dx = s (1 + x (1 - s)) with s = sigmoid(x).
    inplace is accepted; the result is always a new tensor."""
    x = _floating_input(input, "silu_cpu")
    s = 1 / (1 + np.exp(-x))
    out = x * s
    if not _needs_grad(input):
        return _new(out)

    def backward(g):
        return (g * (s * (1 + x * (1 - s))),)

    return _new(out, (input,), backward, None, (input,))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *, generator: Generator | None = None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity in eval)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    x = input._array
    if p == 1.0:
        scale = np.zeros_like(x)
    else:
        keep = (default_generator if generator is None else generator).bernoulli(x.shape, 1.0 - p)  # torch: bernoulli_(1 - p)
        scale = keep.astype(x.dtype) / np.asarray(1.0 - p, dtype=x.dtype)
    out = x * scale
    if not _needs_grad(input):
        return _new(out)

    def backward(g):
        # d(x * scale)/dx = scale (0 where dropped, 1/(1-p) where kept)
        return (g * scale,)

    return _new(out, (input,), backward, "MulBackward0")


# ---------------------------------------------------------------------- layers as functions
def _matmul_error(left: tuple, right: tuple) -> RuntimeError:
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, left))} and {'x'.join(map(str, right))})")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, one op. Any leading dimensions of x are batch dimensions."""
    x, w = input._array, weight._array
    if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        rows = int(np.prod(x.shape[:-1])) if x.ndim > 1 else 1
        raise _matmul_error((rows, x.shape[-1] if x.ndim else 1), tuple(reversed(w.shape)))
    # (B, T, in) as (B*T, in) rows: one BLAS call (numpy's batched matmul is ~3x slower here)
    out = x @ w.T if x.ndim <= 2 else (x.reshape(-1, x.shape[-1]) @ w.T).reshape(x.shape[:-1] + (w.shape[0],))
    if bias is not None:
        out += bias._array
    if not _needs_grad(input, weight, *(() if bias is None else (bias,))):
        return _new(out)
    x_needs = input._requires_grad
    w_needs = weight._requires_grad

    def backward(g):
        # dx = g W ; dW = g^T x ; db = sum of g over the batch dimensions
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        gx = ((g2 @ w).reshape(x.shape) if g.ndim > 2 else g @ w) if x_needs else None
        gw = (g2.T @ x2) if w_needs else None
        if bias is None:
            return gx, gw
        return gx, gw, _sum(g2, axis=0)

    parents = (input, weight) if bias is None else (input, weight, bias)
    # PyTorch's names: addmm (with a bias) or mm for a matrix input, a view of them otherwise
    name = "ViewBackward0" if x.ndim != 2 else "MmBackward0" if bias is None else "AddmmBackward0"
    saved = (weight, input) if x_needs and w_needs else (weight,) if x_needs else (input,)  # W for x's gradient, x for W's
    return _new(out, parents, backward, name, saved)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of weight picked by the integer tensor input: out[..., :] = weight[input[...], :]."""
    index, table = input._array, weight._array
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have an integer dtype; but got {index.dtype} instead")
    if _outside(index, table.shape[0]):  # numpy would wrap negative indices; PyTorch refuses them
        _embedding_index_error(index, table.shape[0])
    out = table[index]
    if not _needs_grad(weight):
        return _new(out)
    n_rows = table.shape[0]

    def backward(g):
        # d table[index]/d table: rows picked several times sum their gradients
        grad = _scatter_rows(index, g, n_rows)
        if padding_idx is not None:
            grad[padding_idx] = 0
        return (grad,)

    return _new(out, (weight,), backward, "EmbeddingBackward0", (input,))


def _embedding_index_error(index: np.ndarray, n_rows: int) -> None:
    bad = index[(index < 0) | (index >= n_rows)].reshape(-1)[0]
    raise IndexError(f"index {bad} is out of range for an embedding of {n_rows} rows")


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dim 1) of an (N, C) or (N, C, L) input, then scale and shift.

    Training: batch statistics (biased variance); running_mean / running_var, when given, are
    updated in place as (1 - momentum) * old + momentum * batch, with the unbiased variance.
    Otherwise: the running statistics, which must then be given.
    """
    x = input._array
    if x.ndim not in (2, 3):
        raise ValueError(f"expected 2D or 3D input (got {x.ndim}D input of shape {tuple(x.shape)})")
    axes = (0,) if x.ndim == 2 else (0, 2)
    n = x.size // x.shape[1]
    if training and n <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
    channel_shape = (1, x.shape[1]) if x.ndim == 2 else (1, x.shape[1], 1)

    if training:
        inv_n = 1.0 / n  # means as sum * (1/n): np.mean's Python wrapper costs more than the math here
        mean = _sum(x, axis=axes, keepdims=True) * inv_n
        centered = x - mean
        var = _sum(centered * centered, axis=axes, keepdims=True) * inv_n
        if running_mean is not None:
            _update_running_stats(running_mean, running_var, mean, var, n, momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        mean = running_mean._array.reshape(channel_shape)
        var = running_var._array.reshape(channel_shape)
        centered = x - mean
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = centered * inv_std
    gamma = None if weight is None else weight._array.reshape(channel_shape)
    out = xhat if gamma is None else xhat * gamma
    if bias is not None:
        beta = bias._array.reshape(channel_shape)
        if out is xhat:
            out = xhat + beta  # xhat itself is needed by backward
        else:
            out += beta

    if weight is not None and bias is not None:  # the common case, without building a generator
        affine = (weight, bias)
    else:
        affine = tuple(p for p in (weight, bias) if p is not None)
    if not _needs_grad(input, *affine):
        return _new(out)

    def backward(g):
        # dx = gamma * inv_std * (g - mean(g) - xhat * mean(g * xhat)) in training (below), else gamma * inv_std * g
        scale = inv_std if gamma is None else gamma * inv_std  # dout/dxhat * dxhat/dx, per channel
        sum_g = _sum(g, axis=axes, keepdims=True) if training or bias is not None else None
        sum_g_xhat = _sum(g * xhat, axis=axes, keepdims=True) if training or weight is not None else None
        if training:
            # the mean and variance depend on x too; with dxhat = gamma * g:
            # dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
            #    = gamma * inv_std * (g - mean(g) - xhat * mean(g * xhat))
            dx = scale * (g - sum_g * inv_n - xhat * (sum_g_xhat * inv_n))
        else:
            dx = g * scale
        grads = [dx]
        if weight is not None:
            grads.append(sum_g_xhat.reshape(-1))  # dgamma = sum(g * xhat)
        if bias is not None:
            grads.append(sum_g.reshape(-1))  # dbeta = sum(g)
        return tuple(grads)

    # saved as PyTorch's: the input and the weight (the bias's gradient needs neither)
    return _new(out, (input,) + affine, backward, "NativeBatchNormBackward0", (input,) if weight is None else (input, weight))


def _update_running_stats(running_mean: Tensor, running_var: Tensor, mean, var, n: int, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance."""
    rm, rv = running_mean._array, running_var._array
    rm *= 1.0 - momentum
    rm += momentum * mean.reshape(rm.shape)
    rv *= 1.0 - momentum
    rv += (momentum * n / (n - 1)) * var.reshape(rv.shape)


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last len(normalized_shape) dimensions, then scale and shift.

    With the D = prod(normalized_shape) elements of each row, mean mu, biased variance v,
    r = 1 / sqrt(v + eps) and xhat = (x - mu) r, out = xhat * weight + bias. Backward, with
    dxhat = g * weight (per element of the row):
      dxhat/dx_j = r (delta_ij - 1/D - xhat_i xhat_j / D), since dmu/dx_j = 1/D and
      dr/dx_j = -r^3 (x_j - mu) / D, so
      dx = r (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))   (means over the row);
      dweight = sum over rows of g * xhat; dbias = sum over rows of g.
    """
    shape = _int_tuple(normalized_shape, "layer_norm", "normalized_shape")
    x = input._array
    k = len(shape)
    if k == 0 or x.shape[x.ndim - k :] != shape or x.ndim < k:
        wanted = ", ".join(["*"] + [str(n) for n in shape])
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape [{wanted}], but got input of size{list(x.shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p._array.shape != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape {list(p._array.shape)} and normalized_shape = {list(shape)}")
    axes = tuple(range(x.ndim - k, x.ndim))
    inv_d = 1.0 / math.prod(shape)
    if k == 1 and x.dtype.kind == "f":  # the common case: row sums as matmuls (see _rowsum)
        rowsum = _rowsum
        leadsum = _lead_sum
    else:
        def rowsum(a):
            return _sum(a, axis=axes, keepdims=True)

        def leadsum(a):
            return _sum(a, axis=batch_axes) if batch_axes else a
    batch_axes = tuple(range(x.ndim - k))
    mean = rowsum(x) * inv_d  # (..., 1, ..., 1)
    centered = x - mean
    var = rowsum(centered * centered) * inv_d
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = centered * inv_std  # (..., *normalized_shape)
    gamma = None if weight is None else weight._array
    out = xhat.copy() if gamma is None else xhat * gamma
    if bias is not None:
        out += bias._array
    affine = tuple(p for p in (weight, bias) if p is not None)
    if not _needs_grad(input, *affine):
        return _new(out)

    def backward(g):
        dxhat = g if gamma is None else g * gamma
        dx = inv_std * (dxhat - rowsum(dxhat) * inv_d - xhat * (rowsum(dxhat * xhat) * inv_d))
        grads = [dx]
        if weight is not None:
            grads.append(leadsum(g * xhat))
        if bias is not None:
            grads.append(leadsum(g))
        return tuple(grads)

    return _new(out, (input,) + affine, backward, None, (input,) + affine)


def _int_tuple(value, function: str, argument: str) -> tuple:
    """A shape argument that must be a tuple or list of ints (a torch.Size is a tuple)."""
    if not isinstance(value, (tuple, list)) or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in value):
        raise TypeError(f"{function}(): argument '{argument}' (position 2) must be tuple of ints, not {type(value).__name__}")
    return tuple(int(n) for n in value)


_FUTURE: dict[tuple, np.ndarray] = {}


def _future(length: int, source: int) -> np.ndarray:
    """(L, S) True above the diagonal: the keys a causal query may not see (upper-left aligned)."""
    mask = _FUTURE.get((length, source))
    if mask is None:
        mask = _FUTURE[length, source] = ~np.tri(length, source, dtype=bool)
    return mask


def _masked_softmax(scores: np.ndarray, hidden: np.ndarray | None) -> np.ndarray:
    """P = softmax(scores) over the last axis with the `hidden` positions (a bool array broadcastable
    to the scores) at -inf, computed in place in scores (or in its broadcast copy). A row with
    nothing to attend to (or an inf) gives zeros, as PyTorch's attention."""
    if hidden is not None:
        shape = np.broadcast_shapes(scores.shape, hidden.shape)
        if shape != scores.shape:
            scores = np.broadcast_to(scores, shape).copy()
        np.copyto(scores, -np.inf, where=hidden)
    row_max = _rowmax(scores) if scores.shape[-1] <= 64 else _max(scores, axis=-1, keepdims=True)
    empty_rows = ~np.isfinite(row_max)
    if empty_rows.any():
        row_max[empty_rows] = 0
    scores -= row_max
    p = np.exp(scores, out=scores)
    p /= np.maximum(_rowsum(p), np.finfo(p.dtype).tiny)
    return p


def _attention_backward(g, p, weights, keep_scale, q, k, v, scale: float, score_grad: bool, out=(None, None, None)) -> tuple:
    """Attention's gradients (dq, dk, dv, dS or None) from dO = g, for O = A v, A = P * D (the
    dropout scale D = keep_scale, or A = P), P = softmax(S), S = q k^T * scale (+ mask):
      dv = A^T dO;  dA = dO v^T;  dP = dA * D;
      dS = P * (dP - sum_j(dP * P))   (the softmax Jacobian, row by row);
      dq = dS k * scale;  dk = dS^T q * scale.
    dS is returned when score_grad (a float mask's gradient); out gives arrays for dq, dk, dv."""
    dv = np.matmul(np.swapaxes(weights, -1, -2), g, out=out[2])
    dp = g @ np.swapaxes(v, -1, -2)
    if keep_scale is not None:
        dp *= keep_scale
    ds = p * (dp - _rowsum(dp * p))  # (..., L, S)
    if score_grad:
        dss = ds * np.asarray(scale, ds.dtype)
    else:
        dss = ds
        dss *= np.asarray(scale, ds.dtype)  # in place: dS itself is not wanted
    dq = np.matmul(dss, k, out=out[0])
    dk = np.matmul(np.swapaxes(dss, -1, -2), q, out=out[1])
    return dq, dk, dv, (ds if score_grad else None)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(q k^T * scale + mask) v as one op: query (..., L, E), key (..., S, E),
    value (..., S, Ev) -> (..., L, Ev); scale defaults to 1/sqrt(E).

    attn_mask: bool (True = may attend) or float (added to the scores), broadcastable to
    (..., L, S); is_causal masks the scores above the diagonal (upper-left aligned). A row with
    nothing to attend to gives zeros, as in PyTorch. dropout_p drops attention weights (always,
    as in PyTorch's functional form: pass 0.0 in evaluation). enable_gqa lets key and value have
    fewer heads (dim -3) than query, each shared by a group of query heads.

    Fused rather than composed: one graph node, and only P is kept for backward. With
    S = q k^T * scale + mask, P = softmax(S) (_masked_softmax), O = P v; the backward's derivation
    is _attention_backward's (shared with the zoo's causal_attention); d(float mask) = dS,
    summed to the mask's shape.
    """
    q, k, v = query._array, key._array, value._array
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(f"scaled_dot_product_attention expects query, key and value of at least 2 dimensions, got {tuple(q.shape)}, {tuple(k.shape)} and {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: query {tuple(q.shape)}, key {tuple(k.shape)} and value {tuple(v.shape)} do not fit: query and key need the same last dimension, key and value the same sequence length")
    if not (q.dtype == k.dtype == v.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: {q.dtype} key.dtype: {k.dtype} and value.dtype: {v.dtype} instead.")
    if q.dtype.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention expects floating-point query, key and value, got {q.dtype}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    groups = 1
    if enable_gqa and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        if q.ndim < 3 or q.shape[-3] % k.shape[-3] or k.shape[-3] != v.shape[-3]:
            raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the number of query heads ({q.shape[-3]}) must be a multiple of the key and value heads ({k.shape[-3]}, {v.shape[-3]})")
        groups = q.shape[-3] // k.shape[-3]
        k, v = np.repeat(k, groups, axis=-3), np.repeat(v, groups, axis=-3)  # each kv head serves `groups` query heads
    length, source = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ np.swapaxes(k, -1, -2)) * np.asarray(scale, dtype=q.dtype)  # (..., L, S)
    float_mask = None
    hidden = None
    if is_causal:
        hidden = _future(length, source)
    elif attn_mask is not None:
        m = attn_mask._array
        if m.dtype == np.bool_:
            hidden = ~m
        else:
            float_mask = attn_mask
            scores = scores + m.astype(q.dtype, copy=False)
    p = _masked_softmax(scores, hidden)
    if dropout_p > 0.0:
        keep_scale = dropout(_new(np.ones_like(p)), dropout_p, True)._array  # the mask F.dropout would draw
        weights = p * keep_scale
    else:
        keep_scale = None
        weights = p
    out = weights @ v  # (..., L, Ev)
    parents = (query, key, value) if float_mask is None else (query, key, value, float_mask)
    if not _needs_grad(*parents):
        return _new(out)
    q_shape, k_shape, v_shape = query._array.shape, key._array.shape, value._array.shape

    def backward(g):
        dq, dk, dv, ds = _attention_backward(g, p, weights, keep_scale, q, k, v, scale, float_mask is not None)
        if groups > 1:  # the query heads that shared a kv head add their gradients
            dk = dk.reshape(dk.shape[:-3] + (-1, groups) + dk.shape[-2:]).sum(axis=-3)
            dv = dv.reshape(dv.shape[:-3] + (-1, groups) + dv.shape[-2:]).sum(axis=-3)
        grads = (_unbroadcast(dq, q_shape), _unbroadcast(dk, k_shape), _unbroadcast(dv, v_shape))
        if float_mask is not None:
            grads += (_unbroadcast(ds, float_mask._array.shape),)
        return grads

    return _new(out, parents, backward, None, parents + (OUTPUT,))


# ---------------------------------------------------------------------- losses
def _class_targets(input: np.ndarray, target: np.ndarray, ignore_index: int) -> bool:
    """Validate class-index targets for (N, C, ...) input (shapes agree, values in range) and
    tell whether any target equals ignore_index."""
    expected = input.shape[:1] + input.shape[2:] if input.ndim >= 2 else ()
    if target.shape != expected:
        raise ValueError(f"Expected target of shape {expected} for input of shape {tuple(input.shape)}, got target of shape {tuple(target.shape)}")
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"expected class-index targets of an integer dtype, got {target.dtype}")
    n_classes = input.shape[1 if input.ndim >= 2 else 0]
    if _outside(target, n_classes):
        bad = target[((target < 0) | (target >= n_classes)) & (target != ignore_index)]
        if bad.size:
            raise IndexError(f"Target {bad.reshape(-1)[0]} is out of bounds: expected class indices in [0, {n_classes - 1}] (or ignore_index={ignore_index})")
        return True
    return 0 <= ignore_index < n_classes and bool((target == ignore_index).any())


def _as_rows(x: np.ndarray) -> np.ndarray:
    """(N, C, d1, ...) -> (N * d1 * ..., C) with the class dimension last; (C,) -> (1, C)."""
    if x.ndim == 1:
        return x[None, :]
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _from_rows(rows: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of _as_rows for a gradient of the input's shape."""
    if len(shape) <= 2:
        return rows.reshape(shape)
    moved = shape[:1] + shape[2:] + shape[1:2]
    return np.moveaxis(rows.reshape(moved), -1, 1)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits (N, C) [or (C,), (N, C, d...)] and class indices or
    class probabilities, as one numerically stable op.

    With p = softmax(z) the gradient of -log p_y is p - onehot(y); label smoothing mixes in
    eps/C times the uniform target; weights and the reduction scale each row.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    z = input._array
    if z.ndim == 0:
        raise ValueError("cross_entropy expects input of shape (N, C), (C,) or (N, C, d1, ...), got a 0-d tensor")
    t = target._array
    probabilities = t.dtype.kind == "f"
    if probabilities:
        if t.shape != z.shape:
            raise ValueError(f"Expected target probabilities of the input's shape {tuple(z.shape)}, got {tuple(t.shape)}")
        some_ignored = False
    else:
        some_ignored = _class_targets(z, t, ignore_index)
    rows = _as_rows(z)
    n_classes = rows.shape[1]
    w = None if weight is None else _class_weight(weight, n_classes, rows.dtype)

    shifted = rows - _max(rows, axis=1, keepdims=True)
    exp = np.exp(shifted)
    sumexp = _sum(exp, axis=1, keepdims=True)
    log_sumexp = np.log(sumexp)
    # every row's loss is -sum_c q_c log p_c for a target distribution q (weighted by w),
    # with log p = shifted - log_sumexp
    row_weight = None
    if probabilities:
        q = _as_rows(t).astype(rows.dtype, copy=False)
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / n_classes
        if w is not None:
            q = q * w
        losses = -(q * (shifted - log_sumexp)).sum(axis=1)
        denominator = rows.shape[0]
    else:
        labels = t.reshape(-1)
        picked = np.arange(rows.shape[0])
        kept = labels != ignore_index if some_ignored else None
        safe = np.where(kept, labels, 0) if some_ignored else labels
        losses = log_sumexp[:, 0] - shifted[picked, safe]  # -log p_y
        if w is not None or some_ignored:
            row_weight = np.ones(rows.shape[0], dtype=rows.dtype) if w is None else w[safe]
            if some_ignored:
                row_weight = row_weight * kept
            losses = losses * row_weight
        if label_smoothing:
            logp = shifted - log_sumexp
            smooth = -(logp if w is None else logp * w).sum(axis=1)
            if some_ignored:
                smooth = smooth * kept
            losses = losses * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)
        denominator = rows.shape[0] if row_weight is None else row_weight.sum()
    out = _reduce_losses(losses, reduction, denominator, _loss_shape(z))
    if not _needs_grad(input):
        return _new(out)

    def backward(g):
        # d/dz of -log softmax(z)_y = softmax(z) - onehot(y) (the cases below), times the reduction's scale
        p = exp / sumexp
        if probabilities:
            # d/dz of -sum_c q_c log p_c = p * sum_c q_c - q
            grad = p * q.sum(axis=1, keepdims=True) - q
        else:
            if label_smoothing:  # d/dz of -sum_c w_c log p_c = p * sum(w) - w
                uniform = (p * (n_classes if w is None else w.sum()) - (1 if w is None else w)) * (label_smoothing / n_classes)
            # d/dz of -log p_y = p - onehot(y), times the row's weight
            grad = p if row_weight is None else p * row_weight[:, None]
            grad[picked, safe] -= 1 if row_weight is None else row_weight
            if label_smoothing:
                grad *= 1 - label_smoothing
                grad += uniform if not some_ignored else uniform * kept[:, None]
        grad *= _row_scale(g, reduction, denominator, rows.shape[0], rows.dtype)
        if some_ignored:  # ignored rows get exactly 0, as in PyTorch, also when all are (mean: 0 * g/0)
            grad[~kept] = 0
        return (_from_rows(grad, z.shape),)

    # the name of PyTorch's output node (its graph has a LogSoftmaxBackward0 node before it; ours is one fused node)
    if probabilities:
        name = "DivBackward1" if reduction == "mean" else "NegBackward0"
    else:
        name = "AddBackward0" if label_smoothing else "NllLossBackward0"
    return _new(out, (input,), backward, name, (target,) if isinstance(target, Tensor) else None)


def _loss_shape(z: np.ndarray) -> tuple:
    """The shape of per-example losses for reduction='none'."""
    return () if z.ndim == 1 else z.shape[:1] + z.shape[2:]


def _reduce_losses(losses: np.ndarray, reduction: str, denominator, shape: tuple) -> np.ndarray:
    if reduction == "mean":
        return np.asarray(_sum(losses, axis=None) / denominator, dtype=losses.dtype)
    if reduction == "sum":
        return np.asarray(losses.sum(), dtype=losses.dtype)
    return losses.reshape(shape)


def _row_scale(g: np.ndarray, reduction: str, denominator, n_rows: int, dtype) -> np.ndarray:
    """d(reduced loss)/d(row loss), shaped to scale each row of the gradient."""
    if reduction == "mean":
        return (g / denominator).astype(dtype, copy=False)
    if reduction == "sum":
        return g
    return g.reshape(n_rows, 1)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities (N, C): -w_y input[n, y]."""
    reduction = _reduction(size_average, reduce, reduction)
    logp = input._array
    if logp.ndim == 0:
        raise ValueError("nll_loss expects input of shape (N, C) or (C,), got a 0-d tensor")
    t = target._array
    _class_targets(logp, t, ignore_index)
    rows = _as_rows(logp)
    labels = t.reshape(-1)
    kept = labels != ignore_index
    safe = np.where(kept, labels, 0)
    picked = np.arange(rows.shape[0])
    w = np.ones(rows.shape[1], dtype=rows.dtype) if weight is None else _class_weight(weight, rows.shape[1], rows.dtype)
    row_weight = w[safe] * kept
    losses = -row_weight * rows[picked, safe]
    denominator = row_weight.sum()
    out = _reduce_losses(losses, reduction, denominator, _loss_shape(logp))
    if not _needs_grad(input):
        return _new(out)

    def backward(g):
        # d/d logp of -logp_y = -onehot(y), times the row's weight and the reduction's scale
        grad = np.zeros_like(rows)
        grad[picked, safe] = -row_weight
        grad *= _row_scale(g, reduction, denominator, rows.shape[0], rows.dtype)
        if not kept.all():  # ignored rows get exactly 0, as in PyTorch, also when all are (mean: 0 * g/0)
            grad[~kept] = 0
        return (_from_rows(grad, logp.shape),)

    return _new(out, (input,), backward, "NllLossBackward0", (input, target))


def mse_loss(
    input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
) -> Tensor:
    """Mean squared error, composed from primitive ops. A target of another shape is broadcast
    against the input, with PyTorch's warning."""
    reduction = _reduction(size_average, reduce, reduction)
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({tuple(target.shape)}) that is different to the input size ({tuple(input.shape)}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            stacklevel=2,
        )
    squared = (input - target) ** 2
    if reduction == "mean":
        return squared.mean()
    return squared.sum() if reduction == "sum" else squared


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(..., ) integer tensor -> (..., num_classes) int64 tensor of zeros with a one per class index."""
    index = tensor._array
    if index.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of integer dtype")
    if index.size and index.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if not index.size and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        num_classes = int(index.max()) + 1
    elif index.size and index.max() >= num_classes:
        raise RuntimeError(f"Class values must be smaller than num_classes ({num_classes}), got {int(index.max())}.")
    return _new(np.eye(num_classes, dtype=np.int64)[index])

