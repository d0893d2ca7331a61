import io
import json
import math
import os
import re
import signal

import numpy as np
import pytest

import microtorch
from makemore import sample
from makemore.checkpoint import load_checkpoint
from makemore.data import load_words
from makemore.train import Progress, main

SMALL = ["--n-embd", "4", "--n-hidden", "16", "--batch-size", "16", "--samples", "3", "--log-every", "50",
         "--checkpoint-every", "50", "--lr-decay-at", "150"]


@pytest.fixture(scope="module")
def words_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "words.txt"
    path.write_text("\n".join(load_words()[:300]) + "\n")
    return path


def train_cli(out, words_file, *extra, callback=None):
    return main(["--data", str(words_file), "--out", str(out), *SMALL, *extra], callback=callback)


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory, words_file):
    """200 steps in one go: the reference for the resume tests."""
    out = tmp_path_factory.mktemp("runs") / "straight"
    assert train_cli(out, words_file, "--steps", "200", "--test") == 0
    return out


def assert_same_run(a, b):
    """Bit-identical checkpoints (weights, buffers, optimizer, loss history, RNG) and metrics."""
    with np.load(a / "checkpoint.npz") as x, np.load(b / "checkpoint.npz") as y:
        assert x.files == y.files
        for key in x.files:
            if key not in ("meta", "sha256"):  # meta holds the wall time
                assert np.array_equal(x[key], y[key]), key
    ca, cb = load_checkpoint(a), load_checkpoint(b)
    assert ca.step == cb.step and ca.rng_state == cb.rng_state and ca.config == cb.config
    assert (a / "metrics.csv").read_text() == (b / "metrics.csv").read_text()


def checkpoint_step(run_dir):
    return load_checkpoint(run_dir).step


def test_progress_plain_lines_every_log_every():
    stream = io.StringIO()
    progress = Progress(total=1000, start=0, log_every=500, lr_at=lambda s: 0.1, stream=stream)
    for step in range(100, 1001, 100):
        progress(step, [2.0] * step)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("step     500/1000  loss 2.0000  lr 0.1")


# ----------------------------------------------------------------------------
# the command line

def test_smoke_on_the_shipped_data(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--out", str(out), "--steps", "300", "--checkpoint-every", "100", "--samples", "4"]) == 0
    text = capsys.readouterr().out
    assert "predicted -ln(1/27) = 3.2958" in text and "calibrated statistics" in text
    assert set(os.listdir(out)) == {"checkpoint.npz", "summary.json", "loss.png", "metrics.csv", "train.lock"}
    assert (out / "train.lock").read_text() == ""  # released
    assert "vocabulary: 27 characters: '.' (start/end) and 'abcdefghijklmnopqrstuvwxyz'" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 300 and summary["config"]["train"]["lr_decay_at"] == 150
    assert abs(summary["initial_loss_measured"] - math.log(27)) < 0.1
    for key in ("train_loss", "val_loss", "train_loss_calibrated", "val_loss_calibrated"):
        assert 2.0 < summary[key] < 2.9, key  # down from 3.30
    assert "test_loss" not in summary  # only with --test
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0] == "step,loss,lr" and len(rows) == 301 and rows[1].startswith("0,")
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert checkpoint_step(out) == 300
    assert sample.main([str(out), "-n", "3"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_naive_init_warns(tmp_path, words_file, capsys):
    assert train_cli(tmp_path / "r", words_file, "--steps", "0", "--init", "naive", "--no-batchnorm") == 0
    assert "WARNING: the initial loss" in capsys.readouterr().err
    assert train_cli(tmp_path / "k", words_file, "--steps", "0") == 0
    assert "WARNING" not in capsys.readouterr().err


def test_resume_is_bit_identical(tmp_path, words_file, straight_run, capsys):
    out = tmp_path / "resumed"
    assert train_cli(out, words_file, "--steps", "100") == 0
    assert checkpoint_step(out) == 100
    assert main(["--resume", str(out), "--steps", "200"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert_same_run(straight_run, out)


def test_ctrl_c_saves_a_checkpoint_and_resume_continues_exactly(tmp_path, words_file, straight_run, capsys):
    def interrupt(step, model, optimizer, lr, loss):
        if step == 70:
            raise KeyboardInterrupt

    out = tmp_path / "interrupted"
    assert train_cli(out, words_file, "--steps", "200", callback=interrupt) == 130
    assert checkpoint_step(out) == 71  # steps 0..70 completed
    assert f"python -m makemore.train --resume {out}" in capsys.readouterr().out
    assert not (out / "summary.json").exists()
    assert main(["--resume", str(out)]) == 0
    assert_same_run(straight_run, out)


def ctrl_c() -> None:
    """A SIGINT raised in this thread, so its handler runs before the next line (os.kill may hand
    it to another thread, e.g. a BLAS worker, and the main thread then sees it later)."""
    signal.raise_signal(signal.SIGINT)

def test_sigint_stops_between_steps_at_the_next_chunk(tmp_path, words_file, straight_run):
    def send_sigint(step, model, optimizer, lr, loss):
        if step == 10:
            ctrl_c()

    out = tmp_path / "sigint"
    assert train_cli(out, words_file, "--steps", "200", callback=send_sigint) == 130
    assert checkpoint_step(out) == 50
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    assert main(["--resume", str(out)]) == 0
    assert_same_run(straight_run, out)


def test_second_sigint_stops_at_once_without_saving(tmp_path, words_file, capsys):
    def send_two(step, model, optimizer, lr, loss):
        if step == 60:
            ctrl_c()
            ctrl_c()

    out = tmp_path / "killed"
    assert train_cli(out, words_file, "--steps", "200", callback=send_two) == 130
    assert "stopped at once; the last checkpoint (step 50) is kept" in capsys.readouterr().out
    assert checkpoint_step(out) == 50


def test_nan_keeps_the_last_good_checkpoint(tmp_path, words_file, capsys):
    def poison(step, model, optimizer, lr, loss):
        if step == 60:
            with microtorch.no_grad():
                model[0].weight.fill_(math.nan)

    out = tmp_path / "nan"
    assert train_cli(out, words_file, "--steps", "200", callback=poison) == 1
    assert "loss became nan at step 61" in capsys.readouterr().err
    assert checkpoint_step(out) == 50
    assert not (out / "summary.json").exists()
    assert main(["--eval-only", str(out)]) == 0  # the kept checkpoint loads and is finite
    assert re.search(r"running statistics +\d\.\d{4} +\d\.\d{4}\n", capsys.readouterr().out)


def test_eval_only_reports_the_summary_losses(tmp_path, words_file, straight_run, capsys):
    assert main(["--eval-only", str(straight_run), "--test"]) == 0
    text = capsys.readouterr().out
    summary = json.loads((straight_run / "summary.json").read_text())
    assert f"{summary['train_loss']:6.4f}  {summary['val_loss']:6.4f}  {summary['test_loss']:6.4f}" in text
    assert f"{summary['train_loss_calibrated']:6.4f}  {summary['val_loss_calibrated']:6.4f}" in text


def test_refuses_to_overwrite_a_run_and_reports_bad_checkpoints(tmp_path, words_file, capsys):
    out = tmp_path / "r"
    assert train_cli(out, words_file, "--steps", "0") == 0
    with pytest.raises(SystemExit, match="already holds a run"):
        train_cli(out, words_file, "--steps", "10")
    (out / "checkpoint.npz").write_bytes(b"junk")
    assert main(["--resume", str(out)]) == 2
    assert "checkpoint.npz: unreadable, corrupted or truncated (not an npz file" in capsys.readouterr().err


def test_help():
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0


def test_second_sigint_during_a_save_lets_the_save_finish(tmp_path, words_file, monkeypatch, capsys):
    """Two Ctrl-Cs while the step-50 checkpoint is being written (its temporary file written,
    not yet renamed) must not stop the save half-way."""
    from makemore import files
    write = files._write_file
    fired = []

    def write_then_interrupt(path, data):
        write(path, data)
        if path.name.startswith(".checkpoint.npz.") and not fired:
            fired.append(path)
            ctrl_c()
            ctrl_c()

    out = tmp_path / "saving"
    assert train_cli(out, words_file, "--steps", "10") == 0
    monkeypatch.setattr(files, "_write_file", write_then_interrupt)
    assert main(["--resume", str(out), "--steps", "200", "--checkpoint-every", "50"]) == 130
    assert fired and "the last checkpoint (step 50) is kept" in capsys.readouterr().out
    assert load_checkpoint(out).step == 50


@pytest.mark.parametrize("command", ["--resume", "--eval-only"])
def test_a_checkpoint_without_its_training_settings_is_reported(tmp_path, words_file, capsys, command):
    from makemore import checkpoint
    out = tmp_path / "r"
    assert train_cli(out, words_file, "--steps", "0") == 0
    path = out / "checkpoint.npz"
    arrays, meta = checkpoint.unpack(path.read_bytes(), path)
    del meta["config"]["train"]["seed"]
    path.write_bytes(checkpoint.pack(arrays, meta))
    assert main([command, str(out)]) == 2
    assert f"{path}: the training settings (config.train) lack seed" in capsys.readouterr().err


def test_resume_says_where_the_learning_rate_decays(tmp_path, words_file, capsys):
    out = tmp_path / "r"
    assert train_cli(out, words_file, "--steps", "20") == 0
    assert main(["--resume", str(out), "--steps", "40"]) == 0
    assert f"resuming {out} at step 20 of 40 (lr 0.1, 0.01 from step 150, as the run was started)" in capsys.readouterr().out


def test_the_loss_plot_leaves_the_matplotlib_backend_alone(tmp_path, words_file):
    import matplotlib
    before = matplotlib.get_backend()
    matplotlib.use("pdf")  # a notebook's backend, say: writing loss.png must not switch it to Agg
    try:
        assert train_cli(tmp_path / "r", words_file, "--steps", "20") == 0
        assert matplotlib.get_backend() == "pdf"
    finally:
        matplotlib.use(before)
    assert (tmp_path / "r" / "loss.png").read_bytes()[:4] == b"\x89PNG"
