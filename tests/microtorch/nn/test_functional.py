"""nn.functional against PyTorch's semantics: float64 gradchecks of every differentiable op, each
fused op against its composition from primitive tensor ops (value and gradient, float64 and
float32), numerical stability, batch_norm's running statistics, error messages, dtypes."""
import re

import numpy as np
import pytest

import microtorch as torch
import microtorch.nn.functional as F
from microtorch.autograd import gradcheck

RNG_SEED = 1234


def rng(seed=RNG_SEED):
    return np.random.default_rng(seed)


def leaf(array, dtype=np.float64, requires_grad=True):
    """A fresh leaf tensor holding a copy of `array` in `dtype`."""
    return torch.tensor(np.array(array, dtype=dtype), requires_grad=requires_grad)


def const(array, dtype=None):
    return torch.tensor(np.array(array) if dtype is None else np.array(array, dtype=dtype))


# ---------------------------------------------------------------------- gradchecks
def _ce_case(shape, target, **kwargs):
    def make():
        z = leaf(rng().standard_normal(shape))
        y = const(target, np.int64)
        return (lambda z: F.cross_entropy(z, y, **kwargs)), (z,)

    return make


def _ce_weighted_case(shape, target, **kwargs):
    def make():
        z = leaf(rng().standard_normal(shape))
        y = const(target, np.int64)
        w = const(rng(7).uniform(0.5, 2.0, shape[1] if len(shape) > 1 else shape[0]))
        return (lambda z: F.cross_entropy(z, y, weight=w, **kwargs)), (z,)

    return make


def _ce_prob_case(shape, weighted=False, **kwargs):
    def make():
        z = leaf(rng().standard_normal(shape))
        q = rng(3).random(shape)
        q = const(q / q.sum(axis=1 if len(shape) > 1 else 0, keepdims=True))
        w = const(rng(7).uniform(0.5, 2.0, shape[1] if len(shape) > 1 else shape[0])) if weighted else None
        return (lambda z: F.cross_entropy(z, q, weight=w, **kwargs)), (z,)

    return make


def _nll_case(shape, target, weighted=False, **kwargs):
    def make():
        x = leaf(rng().standard_normal(shape))
        y = const(target, np.int64)
        w = const(rng(7).uniform(0.5, 2.0, shape[1] if len(shape) > 1 else shape[0])) if weighted else None
        return (lambda x: F.nll_loss(x, y, weight=w, **kwargs)), (x,)

    return make


def _bn_case(shape, affine, training, running):
    def make():
        c = shape[1]
        x = leaf(rng().standard_normal(shape) * 2 + 0.5)
        w = leaf(rng(5).uniform(0.5, 1.5, c)) if affine else None
        b = leaf(rng(6).standard_normal(c)) if affine else None
        rm0, rv0 = rng(8).standard_normal(c), rng(9).uniform(0.5, 2.0, c)

        def fn(x, *wb):
            rm = const(rm0) if running else None  # fresh each call: training updates them in place
            rv = const(rv0) if running else None
            return F.batch_norm(x, rm, rv, *wb, training=training)

        return fn, (x,) + ((w, b) if affine else ())

    return make


def _linear_case(x_shape, bias):
    def make():
        x = leaf(rng().standard_normal(x_shape))
        w = leaf(rng(5).standard_normal((2, x_shape[-1])))
        if not bias:
            return (lambda x, w: F.linear(x, w)), (x, w)
        b = leaf(rng(6).standard_normal(2))
        return (lambda x, w, b: F.linear(x, w, b)), (x, w, b)

    return make


def _embedding_case(index, padding_idx=None):
    def make():
        w = leaf(rng().standard_normal((5, 3)))
        idx = const(index, np.int64)
        if padding_idx is None:
            return (lambda w: F.embedding(idx, w)), (w,)
        # the padding row gets no gradient by design (finite differences would see it): it is a
        # constant here, and the gradients of the other rows, through the same op, are checked
        pad = padding_idx % 5
        pad_row = const(rng(4).standard_normal((1, 3)))

        def fn(w):
            table = torch.cat([w[:pad], pad_row, w[pad + 1 :]])
            return F.embedding(idx, table, padding_idx=padding_idx)

        return fn, (w,)

    return make


def _unary_case(op, shape=(3, 4), **kwargs):
    def make():
        x = leaf(rng().standard_normal(shape))
        return (lambda x: op(x, **kwargs)), (x,)

    return make


def _dropout_case(p):
    def make():
        x = leaf(rng().standard_normal((4, 5)))
        return (lambda x: F.dropout(x, p=p, training=True, generator=torch.Generator().manual_seed(0))), (x,)

    return make


def _mse_case(reduction):
    def make():
        x = leaf(rng().standard_normal((3, 4)))
        t = leaf(rng(2).standard_normal((3, 4)))
        return (lambda x, t: F.mse_loss(x, t, reduction=reduction)), (x, t)

    return make


PARTLY_IGNORED = [1, -100, 3, 0, -100]
ALL_IGNORED = [-100, -100, -100, -100, -100]
GRADCHECK_CASES = {
    # cross_entropy: class indices
    "ce_mean": _ce_case((5, 4), [1, 0, 3, 2, 1]),
    "ce_sum": _ce_case((5, 4), [1, 0, 3, 2, 1], reduction="sum"),
    "ce_none": _ce_case((5, 4), [1, 0, 3, 2, 1], reduction="none"),
    "ce_weight_mean": _ce_weighted_case((5, 4), [1, 0, 3, 2, 1]),
    "ce_weight_sum": _ce_weighted_case((5, 4), [1, 0, 3, 2, 1], reduction="sum"),
    "ce_weight_none": _ce_weighted_case((5, 4), [1, 0, 3, 2, 1], reduction="none"),
    "ce_ignore_mean": _ce_case((5, 4), PARTLY_IGNORED),
    "ce_ignore_sum": _ce_case((5, 4), PARTLY_IGNORED, reduction="sum"),
    "ce_ignore_none": _ce_case((5, 4), PARTLY_IGNORED, reduction="none"),
    "ce_custom_ignore_index": _ce_case((5, 4), [1, 2, 3, 2, 0], ignore_index=2),
    "ce_all_ignored_sum": _ce_case((5, 4), ALL_IGNORED, reduction="sum"),
    "ce_all_ignored_none": _ce_case((5, 4), ALL_IGNORED, reduction="none"),
    "ce_smoothing_mean": _ce_case((5, 4), [1, 0, 3, 2, 1], label_smoothing=0.2),
    "ce_smoothing_sum": _ce_case((5, 4), [1, 0, 3, 2, 1], label_smoothing=0.2, reduction="sum"),
    "ce_smoothing_none": _ce_case((5, 4), [1, 0, 3, 2, 1], label_smoothing=0.2, reduction="none"),
    "ce_smoothing_one": _ce_case((5, 4), [1, 0, 3, 2, 1], label_smoothing=1.0),
    "ce_weight_smoothing_ignore_mean": _ce_weighted_case((5, 4), PARTLY_IGNORED, label_smoothing=0.3),
    "ce_weight_smoothing_ignore_sum": _ce_weighted_case((5, 4), PARTLY_IGNORED, label_smoothing=0.3, reduction="sum"),
    "ce_weight_smoothing_ignore_none": _ce_weighted_case((5, 4), PARTLY_IGNORED, label_smoothing=0.3, reduction="none"),
    "ce_1d_scalar_target": _ce_case((4,), 2),
    "ce_1d_scalar_target_none": _ce_case((4,), 2, reduction="none"),
    "ce_1d_weight_smoothing": _ce_weighted_case((4,), 2, label_smoothing=0.1),
    "ce_ncd_mean": _ce_case((2, 4, 3), [[1, 0, 3], [2, -100, 1]]),
    "ce_ncd_none": _ce_case((2, 4, 3), [[1, 0, 3], [2, -100, 1]], reduction="none"),
    "ce_ncd_weight_smoothing": _ce_weighted_case((2, 4, 3), [[1, 0, 3], [2, -100, 1]], label_smoothing=0.2),
    "ce_prob_mean": _ce_prob_case((5, 4)),
    "ce_prob_sum": _ce_prob_case((5, 4), reduction="sum"),
    "ce_prob_none": _ce_prob_case((5, 4), reduction="none"),
    "ce_prob_weight_smoothing": _ce_prob_case((5, 4), weighted=True, label_smoothing=0.2),
    "ce_prob_1d": _ce_prob_case((4,)),
    "ce_prob_ncd": _ce_prob_case((2, 4, 3), weighted=True),
    # nll_loss
    "nll_mean": _nll_case((5, 4), [1, 0, 3, 2, 1]),
    "nll_sum": _nll_case((5, 4), [1, 0, 3, 2, 1], reduction="sum"),
    "nll_none": _nll_case((5, 4), [1, 0, 3, 2, 1], reduction="none"),
    "nll_weight_mean": _nll_case((5, 4), [1, 0, 3, 2, 1], weighted=True),
    "nll_weight_none": _nll_case((5, 4), [1, 0, 3, 2, 1], weighted=True, reduction="none"),
    "nll_ignore_mean": _nll_case((5, 4), PARTLY_IGNORED, weighted=True),
    "nll_ignore_none": _nll_case((5, 4), PARTLY_IGNORED, reduction="none"),
    "nll_custom_ignore_index": _nll_case((5, 4), [1, 2, 3, 2, 0], ignore_index=2),
    "nll_all_ignored_sum": _nll_case((5, 4), ALL_IGNORED, reduction="sum"),
    "nll_1d_scalar_target": _nll_case((4,), 2, weighted=True),
    "nll_ncd": _nll_case((2, 4, 3), [[1, 0, 3], [2, -100, 1]], weighted=True),
    "nll_ncd_none": _nll_case((2, 4, 3), [[1, 0, 3], [2, -100, 1]], reduction="none"),
    # batch_norm
    "bn_train_2d_affine": _bn_case((6, 3), affine=True, training=True, running=True),
    "bn_train_2d_plain": _bn_case((6, 3), affine=False, training=True, running=False),
    "bn_train_3d_affine": _bn_case((3, 2, 4), affine=True, training=True, running=True),
    "bn_train_3d_plain": _bn_case((3, 2, 4), affine=False, training=True, running=True),
    "bn_eval_2d_affine": _bn_case((6, 3), affine=True, training=False, running=True),
    "bn_eval_2d_plain": _bn_case((6, 3), affine=False, training=False, running=True),
    "bn_eval_3d_affine": _bn_case((3, 2, 4), affine=True, training=False, running=True),
    # linear
    "linear_1d": _linear_case((3,), bias=True),
    "linear_1d_no_bias": _linear_case((3,), bias=False),
    "linear_2d": _linear_case((4, 3), bias=True),
    "linear_2d_no_bias": _linear_case((4, 3), bias=False),
    "linear_3d": _linear_case((2, 3, 3), bias=True),
    "linear_3d_no_bias": _linear_case((2, 3, 3), bias=False),
    # embedding
    "embedding": _embedding_case([4, 0, 2]),
    "embedding_repeated": _embedding_case([[1, 3, 1], [1, 0, 3]]),
    "embedding_padding_idx": _embedding_case([[1, 3, 1], [1, 0, 3]], padding_idx=1),
    "embedding_negative_padding_idx": _embedding_case([4, 2, 4], padding_idx=-1),
    # activations and the rest
    "softmax_dim1": _unary_case(F.softmax, dim=1),
    "softmax_dim0": _unary_case(F.softmax, dim=0),
    "softmax_3d_last": _unary_case(F.softmax, shape=(2, 2, 3), dim=-1),
    "log_softmax_dim1": _unary_case(F.log_softmax, dim=1),
    "log_softmax_dim0": _unary_case(F.log_softmax, dim=0),
    "tanh": _unary_case(F.tanh),
    "relu": _unary_case(F.relu),
    "sigmoid": _unary_case(F.sigmoid),
    "dropout_half": _dropout_case(0.5),
    "dropout_small": _dropout_case(0.2),
    "dropout_one": _dropout_case(1.0),
    "mse_mean": _mse_case("mean"),
    "mse_sum": _mse_case("sum"),
    "mse_none": _mse_case("none"),
}


@pytest.mark.parametrize("name", GRADCHECK_CASES)
def test_gradcheck(name):
    fn, inputs = GRADCHECK_CASES[name]()
    out = fn(*inputs)
    assert out.dtype == torch.float64 and out.requires_grad
    assert np.isfinite(out.detach().numpy()).all()
    assert gradcheck(fn, inputs)


def test_relu_gradcheck_data_stays_away_from_the_kink():
    # finite differences straddling 0 would make relu's gradcheck flaky
    x = rng().standard_normal((3, 4))
    assert np.abs(x).min() > 1e-3


# ---------------------------------------------------------------------- composed references
def ce_composed(z, y, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """cross_entropy as PyTorch documents it, from primitive ops: l_n = -sum_c w_c q_nc log p_nc
    with q the (smoothed) target distribution; mean divides by sum_n w_{y_n} over kept rows
    (class indices) or by the number of rows (probabilities)."""
    shape = z.shape
    c = shape[1] if z.ndim > 1 else shape[0]
    rows = z.reshape(1, c) if z.ndim == 1 else z if z.ndim == 2 else z.permute(0, 2, 1).reshape(-1, c)
    logp = rows.log_softmax(1)
    w = np.ones(c) if weight is None else weight.numpy().astype(np.float64)
    t = y.numpy()
    if t.dtype.kind == "f":
        q = t.reshape(1, c) if t.ndim == 1 else t if t.ndim == 2 else np.moveaxis(t, 1, -1).reshape(-1, c)
        q = q * (1 - label_smoothing) + label_smoothing / c
        denominator = q.shape[0]
    else:
        labels = t.reshape(-1)
        kept = labels != ignore_index
        onehot = np.zeros((labels.size, c))
        onehot[np.arange(labels.size)[kept], labels[kept]] = 1
        q = (onehot * (1 - label_smoothing) + label_smoothing / c) * kept[:, None]
        denominator = (w[np.where(kept, labels, 0)] * kept).sum()
    per_row = -(logp * const(q * w, z.dtype)).sum(1)
    if reduction == "mean":
        return per_row.sum() / float(denominator)
    if reduction == "sum":
        return per_row.sum()
    return per_row.reshape(() if z.ndim == 1 else shape[:1] + shape[2:])


def ce_simple(z, y):
    """The textbook form: -(log_softmax(z)[range(n), y]).mean()."""
    return -(z.log_softmax(1)[range(z.shape[0]), y.numpy()]).mean()


def nll_composed(x, y, weight=None, ignore_index=-100, reduction="mean"):
    shape = x.shape
    c = shape[1] if x.ndim > 1 else shape[0]
    rows = x.reshape(1, c) if x.ndim == 1 else x if x.ndim == 2 else x.permute(0, 2, 1).reshape(-1, c)
    labels = y.numpy().reshape(-1)
    kept = labels != ignore_index
    safe = np.where(kept, labels, 0)
    w = np.ones(c) if weight is None else weight.numpy().astype(np.float64)
    row_weight = w[safe] * kept
    per_row = -rows[np.arange(labels.size), safe] * const(row_weight, x.dtype)
    if reduction == "mean":
        return per_row.sum() / float(row_weight.sum())
    if reduction == "sum":
        return per_row.sum()
    return per_row.reshape(() if x.ndim == 1 else shape[:1] + shape[2:])


def bn_composed(x, running_mean, running_var, weight=None, bias=None, training=False, eps=1e-5):
    dims = 0 if x.ndim == 2 else (0, 2)
    channel = (1, x.shape[1]) if x.ndim == 2 else (1, x.shape[1], 1)
    if training:
        mean = x.mean(dims, keepdim=True)
        var = x.var(dims, unbiased=False, keepdim=True)
    else:
        mean, var = running_mean.reshape(channel), running_var.reshape(channel)
    out = (x - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(channel)
    if bias is not None:
        out = out + bias.reshape(channel)
    return out


def linear_composed(x, w, b=None):
    out = x @ w.T
    return out if b is None else out + b


TOLERANCES = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-5)}


def assert_same_value_and_grad(fused, composed, arrays, dtype, consts=()):
    """fused(*leaves, *consts) and composed(*leaves, *consts) agree in value and in the gradient
    of every leaf, for a fixed random upstream gradient."""
    tol = TOLERANCES[dtype]
    results = []
    for fn in (fused, composed):
        leaves = [leaf(a, dtype) for a in arrays]
        out = fn(*leaves, *consts)
        upstream = rng(99).standard_normal(out.shape).astype(dtype)
        out.backward(torch.tensor(upstream))
        results.append((out.detach().numpy(), [t.grad.numpy() for t in leaves]))
    (v_fused, g_fused), (v_comp, g_comp) = results
    assert v_fused.dtype == dtype and v_fused.shape == v_comp.shape
    np.testing.assert_allclose(v_fused, v_comp, **tol)
    for a, b in zip(g_fused, g_comp):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, **tol)
    return results


CE_CONFIGS = {
    "plain": ((6, 5), [1, 0, 4, 2, 3, 1], {}),
    "sum": ((6, 5), [1, 0, 4, 2, 3, 1], dict(reduction="sum")),
    "none": ((6, 5), [1, 0, 4, 2, 3, 1], dict(reduction="none")),
    "weight": ((6, 5), [1, 0, 4, 2, 3, 1], dict(weight=True)),
    "weight_none": ((6, 5), [1, 0, 4, 2, 3, 1], dict(weight=True, reduction="none")),
    "ignore": ((6, 5), [1, -100, 4, 2, -100, 1], {}),
    "ignore_custom": ((6, 5), [1, 3, 4, 3, 0, 1], dict(ignore_index=3)),
    "smoothing": ((6, 5), [1, 0, 4, 2, 3, 1], dict(label_smoothing=0.25)),
    "smoothing_sum": ((6, 5), [1, 0, 4, 2, 3, 1], dict(label_smoothing=0.25, reduction="sum")),
    "weight_smoothing_ignore": ((6, 5), [1, -100, 4, 2, -100, 1], dict(weight=True, label_smoothing=0.25)),
    "weight_smoothing_ignore_sum": ((6, 5), [1, -100, 4, 2, -100, 1], dict(weight=True, label_smoothing=0.25, reduction="sum")),
    "weight_smoothing_ignore_none": ((6, 5), [1, -100, 4, 2, -100, 1], dict(weight=True, label_smoothing=0.25, reduction="none")),
    "1d": ((5,), 3, dict(weight=True, label_smoothing=0.1)),
    "ncd": ((2, 5, 3), [[1, 0, 4], [-100, 2, 3]], dict(weight=True, label_smoothing=0.2)),
    "ncd_none": ((2, 5, 3), [[1, 0, 4], [-100, 2, 3]], dict(reduction="none")),
    "prob": ((6, 5), None, {}),
    "prob_sum": ((6, 5), None, dict(reduction="sum")),
    "prob_none": ((6, 5), None, dict(reduction="none")),
    "prob_weight_smoothing": ((6, 5), None, dict(weight=True, label_smoothing=0.3)),
    "prob_1d": ((5,), None, dict(weight=True)),
    "prob_ncd": ((2, 5, 3), None, dict(weight=True, label_smoothing=0.1)),
}


def _ce_inputs(shape, target, options, dtype):
    c = shape[1] if len(shape) > 1 else shape[0]
    kwargs = dict(options)
    if kwargs.pop("weight", False):
        kwargs["weight"] = const(rng(7).uniform(0.2, 3.0, c), dtype)
    if target is None:
        q = rng(3).random(shape)
        y = const(q / q.sum(axis=1 if len(shape) > 1 else 0, keepdims=True), dtype)
    else:
        y = const(target, np.int64)
    return rng().standard_normal(shape) * 3, y, kwargs


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_cross_entropy_equals_textbook_mean_of_picked_log_softmax(dtype):
    z = rng().standard_normal((8, 6)) * 2
    y = const([0, 5, 2, 2, 1, 3, 4, 0], np.int64)
    assert_same_value_and_grad(F.cross_entropy, ce_simple, [z], dtype, (y,))


def test_cross_entropy_smoothing_matches_hand_computed_value():
    # two classes, smoothing 0.5: q = 0.75 on the target, 0.25 on the other
    z = leaf([[0.0, np.log(3.0)]])  # p = [1/4, 3/4]
    loss = F.cross_entropy(z, const([1], np.int64), label_smoothing=0.5)
    expected = -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_weighted_mean_divides_by_the_kept_targets_weights():
    z = leaf(rng().standard_normal((3, 3)))
    w = const([1.0, 2.0, 5.0])
    y = const([2, -100, 1], np.int64)
    logp = z.detach().numpy() - np.log(np.exp(z.detach().numpy()).sum(1, keepdims=True))
    expected = -(5.0 * logp[0, 2] + 2.0 * logp[2, 1]) / (5.0 + 2.0)
    assert F.cross_entropy(z, y, weight=w).item() == pytest.approx(expected, rel=1e-12)
    # probability targets divide by the number of rows, not by the weights
    q = np.eye(3)[[2, 0, 1]]
    expected_prob = -(w.numpy() * q * logp).sum() / 3
    assert F.cross_entropy(z, const(q), weight=w).item() == pytest.approx(expected_prob, rel=1e-12)


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")  # numpy on 0/0 and inf * 0
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_all_targets_ignored(reduction, smoothing):
    """As in PyTorch: mean over no targets is nan (0/0), sum is 0, none is zeros; the gradient is
    zero everywhere (ignored rows get no gradient, even through the 0/0 mean)."""
    w = const([1.0, 2.0, 3.0, 4.0])
    for weight in (None, w):
        z = leaf(rng().standard_normal((3, 4)))
        loss = F.cross_entropy(z, const([-100] * 3, np.int64), weight=weight, reduction=reduction, label_smoothing=smoothing)
        value = loss.detach().numpy()
        if reduction == "mean":
            assert np.isnan(value)
        else:
            assert np.array_equal(value, np.zeros(value.shape))
        loss.backward(torch.ones(loss.shape, dtype=torch.float64))
        assert np.array_equal(z.grad.numpy(), np.zeros((3, 4)))


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")  # numpy on 0/0 and inf * 0
def test_cross_entropy_ignored_rows_get_exactly_zero_gradient():
    z = leaf(rng().standard_normal((4, 3)))
    loss = F.cross_entropy(z, const([0, -100, 2, -100], np.int64), label_smoothing=0.1, reduction="none")
    loss.backward(torch.tensor([1.0, np.inf, 1.0, np.nan]))  # PyTorch never reads an ignored row's upstream gradient
    g = z.grad.numpy()
    assert np.array_equal(g[[1, 3]], np.zeros((2, 3)))
    assert np.isfinite(g).all() and np.abs(g[[0, 2]]).min() > 0


NLL_CONFIGS = {
    "plain": ((6, 5), [1, 0, 4, 2, 3, 1], {}),
    "sum": ((6, 5), [1, 0, 4, 2, 3, 1], dict(reduction="sum")),
    "none": ((6, 5), [1, 0, 4, 2, 3, 1], dict(reduction="none")),
    "weight_ignore": ((6, 5), [1, -100, 4, 2, -100, 1], dict(weight=True)),
    "weight_ignore_none": ((6, 5), [1, -100, 4, 2, -100, 1], dict(weight=True, reduction="none")),
    "ignore_custom": ((6, 5), [1, 3, 4, 3, 0, 1], dict(ignore_index=3)),
    "1d": ((5,), 3, dict(weight=True)),
    "ncd": ((2, 5, 3), [[1, 0, 4], [-100, 2, 3]], dict(weight=True)),
    "ncd_none": ((2, 5, 3), [[1, 0, 4], [-100, 2, 3]], dict(reduction="none")),
}


LOSS_CASES = [("cross_entropy", name) for name in CE_CONFIGS] + [("nll_loss", name) for name in NLL_CONFIGS]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("loss,config", LOSS_CASES, ids=[f"{loss}-{name}" for loss, name in LOSS_CASES])
def test_loss_equals_composition(loss, config, dtype):
    fused, composed, configs = {
        "cross_entropy": (F.cross_entropy, ce_composed, CE_CONFIGS),
        "nll_loss": (F.nll_loss, nll_composed, NLL_CONFIGS),
    }[loss]
    shape, target, options = configs[config]
    z, y, kwargs = _ce_inputs(shape, target, options, dtype)
    assert_same_value_and_grad(lambda z, y: fused(z, y, **kwargs), lambda z, y: composed(z, y, **kwargs), [z], dtype, (y,))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_cross_entropy_is_nll_of_log_softmax(dtype):
    z = rng().standard_normal((6, 5))
    y = const([1, -100, 4, 2, 0, 1], np.int64)
    w = const(rng(7).uniform(0.2, 3.0, 5), dtype)
    assert_same_value_and_grad(
        lambda z: F.cross_entropy(z, y, weight=w), lambda z: F.nll_loss(F.log_softmax(z, 1), y, weight=w), [z], dtype
    )


@pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")  # numpy on 0/0 and inf * 0
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_all_targets_ignored(reduction):
    x = leaf(rng().standard_normal((3, 4)))
    loss = F.nll_loss(x, const([-100] * 3, np.int64), weight=const([1.0, 2.0, 3.0, 4.0]), reduction=reduction)
    value = loss.detach().numpy()
    assert np.isnan(value) if reduction == "mean" else np.array_equal(value, np.zeros(value.shape))
    loss.backward(torch.ones(loss.shape, dtype=torch.float64))
    assert np.array_equal(x.grad.numpy(), np.zeros((3, 4)))


def test_nll_loss_picks_minus_the_target_entry():
    x = leaf([[0.1, -0.2, 0.3], [1.0, 2.0, 3.0]])
    y = const([2, 0], np.int64)
    assert F.nll_loss(x, y).item() == pytest.approx(-(0.3 + 1.0) / 2)
    assert F.nll_loss(x, y, reduction="sum").item() == pytest.approx(-1.3)
    assert np.allclose(F.nll_loss(x, y, reduction="none").detach().numpy(), [-0.3, -1.0])


# ---------------------------------------------------------------------- batch_norm vs composition
BN_CONFIGS = {
    "train_2d_affine": ((8, 3), True, True),
    "train_2d_plain": ((8, 3), False, True),
    "train_3d_affine": ((4, 3, 5), True, True),
    "train_3d_plain": ((4, 3, 5), False, True),
    "eval_2d_affine": ((8, 3), True, False),
    "eval_2d_plain": ((8, 3), False, False),
    "eval_3d_affine": ((4, 3, 5), True, False),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("config", BN_CONFIGS)
def test_batch_norm_equals_composition(config, dtype):
    shape, affine, training = BN_CONFIGS[config]
    c = shape[1]
    arrays = [rng().standard_normal(shape) * 3 + 1]
    if affine:
        arrays += [rng(5).uniform(0.5, 1.5, c), rng(6).standard_normal(c)]
    rm0, rv0 = rng(8).standard_normal(c), rng(9).uniform(0.5, 2.0, c)

    def fused(x, *wb):
        return F.batch_norm(x, const(rm0, dtype), const(rv0, dtype), *wb, training=training)

    def composed(x, *wb):
        return bn_composed(x, const(rm0, dtype), const(rv0, dtype), *wb, training=training)

    assert_same_value_and_grad(fused, composed, arrays, dtype)


def test_batch_norm_training_without_running_stats_and_eval_only_affine_grads():
    x = rng().standard_normal((5, 2))
    out = F.batch_norm(leaf(x, requires_grad=False), None, None, training=True)
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    # only the affine parameters require grad: their gradients still flow
    w, b = leaf([1.5, -0.5]), leaf([0.1, 0.2])
    F.batch_norm(leaf(x, requires_grad=False), None, None, w, b, training=True).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), expected.sum(0), atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), [5.0, 5.0])


# ---------------------------------------------------------------------- batch_norm running statistics
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)], ids=["2d", "3d"])
def test_batch_norm_running_stats_follow_the_momentum_rule_with_unbiased_variance(shape):
    c, momentum = shape[1], 0.3
    axes = (0,) if len(shape) == 2 else (0, 2)
    running_mean, running_var = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    expected_mean, expected_var = np.zeros(c), np.ones(c)
    for step in range(4):
        x = rng(step).standard_normal(shape) * (step + 1) + step
        out = F.batch_norm(leaf(x, requires_grad=False), running_mean, running_var, training=True, momentum=momentum)
        expected_mean = (1 - momentum) * expected_mean + momentum * x.mean(axis=axes)
        expected_var = (1 - momentum) * expected_var + momentum * x.var(axis=axes, ddof=1)
        np.testing.assert_allclose(running_mean.numpy(), expected_mean, rtol=1e-12)
        np.testing.assert_allclose(running_var.numpy(), expected_var, rtol=1e-12)
        # the forward normalises with the biased batch variance, not the unbiased one
        centered = x - x.mean(axis=axes, keepdims=True)
        biased = centered / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)
        np.testing.assert_allclose(out.numpy(), biased, rtol=1e-10, atol=1e-12)
        assert not np.allclose(out.numpy(), centered / np.sqrt(x.var(axis=axes, ddof=1, keepdims=True) + 1e-5))


def test_batch_norm_eval_uses_and_leaves_running_stats_untouched():
    x = rng().standard_normal((4, 3))
    rm, rv = const([0.5, -1.0, 2.0]), const([4.0, 0.25, 1.0])
    before = rm.numpy().copy(), rv.numpy().copy()
    w, b = leaf([2.0, 1.0, 0.5]), leaf([0.0, 1.0, -1.0])
    out = F.batch_norm(leaf(x), rm, rv, w, b, training=False, momentum=0.5)
    expected = (x - [0.5, -1.0, 2.0]) / np.sqrt(np.array([4.0, 0.25, 1.0]) + 1e-5) * [2.0, 1.0, 0.5] + [0.0, 1.0, -1.0]
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)
    out.sum().backward()
    assert np.array_equal(rm.numpy(), before[0]) and np.array_equal(rv.numpy(), before[1])
    # and a single example per channel is fine in eval
    single = F.batch_norm(leaf(x[:1]), rm, rv, training=False)
    assert single.shape == (1, 3)


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1)])
def test_batch_norm_one_value_per_channel_in_training_raises(shape):
    rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training, got input size"):
        F.batch_norm(leaf(np.ones(shape)), rm, rv, training=True)
    assert np.array_equal(rm.numpy(), np.zeros(3)) and np.array_equal(rv.numpy(), np.ones(3))
    # (1, C, L) with L > 1 has enough values per channel
    assert F.batch_norm(leaf(rng().standard_normal((1, 3, 2))), None, None, training=True).shape == (1, 3, 2)


def test_batch_norm_eval_needs_running_statistics():
    # as in PyTorch: evaluation without running statistics is an error, not a silent use of
    # the batch's (BatchNorm1d(track_running_stats=False) asks for batch statistics itself)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(leaf(rng().standard_normal((4, 3))), None, None, training=False)


def test_batch_norm_rejects_other_ranks():
    with pytest.raises(ValueError, match="2D or 3D"):
        F.batch_norm(leaf(np.ones(4)), None, None, training=True)


# ---------------------------------------------------------------------- linear and embedding vs composition
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("x_shape", [(3,), (4, 3), (2, 4, 3)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_linear_equals_composition(x_shape, bias, dtype):
    arrays = [rng().standard_normal(x_shape), rng(5).standard_normal((2, 3))]
    if bias:
        arrays.append(rng(6).standard_normal(2))
    (value, _), _ = assert_same_value_and_grad(F.linear, linear_composed, arrays, dtype)
    assert value.shape == x_shape[:-1] + (2,)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("index", [[4, 0, 2], [[1, 3, 1], [1, 1, 3]], 2], ids=["1d", "repeated_2d", "scalar"])
def test_embedding_equals_indexing(index, dtype):
    idx = const(index, np.int64)
    weight = rng().standard_normal((5, 3))
    (value, (grad,)), _ = assert_same_value_and_grad(lambda w: F.embedding(idx, w), lambda w: w[idx], [weight], dtype)
    assert value.shape == np.shape(index) + (3,)
    # repeated rows sum their gradients (checked against numpy's scatter-add)
    upstream = rng(99).standard_normal(value.shape)
    expected = np.zeros((5, 3))
    np.add.at(expected, np.array(index), upstream)
    np.testing.assert_allclose(grad, expected, **TOLERANCES[dtype])


def test_embedding_padding_idx_gets_no_gradient_but_keeps_its_row():
    w = leaf(rng().standard_normal((5, 3)))
    idx = const([[1, 3, 1], [0, 3, 4]], np.int64)
    out = F.embedding(idx, w, padding_idx=3)
    assert np.array_equal(out.detach().numpy(), w.detach().numpy()[idx.numpy()])  # row 3 is not zeroed
    out.sum().backward()
    expected = np.zeros((5, 3))
    expected[[0, 1, 4]] = np.array([1, 2, 1])[:, None]
    assert np.array_equal(w.grad.numpy(), expected)


# ---------------------------------------------------------------------- numerical stability
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_cross_entropy_is_stable_for_huge_logits(dtype):
    z = leaf([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]], dtype)
    y = const([0, 0], np.int64)
    loss = F.cross_entropy(z, y)
    assert loss.dtype == dtype
    assert loss.item() == pytest.approx((0.0 + 2000.0) / 2, rel=1e-6)
    loss.backward()
    g = z.grad.numpy()
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g, [[0.0, 0.0, 0.0], [-0.5, 0.5, 0.0]], atol=1e-6)
    for kwargs in (dict(reduction="none"), dict(label_smoothing=0.1), dict(weight=const([1.0, 2.0, 3.0], dtype))):
        assert np.isfinite(F.cross_entropy(z, y, **kwargs).detach().numpy()).all()
    per_row = F.cross_entropy(z, y, reduction="none").detach().numpy()
    np.testing.assert_allclose(per_row, [0.0, 2000.0], atol=1e-6)
    probs = const([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], dtype)
    assert F.cross_entropy(z, probs).item() == pytest.approx((0.0 + 1000.0) / 2, rel=1e-6)


# ---------------------------------------------------------------------- errors
def test_cross_entropy_target_out_of_range_names_the_value():
    z = leaf(rng().standard_normal((3, 5)))
    with pytest.raises(IndexError, match="27"):
        F.cross_entropy(z, const([1, 27, 0], np.int64))
    with pytest.raises(IndexError, match="5"):
        F.cross_entropy(z, const([1, 5, 0], np.int64))
    with pytest.raises(IndexError, match="-1"):  # negative, and not the ignore_index
        F.cross_entropy(z, const([1, -1, 0], np.int64))
    with pytest.raises(IndexError, match="-100"):  # -100 is only ignored when it is the ignore_index
        F.cross_entropy(z, const([1, -100, 0], np.int64), ignore_index=2)
    with pytest.raises(IndexError, match="27"):
        F.nll_loss(z, const([1, 27, 0], np.int64))
    with pytest.raises(IndexError, match="-3"):
        F.nll_loss(z, const([1, -3, 0], np.int64))


def test_cross_entropy_batch_size_mismatch_names_both_shapes():
    z = leaf(rng().standard_normal((3, 5)))
    for loss in (F.cross_entropy, F.nll_loss):
        with pytest.raises(ValueError) as info:
            loss(z, const([1, 2], np.int64))
        assert "(3, 5)" in str(info.value) and "(2,)" in str(info.value)
    with pytest.raises(ValueError, match=re.escape("(3, 4)")):  # probabilities of the wrong shape
        F.cross_entropy(z, const(np.full((3, 4), 0.25)))


def test_losses_reject_a_0d_input_and_bad_options():
    z = leaf(1.5)
    with pytest.raises(ValueError, match="0-d"):
        F.cross_entropy(z, const(0, np.int64))
    with pytest.raises(ValueError, match="0-d"):
        F.nll_loss(z, const(0, np.int64))
    z = leaf(rng().standard_normal((3, 5)))
    y = const([1, 2, 0], np.int64)
    for bad in ("avg", "elementwise_mean"):
        with pytest.raises(ValueError, match="is not a valid value for reduction"):
            F.cross_entropy(z, y, reduction=bad)
        with pytest.raises(ValueError, match="is not a valid value for reduction"):
            F.nll_loss(z, y, reduction=bad)
        with pytest.raises(ValueError, match="is not a valid value for reduction"):
            F.mse_loss(z, z, reduction=bad)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="label_smoothing"):
            F.cross_entropy(z, y, label_smoothing=bad)
    with pytest.raises(ValueError, match="weight"):
        F.cross_entropy(z, y, weight=const([1.0, 2.0]))


@pytest.mark.parametrize(
    "size_average, reduce, reduction",
    [(None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none"), (True, None, "mean")],
)
def test_losses_honour_the_legacy_size_average_and_reduce(size_average, reduce, reduction):
    """As in PyTorch: either legacy argument, when given, overrides reduction (with a warning)."""
    z, t = leaf(rng().standard_normal((3, 4))), leaf(rng(2).standard_normal((3, 4)))
    y = const([1, 0, 3], np.int64)
    for loss, target in ((F.cross_entropy, y), (F.nll_loss, y), (F.mse_loss, t)):
        with pytest.warns(UserWarning, match=f"please use reduction='{reduction}' instead"):
            legacy = loss(z, target, size_average=size_average, reduce=reduce, reduction="sum" if reduction != "sum" else "mean")
        np.testing.assert_array_equal(legacy.detach().numpy(), loss(z, target, reduction=reduction).detach().numpy())


def test_nll_loss_checks_the_weight_like_cross_entropy():
    x = leaf(rng().standard_normal((3, 4)))
    y = const([1, 0, 3], np.int64)
    for loss in (F.cross_entropy, F.nll_loss):
        for bad in ([1.0, 2.0], [1.0] * 5):  # too short would index out of range; too long was silently accepted
            with pytest.raises(ValueError, match="weight should be a 1D tensor of size C=4"):
                loss(x, y, weight=const(bad))
    # a float64 weight does not turn a float32 loss into float64
    x32 = leaf(rng().standard_normal((3, 4)), np.float32)
    assert F.nll_loss(x32, y, weight=const([1.0, 2.0, 3.0, 4.0])).dtype == torch.float32


def test_mse_loss_broadcasts_a_different_target_shape_with_a_warning():
    # as in PyTorch: a warning, then the broadcast difference
    a, b = rng().standard_normal((3, 1)), rng(2).standard_normal(3)
    x, t = leaf(a), leaf(b)
    with pytest.warns(UserWarning, match="target size"):
        loss = F.mse_loss(x, t)
    assert loss.item() == pytest.approx(((a - b) ** 2).mean(), rel=1e-12)
    with pytest.warns(UserWarning, match="target size"):
        assert gradcheck(lambda x, t: F.mse_loss(x, t, reduction="sum"), (x, t))


def test_linear_shape_mismatch_names_both_shapes():
    w = leaf(rng().standard_normal((5, 2)))
    with pytest.raises(RuntimeError, match=re.escape("(4x3 and 2x5)")):
        F.linear(leaf(np.ones((4, 3))), w)
    with pytest.raises(RuntimeError, match=re.escape("(8x3 and 2x5)")):
        F.linear(leaf(np.ones((2, 4, 3))), w)
    with pytest.raises(RuntimeError, match=re.escape("(1x3 and 2x5)")):
        F.linear(leaf(np.ones(3)), w)


def test_embedding_index_errors():
    w = leaf(rng().standard_normal((5, 3)))
    with pytest.raises(IndexError, match="5"):
        F.embedding(const([0, 5], np.int64), w)
    with pytest.raises(IndexError, match="-1"):
        F.embedding(const([[0, -1]], np.int64), w)
    with pytest.raises(RuntimeError, match="integer"):
        F.embedding(const([0.0, 1.0]), w)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8])
def test_index_range_checks_in_every_integer_dtype(dtype):
    # the range check reads signed indices as unsigned: a negative one must still be caught
    w = leaf(rng().standard_normal((5, 3)))
    z = leaf(rng().standard_normal((2, 5)))
    bad = [0, 5] if dtype == np.uint8 else [0, -1]
    with pytest.raises(IndexError, match=str(bad[1])):
        F.embedding(const(bad, dtype), w)
    with pytest.raises(IndexError, match=str(bad[1])):
        F.cross_entropy(z, const(bad, dtype))
    assert F.embedding(const([4, 0], dtype), w).shape == (2, 3)
    assert F.embedding(const(3, dtype), w).shape == (3,)
    assert np.isfinite(F.cross_entropy(z, const([4, 0], dtype)).item())


def test_one_hot_values_dtype_and_inference():
    y = const([[2, 0], [1, 2]], np.int64)
    out = F.one_hot(y)
    assert out.dtype == torch.int64 and out.shape == (2, 2, 3)
    assert out.tolist() == [[[0, 0, 1], [1, 0, 0]], [[0, 1, 0], [0, 0, 1]]]
    wide = F.one_hot(y, num_classes=5)
    assert wide.shape == (2, 2, 5) and wide.dtype == torch.int64
    assert np.array_equal(wide.numpy(), np.eye(5, dtype=np.int64)[y.numpy()])
    assert F.one_hot(const(3, np.int64)).tolist() == [0, 0, 0, 1]
    empty = F.one_hot(torch.tensor(np.zeros((0,), dtype=np.int64)), num_classes=4)
    assert empty.shape == (0, 4) and empty.dtype == torch.int64


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(const([0, -1], np.int64))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(const([0, 3], np.int64), num_classes=3)
    with pytest.raises(RuntimeError, match="integer"):
        F.one_hot(const([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor"):
        F.one_hot(torch.tensor(np.zeros((0,), dtype=np.int64)))


# ---------------------------------------------------------------------- dropout
def test_dropout_eval_and_p0_are_identity():
    x = leaf(rng().standard_normal((10, 10)))
    for out in (F.dropout(x, 0.5, training=False), F.dropout(x, 0.0, training=True)):
        assert np.array_equal(out.detach().numpy(), x.detach().numpy())
    assert np.array_equal(F.dropout(x, 0.9, False).detach().numpy(), x.detach().numpy())


def test_dropout_p1_zeros_everything_and_its_gradient():
    x = leaf(rng().standard_normal((4, 5)))
    out = F.dropout(x, 1.0)
    assert np.array_equal(out.detach().numpy(), np.zeros((4, 5)))
    out.sum().backward()
    assert np.array_equal(x.grad.numpy(), np.zeros((4, 5)))


@pytest.mark.parametrize("p", [0.1, 0.3, 0.75])
def test_dropout_statistics(p):
    x = torch.ones(200, 500)
    out = F.dropout(x, p, generator=torch.Generator().manual_seed(1)).numpy()
    zeroed = out == 0
    assert abs(zeroed.mean() - p) < 0.01  # 100k samples: the standard error is below 0.0015
    assert np.allclose(out[~zeroed], 1 / (1 - p)) and out.dtype == np.float32
    assert abs(out.mean() - 1) < 0.02  # the expectation is preserved


def test_dropout_gradient_is_the_scaled_mask_and_the_generator_makes_it_repeatable():
    x = leaf(rng().standard_normal((30, 30)))
    out = F.dropout(x, 0.4, generator=torch.Generator().manual_seed(5))
    again = F.dropout(x, 0.4, generator=torch.Generator().manual_seed(5))
    other = F.dropout(x, 0.4, generator=torch.Generator().manual_seed(6))
    assert np.array_equal(out.detach().numpy(), again.detach().numpy())
    assert not np.array_equal(out.detach().numpy(), other.detach().numpy())
    out.backward(torch.ones(30, 30, dtype=torch.float64))
    mask = out.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), mask / 0.6, rtol=1e-12)


@pytest.mark.parametrize("p", [-0.1, 1.1])
def test_dropout_invalid_p(p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(torch.ones(3), p)


# ---------------------------------------------------------------------- mse_loss, activations
def test_mse_loss_reductions():
    a, b = rng().standard_normal((3, 4)), rng(2).standard_normal((3, 4))
    x, t = leaf(a), leaf(b)
    np.testing.assert_allclose(F.mse_loss(x, t).item(), ((a - b) ** 2).mean(), rtol=1e-12)
    np.testing.assert_allclose(F.mse_loss(x, t, reduction="sum").item(), ((a - b) ** 2).sum(), rtol=1e-12)
    np.testing.assert_allclose(F.mse_loss(x, t, reduction="none").detach().numpy(), (a - b) ** 2, rtol=1e-12)
    F.mse_loss(x, t).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (a - b) / a.size, rtol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), -2 * (a - b) / a.size, rtol=1e-12)


def test_softmax_implicit_dim_follows_pytorch():
    for shape, dim in [((4,), 0), ((3, 4), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1)]:
        x = torch.tensor(rng().standard_normal(shape))
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            s = F.softmax(x).numpy()
        np.testing.assert_allclose(s.sum(axis=dim), 1.0, rtol=1e-12)
        with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
            np.testing.assert_allclose(F.log_softmax(x).numpy(), np.log(s), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(s, F.softmax(x, dim=dim).numpy(), rtol=1e-12)


def test_activations_values():
    a = rng().standard_normal((3, 4))
    x = torch.tensor(a)
    np.testing.assert_allclose(F.tanh(x).numpy(), np.tanh(a), rtol=1e-12)
    np.testing.assert_allclose(F.relu(x).numpy(), np.maximum(a, 0), rtol=1e-12)
    np.testing.assert_allclose(F.sigmoid(x).numpy(), 1 / (1 + np.exp(-a)), rtol=1e-12)
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy(), np.exp(a) / np.exp(a).sum(1, keepdims=True), rtol=1e-12)


# ---------------------------------------------------------------------- float32 stays float32
def _float32_ops():
    z = rng().standard_normal((5, 4))
    y = const([1, -100, 3, 0, 2], np.int64)
    w32 = const([1.0, 2.0, 0.5, 1.5], np.float32)
    q = rng(3).random((5, 4))
    q32 = const(q / q.sum(1, keepdims=True), np.float32)
    idx = const([[1, 3, 1], [0, 2, 1]], np.int64)
    rm, rv = const(np.zeros(4), np.float32), const(np.ones(4), np.float32)
    return {
        "cross_entropy": ([z], lambda z: F.cross_entropy(z, y)),
        "cross_entropy_all_options": ([z], lambda z: F.cross_entropy(z, y, weight=w32, label_smoothing=0.1)),
        "cross_entropy_none": ([z], lambda z: F.cross_entropy(z, y, weight=w32, reduction="none")),
        "cross_entropy_prob": ([z], lambda z: F.cross_entropy(z, q32, weight=w32, label_smoothing=0.1)),
        "cross_entropy_ncd": ([rng().standard_normal((2, 4, 3))], lambda z: F.cross_entropy(z, const([[1, 0, 3], [2, 2, 1]], np.int64))),
        "nll_loss": ([z], lambda x: F.nll_loss(x, y, weight=w32)),
        "batch_norm_train": ([z, np.ones(4), np.zeros(4)], lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True)),
        "batch_norm_eval": ([z, np.ones(4), np.zeros(4)], lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False)),
        "batch_norm_3d": ([rng().standard_normal((2, 4, 3))], lambda x: F.batch_norm(x, None, None, training=True)),
        "linear": ([rng().standard_normal((2, 3, 4)), z, np.ones(5)], F.linear),
        "embedding": ([z], lambda w: F.embedding(idx, w, padding_idx=0)),
        "dropout": ([z], lambda x: F.dropout(x, 0.3)),
        "mse_loss": ([z, z[::-1].copy()], F.mse_loss),
        "softmax": ([z], lambda x: F.softmax(x, 1)),
        "log_softmax": ([z], lambda x: F.log_softmax(x, 1)),
    }


@pytest.mark.parametrize("name", list(_float32_ops()))
def test_float32_in_float32_out_and_float32_gradients(name):
    arrays, fn = _float32_ops()[name]
    leaves = [leaf(a, np.float32) for a in arrays]
    out = fn(*leaves)
    assert out.dtype == torch.float32
    # the op's own backward returns float32 arrays (accumulation into .grad would hide a float64 one)
    upstream = np.ones(out.shape, dtype=np.float32)
    for g in out.grad_fn(upstream):
        assert g is None or g.dtype == np.float32, g.dtype
    out.backward(torch.tensor(upstream))
    for t in leaves:
        assert t.grad.dtype == torch.float32
