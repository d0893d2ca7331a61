"""In-place ops on tensors of a graph, as in PyTorch: recorded (history rebased), through views
(CopySlices), by advanced-index writes (index_put), and tensors outside the graph joining it.

Each case is written once as f(lib, *leaves) and checked three ways: against the same function
composed out of place (values and gradients, float64), by finite differences (gradcheck), and,
where torch is importable, against PyTorch itself.
"""
import numpy as np
import pytest

import microtorch as torch
from microtorch.autograd import gradcheck


def _iops(L, x, b):
    y = x * 1.0
    y += b
    y *= b
    y -= 1
    y /= b * b + 1
    return y


def _iops_composed(L, x, b):
    return ((x + b) * b - 1) / (b * b + 1)


def _methods(L, x, b):
    y = x * 1.0
    y.add_(b, alpha=2)
    y.sub_(b, alpha=0.5)
    y.mul_(b)
    y.div_(3)
    return y


def _methods_composed(L, x, b):
    return (x + 2 * b - 0.5 * b) * b / 3


def _unary(L, x, b):
    y = x * b
    y.tanh_()
    z = y * 1.0
    z.exp_()
    w = z * 1.0
    w.sigmoid_()
    r = w - 0.6
    return r.relu_() * 1.0


def _unary_composed(L, x, b):
    return ((x * b).tanh().exp().sigmoid() - 0.6).relu()


def _clamp_mask(L, x, b):
    y = x * b
    y.clamp_(-0.3, 0.4)
    y.masked_fill_(b > 0.5, 0.25)
    return y


def _clamp_mask_composed(L, x, b):
    return (x * b).clamp(-0.3, 0.4).masked_fill(b > 0.5, 0.25)


def _copy_fill(L, x, b):
    y = x * 1.0
    y.copy_(b[0])  # broadcast over the rows; x's values are overwritten
    z = x * 1.0
    z.zero_()
    w = x * 1.0
    w.fill_(2.0)
    return y * x + z + w * b


def _copy_fill_composed(L, x, b):
    return b[0].expand(3, 4) * x + 0 * x + 2.0 * b


def _setitem(L, x, b):
    y = x * 1.0
    y[0] = b[1] * 2  # y's row 0 is overwritten: x's row 0 gets no gradient through y
    y[:, :2] += 1  # in place through a view: the base's history (CopySlices)
    y[1:] *= b[1:]
    return y * x


def _setitem_composed(L, x, b):
    y = L.stack([b[1] * 2, x[1], x[2]]) + L.tensor([[1.0, 1.0, 0.0, 0.0]], dtype=L.float64)
    y = L.cat([y[:1], y[1:] * b[1:]])
    return y * x


def _advanced(L, x, b):
    y = x.exp() * 1.0
    n = 3
    target = L.tensor([0, 2, 1])
    y[range(n), target] -= 1  # makemore part 4's dlogits[range(n), Yb] -= 1
    y[L.tensor([0, 2])] = b[:2]
    y[y > 1.5] = 0.0
    return y * x


def _advanced_composed(L, x, b):
    y = x.exp()
    onehot = L.tensor(np.eye(4)[[0, 2, 1]])
    y = y - onehot
    y = L.stack([b[0], y[1], b[1]])
    return L.where(y > 1.5, L.zeros_like(y), y) * x


def _join(L, x, b):
    dC = L.zeros_like(x)  # outside the graph until it receives a value that requires grad
    ix = L.tensor([0, 2])
    dC[ix] += b[:2]
    logits = L.zeros(3, 4, dtype=L.float64)
    for i in range(3):
        logits[i] = x[i] * b[i]
    return dC * x + logits


def _join_composed(L, x, b):
    dC = L.stack([b[0], L.zeros(4, dtype=L.float64), b[1]])
    return dC * x + x * b


def _views(L, x, b):
    y = x * 1.0
    v = y[0]
    y.mul_(2)  # v sees y's new history (AsStridedBackward0)
    t = y.t()
    t[0] = b[0, :3]  # through a transposed view: y[:, 0] = b[0, :3]
    w = y.view(12)
    w[5:7] *= 3
    return v * b[1] + y.sum(0)


def _views_composed(L, x, b):
    y = x * 2
    y = L.cat([b[0, :3].unsqueeze(1), y[:, 1:]], 1)
    flat = y.reshape(12)
    flat = L.cat([flat[:5], flat[5:7] * 3, flat[7:]])
    y = flat.reshape(3, 4)
    return y[0] * b[1] + y.sum(0)


def _linear_part5(L, x, b):
    w = b[:, :3].t() * 1.0  # (3, 3)
    out = x[:, :3] @ w
    out += b[0, :3]  # makemore part 5's Linear: self.out = x @ self.weight; self.out += self.bias
    return out.tanh()


def _linear_part5_composed(L, x, b):
    return (x[:, :3] @ b[:, :3].t() + b[0, :3]).tanh()


CASES = {
    "augmented assignment": (_iops, _iops_composed),
    "add_ sub_ mul_ div_": (_methods, _methods_composed),
    "tanh_ exp_ sigmoid_ relu_": (_unary, _unary_composed),
    "clamp_ masked_fill_": (_clamp_mask, _clamp_mask_composed),
    "copy_ zero_ fill_": (_copy_fill, _copy_fill_composed),
    "setitem and views": (_setitem, _setitem_composed),
    "advanced-index writes": (_advanced, _advanced_composed),
    "tensors joining the graph": (_join, _join_composed),
    "views of a modified base": (_views, _views_composed),
    "part 5 Linear": (_linear_part5, _linear_part5_composed),
}


def _inputs(lib, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (3, 4))
    b = rng.uniform(0.1, 1, (3, 4))
    return [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in (x, b)]


def _value_and_grads(lib, f, seed=0):
    leaves = _inputs(lib, seed)
    out = f(lib, *leaves)
    out.backward(lib.ones_like(out))
    return out.detach().numpy(), [t.grad.numpy() if t.grad is not None else None for t in leaves]


@pytest.mark.parametrize("name", list(CASES))
def test_in_place_matches_the_composed_out_of_place_version(name):
    f, composed = CASES[name]
    v1, g1 = _value_and_grads(torch, f)
    v2, g2 = _value_and_grads(torch, composed)
    np.testing.assert_allclose(v1, v2, rtol=1e-12, atol=1e-12)
    for a, c in zip(g1, g2):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_in_place_gradcheck(name):
    f = CASES[name][0]
    assert gradcheck(lambda x, b: f(torch, x, b), _inputs(torch, seed=1))


@pytest.mark.parametrize("name", list(CASES))
def test_in_place_matches_torch(name):
    real = pytest.importorskip("torch")
    f = CASES[name][0]
    v1, g1 = _value_and_grads(torch, f, seed=2)
    v2, g2 = _value_and_grads(real, f, seed=2)
    np.testing.assert_allclose(v1, v2, rtol=1e-12, atol=1e-12)
    for a, c in zip(g1, g2):
        assert (a is None) == (c is None)
        if a is not None:
            np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


def test_setitem_sends_the_gradient_to_the_value_and_none_to_the_overwritten_part():
    x = torch.ones(2, 3, requires_grad=True)
    v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    y[0] = v * 2
    assert y.grad_fn.name() == "torch::autograd::CopySlices" and y.tolist() == [[2.0, 4.0, 6.0], [1.0, 1.0, 1.0]]
    y.sum().backward()
    assert v.grad.tolist() == [2.0, 2.0, 2.0] and x.grad.tolist() == [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]


def test_setitem_drops_the_leading_size_one_dims_of_the_value():
    """makemore part 5: logits = zeros(8, 27); logits[i] = model(Xtr[[7 + i]]) writes a (1, 27) row
    into a (27,) slot. PyTorch drops the value's leading 1s (values and messages from torch 2.13)."""
    w = torch.tensor([[1.0, 2.0, 3.0]], requires_grad=True)  # (1, 3)
    out = torch.zeros(2, 3)
    out[1] = w * 2
    assert out.tolist() == [[0.0, 0.0, 0.0], [2.0, 4.0, 6.0]] and out.requires_grad
    out.sum().backward()
    assert w.grad.shape == (1, 3) and w.grad.tolist() == [[2.0, 2.0, 2.0]]
    a = torch.zeros(4, 3)
    a[0:2] = torch.ones(1, 1, 2, 3)  # any number of leading 1s
    a[[2, 3]] = torch.full((1, 2, 3), 5.0)  # and for an advanced index
    assert a.tolist() == [[1.0] * 3] * 2 + [[5.0] * 3] * 2
    b = torch.zeros(3)
    b[1] = torch.ones(1, 1)
    assert b.tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(RuntimeError, match=r"^expand\(torch.FloatTensor\{\[2, 3\]\}, size=\[3\]\): the number of sizes "
                                           r"provided \(1\) must be greater or equal to the number of dimensions in the tensor \(2\)$"):
        a[0] = torch.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"^expand\(torch.FloatTensor\{\[2, 1, 3\]\}, size=\[2, 3\]\)"):
        a[0:2] = torch.ones(1, 2, 1, 3)


def test_setitem_of_a_longer_value_matches_torch():
    pt = pytest.importorskip("torch")
    for lib in (torch, pt):
        v = lib.arange(6.0, dtype=lib.float64).reshape(1, 6).requires_grad_()
        out = lib.zeros(3, 6, dtype=lib.float64)
        out[2] = v.tanh()
        (out * lib.arange(18.0, dtype=lib.float64).reshape(3, 6)).sum().backward()
        if lib is torch:
            mine = (out.detach().numpy(), v.grad.numpy())
        else:
            np.testing.assert_allclose(mine[0], out.detach().numpy(), rtol=1e-12)
            np.testing.assert_allclose(mine[1], v.grad.numpy(), rtol=1e-12)


def test_in_place_rebases_the_history():
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    old = y.grad_fn
    y += 1
    assert y.grad_fn is not old and y.grad_fn.name() == "AddBackward0"
    assert y.grad_fn.next_functions == ((old, 0), (None, 0))
    assert not y.is_leaf and y._version == 1


def test_a_tensor_outside_the_graph_joins_it():
    v = torch.tensor([1.0, 2.0], requires_grad=True)
    dC = torch.zeros(3, 2)
    assert not dC.requires_grad and dC.is_leaf
    dC[torch.tensor([0, 2])] += v
    assert dC.requires_grad and not dC.is_leaf and dC.grad_fn.name() == "IndexPutBackward0"
    (dC * torch.tensor([[1.0, 1.0], [5.0, 5.0], [3.0, 3.0]])).sum().backward()
    assert v.grad.tolist() == [4.0, 4.0]
    logits = torch.zeros(2, 2)
    logits[1] = v * 3
    assert logits.requires_grad and logits.grad_fn.next_functions[0] == (None, 0)


def test_a_view_of_a_tensor_outside_the_graph():
    b = torch.ones(2, requires_grad=True)
    t = torch.zeros(3)
    v = t[1:]
    v += b * 2
    assert t.requires_grad and t.grad_fn.name() == "torch::autograd::CopySlices"
    assert v.grad_fn.name() == "AsStridedBackward0" and t.tolist() == [0.0, 2.0, 2.0]
    t.sum().backward()
    assert b.grad.tolist() == [2.0, 2.0]


# ---------------------------------------------------------------------- refusals and no_grad
def test_a_leaf_that_requires_grad_refuses_in_place_ops():
    w = torch.ones(3, requires_grad=True)
    for op in (lambda: w.add_(1), lambda: w.zero_(), lambda: w.__iadd__(1), lambda: w.copy_(torch.zeros(3))):
        with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used in an in-place operation.$"):
            op()
    for op in (lambda: w.__setitem__(0, 5.0), lambda: w[1:].mul_(2), lambda: w.view(3).fill_(0)):
        with pytest.raises(RuntimeError, match="^a view of a leaf Variable that requires grad is being used in an in-place operation.$"):
            op()
    assert w.tolist() == [1.0, 1.0, 1.0] and w._version == 0


def test_in_place_on_a_leaf_under_no_grad_and_through_data():
    w = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        w.add_(1)
        w[0] = 5.0
    assert w.tolist() == [5.0, 2.0, 2.0] and w.is_leaf and w.grad_fn is None and w._version == 2
    w.data.mul_(2)  # .data shares the storage but not the version counter, as in PyTorch
    assert w.tolist() == [10.0, 4.0, 4.0] and w._version == 2


def test_in_place_result_dtype_rules():
    t = torch.ones(2, dtype=torch.int64)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        t += 1.5
    y = torch.ones(3, requires_grad=True) * 1.0
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single memory location"):
        y[:1].expand(3).add_(1)


def test_augmented_assignment_through_an_index_of_a_plain_tensor():
    t = torch.zeros(2, 3)
    t[0] += 1
    t[:, 1:] *= 0
    t[torch.tensor([1, 1])] += 2
    assert t.tolist() == [[1.0, 0.0, 0.0], [2.0, 2.0, 2.0]] and not t.requires_grad


def test_repeated_indices_in_an_augmented_write_as_pytorch():
    # dC[ix] += v gathers, adds and writes back: for a repeated index the last write wins, and each
    # value gets the gradient at its destination (PyTorch's index_put without accumulate)
    v = torch.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    dC = torch.zeros(3, 1)
    dC[torch.tensor([0, 2, 0])] += v
    assert dC.tolist() == [[3.0], [0.0], [2.0]]
    (dC * torch.tensor([[1.0], [10.0], [100.0]])).sum().backward()
    assert v.grad.tolist() == [[1.0], [100.0], [1.0]]  # values from torch 2.13
