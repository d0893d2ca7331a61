import math

import numpy as np
import pytest

import microtorch
import microtorch.nn.functional as F
from makemore.data import load_splits, load_words
from makemore.loop import (EXPLODE_FACTOR, ExplodingLoss, LossDiverged, NonFiniteLoss, evaluate, explosion_limit,
                           lr_schedule, split_losses, train_steps)
from makemore.models.mlp import ModelConfig, build_model, calibrate_batchnorm


@pytest.fixture(scope="module")
def words_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "words.txt"
    path.write_text("\n".join(load_words()[:300]) + "\n")
    return path


def small_setup(words_file, seed=0):
    splits = load_splits(words_file, block_size=3)
    g = microtorch.Generator().manual_seed(seed)
    model = build_model(ModelConfig(n_embd=4, n_hidden=16), g)
    return model, splits.train, microtorch.optim.SGD(model.parameters(), lr=0.1), g


def test_lr_schedule():
    lr_at = lr_schedule(0.1, 0.01, 5)
    assert [lr_at(s) for s in (0, 4, 5, 100)] == [0.1, 0.1, 0.01, 0.01]


def test_train_steps_learns_and_reports(words_file):
    model, (X, Y), opt, g = small_setup(words_file)
    seen = []
    losses = train_steps(model, X, Y, opt, 400, 32, lr_schedule(0.1, 0.01, 1300), g, start_step=1000,
                         callback=lambda step, m, o, lr, loss: seen.append((step, lr, loss)))
    assert len(losses) == 400 and all(isinstance(v, float) for v in losses)
    assert np.mean(losses[:50]) > np.mean(losses[-50:]) + 0.3
    assert [s for s, _, _ in seen] == list(range(1000, 1400))
    assert [lr for _, lr, _ in seen] == [0.1] * 300 + [0.01] * 100  # steps count from start_step
    assert [loss for _, _, loss in seen] == losses
    assert opt.param_groups[0]["lr"] == 0.01


def test_train_steps_is_reproducible(words_file):
    runs = []
    for _ in range(2):
        model, (X, Y), opt, g = small_setup(words_file, seed=3)
        runs.append((train_steps(model, X, Y, opt, 30, 32, lambda s: 0.1, g), model[0].weight.detach().numpy().copy()))
    assert runs[0][0] == runs[1][0] and np.array_equal(runs[0][1], runs[1][1])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_nonfinite_loss_stops_before_the_update(words_file):
    model, (X, Y), opt, g = small_setup(words_file)
    with microtorch.no_grad():
        model[-1].bias[0] = math.inf
    before = [p.detach().numpy().copy() for p in model.parameters()]
    losses = []
    with pytest.raises(NonFiniteLoss, match="at step 7") as info:
        train_steps(model, X, Y, opt, 10, 32, lambda s: 0.1, g, start_step=7, losses=losses)
    assert info.value.step == 7 and losses == []
    assert all(np.array_equal(b, p.detach().numpy()) for b, p in zip(before, model.parameters()))


def test_split_losses_reports_calibrated_losses_and_keeps_the_running_statistics(words_file):
    model, _, opt, g = small_setup(words_file)
    splits = load_splits(words_file, block_size=3)
    train_steps(model, *splits.train, opt, 50, 32, lambda s: 0.1, g)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    losses = split_losses(model, splits, test=True)
    assert set(losses) == {f"{s}_loss{c}" for s in ("train", "val", "test") for c in ("", "_calibrated")}
    assert losses["train_loss"] != losses["train_loss_calibrated"]  # 50 steps at momentum 0.001: far apart
    assert losses["train_loss"] == evaluate(model, *splits.train)
    assert all(np.array_equal(before[k], v.numpy()) for k, v in model.state_dict().items())
    calibrate_batchnorm(model, splits.train[0])
    assert evaluate(model, *splits.train) == losses["train_loss_calibrated"]


def test_an_exploding_loss_stops_before_the_update(words_file):
    model, (X, Y), opt, g = small_setup(words_file)
    losses = []
    with pytest.raises(ExplodingLoss, match="above the explosion limit 6") as info:
        train_steps(model, X, Y, opt, 500, 32, lambda s: 10.0, g, losses=losses, max_loss=6.0)
    assert isinstance(info.value, LossDiverged) and info.value.value > 6
    assert len(losses) == info.value.step > 0 and max(losses) <= 6  # every applied step was below the limit
    assert "exploded" in info.value.describe()


def test_explosion_limit_is_ten_times_the_larger_of_uniform_and_initial():
    assert EXPLODE_FACTOR == 10
    assert explosion_limit(27, 3.0) == pytest.approx(10 * math.log(27))
    assert explosion_limit(27, 26.4) == pytest.approx(264.0)


def test_evaluate_in_batches_matches_one_forward(words_file):
    model, (X, Y), opt, g = small_setup(words_file)
    train_steps(model, X, Y, opt, 50, 32, lambda s: 0.1, g)
    model.eval()
    with microtorch.no_grad():
        whole = F.cross_entropy(model(X), Y).item()
    assert evaluate(model, X, Y, batch_size=7) == pytest.approx(whole, rel=1e-5)
    assert evaluate(model, X, Y, batch_size=len(Y)) == pytest.approx(whole, rel=1e-6)
    with pytest.raises(ValueError, match="at least one example"):
        evaluate(model, X[:0], Y[:0])


def test_calibration_in_batches_matches_the_whole_set(words_file):
    model, (X, Y), opt, g = small_setup(words_file)
    model = build_model(ModelConfig(n_embd=4, n_hidden=16, n_layers=2), g)
    calibrate_batchnorm(model, X, batch_size=len(X))
    whole = {k: v.numpy().copy() for k, v in model.named_buffers() if "running" in k}
    calibrate_batchnorm(model, X, batch_size=13)
    for k, v in model.named_buffers():
        if "running" in k:
            assert np.allclose(v.numpy(), whole[k], rtol=1e-4, atol=1e-6), k


def test_evaluation_and_calibration_never_forward_more_than_a_batch(words_file):
    """Memory is that of one batch's activations, whatever the size of the split."""
    from microtorch import nn
    model, (X, Y), opt, g = small_setup(words_file)
    sizes = []

    class Recording(nn.Module):
        def forward(self, x):
            sizes.append(len(x))
            return x

    model = nn.Sequential(Recording(), *model)
    evaluate(model, X, Y, batch_size=100)
    assert max(sizes) == 100 and sum(sizes) == len(Y)
    sizes.clear()
    calibrate_batchnorm(model, X, batch_size=64)
    assert max(sizes) == 64 and sum(sizes) == len(X)  # one BatchNorm: one pass
