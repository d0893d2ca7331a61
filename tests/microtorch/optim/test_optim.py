"""Optimizers against PyTorch's update rules, written out step by step in numpy."""
import numpy as np
import pytest

import microtorch
from microtorch.optim import SGD, Adam, AdamW, Optimizer

P0 = np.array([1.0, -2.0, 0.5])
# The second coordinate's gradient shrinks after the first step, so Adam's v decreases there
# and amsgrad's running max differs from v.
GRADS = [np.array([0.5, -3.0, 0.2]), np.array([-0.2, 0.4, 0.05]), np.array([0.3, 0.1, -0.6])]


def param(values=P0, dtype=np.float64) -> microtorch.Tensor:
    return microtorch.tensor(np.array(values, dtype=dtype), requires_grad=True)


def set_grad(p: microtorch.Tensor, g) -> None:
    p.grad = microtorch.tensor(np.array(g, dtype=p.dtype))


def run(make_optimizer, grads=GRADS) -> list[np.ndarray]:
    """The parameter after each step of an optimizer over one parameter starting at P0."""
    p = param()
    opt = make_optimizer([p])
    history = []
    for g in grads:
        set_grad(p, g)
        opt.step()
        history.append(p.detach().numpy().copy())
    return history


# ---------------------------------------------------------------------- reference rules
def sgd_reference(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    p, buf, history = P0.copy(), None, []
    for g in GRADS:
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum != 0:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        history.append(p)
    return history


def adam_reference(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False, decoupled=False):
    beta1, beta2 = betas
    p, history = P0.copy(), []
    m, v, v_max = np.zeros(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        p = p - lr * (m / (1 - beta1**t)) / (np.sqrt(v_hat) + eps)
        history.append(p)
    return history


def assert_history(actual, expected):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------- SGD
SGD_VARIANTS = {
    "plain": {},
    "maximize": dict(maximize=True),
    "weight_decay": dict(weight_decay=0.1),
    "momentum": dict(momentum=0.9),
    "dampening": dict(momentum=0.9, dampening=0.3),
    "nesterov": dict(momentum=0.9, nesterov=True),
    "all": dict(momentum=0.5, dampening=0.2, weight_decay=0.05, maximize=True),
    "nesterov_weight_decay": dict(momentum=0.8, nesterov=True, weight_decay=0.1, maximize=True),
}


@pytest.mark.parametrize("options", SGD_VARIANTS.values(), ids=SGD_VARIANTS.keys())
def test_sgd_follows_pytorch_rule(options):
    assert_history(run(lambda ps: SGD(ps, lr=0.1, **options)), sgd_reference(0.1, **options))


@pytest.mark.parametrize("options", list(SGD_VARIANTS.values())[1:], ids=list(SGD_VARIANTS)[1:])
def test_sgd_variants_change_the_result(options):
    """Guards the test above: each option really changes the trajectory."""
    assert not np.allclose(sgd_reference(0.1, **options)[-1], sgd_reference(0.1)[-1])


def test_sgd_momentum_by_hand():
    # g = 1 each step, lr 0.1: b = 1, 1.9, 2.71; p = 1 - 0.1 * (1, 1.9, 2.71) cumulatively.
    p = param([1.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    values = []
    for _ in range(3):
        set_grad(p, [1.0])
        opt.step()
        values.append(p.item())
    assert values == pytest.approx([0.9, 0.71, 0.439], abs=1e-12)
    assert opt.state[p]["momentum_buffer"].tolist() == pytest.approx([2.71])


def test_sgd_nesterov_by_hand():
    # b = 1 then 1.9; the step uses g + 0.9 b = 1.9 then 2.71.
    p = param([1.0])
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    values = []
    for _ in range(2):
        set_grad(p, [1.0])
        opt.step()
        values.append(p.item())
    assert values == pytest.approx([0.81, 0.539], abs=1e-12)


def test_sgd_without_momentum_keeps_no_state():
    p = param()
    opt = SGD([p], lr=0.1, weight_decay=0.1)
    set_grad(p, GRADS[0])
    opt.step()
    assert len(opt.state) == 0


def test_sgd_momentum_buffer_is_a_copy_of_the_first_gradient():
    p = param()
    opt = SGD([p], lr=0.1, momentum=0.9)
    set_grad(p, GRADS[0])
    opt.step()
    p._grad[:] = 100.0  # writing into the gradient must not reach the buffer
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(), GRADS[0])


def test_sgd_step_after_real_backward():
    p = param()
    loss = (p * p).sum()
    loss.backward()
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.detach().numpy(), P0 - 0.1 * 2 * P0)


# ---------------------------------------------------------------------- Adam / AdamW
ADAM_VARIANTS = {
    "plain": {},
    "weight_decay": dict(weight_decay=0.1),
    "amsgrad": dict(amsgrad=True),
    "maximize": dict(maximize=True),
    "all": dict(weight_decay=0.1, amsgrad=True, maximize=True, eps=1e-3),
}
ADAM_SETTINGS = dict(lr=0.1, betas=(0.8, 0.9))


@pytest.mark.parametrize("options", ADAM_VARIANTS.values(), ids=ADAM_VARIANTS.keys())
def test_adam_follows_pytorch_rule(options):
    actual = run(lambda ps: Adam(ps, **ADAM_SETTINGS, **options))
    assert_history(actual, adam_reference(**ADAM_SETTINGS, **options))


@pytest.mark.parametrize("options", ADAM_VARIANTS.values(), ids=ADAM_VARIANTS.keys())
def test_adamw_follows_pytorch_rule(options):
    options = {"weight_decay": 0.1, **options}
    actual = run(lambda ps: AdamW(ps, **ADAM_SETTINGS, **options))
    assert_history(actual, adam_reference(**ADAM_SETTINGS, **options, decoupled=True))


@pytest.mark.parametrize("options", list(ADAM_VARIANTS.values())[1:], ids=list(ADAM_VARIANTS)[1:])
def test_adam_variants_change_the_result(options):
    assert not np.allclose(adam_reference(**ADAM_SETTINGS, **options)[-1], adam_reference(**ADAM_SETTINGS)[-1])


def test_adamw_decay_differs_from_adam_decay():
    coupled = adam_reference(**ADAM_SETTINGS, weight_decay=0.1)
    decoupled = adam_reference(**ADAM_SETTINGS, weight_decay=0.1, decoupled=True)
    assert not np.allclose(coupled[-1], decoupled[-1])


def test_adam_first_step_moves_each_coordinate_by_lr():
    # After one step m_hat = g and v_hat = g*g, so p moves by lr * g / (|g| + eps).
    history = run(lambda ps: Adam(ps, lr=0.01), grads=GRADS[:1])
    expected = P0 - 0.01 * GRADS[0] / (np.abs(GRADS[0]) + 1e-8)
    np.testing.assert_allclose(history[0], expected, rtol=1e-12)


def test_adamw_default_weight_decay():
    p = param()
    opt = AdamW([p])
    assert opt.param_groups[0]["weight_decay"] == 1e-2
    set_grad(p, GRADS[0])
    opt.step()
    expected = P0 * (1 - 1e-3 * 1e-2) - 1e-3 * GRADS[0] / (np.abs(GRADS[0]) + 1e-8)
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-12)


def test_adam_state_holds_pytorch_keys_and_step_count():
    p = param()
    opt = Adam([p], amsgrad=True)
    for g in GRADS:
        set_grad(p, g)
        opt.step()
    state = opt.state[p]
    assert set(state) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert isinstance(state["step"], microtorch.Tensor) and state["step"].item() == 3
    assert state["step"].dtype == microtorch.float32
    assert state["exp_avg"].shape == p.shape and state["exp_avg"].dtype == p.dtype


# ---------------------------------------------------------------------- shared behaviour
ALL_OPTIMIZERS = {
    "sgd": lambda ps: SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    "adam": lambda ps: Adam(ps, lr=0.1, amsgrad=True, weight_decay=0.01),
    "adamw": lambda ps: AdamW(ps, lr=0.1),
}


@pytest.mark.parametrize("make", ALL_OPTIMIZERS.values(), ids=ALL_OPTIMIZERS.keys())
def test_float32_stays_float32_and_updates_in_place(make):
    p = param(dtype=np.float32)
    storage, view = p._array, p.data
    opt = make([p])
    for g in GRADS:
        set_grad(p, g)
        opt.step()
    assert p._array is storage and p.dtype == microtorch.float32
    assert not np.allclose(storage, P0)
    np.testing.assert_array_equal(view.numpy(), p.detach().numpy())
    for value in opt.state[p].values():
        if value is not opt.state[p].get("step"):
            assert value.dtype == microtorch.float32


@pytest.mark.parametrize("make", ALL_OPTIMIZERS.values(), ids=ALL_OPTIMIZERS.keys())
def test_step_skips_parameters_without_grad(make):
    p, q = param(), param()
    opt = make([p, q])
    set_grad(p, GRADS[0])
    opt.step()
    np.testing.assert_array_equal(q.detach().numpy(), P0)
    assert q not in opt.state
    assert not np.allclose(p.detach().numpy(), P0)


def test_step_runs_closure_with_grad_enabled_and_returns_its_loss():
    p = param()
    opt = SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with microtorch.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(float(P0 @ P0))
    np.testing.assert_allclose(p.detach().numpy(), P0 - 0.2 * P0)


def test_param_groups_have_their_own_options_and_defaults():
    p, q = param(), param()
    opt = SGD([{"params": [p]}, {"params": q, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0, 0.9]
    assert opt.param_groups[1]["params"] == [q]
    set_grad(p, GRADS[0])
    set_grad(q, GRADS[0])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), P0 - 0.1 * GRADS[0])
    np.testing.assert_allclose(q.detach().numpy(), P0 - 0.5 * GRADS[0])


@pytest.mark.parametrize("make", ALL_OPTIMIZERS.values(), ids=ALL_OPTIMIZERS.keys())
def test_editing_group_lr_takes_effect_on_next_step(make):
    p = param()
    opt = make([p])
    set_grad(p, GRADS[0])
    opt.step()
    after_first = p.detach().numpy().copy()
    opt.param_groups[0]["lr"] = 0.0  # lr 0: neither the step nor the decay moves p
    set_grad(p, GRADS[1])
    opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), after_first)
    assert not np.allclose(after_first, P0)


def test_editing_sgd_lr_scales_the_next_step():
    p = param()
    opt = SGD([p], lr=0.1)
    set_grad(p, GRADS[0])
    opt.step()
    opt.param_groups[0]["lr"] = 0.5
    set_grad(p, GRADS[1])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), P0 - 0.1 * GRADS[0] - 0.5 * GRADS[1])


def test_add_param_group_fills_defaults_and_is_stepped():
    p, q = param(), param()
    opt = SGD([p], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": [q], "lr": 0.2})
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[1]["lr"] == 0.2
    set_grad(q, GRADS[0])
    opt.step()
    np.testing.assert_allclose(q.detach().numpy(), P0 - 0.2 * GRADS[0])


def test_zero_grad_sets_to_none_by_default():
    p = param()
    opt = SGD([p], lr=0.1)
    set_grad(p, GRADS[0])
    opt.zero_grad()
    assert p.grad is None


def test_zero_grad_in_place_keeps_the_gradient_storage():
    p, q = param(), param()
    opt = SGD([p, q], lr=0.1)
    set_grad(p, GRADS[0])
    storage = p._grad
    opt.zero_grad(set_to_none=False)
    assert p._grad is storage
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3))
    assert q.grad is None


def test_repr_lists_group_options():
    opt = SGD([param()], lr=0.1)
    assert repr(opt).splitlines()[:3] == ["SGD (", "Parameter Group 0", "    dampening: 0"]
    assert "    lr: 0.1" in repr(opt)


# ---------------------------------------------------------------------- state_dict
ROUND_TRIP = {
    "sgd_momentum": lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1),
    "adam_amsgrad": lambda ps: Adam(ps, lr=0.1, betas=(0.8, 0.9), amsgrad=True),
    "adamw": lambda ps: AdamW(ps, lr=0.1, weight_decay=0.1),
}


@pytest.mark.parametrize("make", ROUND_TRIP.values(), ids=ROUND_TRIP.keys())
def test_state_dict_round_trip_continues_identically(make):
    params = [param(), param([3.0, 4.0])]
    first = make(params)
    grads = [[g, g[:2] * 2] for g in GRADS]
    for g in grads[:2]:
        for p, gp in zip(params, g):
            set_grad(p, gp)
        first.step()
    copies = [param(p.detach().numpy()) for p in params]
    second = make(copies)
    second.load_state_dict(first.state_dict())
    for g in grads[2:] + grads:
        for ps, opt in ((params, first), (copies, second)):
            for p, gp in zip(ps, g):
                set_grad(p, gp)
            opt.step()
    for p, c in zip(params, copies):
        np.testing.assert_array_equal(p.detach().numpy(), c.detach().numpy())


def test_state_dict_has_pytorch_structure():
    p, q, r = param(), param(), param()
    opt = SGD([{"params": [p, q]}, {"params": [r], "lr": 0.5}], lr=0.1, momentum=0.9)
    set_grad(q, GRADS[0])
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert list(sd["state"]) == [1]
    assert set(sd["state"][1]) == {"momentum_buffer"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1] == {
        "lr": 0.5, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False, "maximize": False, "params": [2],
    }


def test_state_dict_copies_the_arrays():
    p = param()
    opt = Adam([p], lr=0.1)
    set_grad(p, GRADS[0])
    opt.step()
    sd = opt.state_dict()
    saved = sd["state"][0]["exp_avg"].numpy().copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), saved)
    assert sd["state"][0]["step"].item() == 1


def test_load_state_dict_copies_and_restores_options():
    p, q = param(), param()
    source = SGD([p], lr=0.3, momentum=0.9)
    set_grad(p, GRADS[0])
    source.step()
    sd = source.state_dict()
    target = SGD([q], lr=0.1, momentum=0.9)
    target.load_state_dict(sd)
    assert target.param_groups[0]["lr"] == 0.3 and target.param_groups[0]["params"] == [q]
    target.state[q]["momentum_buffer"]._array[:] = 0
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"].numpy(), GRADS[0])


def test_load_state_dict_casts_state_to_the_parameter_dtype():
    source_param, target_param = param(), param(dtype=np.float32)
    source = Adam([source_param])
    set_grad(source_param, GRADS[0])
    source.step()
    target = Adam([target_param])
    target.load_state_dict(source.state_dict())
    assert target.state[target_param]["exp_avg"].dtype == microtorch.float32
    assert target.state[target_param]["step"].item() == 1


def test_load_state_dict_rejects_mismatches():
    p = param()
    opt = SGD([p], lr=0.1, momentum=0.9)
    set_grad(p, GRADS[0])
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        SGD([{"params": [param()]}, {"params": [param()]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        SGD([param(), param()], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of shape \(3,\) for a parameter of shape \(2,\)"):
        SGD([param([1.0, 2.0])], lr=0.1).load_state_dict(sd)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_negative_learning_rate_is_rejected(cls):
    with pytest.raises(ValueError, match=r"^Invalid learning rate: -0\.1$"):
        cls([param()], lr=-0.1)


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_empty_parameter_list_is_rejected(cls):
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        cls([])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda ps: SGD(ps, momentum=-0.1), "Invalid momentum value: -0.1"),
        (lambda ps: SGD(ps, weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda ps: SGD(ps, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (lambda ps: SGD(ps, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
        (lambda ps: Adam(ps, betas=(1.0, 0.999)), r"Invalid beta parameter at index 0: 1\.0"),
        (lambda ps: Adam(ps, betas=(0.9, -0.1)), r"Invalid beta parameter at index 1: -0\.1"),
        (lambda ps: Adam(ps, eps=-1e-8), "Invalid epsilon value"),
        (lambda ps: AdamW(ps, weight_decay=-0.1), "Invalid weight_decay value"),
    ],
)
def test_invalid_hyperparameters_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make([param()])


def test_invalid_params_are_rejected():
    p = param()
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        SGD([p, 1.0], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def test_base_optimizer_step_is_abstract():
    with pytest.raises(NotImplementedError):
        Optimizer([param()], {"lr": 0.1}).step()
