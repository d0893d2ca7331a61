"""Tensor: forward values against numpy, PyTorch's dtype rules, in-place ops, factories,
errors and numpy/Python interop."""
import numpy as np
import pytest

import microtorch as torch

_rng = np.random.default_rng(1)


def arr(*shape):
    return _rng.normal(size=shape).astype(np.float32)


# ---------------------------------------------------------------------- forward values vs numpy
X = arr(3, 4)
P = np.abs(arr(3, 4)) + 0.5
X3 = arr(2, 3, 4)

FORWARD_CASES = {
    "add_bcast": (lambda t: t + torch.tensor(X[:1]), lambda a: a + X[:1], X),
    "mul_scalar": (lambda t: t * 2.5, lambda a: a * 2.5, X),
    "rsub": (lambda t: 1 - t, lambda a: 1 - a, X),
    "rdiv": (lambda t: 2 / t, lambda a: 2 / a, P),
    "pow_tensor": (lambda t: t ** torch.tensor(X[0]), lambda a: a ** X[0], P),
    "matmul": (lambda t: t @ torch.tensor(X.T), lambda a: a @ X.T, X),
    "exp": (torch.exp, np.exp, X),
    "log": (torch.log, np.log, P),
    "log10": (torch.log10, np.log10, P),
    "sqrt": (torch.sqrt, np.sqrt, P),
    "abs": (torch.abs, np.abs, X),
    "tanh": (torch.tanh, np.tanh, X),
    "sigmoid": (torch.sigmoid, lambda a: 1 / (1 + np.exp(-a)), X),
    "relu": (torch.relu, lambda a: np.maximum(a, 0), X),
    "clamp": (lambda t: t.clamp(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), X),
    "sum_tuple": (lambda t: t.sum((0, 2)), lambda a: a.sum(axis=(0, 2)), X3),
    "mean_keepdim": (lambda t: t.mean(1, keepdim=True), lambda a: a.mean(axis=1, keepdims=True), X3),
    "var_default_bessel": (lambda t: t.var(), lambda a: a.var(ddof=1), X3),
    "var_dim_biased": (lambda t: t.var(1, unbiased=False), lambda a: a.var(axis=1), X3),
    "var_correction2": (lambda t: t.var((0, 2), correction=2), lambda a: a.var(axis=(0, 2), ddof=2), X3),
    "var_positional_bool": (lambda t: t.var(False), lambda a: a.var(), X3),
    "std_default_bessel": (lambda t: t.std(0), lambda a: a.std(axis=0, ddof=1), X3),
    "std_biased_keepdim": (lambda t: torch.std(t, -1, unbiased=False, keepdim=True), lambda a: a.std(axis=-1, keepdims=True), X3),
    "max_all": (lambda t: t.max(), np.max, X),
    "min_all": (torch.min, np.min, X),
    "max_dim_values": (lambda t: t.max(1).values, lambda a: a.max(axis=1), X),
    "log_softmax": (lambda t: t.log_softmax(1), lambda a: a - a.max(1, keepdims=True) - np.log(np.exp(a - a.max(1, keepdims=True)).sum(1, keepdims=True)), X),
    "permute": (lambda t: t.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), X3),
    "T": (lambda t: t.T, lambda a: a.T, X),
    "flatten_1": (lambda t: t.flatten(1), lambda a: a.reshape(2, -1), X3),
    "index_pairs": (lambda t: t[range(3), torch.tensor([0, 3, 1])], lambda a: a[[0, 1, 2], [0, 3, 1]], X),
    "index_mask": (lambda t: t[t > 0], lambda a: a[a > 0], X),
    "cat": (lambda t: torch.cat([t, t * 2], 1), lambda a: np.concatenate([a, a * 2], 1), X),
    "stack": (lambda t: torch.stack([t, t], 1), lambda a: np.stack([a, a], 1), X),
    "where": (lambda t: torch.where(t > 0, t, -1.0), lambda a: np.where(a > 0, a, -1.0), X),
}


@pytest.mark.parametrize("name", list(FORWARD_CASES))
def test_forward_matches_numpy(name):
    op, ref, x = FORWARD_CASES[name]
    out = op(torch.tensor(x))
    expected = ref(x)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_max_min_with_dim_return_values_and_indices():
    x = torch.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert indices.dtype == torch.int64
    r = torch.min(x, 0, keepdim=True)
    assert r.values.tolist() == [[1.0, 0.0, 2.0]] and r.indices.tolist() == [[0, 1, 0]]
    assert x.argmax().item() == 3 and x.argmax(1).tolist() == [1, 0]
    assert torch.max(x, torch.full((2, 3), 4.0)).tolist() == [[4.0, 5.0, 4.0], [7.0, 4.0, 4.0]]


def test_softmax_rows_sum_to_one_and_are_shift_invariant():
    x = torch.tensor([[1000.0, 1001.0, 1002.0], [-5.0, 0.0, 5.0]])
    s = x.softmax(1)
    np.testing.assert_allclose(s.sum(1).numpy(), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(s[0].numpy(), torch.tensor([0.0, 1.0, 2.0]).softmax(0).numpy(), rtol=1e-6)
    np.testing.assert_allclose(torch.log_softmax(x, 1).exp().numpy(), s.numpy(), rtol=1e-5)


def test_embedding_style_indexing_shape():
    C = torch.randn(27, 10)
    Xb = torch.randint(0, 27, (32, 3))
    emb = C[Xb]
    assert emb.shape == (32, 3, 10)
    np.testing.assert_array_equal(emb.numpy(), C.numpy()[Xb.numpy()])


def test_shape_ops():
    x = torch.zeros(2, 1, 3)
    assert x.view(-1).shape == (6,) and x.reshape(3, 2).shape == (3, 2)
    assert x.squeeze().shape == (2, 3) and x.squeeze(1).shape == (2, 3) and x.squeeze(0).shape == (2, 1, 3)
    assert x.unsqueeze(0).shape == (1, 2, 1, 3) and x.unsqueeze(-1).shape == (2, 1, 3, 1)
    assert x.flatten().shape == (6,) and torch.flatten(x, 0, 1).shape == (2, 3)
    assert x.permute(2, 0, 1).shape == (3, 2, 1) and x.transpose(0, 2).shape == (3, 1, 2)
    assert torch.ones(3, 1).expand(3, 4).shape == (3, 4) and torch.ones(3, 1).expand(2, -1, 5).shape == (2, 3, 5)
    assert torch.ones(2, 3).T.shape == (3, 2) and torch.ones(2, 3).t().shape == (3, 2)
    assert torch.tensor(5.0).flatten().shape == (1,)
    with pytest.raises(RuntimeError, match="invalid for input of size 6"):
        x.view(4, -1)
    with pytest.raises(IndexError):
        x.unsqueeze(4)


def test_clone_is_a_copy_and_contiguous_keeps_values():
    x = torch.tensor([1.0, 2.0])
    c = x.clone()
    c += 1
    assert x.tolist() == [1.0, 2.0] and c.tolist() == [2.0, 3.0]
    assert x.contiguous() is x
    m = torch.zeros(2, 3)
    c = m.T.contiguous()
    c += 1  # a copy, as in PyTorch: the base is untouched
    assert m.sum().item() == 0 and c.shape == (3, 2)
    v = m.T
    v += 1  # a view writes through
    assert m.sum().item() == 6


# ---------------------------------------------------------------------- dtype rules
def test_default_dtypes_of_python_data():
    assert torch.tensor([1.0, 2.0]).dtype == torch.float32
    assert torch.tensor(1.5).dtype == torch.float32
    assert torch.tensor([1, 2]).dtype == torch.int64
    assert torch.tensor([True, False]).dtype == torch.bool
    assert torch.tensor([]).dtype == torch.float32
    assert torch.tensor(np.array([1.0, 2.0])).dtype == torch.float64
    assert torch.tensor(np.array([1, 2], dtype=np.int32)).dtype == torch.int32
    assert torch.tensor([1, 2], dtype=torch.float64).dtype == torch.float64
    assert torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]).tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "make, dtype",
    [
        (lambda: torch.ones(2) * torch.ones(2), torch.float32),
        (lambda: torch.ones(2) * 2.5, torch.float32),
        (lambda: 2.5 * torch.ones(2), torch.float32),
        (lambda: torch.ones(2) / 3, torch.float32),
        (lambda: torch.ones(2) ** 2.0, torch.float32),
        (lambda: torch.ones(2, dtype=torch.float64) * 2.5, torch.float64),
        (lambda: torch.ones(2, dtype=torch.float64) + torch.ones(2, dtype=torch.float64), torch.float64),
        (lambda: torch.ones(2) + torch.ones(2, dtype=torch.float64), torch.float64),
        (lambda: torch.ones(2) + torch.tensor(1.0, dtype=torch.float64), torch.float32),
        (lambda: torch.tensor([1, 2]) * 2.5, torch.float32),
        (lambda: torch.tensor([1, 2]) * 2, torch.int64),
        (lambda: torch.tensor([1, 2]) + torch.tensor([1, 2]), torch.int64),
        (lambda: torch.tensor([1, 2]) / torch.tensor([2, 2]), torch.float32),
        (lambda: torch.tensor([1, 2]) / 2, torch.float32),
        (lambda: torch.tensor([1, 2]) + torch.ones(2), torch.float32),
        (lambda: torch.ones(2) + torch.tensor([1, 2]), torch.float32),
        (lambda: torch.tensor([1, 2]) + torch.tensor(1.5), torch.float32),
        (lambda: torch.tensor([1, 2]) * torch.tensor(1.5, dtype=torch.float64), torch.float64),
        (lambda: torch.tensor(2) * torch.ones(2), torch.float32),
        (lambda: torch.tensor([True]) + 1, torch.int64),
        (lambda: torch.tensor([1, 2]) ** 2, torch.int64),
        (lambda: torch.tensor([1, 2]) ** 0.5, torch.float32),
        (lambda: torch.tensor([1, 2]).sigmoid(), torch.float32),
        (lambda: torch.tensor([1, 2]).clamp(min=0.5), torch.float32),
        (lambda: torch.tensor([1, 2]).sum(), torch.int64),
        (lambda: torch.tensor([True, True]).sum(), torch.int64),
        (lambda: torch.ones(2) > 0, torch.bool),
        (lambda: torch.ones(2).double(), torch.float64),
        (lambda: torch.ones(2).to(torch.float64), torch.float64),
        (lambda: torch.ones(2).to("cpu", torch.float16), torch.float16),
        (lambda: torch.ones(2).long(), torch.int64),
        (lambda: torch.ones(2).int(), torch.int32),
        (lambda: torch.ones(2, dtype=torch.float64).float(), torch.float32),
        (lambda: torch.where(torch.tensor([True, False]), 1.0, 0.0), torch.float32),
        (lambda: torch.ones(2, 2, dtype=torch.float64) @ torch.ones(2, 2, dtype=torch.float64), torch.float64),
    ],
)
def test_result_dtype(make, dtype):
    assert make().dtype == dtype


def test_legacy_tensor_constructor_uses_the_default_dtype():
    assert torch.Tensor([1, 2]).dtype == torch.float32 and torch.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert torch.Tensor(2, 3).shape == (2, 3) and torch.Tensor(2, 3).dtype == torch.float32
    assert torch.Tensor().shape == (0,)
    assert isinstance(torch.Tensor([1.0]), torch.Tensor)


def test_int_sigmoid_values_are_not_truncated():
    np.testing.assert_allclose(torch.tensor([0, 2]).sigmoid().numpy(), [0.5, 1 / (1 + np.exp(-2))], rtol=1e-6)


def test_floor_division_and_modulo_both_ways():
    t = torch.tensor([7, -7])
    assert (t // 2).tolist() == [3, -4] and (t % 3).tolist() == [1, 2]
    assert (7 // torch.tensor([2, -2])).tolist() == [3, -4] and (7 % torch.tensor([3, -3])).tolist() == [1, -2]
    assert (torch.tensor([7.5]) // 2).dtype == torch.float32


def test_mean_of_integer_tensor_needs_a_dtype():
    with pytest.raises(RuntimeError, match="dtype"):
        torch.tensor([1, 2]).mean()
    assert torch.tensor([1, 2]).mean(dtype=torch.float32).item() == 1.5


# ---------------------------------------------------------------------- in place
def test_in_place_arithmetic_and_fills():
    t = torch.ones(3)
    t += 1
    t *= torch.tensor([1.0, 2.0, 3.0])
    t -= 0.5
    t /= 2
    assert t.tolist() == [0.75, 1.75, 2.75]
    assert t.fill_(4.0) is t and t.tolist() == [4.0, 4.0, 4.0]
    assert t.zero_().tolist() == [0.0, 0.0, 0.0]
    t.normal_(5.0, 0.01)
    assert abs(t.mean().item() - 5.0) < 0.1
    t.uniform_(-2.0, -1.0)
    assert ((t >= -2.0) & (t < -1.0)).all()
    t[1] = 9.0
    assert t[1].item() == 9.0


def test_in_place_on_zero_dim_op_result():
    t = torch.tensor(1.0) * 2
    t += 1
    assert t.item() == 3.0
    t.fill_(7.0)
    assert t.item() == 7.0


def test_in_place_keeps_int_dtype_and_refuses_float_results():
    t = torch.tensor([1, 2])
    t += 3
    assert t.dtype == torch.int64 and t.tolist() == [4, 5]
    with pytest.raises(RuntimeError, match="can't be cast"):
        t *= 1.5
    with pytest.raises(RuntimeError):
        t += torch.ones(3, dtype=torch.int64)


def test_in_place_on_a_non_leaf_of_a_graph_is_recorded():
    x = torch.ones(2, requires_grad=True)
    y = x * 2
    y += 1
    assert y.grad_fn.name() == "AddBackward0" and y.tolist() == [3.0, 3.0]
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


# ---------------------------------------------------------------------- factories
def test_filled_factories():
    assert torch.zeros(2, 3).tolist() == [[0.0] * 3] * 2 and torch.zeros(2, 3).dtype == torch.float32
    assert torch.ones((2,)).tolist() == [1.0, 1.0]
    assert torch.empty(4, 2).shape == (4, 2) and torch.empty(4).dtype == torch.float32
    assert torch.zeros(3, dtype=torch.int64).dtype == torch.int64
    assert torch.full((2,), 7).dtype == torch.int64 and torch.full((2,), 7).tolist() == [7, 7]
    assert torch.full((2,), 0.5).dtype == torch.float32
    assert torch.full((2,), True).dtype == torch.bool
    assert torch.full((2,), 1, dtype=torch.float64).dtype == torch.float64
    like = torch.ones(2, 3, dtype=torch.float64)
    assert torch.zeros_like(like).dtype == torch.float64 and torch.zeros_like(like).sum().item() == 0
    assert torch.ones_like(like).shape == (2, 3) and torch.ones_like(like, dtype=torch.int64).dtype == torch.int64
    assert torch.randn_like(like).dtype == torch.float64 and torch.randn_like(like).shape == (2, 3)
    p = torch.zeros(3, requires_grad=True)
    assert p.requires_grad and p.is_leaf
    assert torch.eye(3).sum().item() == 3.0


def test_arange_and_linspace():
    a = torch.arange(5)
    assert a.dtype == torch.int64 and a.tolist() == [0, 1, 2, 3, 4]
    assert torch.arange(2, 8, 2).tolist() == [2, 4, 6]
    b = torch.arange(0.0, 1.0, 0.25)
    assert b.dtype == torch.float32 and b.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert torch.arange(3, dtype=torch.float64).dtype == torch.float64
    lin = torch.linspace(-1, 1, 5)
    assert lin.dtype == torch.float32 and lin.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]


# ---------------------------------------------------------------------- interop
def test_numpy_interop():
    t = torch.tensor([1.0, 2.0])
    a = np.asarray(t)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.tolist() == [1.0, 2.0]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    t.numpy()[0] = 5.0  # shares storage, as in PyTorch
    assert t[0].item() == 5.0
    assert isinstance(np.ones(2) + t, torch.Tensor)
    assert isinstance(np.ones(2) * t, torch.Tensor)
    assert isinstance(np.ones((2, 2)) @ t, torch.Tensor)
    assert np.exp(torch.tensor([0.0])).tolist() == [1.0]
    assert torch.from_numpy(np.arange(3)).dtype == torch.int64
    g = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        g.numpy()
    assert g.detach().numpy().tolist() == [1.0, 1.0]
    assert isinstance((torch.tensor(2.0) * 3).numpy(), np.ndarray)


def test_matplotlib_accepts_tensors(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    (line,) = ax.plot(torch.arange(4), torch.tensor([1.0, 3.0, 2.0, 4.0]))
    ax.imshow(torch.ones(3, 3))
    assert line.get_ydata().tolist() == [1.0, 3.0, 2.0, 4.0]
    fig.savefig(tmp_path / "t.png")
    plt.close(fig)


def test_python_conversions():
    t = torch.tensor(2.5)
    assert t.item() == 2.5 and isinstance(t.item(), float)
    assert float(t) == 2.5 and int(torch.tensor(3.7)) == 3
    assert "%.2f" % t == "2.50" and f"{t:.3f}" == "2.500" and "%.1f" % torch.tensor([1.25]) == "1.2"
    assert f"{torch.tensor([1.5])}" == "tensor([1.5000])"
    with pytest.raises(TypeError):  # PyTorch formats only 0-d tensors with a spec
        f"{torch.tensor([1.5]):.2f}"
    assert torch.tensor([7]).item() == 7 and isinstance(torch.tensor([7]).item(), int)
    assert torch.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert [1, 2, 3][torch.tensor(1)] == 2
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        torch.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(torch.ones(2))
    assert bool(torch.tensor([1.0]))


def test_size_queries_len_and_iteration():
    t = torch.zeros(3, 4)
    assert len(t) == 3 and t.numel() == 12 and t.nelement() == 12 and torch.numel(t) == 12
    assert t.size() == (3, 4) and t.size(1) == 4 and t.size(-1) == 4 and t.shape == (3, 4)
    assert t.dim() == 2 and t.ndim == 2 and t.dtype == torch.float32
    rows = list(torch.arange(6).view(3, 2))
    assert len(rows) == 3 and rows[2].tolist() == [4, 5]
    with pytest.raises(TypeError):
        len(torch.tensor(1.0))


@pytest.mark.parametrize(
    "t, text",
    [
        (torch.tensor([1.0, 2.0]), "tensor([1., 2.])"),
        (torch.tensor([1.5, -2.0]), "tensor([ 1.5000, -2.0000])"),
        (torch.tensor(3.0), "tensor(3.)"),
        (torch.tensor([1, 2]), "tensor([1, 2])"),
        (torch.tensor([True, False]), "tensor([ True, False])"),
        (torch.tensor([1.0], requires_grad=True), "tensor([1.], requires_grad=True)"),
        (torch.tensor([1.0], dtype=torch.float64), "tensor([1.], dtype=torch.float64)"),
        (torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
    ],
)
def test_repr_like_pytorch(t, text):
    assert repr(t) == text


def test_repr_of_op_result_names_its_grad_fn():
    x = torch.ones(1, requires_grad=True)
    assert "grad_fn=<AddBackward0>" in repr(x + x) and "grad_fn=<MulBackward0>" in repr(x * torch.ones(1))


def test_comparisons_all_any_allclose():
    a = torch.tensor([1.0, 2.0, 3.0])
    assert (a > 1.5).tolist() == [False, True, True] and (a > 1.5).dtype == torch.bool
    assert (a == torch.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert (a <= 2).tolist() == [True, True, False] and (a != 2).tolist() == [True, False, True]
    assert (a >= 3).tolist() == [False, False, True] and (a < 2).tolist() == [True, False, False]
    assert (a > 0).all().item() is True and not (a > 1).all()
    assert (a > 2).any() and torch.all(a > 0) and not torch.any(a > 5)
    assert torch.allclose(a, a + 1e-7) and not torch.allclose(a, a + 1e-3)
    assert a.allclose(torch.tensor([1.0, 2.0, 3.0]))
    assert {a: 1}[a] == 1  # hashable by identity despite elementwise ==
    assert (a == None) is False and (a != None) is True  # noqa: E711


def test_histogram_matches_numpy():
    x = _rng.normal(size=1000).astype(np.float32)
    hist, edges = torch.histogram(torch.tensor(x), bins=20)
    ref_hist, ref_edges = np.histogram(x, bins=20)
    assert hist.dtype == torch.float32 and hist.shape == (20,) and edges.shape == (21,)
    np.testing.assert_array_equal(hist.numpy(), ref_hist)
    np.testing.assert_allclose(edges.numpy(), ref_edges, rtol=1e-6, atol=1e-6)
    dens, _ = torch.histogram(torch.tensor(x), bins=10, range=(-2.0, 2.0), density=True)
    np.testing.assert_allclose(dens.numpy(), np.histogram(x, bins=10, range=(-2, 2), density=True)[0], rtol=1e-5)
    counts, _ = torch.histogram(torch.tensor(x), bins=5, density=False)
    assert counts.sum().item() == 1000


# ---------------------------------------------------------------------- errors
def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"3x4.*5x6"):
        torch.ones(3, 4) @ torch.ones(5, 6)
    with pytest.raises(RuntimeError, match=r"\(2, 3, 4\).*\(2, 5, 6\)"):
        torch.ones(2, 3, 4) @ torch.ones(2, 5, 6)
    with pytest.raises(RuntimeError, match=r"3.*4"):
        torch.ones(3) @ torch.ones(4)
    with pytest.raises(RuntimeError, match="1D"):
        torch.ones(3) @ torch.tensor(2.0)


@pytest.mark.parametrize("op", ["__add__", "__sub__", "__mul__", "__truediv__", "__pow__", "__gt__"])
def test_broadcast_mismatch_names_both_shapes(op):
    with pytest.raises(RuntimeError, match=r"\(2, 3\).*\(4,\)"):
        getattr(torch.ones(2, 3), op)(torch.ones(4))


def test_broadcast_mismatch_with_numpy_operand_and_in_where_and_cat():
    with pytest.raises(RuntimeError, match=r"\(2, 3\).*\(4,\)"):
        torch.ones(2, 3) + np.ones(4)
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        torch.where(torch.ones(2, 3) > 0, torch.ones(2, 3), torch.ones(4))
    with pytest.raises(RuntimeError, match="cat"):
        torch.cat([torch.ones(2, 3), torch.ones(2, 4)])
    with pytest.raises(RuntimeError, match="stack"):
        torch.stack([torch.ones(2), torch.ones(3)])


def test_index_out_of_range_raises_index_error():
    t = torch.ones(3, 2)
    with pytest.raises(IndexError):
        t[3]
    with pytest.raises(IndexError):
        t[torch.tensor([0, 5])]
    with pytest.raises(IndexError):
        t[0, 2]
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.sum(2)


def test_clamp_needs_a_bound_and_to_refuses_other_devices():
    with pytest.raises(RuntimeError, match="At least one"):
        torch.ones(2).clamp()
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):  # PyTorch's CPU build
        torch.ones(2).to("cuda")
    assert torch.ones(2).to("cpu").device == torch.device("cpu")


# ---------------------------------------------------------------------- review fixes
@pytest.mark.parametrize("name", ["exp", "log", "log10", "sqrt", "tanh", "sigmoid"])
def test_float_functions_of_integer_and_bool_tensors_give_the_default_float(name):
    for data in ([1, 2], [True, False]):
        t = torch.tensor(data)
        with np.errstate(divide="ignore"):
            out = getattr(t, name)()
        assert out.dtype == torch.float32
        expected = getattr(np, name, None) or (lambda a: 1 / (1 + np.exp(-a)))
        with np.errstate(divide="ignore"):  # log(False) = -inf
            np.testing.assert_allclose(out.numpy(), expected(np.array(data, dtype=np.float64)), rtol=1e-6)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_refuse_integer_tensors(name):
    with pytest.raises(RuntimeError, match="floating point"):
        getattr(torch.tensor([1, 2]), name)()


def test_masked_fill_keeps_the_dtype_of_the_tensor():
    mask = torch.tensor([True, False])
    filled = torch.tensor([1, 2]).masked_fill(mask, 1.5)
    assert filled.dtype == torch.int64 and filled.tolist() == [1, 2]
    assert torch.ones(2).masked_fill(mask, float("-inf")).tolist() == [float("-inf"), 1.0]
    half = torch.ones(2, dtype=torch.float16).masked_fill(mask, torch.tensor(3.0, dtype=torch.float64))
    assert half.dtype == torch.float16 and half.tolist() == [3.0, 1.0]


def test_argmax_argmin_keepdim_without_dim():
    x = torch.tensor([[1.0, 5.0], [7.0, 0.0]])
    assert x.argmax(keepdim=True).shape == (1, 1) and x.argmax(keepdim=True).item() == 2
    assert torch.argmin(x, keepdim=True).shape == (1, 1) and x.argmin().item() == 3


def test_all_and_any_along_a_dim():
    x = torch.tensor([[True, False], [True, True]])
    assert x.all(1).tolist() == [False, True] and x.any(dim=0).tolist() == [True, True]
    assert torch.all(x, 0, keepdim=True).tolist() == [[True, False]] and torch.any(x, -1).tolist() == [True, True]
    assert x.all().item() is False and x.any().item() is True


def test_t_refuses_more_than_two_dims():
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        torch.ones(2, 3, 4).t()
    assert torch.ones(3).t().shape == (3,)


def test_assigned_grad_of_a_zero_dim_op_result_can_be_zeroed_in_place():
    p = torch.tensor(2.0, requires_grad=True)
    p.grad = torch.tensor(3.0) * 1.0  # a 0-d op result
    p.grad.zero_()
    assert p.grad.item() == 0.0


def test_assigned_grad_must_match_dtype_and_shape():
    p = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="dtype"):
        p.grad = torch.ones(2, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="shape"):
        p.grad = torch.ones(3)


def test_cat_promotes_like_pytorch():
    assert torch.cat([torch.tensor([1]), torch.tensor([1.0])]).dtype == torch.float32
    assert torch.cat([torch.ones(1, dtype=torch.float16), torch.tensor([1])]).dtype == torch.float16
    assert torch.cat([torch.tensor([1], dtype=torch.int8), torch.tensor([1], dtype=torch.uint8)]).dtype == torch.int16
    assert torch.cat([torch.ones(1), torch.ones(1, dtype=torch.float64)]).dtype == torch.float64


def test_pow_of_three_is_aten_s_cube():
    """x ** 3 (NewGELU's torch.pow(x, 3.0) in makemore.py) is computed as ATen computes it, x*x*x:
    bit for bit PyTorch's values (numpy's powf differs in the last bit, and is 25x slower)."""
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32) * 3
    for e in (3, 3.0):
        assert np.array_equal(torch.tensor(x).pow(e).numpy(), x * x * x)
        assert np.array_equal((torch.tensor(x) ** e).numpy(), x * x * x)
    assert (torch.arange(-3, 4) ** 3).tolist() == [-27, -8, -1, 0, 1, 8, 27]
    pt = pytest.importorskip("torch")
    assert np.array_equal(pt.tensor(x).pow(3.0).numpy(), torch.tensor(x).pow(3.0).numpy())
