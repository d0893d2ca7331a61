"""makemore.diagnostics: each statistic on hand-made arrays with known answers, then on models."""

import json
import math
import warnings

import numpy as np
import pytest

import microtorch
from microtorch import nn
from makemore import diagnostics as D
from makemore.models.mlp import ModelConfig, build_model


def batch(n=256, block_size=3, vocab=27, seed=0):
    g = microtorch.Generator().manual_seed(seed)
    return (microtorch.randint(0, vocab, (n, block_size), generator=g),
            microtorch.randint(0, vocab, (n,), generator=g))


# ----------------------------------------------------------------------------
# statistics on hand-made arrays

def test_expected_initial_loss():
    assert D.expected_initial_loss(27) == pytest.approx(3.295836866)
    assert D.expected_initial_loss(2) == pytest.approx(math.log(2))


def test_saturation_counts_values_beyond_the_threshold():
    t = np.array([[0.99, -0.98, 0.5, 0.97], [0.0, -1.0, 0.1, -0.2]])
    assert D.saturation(t) == pytest.approx(100 * 3 / 8)  # 0.97 itself is not beyond
    assert D.saturation(t, threshold=0.4) == pytest.approx(100 * 5 / 8)


def test_two_of_four_units_saturated_on_every_row_are_two_dead_neurons():
    t = np.array([[0.99, -0.999, 0.1, 0.98],
                  [-0.98, 0.995, -0.3, 0.2],
                  [0.999, -0.99, 0.0, -0.5]])
    assert D.dead_neurons(t) == 2  # column 3 is saturated on one row only
    s = D.tanh_stats(t)
    assert (s["dead"], s["dead_pct"], s["units"]) == (2, 50.0, 4)
    assert s["saturated_pct"] == pytest.approx(100 * 7 / 12)
    assert s["mean"] == pytest.approx(t.mean())
    assert s["std"] == pytest.approx(t.std(ddof=1))  # unbiased, as torch.std


def test_tanh_stats_of_a_tensor_that_requires_grad():
    t = microtorch.tensor([[0.5, -0.5], [0.25, -0.25]], requires_grad=True)
    s = D.tanh_stats(t)
    assert (s["mean"], s["dead"], s["saturated_pct"]) == (0.0, 0, 0.0)
    assert s["std"] == pytest.approx(np.std([0.5, -0.5, 0.25, -0.25], ddof=1))


def test_grad_stats_and_grad_to_data_ratio():
    g = np.array([1.0, 3.0, 5.0])            # mean 3, unbiased std 2
    w = np.array([[0.0, 4.0], [8.0, 12.0]])  # unbiased std sqrt(80/3)
    assert D.grad_stats(g) == {"mean": 3.0, "std": 2.0}
    assert D.grad_to_data_ratio(g, w) == pytest.approx(2.0 / math.sqrt(80 / 3))


def test_update_to_data_ratio_is_log10_of_std_of_lr_grad_over_std_data():
    grad = np.array([1.0, -1.0, 1.0, -1.0])  # std 2/sqrt(3)
    data = 1000 * grad                       # std 2000/sqrt(3)
    assert D.update_to_data_ratio(grad, data, lr=1.0) == pytest.approx(-3.0)
    assert D.update_to_data_ratio(grad, data, lr=0.1) == pytest.approx(-4.0)
    rng = np.random.default_rng(0)
    g, w = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    assert D.update_to_data_ratio(g, w, 0.01) == pytest.approx(np.log10((0.01 * g).std(ddof=1) / w.std(ddof=1)))


def test_ratios_of_a_dead_weight_are_numbers_not_errors():
    zeros, w = np.zeros((3, 4)), np.arange(12.0).reshape(3, 4)
    assert D.update_to_data_ratio(zeros, w, lr=0.1) == -math.inf  # a weight that no longer learns
    assert D.grad_to_data_ratio(zeros, w) == 0.0
    assert D.grad_to_data_ratio(w, np.ones((3, 4))) == math.inf
    assert math.isnan(D.grad_to_data_ratio(zeros, np.ones((3, 4))))


def test_update_ratio_recorder_survives_a_zero_gradient():
    model = build_model(ModelConfig(n_embd=2, n_hidden=4), microtorch.Generator().manual_seed(0))
    recorder = D.UpdateRatioRecorder(model)
    for p in model.parameters():
        p.grad = microtorch.zeros_like(p)
    recorder(0, model, None, 0.1, 3.0)
    assert all(v == [-math.inf] for v in recorder.ratios.values())


def test_probe_batch_is_the_same_for_a_seed():
    X, Y = microtorch.arange(100).view(50, 2), microtorch.arange(50)
    a, b = D.probe_batch(X, Y, 8, 3), D.probe_batch(X, Y, 8, 3)
    assert a[0].tolist() == b[0].tolist() and a[1].tolist() == [row[0] // 2 for row in a[0].tolist()]
    assert D.probe_batch(X, Y, 8, 4)[1].tolist() != a[1].tolist()


def test_is_dead_gradient_is_relative_to_the_reference():
    assert D.is_dead_gradient(np.zeros(3), reference=1.0)
    assert D.is_dead_gradient(np.full(3, 1e-9), reference=1e-2)
    assert not D.is_dead_gradient(np.array([0.0, 1e-3]), reference=1e-2)
    assert D.is_dead_gradient(None, reference=1.0)


# ----------------------------------------------------------------------------
# tracing a model

def tiny_model(bias_before_bn=False, seed=0):
    g = microtorch.Generator().manual_seed(seed)
    return nn.Sequential(nn.Embedding(27, 4, generator=g), nn.Flatten(),
                         nn.Linear(12, 16, bias=bias_before_bn, generator=g), nn.BatchNorm1d(16), nn.Tanh(),
                         nn.Linear(16, 27, generator=g))


def test_trace_keeps_tanh_inputs_outputs_and_their_gradients():
    model = tiny_model()
    X, Y = batch(64)
    tr = D.trace(model, X, Y)
    assert [r.layer for r in tr.tanh] == [4] and tr.tanh[0].label == "layer 4 (Tanh)"
    r = tr.tanh[0]
    np.testing.assert_allclose(r.out, np.tanh(r.preact), rtol=1e-6)
    # d loss / d h = dlogits @ W2: check against the logits' softmax gradient
    p = np.exp(tr.logits - tr.logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(64), Y.numpy()] -= 1
    np.testing.assert_allclose(r.grad, p / 64 @ model[5].weight.detach().numpy(), atol=1e-7)
    assert tr.loss == pytest.approx(-np.log(np.exp(tr.logits) / np.exp(tr.logits).sum(1, keepdims=True))
                                    [np.arange(64), Y.numpy()].mean(), rel=1e-5)
    assert set(tr.weights()) == {"0.weight", "2.weight", "5.weight"}


def test_trace_leaves_mode_and_running_statistics_alone():
    model = tiny_model()
    model.eval()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    D.trace(model, *batch(32))
    assert not model.training
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_activation_stats_without_targets_and_gradients_with():
    model = tiny_model()
    X, Y = batch(32)
    acts = D.activation_stats(model, X)
    assert [a["label"] for a in acts] == ["layer 4 (Tanh)"]
    assert acts[0]["preact_std"] == pytest.approx(1.0, abs=0.02)  # BatchNorm: unit-variance inputs
    assert D.activation_grad_stats(model, X) == []
    grads = D.activation_grad_stats(model, X, Y)
    assert grads[0]["std"] > 0
    w = {s["name"]: s for s in D.weight_grad_stats(model, X, Y)}
    assert w["5.weight"]["shape"] == [27, 16]
    W = model[5].weight
    assert w["5.weight"]["grad_to_data"] == pytest.approx(W.grad.numpy().std(ddof=1) / W.detach().numpy().std(ddof=1))


def test_initial_loss_check_reports_the_gap():
    model = build_model(ModelConfig(init="naive", batchnorm=False), microtorch.Generator().manual_seed(1))
    check = D.initial_loss_check(model, *batch(256))
    assert check["expected"] == pytest.approx(3.2958, abs=1e-4)
    assert check["gap"] == pytest.approx(check["loss"] - check["expected"])
    assert check["gap"] > 5  # confidently wrong
    good = D.initial_loss_check(build_model(ModelConfig(), microtorch.Generator().manual_seed(1)), *batch(256))
    assert abs(good["gap"]) < 0.05


# ----------------------------------------------------------------------------
# dead parameters

def test_dead_parameter_warning_names_the_bias_before_batchnorm():
    X, Y = batch(64)
    with pytest.warns(D.DeadParameterWarning, match=r"2\.bias"):
        dead = D.dead_parameters(tiny_model(bias_before_bn=True), X, Y)
    assert dead == ["2.bias"]


def test_no_dead_parameter_warning_for_a_healthy_model():
    X, Y = batch(64)
    for model in (tiny_model(), build_model(ModelConfig(batchnorm=False), microtorch.Generator().manual_seed(0))):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert D.dead_parameters(model, X, Y) == []


def test_a_parameter_that_gets_no_gradient_is_dead():
    model = tiny_model()
    with microtorch.no_grad():
        model[0].weight.zero_()  # zero embeddings: the first Linear's weight gets zero gradient
    with pytest.warns(D.DeadParameterWarning, match=r"2\.weight"):
        assert "2.weight" in D.dead_parameters(model, *batch(64))


# ----------------------------------------------------------------------------
# the lecture's deep tanh stack: a property of the inits

def deep_stats(batchnorm, gain, seed=0):
    config = ModelConfig(n_layers=5, n_hidden=100, batchnorm=batchnorm, gain=gain)
    model = build_model(config, microtorch.Generator().manual_seed(seed))
    return D.activation_stats(model, batch(500, seed=seed)[0])


def test_deep_tanh_stack_without_batchnorm_shrinks_at_gain_1():
    stds = [a["std"] for a in deep_stats(False, 1.0)]
    assert len(stds) == 5
    assert all(b < a for a, b in zip(stds, stds[1:]))
    assert stds[-1] < 0.6 * stds[0]


def test_deep_tanh_stack_saturates_more_at_gain_3_than_at_5_3():
    sat = {gain: np.mean([a["saturated_pct"] for a in deep_stats(False, gain)]) for gain in (5 / 3, 3.0)}
    assert sat[3.0] > 3 * sat[5 / 3]
    assert 1 < sat[5 / 3] < 15


def test_deep_tanh_stack_with_batchnorm_stays_healthy_at_any_gain():
    for gain in (1.0, 3.0):
        stats = deep_stats(True, gain)
        stds = [a["std"] for a in stats]
        assert max(stds) - min(stds) < 0.05
        assert all(0.55 < s < 0.75 and a["saturated_pct"] < 10 for s, a in zip(stds, stats))
        assert all(a["preact_std"] == pytest.approx(1.0, abs=0.01) for a in stats)


# ----------------------------------------------------------------------------
# the report, the recorder, the figures

def test_diagnose_batch_report_is_json_and_text():
    model = tiny_model(bias_before_bn=True)
    with pytest.warns(D.DeadParameterWarning):
        report = D.diagnose_batch(model, *batch(32))
    d = json.loads(json.dumps(report.to_dict()))
    assert set(d) == {"loss", "activations", "activation_grads", "weight_grads", "dead_parameters", "threshold"}
    assert d["dead_parameters"] == ["2.bias"]
    text = D.format_report(report, "at init")
    assert "== at init ==" in text and "layer 4 (Tanh)" in text and "WARNING dead parameters" in text and "2.bias" in text
    assert f"saturated {d['activations'][0]['saturated_pct']:5.2f}%" in text


def test_update_ratio_recorder_records_every_k_steps():
    model = tiny_model()
    recorder = D.UpdateRatioRecorder(model, every=3)
    assert list(recorder.ratios) == ["0.weight", "2.weight", "5.weight"]
    X, Y = batch(32)
    for step in range(7):
        D.trace(model, X, Y)  # sets .grad
        recorder(step, model, None, 0.1, 0.0)
    assert recorder.steps == [0, 3, 6]
    W = model[5].weight
    expected = np.log10((0.1 * W.grad.numpy()).std(ddof=1) / W.detach().numpy().std(ddof=1))
    assert recorder.ratios["5.weight"][-1] == pytest.approx(expected)
    assert json.loads(json.dumps(recorder.to_dict()))["reference"] == -3.0
    with pytest.raises(ValueError):
        D.UpdateRatioRecorder(model, every=0)


def test_smooth_log_losses():
    steps, curve = D.smooth_log_losses([10.0] * 4 + [100.0] * 4, windows=2)
    np.testing.assert_allclose(curve, [1.0, 2.0])
    np.testing.assert_allclose(steps, [2.0, 6.0])


def test_figures_have_titles_labels_and_a_legend_per_layer(tmp_path):
    model = tiny_model()
    tr = D.trace(model, *batch(32))
    recorder = D.UpdateRatioRecorder(model)
    recorder(0, model, None, 0.1, 3.3)
    figures = {
        "act.png": D.plot_activations(tr, tmp_path / "act.png"),
        "agrad.png": D.plot_activation_grads(tr, tmp_path / "agrad.png"),
        "wgrad.png": D.plot_weight_grads(tr, tmp_path / "wgrad.png"),
        "ud.png": D.plot_update_ratios(recorder, tmp_path / "ud.png"),
        "loss.png": D.plot_losses({"run": [3.3, 3.0, 2.8, 2.5]}, tmp_path / "loss.png"),
    }
    for name, fig in figures.items():
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        ax = fig.axes[0]
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        assert ax.get_legend() is not None
    act_labels = [t.get_text() for t in figures["act.png"].axes[0].get_legend().get_texts()]
    assert act_labels[0].startswith("layer 4 (Tanh): mean") and "saturated" in act_labels[0]
    ud_labels = [t.get_text() for t in figures["ud.png"].axes[0].get_legend().get_texts()]
    assert ud_labels == ["0.weight", "2.weight", "5.weight", "reference (-3)"]
