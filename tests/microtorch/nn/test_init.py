"""nn.init: gains, fans, and the statistics of each initialiser."""
import math

import numpy as np
import pytest

import microtorch as torch
import microtorch.nn as nn
from microtorch.nn import init


@pytest.mark.parametrize(
    "nonlinearity, param, gain",
    [
        ("linear", None, 1.0),
        ("conv1d", None, 1.0),
        ("conv2d", None, 1.0),
        ("conv3d", None, 1.0),
        ("conv_transpose2d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)),
        ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2 / (1 + 0.2**2))),
        ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain(nonlinearity, param, gain):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(gain)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "big")


def test_fan_in_and_fan_out():
    assert init._calculate_fan_in_and_fan_out(torch.empty(30, 20)) == (20, 30)
    assert init._calculate_fan_in_and_fan_out(torch.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(torch.empty(5))


@pytest.mark.parametrize(
    "shape, nonlinearity, mode",
    [
        ((1000, 1000), "tanh", "fan_in"),
        ((2000, 500), "relu", "fan_in"),
        ((2000, 500), "relu", "fan_out"),
        ((500, 2000), "tanh", "fan_out"),
        ((1000, 1000), "leaky_relu", "fan_in"),
    ],
)
def test_kaiming_normal_std(shape, nonlinearity, mode):
    w = torch.empty(*shape)
    assert init.kaiming_normal_(w, mode=mode, nonlinearity=nonlinearity) is w
    fan = shape[1] if mode == "fan_in" else shape[0]
    expected = init.calculate_gain(nonlinearity) / math.sqrt(fan)
    assert w._array.std() == pytest.approx(expected, rel=0.02)
    assert abs(w._array.mean()) < 0.02 * expected


def test_kaiming_uniform_bounds_and_std():
    w = torch.empty(2000, 500)
    init.kaiming_uniform_(w, nonlinearity="relu")
    bound = math.sqrt(3) * math.sqrt(2) / math.sqrt(500)
    a = w._array
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound
    assert a.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    init.kaiming_uniform_(w, a=math.sqrt(5))  # nn.Linear's default: bound 1/sqrt(fan_in)
    assert np.abs(w._array).max() <= 1 / math.sqrt(500)
    assert np.abs(w._array).max() > 0.99 / math.sqrt(500)


def test_kaiming_bad_mode():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(torch.empty(3, 3), mode="fan_avg")


def test_xavier():
    w = torch.empty(1000, 500)
    std = 2.0 * math.sqrt(2 / 1500)
    init.xavier_normal_(w, gain=2.0)
    assert w._array.std() == pytest.approx(std, rel=0.02)
    init.xavier_uniform_(w, gain=2.0)
    bound = math.sqrt(3) * std
    assert np.abs(w._array).max() <= bound and np.abs(w._array).max() > 0.99 * bound
    assert w._array.std() == pytest.approx(std, rel=0.02)


def test_normal_uniform_constant():
    w = torch.empty(500, 400)
    init.normal_(w, mean=3.0, std=0.5)
    assert w._array.mean() == pytest.approx(3.0, abs=0.01) and w._array.std() == pytest.approx(0.5, rel=0.02)
    init.uniform_(w, -2.0, 1.0)
    assert w._array.min() >= -2.0 and w._array.max() < 1.0 and w._array.mean() == pytest.approx(-0.5, abs=0.01)
    assert np.all(init.constant_(w, 0.25)._array == 0.25)
    assert not init.zeros_(w)._array.any()
    assert np.all(init.ones_(w)._array == 1)


def test_trunc_normal_stays_in_bounds():
    w = torch.empty(300, 300)
    init.trunc_normal_(w, mean=0.5, std=1.0, a=-1.0, b=1.0)
    assert w._array.min() >= -1.0 and w._array.max() <= 1.0
    assert w._array.min() < -0.99 and w._array.max() > 0.99


def test_init_works_on_parameters_that_require_grad():
    p = nn.Parameter(torch.empty(20, 10))
    for fill in (init.kaiming_normal_, init.kaiming_uniform_, init.xavier_normal_, init.xavier_uniform_,
                 init.normal_, init.uniform_, init.zeros_, init.ones_, init.trunc_normal_):
        assert fill(p) is p
    assert init.constant_(p, 2.0) is p
    assert p.requires_grad and p.is_leaf and torch.is_grad_enabled()


def test_init_keeps_dtype_and_identity():
    w = torch.empty(10, 10, dtype=torch.float64)
    array = w._array
    init.kaiming_normal_(w)
    assert w.dtype == torch.float64 and w._array is array


def test_generator_makes_init_reproducible():
    a, b = torch.empty(4, 4), torch.empty(4, 4)
    init.kaiming_normal_(a, generator=torch.Generator().manual_seed(5))
    init.kaiming_normal_(b, generator=torch.Generator().manual_seed(5))
    assert np.array_equal(a._array, b._array)
    torch.manual_seed(5)
    init.uniform_(a)
    torch.manual_seed(5)
    init.uniform_(b)
    assert np.array_equal(a._array, b._array)


def test_zero_element_tensor_is_a_no_op():
    with pytest.warns(UserWarning, match="no-op"):
        init.kaiming_normal_(torch.empty(0, 3))
