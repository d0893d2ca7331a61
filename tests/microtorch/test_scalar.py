"""The scalar engine: hand-derived gradients, a finite-difference check of every op, gradient
accumulation, a 100,000-op chain, the errors, and agreement with the tensor engine."""
import math

import pytest

import microtorch
from microtorch.scalar import Value


def analytic(f, *xs):
    """f's value and d f / d x_i by backward(), at the point xs."""
    vs = [Value(x) for x in xs]
    out = f(*vs)
    out.backward()
    return out.data, [v.grad for v in vs]


def numeric(f, *xs, h=1e-6):
    """d f / d x_i by central differences in float64."""
    grads = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        grads.append((f(*map(Value, up)).data - f(*map(Value, down)).data) / (2 * h))
    return grads


def every_op(a, b, c):
    """Uses + - * / ** and unary -, a number on either side of each binary op, exp, log, tanh, relu.

    Written once for both engines: a, b, c are Values or 0-d tensors.
    """
    s = a * b - c / a + b
    t = (2.0 + s) * (3.0 - c) / (1.5 / b) - 0.5 * s
    u = (-c) ** 3 + b**-2 + a**0.5 + 1.0 / (1.0 + s**2)
    v = (a * a + 1.0).log() + (b / 4.0).exp() + (c + s).tanh() + (s - 1.0).relu() + (c - 10.0).relu()
    return t * u + v - 2.0 * v / 3.0 + a + 1.0 - b * 2.0


def neuron(x1, x2, w1, w2, b):
    """tanh(x1 w1 + x2 w2 + b), the two-input neuron of the micrograd lecture."""
    return (x1 * w1 + x2 * w2 + b).tanh()


# at n = atanh(1/sqrt 2) the output is 1/sqrt 2 and d tanh/dn = 1 - 1/2 = 1/2
NEURON_POINT = (2.0, 0.0, -3.0, 1.0, 6.0 + math.atanh(math.sqrt(0.5)))
EVERY_OP_POINT = (0.8, 1.7, -0.6)


# ------------------------------------------------------------------ known derivatives
def test_micrograd_readme_example():
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    # By hand: c = 3a + 4b + 3 = -1, d = 12(ab + b^3) + 4 relu(a+b) + relu(b-a) = 6 (a+b < 0 < b-a),
    # e = c - d = -7, g = e^2/2 + 10/e^2 = 49/2 + 10/49, dg/de = e - 20/e^3 = -2381/343,
    # de/da = 3 - (12b - 1) = -20, de/db = 4 - (12(a + 3b^2) + 1) = -93.
    assert (c.data, d.data, e.data) == (-1.0, 6.0, -7.0)
    assert g.data == pytest.approx(49 / 2 + 10 / 49, rel=1e-15)
    assert a.grad == pytest.approx(-20 * -2381 / 343, rel=1e-14)  # 138.8338...
    assert b.grad == pytest.approx(-93 * -2381 / 343, rel=1e-14)  # 645.5773...


def test_neuron_by_hand():
    x1, x2, w1, w2, b = vs = [Value(x) for x in NEURON_POINT]
    o = neuron(*vs)
    o.backward()
    assert o.data == pytest.approx(math.sqrt(0.5), rel=1e-14)
    # d o/d w_i = x_i / 2, d o/d x_i = w_i / 2, d o/d b = 1/2
    assert [x1.grad, x2.grad, w1.grad, w2.grad, b.grad] == pytest.approx([-1.5, 0.5, 1.0, 0.0, 0.5], abs=1e-14)


def test_grad_of_the_output_is_one_and_leaves_start_at_zero():
    x = Value(3.0)
    assert x.grad == 0.0
    y = x * x
    y.backward()
    assert y.grad == 1.0
    assert x.grad == 6.0


def test_relu_derivative_is_zero_at_zero_and_x_pow_0_is_constant():
    x = Value(0.0)
    (x.relu() + x**0).backward()
    assert x.grad == 0.0


# ------------------------------------------------------------------ finite differences
OPS = {
    "add": (lambda a, b: a + b, (0.7, -1.3)),
    "sub": (lambda a, b: a - b, (0.7, -1.3)),
    "mul": (lambda a, b: a * b, (0.7, -1.3)),
    "truediv": (lambda a, b: a / b, (0.7, -1.3)),
    "pow_int": (lambda a: a**3, (-0.8,)),
    "pow_negative_int": (lambda a: a**-2, (1.3,)),
    "pow_float": (lambda a: a**1.5, (0.9,)),
    "pow_sqrt": (lambda a: a**0.5, (2.1,)),
    "neg": (lambda a: -a, (0.7,)),
    "add_number": (lambda a: a + 2.5, (0.7,)),
    "sub_number": (lambda a: a - 2.5, (0.7,)),
    "mul_number": (lambda a: a * 2.5, (0.7,)),
    "truediv_number": (lambda a: a / 2.5, (0.7,)),
    "radd": (lambda a: 2.5 + a, (0.7,)),
    "rsub": (lambda a: 2.5 - a, (0.7,)),
    "rmul": (lambda a: 2.5 * a, (0.7,)),
    "rtruediv": (lambda a: 2.5 / a, (-0.6,)),
    "exp": (lambda a: a.exp(), (0.7,)),
    "log": (lambda a: a.log(), (0.6,)),
    "tanh": (lambda a: a.tanh(), (0.4,)),
    "relu_positive": (lambda a: a.relu(), (0.8,)),
    "relu_negative": (lambda a: a.relu(), (-0.8,)),
    "every_op": (every_op, EVERY_OP_POINT),
    "neuron": (neuron, NEURON_POINT),
}


@pytest.mark.parametrize("name", OPS)
def test_gradient_matches_finite_differences(name):
    f, point = OPS[name]
    _, grads = analytic(f, *point)
    assert grads == pytest.approx(numeric(f, *point), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(
    "f, expected",
    [
        (lambda: Value(0.7) + 2, 2.7),
        (lambda: 2 - Value(0.5), 1.5),
        (lambda: 3 * Value(0.5), 1.5),
        (lambda: 3 / Value(0.5), 6.0),
        (lambda: Value(-2.0) ** 3, -8.0),
        (lambda: -Value(1.5), -1.5),
        (lambda: Value(1.0).exp(), math.e),
        (lambda: Value(math.e).log(), 1.0),
        (lambda: Value(0.5).tanh(), math.tanh(0.5)),
        (lambda: Value(-0.5).relu(), 0.0),
        (lambda: Value(0.5).relu(), 0.5),
    ],
)
def test_forward_values(f, expected):
    out = f()
    assert isinstance(out, Value)
    assert out.data == pytest.approx(expected, rel=1e-15)


# ------------------------------------------------------------------ accumulation
def test_a_node_used_twice_gets_both_contributions():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0

    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0

    a = Value(3.0)
    b = a * 4.0
    (b * b + b).backward()  # an interior node used three times: d/da (16a^2 + 4a) = 32a + 4
    assert a.grad == 100.0


def test_leaves_accumulate_over_backward_calls_and_interior_nodes_do_not():
    x = Value(2.0)
    y = x * 3.0
    z = y * y
    z.backward()
    assert (x.grad, y.grad) == (36.0, 12.0)
    z.backward()  # micrograd would give 36 + 108: y.grad accumulated to 24 and was sent on again
    assert (x.grad, y.grad, z.grad) == (72.0, 12.0, 1.0)
    x.grad = 0.0
    (x * 5.0).backward()
    assert x.grad == 5.0


def test_backward_of_a_leaf():
    x = Value(2.0)
    x.backward()
    assert x.grad == 1.0


def test_backward_through_a_chain_of_100000_ops():
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y + x
    y.backward()
    assert y.data == 100_001.0
    assert x.grad == 100_001.0

    x = Value(0.5)
    y = x
    for _ in range(33_334):  # 100,002 ops whose local derivatives are not 1: y * c, e^y, ln(e^y)
        y = (y * 1.00001).exp().log()
    y.backward()
    assert x.grad == pytest.approx(1.00001**33_334, rel=1e-9)


# ------------------------------------------------------------------ structure and errors
def test_graph_structure_and_repr():
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    assert c._prev == (a, b) and c._op == "*"
    assert a._prev == () and a._op == ""
    assert isinstance(Value(2).data, float)
    assert repr(c) == "Value(data=-6.0, grad=0.0)"
    c.backward()
    assert repr(a) == "Value(data=2.0, grad=-3.0)"
    assert not hasattr(a, "__dict__")  # __slots__


@pytest.mark.parametrize("x", [0.0, -2.5])
def test_log_of_a_non_positive_number_raises(x):
    with pytest.raises(ValueError, match=f"non-positive.*{x}"):
        Value(x).log()


def test_value_exponent_raises():
    with pytest.raises(TypeError, match="only constant exponents"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(TypeError, match="only constant exponents"):
        2.0 ** Value(3.0)
    with pytest.raises(TypeError, match="only constant exponents"):
        Value(2.0) ** "3"


def test_fractional_power_of_a_negative_number_raises():
    with pytest.raises(ValueError, match="not a real number"):
        Value(-8.0) ** 0.5


def test_non_number_operand_raises():
    with pytest.raises(TypeError, match="str"):
        Value(1.0) + "x"
    with pytest.raises(TypeError, match="list"):
        [1.0] * Value(2.0)


# ------------------------------------------------------------------ against the tensor engine
def tensor_result(f, *xs):
    """f's value and gradients computed by microtorch's tensor engine on 0-d float64 tensors."""
    ts = [microtorch.tensor(x, dtype=microtorch.float64, requires_grad=True) for x in xs]
    out = f(*ts)
    out.backward()
    return out.item(), [t.grad.item() for t in ts]


@pytest.mark.parametrize(
    "f, point",
    [
        (neuron, NEURON_POINT),
        (every_op, EVERY_OP_POINT),
        (every_op, (2.3, 0.4, 1.1)),
        (lambda a: a * a + a, (-1.5,)),
        (lambda a: a.relu() * 3.0 + a**0 + a**2, (0.0,)),  # the conventions at 0
    ],
)
def test_same_values_and_gradients_as_the_tensor_engine(f, point):
    value, grads = analytic(f, *point)
    t_value, t_grads = tensor_result(f, *point)
    assert value == pytest.approx(t_value, rel=1e-12)
    assert grads == pytest.approx(t_grads, rel=1e-12, abs=1e-15)


def test_leaves_accumulate_like_the_tensor_engine():
    x = Value(1.5)
    t = microtorch.tensor(1.5, dtype=microtorch.float64, requires_grad=True)
    for leaf in (x, t):
        (leaf * leaf).backward()
        (leaf.tanh() * 2.0).backward()
    assert x.grad == pytest.approx(t.grad.item(), rel=1e-12)
