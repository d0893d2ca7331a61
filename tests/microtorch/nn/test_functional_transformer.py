"""The functional ops of the transformer lectures: gelu, silu, layer_norm, scaled_dot_product_attention,
softmax/log_softmax with dtype. float64 gradchecks, each fused op against its composition from
primitive ops, known answers from PyTorch (run everywhere) and direct comparisons with torch
(skipped without it)."""
import math

import numpy as np
import pytest

import microtorch as torch
import microtorch.nn.functional as F
from microtorch.autograd import gradcheck


def rng(seed=7):
    return np.random.default_rng(seed)


def leaf(array, dtype=np.float64, requires_grad=True):
    return torch.tensor(np.array(array, dtype=dtype), requires_grad=requires_grad)


# ---------------------------------------------------------------------- gelu / silu
def test_gelu_known_answers_from_pytorch():
    x = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0], dtype=torch.float64)
    # torch 2.13: F.gelu(x) and F.gelu(x, approximate='tanh') on these float64 values
    exact = [-0.0040496941, -0.1586552539, -0.1542687694, 0.0, 0.3457312306, 0.8413447461, 2.9959503059]
    approx = [-0.0036373921, -0.1588080094, -0.1542859902, 0.0, 0.3457140098, 0.8411919906, 2.9963626079]
    np.testing.assert_allclose(F.gelu(x).numpy(), exact, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").numpy(), approx, rtol=1e-9, atol=1e-10)
    assert F.gelu(x.float()).dtype == torch.float32
    # float32 is computed through float64 erf: PyTorch's float32 kernel gives -0.00405023 at -3
    # (1.3e-4 relative off x * Phi(x) = -0.00404969)
    np.testing.assert_allclose(F.gelu(x.float()).numpy(), exact, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck(approximate):
    x = leaf(rng().standard_normal((3, 5)) * 2)
    assert gradcheck(lambda x: F.gelu(x, approximate=approximate), (x,))


def test_gelu_tanh_equals_the_lecture_newgelu():
    """makemore.py's NewGELU, written with torch.tanh and torch.pow, is the tanh approximation."""
    x = leaf(rng().standard_normal(50))
    composed = 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    fused = F.gelu(x, approximate="tanh")
    np.testing.assert_allclose(fused.detach().numpy(), composed.detach().numpy(), rtol=1e-14)
    composed.sum().backward()
    g = x.grad.numpy().copy()
    x.grad = None
    fused.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), g, rtol=1e-12)


def test_gelu_and_silu_errors():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(torch.ones(2), approximate="fast")
    with pytest.raises(NotImplementedError, match="\"GeluKernelImpl\" not implemented for 'Long'"):
        F.gelu(torch.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match="\"silu_cpu\" not implemented for 'Long'"):
        F.silu(torch.tensor([1, 2]))


def test_silu_known_answers_and_gradcheck():
    x = torch.tensor([-2.0, 0.0, 1.0, 4.0])
    # torch 2.13: F.silu(x)
    np.testing.assert_allclose(F.silu(x).numpy(), [-0.23840584, 0.0, 0.73105860, 3.92805505], rtol=1e-6)
    assert gradcheck(F.silu, (leaf(rng().standard_normal((4, 3)) * 3),))


def test_activations_match_torch():
    torch_ = pytest.importorskip("torch")
    x = rng().standard_normal((6, 7)) * 3
    for ours, theirs in [
        (lambda t: F.gelu(t), lambda t: torch_.nn.functional.gelu(t)),
        (lambda t: F.gelu(t, approximate="tanh"), lambda t: torch_.nn.functional.gelu(t, approximate="tanh")),
        (F.silu, torch_.nn.functional.silu),
    ]:
        for dtype in (np.float32, np.float64):
            a = leaf(x, dtype)
            b = torch_.tensor(x.astype(dtype), requires_grad=True)
            out_a, out_b = ours(a), theirs(b)
            tol = 1e-6 if dtype == np.float32 else 1e-13
            atol = 1e-6 if dtype == np.float32 else 1e-13  # PyTorch's float32 erf is ~5e-7 off in the tails
            np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), rtol=tol, atol=atol)
            g = rng(1).standard_normal(x.shape).astype(dtype)
            out_a.backward(torch.tensor(g))
            out_b.backward(torch_.tensor(g))
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=10 * tol, atol=10 * tol)


# ---------------------------------------------------------------------- softmax with dtype
def test_softmax_dtype_casts_first():
    x = torch.tensor([[1.0, 2.0, 3.0]])
    out = F.softmax(x, dim=-1, dtype=torch.float64)
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy()[0], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum(), rtol=1e-15)
    assert F.log_softmax(x, dim=1, dtype=torch.float64).dtype == torch.float64


# ---------------------------------------------------------------------- layer_norm
def _layer_norm_composed(x, shape, w, b, eps):
    dims = tuple(range(-len(shape), 0))
    mean = x.mean(dims, keepdim=True) if len(dims) > 1 else x.mean(-1, keepdim=True)
    if len(dims) == 1:
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
    else:
        var = ((x - mean) ** 2).mean(dims, keepdim=True)
    out = (x - mean) / (var + eps).sqrt()
    if w is not None:
        out = out * w
    if b is not None:
        out = out + b
    return out


@pytest.mark.parametrize(
    "xshape, shape, affine",
    [((4, 5), (5,), "both"), ((2, 3, 4), (4,), "both"), ((2, 3, 4), (3, 4), "both"), ((3, 6), (6,), "weight"), ((3, 6), (6,), "none"), ((5,), (5,), "both")],
)
def test_layer_norm_gradcheck_and_composition(xshape, shape, affine):
    x = leaf(rng().standard_normal(xshape))
    w = leaf(rng(2).standard_normal(shape)) if affine != "none" else None
    b = leaf(rng(3).standard_normal(shape)) if affine == "both" else None
    inputs = tuple(t for t in (x, w, b) if t is not None)

    def fused(*ts):
        x, *rest = ts
        return F.layer_norm(x, shape, rest[0] if w is not None else None, rest[1] if b is not None else None, 1e-5)

    assert gradcheck(fused, inputs)
    out = fused(*inputs)
    ref = _layer_norm_composed(x, shape, w, b, 1e-5)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = torch.tensor(rng(4).standard_normal(xshape))
    out.backward(g)
    fused_grads = [t.grad.numpy().copy() for t in inputs]
    for t in inputs:
        t.grad = None
    ref.backward(g)
    for got, t in zip(fused_grads, inputs):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_layer_norm_known_answer_and_errors():
    x = torch.tensor([[1.0, 2.0, 4.0]])
    # torch 2.13: F.layer_norm(x, (3,))
    np.testing.assert_allclose(F.layer_norm(x, (3,)).numpy(), [[-1.06904137, -0.26726028, 1.33630180]], rtol=1e-6)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input of size\[2, 3\]"):
        F.layer_norm(torch.ones(2, 3), (4,))
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        F.layer_norm(torch.ones(2, 3), 3)
    with pytest.raises(RuntimeError, match="weight"):
        F.layer_norm(torch.ones(2, 3), (3,), torch.ones(4))
    assert F.layer_norm(torch.ones(2, 3), torch.ones(2, 3).shape[-1:]).shape == (2, 3)  # a torch.Size is a tuple


def test_layer_norm_matches_torch():
    torch_ = pytest.importorskip("torch")
    x = rng().standard_normal((4, 3, 8)).astype(np.float32) * 5 + 2
    w, b = rng(1).standard_normal(8).astype(np.float32), rng(2).standard_normal(8).astype(np.float32)
    ours = [leaf(a, np.float32) for a in (x, w, b)]
    theirs = [torch_.tensor(a, requires_grad=True) for a in (x, w, b)]
    out_a = F.layer_norm(ours[0], (8,), ours[1], ours[2])
    out_b = torch_.nn.functional.layer_norm(theirs[0], (8,), theirs[1], theirs[2])
    np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng(3).standard_normal(x.shape).astype(np.float32)
    out_a.backward(torch.tensor(g))
    out_b.backward(torch_.tensor(g))
    for a, b_ in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b_.grad.numpy(), rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------- scaled_dot_product_attention
def _attention_composed(q, k, v, mask=None, is_causal=False, scale=None):
    """The lecture's attention from primitive ops: (q @ k^T) * scale, masked_fill, softmax, @ v."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    att = (q @ k.transpose(-2, -1)) * scale
    L, S = q.shape[-2], k.shape[-2]
    if is_causal:
        mask = torch.tensor(np.tri(L, S, dtype=bool))
    if mask is not None and mask.dtype == torch.bool:
        att = att.masked_fill(mask == False, float("-inf"))  # noqa: E712
    elif mask is not None:
        att = att + mask
    return F.softmax(att, dim=-1) @ v


@pytest.mark.parametrize("case", ["plain", "causal", "bool_mask", "float_mask", "scale", "cross"])
def test_sdpa_gradcheck_and_composition(case):
    r = rng()
    L, S = (3, 5) if case == "cross" else (4, 4)
    q = leaf(r.standard_normal((2, 2, L, 3)))
    k = leaf(r.standard_normal((2, 2, S, 3)))
    v = leaf(r.standard_normal((2, 2, S, 2)))
    kwargs = {}
    inputs = [q, k, v]
    if case == "causal":
        kwargs["is_causal"] = True
    elif case == "bool_mask":
        m = r.random((L, S)) > 0.3
        m[:, 0] = True  # every row can attend somewhere
        kwargs["attn_mask"] = torch.tensor(m)
    elif case == "float_mask":
        inputs.append(leaf(r.standard_normal((1, L, S))))
    elif case == "scale":
        kwargs["scale"] = 0.3

    def fused(q, k, v, *mask):
        return F.scaled_dot_product_attention(q, k, v, *(mask or ()), **kwargs) if not mask else F.scaled_dot_product_attention(q, k, v, attn_mask=mask[0])

    assert gradcheck(fused, tuple(inputs))
    out = fused(*inputs)
    ref = _attention_composed(q, k, v, mask=inputs[3] if len(inputs) > 3 else kwargs.get("attn_mask"), is_causal=kwargs.get("is_causal", False), scale=kwargs.get("scale"))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_sdpa_rows_with_nothing_to_attend_to_are_zero_as_in_pytorch():
    q = leaf(rng().standard_normal((3, 4)))
    mask = torch.tensor([[True, True, False], [False, False, False], [True, False, False]])
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=mask)
    assert np.all(out.detach().numpy()[1] == 0) and np.isfinite(out.detach().numpy()).all()
    out.sum().backward()
    assert np.isfinite(q.grad.numpy()).all()


def test_sdpa_errors_and_gqa():
    q = torch.ones(2, 3, 4)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(3, 3, dtype=torch.bool), is_causal=True)
    with pytest.raises(RuntimeError, match=r"\(2, 3, 4\).*\(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, torch.ones(2, 3, 5), q)
    r = rng()
    qg = leaf(r.standard_normal((1, 4, 3, 2)))
    kg = leaf(r.standard_normal((1, 2, 3, 2)))
    vg = leaf(r.standard_normal((1, 2, 3, 2)))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True), (qg, kg, vg))
    repeated = F.scaled_dot_product_attention(qg, kg.repeat_interleave(2, 1) if hasattr(kg, "repeat_interleave") else torch.tensor(np.repeat(kg.detach().numpy(), 2, axis=1)), torch.tensor(np.repeat(vg.detach().numpy(), 2, axis=1)))
    np.testing.assert_allclose(F.scaled_dot_product_attention(qg, kg, vg, enable_gqa=True).detach().numpy(), repeated.detach().numpy(), rtol=1e-12)


def test_sdpa_dropout_scales_kept_weights():
    torch.manual_seed(0)
    q = torch.ones(1, 8, 4)
    v = torch.tensor(np.arange(32, dtype=np.float32).reshape(1, 8, 4))
    out = F.scaled_dot_product_attention(q, q, v, dropout_p=0.5)
    # uniform weights 1/8; dropped ones are 0, kept ones 2/8: every output row is sum(kept v) * 2/8
    assert out.shape == (1, 8, 4) and not np.allclose(out.numpy(), F.scaled_dot_product_attention(q, q, v).numpy())
    assert F.scaled_dot_product_attention(q, q, v, dropout_p=1.0).numpy().sum() == 0


def test_sdpa_matches_torch():
    torch_ = pytest.importorskip("torch")
    r = rng()
    arrays = [r.standard_normal((2, 3, 5, 4)).astype(np.float32) for _ in range(3)]
    float_mask = r.standard_normal((5, 5)).astype(np.float32)
    for kwargs in [{}, {"is_causal": True}, {"scale": 0.7}, {"mask": "float"}, {"mask": "bool"}]:
        ours = [leaf(a, np.float32) for a in arrays]
        theirs = [torch_.tensor(a, requires_grad=True) for a in arrays]
        kw_a, kw_b = dict(kwargs), dict(kwargs)
        if kwargs.get("mask") == "float":
            kw_a = {"attn_mask": torch.tensor(float_mask)}
            kw_b = {"attn_mask": torch_.tensor(float_mask)}
        elif kwargs.get("mask") == "bool":
            m = float_mask > 0
            m[:, 0] = True
            kw_a, kw_b = {"attn_mask": torch.tensor(m)}, {"attn_mask": torch_.tensor(m)}
        out_a = F.scaled_dot_product_attention(*ours, **kw_a)
        out_b = torch_.nn.functional.scaled_dot_product_attention(*theirs, **kw_b)
        np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), rtol=1e-5, atol=1e-6)
        g = r.standard_normal(out_b.shape).astype(np.float32)
        out_a.backward(torch.tensor(g))
        out_b.backward(torch_.tensor(g))
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)
