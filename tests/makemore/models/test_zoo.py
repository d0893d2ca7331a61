"""The zoo's types (bigram, wavenet, rnn, gru, bow, transformer): shapes, parameter counts,
the initial loss, learning, sampling, checkpoints, resume, and the torch.nn twins. Tiny
configs, a 300-word list: a few seconds in all."""
import json
import math

import numpy as np
import pytest

import microtorch
from makemore import sample, train
from makemore.checkpoint import load_checkpoint, save_checkpoint
from makemore.data import build_arrays, build_sequence_arrays, build_vocab, load_words, sequence_length
from makemore.diagnostics import activation_stats, initial_loss_check, uniform_target_loss
from makemore.loop import evaluate, loss_of, train_steps
from makemore.models import FAMILIES, SequenceConfig, build_model, count_parameters, is_sequence
from makemore.models.bigram import BigramConfig
from makemore.models.wavenet import WaveNetConfig
from makemore.sampling import sample_names

WORDS = load_words()[:300]
VOCAB = build_vocab(load_words())
V = len(VOCAB)
T = sequence_length(load_words())
LN_V = math.log(V)

TINY = {
    "bigram": BigramConfig(vocab_size=V),
    "wavenet": WaveNetConfig(vocab_size=V, n_embd=4, n_hidden=16),
    "rnn": SequenceConfig("rnn", V, T, n_embd=8, n_embd2=16),
    "gru": SequenceConfig("gru", V, T, n_embd=8, n_embd2=16),
    "bow": SequenceConfig("bow", V, T, n_embd=8, n_embd2=16),
    "transformer": SequenceConfig("transformer", V, T, n_layer=1, n_head=2, n_embd=16),
}
# makemore.py's sizes (and part 5's wavenet) with the 27 characters of names.txt
FULL = {
    "bigram": (BigramConfig(), 729),
    "wavenet": (WaveNetConfig(), 76_579),
    "rnn": (SequenceConfig("rnn", block_size=16), 11_803),
    "gru": (SequenceConfig("gru", block_size=16), 28_315),
    "bow": (SequenceConfig("bow", block_size=16), 12_827),
    "transformer": (SequenceConfig("transformer", block_size=16), 204_544),  # makemore.py: "0.20M" without lm_head
}
TYPES = tuple(TINY)
CLI_TINY = {"bigram": [], "wavenet": ["--n-embd", "4", "--n-hidden", "16"],
            "rnn": ["--n-embd", "8", "--n-embd2", "16"], "gru": ["--n-embd", "8", "--n-embd2", "16"],
            "bow": ["--n-embd", "8", "--n-embd2", "16"],
            "transformer": ["--n-layer", "1", "--n-head", "2", "--n-embd", "16"]}


def gen(seed=0):
    return microtorch.Generator().manual_seed(seed)


def data(config, words=WORDS):
    """(X, Y) tensors of the view config's family reads."""
    if is_sequence(config):
        X, Y = build_sequence_arrays(words, VOCAB, config.block_size)
    else:
        X, Y = build_arrays(words, VOCAB, config.block_size)
    return microtorch.tensor(X), microtorch.tensor(Y)


def test_the_sequence_view():
    X, Y = build_sequence_arrays(["ab", "c"], build_vocab(["abc"]), 4)
    assert X.tolist() == [[0, 1, 2, 0], [0, 3, 0, 0]]
    assert Y.tolist() == [[1, 2, 0, -1], [3, 0, -1, -1]]
    with pytest.raises(ValueError, match="does not fit"):
        build_sequence_arrays(["abcd"], build_vocab(["abcd"]), 4)
    # both views predict each character and each end token once
    Xw, _ = build_arrays(WORDS, VOCAB, 3)
    assert (data(TINY["rnn"])[1].numpy() != -1).sum() == len(Xw)


@pytest.mark.parametrize("kind", TYPES)
def test_shapes_and_parameter_counts(kind):
    config, n_params = FULL[kind]
    assert count_parameters(build_model(config, gen())) == n_params
    model = build_model(TINY[kind], gen())
    X, Y = data(TINY[kind])
    logits = model(X[:5])
    assert logits.shape == ((5, T, V) if is_sequence(TINY[kind]) else (5, V))
    assert type(TINY[kind]).from_dict(TINY[kind].to_dict()) == TINY[kind]


@pytest.mark.parametrize("kind", TYPES)
def test_initial_loss(kind):
    """Within 0.1 of -ln(1/V) for the types with a scaled-down (or zero) output layer. The bow and
    the transformer keep PyTorch's default init, as makemore.py does: their logits start with a
    random spread (the BoW's lm_head reads the sum of two N(0, 1) embeddings), which costs about
    var(z)/2 above ln V (uniform_target_loss). Scaling the output layer by 0.1 at init, the
    lecture's fix, brings them within 0.1 too: the gap is the init's output scale."""
    config = FULL[kind][0]
    model = build_model(config, gen(1))
    X, Y = data(config)
    check = initial_loss_check(model, X[:64], Y[:64])
    if kind in ("bow", "transformer"):
        assert check["gap"] > 0  # above: the default init starts confidently wrong by var(z)/2
        with microtorch.no_grad():
            assert uniform_target_loss(model(X[:64]), Y[:64]) > LN_V + 0.1
            for p in model.lm_head.parameters():
                p *= 0.1
        assert abs(initial_loss_check(model, X[:64], Y[:64])["gap"]) < 0.1
    else:
        assert abs(check["gap"]) < 0.1


@pytest.mark.parametrize("kind", TYPES)
def test_a_few_hundred_steps_lower_the_loss(kind):
    config = TINY[kind]
    model = build_model(config, gen())
    X, Y = data(config)
    before = evaluate(model, X, Y)
    family = FAMILIES[kind]
    lr = 0.1 if family.defaults.get("optimizer") == "adamw" else 0.5  # tiny models, few steps: larger steps
    opt = (microtorch.optim.AdamW(model.parameters(), lr=1e-2) if family.defaults.get("optimizer") == "adamw"
           else microtorch.optim.SGD(model.parameters(), lr=lr))
    train_steps(model, X, Y, opt, 200, 16, lambda step: opt.param_groups[0]["lr"], gen(2))
    assert evaluate(model, X, Y) < before - 0.4


@pytest.mark.parametrize("kind", TYPES)
def test_sampling(kind):
    config = TINY[kind]
    model = build_model(config, gen())
    kw = dict(sequence=is_sequence(config))
    names = sample_names(model, VOCAB, config.block_size, 5, gen(3), max_length=20, **kw)
    assert names == sample_names(model, VOCAB, config.block_size, 5, gen(3), max_length=20, **kw)
    assert len(names) == 5 and all(set(n) <= set(VOCAB.itos[1:]) for n in names)


def test_temperature_and_top_k():
    model = build_model(TINY["bigram"], gen())
    with microtorch.no_grad():
        model.logits.copy_(microtorch.randn(V, V, generator=gen(7)) * 3)
    greedy = sample_names(model, VOCAB, 1, 3, gen(4), max_length=10, top_k=1)
    path, ix = "", 0  # the argmax chain of the table
    table = model.logits.detach().numpy()
    while len(path) < 10:
        ix = int(table[ix].argmax())
        if ix == 0:
            break
        path += VOCAB.itos[ix]
    assert greedy == [path] * 3
    assert sample_names(model, VOCAB, 1, 3, gen(5), max_length=10, temperature=1e-3) == greedy
    wild = sample_names(model, VOCAB, 1, 50, gen(6), max_length=10, temperature=5.0)
    assert len(set(wild)) > 40
    top2 = sample_names(model, VOCAB, 1, 50, gen(6), max_length=1, top_k=2)
    assert {name[:1] for name in top2} <= {VOCAB.itos[i] for i in np.argsort(table[0])[-2:]} | {""}


@pytest.mark.parametrize("kind", TYPES)
def test_checkpoint_round_trip(tmp_path, kind):
    config = TINY[kind]
    model = build_model(config, gen())
    X, Y = data(config)
    opt = microtorch.optim.AdamW(model.parameters(), lr=1e-2)
    train_steps(model, X, Y, opt, 3, 8, lambda s: 1e-2, gen(1))
    save_checkpoint(tmp_path, model, opt, config={"model": config.to_dict(), "train": {}}, vocab=VOCAB, step=3,
                    generator=gen(), losses=[1.0, 2.0, 3.0])
    ckpt = load_checkpoint(tmp_path)
    assert ckpt.model_config == config
    with microtorch.no_grad():
        model.eval()
        again = ckpt.build_model().eval()
        assert np.array_equal(again(X[:4]).numpy(), model(X[:4]).numpy())


@pytest.fixture(scope="module")
def words_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "words.txt"
    path.write_text("\n".join(WORDS) + "\n")
    return path


def cli(out, words_file, kind, *extra):
    return train.main(["--type", kind, "--data", str(words_file), "--out", str(out), "--batch-size", "8",
                       "--samples", "2", "--log-every", "10", *CLI_TINY[kind], *extra])


def _optimizer(kind, model):
    if FAMILIES[kind].defaults.get("optimizer") == "adamw":
        return microtorch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.9, 0.99), weight_decay=0.01)
    return microtorch.optim.SGD(model.parameters(), lr=0.1)


@pytest.mark.parametrize("kind", TYPES)
def test_resume_from_a_checkpoint_is_bit_identical(tmp_path, kind):
    """20 steps straight == 10 steps, a checkpoint, a fresh model/optimizer/generator restored, 10 more."""
    config = TINY[kind]
    X, Y = data(config)

    def steps(model, opt, g, n, start):
        return train_steps(model, X, Y, opt, n, 8, lambda s: 0.1 if s < 15 else 0.01, g, start_step=start)

    model = build_model(config, gen())
    opt, g = _optimizer(kind, model), gen(1)
    straight = steps(model, opt, g, 20, 0)
    first = build_model(config, gen())
    opt1, g1 = _optimizer(kind, first), gen(1)
    losses = steps(first, opt1, g1, 10, 0)
    save_checkpoint(tmp_path, first, opt1, config={"model": config.to_dict(), "train": {}}, vocab=VOCAB, step=10,
                    generator=g1, losses=losses)
    again = build_model(config, gen(99))
    opt2, g2 = _optimizer(kind, again), microtorch.Generator()
    load_checkpoint(tmp_path).restore(again, opt2, g2)
    assert losses + steps(again, opt2, g2, 10, 10) == straight
    for (k, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), k


@pytest.mark.parametrize("kind, extra", [("bigram", []), ("transformer", ["--dropout", "0.2"])])
def test_cli_resume_is_bit_identical(tmp_path, words_file, kind, extra, capsys):
    """The command line: one window type on SGD, one sequence type on AdamW with dropout (its
    masks come from the run's generator, which the checkpoint keeps)."""
    assert cli(tmp_path / "straight", words_file, kind, "--steps", "20", "--lr-decay-at", "15", *extra) == 0
    assert cli(tmp_path / "split", words_file, kind, "--steps", "10", "--lr-decay-at", "15", *extra) == 0
    assert train.main(["--resume", str(tmp_path / "split"), "--steps", "20", "--samples", "2"]) == 0
    a, b = tmp_path / "straight", tmp_path / "split"
    with np.load(a / "checkpoint.npz") as x, np.load(b / "checkpoint.npz") as y:
        assert x.files == y.files
        for key in set(x.files) - {"meta", "sha256"}:  # meta holds the wall time
            assert np.array_equal(x[key], y[key]), key
    ca, cb = load_checkpoint(a), load_checkpoint(b)
    assert ca.step == cb.step == 20 and ca.rng_state == cb.rng_state and ca.config == cb.config
    assert (a / "metrics.csv").read_text() == (b / "metrics.csv").read_text()


def test_eval_every_writes_val_losses_and_keeps_the_best(tmp_path, words_file, capsys):
    out = tmp_path / "run"
    assert cli(out, words_file, "transformer", "--steps", "30", "--eval-every", "10", "--learning-rate", "1e-2") == 0
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0] == "step,loss,lr,val_loss"
    filled = [r.split(",") for r in rows[1:] if r.split(",")[3]]
    assert [int(r[0]) for r in filled] == [9, 19, 29]  # the rows of the steps after which val was measured
    summary = json.loads((out / "summary.json").read_text())
    best = min(summary["val_losses"], key=lambda sv: sv[1])
    assert summary["best_val"] == {"step": best[0], "loss": best[1]}
    assert load_checkpoint(out / "best").step == best[0]
    assert summary["config"]["train"]["optimizer"] == "adamw"
    # sampling from a run (and from its best-val checkpoint), with temperature and top-k
    capsys.readouterr()
    assert sample.main([str(out / "best"), "-n", "3", "--temperature", "0.8", "--top-k", "5"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


def test_eval_only_and_options_per_type(tmp_path, words_file, capsys):
    out = tmp_path / "run"
    assert cli(out, words_file, "gru", "--steps", "5") == 0
    summary = json.loads((out / "summary.json").read_text())
    capsys.readouterr()
    assert train.main(["--eval-only", str(out)]) == 0
    assert f"{summary['val_loss']:6.4f}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        train.main(["--type", "gru", "--n-head", "2", "--out", str(tmp_path / "x")])
    assert info.value.code == 2 and "--type gru does not use --n-head" in capsys.readouterr().err


def test_tanh_saturation_is_traced_in_modules_with_tanh():
    stats = activation_stats(build_model(TINY["bow"], gen()), data(TINY["bow"])[0][:8])
    assert len(stats) == 1 and stats[0]["units"] == 16  # the BoW's MLP Tanh, (B, T, 16) read as rows
    assert len(activation_stats(build_model(TINY["wavenet"], gen()), data(TINY["wavenet"])[0][:8])) == 3


@pytest.mark.parametrize("kind", TYPES)
def test_state_dict_loads_strict_into_the_torch_nn_twin(kind):
    torch = pytest.importorskip("torch")
    from benchmarks.torch_zoo import build_twin, load_from_microtorch
    config = TINY[kind]
    model = build_model(config, gen()).eval()
    twin = load_from_microtorch(build_twin(config.to_dict()), model).eval()
    X, _ = data(config)
    with microtorch.no_grad(), torch.no_grad():
        ours = model(X[:16]).numpy()
        theirs = twin(torch.from_numpy(X[:16].numpy())).numpy()
    assert np.allclose(ours, theirs, atol=1e-5)


def test_transformer_dropout_trains_only():
    config = SequenceConfig("transformer", V, T, n_layer=1, n_head=2, n_embd=16, dropout=0.5)
    model = build_model(config, gen())
    assert list(model.state_dict()) == list(build_model(TINY["transformer"], gen()).state_dict())  # no new keys
    X, _ = data(config)
    with microtorch.no_grad():
        a, b = model(X[:4]).numpy(), model(X[:4]).numpy()
        model.eval()
        c, d = model(X[:4]).numpy(), model(X[:4]).numpy()
    assert not np.array_equal(a, b) and np.array_equal(c, d)
    with pytest.raises(ValueError, match="dropout is the transformer's"):
        SequenceConfig("rnn", dropout=0.1)


def test_loss_of_ignores_the_padding():
    logits = microtorch.zeros(2, 3, 4)
    Y = microtorch.tensor([[1, 0, -1], [2, -1, -1]])
    assert loss_of(logits, Y).item() == pytest.approx(math.log(4))
    assert loss_of(logits, Y, reduction="sum").item() == pytest.approx(3 * math.log(4))


def test_diagnose_a_zoo_type_with_measured_update_ratios(tmp_path, words_file, capsys):
    from makemore import diagnose
    out = tmp_path / "diag"
    assert diagnose.main(["--type", "bow", "--data", str(words_file), "--steps", "4", "--batch-size", "8",
                          "--probe-batch", "8", "--out", str(out), *CLI_TINY["bow"]]) == 0
    report = json.loads((out / "report.json").read_text())
    ratios = report["training"]["update_ratios"]
    assert ratios["steps"] == [1, 2, 3]  # measured over each step after the first (AdamW: not lr * grad)
    assert all(-8 < r < 0 for values in ratios["ratios"].values() for r in values)
    assert "context_block.mlp.act (Tanh)" in capsys.readouterr().out
