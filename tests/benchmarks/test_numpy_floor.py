"""The numpy floor computes the same gradients as microtorch, and the benchmark's --quick path runs."""
import json

import numpy as np
import pytest

import microtorch
import microtorch.nn.functional as F
from benchmarks import bench_step
from benchmarks.numpy_floor import PARAM_NAMES, Params, init_params, loss_and_grads, sgd_step

V, E, H, BLOCK, B = 27, 10, 16, 3, 32


@pytest.fixture
def weights_and_batch() -> tuple[Params, np.ndarray, np.ndarray]:
    """float64 weights (gain, biases perturbed away from 1 and 0) and a batch."""
    rng = np.random.default_rng(0)
    p = init_params(V, E, H, BLOCK, seed=1, dtype=np.float64)
    p.bngain += 0.1 * rng.standard_normal(H)
    p.bnbias += 0.1 * rng.standard_normal(H)
    p.b2 += 0.1 * rng.standard_normal(V)
    p.W2 *= 30  # logits far enough from uniform to matter
    Xb = rng.integers(0, V, (B, BLOCK))
    Yb = rng.integers(0, V, B)
    return p, Xb, Yb


def _leaf(a: np.ndarray) -> microtorch.Tensor:
    return microtorch.tensor(a.copy(), requires_grad=True)


def test_floor_matches_modules_form(weights_and_batch):
    """Form (b): nn.Sequential with fused BatchNorm1d (biased variance, eps 1e-5)."""
    p, Xb, Yb = weights_and_batch
    model = bench_step.modules_init(microtorch, V, E, H, BLOCK)
    Param = microtorch.nn.Parameter
    model[0].weight = Param(microtorch.tensor(p.C.copy()))
    model[2].weight = Param(microtorch.tensor(p.W1.T.copy()))
    model[3].weight = Param(microtorch.tensor(p.bngain.copy()))
    model[3].bias = Param(microtorch.tensor(p.bnbias.copy()))
    model[5].weight = Param(microtorch.tensor(p.W2.T.copy()))
    model[5].bias = Param(microtorch.tensor(p.b2.copy()))
    model[3].running_mean = microtorch.zeros(H, dtype=microtorch.float64)
    model[3].running_var = microtorch.ones(H, dtype=microtorch.float64)
    loss = F.cross_entropy(model(microtorch.tensor(Xb)), microtorch.tensor(Yb))
    loss.backward()

    floor_loss, grads = loss_and_grads(p, Xb, Yb, unbiased=False, eps=1e-5, momentum=0.1)
    assert loss.dtype == microtorch.float64
    np.testing.assert_allclose(floor_loss, loss.item(), rtol=1e-12)
    theirs = {"C": model[0].weight, "W1": model[2].weight, "bngain": model[3].weight, "bnbias": model[3].bias,
              "W2": model[5].weight, "b2": model[5].bias}
    for name in PARAM_NAMES:
        expected = theirs[name].grad.numpy()
        if name in ("W1", "W2"):
            expected = expected.T  # nn.Linear keeps weight as (out, in)
        np.testing.assert_allclose(grads[name], expected, rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(p.running_mean, model[3].running_mean.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p.running_var, model[3].running_var.numpy(), rtol=1e-12)


def test_floor_matches_lecture_form(weights_and_batch):
    """Form (a): the lecture's composed BatchNorm (unbiased std, no eps)."""
    p, Xb, Yb = weights_and_batch
    P = {"C": _leaf(p.C), "W1": _leaf(p.W1), "W2": _leaf(p.W2), "b2": _leaf(p.b2),
         "bngain": _leaf(p.bngain[None, :]), "bnbias": _leaf(p.bnbias[None, :]),
         "bnmean_running": microtorch.zeros((1, H), dtype=microtorch.float64),
         "bnstd_running": microtorch.ones((1, H), dtype=microtorch.float64)}
    loss = bench_step.lecture_forward(microtorch, F, P, microtorch.tensor(Xb), microtorch.tensor(Yb))
    loss.backward()

    floor_loss, grads = loss_and_grads(p, Xb, Yb, unbiased=True, eps=0.0)
    np.testing.assert_allclose(floor_loss, loss.item(), rtol=1e-12)
    for name in PARAM_NAMES:
        expected = P[name].grad.numpy().reshape(grads[name].shape)
        np.testing.assert_allclose(grads[name], expected, rtol=1e-9, atol=1e-12, err_msg=name)


def test_one_floor_sgd_step_decreases_the_loss(weights_and_batch):
    p, Xb, Yb = weights_and_batch
    p = p.astype(np.float32)
    before, grads = loss_and_grads(p, Xb, Yb)
    sgd_step(p, grads, lr=0.1)
    after, _ = loss_and_grads(p, Xb, Yb)
    assert after < before
    assert all(a.dtype == np.float32 for a in p.trainable().values())


def test_quick_benchmark_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench_step.main(["--quick", "--no-torch", "--steps", "4", "--repeats", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| microtorch (b) |" in printed and "PyTorch skipped" in printed
    record = json.loads(out.read_text())
    forms = {r["form"] for r in record["results"]}
    assert forms == {"floor", "microtorch (a)", "microtorch (b)"}
    assert all(r["median"] > 0 for r in record["results"])
    assert record["environment"]["threads"] == 1
