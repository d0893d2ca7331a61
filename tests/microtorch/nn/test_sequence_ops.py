"""The sequence ops (microtorch.nn._sequence_ops): float64 gradchecks, agreement with their composition from primitive
ops, and (where torch is importable) with torch's results."""
import math

import numpy as np
import pytest

import microtorch
from microtorch.autograd import gradcheck
from microtorch.nn import _sequence_ops as seq


def rand(*shape, seed=0, scale=1.0, grad=True):
    a = np.random.default_rng(seed).standard_normal(shape) * scale
    return microtorch.tensor(a, dtype=microtorch.float64, requires_grad=grad)


def test_gradchecks():
    assert gradcheck(lambda a: seq.causal_attention(a, 2), (rand(2, 4, 12, seed=5),))
    assert gradcheck(seq.causal_mean, (rand(2, 5, 3, seed=6),))
    E, H = 3, 4
    xs, h0 = rand(2, 5, E, seed=7), rand(1, H, seed=8, scale=0.5)
    assert gradcheck(seq.rnn_tanh_sequence, (xs, h0, rand(H, E + H, seed=9, scale=0.5), rand(H, seed=10)))
    ws = [rand(H, E + H, seed=11 + i, scale=0.5) if i % 2 == 0 else rand(H, seed=11 + i) for i in range(6)]
    assert gradcheck(seq.gru_sequence, (xs, rand(2, H, seed=20), *ws))


def _composed_attention(qkv, n_head):
    B, T, C3 = qkv.shape
    C = C3 // 3
    q, k, v = (qkv[:, :, i * C:(i + 1) * C].reshape(B, T, n_head, C // n_head).transpose(1, 2) for i in range(3))
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // n_head))
    mask = microtorch.tensor(np.tril(np.ones((T, T))) == 0)
    att = att.masked_fill(mask, float("-inf")).softmax(-1)
    return (att @ v).transpose(1, 2).reshape(B, T, C)


def _composed_gru(x, h, wz, bz, wr, br, wh, bh):
    import microtorch.nn.functional as F
    h = h.expand(x.shape[0], -1)
    out = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        xh = microtorch.cat([xt, h], 1)
        r = F.sigmoid(F.linear(xh, wr, br))
        hbar = F.tanh(F.linear(microtorch.cat([xt, r * h], 1), wh, bh))
        z = F.sigmoid(F.linear(xh, wz, bz))
        h = (1 - z) * h + z * hbar
        out.append(h)
    return microtorch.stack(out, 1)


@pytest.mark.parametrize("op, composed, args", [
    (lambda a: seq.causal_attention(a, 4), lambda a: _composed_attention(a, 4), lambda: (rand(3, 6, 24),)),
    (seq.causal_mean, lambda x: microtorch.stack([x[:, :t + 1].mean(1) for t in range(x.shape[1])], 1), lambda: (rand(2, 7, 3),)),
    (seq.gru_sequence, _composed_gru, lambda: (rand(2, 6, 3), rand(1, 4, seed=1),
                                             *(rand(4, 7, seed=2 + i) if i % 2 == 0 else rand(4, seed=2 + i) for i in range(6)))),
])
def test_fused_equals_composed(op, composed, args):
    a1, a2 = args(), args()
    out1, out2 = op(*a1), composed(*a2)
    assert np.allclose(out1.detach().numpy(), out2.detach().numpy(), atol=1e-10)
    g = np.random.default_rng(9).standard_normal(out1.shape)
    out1.backward(microtorch.tensor(g))
    out2.backward(microtorch.tensor(g))
    for t1, t2 in zip(a1, a2):
        assert np.allclose(t1.grad.numpy(), t2.grad.numpy(), atol=1e-9)


def test_against_torch():
    torch = pytest.importorskip("torch")
    a = rand(2, 5, 24, grad=False).numpy()
    q, k, v = torch.tensor(a).split(8, dim=2)
    heads = [t.view(2, 5, 2, 4).transpose(1, 2) for t in (q, k, v)]
    ref = torch.nn.functional.scaled_dot_product_attention(*heads, is_causal=True).transpose(1, 2).reshape(2, 5, 8)
    assert np.allclose(seq.causal_attention(microtorch.tensor(a), 2).numpy(), ref.numpy(), atol=1e-12)


def test_shape_errors_name_the_shapes():
    with pytest.raises(RuntimeError, match=r"\(2, 3, 10\)"):
        seq.causal_attention(rand(2, 3, 10), 4)
    with pytest.raises(RuntimeError, match=r"weight \(4, 5\)"):
        seq.rnn_tanh_sequence(rand(2, 3, 3), rand(1, 4), rand(4, 5), rand(4))


def _changed_in_place_then_backward(op, args, changed):
    tensors = [a * 1.0 for a in args]  # non-leaves, so that add_ is allowed
    out = op(*tensors)
    tensors[changed].add_(1.0)
    out.sum().backward()


@pytest.mark.parametrize("op, args, changed", [
    (lambda a: seq.causal_attention(a, 2), lambda: (rand(2, 4, 12),), 0),
    (seq.rnn_tanh_sequence, lambda: (rand(2, 5, 3), rand(1, 4), rand(4, 7), rand(4)), 0),
    (seq.rnn_tanh_sequence, lambda: (rand(2, 5, 3), rand(1, 4), rand(4, 7), rand(4)), 2),
    (seq.gru_sequence, lambda: (rand(2, 6, 3), rand(1, 4), *(rand(4, 7) if i % 2 == 0 else rand(4) for i in range(6))), 0),
    (seq.gru_sequence, lambda: (rand(2, 6, 3), rand(1, 4), *(rand(4, 7) if i % 2 == 0 else rand(4) for i in range(6))), 6),
])
def test_in_place_change_of_a_saved_tensor_raises(op, args, changed):
    # as PyTorch's composition would (its matmuls save their operands)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _changed_in_place_then_backward(op, args(), changed)


def test_causal_mean_saves_no_tensor():
    x = rand(2, 5, 3)
    _changed_in_place_then_backward(seq.causal_mean, (x,), 0)  # backward reads only its own A
    assert np.allclose(x.grad.numpy().sum(axis=(0, 2)), 3 * 2 * np.array([1 + 1/2 + 1/3 + 1/4 + 1/5, 1/2 + 1/3 + 1/4 + 1/5, 1/3 + 1/4 + 1/5, 1/4 + 1/5, 1/5]))
