"""The two lesson commands: python -m makemore.diagnose and python -m makemore.ablate."""

import json
import re

import numpy as np
import pytest

import microtorch
from makemore import ablate, diagnose
from makemore import train as train_cli
from makemore.models.mlp import ModelConfig

INIT_FIGURES = ["activations-init.png", "activation_grads-init.png", "weight_grads-init.png"]
TRAINED_FIGURES = ["activations-trained.png", "activation_grads-trained.png", "weight_grads-trained.png"]


@pytest.fixture
def words(tmp_path):
    """A small word list, for the runs that need not read the shipped 32k names."""
    path = tmp_path / "words.txt"
    rng = np.random.default_rng(0)
    path.write_text("\n".join("".join(rng.choice(list("abcdefghij"), rng.integers(2, 7))) for _ in range(300)))
    return str(path)


def is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------
# diagnose

def test_number_accepts_fractions():
    assert diagnose.number("5/3") == pytest.approx(5 / 3)
    assert diagnose.number("3") == 3.0
    with pytest.raises(Exception):
        diagnose.number("five")


def test_diagnose_smoke_on_the_shipped_data_with_training(tmp_path, capsys):
    out = tmp_path / "d"
    assert diagnose.main(["--out", str(out), "--n-hidden", "20", "--steps", "20", "--every", "5"]) == 0
    for name in INIT_FIGURES + TRAINED_FIGURES + ["update_ratio.png", "loss.png"]:
        assert is_png(out / name), name
    report = json.loads((out / "report.json").read_text())
    assert {"config", "source", "init", "training", "trained", "probe_batch"} <= set(report)
    assert report["config"]["n_hidden"] == 20 and report["probe_batch"] == 32
    init = report["init"]
    assert init["loss"]["expected"] == pytest.approx(3.2958, abs=1e-4)
    assert abs(init["loss"]["gap"]) < 0.1  # kaiming + output x 0.01: a nearly uniform start
    assert [a["label"] for a in init["activations"]] == ["layer 4 (Tanh)"]
    assert init["activations"][0]["preact_std"] == pytest.approx(1.0, abs=0.05)  # BatchNorm
    assert [w["name"] for w in init["weight_grads"]] == ["0.weight", "2.weight", "5.weight"]
    assert init["dead_parameters"] == []
    training = report["training"]
    assert training["steps"] == 20 and training["update_ratios"]["steps"] == [0, 5, 10, 15]
    ratios = training["update_ratios"]["ratios"]
    assert set(ratios) == {"0.weight", "2.weight", "5.weight"}
    assert all(len(v) == 4 and all(-6 < x < 0 for x in v) for v in ratios.values())
    assert report["trained"]["loss"]["loss"] < init["loss"]["loss"]
    text = (out / "report.txt").read_text()
    printed = capsys.readouterr().out
    assert "== initialisation: 1 x 20 tanh, BatchNorm, init kaiming, gain 1.67 ==" in text
    assert "== after 20 steps of training ==" in text and text.strip() in printed


def test_diagnose_deep_stack_without_batchnorm(tmp_path, words):
    stats = {}
    for gain in ("1", "5/3", "3"):
        out = tmp_path / gain.replace("/", "_")
        argv = ["--data", words, "--out", str(out), "--n-layers", "5", "--n-hidden", "100", "--no-batchnorm",
                "--gain", gain, "--probe-batch", "500"]
        assert diagnose.main(argv) == 0
        report = json.loads((out / "report.json").read_text())
        assert report["config"]["gain"] == pytest.approx(float(eval(gain)))
        stats[gain] = report["init"]["activations"]
        assert sorted(p.name for p in out.iterdir()) == sorted(INIT_FIGURES + ["report.json", "report.txt"])
    stds = [a["std"] for a in stats["1"]]
    assert len(stds) == 5 and all(b < a for a, b in zip(stds, stds[1:]))
    saturated = {g: np.mean([a["saturated_pct"] for a in s]) for g, s in stats.items()}
    assert saturated["1"] < saturated["5/3"] < saturated["3"]


def test_diagnose_names_the_bias_before_batchnorm(tmp_path, words, capsys):
    out = tmp_path / "bias"
    assert diagnose.main(["--data", words, "--out", str(out), "--n-hidden", "20", "--bias-before-batchnorm"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["init"]["dead_parameters"] == ["2.bias"]
    assert "WARNING dead parameters (zero gradient over the batch): 2.bias" in capsys.readouterr().out


def test_diagnose_a_training_runs_checkpoint(tmp_path, words, capsys):
    run = tmp_path / "run"
    assert train_cli.main(["--data", words, "--out", str(run), "--steps", "30", "--n-hidden", "20",
                           "--samples", "1", "--checkpoint-every", "30"]) == 0
    out = tmp_path / "d"
    assert diagnose.main(["--checkpoint", str(run), "--out", str(out), "--n-hidden", "50"]) == 0
    assert "ignoring: n_hidden" in capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert "checkpoint" in report and "init" not in report
    assert report["source"] == f"checkpoint {run} at step 30"
    assert report["config"]["n_hidden"] == 20 and report["data"] == words
    assert is_png(out / "loss.png") and is_png(out / "activations-checkpoint.png")


def test_diagnose_errors(tmp_path, capsys):
    assert diagnose.main(["--checkpoint", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
    assert "no such run folder" in capsys.readouterr().err
    for argv in (["--gain", "abc"], ["--steps", "-1"], ["--probe-batch", "0"], ["--data", str(tmp_path / "missing.txt")],
                 ["--data", str(tmp_path)]):
        with pytest.raises(SystemExit) as e:
            diagnose.main(argv)
        assert e.value.code == 2


def test_add_bias_before_batchnorm_only_where_a_batchnorm_follows():
    from makemore.models.mlp import build_model
    g = microtorch.Generator().manual_seed(0)
    model = build_model(ModelConfig(n_layers=2, n_hidden=8), g)
    assert diagnose.add_bias_before_batchnorm(model, g) == ["2.bias", "5.bias"]
    assert model[2].bias.shape == (8,) and "2.bias" in dict(model.named_parameters())
    assert model[8].bias is not None  # the output Linear kept its own (zero) bias
    assert diagnose.add_bias_before_batchnorm(build_model(ModelConfig(batchnorm=False), g), g) == []


# ----------------------------------------------------------------------------
# ablate

def test_the_five_variants_and_the_lecture_numbers():
    assert [v.name for v in ablate.VARIANTS] == ["original", "fix softmax confidently wrong", "fix tanh saturation",
                                                  "kaiming init", "+ BatchNorm"]
    assert [v.lecture for v in ablate.VARIANTS] == [(2.1245, 2.1682), (2.07, 2.13), (2.0356, 2.1027),
                                                    (2.0377, 2.1070), (2.0668, 2.1048)]


def built(name, seed=1):
    variant = next(v for v in ablate.VARIANTS if v.name == name)
    model = ablate.build_variant(variant, 27, microtorch.Generator().manual_seed(seed))
    return {k: v.numpy() for k, v in model.state_dict().items()}


def test_variants_scale_the_same_draws_in_place():
    original, softmax, tanh = built("original"), built("fix softmax confidently wrong"), built("fix tanh saturation")
    np.testing.assert_allclose(softmax["4.weight"], 0.01 * original["4.weight"], rtol=1e-6)
    assert not softmax["4.bias"].any()
    np.testing.assert_array_equal(softmax["2.weight"], original["2.weight"])
    np.testing.assert_allclose(tanh["2.weight"], 0.2 * original["2.weight"], rtol=1e-6)
    np.testing.assert_allclose(tanh["2.bias"], 0.01 * original["2.bias"], rtol=1e-6)
    np.testing.assert_allclose(tanh["4.weight"], softmax["4.weight"])
    kaiming, bn = built("kaiming init"), built("+ BatchNorm")
    assert kaiming["2.weight"].std() == pytest.approx((5 / 3) / 30 ** 0.5, rel=0.05)
    assert "2.bias" not in bn and "3.running_mean" in bn


def test_ablate_smoke_on_the_shipped_data(tmp_path, capsys):
    out = tmp_path / "a"
    assert ablate.main(["--steps", "200", "--out", str(out)]) == 0
    rows = json.loads((out / "ablation.json").read_text())
    assert [r["variant"] for r in rows] == [v.name for v in ablate.VARIANTS]
    for r in rows:
        assert {"variant", "init_loss", "saturated_pct", "train", "val"} <= set(r)
        assert r["steps"] == 200 and r["seconds"] > 0
        assert r["train"] < r["init_loss"] and np.isfinite(r["val"])
    by = {r["variant"]: r for r in rows}
    assert by["original"]["init_loss"] > 10 and by["original"]["saturated_pct"] > 30
    assert all(abs(by[v]["init_loss"] - 3.2958) < 0.1 for v in list(by)[1:])
    assert by["fix tanh saturation"]["saturated_pct"] < by["fix softmax confidently wrong"]["saturated_pct"] / 5
    table = (out / "ablation.md").read_text()
    assert "| original | " in table and "| 2.1245 | 2.1682 |" in table and "200 steps" in table
    assert table.strip().split("\n")[2] in capsys.readouterr().out
    assert is_png(out / "ablation.png")


def test_ablate_rejects_bad_arguments(tmp_path, capsys):
    for argv in (["--steps", "0"], ["--data", str(tmp_path / "missing.txt")], ["--data", str(tmp_path)]):
        with pytest.raises(SystemExit) as e:
            ablate.main(argv)
        assert e.value.code == 2
    assert "is a folder, not a word list" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_diverging_training_stops_with_a_message(tmp_path, words, capsys):
    argv = ["--data", words, "--lr", "10", "--steps", "300"]
    assert diagnose.main([*argv, "--n-hidden", "20", "--out", str(tmp_path / "d")]) == 1
    assert re.search(r"error: the loss exploded to \S+ at step \d+ \(the limit is \S+: 10 x the larger of ln\(vocab\) "
                     r"and the initial loss\) of the training; try a smaller --lr", capsys.readouterr().err)
    assert ablate.main([*argv, "--out", str(tmp_path / "a")]) == 1
    assert re.search(r"error: 'original': the loss exploded to \S+ at step \d+ .*; try a smaller --lr",
                     capsys.readouterr().err)


def test_ablate_quotes_the_lecture_numbers_as_given(tmp_path):
    row = {"variant": "v", "init_loss": 3.3, "saturated_pct": 1.0, "train": 2.0, "val": 2.1,
           "lecture_train": 2.07, "lecture_val": 2.13, "seconds": 1.0}
    assert "| 2.07 | 2.13 |" in ablate.format_row(row)
