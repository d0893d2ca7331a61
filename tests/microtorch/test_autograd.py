"""Autograd: a float64 gradcheck for every differentiable op, backward semantics, grad mode,
and gradcheck itself (it must catch a wrong backward)."""
import warnings

import numpy as np
import pytest

import microtorch as torch
from microtorch.autograd import GradcheckError, gradcheck
from microtorch.tensor import _new

_rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _grad_mode_restored():
    """A failing grad-mode test must not leave grad disabled for the tests after it."""
    yield
    torch.set_grad_enabled(True)


def leaf(*shape, low=-1.0, high=1.0):
    """A float64 leaf requiring grad with values uniform in [low, high)."""
    return torch.tensor(_rng.uniform(low, high, shape), requires_grad=True)


def away(*shape):
    """Values with |x| in [0.3, 1.5] and random signs: away from the kinks of abs/relu/clamp."""
    values = _rng.uniform(0.3, 1.5, shape) * _rng.choice([-1.0, 1.0], shape)
    return torch.tensor(values, requires_grad=True)


def given(values):
    """A float64 leaf requiring grad with the given values."""
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def pos(*shape):
    return leaf(*shape, low=0.5, high=2.0)


# Each case: (fn, a function making the inputs). Inputs are rebuilt per test so grads start empty.
GRAD_CASES = {
    # arithmetic, with broadcasting both ways and Python scalars on either side
    "add_bcast_col_row": (lambda a, b: a + b, lambda: (leaf(3, 1), leaf(1, 4))),
    "add_bcast_trailing": (lambda a, b: a + b, lambda: (leaf(2, 3), leaf(3))),
    "add_scalar_right": (lambda a: a + 2.5, lambda: (leaf(2, 3),)),
    "add_scalar_left": (lambda a: 2.5 + a, lambda: (leaf(2, 3),)),
    "add_method_alpha": (lambda a, b: a.add(b, alpha=2.0), lambda: (leaf(2, 3), leaf(3))),
    "sub_bcast": (lambda a, b: a - b, lambda: (leaf(3, 1), leaf(1, 4))),
    "sub_bcast_trailing": (lambda a, b: b - a, lambda: (leaf(2, 3), leaf(3))),
    "sub_scalar_right": (lambda a: a - 1.5, lambda: (leaf(4),)),
    "sub_scalar_left": (lambda a: 1.5 - a, lambda: (leaf(4),)),
    "mul_bcast": (lambda a, b: a * b, lambda: (leaf(3, 1), leaf(1, 4))),
    "mul_bcast_trailing": (lambda a, b: a * b, lambda: (leaf(2, 3), leaf(3))),
    "mul_same_tensor": (lambda a: a * a, lambda: (leaf(2, 3),)),
    "mul_scalar_right": (lambda a: a * -3.0, lambda: (leaf(2, 3),)),
    "mul_scalar_left": (lambda a: 3 * a, lambda: (leaf(2, 3),)),
    "div_bcast": (lambda a, b: a / b, lambda: (leaf(3, 1), pos(1, 4))),
    "div_bcast_trailing": (lambda a, b: a / b, lambda: (leaf(2, 3), pos(3))),
    "div_scalar_right": (lambda a: a / 4.0, lambda: (leaf(2, 3),)),
    "div_scalar_left": (lambda a: 2.0 / a, lambda: (pos(2, 3),)),
    "pow_int": (lambda a: a**3, lambda: (leaf(2, 3),)),
    "pow_two": (lambda a: a**2, lambda: (leaf(2, 3),)),
    "pow_half": (lambda a: a**0.5, lambda: (pos(2, 3),)),
    "pow_negative": (lambda a: a**-1.5, lambda: (pos(2, 3),)),
    "pow_tensor_exponent": (lambda a, b: a**b, lambda: (pos(3, 1), leaf(1, 4))),
    "pow_tensor_exponent_trailing": (lambda a, b: a**b, lambda: (pos(2, 3), leaf(3))),
    "rpow_scalar_base": (lambda a: 2.0**a, lambda: (leaf(2, 3),)),
    "torch_pow": (lambda a: torch.pow(a, 3), lambda: (leaf(4),)),
    "neg": (lambda a: -a, lambda: (leaf(2, 3),)),
    "sub_method_alpha": (lambda a, b: a.sub(b, alpha=0.5), lambda: (leaf(2, 3), leaf(3))),
    "mul_div_methods": (lambda a, b: a.mul(b).div(b * b + 1.0), lambda: (leaf(2, 3), leaf(3))),
    # a % b jumps where a / b is an integer: fixed points away from the jumps
    "mod_bcast": (lambda a, b: a % b, lambda: (given([[5.3, -5.3, 2.9]]), given([[2.0], [-1.5]]))),
    "mod_scalar": (lambda a: a % 0.7, lambda: (given([1.0, -1.0, 0.2, 2.5]),)),
    "rmod_scalar": (lambda a: 5.5 % a, lambda: (given([2.0, -1.5, 0.8]),)),
    "rmatmul_ndarray": (lambda a: np.arange(6.0).reshape(2, 3) @ a, lambda: (leaf(3, 2),)),
    # matmul in every rank combination
    "matmul_1d_1d": (lambda a, b: a @ b, lambda: (leaf(4), leaf(4))),
    "matmul_1d_2d": (lambda a, b: a @ b, lambda: (leaf(3), leaf(3, 4))),
    "matmul_2d_1d": (lambda a, b: a @ b, lambda: (leaf(3, 4), leaf(4))),
    "matmul_2d_2d": (lambda a, b: a @ b, lambda: (leaf(2, 3), leaf(3, 4))),
    "matmul_3d_2d": (lambda a, b: a @ b, lambda: (leaf(2, 3, 4), leaf(4, 5))),
    "matmul_3d_3d": (lambda a, b: torch.matmul(a, b), lambda: (leaf(2, 3, 4), leaf(2, 4, 5))),
    "matmul_broadcast_batch": (lambda a, b: a.matmul(b), lambda: (leaf(1, 3, 4), leaf(2, 4, 5))),
    "matmul_3d_1d": (lambda a, b: a @ b, lambda: (leaf(2, 3, 4), leaf(4))),
    "matmul_1d_3d": (lambda a, b: a @ b, lambda: (leaf(4), leaf(2, 4, 5))),
    # elementwise
    "exp": (torch.exp, lambda: (leaf(2, 3),)),
    "log": (torch.log, lambda: (pos(2, 3),)),
    "log10": (lambda a: a.log10(), lambda: (pos(2, 3),)),
    "sqrt": (torch.sqrt, lambda: (pos(2, 3),)),
    "abs": (torch.abs, lambda: (away(2, 3),)),
    "abs_builtin": (lambda a: abs(a), lambda: (away(5),)),
    "tanh": (torch.tanh, lambda: (leaf(2, 3),)),
    "sigmoid": (torch.sigmoid, lambda: (leaf(2, 3, low=-4, high=4),)),
    "relu": (torch.relu, lambda: (away(2, 3),)),
    "clamp_min": (lambda a: a.clamp(min=0.1), lambda: (away(3, 4),)),
    "clamp_max": (lambda a: a.clamp(max=-0.1), lambda: (away(3, 4),)),
    "clamp_both": (lambda a: torch.clamp(a, -0.2, 0.2), lambda: (away(3, 4),)),
    "clip": (lambda a: a.clip(-0.2, 0.2), lambda: (away(3, 4),)),
    "clamp_tensor_bounds": (
        lambda a, lo, hi: a.clamp(lo, hi),
        lambda: (given([[-1.0, 0.1, 0.9], [0.4, 2.0, -0.3]]), given([0.0, 0.2, -0.5]), given([[0.5], [1.0]])),
    ),
    "max_of_two_tensors": (lambda a, b: torch.max(a, b), lambda: (away(3, 4), away(4))),
    "maximum": (torch.maximum, lambda: (away(3, 4), away(3, 4))),
    "minimum": (torch.minimum, lambda: (away(3, 4), away(3, 4))),
    "masked_fill": (lambda a: a.masked_fill(a > 0, 0.0), lambda: (away(3, 4),)),
    "masked_fill_tensor_value": (lambda a, v: a.masked_fill(a > 0, v), lambda: (away(3, 4), leaf())),
    # reductions
    "sum_all": (lambda a: a.sum(), lambda: (leaf(2, 3),)),
    "sum_dim": (lambda a: a.sum(1), lambda: (leaf(2, 3),)),
    "sum_dim_neg_keepdim": (lambda a: a.sum(-1, keepdim=True), lambda: (leaf(2, 3),)),
    "sum_tuple": (lambda a: torch.sum(a, (0, 2)), lambda: (leaf(2, 3, 4),)),
    "sum_tuple_keepdim": (lambda a: a.sum((0, 2), keepdim=True), lambda: (leaf(2, 3, 4),)),
    "mean_all": (lambda a: a.mean(), lambda: (leaf(2, 3),)),
    "mean_dim": (lambda a: a.mean(0), lambda: (leaf(2, 3),)),
    "mean_tuple_keepdim": (lambda a: torch.mean(a, (1, 2), keepdim=True), lambda: (leaf(2, 3, 4),)),
    "var_all": (lambda a: a.var(), lambda: (leaf(2, 3),)),
    "var_dim_biased": (lambda a: a.var(1, unbiased=False), lambda: (leaf(2, 3),)),
    "var_dim_unbiased_keepdim": (lambda a: a.var(0, unbiased=True, keepdim=True), lambda: (leaf(4, 3),)),
    "var_correction0": (lambda a: a.var(1, correction=0), lambda: (leaf(2, 5),)),
    "var_correction2": (lambda a: torch.var(a, 1, correction=2), lambda: (leaf(2, 5),)),
    "var_tuple": (lambda a: a.var((0, 2), keepdim=True), lambda: (leaf(2, 3, 4),)),
    "std_all": (lambda a: a.std(), lambda: (leaf(2, 3),)),
    "std_dim_biased": (lambda a: a.std(1, unbiased=False), lambda: (leaf(2, 3),)),
    "std_correction2_keepdim": (lambda a: torch.std(a, 0, keepdim=True, correction=2), lambda: (leaf(5, 2),)),
    "std_tuple": (lambda a: a.std((0, 1)), lambda: (leaf(2, 3, 2),)),
    "max_all": (lambda a: a.max(), lambda: (leaf(3, 4),)),
    "min_all": (lambda a: torch.min(a), lambda: (leaf(3, 4),)),
    "max_dim": (lambda a: a.max(1).values, lambda: (leaf(3, 4),)),
    "max_dim_keepdim": (lambda a: a.max(0, keepdim=True)[0], lambda: (leaf(3, 4),)),
    "min_dim": (lambda a: torch.min(a, -1).values, lambda: (leaf(3, 4),)),
    "min_dim_keepdim": (lambda a: a.min(1, keepdim=True).values, lambda: (leaf(3, 4),)),
    # shape ops
    "view_flat": (lambda a: a.view(-1), lambda: (leaf(2, 3),)),
    "view_tuple": (lambda a: a.view((3, 2)), lambda: (leaf(2, 3),)),
    "reshape": (lambda a: a.reshape(3, -1), lambda: (leaf(2, 3, 2),)),
    "torch_reshape": (lambda a: torch.reshape(a, (-1,)), lambda: (leaf(2, 3),)),
    "squeeze": (lambda a: a.squeeze(), lambda: (leaf(1, 3, 1),)),
    "squeeze_dim": (lambda a: a.squeeze(0), lambda: (leaf(1, 3, 1),)),
    "unsqueeze": (lambda a: a.unsqueeze(1), lambda: (leaf(2, 3),)),
    "unsqueeze_neg": (lambda a: torch.unsqueeze(a, -1), lambda: (leaf(2, 3),)),
    "flatten": (lambda a: a.flatten(), lambda: (leaf(2, 3, 2),)),
    "flatten_range": (lambda a: torch.flatten(a, 1), lambda: (leaf(2, 3, 2),)),
    "permute": (lambda a: a.permute(2, 0, 1), lambda: (leaf(2, 3, 4),)),
    "permute_negative": (lambda a: a.permute(0, -1, 1), lambda: (leaf(2, 3, 4),)),
    "transpose": (lambda a: a.transpose(0, 2), lambda: (leaf(2, 3, 4),)),
    "transpose_negative": (lambda a: torch.transpose(a, -1, -2), lambda: (leaf(2, 3, 4),)),
    "T": (lambda a: a.T, lambda: (leaf(2, 3),)),
    "t": (lambda a: a.t(), lambda: (leaf(2, 3),)),
    "view_as": (lambda a, b: a.view_as(b), lambda: (leaf(2, 3), leaf(3, 2))),
    "squeeze_tuple": (lambda a: a.squeeze((0, 2)), lambda: (leaf(1, 3, 1),)),
    "contiguous": (lambda a: a.T.contiguous() * 1.0, lambda: (leaf(2, 3),)),
    "clone": (lambda a: a.clone(), lambda: (leaf(2, 3),)),
    "expand": (lambda a: a.expand(2, 3, 4), lambda: (leaf(3, 1),)),
    "expand_minus_one": (lambda a: a.expand(-1, 4), lambda: (leaf(3, 1),)),
    # indexing
    "index_int": (lambda a: a[1], lambda: (leaf(3, 4),)),
    "index_negative_int": (lambda a: a[-1, 2], lambda: (leaf(3, 4),)),
    "index_slice": (lambda a: a[1:, ::2], lambda: (leaf(3, 4),)),
    "index_ellipsis_none": (lambda a: a[..., None, 1], lambda: (leaf(3, 4),)),
    "index_embedding_repeats": (
        lambda C: C[torch.tensor([[0, 2, 2], [4, 0, 0]])],
        lambda: (leaf(5, 2),),
    ),
    "index_list_repeats": (lambda a: a[[1, 1, 0]], lambda: (leaf(3, 2),)),
    "index_pairs_range": (lambda a: a[range(4), torch.tensor([2, 0, 2, 1])], lambda: (leaf(4, 3),)),
    "index_pairs_repeats": (lambda a: a[torch.tensor([0, 0, 1]), torch.tensor([1, 1, 2])], lambda: (leaf(2, 3),)),
    "index_bool_mask": (lambda a: a[torch.tensor([True, False, True])], lambda: (leaf(3, 2),)),
    "index_bool_mask_elementwise": (lambda a: a[a > 0], lambda: (away(3, 4),)),
    # several tensors
    "cat": (lambda a, b: torch.cat([a, b]), lambda: (leaf(2, 3), leaf(1, 3))),
    "cat_dim1": (lambda a, b: torch.cat((a, b), dim=1), lambda: (leaf(2, 3), leaf(2, 2))),
    "cat_dim_negative": (lambda a, b: torch.cat([a, b], -1), lambda: (leaf(2, 3), leaf(2, 1))),
    "stack": (lambda a, b: torch.stack([a, b]), lambda: (leaf(2, 3), leaf(2, 3))),
    "stack_dim_last": (lambda a, b: torch.stack([a, b], dim=-1), lambda: (leaf(2, 3), leaf(2, 3))),
    "where": (lambda a, b: torch.where(a > 0, a, b), lambda: (away(3, 4), leaf(3, 4))),
    "where_bcast": (lambda a, b: torch.where(a > 0, a, b), lambda: (away(3, 4), leaf(4))),
    "where_scalar_other": (lambda a: torch.where(a > 0, a, 0.0), lambda: (away(3, 4),)),
    "softmax_last": (lambda a: a.softmax(-1), lambda: (leaf(3, 4),)),
    "softmax_dim0": (lambda a: torch.softmax(a, 0), lambda: (leaf(3, 4),)),
    "log_softmax_last": (lambda a: torch.log_softmax(a, -1), lambda: (leaf(3, 4),)),
    "log_softmax_dim1_of_3d": (lambda a: a.log_softmax(1), lambda: (leaf(2, 3, 2),)),
    "to_float64": (lambda a: a.to(torch.float64) * 2, lambda: (leaf(2, 3),)),
    "double": (lambda a: a.double(), lambda: (leaf(2, 3),)),
    # a small composite: the lecture's MLP loss
    "mlp_loss": (
        lambda C, W, b: (lambda h: -h.log_softmax(1)[range(3), torch.tensor([0, 2, 1])].mean())(
            torch.tanh(C[torch.tensor([[0, 1], [2, 2], [1, 0]])].view(3, -1) @ W + b)
        ),
        lambda: (leaf(3, 2), leaf(4, 3), leaf(3)),
    ),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradcheck(name):
    fn, make = GRAD_CASES[name]
    inputs = make()
    assert gradcheck(fn, inputs)


def test_gradcheck_only_some_inputs_require_grad():
    a, b = leaf(2, 3), torch.tensor(_rng.normal(size=(3, 2)))
    assert gradcheck(lambda x, y: x @ y, (a, b))
    assert b.grad is None


def test_gradcheck_non_contiguous_input():
    x = torch.tensor(_rng.normal(size=(3, 4))).T.requires_grad_()
    assert gradcheck(lambda t: t * t, (x,))


def test_gradcheck_multiple_outputs():
    assert gradcheck(lambda a: (a.exp(), a.max(1)), (leaf(2, 3),))


def _wrong_square(x):
    a = x._array
    return _new(a * a, (x,), lambda g: (g * a,))  # the factor 2 is missing


def _wrong_broadcast(x, y):
    return _new(x._array + y._array, (x, y), lambda g: (g, g[0]))  # y's copies not summed


def test_gradcheck_catches_a_wrong_backward():
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(_wrong_square, (leaf(3),))
    assert gradcheck(_wrong_square, (leaf(3),), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(_wrong_broadcast, (leaf(3, 2), leaf(2)))


def test_gradcheck_restores_grads_and_refuses_float32():
    x = leaf(3)
    x.grad = torch.ones(3, dtype=torch.float64)
    gradcheck(torch.exp, (x,))
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="float64"):
        gradcheck(torch.exp, (torch.ones(3, requires_grad=True),))
    with pytest.raises(ValueError):
        gradcheck(torch.exp, (torch.ones(3, dtype=torch.float64),))


# ---------------------------------------------------------------------- backward semantics
def test_backward_on_non_scalar_needs_a_gradient():
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(torch.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(RuntimeError, match="shape"):
        y.backward(torch.ones(2))


def test_one_element_non_scalar_backward():
    x = torch.ones(1, requires_grad=True)
    (x * 3).backward()
    assert x.grad.tolist() == [3.0]


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        torch.ones(2).sum().backward()


def test_gradients_accumulate_across_backward_calls():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_gradient_through_shared_subexpression():
    x = torch.tensor(3.0, requires_grad=True)
    y = x * x
    z = y + y * x  # x^2 + x^3
    z.backward()
    assert x.grad.item() == pytest.approx(2 * 3 + 3 * 9)


def test_grad_of_non_leaf_only_with_retain_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    kept = x * 3
    kept.retain_grad()
    (h.sum() + kept.sum()).backward()
    with pytest.warns(UserWarning, match=r"^The .grad attribute of a Tensor that is not a leaf Tensor is being accessed"):
        assert h.grad is None  # PyTorch's warning (the micrograd lecture's torch cell prints o.grad)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kept.grad.tolist() == [1.0, 1.0]  # retained: no warning
        assert torch.ones(2).grad is None  # a leaf: no warning
    assert x.grad.tolist() == [5.0, 5.0]


def test_requires_grad_propagates_and_is_leaf():
    x = torch.ones(2, requires_grad=True)
    c = torch.ones(2)
    assert x.is_leaf and c.is_leaf and not c.requires_grad
    y = x + c
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    z = c * 2
    assert not z.requires_grad and z.is_leaf and z.grad_fn is None
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_()
    assert c.requires_grad_() is c and c.requires_grad


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        torch.arange(3).requires_grad_()


def test_detach_shares_storage_and_leaves_the_graph():
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    d += 1
    assert y.tolist() == [3.0, 3.0, 3.0]


def test_data_update_in_place_is_seen_by_the_parameter():
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    lr = 0.1
    p.data += -lr * p.grad
    assert p.tolist() == pytest.approx([0.8, 1.6])
    assert p.requires_grad and p.is_leaf and p.grad_fn is None


def test_data_of_a_zero_dim_op_result_shares_storage():
    p = (torch.tensor(2.0) * 1.5).requires_grad_()
    (p * p).backward()
    p.data += -0.1 * p.grad
    assert p.item() == pytest.approx(3.0 - 0.1 * 6.0)


def test_zero_dim_leaf_grad_accumulates_as_an_array():
    p = torch.tensor(2.0, requires_grad=True)
    (p * 3).backward()
    (p * 3).backward()
    assert p.grad.item() == 6.0
    p.grad.zero_()
    assert p.grad.item() == 0.0


def test_deep_chain_backpropagates_iteratively():
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert x.grad.item() == 1.0
    assert y.item() == 100_001.0


def test_gradient_dtype_follows_the_tensor():
    w32 = torch.ones(3, requires_grad=True)
    w64 = torch.ones(3, dtype=torch.float64, requires_grad=True)
    for _ in range(2):  # the second pass accumulates
        (w32 * w64).sum().backward()
    assert w32.grad.dtype == torch.float32 and w64.grad.dtype == torch.float64
    x = torch.ones(2, requires_grad=True)
    x.double().sum().backward()
    assert x.grad.dtype == torch.float32 and x.grad.tolist() == [1.0, 1.0]


def test_float64_training_step_stays_float64():
    W = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    x = torch.randn(5, 4, dtype=torch.float64)
    loss = torch.tanh(x @ W).pow(2).mean()
    assert loss.dtype == torch.float64
    loss.backward()
    assert W.grad.dtype == torch.float64


def test_backward_twice_through_the_same_graph_is_consistent():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    loss = (x.tanh() * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.tolist()
    loss.backward()
    assert x.grad.tolist() == pytest.approx([2 * g for g in first])


def test_max_gradient_goes_to_the_chosen_element_only():
    x = torch.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    x.max(1).values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_max_all_shares_gradient_among_ties():
    x = torch.tensor([3.0, 1.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5]


@pytest.mark.parametrize("op", [torch.maximum, torch.minimum, torch.max])
def test_elementwise_max_min_share_gradient_at_ties(op):
    a = torch.tensor([1.0, 2.0, 5.0], requires_grad=True)
    b = torch.tensor([1.0, 3.0, 4.0], requires_grad=True)
    op(a, b).sum().backward()
    a_grad = [0.5, 1.0, 0.0] if op is torch.minimum else [0.5, 0.0, 1.0]
    assert a.grad.tolist() == a_grad
    assert b.grad.tolist() == [1.0 - g for g in a_grad]


def test_max_all_gradient_keeps_float32_upstream():
    x = torch.tensor([[3.0, 1.0], [3.0, 0.0]], requires_grad=True)
    h = x * 1.0
    seen = []
    original = h.grad_fn._backward
    h.grad_fn._backward = lambda g: (seen.append(g.dtype), original(g))[1]
    h.max().backward()
    assert seen == [np.float32] and x.grad.tolist() == [[0.5, 0.0], [0.5, 0.0]]


def test_pow_zero_exponent_gradient_is_zero():
    x = torch.tensor([0.0, 2.0], requires_grad=True)
    (x**0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_std_of_constant_input_has_zero_gradient():
    x = torch.ones(2, 3, requires_grad=True)
    x.std(1).sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2


def test_var_of_one_element_gives_nan_not_an_exception():
    x = torch.ones(1, requires_grad=True)
    with np.errstate(all="ignore"):
        v = x.var()
        v.backward()
    assert np.isnan(v.item()) and np.isnan(x.grad.item())


# ---------------------------------------------------------------------- grad mode
def test_no_grad_context_records_nothing():
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        assert not torch.is_grad_enabled()
        y = (x * 2).exp().sum()
        assert not y.requires_grad and y.grad_fn is None
    assert torch.is_grad_enabled()
    assert (x * 2).grad_fn.next_functions[0][0].variable is x


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ValueError):
        with torch.no_grad():
            raise ValueError
    assert torch.is_grad_enabled()


def test_no_grad_as_decorator_with_and_without_parentheses():
    @torch.no_grad()
    def f(x):
        return x * 2, torch.is_grad_enabled()

    @torch.no_grad
    def g(x):
        return x * 2

    x = torch.ones(2, requires_grad=True)
    y, enabled = f(x)
    assert not enabled and not y.requires_grad and f.__name__ == "f"
    assert not g(x).requires_grad
    assert torch.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        with torch.enable_grad():
            assert torch.is_grad_enabled()
            y = x * 2
        assert not torch.is_grad_enabled()

        @torch.enable_grad()
        def doubled(t):
            return t * 2

        assert doubled(x).requires_grad
    assert y.requires_grad


def test_set_grad_enabled_as_call_and_context_manager():
    x = torch.ones(2, requires_grad=True)
    with torch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled()
    with torch.no_grad():
        with torch.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        assert not torch.is_grad_enabled()
    finally:
        torch.set_grad_enabled(True)
    assert torch.is_grad_enabled()

    @torch.set_grad_enabled(False)
    def f():
        return torch.is_grad_enabled()

    assert torch.is_grad_enabled() and f() is False and torch.is_grad_enabled()


# ---------------------------------------------------------------------- in-place rules
def test_in_place_on_leaf_requiring_grad_raises_outside_no_grad():
    p = torch.ones(3, requires_grad=True)
    for op in (lambda: p.__iadd__(1.0), lambda: p.mul_(2.0), lambda: p.fill_(0.0), lambda: p.zero_(), lambda: p.normal_()):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op()
    with torch.no_grad():
        p += 1.0
        p *= 3.0
        p -= 1.0
        p /= 5.0
    assert p.tolist() == [1.0, 1.0, 1.0] and p.requires_grad
    with torch.no_grad():
        p.uniform_(2.0, 3.0)
    assert ((p >= 2.0) & (p < 3.0)).all()


# ---------------------------------------------------------------------- review fixes
def test_mod_passes_gradients_as_pytorch_remainder():
    a, b = given([5.5, -5.5]), given([2.0, 2.0])
    (a % b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [-2.0, 3.0]  # d(a % b)/db = -floor(a / b)


def test_pow_tensor_exponent_gradients_at_zero_and_negative_base():
    a, b = given([0.0, 2.0, -2.0]), given([0.0, 0.5, 2.0])
    with np.errstate(all="ignore"):
        (a**b).sum().backward()
    assert a.grad.tolist() == pytest.approx([0.0, 0.5 * 2.0**-0.5, -4.0])  # x^0 is constant, also at 0
    assert b.grad[:2].tolist() == pytest.approx([0.0, 2.0**0.5 * np.log(2.0)])
    assert np.isnan(b.grad[2].item())  # ln of a negative base: NaN, as in PyTorch
    e = given([2.0, 1.0])
    with np.errstate(all="ignore"):
        ((-2.0) ** e).sum().backward()
    assert np.isnan(e.grad.numpy()).all()


def test_var_gradient_is_not_finite_when_correction_exceeds_the_count():
    x = given([1.0, 2.0])
    with np.errstate(all="ignore"):
        v = x.var(correction=3)
        v.backward()
    assert v.item() == np.inf and not np.isfinite(x.grad.numpy()).any()  # PyTorch: inf, and grad [inf, inf]


def test_gradient_accumulates_in_place_into_the_existing_grad():
    p = torch.ones(2, requires_grad=True)
    (p * 2).sum().backward()
    g = p.grad
    (p * 2).sum().backward()
    assert g.tolist() == [4.0, 4.0]  # the same tensor, as in PyTorch
    assigned = torch.zeros(2)
    p.grad = assigned
    (p * 3).sum().backward()
    assert assigned.tolist() == [3.0, 3.0] and p.grad.tolist() == [3.0, 3.0]


def test_clamp_passes_gradients_to_tensor_bounds():
    a, lo, hi = given([0.0, 2.0, 0.5, 1.0]), given([1.0, 1.0, 0.0, 1.0]), given(1.5)
    a.clamp(lo, hi).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 1.0, 1.0]  # a tie with a bound goes to the input, as in PyTorch
    assert lo.grad.tolist() == [1.0, 0.0, 0.0, 0.0] and hi.grad.item() == 1.0
