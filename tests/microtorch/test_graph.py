"""The graph as PyTorch's: grad_fn nodes (names, next_functions, AccumulateGrad), version counters
and the saved-tensor check, the graph's lifetime (freed by backward, retain_graph), autograd.grad."""
import re

import numpy as np
import pytest

import microtorch as torch
import microtorch.nn.functional as F
from microtorch import autograd

VERSION_ERROR = "one of the variables needed for gradient computation has been modified by an inplace operation: "
SECOND_BACKWARD = "Trying to backward through the graph a second time"


# ---------------------------------------------------------------------- version counters
def test_version_counter_is_shared_by_a_base_and_its_views():
    x = torch.zeros(3, 4)
    views = [x[0], x[:, 1:], x.view(12), x.reshape(2, 6), x.t(), x.T, x.permute(1, 0), x.transpose(0, 1),
             x.unsqueeze(0), x[None].squeeze(0), x.flatten(), x.detach(), x[0][1:]]
    assert x._version == 0 and all(v._version == 0 for v in views)
    x.add_(1)
    assert x._version == 1 and all(v._version == 1 for v in views)
    views[0].mul_(2)  # through a view: the base and every other view see it
    assert x._version == 2 and all(v._version == 2 for v in views)
    assert x[0].tolist() == [2.0] * 4


def test_copies_and_data_have_their_own_counter():
    x = torch.zeros(3)
    copies = [x.clone(), x + 0, x[[0, 1]], x.data]
    x.add_(1)
    assert [c._version for c in copies] == [0, 0, 0, 0]
    copies[-1].add_(1)  # through .data: x's counter is not bumped (PyTorch does not detect it)
    assert x._version == 1 and x.tolist() == [2.0, 2.0, 2.0]


def test_every_in_place_op_bumps_the_version():
    t = torch.zeros(2, 2)
    ops = [lambda: t.add_(1), lambda: t.sub_(1), lambda: t.mul_(2), lambda: t.div_(2), lambda: t.clamp_(0, 1),
           lambda: t.masked_fill_(t > 0, 0.0), lambda: t.relu_(), lambda: t.tanh_(), lambda: t.exp_(), lambda: t.copy_(torch.ones(2)),
           lambda: t.zero_(), lambda: t.fill_(1.0), lambda: t.__setitem__(0, 3.0), lambda: t.__setitem__(t > 2, 0.0),
           lambda: t.__iadd__(1), lambda: t.normal_(), lambda: t.uniform_()]
    for k, op in enumerate(ops, 1):
        op()
        assert t._version == k


@pytest.mark.parametrize(
    "build, message",
    [
        # known answers: PyTorch 2.13's messages for the same code
        (lambda x: (lambda y: (y.add_(1), y)[1])(x.tanh()), "[torch.DoubleTensor [3, 4]], which is output 0 of Tanh, is at version 1; expected version 0 instead."),
        (lambda x: (lambda y: (y.mul_(2), y)[1])(x.exp()), "[torch.DoubleTensor [3, 4]], which is output 0 of Exp, is at version 1; expected version 0 instead."),
        (lambda x: (lambda y: (lambda z: (y.add_(1), z)[1])(y * y))(x * 1.0), "[torch.DoubleTensor [3, 4]], which is output 0 of Add, is at version 1; expected version 0 instead."),
        (lambda x: (lambda y: (lambda z: (y[0].add_(1), z)[1])(y * y))(x * 1.0), "[torch.DoubleTensor [3, 4]], which is output 0 of torch::autograd::CopySlices, is at version 1; expected version 0 instead."),
        (lambda x: (lambda y: (y.__setitem__(0, 0.0), y)[1])(x.sigmoid()), "[torch.DoubleTensor [3, 4]], which is output 0 of Sigmoid, is at version 1; expected version 0 instead."),
        (lambda x: (lambda y: (lambda z: (y.detach().zero_(), z)[1])(y @ torch.ones(4, 2, dtype=torch.float64, requires_grad=True)))(x * 1.0), "[torch.DoubleTensor [3, 4]], which is output 0 of Mul, is at version 1; expected version 0 instead."),
    ],
)
def test_a_saved_tensor_modified_in_place_raises_at_backward(build, message):
    x = torch.ones(3, 4, dtype=torch.float64, requires_grad=True)
    out = build(x)
    with pytest.raises(RuntimeError, match="^" + re.escape(VERSION_ERROR + message)):
        out.sum().backward()


def test_a_saved_leaf_without_grad_modified_in_place_raises_without_producer():
    w = torch.ones(3, requires_grad=True)
    a = torch.ones(3)
    y = w * a
    a += 1
    with pytest.raises(RuntimeError, match=re.escape("[torch.FloatTensor [3]] is at version 1; expected version 0 instead.")):
        y.sum().backward()


def test_an_input_is_saved_only_for_the_other_inputs_gradient():
    # as PyTorch's mul and mm: a is saved for b's gradient, so with b constant changing a is fine
    x = torch.ones(3, 4, requires_grad=True)
    y = x * 1.0
    z = y @ torch.ones(4, 2)
    y.zero_()
    z.sum().backward()
    assert x.grad.tolist() == [[2.0] * 4] * 3  # through y's history before zero_ (z was made before)


def test_an_op_that_saves_nothing_does_not_mind_in_place_changes():
    x = torch.ones(3, requires_grad=True)
    y = x * 1.0
    z = (y + 1).sum()  # add and sum save nothing
    y.mul_(5)
    z.backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_the_version_check_matches_torch():
    real = pytest.importorskip("torch")

    def message(lib):
        x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        y = x.tanh()
        z = y * 1.0
        z.add_(1)
        y.mul_(2)
        try:
            (z * y).sum().backward()
        except RuntimeError as e:
            return str(e).split(" Hint")[0]

    assert message(torch) == message(real)


# ---------------------------------------------------------------------- the graph's lifetime
def test_backward_frees_the_graph_and_a_second_backward_raises():
    x = torch.ones(3, requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="^" + SECOND_BACKWARD + r" \(or directly access saved tensors after they have already been freed\)\. .*Specify retain_graph=True"):
        loss.backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]  # not doubled


def test_retain_graph_keeps_it_and_gradients_accumulate():
    x = torch.ones(3, requires_grad=True)
    loss = F.cross_entropy((x * 2).tanh().unsqueeze(0), torch.tensor([1]))
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * first)
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        loss.backward()


def test_a_graph_without_saved_tensors_can_run_twice():
    x = torch.ones(3, requires_grad=True)
    y = (x + 1).sum()  # as in PyTorch: nothing saved, nothing freed
    y.backward()
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_create_graph_is_refused_with_a_clear_message():
    x = torch.ones(1, requires_grad=True)
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        (x * x).sum().backward(create_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        autograd.grad((x * x).sum(), x, create_graph=True)


def test_deep_chains_still_work():
    x = torch.ones(1, requires_grad=True)
    y = x
    for _ in range(20000):
        y = y + 0.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


# ---------------------------------------------------------------------- autograd.grad and backward
def test_grad_returns_gradients_without_touching_dot_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = autograd.grad(y, (x, w))
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        autograd.grad(y, x)


def test_grad_of_a_non_leaf_and_with_grad_outputs():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    h = x * 3
    y = h.tanh()
    (gh,) = autograd.grad(y, h, grad_outputs=torch.tensor([1.0, 0.5], dtype=torch.float64), retain_graph=True)
    np.testing.assert_allclose(gh.numpy(), [1 - np.tanh(3.0) ** 2, 0.5 * (1 - np.tanh(6.0) ** 2)], rtol=1e-6)
    (gx,) = autograd.grad(y.sum(), x)
    np.testing.assert_allclose(gx.numpy(), 3 * (1 - np.tanh([3.0, 6.0]) ** 2), rtol=1e-6)


def test_grad_unused_inputs():
    x = torch.ones(2, requires_grad=True)
    unused = torch.ones(2, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="^One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True"):
        autograd.grad(y, (x, unused), retain_graph=True)
    gx, gu = autograd.grad(y, (x, unused), allow_unused=True, retain_graph=True)
    assert gx.tolist() == [2.0, 2.0] and gu is None
    gx, gu = autograd.grad(y, (x, unused), materialize_grads=True)
    assert gu.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="^One of the differentiated Tensors does not require grad$"):
        autograd.grad((x * 2).sum(), torch.ones(2))


def test_grad_runs_only_the_nodes_it_needs():
    x = torch.ones(2, requires_grad=True)
    w = torch.ones(2, requires_grad=True)
    a = x * 2
    b = (w * 3).exp()  # not between y and a: its saved state must survive
    y = (a * b).sum()
    (ga,) = autograd.grad(y, a)
    np.testing.assert_allclose(ga.numpy(), np.exp([3.0, 3.0]), rtol=1e-6)
    b.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 3 * np.exp([3.0, 3.0]), rtol=1e-6)


def test_autograd_backward_of_several_outputs():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    autograd.backward([(x * x).sum(), x * 3], [None, torch.tensor([1.0, 1.0])])
    assert x.grad.tolist() == [5.0, 7.0]


def test_grad_matches_torch():
    real = pytest.importorskip("torch")

    def grads(lib):
        x = lib.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([[1.5, 0.5], [-0.5, 1.0]], dtype=lib.float64, requires_grad=True)
        h = (x @ w).tanh()
        y = (h * h + x).sum()
        return [g.detach().numpy() for g in lib.autograd.grad(y, (x, w, h))]

    for a, b in zip(grads(torch), grads(real)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


# ---------------------------------------------------------------------- grad_fn objects
def _named_ops():
    a = torch.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (3, 4)), requires_grad=True)
    b = torch.tensor(np.random.default_rng(1).uniform(0.5, 1.5, (4, 5)), requires_grad=True)
    c = torch.tensor(np.random.default_rng(2).uniform(0.5, 1.5, (3, 4)), requires_grad=True)
    t = torch.tensor([0, 2, 1])
    return {
        "AddBackward0": a + c, "SubBackward0": a - 1, "RsubBackward1": 1 - a, "MulBackward0": a * 2, "DivBackward0": a / c,
        "NegBackward0": -a, "PowBackward0": a**2, "PowBackward1": a**c, "ExpBackward0": a.exp(), "LogBackward0": a.log(),
        "TanhBackward0": a.tanh(), "SigmoidBackward0": a.sigmoid(), "ReluBackward0": a.relu(), "SqrtBackward0": a.sqrt(),
        "SumBackward0": a.sum(), "SumBackward1": a.sum(0), "MeanBackward0": a.mean(), "MeanBackward1": a.mean(1),
        "MmBackward0": a @ b, "MvBackward0": a @ b[:, 0], "ViewBackward0": a.view(12), "UnsafeViewBackward0": a.t().reshape(12),
        "SelectBackward0": a[0], "SliceBackward0": a[1:], "IndexBackward0": a[[0, 2]], "PermuteBackward0": a.permute(1, 0),
        "TBackward0": a.t(), "TransposeBackward0": a.transpose(0, 1), "ExpandBackward0": a[:1].expand(3, 4),
        "UnsqueezeBackward0": a.unsqueeze(0), "SqueezeBackward1": a[None].squeeze(0), "CatBackward0": torch.cat([a, c]),
        "StackBackward0": torch.stack([a, c]), "CloneBackward0": a.clone(), "ClampBackward1": a.clamp(0.6, 1.0),
        "MaxBackward1": a.max(), "MaxBackward0": a.max(1).values, "SoftmaxBackward0": a.softmax(1),
        "LogSoftmaxBackward0": a.log_softmax(1), "WhereBackward0": torch.where(a > 1, a, c), "ToCopyBackward0": a.float(),
        "MaskedFillBackward0": a.masked_fill(a > 1, 0.0), "MaximumBackward0": torch.maximum(a, c), "VarBackward0": a.var(),
        "AddmmBackward0": F.linear(a, b.t(), b[0]), "EmbeddingBackward0": F.embedding(t, a),
        "NativeBatchNormBackward0": F.batch_norm(a, None, None, c[0], c[1], training=True), "NllLossBackward0": F.cross_entropy(a, t),
    }


def test_grad_fn_names_are_pytorchs():
    for name, out in _named_ops().items():  # known answers: torch 2.13's names for the same ops
        assert out.grad_fn.name() == name and type(out.grad_fn).__name__ == name
        assert repr(out.grad_fn).startswith(f"<{name} object at 0x") and f"grad_fn=<{name}>" in repr(out)


def test_grad_fn_names_match_torch():
    real = pytest.importorskip("torch")
    mt_ops = _named_ops()
    a = real.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (3, 4)), requires_grad=True)
    assert (a + a).grad_fn.name() == mt_ops["AddBackward0"].grad_fn.name()
    assert (a * 2).grad_fn.next_functions[1] == (None, 0) and mt_ops["MulBackward0"].grad_fn.next_functions[1] == (None, 0)
    assert real.nn.functional.cross_entropy(a, real.tensor([0, 2, 1])).grad_fn.name() == "NllLossBackward0"


def test_next_functions_walk_to_accumulate_grad_leaves():
    x = torch.ones(2, requires_grad=True)
    w = torch.ones(2, requires_grad=True)
    h = x * w
    y = (h + 1).tanh().sum()
    assert x.grad_fn is None and x.is_leaf and torch.zeros(2).grad_fn is None
    seen, stack, leaves = set(), [y.grad_fn], []
    while stack:  # as torchviz walks a PyTorch graph
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        if hasattr(fn, "variable"):
            leaves.append(fn.variable)
            assert fn.name() == "torch::autograd::AccumulateGrad" and fn.next_functions == ()
        stack.extend(n for n, _ in fn.next_functions if n is not None)
    assert sorted(f.name() for f in seen if not hasattr(f, "variable")) == ["AddBackward0", "MulBackward0", "SumBackward0", "TanhBackward0"]
    assert len(leaves) == 2 and {id(t) for t in leaves} == {id(x), id(w)}
    acc = h.grad_fn.next_functions[0][0]
    assert acc is (x * 3).grad_fn.next_functions[0][0] and repr(acc).startswith("<AccumulateGrad object at 0x")
    h.grad_fn.metadata["note"] = 1
    assert h.grad_fn.metadata == {"note": 1}


def test_calling_a_grad_fn_applies_its_backward():
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    y = x * x
    (g, _) = y.grad_fn(torch.ones(2))
    assert g.tolist() == [2.0, 3.0]


def test_retain_grad_follows_the_rebased_history():
    x = torch.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y += 1
    (y * 3).sum().backward()
    assert y.retains_grad and y.grad.tolist() == [3.0, 3.0]
