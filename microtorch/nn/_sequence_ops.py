"""Fused sequence ops for makemore's models (transformer attention, BoW, RNN, GRU): each one op with a
hand-derived backward, so a training step makes a handful of graph nodes per layer instead of
dozens. Each agrees with its composition from primitive ops (tests/microtorch/nn/test_sequence_ops.py
checks them against the composition, torch and gradcheck).

    causal_attention(qkv, n_head)              masked multi-head self-attention from c_attn's output
    causal_mean(x)                             the running mean over time (makemore's CausalBoW)
    rnn_tanh_sequence(x, h0, weight, bias)     h_t = tanh(W [x_t, h_{t-1}] + b) over all t
    gru_sequence(x, h0, wz, bz, wr, br, wh, bh) makemore's GRU cell over all t
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import OUTPUT, Tensor, _needs_grad, _new
from .functional import _attention_backward, _future, _masked_softmax

__all__ = ["causal_attention", "causal_mean", "rnn_tanh_sequence", "gru_sequence"]

_sum = np.add.reduce


def causal_attention(qkv: Tensor, n_head: int) -> Tensor:
    """Causal multi-head self-attention from the packed projections qkv (B, T, 3C) -> (B, T, C).

    q, k, v are qkv's thirds, each split into n_head heads of size D = C / n_head:
    S = q k^T / sqrt(D) with S[t, s] = -inf for s > t, P = softmax(S), O = P v, heads side by side.
    It is F.scaled_dot_product_attention's math (functional._masked_softmax, _attention_backward,
    derivation there) on the heads of the packed qkv, viewed rather than split: no split, view or
    transpose nodes, and the three gradients are written straight into qkv's packed layout."""
    a = qkv._array
    if a.ndim != 3 or a.shape[-1] % (3 * n_head):
        raise RuntimeError(f"causal_attention: expected qkv of shape (B, T, 3 * C) with C divisible by n_head={n_head}, "
                           f"got {tuple(a.shape)}")
    B, T, C3 = a.shape
    C = C3 // 3
    D = C // n_head
    heads = a.reshape(B, T, 3, n_head, D).transpose(2, 0, 3, 1, 4)  # (3, B, H, T, D)
    q, k, v = heads[0], heads[1], heads[2]
    scale = 1.0 / math.sqrt(D)
    p = _masked_softmax((q @ k.transpose(0, 1, 3, 2)) * np.asarray(scale, a.dtype), _future(T, T))  # (B, H, T, T)
    o = p @ v  # (B, H, T, D)
    out = o.transpose(0, 2, 1, 3).reshape(B, T, C)
    if not _needs_grad(qkv):
        return _new(out)

    def backward(g):
        go = g.reshape(B, T, n_head, D).transpose(0, 2, 1, 3)  # (B, H, T, D)
        grad = np.empty((3, B, n_head, T, D), dtype=a.dtype)  # dq, dk, dv written in place, packed as qkv
        _attention_backward(go, p, p, None, q, k, v, scale, False, out=tuple(grad))
        return (grad.transpose(1, 3, 0, 2, 4).reshape(B, T, C3),)

    return _new(out, (qkv,), backward, None, (qkv, OUTPUT))


_AVERAGES: dict[tuple, np.ndarray] = {}


def _running_average(T: int, dtype: np.dtype) -> np.ndarray:
    """(T, T) A with A[t, s] = 1/(t+1) for s <= t, else 0: A @ x is the running mean over time."""
    a = _AVERAGES.get((T, dtype))
    if a is None:
        a = _AVERAGES[T, dtype] = (np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]).astype(dtype)
    return a


def causal_mean(input: Tensor) -> Tensor:
    """y[:, t] = mean of x[:, :t+1] over time, for x (B, T, C): the uniform causal attention of
    makemore's CausalBoW (softmax of zeros with the future masked), as y = A x with A the (T, T)
    running-average matrix (a matmul: numpy's cumsum over the middle axis is 10x slower).
    Backward: dx = A^T g, i.e. dx[:, s] = sum over t >= s of g[:, t] / (t + 1)."""
    x = input._array
    if x.ndim != 3:
        raise RuntimeError(f"causal_mean: expected input of shape (B, T, C), got {tuple(x.shape)}")
    a = _running_average(x.shape[1], x.dtype)
    out = a @ x
    if not _needs_grad(input):
        return _new(out)

    def backward(g):
        return (a.T @ g,)

    return _new(out, (input,), backward, None, ())  # reads no tensor: A is the op's own


def _check_recurrence(x: np.ndarray, h0: np.ndarray, weight: np.ndarray, name: str) -> None:
    if x.ndim != 3 or h0.ndim != 2 or h0.shape[0] not in (1, x.shape[0]) or weight.shape[1] != x.shape[2] + h0.shape[1]:
        raise RuntimeError(f"{name}: expected x (B, T, E), h0 (B or 1, H) and weight (H, E + H); got x {tuple(x.shape)}, "
                           f"h0 {tuple(h0.shape)}, weight {tuple(weight.shape)}")


def rnn_tanh_sequence(x: Tensor, h0: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """The hidden states (B, T, H) of h_t = tanh(W [x_t, h_{t-1}] + b) for x (B, T, E), h_{-1} = h0
    ((1, H) is broadcast over the batch), W (H, E + H): makemore's RNNCell over the whole sequence.

    Backpropagation through time: with dh_t the gradient reaching h_t (from the output and from
    step t+1), da_t = dh_t (1 - h_t^2); dW += da_t [x_t, h_{t-1}]^T, db += da_t, dx_t = da_t W_x,
    and da_t W_h flows on to h_{t-1}."""
    xa, ha, wa, ba = x._array, h0._array, weight._array, bias._array
    _check_recurrence(xa, ha, wa, "rnn_tanh_sequence")
    B, T, E = xa.shape
    H = ha.shape[1]
    wx, wh = wa[:, :E], wa[:, E:]
    pre_x = xa @ wx.T + ba  # (B, T, H): the input part of every step at once
    hs = np.empty((B, T, H), dtype=np.result_type(xa, wa))
    h = np.broadcast_to(ha, (B, H))
    for t in range(T):
        h = np.tanh(pre_x[:, t] + h @ wh.T)
        hs[:, t] = h
    if not _needs_grad(x, h0, weight, bias):
        return _new(hs)

    def backward(g):
        da = np.empty_like(hs)
        dh = np.zeros((B, H), dtype=hs.dtype)
        for t in range(T - 1, -1, -1):
            a = (g[:, t] + dh) * (1.0 - hs[:, t] * hs[:, t])
            da[:, t] = a
            dh = a @ wh
        hprev = np.concatenate([np.broadcast_to(ha[:, None], (B, 1, H)), hs[:, :-1]], axis=1)  # (B, T, H)
        da2 = da.reshape(-1, H)
        dwx = da2.T @ xa.reshape(-1, E)
        dwh = da2.T @ hprev.reshape(-1, H)
        dx = da @ wx
        dh0 = dh if ha.shape[0] == B else _sum(dh, axis=0, keepdims=True)
        return dx, dh0, np.concatenate([dwx, dwh], axis=1), _sum(da2, axis=0)

    return _new(hs, (x, h0, weight, bias), backward, None, (x, h0, weight, OUTPUT))


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # = 1 / (1 + exp(-a)), without overflow


def gru_sequence(x: Tensor, h0: Tensor, wz: Tensor, bz: Tensor, wr: Tensor, br: Tensor, wh: Tensor, bh: Tensor) -> Tensor:
    """The hidden states (B, T, H) of makemore's GRUCell over x (B, T, E) from h0 ((1, H) broadcast):

        r = sigmoid(Wr [x, h] + br), hbar = tanh(Wh [x, r * h] + bh), z = sigmoid(Wz [x, h] + bz)
        h' = (1 - z) * h + z * hbar

    Backward through time, per step with dh' the gradient reaching h': dhbar = dh' z,
    dz = dh' (hbar - h), dh = dh' (1 - z); ahbar = dhbar (1 - hbar^2) feeds Wh with [x, r h], and
    its h-part d(rh) = ahbar Wh_h gives dr = d(rh) h and dh += d(rh) r; az = dz z (1 - z),
    ar = dr r (1 - r) feed Wz, Wr with [x, h] and dh += az Wz_h + ar Wr_h."""
    xa, ha = x._array, h0._array
    Wz, Wr, Wh = wz._array, wr._array, wh._array
    _check_recurrence(xa, ha, Wz, "gru_sequence")
    B, T, E = xa.shape
    H = ha.shape[1]
    # the input halves of the three projections, for every step at once: (B, T, 3H)
    wx = np.concatenate([Wz[:, :E], Wr[:, :E], Wh[:, :E]], axis=0)  # (3H, E)
    pre_x = xa @ wx.T + np.concatenate([bz._array, br._array, bh._array])
    wzr_h = np.concatenate([Wz[:, E:], Wr[:, E:]], axis=0)  # (2H, H)
    whh = Wh[:, E:]
    dtype = np.result_type(xa, Wz)
    hs = np.empty((B, T, H), dtype=dtype)
    zs, rs, hbars = np.empty_like(hs), np.empty_like(hs), np.empty_like(hs)
    h = np.broadcast_to(ha, (B, H))
    for t in range(T):
        zr = _sigmoid(pre_x[:, t, :2 * H] + h @ wzr_h.T)
        z, r = zr[:, :H], zr[:, H:]
        hbar = np.tanh(pre_x[:, t, 2 * H:] + (r * h) @ whh.T)
        h = h + z * (hbar - h)
        hs[:, t], zs[:, t], rs[:, t], hbars[:, t] = h, z, r, hbar
    if not _needs_grad(x, h0, wz, bz, wr, br, wh, bh):
        return _new(hs)

    def backward(g):
        hprev = np.concatenate([np.broadcast_to(ha[:, None], (B, 1, H)), hs[:, :-1]], axis=1)  # (B, T, H)
        a_all = np.empty((B, T, 3 * H), dtype=dtype)  # gradients of the z, r, hbar pre-activations
        dh = np.zeros((B, H), dtype=dtype)
        for t in range(T - 1, -1, -1):
            dh_out = g[:, t] + dh
            z, r, hbar, hp = zs[:, t], rs[:, t], hbars[:, t], hprev[:, t]
            a_hbar = dh_out * z * (1.0 - hbar * hbar)
            d_rh = a_hbar @ whh
            a_z = dh_out * (hbar - hp) * z * (1.0 - z)
            a_r = d_rh * hp * r * (1.0 - r)
            a_all[:, t, :H], a_all[:, t, H:2 * H], a_all[:, t, 2 * H:] = a_z, a_r, a_hbar
            dh = dh_out * (1.0 - z) + d_rh * r + a_all[:, t, :2 * H] @ wzr_h
        a2 = a_all.reshape(-1, 3 * H)
        dwx = a2.T @ xa.reshape(-1, E)  # (3H, E)
        hp2 = hprev.reshape(-1, H)
        dwzr_h = a2[:, :2 * H].T @ hp2  # (2H, H)
        dwh_h = a2[:, 2 * H:].T @ (rs * hprev).reshape(-1, H)
        db = _sum(a2, axis=0)
        dx = a_all @ wx
        dh0 = dh if ha.shape[0] == B else _sum(dh, axis=0, keepdims=True)
        dWz = np.concatenate([dwx[:H], dwzr_h[:H]], axis=1)
        dWr = np.concatenate([dwx[H:2 * H], dwzr_h[H:]], axis=1)
        dWh = np.concatenate([dwx[2 * H:], dwh_h], axis=1)
        return dx, dh0, dWz, db[:H], dWr, db[H:2 * H], dWh, db[2 * H:]

    return _new(hs, (x, h0, wz, bz, wr, br, wh, bh), backward, None, (x, h0, wz, wr, wh, OUTPUT))
