import math

import numpy as np
import pytest

import microtorch
import microtorch.nn.functional as F
from microtorch import nn
from makemore.models.mlp import ModelConfig, build_model, calibrate_batchnorm, count_parameters

LN27 = math.log(27)


def gen(seed=0):
    return microtorch.Generator().manual_seed(seed)


def random_batch(n=512, block_size=3, seed=1):
    g = gen(seed)
    return microtorch.randint(0, 27, (n, block_size), generator=g), microtorch.randint(0, 27, (n,), generator=g)


@microtorch.no_grad()
def batch_loss(model, X, Y):
    model.train()
    return F.cross_entropy(model(X), Y).item()


def test_default_model_is_the_lectures():
    model = build_model(ModelConfig(), gen())
    assert [type(m) for m in model] == [nn.Embedding, nn.Flatten, nn.Linear, nn.BatchNorm1d, nn.Tanh, nn.Linear]
    assert list(model.state_dict()) == [
        "0.weight", "2.weight", "3.weight", "3.bias", "3.running_mean", "3.running_var",
        "3.num_batches_tracked", "5.weight", "5.bias",
    ]
    assert count_parameters(model) == 12097  # the lecture's count
    assert model[3].momentum == 0.001
    X, _ = random_batch(8)
    assert model(X).shape == (8, 27)


def test_deep_model_with_output_batchnorm_shapes():
    config = ModelConfig(n_layers=3, n_hidden=20, n_embd=4, block_size=5, batchnorm_output=True)
    model = build_model(config, gen())
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["0.weight"] == (27, 4)
    assert shapes["2.weight"] == (20, 20)  # fan_in = n_embd * block_size
    assert shapes["5.weight"] == (20, 20) and shapes["8.weight"] == (20, 20)
    assert shapes["11.weight"] == (27, 20) and shapes["12.running_var"] == (27,)
    X, _ = random_batch(4, block_size=5)
    assert model(X).shape == (4, 27)


@pytest.mark.parametrize("config", [ModelConfig(), ModelConfig(n_layers=2, batchnorm_output=True)])
def test_no_bias_on_a_linear_feeding_batchnorm(config):
    model = build_model(config, gen())
    layers = list(model)
    for layer, following in zip(layers, layers[1:] + [None]):
        if isinstance(layer, nn.Linear):
            assert (layer.bias is None) == isinstance(following, nn.BatchNorm1d)


def test_without_batchnorm_hidden_biases_are_small():
    model = build_model(ModelConfig(batchnorm=False), gen())
    assert not any(isinstance(m, nn.BatchNorm1d) for m in model)
    bias = model[2].bias.detach().numpy()
    assert 0.003 < bias.std() < 0.02


def test_kaiming_weight_scales():
    model = build_model(ModelConfig(n_hidden=400), gen())
    assert model[2].weight.detach().numpy().std() == pytest.approx((5 / 3) / math.sqrt(30), rel=0.05)
    assert model[0].weight.detach().numpy().std() == pytest.approx(1.0, rel=0.1)
    assert model[-1].weight.detach().numpy().std() == pytest.approx(0.01, rel=0.1)  # randn * 0.01
    assert np.all(model[-1].bias.detach().numpy() == 0)
    custom = build_model(ModelConfig(n_hidden=400, gain=1.0, output_scale=0.1), gen())
    assert custom[2].weight.detach().numpy().std() == pytest.approx(1 / math.sqrt(30), rel=0.05)
    assert custom[-1].weight.detach().numpy().std() == pytest.approx(0.1, rel=0.1)


def test_output_batchnorm_gain_is_scaled():
    model = build_model(ModelConfig(batchnorm_output=True), gen())
    assert np.allclose(model[-1].weight.detach().numpy(), 0.1)
    assert np.allclose(model[3].weight.detach().numpy(), 1.0)


@pytest.mark.parametrize("config", [
    ModelConfig(), ModelConfig(batchnorm=False), ModelConfig(init="pytorch"),
    ModelConfig(n_layers=3, n_hidden=50, batchnorm_output=True),
])
def test_initial_loss_is_near_uniform(config):
    X, Y = random_batch()
    assert abs(batch_loss(build_model(config, gen()), X, Y) - LN27) < 0.1


def test_naive_init_starts_confidently_wrong():
    X, Y = random_batch()
    assert batch_loss(build_model(ModelConfig(init="naive", batchnorm=False), gen()), X, Y) > LN27 + 10
    assert batch_loss(build_model(ModelConfig(init="naive"), gen()), X, Y) > LN27 + 3


def test_same_seed_same_model_and_losses():
    config = ModelConfig(n_layers=2, n_hidden=30)
    a, b, c = build_model(config, gen(7)), build_model(config, gen(7)), build_model(config, gen(8))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(va.numpy(), vb.numpy())
    assert not np.array_equal(a[0].weight.detach().numpy(), c[0].weight.detach().numpy())
    X, Y = random_batch()
    assert batch_loss(a, X, Y) == batch_loss(b, X, Y)


def test_config_round_trip_and_validation():
    config = ModelConfig(n_layers=2, gain=1.5, batchnorm_output=True)
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown"):
        ModelConfig.from_dict({**config.to_dict(), "n_head": 4})
    with pytest.raises(ValueError, match="init"):
        ModelConfig(init="xavier")
    with pytest.raises(ValueError, match="n_hidden"):
        ModelConfig(n_hidden=0)


def test_calibrate_batchnorm_sets_training_set_statistics():
    model = build_model(ModelConfig(n_layers=2, n_hidden=16, n_embd=4), gen())
    X, _ = random_batch(300)
    calibrate_batchnorm(model, X)
    assert model.training  # the mode is restored
    with microtorch.no_grad():
        model.eval()
        x = X
        for layer in model:
            # each BatchNorm sees the output of the (already calibrated) layers before it
            if isinstance(layer, nn.BatchNorm1d):
                a = x.numpy().astype(np.float64)
                assert np.allclose(layer.running_mean.numpy(), a.mean(0), atol=1e-5)
                assert np.allclose(layer.running_var.numpy(), a.var(0, ddof=1), rtol=1e-4)
            x = layer(x)
