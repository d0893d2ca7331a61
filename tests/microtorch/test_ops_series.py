"""The tensor ops of the Zero to Hero programs (issue 13): split, chunk, unbind, tril, triu,
topk, sort, argsort, roll, gather, scatter, scatter_add, index_select, cumsum, cumprod, amax,
amin, logsumexp, prod, einsum, masked_fill_, clamp_min/max, type_as, new_*; and PyTorch's
keyword aliases (keepdims=, axis=, input=).

Each differentiable op: a float64 finite-difference gradcheck, and forward values and
gradients against PyTorch when it is importable; known answers (from torch 2.13, as noted)
run everywhere."""
import numpy as np
import pytest

import microtorch as torch
from microtorch.autograd import gradcheck

_rng = np.random.default_rng(13)


def arr(*shape):
    return _rng.normal(size=shape)


def distinct(*shape):
    """Values without ties (sort, topk, amax, ... are only differentiable away from ties)."""
    return _rng.permutation(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape) / 7 - 1


IDX_GATHER = np.array([[0, 2], [3, 3], [1, 0]])  # repeats: their gradients add up
IDX_SCATTER = np.array([[0, 2], [3, 1], [1, 0]])  # no repeats within a row (scatter's winner is unspecified)

# name: (fn(lib, *tensors), input arrays); float arrays require grad, integer arrays are indices
CASES = {
    "split_int": (lambda T, x: x.split(2, dim=1), [arr(3, 5)]),
    "split_sizes": (lambda T, x: T.split(x, [1, 3, 1], 1), [arr(3, 5)]),
    "split_dim0": (lambda T, x: x.split(2), [arr(5, 2)]),
    "chunk": (lambda T, x: x.chunk(3, 1), [arr(2, 7)]),
    "torch_chunk": (lambda T, x: T.chunk(x, 2), [arr(5, 2)]),
    "unbind": (lambda T, x: T.unbind(x, 1), [arr(2, 3, 2)]),
    "unbind_1d": (lambda T, x: x.unbind(), [arr(4)]),
    "tril": (lambda T, x: T.tril(x), [arr(4, 4)]),
    "tril_diag": (lambda T, x: x.tril(-1), [arr(2, 3, 4)]),
    "triu_diag": (lambda T, x: T.triu(x, 1), [arr(3, 5)]),
    "topk": (lambda T, x: T.topk(x, 3), [distinct(3, 5)]),
    "topk_smallest_dim0": (lambda T, x: x.topk(2, dim=0, largest=False), [distinct(4, 3)]),
    "sort": (lambda T, x: T.sort(x), [distinct(3, 5)]),
    "sort_desc_dim0": (lambda T, x: x.sort(0, descending=True), [distinct(4, 3)]),
    "roll": (lambda T, x: T.roll(x, 1, 1), [arr(3, 4)]),
    "roll_flat": (lambda T, x: x.roll(-2), [arr(3, 4)]),
    "roll_multi": (lambda T, x: x.roll((1, -1), (0, 1)), [arr(3, 4)]),
    "gather_dim1": (lambda T, x, i: T.gather(x, 1, i), [arr(3, 4), IDX_GATHER]),
    "gather_dim0_small": (lambda T, x, i: x.gather(0, i), [arr(4, 5), IDX_GATHER]),
    "scatter_src": (lambda T, x, i, s: x.scatter(1, i, s), [arr(3, 4), IDX_SCATTER, arr(3, 3)]),
    "scatter_src_as_index": (lambda T, x, i, s: x.scatter(1, i, s), [arr(3, 4), IDX_SCATTER, arr(3, 2)]),
    "scatter_value": (lambda T, x, i: T.scatter(x, 1, i, 2.5), [arr(3, 4), IDX_SCATTER]),
    "scatter_add": (lambda T, x, i, s: T.scatter_add(x, 1, i, s), [arr(3, 4), IDX_GATHER, arr(3, 2)]),
    "scatter_add_dim0": (lambda T, x, i, s: x.scatter_add(0, i, s), [arr(4, 3), IDX_GATHER[:, :2], arr(3, 3)]),
    "scatter_add_as_index": (lambda T, x, i, s: x.scatter_add(0, i, s), [arr(4, 3), IDX_GATHER[:, :2], arr(3, 2)]),
    "index_select": (lambda T, x, i: T.index_select(x, 0, i), [arr(4, 3), np.array([2, 0, 2])]),
    "index_select_dim1": (lambda T, x, i: x.index_select(1, i), [arr(2, 4), np.array([3, 3, 1])]),
    "cumsum": (lambda T, x: T.cumsum(x, 1), [arr(3, 4)]),
    "cumsum_dim0": (lambda T, x: x.cumsum(dim=0), [arr(3, 4)]),
    "cumprod": (lambda T, x: T.cumprod(x, 1), [arr(3, 4)]),
    "cumprod_zero": (lambda T, x: x.cumprod(1), [np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 3.0, 0.0, 2.0]])]),
    "amax": (lambda T, x: T.amax(x, 1), [distinct(3, 4)]),
    "amax_tuple_keepdim": (lambda T, x: x.amax((0, 2), keepdim=True), [distinct(2, 3, 4)]),
    "amin_all": (lambda T, x: T.amin(x), [distinct(3, 4)]),
    "logsumexp": (lambda T, x: T.logsumexp(x, 1), [arr(3, 4)]),
    "logsumexp_tuple_keepdim": (lambda T, x: x.logsumexp((0, 1), keepdim=True), [arr(2, 3, 2)]),
    "prod_all": (lambda T, x: x.prod(), [arr(2, 3)]),
    "prod_dim": (lambda T, x: T.prod(x, 1), [arr(3, 4)]),
    "prod_zero_keepdim": (lambda T, x: x.prod(1, keepdim=True), [np.array([[1.5, 0.0, 2.0], [0.0, 3.0, 0.0], [1.0, 2.0, 3.0]])]),
    "masked_fill": (lambda T, x: x.masked_fill(T.tensor([True, False, True]), -1.0), [arr(2, 3)]),
    "clamp_min": (lambda T, x: x.clamp_min(0.1), [arr(3, 4)]),
    "clamp_max": (lambda T, x: T.clamp_max(x, 0.1), [arr(3, 4)]),
    "einsum_matmul": (lambda T, a, b: T.einsum("ij,jk->ik", a, b), [arr(2, 3), arr(3, 4)]),
    "einsum_bmm": (lambda T, a, b: T.einsum("bij,bjk->bik", a, b), [arr(2, 2, 3), arr(2, 3, 2)]),
    "einsum_rowdot": (lambda T, a, b: T.einsum("bi,bi->b", a, b), [arr(3, 4), arr(3, 4)]),
    "einsum_outer": (lambda T, a, b: T.einsum("i,j->ij", a, b), [arr(3), arr(4)]),
    "einsum_ellipsis": (lambda T, a, b: T.einsum("...ij,...jk->...ik", a, b), [arr(2, 2, 3), arr(3, 2)]),
    "einsum_implicit": (lambda T, a, b: T.einsum("ij,jk", a, b), [arr(2, 3), arr(3, 2)]),
    "einsum_implicit_transpose": (lambda T, a: T.einsum("ba", a), [arr(2, 3)]),
    "einsum_list": (lambda T, a, b: T.einsum("ij,kj->ik", [a, b]), [arr(2, 3), arr(4, 3)]),
    "einsum_trace": (lambda T, a: T.einsum("ii", a), [arr(3, 3)]),
    "einsum_diagonal": (lambda T, a: T.einsum("ii->i", a), [arr(3, 3)]),
    "einsum_sum_only_mine": (lambda T, a, b: T.einsum("ij,j->j", a, b), [arr(2, 3), arr(3)]),
    "einsum_broadcast_one": (lambda T, a, b: T.einsum("ij,ij->i", a, b), [arr(3, 1), arr(3, 4)]),
    "einsum_three": (lambda T, a, b, c: T.einsum("ij,jk,k->i", a, b, c), [arr(2, 3), arr(3, 4), arr(4)]),
    "einsum_attention": (lambda T, q, k: T.einsum("bhtd,bhsd->bhts", q, k), [arr(1, 2, 3, 2), arr(1, 2, 3, 2)]),
}


def make(lib, arrays, dtype):
    out = []
    for a in arrays:
        if a.dtype.kind == "f":
            out.append(lib.tensor(a.astype(dtype), requires_grad=True))
        else:
            out.append(lib.tensor(a))
    return out


def float_outputs(result) -> list:
    items = result if isinstance(result, tuple) else (result,)
    return [t for t in items if t.is_floating_point()]


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    fn, arrays = CASES[name]
    inputs = make(torch, arrays, np.float64)
    assert gradcheck(lambda *ts: tuple(float_outputs(fn(torch, *ts))), inputs)


# torch 2.13's scatter backward raises when src is larger than index ("returned an invalid
# gradient"); ours gives src's extra elements a zero gradient (gradchecked above)
TORCH_BACKWARD_FAILS = {"scatter_src", "scatter_add_dim0"}


@pytest.mark.parametrize("name", sorted(set(CASES) - TORCH_BACKWARD_FAILS))
def test_against_torch(name):
    pt = pytest.importorskip("torch")
    fn, arrays = CASES[name]
    ours, theirs = make(torch, arrays, np.float32), make(pt, arrays, np.float32)
    got, want = fn(torch, *ours), fn(pt, *theirs)
    got_items = got if isinstance(got, tuple) else (got,)
    want_items = want if isinstance(want, tuple) else (want,)
    assert len(got_items) == len(want_items)
    for g, w in zip(got_items, want_items):
        assert tuple(g.shape) == tuple(w.shape)
        assert str(g.dtype) == str(w.dtype)  # torch.float32 and torch.float32
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-5, atol=1e-6)
    weights = [_rng.normal(size=tuple(w.shape)).astype(np.float32) for w in float_outputs(want)]
    sum((g * torch.tensor(c)).sum() for g, c in zip(float_outputs(got), weights)).backward()
    sum((w * pt.tensor(c)).sum() for w, c in zip(float_outputs(want), weights)).backward()
    for a, b in zip(ours, theirs):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------- known answers (from torch 2.13)
def test_split_pieces_and_views():
    x = torch.arange(10).view(2, 5)
    pieces = x.split(2, dim=1)
    assert [p.tolist() for p in pieces] == [[[0, 1], [5, 6]], [[2, 3], [7, 8]], [[4], [9]]]
    assert [tuple(p.shape) for p in torch.split(x, [1, 4], 1)] == [(2, 1), (2, 4)]
    assert [tuple(p.shape) for p in x.chunk(4, 1)] == [(2, 2), (2, 2), (2, 1)]  # ceil(5/4) = 2: three chunks
    assert len(torch.zeros(0).split(2)) == 1  # an empty dim is one empty piece, as in PyTorch
    q, k, v = torch.zeros(2, 3, 12).split(4, dim=2)  # makemore's attention: c_attn(x).split(n_embd, dim=2)
    assert tuple(q.shape) == tuple(k.shape) == tuple(v.shape) == (2, 3, 4)


def test_split_piece_gradients_accumulate():
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    a, b = x.split([2, 1], 1)
    (a.sum() * 2 + (b * b).sum()).backward()
    assert x.grad.tolist() == [[2.0, 2.0, 6.0], [2.0, 2.0, 12.0]]


def test_unbind_recombines_as_in_the_mlp_lecture():
    emb = torch.arange(24.0).view(4, 3, 2)
    parts = torch.unbind(emb, 1)
    assert len(parts) == 3 and tuple(parts[0].shape) == (4, 2)
    assert torch.equal(torch.cat(parts, 1), emb.view(4, 6))


def test_tril_of_ones_is_the_causal_mask():
    mask = torch.tril(torch.ones(3, 3))
    assert mask.tolist() == [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    assert torch.triu(torch.ones(2, 3), 1).tolist() == [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
    wei = torch.zeros(3, 3).masked_fill(mask == 0, float("-inf")).softmax(-1)
    assert np.allclose(wei.numpy(), [[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_topk_and_sort_known_answers():
    x = torch.tensor([[0.1, 0.7, 0.3, 0.7], [2.0, -1.0, 0.5, 1.0]])
    values, indices = torch.topk(x, 2)
    assert values.tolist() == [[pytest.approx(0.7), pytest.approx(0.7)], [2.0, 1.0]]
    assert indices.tolist() == [[1, 3], [0, 3]]  # the tie in row 0: torch 2.13 gives [1, 3]
    assert indices.dtype == torch.int64
    s = torch.tensor([3, 1, 2, 1]).sort(descending=True, stable=True)
    assert s.values.tolist() == [3, 2, 1, 1] and s.indices.tolist() == [0, 2, 1, 3]
    s = torch.tensor([3, 1, 2, 1]).sort(stable=True)
    assert s.values.tolist() == [1, 1, 2, 3] and s.indices.tolist() == [1, 3, 2, 0]
    assert torch.argsort(torch.tensor([0.5, -1.0, 2.0]), descending=True).tolist() == [2, 0, 1]
    nan = torch.tensor([1.0, float("nan"), 0.0])
    assert nan.sort().indices.tolist() == [2, 0, 1] and nan.sort(descending=True).indices.tolist() == [1, 0, 2]
    t = torch.tensor(3.0).topk(1)
    assert tuple(t.values.shape) == () and t.indices.item() == 0
    assert type(values).__name__ != "tuple" and x.sort(1).values is not None  # a namedtuple


def test_topk_crops_logits_as_makemore_does():
    logits = torch.tensor([[1.0, 4.0, 2.0, 3.0], [0.0, -1.0, 5.0, 1.0]])
    v, _ = torch.topk(logits, 2)
    logits[logits < v[:, [-1]]] = -float("Inf")
    assert logits.tolist() == [[-float("inf"), 4.0, -float("inf"), 3.0], [-float("inf"), -float("inf"), 5.0, 1.0]]
    _, idx_next = torch.topk(logits.softmax(-1), k=1, dim=-1)
    assert idx_next.tolist() == [[1], [2]]


def test_roll_makemore_mlp_context():
    idx = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    rolled = torch.roll(idx, 1, 1)
    rolled[:, 0] = 27
    assert rolled.tolist() == [[27, 1, 2, 3], [27, 5, 6, 7]]
    assert idx.roll(1).tolist() == [[8, 1, 2, 3], [4, 5, 6, 7]]  # no dims: over the flattened tensor


def test_gather_scatter_known_answers():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert torch.gather(x, 1, torch.tensor([[0, 0], [1, 0]])).tolist() == [[1.0, 1.0], [4.0, 3.0]]
    z = torch.zeros(3, 5)
    src = torch.arange(1.0, 11.0).view(2, 5)
    # torch.zeros(3, 5).scatter_(0, index, src) from PyTorch's documentation example
    out = z.scatter(0, torch.tensor([[0, 1, 2, 0]]), src)
    assert out.tolist() == [[1.0, 0.0, 0.0, 4.0, 0.0], [0.0, 2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0, 0.0]]
    assert z.sum().item() == 0  # out of place
    z.scatter_(1, torch.tensor([[2], [3]]), 1.23)
    assert z[0, 2].item() == pytest.approx(1.23) and z[1, 3].item() == pytest.approx(1.23) and z.sum().item() == pytest.approx(2.46)
    counts = torch.zeros(5, dtype=torch.long).scatter_add_(0, torch.tensor([1, 3, 1, 1]), torch.ones(4, dtype=torch.long))
    assert counts.tolist() == [0, 3, 0, 1, 0]
    assert torch.arange(4).scatter(0, torch.tensor([0, 1]), 2.5).tolist() == [2, 2, 2, 3]  # the value takes self's dtype


def test_scatter_gradients_known_answer():
    x = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    s = torch.tensor([[5.0, 6.0]], dtype=torch.float64, requires_grad=True)
    out = x.scatter(1, torch.tensor([[2, 0]]), s)
    (out * torch.arange(6.0, dtype=torch.float64).view(2, 3)).sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [3.0, 4.0, 5.0]]  # overwritten places get nothing
    assert s.grad.tolist() == [[2.0, 0.0]]


def test_index_select_repeats_sum():
    x = torch.arange(6.0, dtype=torch.float64).view(3, 2).requires_grad_()
    y = torch.index_select(x, 0, torch.tensor([2, 2, 0]))
    assert y.tolist() == [[4.0, 5.0], [4.0, 5.0], [0.0, 1.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]


def test_cumsum_cumprod_dtypes_and_values():
    assert torch.tensor([1, 2, 3], dtype=torch.int32).cumsum(0).dtype == torch.int64  # as in PyTorch
    assert torch.tensor([True, True, False]).cumsum(0).tolist() == [1, 2, 2]
    assert torch.tensor([1.0, 2.0, 3.0]).cumsum(0, dtype=torch.float64).dtype == torch.float64
    assert torch.tensor([[1.0, 2.0], [3.0, 4.0]]).cumprod(1).tolist() == [[1.0, 2.0], [3.0, 12.0]]
    x = torch.tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True)
    x.cumprod(0).sum().backward()
    # torch 2.13: tensor([1., 32., 0., 0.]) -- the zero's own derivative is 2 + 2*3 + 2*3*4
    assert x.grad.tolist() == [1.0, 32.0, 0.0, 0.0]


def test_amax_ties_share_the_gradient_equally():
    x = torch.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    x.amax(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]]  # torch 2.13
    y = torch.tensor([4.0, 4.0, 4.0, 1.0], requires_grad=True)
    y.amin().backward()
    assert y.grad.tolist() == [0.0, 0.0, 0.0, 1.0]
    z = torch.tensor([4.0, 4.0, 1.0], requires_grad=True)
    z.amax(dim=()).backward()
    assert z.grad.tolist() == [0.5, 0.5, 0.0]


def test_logsumexp_is_stable_and_floats_ints():
    big = torch.tensor([1000.0, 1000.0])
    assert big.logsumexp(0).item() == pytest.approx(1000.0 + np.log(2.0))
    assert torch.logsumexp(torch.tensor([-float("inf"), 0.0]), 0).item() == 0.0
    assert torch.logsumexp(torch.tensor([float("inf"), 0.0]), 0).item() == float("inf")
    ints = torch.arange(3).logsumexp(0)
    assert ints.dtype == torch.float32 and ints.item() == pytest.approx(np.log(np.exp([0, 1, 2]).sum()), rel=1e-6)
    with pytest.raises(TypeError):
        torch.logsumexp(big)  # dim is required, as in PyTorch


def test_prod_known_answers():
    assert torch.tensor([[1, 2], [3, 4]]).prod().item() == 24
    assert torch.tensor([[1, 2], [3, 4]]).prod(1).tolist() == [2, 12]
    x = torch.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]


def test_einsum_known_answers():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert torch.einsum("ij,jk->ik", a, a).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert torch.einsum("ii", a).item() == 5.0
    assert torch.einsum("ii->i", a).tolist() == [1.0, 4.0]
    assert torch.einsum("ij->", a).item() == 10.0
    assert tuple(torch.einsum("bA", torch.zeros(2, 3)).shape) == (3, 2)  # implicit: 'A' sorts before 'b'
    assert tuple(torch.einsum("...ij->ij", torch.zeros(4, 2, 3)).shape) == (2, 3)  # the ellipsis is summed
    assert torch.einsum("i,j->ij", torch.tensor([1, 2]), torch.tensor([3, 4])).tolist() == [[3, 4], [6, 8]]


def test_einsum_gradient_on_a_diagonal():
    a = torch.ones(3, 3, dtype=torch.float64, requires_grad=True)
    (torch.einsum("ii->i", a) * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
    assert a.grad.tolist() == [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: torch.einsum("ij,jk->ik", torch.zeros(2, 3), torch.zeros(4, 2)), "einsum(): subscript j has size 4 for operand 1 which does not broadcast with previously seen size 3"),
        (lambda: torch.einsum("ij,jk->ik", torch.zeros(2, 3)), "einsum(): fewer operands were provided than specified in the equation"),
        (lambda: torch.einsum("ij", torch.zeros(2, 3), torch.zeros(2)), "einsum(): more operands were provided than specified in the equation"),
        (lambda: torch.einsum("ij->ii", torch.zeros(2, 3)), "einsum(): output subscript i appears more than once in the output"),
        (lambda: torch.einsum("ij->k", torch.zeros(2, 3)), "einsum(): output subscript k does not appear in the equation for any input operand"),
        (lambda: torch.einsum("i", torch.zeros(2, 3)), "einsum(): the number of subscripts in the equation (1) does not match the number of dimensions (2) for operand 0 and no ellipsis was given"),
        (lambda: torch.einsum("i1", torch.zeros(2)), "einsum(): invalid subscript given at index 1 in the equation string, subscripts must be in [a-zA-Z]"),
        (lambda: torch.einsum("ii->i", torch.zeros(2, 3)), "einsum(): subscript i is repeated for operand 0 but the sizes don't match, 2 != 3"),
        (lambda: torch.einsum("ij,jk", torch.zeros(2, 3), torch.zeros(3, 2, dtype=torch.float64)), "expected scalar type Float but found Double"),
    ],
)
def test_einsum_errors(call, message):
    with pytest.raises(RuntimeError) as e:
        call()
    assert str(e.value) == message


# ---------------------------------------------------------------------- errors with PyTorch's wording
X = torch.zeros(4, 6)
I_LONG = torch.tensor([[0, 1]])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: torch.arange(5.0).tril(), RuntimeError, "tril: input tensor must have at least 2 dimensions"),
        (lambda: X.topk(7), RuntimeError, "selected index k out of range"),
        (lambda: X.gather(1, torch.tensor([[0, 7]])), RuntimeError, "index 7 is out of bounds for dimension 1 with size 6"),
        (lambda: X.gather(1, torch.tensor([[0, -1]])), RuntimeError, "index -1 is out of bounds for dimension 1 with size 6"),
        (lambda: X.gather(1, torch.tensor([0, 1])), RuntimeError, "Index tensor must have the same number of dimensions as input tensor"),
        (lambda: X.gather(1, torch.zeros(5, 1, dtype=torch.long)), RuntimeError, "Size does not match at dimension 0 expected index [5, 1] to be no larger than self [4, 6] apart from dimension 1"),
        (lambda: X.gather(1, torch.tensor([[0.0, 1.0]])), RuntimeError, "gather(): Expected dtype int32/int64 for index"),
        (lambda: X.scatter(1, I_LONG, torch.ones(1, 1)), RuntimeError, "Expected index [1, 2] to be no larger than self [4, 6] apart from dimension 1 and to be no larger size than src [1, 1]"),
        (lambda: X.scatter_add(1, I_LONG, torch.ones(1, 2, dtype=torch.float64)), RuntimeError, "scatter(): Expected self.dtype to be equal to src.dtype"),
        (lambda: X.index_select(0, torch.tensor([0, -1])), IndexError, "index out of range in self"),
        (lambda: X.index_select(0, torch.tensor([9])), IndexError, "index out of range in self"),
        (lambda: X.index_select(0, torch.tensor([[0, 1]])), IndexError, "index_select(): Index is supposed to be a vector"),
        (lambda: X.index_select(0, torch.tensor([0.0])), RuntimeError, "index_select(): Expected dtype int32 or int64 for index"),
        (lambda: X.split(0), RuntimeError, "split_size can only be 0 if dimension size is 0, but got dimension size of 4"),
        (lambda: X.split([2, 3], 1), RuntimeError, "split_with_sizes expects split_sizes to sum exactly to 6 (input tensor's size at dimension 1), but got split_sizes=[2, 3]"),
        (lambda: torch.tensor(3.0).split(1), RuntimeError, "split expects at least a 1-dimensional tensor"),
        (lambda: X.chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0, got: 0"),
        (lambda: X.unbind(2), IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
        (lambda: torch.tensor(3.0).unbind(0), IndexError, "Dimension specified as 0 but tensor has no dimensions"),
        (lambda: X.roll((1, 2), (0,)), RuntimeError, "shifts and dimensions must align. shifts: 2, dims:1"),
        (lambda: torch.tensor([]).amax(), RuntimeError, "amax(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."),
        (lambda: X.amax(dim=(0, 0)), RuntimeError, "dim 0 appears multiple times in the list of dims"),
        (lambda: X.masked_fill_(torch.tensor([1, 0, 0, 0, 0, 0]), 2.0), RuntimeError, "masked_fill_ only supports boolean masks, but got mask with dtype long int"),
    ],
)
def test_errors(call, error, message):
    with pytest.raises(error) as e:
        call()
    assert str(e.value) == message


def test_in_place_variants_refuse_a_leaf_that_requires_grad():
    w = torch.zeros(2, 3, requires_grad=True)
    for call in (lambda: w.scatter_(1, torch.tensor([[0]]), 1.0), lambda: w.masked_fill_(torch.tensor([True, False, True]), 1.0),
                 lambda: w.scatter_add_(1, torch.tensor([[0]]), torch.ones(1, 1))):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation."):
            call()
    with torch.no_grad():
        w.masked_fill_(torch.tensor([True, False, True]), 1.0)
    assert w.detach().tolist() == [[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]]


def test_no_graph_in_no_grad_and_inference_mode():
    x = torch.randn(3, 4, requires_grad=True)
    with torch.no_grad():
        assert not x.topk(2).values.requires_grad and not x.split(2)[0].requires_grad
    with torch.inference_mode():
        assert not torch.einsum("ij->i", x).requires_grad and not x.cumsum(1).requires_grad
    assert x.logsumexp(1).requires_grad and x.unbind(0)[0].requires_grad


# ---------------------------------------------------------------------- small helpers the programs use
def test_helpers():
    x = torch.tensor([[1.0, -2.0], [3.0, -4.0]])
    assert x.clamp_min(0).tolist() == [[1.0, 0.0], [3.0, 0.0]] and torch.clamp_max(x, 0).tolist() == [[0.0, -2.0], [0.0, -4.0]]
    assert x.type_as(torch.zeros(1, dtype=torch.float64)).dtype == torch.float64
    assert x.new_zeros(2, 3).dtype == torch.float32 and tuple(x.new_zeros((2, 3)).shape) == (2, 3)
    assert x.new_ones(2, dtype=torch.long).tolist() == [1, 1]
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0] and x.new_tensor([1, 2]).dtype == torch.float32
    assert x.new_zeros(2, requires_grad=True).requires_grad
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        x.new_zeros(2, device="cuda")
    assert torch.equal(x, x.clone()) and not torch.equal(x, x[:1]) and torch.equal(x, x.double())
    assert x.masked_fill_(x < 0, 0.0) is x and x.tolist() == [[1.0, 0.0], [3.0, 0.0]]


# ---------------------------------------------------------------------- PyTorch's keyword aliases
def test_keepdims_as_in_the_bigrams_notebook():
    N = torch.ones(3, 3, dtype=torch.int32)
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)
    assert np.allclose(P.sum(1).numpy(), 1.0) and tuple(P.sum(1, keepdims=True).shape) == (3, 1)
    assert tuple(torch.sum(P, 1, keepdims=True).shape) == (3, 1)
    assert tuple(torch.sum(input=P, dim=1).shape) == (3,)


ALIAS_CASES = {
    "sum": (lambda t: t.sum(axis=1, keepdims=True), lambda t: t.sum(dim=1, keepdim=True)),
    "torch.sum": (lambda t: torch.sum(t, axis=(0, 1)), lambda t: t.sum((0, 1))),
    "mean": (lambda t: torch.mean(t, 0, keepdims=True), lambda t: t.mean(0, keepdim=True)),
    "var": (lambda t: t.var(axis=1, keepdims=True), lambda t: t.var(1, keepdim=True)),
    "std": (lambda t: torch.std(t, axis=0), lambda t: t.std(0)),
    "max": (lambda t: t.max(axis=1, keepdims=True).values, lambda t: t.max(1, keepdim=True).values),
    "torch.min": (lambda t: torch.min(t, axis=0).indices, lambda t: t.min(0).indices),
    "amax": (lambda t: t.amax(axis=(0, 1), keepdims=True), lambda t: t.amax((0, 1), keepdim=True)),
    "torch.amin": (lambda t: torch.amin(t, axis=1), lambda t: t.amin(1)),
    "logsumexp": (lambda t: t.logsumexp(axis=1, keepdims=True), lambda t: t.logsumexp(1, keepdim=True)),
    "prod": (lambda t: torch.prod(t, axis=1, keepdims=True), lambda t: t.prod(1, keepdim=True)),
    "argmax": (lambda t: t.argmax(axis=1, keepdims=True), lambda t: t.argmax(1, keepdim=True)),
    "argmin": (lambda t: torch.argmin(t, axis=0), lambda t: t.argmin(0)),
    "any": (lambda t: (t > 0).any(axis=1, keepdims=True), lambda t: (t > 0).any(1, keepdim=True)),
    "all": (lambda t: torch.all(t > 0, axis=0), lambda t: (t > 0).all(0)),
    "softmax": (lambda t: torch.softmax(t, axis=1), lambda t: t.softmax(1)),
    "log_softmax": (lambda t: t.log_softmax(axis=0), lambda t: t.log_softmax(0)),
    "cat": (lambda t: torch.cat([t, t], axis=1), lambda t: torch.cat([t, t], 1)),
    "stack": (lambda t: torch.stack([t, t], axis=2), lambda t: torch.stack([t, t], 2)),
    "unsqueeze": (lambda t: torch.unsqueeze(t, axis=0), lambda t: t.unsqueeze(0)),
    "squeeze": (lambda t: t[:1].squeeze(axis=0), lambda t: t[:1].squeeze(0)),
    "cumsum": (lambda t: torch.cumsum(t, axis=1), lambda t: t.cumsum(1)),
    "split": (lambda t: t.split(1, axis=1)[1], lambda t: t.split(1, 1)[1]),
    "unbind": (lambda t: torch.unbind(t, axis=1)[0], lambda t: t.unbind(1)[0]),
    "sort": (lambda t: t.sort(axis=0).values, lambda t: t.sort(0).values),
    "topk": (lambda t: torch.topk(t, 1, axis=0).values, lambda t: t.topk(1, 0).values),
    "gather": (lambda t: t.gather(axis=1, index=torch.tensor([[0], [1]])), lambda t: t.gather(1, torch.tensor([[0], [1]]))),
    "index_select": (lambda t: torch.index_select(t, axis=1, index=torch.tensor([1])), lambda t: t.index_select(1, torch.tensor([1]))),
    "size": (lambda t: t.size(axis=1), lambda t: t.size(1)),
}


@pytest.mark.parametrize("name", ALIAS_CASES)
def test_numpy_style_aliases(name):
    alias, plain = ALIAS_CASES[name]
    t = torch.tensor([[0.5, -1.0, 2.0], [1.5, 3.0, -0.5]])
    got, want = alias(t), plain(t)
    if isinstance(want, int):
        assert got == want
    else:
        assert tuple(got.shape) == tuple(want.shape) and got.dtype == want.dtype and torch.equal(got, want)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: t.sum(1, keepdim=True, keepdims=True), "sum() got an unexpected keyword argument 'keepdims'"),
        (lambda t: t.sum(dim=1, axis=1), "sum() got an unexpected keyword argument 'axis'"),
        (lambda t: torch.mean(t, 1, axis=1), "mean() got an unexpected keyword argument 'axis'"),
        (lambda t: t.cumsum(dim=1, axis=1), "cumsum() got an unexpected keyword argument 'axis'"),
        (lambda t: t.max(1, keepdims=True, keepdim=True), "max() got an unexpected keyword argument 'keepdims'"),
    ],
)
def test_a_name_and_its_alias_is_a_type_error(call, message):
    with pytest.raises(TypeError) as e:
        call(torch.ones(2, 3))
    assert str(e.value) == message


def test_unknown_keywords_are_type_errors():
    t = torch.ones(2, 3)
    for call in (lambda: t.sum(1, foo=True), lambda: torch.sum(t, bar=1), lambda: t.topk(1, foo=0), lambda: torch.cumsum(t, 1, nope=1)):
        with pytest.raises(TypeError):
            call()


def test_aliases_against_torch():
    pt = pytest.importorskip("torch")
    a = _rng.normal(size=(3, 4)).astype(np.float32)
    for name in ("sum", "mean", "amax", "amin", "logsumexp", "prod", "std", "var"):
        ours = getattr(torch, name)(torch.tensor(a), axis=1, keepdims=True)
        theirs = getattr(pt, name)(pt.tensor(a), axis=1, keepdims=True)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- device= on the factories
FACTORIES = {
    "tensor": lambda d: torch.tensor([1, 2], device=d),
    "as_tensor": lambda d: torch.as_tensor([1.0], device=d),
    "zeros_long": lambda d: torch.zeros((1, 1), dtype=torch.long, device=d),
    "ones": lambda d: torch.ones(2, 3, device=d),
    "empty": lambda d: torch.empty(2, device=d),
    "full": lambda d: torch.full((2,), 1.5, device=d),
    "zeros_like": lambda d: torch.zeros_like(torch.ones(2), device=d),
    "ones_like": lambda d: torch.ones_like(torch.ones(2), device=d),
    "full_like": lambda d: torch.full_like(torch.ones(2), 3, device=d),
    "empty_like": lambda d: torch.empty_like(torch.ones(2), device=d),
    "arange": lambda d: torch.arange(0, 3, dtype=torch.long, device=d),
    "linspace": lambda d: torch.linspace(0, 1, 3, device=d),
    "eye": lambda d: torch.eye(2, device=d),
    "new_zeros": lambda d: torch.ones(1).new_zeros(2, device=d),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_factories_take_device(name):
    make = FACTORIES[name]
    assert torch.equal(make("cpu"), make(None))
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        make("cuda")
    with pytest.raises(RuntimeError):
        make("mps")


# ---------------------------------------------------------------------- inference_mode (makemore.py's evaluate)
def test_inference_mode_states_as_in_pytorch():
    # (grad enabled, inference mode enabled) in each situation, as torch 2.13 reports them
    with torch.inference_mode():
        assert (torch.is_grad_enabled(), torch.is_inference_mode_enabled()) == (False, True)
        with torch.inference_mode(False):
            assert (torch.is_grad_enabled(), torch.is_inference_mode_enabled()) == (True, False)
        with torch.enable_grad():
            assert (torch.is_grad_enabled(), torch.is_inference_mode_enabled()) == (True, True)
    with torch.no_grad(), torch.inference_mode(mode=False):
        assert (torch.is_grad_enabled(), torch.is_inference_mode_enabled()) == (True, False)
    assert (torch.is_grad_enabled(), torch.is_inference_mode_enabled()) == (True, False)


def test_inference_mode_decorates_with_and_without_parentheses():
    w = torch.ones(2, requires_grad=True)

    @torch.inference_mode()
    def evaluate(x):
        """doc"""
        return (x * w).sum(), torch.is_inference_mode_enabled()

    @torch.inference_mode
    def bare(x):
        return x * w

    @torch.inference_mode(mode=False)
    def off(x):
        return x * w

    loss, inside = evaluate(torch.ones(2))
    assert not loss.requires_grad and inside and evaluate.__doc__ == "doc"
    assert not bare(torch.ones(2)).requires_grad
    with torch.no_grad():
        assert off(torch.ones(2)).requires_grad  # mode=False turns grad mode back on, as in PyTorch
    assert not torch.is_inference_mode_enabled() and torch.is_grad_enabled()


def test_inference_mode_restores_after_an_exception():
    with pytest.raises(ValueError):
        with torch.inference_mode():
            raise ValueError
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()


# ---------------------------------------------------------------------- grad_fn names and saved tensors
NAMES = {  # torch 2.13's grad_fn names for the same calls
    "SplitBackward0": lambda T, x: x.split(2, 1)[0],
    "SplitWithSizesBackward0": lambda T, x: x.split([2, 4], 1)[1],
    "UnbindBackward0": lambda T, x: x.unbind(1)[0],
    "TrilBackward0": lambda T, x: x.tril(),
    "TriuBackward0": lambda T, x: x.triu(1),
    "TopkBackward0": lambda T, x: x.topk(2)[0],
    "SortBackward0": lambda T, x: x.sort()[0],
    "RollBackward0": lambda T, x: x.roll(1, 1),
    "GatherBackward0": lambda T, x: x.gather(1, T.tensor([[0, 1]] * 4)),
    "ScatterBackward0": lambda T, x: x.scatter(1, T.tensor([[0, 1]] * 4), x[:, :2]),
    "ScatterBackward1": lambda T, x: x.scatter(1, T.tensor([[0, 1]] * 4), 2.0),
    "ScatterAddBackward0": lambda T, x: x.scatter_add(1, T.tensor([[0, 1]] * 4), x[:, :2]),
    "IndexSelectBackward0": lambda T, x: x.index_select(0, T.tensor([0, 0, 2])),
    "CumsumBackward0": lambda T, x: x.cumsum(1),
    "CumprodBackward0": lambda T, x: x.cumprod(1),
    "AmaxBackward0": lambda T, x: x.amax(1),
    "AminBackward0": lambda T, x: x.amin((0, 1)),
    "LogsumexpBackward0": lambda T, x: x.logsumexp(1),
    "ProdBackward0": lambda T, x: x.prod(),
    "ProdBackward1": lambda T, x: x.prod(1),
}


@pytest.mark.parametrize("name", NAMES)
def test_grad_fn_names_are_pytorchs(name):
    y = NAMES[name](torch, torch.randn(4, 6, requires_grad=True))
    assert y.grad_fn.name() == name


def test_grad_fn_names_against_torch():
    pt = pytest.importorskip("torch")
    for name, call in NAMES.items():
        assert type(call(pt, pt.randn(4, 6, requires_grad=True)).grad_fn).__name__ == name


def test_an_index_changed_in_place_before_backward_raises():
    x = torch.randn(3, 4, requires_grad=True)
    index = torch.tensor([[0, 1], [2, 3], [1, 1]])
    y = x.gather(1, index)
    index[0, 0] = 3  # backward would scatter to the wrong places: PyTorch raises, so do we
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation has been modified by an inplace operation"):
        y.sum().backward()


def test_a_modified_input_of_cumprod_raises_and_saved_state_is_freed():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 1
    y = h.cumprod(0)
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    z = x.logsumexp(0)
    z.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        z.backward()
    w = x.cumsum(0).sum()  # cumsum saves nothing: a second backward is allowed, as in PyTorch
    w.backward(retain_graph=True)
    w.backward()
    assert x.grad is not None


def test_scatter_in_place_on_a_graph_tensor_is_recorded():
    x = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    s = torch.tensor([[5.0, 6.0]], dtype=torch.float64, requires_grad=True)
    y = x * 2
    y.scatter_(1, torch.tensor([[2, 0]]), s)
    y.scatter_add_(1, torch.tensor([[1], [1]]), s.t())
    (y * torch.arange(6.0, dtype=torch.float64).view(2, 3)).sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0, 0.0], [6.0, 8.0, 10.0]]
    assert s.grad.tolist() == [[2.0 + 1.0, 0.0 + 4.0]]
    assert y.grad_fn.name() == "ScatterAddBackward0"


def test_masked_fill_in_place_on_a_graph_tensor_is_recorded():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 3
    y.masked_fill_(torch.tensor([False, True, False]), 0.0)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 3.0]
