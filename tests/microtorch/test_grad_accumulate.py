"""A leaf's first gradient: the engine may keep the backward's array as .grad instead of copying it
(as PyTorch's AccumulateGrad steals), but only when nothing else can see that array. These tests
build the cases where the array IS shared and check that .grad is still the user's own memory."""

import numpy as np

import microtorch as mt


def _own(t: mt.Tensor, *others: np.ndarray) -> None:
    """t.grad is writeable and shares memory with none of others."""
    g = t.grad._array
    assert g.flags.writeable
    for o in others:
        assert not np.shares_memory(g, o)


def test_broadcast_view_gradient_is_copied():
    x = mt.randn(4, 3, requires_grad=True)
    x.sum().backward()  # sum's backward broadcasts the scalar gradient: a read-only view
    _own(x)
    x.grad += 1  # in place on the user's .grad works
    assert np.array_equal(x.grad.numpy(), np.full((4, 3), 2.0, dtype=np.float32))
    x.sum().backward()
    assert np.array_equal(x.grad.numpy(), np.full((4, 3), 3.0, dtype=np.float32))


def test_one_array_for_two_leaves_gives_two_grads():
    a = mt.randn(3, requires_grad=True)
    b = mt.randn(3, requires_grad=True)
    (a + b).tanh().sum().backward()  # add's backward hands the same array to both inputs
    _own(a, b.grad._array)
    expected = b.grad.numpy().copy()
    a.grad.mul_(10)
    assert np.array_equal(b.grad.numpy(), expected)


def test_same_leaf_twice_accumulates():
    a = mt.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (a * a).sum().backward()
    assert np.array_equal(a.grad.numpy(), np.array([2.0, -4.0, 6.0], dtype=np.float32))
    (a + a).sum().backward()
    assert np.array_equal(a.grad.numpy(), np.array([4.0, -2.0, 8.0], dtype=np.float32))


def test_retained_gradient_is_not_shared_with_the_leaf():
    a = mt.randn(2, 3, requires_grad=True)
    z = a.clone()  # clone's backward passes its incoming gradient on unchanged
    z.retain_grad()
    (z * 3).sum().backward()
    _own(a, z.grad._array)
    a.grad.zero_()
    assert np.array_equal(z.grad.numpy(), np.full((2, 3), 3.0, dtype=np.float32))


def test_given_gradient_is_not_taken():
    x = mt.randn(3, requires_grad=True)
    seed = mt.tensor([1.0, 2.0, 3.0])
    x.backward(seed)
    _own(x, seed._array)
    y = mt.randn(3, requires_grad=True)
    (y * 1).backward(seed)
    _own(y, seed._array)
    y.grad.zero_()
    assert np.array_equal(seed.numpy(), np.array([1.0, 2.0, 3.0], dtype=np.float32))


def test_gradient_of_other_dtype_is_converted():
    w = mt.randn(3, dtype=mt.float64, requires_grad=True)
    x = mt.randn(3, requires_grad=True)
    (w * x.double()).sum().backward()
    assert x.grad.dtype == mt.float32 and w.grad.dtype == mt.float64
    assert np.allclose(x.grad.numpy(), w.detach().numpy())


def test_saved_input_is_not_taken_as_gradient():
    # mul's backward for x is g * y: fresh; but a gradient equal to a saved array must stay apart
    x = mt.randn(3, requires_grad=True)
    y = mt.randn(3)
    (x * y).sum().backward()
    _own(x, y._array)
    x.grad.zero_()
    assert not np.all(y.numpy() == 0)


def test_views_of_one_array_give_separate_grads():
    a = mt.randn(3, requires_grad=True)
    b = mt.randn(3, requires_grad=True)
    (mt.stack([a, b]) * 2).sum().backward()  # stack's backward hands each input a row of one array
    _own(a, b.grad._array)
    a.grad.zero_()
    assert np.array_equal(b.grad.numpy(), np.full(3, 2.0, dtype=np.float32))
    c = mt.randn(2, requires_grad=True)
    d = mt.randn(4, requires_grad=True)
    mt.cat([c, d]).tanh().sum().backward()  # cat's: slices of one array
    _own(c, d.grad._array)


def test_retained_view_gradient_is_not_shared():
    a = mt.randn(3, requires_grad=True)
    b = mt.randn(3, requires_grad=True)
    z = mt.stack([a, b])
    z.retain_grad()
    (z * 5).sum().backward()
    _own(a, z.grad._array)
    _own(b, z.grad._array)
    for op in (lambda x: x.t(), lambda x: x.permute(1, 0), lambda x: x.transpose(0, 1), lambda x: x.reshape(6), lambda x: x.view(3, 2)):
        w = mt.randn(2, 3, requires_grad=True)
        v = op(w * 1)  # the engine passes a view of v's gradient to w * 1
        v.retain_grad()
        (v * 5).sum().backward()
        _own(w, v.grad._array)
        w.grad.zero_()
        assert np.all(v.grad.numpy() == 5)
        u = mt.randn(2, 3, requires_grad=True)
        y = op(u)  # and of y's gradient to the leaf u
        y.retain_grad()
        (y * 5).sum().backward()
        _own(u, y.grad._array)


def test_views_of_the_given_gradient_are_copied():
    c = mt.randn(2, requires_grad=True)
    d = mt.randn(4, requires_grad=True)
    seed = mt.arange(6.0)
    mt.cat([c, d]).backward(seed)  # cat's backward hands each input a slice of the user's seed
    _own(c, seed._array)
    _own(d, seed._array)
    c.grad.zero_()
    d.grad.zero_()
    assert np.array_equal(seed.numpy(), np.arange(6.0, dtype=np.float32))
    w = mt.randn(2, 3, requires_grad=True)
    s2 = mt.ones(3, 2)
    w.t().backward(s2)  # a transposed view of the seed
    _own(w, s2._array)
