"""nn layers and containers: values against numpy, PyTorch's running-statistics rules, gradchecks."""
from collections import OrderedDict

import numpy as np
import pytest

import microtorch as torch
import microtorch.nn as nn
from microtorch.autograd import gradcheck


def randn64(*shape, requires_grad=False):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=requires_grad)


# ---------------------------------------------------------------------- Linear
def test_linear_shapes_and_init_bounds():
    layer = nn.Linear(400, 30)
    assert layer.weight.shape == (30, 400) and layer.bias.shape == (30,)
    assert layer.weight.dtype == torch.float32 and layer.weight.requires_grad
    bound = 1 / np.sqrt(400)
    w = layer.weight._array
    assert np.abs(w).max() <= bound and np.abs(layer.bias._array).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # uniform over the whole range, not narrower
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound


def test_linear_output_is_x_wt_plus_b():
    layer = nn.Linear(3, 2)
    x = torch.randn(5, 3)
    expected = x._array @ layer.weight._array.T + layer.bias._array
    assert np.allclose(layer(x).detach().numpy(), expected, atol=1e-6)
    batched = torch.randn(4, 5, 3)  # leading dimensions are batch dimensions
    assert layer(batched).shape == (4, 5, 2)


def test_linear_without_bias():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    x = torch.randn(4, 3)
    assert np.allclose(layer(x).detach().numpy(), x._array @ layer.weight._array.T)
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=False)"


def test_linear_init_follows_the_global_seed_and_a_generator():
    torch.manual_seed(1)
    a = nn.Linear(4, 3)
    torch.manual_seed(1)
    b = nn.Linear(4, 3)
    assert np.array_equal(a.weight._array, b.weight._array) and np.array_equal(a.bias._array, b.bias._array)
    c = nn.Linear(4, 3, generator=torch.Generator().manual_seed(7))
    d = nn.Linear(4, 3, generator=torch.Generator().manual_seed(7))
    assert np.array_equal(c.weight._array, d.weight._array)
    assert not np.array_equal(a.weight._array, c.weight._array)


def test_linear_dtype_and_gradcheck():
    layer = nn.Linear(3, 2, dtype=torch.float64)
    assert layer.weight.dtype == torch.float64 and layer.bias.dtype == torch.float64
    x = randn64(4, 3, requires_grad=True)
    assert gradcheck(lambda x, w, b: layer(x), (x, layer.weight, layer.bias))


def test_linear_backward_shapes():
    layer = nn.Linear(3, 2)
    layer(torch.randn(5, 3)).sum().backward()
    assert layer.weight.grad.shape == (2, 3) and layer.bias.grad.shape == (2,)
    assert np.allclose(layer.bias.grad.numpy(), 5.0)


# ---------------------------------------------------------------------- BatchNorm1d
def test_batchnorm_initial_state():
    bn = nn.BatchNorm1d(4)
    assert np.array_equal(bn.weight._array, np.ones(4)) and np.array_equal(bn.bias._array, np.zeros(4))
    assert np.array_equal(bn.running_mean._array, np.zeros(4)) and np.array_equal(bn.running_var._array, np.ones(4))
    assert bn.num_batches_tracked.dtype == torch.int64 and bn.num_batches_tracked.shape == ()
    assert bn.num_batches_tracked.item() == 0
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert repr(bn) == "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"


def test_batchnorm_training_normalises_with_the_biased_batch_variance():
    bn = nn.BatchNorm1d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.0, 2.0, 3.0]))
        bn.bias.copy_(torch.tensor([0.0, -1.0, 1.0]))
    x = torch.randn(16, 3) * 4 + 2
    a = x._array.astype(np.float64)
    expected = (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5) * [1, 2, 3] + [0, -1, 1]
    assert np.allclose(bn(x).detach().numpy(), expected, atol=1e-4)


def _running_stats_numpy(batches, momentum):
    """PyTorch's rule, in numpy: running = (1 - f) * running + f * batch, unbiased variance;
    f = momentum, or 1 / (batches seen) when momentum is None."""
    mean, var = np.zeros(batches[0].shape[1]), np.ones(batches[0].shape[1])
    for k, batch in enumerate(batches, start=1):
        f = 1.0 / k if momentum is None else momentum
        mean = (1 - f) * mean + f * batch.mean(0)
        var = (1 - f) * var + f * batch.var(0, ddof=1)
    return mean, var


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_batchnorm_running_statistics_follow_pytorch_formula(momentum):
    torch.manual_seed(3)
    bn = nn.BatchNorm1d(5, momentum=momentum).double()
    batches = [randn64(8, 5) * (k + 1) + k for k in range(6)]
    for batch in batches:
        bn(batch)
    mean, var = _running_stats_numpy([b._array for b in batches], momentum)
    assert np.allclose(bn.running_mean._array, mean, rtol=1e-12, atol=1e-12)
    assert np.allclose(bn.running_var._array, var, rtol=1e-12, atol=1e-12)
    assert bn.num_batches_tracked.item() == 6


def test_batchnorm_momentum_none_is_the_plain_average():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    batches = [randn64(10, 2) + k for k in range(4)]
    for batch in batches:
        bn(batch)
    arrays = [b._array for b in batches]
    assert np.allclose(bn.running_mean._array, np.mean([a.mean(0) for a in arrays], axis=0))
    assert np.allclose(bn.running_var._array, np.mean([a.var(0, ddof=1) for a in arrays], axis=0))


def test_batchnorm_eval_uses_running_statistics():
    bn = nn.BatchNorm1d(3).double()
    for _ in range(5):
        bn(randn64(32, 3) * 3 + 1)
    bn.eval()
    x = randn64(7, 3)
    rm, rv = bn.running_mean._array, bn.running_var._array
    expected = (x._array - rm) / np.sqrt(rv + 1e-5)
    assert np.allclose(bn(x).detach().numpy(), expected)
    before = rm.copy()
    bn(x)
    assert np.array_equal(bn.running_mean._array, before)  # evaluation does not update
    assert bn.num_batches_tracked.item() == 5


def test_batchnorm_train_eval_switch_changes_output():
    bn = nn.BatchNorm1d(2)
    x = torch.randn(6, 2) * 5 + 3
    train_out = bn(x).detach().numpy().copy()
    eval_out = bn.eval()(x).detach().numpy()
    assert not np.allclose(train_out, eval_out, atol=1e-3)
    assert np.allclose(bn.train()(x).detach().numpy(), train_out, atol=1e-5)


def test_batchnorm_one_sample_batch():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size \[1, 3\]"):
        bn(torch.randn(1, 3))
    bn.eval()
    assert bn(torch.randn(1, 3)).shape == (1, 3)


def test_batchnorm_three_dimensional_input():
    bn = nn.BatchNorm1d(3).double()
    x = randn64(4, 3, 5) * 2 + 1
    out = bn(x)
    a = x._array
    mean, var = a.mean(axis=(0, 2)), a.var(axis=(0, 2))
    expected = (a - mean[None, :, None]) / np.sqrt(var[None, :, None] + 1e-5)
    assert np.allclose(out.detach().numpy(), expected)
    n = 4 * 5
    assert np.allclose(bn.running_mean._array, 0.1 * mean)
    assert np.allclose(bn.running_var._array, 0.9 + 0.1 * var * n / (n - 1))


def test_batchnorm_rejects_other_ranks():
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(torch.randn(2, 3, 4, 5))


def test_batchnorm_running_std():
    bn = nn.BatchNorm1d(2, eps=0.25)
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor([1.0, 4.0]))
    assert np.allclose(bn.running_std.numpy(), np.sqrt([1.25, 4.25]))
    with pytest.raises(AttributeError):
        bn.running_std = torch.ones(2)
    assert nn.BatchNorm1d(2, track_running_stats=False).running_std is None


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    bn = nn.BatchNorm1d(3, track_running_stats=False)
    assert bn.running_mean is None and bn.num_batches_tracked is None
    assert list(bn.state_dict()) == ["weight", "bias"]
    x = torch.randn(8, 3) * 3 + 2
    train_out = bn(x).detach().numpy()
    assert np.allclose(bn.eval()(x).detach().numpy(), train_out)


def test_batchnorm_without_affine_has_no_parameters():
    bn = nn.BatchNorm1d(3, affine=False)
    assert bn.weight is None and bn.bias is None and list(bn.parameters()) == []
    out = bn(torch.randn(8, 3) * 2 + 5).detach().numpy()
    assert np.allclose(out.mean(0), 0, atol=1e-5)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2)])
def test_batchnorm_gradcheck_train_and_eval(shape):
    bn = nn.BatchNorm1d(3).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([0.5, 1.5, -2.0]))
        bn.bias.copy_(torch.tensor([0.1, 0.0, -0.3]))
    x = randn64(*shape, requires_grad=True)
    assert gradcheck(lambda x, w, b: bn(x), (x, bn.weight, bn.bias))
    bn(randn64(*shape) * 2 + 1)  # running statistics away from their initial values
    bn.eval()
    assert gradcheck(lambda x, w, b: bn(x), (x, bn.weight, bn.bias))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2)])
@pytest.mark.parametrize("affine, track", [(False, True), (True, False), (False, False)], ids=["no_affine", "untracked", "bare"])
def test_batchnorm_variants_gradcheck_train_and_eval(shape, affine, track):
    # untracked: evaluation keeps using (and differentiating through) the batch statistics
    bn = nn.BatchNorm1d(3, affine=affine, track_running_stats=track).double()
    x = randn64(*shape, requires_grad=True)
    params = tuple(bn.parameters())
    for mode in (True, False):
        bn.train(mode)
        assert gradcheck(lambda x, *p: bn(x), (x,) + params)
        bn(randn64(*shape) * 2 + 1)  # moves the running statistics (when tracked) away from 0 and 1


# ---------------------------------------------------------------------- Embedding
def test_embedding_shapes_and_lookup():
    emb = nn.Embedding(27, 10)
    assert emb.weight.shape == (27, 10) and repr(emb) == "Embedding(27, 10)"
    idx = torch.tensor([[1, 2, 3], [0, 26, 1]])
    out = emb(idx)
    assert out.shape == (2, 3, 10)
    assert np.array_equal(out.detach().numpy()[1, 1], emb.weight._array[26])
    assert emb(torch.tensor(5)).shape == (10,)


def test_embedding_init_is_standard_normal():
    w = nn.Embedding(1000, 100).weight._array
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02


def test_embedding_gradcheck_wrt_weight():
    emb = nn.Embedding(5, 3, dtype=torch.float64)
    idx = torch.tensor([[0, 1, 1], [4, 1, 0]])  # repeated rows sum their gradients
    assert gradcheck(lambda w: emb(idx), (emb.weight,))


def test_embedding_padding_idx():
    emb = nn.Embedding(4, 2, padding_idx=-1)
    assert emb.padding_idx == 3 and not emb.weight._array[3].any()
    emb(torch.tensor([3, 3, 1])).sum().backward()
    assert not emb.weight.grad.numpy()[3].any() and emb.weight.grad.numpy()[1].all()
    assert repr(emb) == "Embedding(4, 2, padding_idx=3)"
    with pytest.raises(AssertionError, match="Padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)


def test_embedding_from_pretrained():
    table = torch.randn(3, 2)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad and np.array_equal(emb.weight._array, table._array)
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


# ---------------------------------------------------------------------- activations, Dropout, Flatten
def test_activations():
    x = torch.tensor([-2.0, 0.0, 3.0])
    assert np.allclose(nn.Tanh()(x).numpy(), np.tanh([-2, 0, 3]))
    assert np.allclose(nn.ReLU()(x).numpy(), [0, 0, 3])
    assert np.allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp([2.0, 0.0, -3.0])))
    assert nn.Identity(5, any=1)(x) is x
    assert repr(nn.Tanh()) == "Tanh()" and repr(nn.ReLU()) == "ReLU()" and repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"


@pytest.mark.parametrize("layer", [nn.Tanh(), nn.Sigmoid()], ids=["tanh", "sigmoid"])
def test_activation_gradcheck(layer):
    x = randn64(3, 4, requires_grad=True)
    assert gradcheck(layer, (x,))


def _seeded(layer):
    """The layer with the global generator reseeded before each call (a fixed dropout mask)."""

    def call(x):
        torch.manual_seed(0)
        return layer(x)

    return call


@pytest.mark.parametrize(
    "layer, shape",
    [(nn.ReLU(), (3, 4)), (_seeded(nn.Dropout(0.4)), (3, 4)), (nn.Dropout(0.4).eval(), (3, 4)), (nn.Flatten(), (2, 3, 2)),
     (nn.Flatten(0, 1), (2, 3, 2)), (nn.Identity(), (3, 4))],
    ids=["relu", "dropout_train", "dropout_eval", "flatten", "flatten_0_1", "identity"],
)
def test_weightless_layer_gradcheck(layer, shape):
    a = np.random.default_rng(0).standard_normal(shape)
    x = torch.tensor(a + np.sign(a) * 0.01, requires_grad=True)  # relu's kink at 0 out of finite differences' reach
    assert gradcheck(layer, (x,))


def test_dropout_train_zeroes_about_p_and_scales():
    drop = nn.Dropout(p=0.3)
    x = torch.ones(200, 500)
    out = drop(x).numpy()
    zero_fraction = (out == 0).mean()
    assert abs(zero_fraction - 0.3) < 0.01
    assert np.allclose(out[out != 0], 1 / 0.7)


def test_dropout_eval_is_identity():
    drop = nn.Dropout(0.5).eval()
    x = torch.randn(10, 10)
    assert np.array_equal(drop(x).numpy(), x.numpy())
    assert repr(drop) == "Dropout(p=0.5, inplace=False)"
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_flatten():
    x = torch.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


# ---------------------------------------------------------------------- Sequential
def three_layers() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))


def test_sequential_applies_in_order():
    model = three_layers()
    x = torch.randn(4, 2)
    assert np.allclose(model(x).detach().numpy(), model[2](model[1](model[0](x))).detach().numpy())


def test_sequential_indexing_slicing_len_iteration():
    model = three_layers()
    assert len(model) == 3
    assert isinstance(model[0], nn.Linear) and model[-1] is model[2] and model[-3] is model[0]
    with pytest.raises(IndexError, match="out of range"):
        model[3]
    with pytest.raises(IndexError):
        model[-4]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    tail = model[1:]
    assert list(tail._modules) == ["1", "2"]  # slices keep the names, as in PyTorch
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear"]


def test_sequential_append_setitem_delitem_insert():
    model = three_layers()
    relu = nn.ReLU()
    assert model.append(relu) is model and model[3] is relu and list(model._modules)[-1] == "3"
    model[1] = nn.Sigmoid()
    assert isinstance(model[1], nn.Sigmoid) and model.__dict__["1"] is model[1]
    del model[1]
    assert list(model._modules) == ["0", "1", "2"] and model[2] is relu
    assert model.__dict__["2"] is relu and "3" not in model.__dict__
    model.insert(0, nn.Identity())
    assert isinstance(model[0], nn.Identity) and len(model) == 4
    assert len(list(model.parameters())) == 4


@pytest.mark.parametrize("container", [nn.Sequential, nn.ModuleList])
def test_insert_out_of_range_raises(container):
    # as PyTorch's Sequential.insert (a list would quietly clamp the index)
    layers = container([nn.Tanh(), nn.ReLU()]) if container is nn.ModuleList else container(nn.Tanh(), nn.ReLU())
    for index in (3, -3):
        with pytest.raises(IndexError, match=f"Index out of range: {index}"):
            layers.insert(index, nn.Sigmoid())
    layers.insert(2, nn.Sigmoid())
    layers.insert(-3, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Tanh", "ReLU", "Sigmoid"]


def test_sequential_from_ordered_dict():
    model = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert model.hidden is model[0] and model[-1] is model.act
    assert list(model.state_dict()) == ["hidden.weight", "hidden.bias"]


def test_sequential_gradcheck():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2)).double()
    x = randn64(5, 3, requires_grad=True)
    params = tuple(model.parameters())
    assert gradcheck(lambda x, *p: model(x), (x,) + params)
    model.eval()
    assert gradcheck(lambda x, *p: model(x), (x,) + params)


def test_embedding_and_flatten_in_sequential_gradcheck():
    model = nn.Sequential(nn.Embedding(6, 2), nn.Flatten(), nn.Linear(6, 3), nn.Tanh()).double()
    idx = torch.tensor([[0, 5, 2], [1, 1, 3]])
    assert model(idx).shape == (2, 3)
    assert gradcheck(lambda *p: model(idx), tuple(model.parameters()))


# ---------------------------------------------------------------------- ModuleList
def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Tanh())
    layers.extend([nn.Linear(2, 1)])
    assert len(layers) == 4 and isinstance(layers[-1], nn.Linear) and isinstance(layers[2], nn.Tanh)
    assert [type(m).__name__ for m in layers] == ["Linear", "Linear", "Tanh", "Linear"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    with pytest.raises(IndexError):
        layers[4]
    x = torch.randn(3, 2)
    for layer in layers:
        x = layer(x)
    assert x.shape == (3, 1)
    with pytest.raises(NotImplementedError):
        layers(x)


def test_module_list_registers_parameters_in_parent():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
            self.plain = [nn.Linear(2, 2)]  # a plain list hides its modules

    names = [name for name, _ in Stack().named_parameters()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]


def test_module_list_repr_groups_repeats():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Tanh()])
    assert repr(layers) == (
        "ModuleList(\n"
        "  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n"
        "  (2): Tanh()\n"
        ")"
    )
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_module_list_delitem_and_insert_renumber():
    a, b, c = nn.Tanh(), nn.ReLU(), nn.Sigmoid()
    layers = nn.ModuleList([a, b])
    layers.insert(0, c)
    assert list(layers) == [c, a, b] and list(layers._modules) == ["0", "1", "2"]
    del layers[0]
    assert list(layers) == [a, b] and layers.__dict__["0"] is a and "2" not in layers.__dict__
    layers += [c]
    assert list(layers) == [a, b, c]
