"""nn.Module and nn.Parameter: registration, traversal, modes, dtype, state_dict, repr."""
import copy

import numpy as np
import pytest

import microtorch as torch
import microtorch.nn as nn


def small_model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4))


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.scale = nn.Parameter(torch.ones(1))
        self.register_buffer("steps", torch.zeros(1))
        self.fc2 = nn.Linear(3, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x).tanh() * self.scale)


# ---------------------------------------------------------------------- Parameter
def test_parameter_shares_storage_and_requires_grad():
    data = torch.zeros(2, 3)
    p = nn.Parameter(data)
    assert isinstance(p, torch.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    data._array[0, 0] = 5.0
    assert p[0, 0].item() == 5.0


def test_parameter_defaults_and_flags():
    assert nn.Parameter().shape == (0,)
    assert nn.Parameter().dtype == torch.float32
    assert not nn.Parameter(torch.zeros(2), requires_grad=False).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(torch.tensor([1, 2]))
    assert not nn.Parameter(torch.tensor([1, 2]), requires_grad=False).requires_grad


def test_parameter_repr():
    p = nn.Parameter(torch.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"


def test_parameter_works_in_arithmetic_indexing_and_matmul():
    p = nn.Parameter(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    t = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    results = [p + 1, 1 + p, p - t, 2 * p, p * t, p / 2, 1 / p, p**2, -p, p @ t, t @ p, p.T, p[0], p[:, 1],
               p[torch.tensor([1, 1, 0])], p.sum(), p.tanh(), torch.cat([p, t]), torch.stack([p, p]),
               torch.where(t > 0, p, t), p.exp().log()]
    for r in results:
        assert type(r) is torch.Tensor
    assert np.allclose((p @ t).detach().numpy(), [[1, 4], [3, 8]])
    assert np.allclose((t @ p).detach().numpy(), [[1, 2], [6, 8]])
    assert np.allclose(p[torch.tensor([1, 1, 0])].detach().numpy(), [[3, 4], [3, 4], [1, 2]])
    loss = (p @ t).sum() + p[torch.tensor([1, 1])].sum() + (p * p).sum()
    loss.backward()
    expected = np.array([[1, 2], [1, 2]]) + np.array([[0, 0], [2, 2]]) + 2 * p._array
    assert np.allclose(p.grad.numpy(), expected)


def test_parameter_in_place_update_under_no_grad():
    p = nn.Parameter(torch.ones(3))
    (p * 2).sum().backward()
    with torch.no_grad():
        p -= 0.5 * p.grad
    assert np.allclose(p.detach().numpy(), 0.0)
    assert isinstance(p, nn.Parameter)


# ---------------------------------------------------------------------- registration
def test_registration_order_and_names():
    m = TwoLayer()
    # as in PyTorch: a module's own parameters first, then each child's in turn
    assert [name for name, _ in m.named_parameters()] == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [name for name, _ in m.named_buffers()] == ["steps"]
    assert [name for name, _ in m.named_children()] == ["fc1", "fc2"]
    assert [name for name, _ in m.named_modules()] == ["", "fc1", "fc2"]
    assert list(m._parameters) == ["scale"]
    assert [p.shape for p in m.parameters(recurse=False)] == [(1,)]
    assert len(list(m.parameters())) == 5
    assert list(m.modules())[0] is m


def test_attributes_are_plain_dict_hits_and_consistent():
    m = TwoLayer()
    assert m.__dict__["scale"] is m._parameters["scale"] is m.scale
    assert m.__dict__["fc1"] is m._modules["fc1"]
    assert m.__dict__["steps"] is m._buffers["steps"]
    new = nn.Parameter(torch.zeros(1))
    m.scale = new
    assert m.scale is new and m._parameters["scale"] is new
    m.scale = None
    assert m.scale is None and m._parameters["scale"] is None
    assert [name for name, _ in m.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    m.steps = torch.ones(2)
    assert m._buffers["steps"] is m.steps
    m.fc2 = None
    assert m.fc2 is None and [name for name, _ in m.named_children()] == ["fc1"]


def test_reassignment_keeps_the_registration_order():
    m = TwoLayer()
    m.register_parameter("last", nn.Parameter(torch.zeros(1)))
    m.fc1 = nn.Linear(2, 3)
    m.scale = nn.Parameter(torch.zeros(1))
    assert [name for name, _ in m.named_children()] == ["fc1", "fc2"]
    assert list(m._parameters) == ["scale", "last"]


def test_in_place_scaling_of_a_layer_weight_keeps_it_registered():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 2))
    weight = model[-1].weight
    before = weight._array.copy()
    with torch.no_grad():
        model[-1].weight *= 0.1  # reassigns the attribute to the same Parameter
    assert model[-1].weight is weight and model[-1]._parameters["weight"] is weight
    assert np.allclose(weight._array, 0.1 * before)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_deleting_a_registered_attribute():
    m = TwoLayer()
    del m.scale
    del m.steps
    del m.fc2
    assert "scale" not in m._parameters and "steps" not in m._buffers and "fc2" not in m._modules
    for name in ("scale", "steps", "fc2"):
        assert not hasattr(m, name)
    with pytest.raises(AttributeError, match="'TwoLayer' object has no attribute 'nothing'"):
        m.nothing


def test_rebinding_a_name_moves_it_between_registries():
    m = TwoLayer()
    m.fc1 = nn.Parameter(torch.zeros(2))
    assert "fc1" not in m._modules and m._parameters["fc1"] is m.fc1
    m.scale = nn.Linear(1, 1)
    assert "scale" not in m._parameters and m._modules["scale"] is m.scale
    m.plain = 3
    m.plain = nn.Parameter(torch.zeros(1))
    assert "plain" in m._parameters


def test_wrong_assignments_raise():
    m = TwoLayer()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        m.scale = torch.ones(1)
    with pytest.raises(TypeError, match="as child module 'fc1'"):
        m.fc1 = 3
    with pytest.raises(TypeError, match="as buffer 'steps'"):
        m.steps = 3
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("fc1", torch.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="to parameter 'w'"):
        m.register_parameter("w", torch.zeros(1))
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("w", _non_leaf_parameter())


def _non_leaf_parameter():
    p = nn.Parameter(torch.zeros(1))
    p._node = (torch.ones(1, requires_grad=True) * 2).grad_fn  # as if an op had produced it
    return p


def test_assignment_before_init_raises():
    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(torch.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Forgetful()


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    m = nn.Sequential(shared, nn.Tanh(), shared)
    assert len(list(m.parameters())) == 2
    assert len(list(m.modules())) == 3
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_non_persistent_buffer_is_not_saved():
    m = nn.Module()
    m.register_buffer("kept", torch.zeros(1))
    m.register_buffer("scratch", torch.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["kept"]
    assert [name for name, _ in m.named_buffers()] == ["kept", "scratch"]


def test_forward_missing_raises():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_call_runs_forward_with_args():
    class Add(nn.Module):
        def forward(self, a, b=0):
            return a + b

    assert Add()(1, b=2) == 3


# ---------------------------------------------------------------------- modes and grads
def test_train_eval_propagate_and_return_self():
    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.BatchNorm1d(2), nn.Dropout()))
    assert all(sub.training for sub in m.modules())
    assert m.eval() is m
    assert not any(sub.training for sub in m.modules())
    assert m.train() is m
    assert all(sub.training for sub in m.modules())
    m.train(False)
    assert not m[1][1].training
    with pytest.raises(ValueError, match="boolean"):
        m.train("yes")


def test_zero_grad():
    m = TwoLayer()
    m(torch.randn(4, 2)).sum().backward()
    grads = [p._grad for p in m.parameters()]
    assert all(g is not None for g in grads)
    m.zero_grad(set_to_none=False)
    for p, g in zip(m.parameters(), grads):
        assert p._grad is g and not g.any()
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_requires_grad_():
    m = TwoLayer().requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_visits_children_first():
    m = nn.Sequential(nn.Linear(1, 1), nn.Tanh())
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "Tanh", "Sequential"]


# ---------------------------------------------------------------------- dtype
def test_to_float64_converts_params_and_float_buffers_in_place():
    m = small_model()
    weight = m[0].weight
    m[0](torch.randn(2, 3)).sum().backward()
    assert m.to(torch.float64) is m
    assert m[0].weight is weight and weight.dtype == torch.float64
    assert weight._grad.dtype == torch.float64
    assert m[1].running_mean.dtype == torch.float64 and m[1].running_var.dtype == torch.float64
    assert m[1].num_batches_tracked.dtype == torch.int64
    assert m(torch.randn(5, 3, dtype=torch.float64)).dtype == torch.float64
    m.float()
    assert all(p.dtype == torch.float32 for p in m.parameters())
    m.double()
    assert all(p.dtype == torch.float64 for p in m.parameters())
    m.to(torch.zeros(1))  # to(tensor) takes its dtype
    assert all(p.dtype == torch.float32 for p in m.parameters())


def test_to_refuses_integer_dtype_and_other_devices():
    m = small_model()
    with pytest.raises(TypeError, match="floating point"):
        m.to(torch.int64)
    with pytest.raises(RuntimeError, match="CPU only"):
        m.to("cuda")
    assert m.to("cpu") is m


# ---------------------------------------------------------------------- state_dict
def test_nested_state_dict_keys():
    assert list(small_model().state_dict()) == [
        "0.weight",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]


def test_state_dict_values_are_copies():
    m = small_model()
    state = m.state_dict()
    assert all(type(v) is torch.Tensor and not v.requires_grad for v in state.values())
    before = state["0.weight"]._array.copy()
    with torch.no_grad():
        m[0].weight += 1.0
    m.train()(torch.randn(8, 3))
    assert np.array_equal(state["0.weight"]._array, before)
    assert state["1.num_batches_tracked"].item() == 0
    assert not np.shares_memory(state["1.running_mean"]._array, m[1].running_mean._array)


def test_state_dict_keep_vars_gives_the_tensors():
    m = small_model()
    assert m.state_dict(keep_vars=True)["0.weight"] is m[0].weight


def test_load_state_dict_round_trip_gives_equal_outputs():
    torch.manual_seed(0)
    source = small_model()
    for _ in range(3):
        source(torch.randn(8, 3))
    source.eval()
    target = small_model().eval()
    weight = target[0].weight
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert target[0].weight is weight  # values copied in place
    assert not np.shares_memory(target[0].weight._array, source[0].weight._array)
    x = torch.randn(5, 3)
    assert np.array_equal(source(x).detach().numpy(), target(x).detach().numpy())
    assert target[1].num_batches_tracked.item() == 3


def test_load_state_dict_keeps_the_model_dtype():
    state = {k: v.double() for k, v in small_model().state_dict().items()}
    m = small_model()
    m.load_state_dict(state)
    assert m[0].weight.dtype == torch.float32
    assert np.allclose(m[0].weight._array, state["0.weight"]._array)


def test_load_state_dict_missing_and_unexpected_keys():
    state = small_model().state_dict()
    del state["1.bias"]
    state["1.extra"] = torch.zeros(1)
    state["2.weight"] = torch.zeros(1)
    with pytest.raises(RuntimeError) as error:
        small_model().load_state_dict(state)
    message = str(error.value)
    assert message.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "1.bias".' in message
    assert 'Unexpected key(s) in state_dict: "1.extra", "2.weight".' in message
    result = small_model().load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.bias"]
    assert result.unexpected_keys == ["1.extra", "2.weight"]


def test_load_state_dict_size_mismatch_names_key_and_shapes():
    state = nn.Sequential(nn.Linear(3, 5, bias=False), nn.BatchNorm1d(5)).state_dict()
    for strict in (True, False):
        with pytest.raises(RuntimeError) as error:
            small_model().load_state_dict(state, strict=strict)
        message = str(error.value)
        assert (
            "size mismatch for 0.weight: copying a param with shape (5, 3) from checkpoint, "
            "the shape in current model is (4, 3)." in message
        )
        assert "size mismatch for 1.running_var" in message


def test_load_state_dict_non_tensor_value():
    state = small_model().state_dict()
    state["0.weight"] = [[0.0] * 3] * 4
    with pytest.raises(RuntimeError, match='parameter named "0.weight"'):
        small_model().load_state_dict(state)


def test_deepcopy_makes_independent_module():
    m = TwoLayer()
    twin = copy.deepcopy(m)
    assert twin.fc1.weight is not m.fc1.weight
    assert twin.__dict__["fc1"] is twin._modules["fc1"]
    assert twin.scale is twin._parameters["scale"]
    assert np.array_equal(twin.fc1.weight._array, m.fc1.weight._array)
    with torch.no_grad():
        twin.fc1.weight += 1
    assert not np.array_equal(twin.fc1.weight._array, m.fc1.weight._array)


# ---------------------------------------------------------------------- repr
def test_repr_is_the_module_tree():
    m = nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4), nn.Sequential(nn.Tanh()))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=False)\n"
        "  (1): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  (2): Sequential(\n"
        "    (0): Tanh()\n"
        "  )\n"
        ")"
    )


def test_repr_of_custom_module_with_extra_repr_and_children():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def extra_repr(self):
            return "size=2"

    assert repr(Block()) == "Block(\n  size=2\n  (fc): Linear(in_features=2, out_features=2, bias=True)\n)"
    assert repr(nn.Module()) == "Module()"
