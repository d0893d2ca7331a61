import re

import pytest

import microtorch
from makemore import sample
from makemore.checkpoint import save_checkpoint
from makemore.data import build_vocab
from makemore.models.mlp import ModelConfig, build_model
from makemore.sample import format_samples, sample_names

VOCAB = build_vocab(["abcdefghijklmnopqrstuvwxyz"])
CONFIG = ModelConfig(n_embd=4, n_hidden=16, n_layers=2, output_scale=1.0)  # a random, high-entropy model


def gen(seed):
    return microtorch.Generator().manual_seed(seed)


@pytest.fixture
def model():
    return build_model(CONFIG, gen(0))


def test_names_are_deterministic_for_a_seed(model):
    a = sample_names(model, VOCAB, 3, 8, gen(5))
    assert a == sample_names(model, VOCAB, 3, 8, gen(5))
    assert a != sample_names(model, VOCAB, 3, 8, gen(6))
    assert len(a) == 8 and all(set(name) <= set("abcdefghijklmnopqrstuvwxyz") for name in a)


def test_sampling_uses_eval_mode_and_restores_the_mode(model):
    model.train()
    sample_names(model, VOCAB, 3, 2, gen(0))  # a batch of one would fail BatchNorm in train mode
    assert model.training
    assert int(model[3].num_batches_tracked.item()) == 0  # no running statistics were updated


def test_a_model_that_never_ends_stops_at_max_length(model):
    with microtorch.no_grad():
        model[-1].bias[0] = -1e4  # '.' is never drawn
    assert [len(n) for n in sample_names(model, VOCAB, 3, 2, gen(0), max_length=12)] == [12, 12]


def test_format_marks_seen_and_new():
    assert format_samples(["emma", "zaylin"], {"emma"}) == "emma (in train)\nzaylin (new)"
    assert format_samples(["emma"], None) == "emma"


def make_run(run_dir, data_path, model):
    save_checkpoint(run_dir, model, microtorch.optim.SGD(model.parameters(), lr=0.1),
                    config={"model": CONFIG.to_dict(), "train": {"data": str(data_path), "seed": 1}},
                    vocab=VOCAB, step=0, generator=gen(0), losses=[])


def test_cli_prints_marked_names(tmp_path, model, capsys):
    seen = next(name for name in sample_names(model, VOCAB, 3, 20, gen(3)) if name)
    data = tmp_path / "words.txt"
    data.write_text("\n".join([seen] * 9 + ["abcdefghijklmnopqrstuvwxyz"]))  # the train split holds `seen`
    make_run(tmp_path / "run", data, model)
    assert sample.main([str(tmp_path / "run"), "-n", "20", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 20 and all(re.fullmatch(r"[a-z]* \((in train|new)\)", line) for line in lines)
    assert f"{seen} (in train)" in lines and any(line.endswith("(new)") for line in lines)
    assert sample.main([str(tmp_path / "run"), "-n", "20", "--seed", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == lines


def test_cli_without_the_word_list_prints_unmarked_names(tmp_path, model, capsys):
    make_run(tmp_path / "run", tmp_path / "gone.txt", model)
    assert sample.main([str(tmp_path / "run"), "-n", "3"]) == 0
    captured = capsys.readouterr()
    assert "cannot mark names" in captured.err
    assert len(captured.out.splitlines()) == 3 and "(new)" not in captured.out


def test_cli_errors(tmp_path, capsys):
    assert sample.main([str(tmp_path / "missing")]) == 2
    assert "no such run folder" in capsys.readouterr().err
    assert sample.main([str(tmp_path)]) == 2
    assert "checkpoint.npz: missing" in capsys.readouterr().err


@pytest.mark.parametrize("train_config", [{"seed": 1}, None])
def test_cli_with_a_checkpoint_that_does_not_record_its_word_list(tmp_path, model, capsys, train_config):
    config = {"model": CONFIG.to_dict()} | ({} if train_config is None else {"train": train_config})
    save_checkpoint(tmp_path / "run", model, microtorch.optim.SGD(model.parameters(), lr=0.1), config=config,
                    vocab=VOCAB, step=0, generator=gen(0), losses=[])
    assert sample.main([str(tmp_path / "run"), "-n", "3"]) == 0
    captured = capsys.readouterr()
    assert "cannot mark names as seen or new: the checkpoint does not record its word list and seed" in captured.err
    assert len(captured.out.splitlines()) == 3 and "(new)" not in captured.out
