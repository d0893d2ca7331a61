"""Fault injection: kills mid-save, filesystem errors, a held lock, changed data, bad paths.

Each fault must end in a one-line error naming the path (or the folder and the pid), a non-zero
exit, and a last good checkpoint that still loads and resumes.
"""

import errno
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from makemore import files
from makemore.checkpoint import load_checkpoint
from makemore.data import load_words
from makemore.lock import RunLock
from makemore.train import main

SMALL = ["--n-embd", "4", "--n-hidden", "16", "--batch-size", "16", "--samples", "2", "--log-every", "50",
         "--lr-decay-at", "150"]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def words_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "words.txt"
    path.write_text("\n".join(load_words()[:300]) + "\n")
    return path


def train(out, words_file, *extra):
    return main(["--data", str(words_file), "--out", str(out), *SMALL, *extra])


def train_unfinished(out, words_file, steps, *extra):
    """A run stopped (as by Ctrl-C) with its checkpoint at `steps`: no final report (it is slow)."""
    def stop(step, *_):
        if step == steps - 1:
            raise KeyboardInterrupt
    assert main(["--data", str(words_file), "--out", str(out), *SMALL, "--steps", str(steps + 1000), *extra],
                callback=stop) == 130
    assert load_checkpoint(out).step == steps


def one_error_line(err: str) -> str:
    """The error line of stderr (the only line starting 'error:'), checked to be a single line."""
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def child_env():
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


# ----------------------------------------------------------------------------
# SIGKILL in the middle of a save

_CHILD = textwrap.dedent("""
    import os, sys, time
    from makemore import files
    from makemore.train import main
    where, out, data = sys.argv[1], sys.argv[2], sys.argv[3]
    write, replace, saves = files._write_file, files.os.replace, []

    def hang():
        print("SAVING", flush=True)
        time.sleep(60)

    def half_write(path, data):  # the temporary file half written, then a kill
        saves.append(path)
        if len(saves) == 3:
            with open(path, "wb") as f:
                f.write(data[: len(data) // 2])
            hang()
        write(path, data)

    def slow_replace(src, dst):  # written and fsynced, not yet renamed
        if str(dst).endswith("checkpoint.npz"):
            saves.append(dst)
            if len(saves) == 3:
                hang()
        replace(src, dst)

    if where == "write":
        files._write_file = half_write
    else:
        files.os.replace = slow_replace
    main(["--data", data, "--out", out, "--steps", "200", "--checkpoint-every", "10", "--n-embd", "4",
          "--n-hidden", "16", "--batch-size", "16", "--samples", "0"])
""")


@pytest.mark.parametrize("where", ["write", "replace"])
def test_sigkill_mid_save_keeps_the_previous_checkpoint_and_resumes(tmp_path, words_file, where, capsys):
    out = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, where, str(out), str(words_file)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=child_env())
    try:
        for line in child.stdout:
            if line.startswith("SAVING"):
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert leftovers  # the killed save's temporary file
    assert load_checkpoint(out).step == 10  # saves at steps 0, 10, then the one killed at 20
    assert (out / "train.lock").read_text().strip() == str(child.pid)  # never released
    assert main(["--resume", str(out), "--samples", "0"]) == 0
    err = capsys.readouterr().err
    assert f"took over the stale lock of process {child.pid}" in err
    assert load_checkpoint(out).step == 200
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # cleaned up under the lock


# ----------------------------------------------------------------------------
# filesystem errors in the writer

def _fail_on_call(n: int, error: OSError):
    """A _write_file that fails on its n-th call (1-based) with error, else writes."""
    write, calls = files._write_file, []

    def writer(path, data):
        calls.append(path)
        if len(calls) == n:
            raise error
        write(path, data)
    return writer


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_a_write_error_mid_training_is_one_line_and_keeps_the_checkpoint(tmp_path, words_file, monkeypatch, capsys,
                                                                      code):
    out = tmp_path / "run"
    # saves: step 0, 50, 100 (the third write of the checkpoint fails)
    monkeypatch.setattr(files, "_write_file", _fail_on_call(3, OSError(code, os.strerror(code))))
    assert train(out, words_file, "--steps", "200", "--checkpoint-every", "50") == 1
    line = one_error_line(capsys.readouterr().err)
    tmp = f".checkpoint.npz.{os.getpid()}.tmp"
    assert line == f"error: {out / tmp}: {os.strerror(code)}; the last good checkpoint (step 50) is kept"
    monkeypatch.undo()
    assert load_checkpoint(out).step == 50 and sorted(os.listdir(out)) == ["checkpoint.npz", "metrics.csv", "train.lock"]
    assert main(["--resume", str(out), "--samples", "0"]) == 0
    assert load_checkpoint(out).step == 200


def test_an_unwritable_run_folder_is_one_line(tmp_path, words_file, monkeypatch, capsys):
    out = tmp_path / "ro" / "run"
    mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):
        if self == out:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert train(out, words_file, "--steps", "10") == 1
    assert one_error_line(capsys.readouterr().err) == f"error: {out}: Permission denied"


def test_a_folder_where_summary_json_goes_is_one_line(tmp_path, words_file, capsys):
    out = tmp_path / "run"
    (out / "summary.json").mkdir(parents=True)  # EISDIR when the summary is renamed into place
    assert train(out, words_file, "--steps", "20", "--checkpoint-every", "10") == 1
    line = one_error_line(capsys.readouterr().err)
    assert str(out / "summary.json") in line and "the last good checkpoint (step 20) is kept" in line
    assert load_checkpoint(out).step == 20


@pytest.mark.parametrize("command", ["train", "diagnose", "ablate"])
def test_out_that_is_a_file_or_under_a_file_is_a_usage_error(tmp_path, capsys, command):
    from makemore import ablate, diagnose, train as train_cmd
    main_of = {"train": train_cmd.main, "diagnose": diagnose.main, "ablate": ablate.main}[command]
    a_file = tmp_path / "f"
    a_file.write_text("x")
    for out, message in ((a_file, f"{a_file} is a file, not a folder"),
                         (a_file / "run", f"{a_file} (in {a_file / 'run'}) is a file, not a folder")):
        with pytest.raises(SystemExit) as info:
            main_of(["--out", str(out)])
        assert info.value.code == 2
        assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f"argument --out: {message}")


def test_data_that_is_a_folder_or_missing_is_a_usage_error(tmp_path, capsys):
    for data, message in ((tmp_path, f"{tmp_path} is a folder, not a word list"),
                          (tmp_path / "no.txt", f"{tmp_path / 'no.txt'}: no such file")):
        with pytest.raises(SystemExit) as info:
            main(["--data", str(data), "--out", str(tmp_path / "run")])
        assert info.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # no work done


# ----------------------------------------------------------------------------
# the lock

def test_a_second_training_into_a_locked_folder_is_refused(tmp_path, words_file, capsys):
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from makemore.lock import RunLock
        lock = RunLock({str(out)!r}).acquire()
        print("HELD", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True, env=child_env())
    try:
        assert holder.stdout.readline().strip() == "HELD"
        assert train(out, words_file, "--steps", "10") == 2
        line = one_error_line(capsys.readouterr().err)
        assert line.startswith(f"error: {out} is in use: process {holder.pid} is training into it")
        assert not (out / "checkpoint.npz").exists() and not (out / "metrics.csv").exists()
    finally:
        holder.kill()
        holder.wait()
    assert train(out, words_file, "--steps", "10") == 0  # the dead holder's lock is taken over
    assert f"took over the stale lock of process {holder.pid}" in capsys.readouterr().err


def test_the_lock_is_held_in_process_and_released_after_the_run(tmp_path, words_file, capsys):
    out = tmp_path / "run"
    out.mkdir()
    with RunLock(out):
        assert train(out, words_file, "--steps", "10") == 2
        assert f"process {os.getpid()} is training into it" in capsys.readouterr().err
    assert train(out, words_file, "--steps", "10") == 0
    assert "stale" not in capsys.readouterr().err  # released cleanly: nothing to take over
    assert (out / "train.lock").read_text() == ""


# ----------------------------------------------------------------------------
# the data and the metrics on resume

def test_a_changed_word_list_is_refused_on_resume_unless_accepted(tmp_path, words_file, capsys):
    data = tmp_path / "words.txt"
    data.write_bytes(words_file.read_bytes())
    out = tmp_path / "run"
    train_unfinished(out, data, 20)
    data.write_text(data.read_text().replace("emma\n", "emmy\n"))  # same vocabulary, another split
    for command in ("--resume", "--eval-only"):
        assert main([command, str(out), "--steps", "40"] if command == "--resume" else [command, str(out)]) == 2
        line = one_error_line(capsys.readouterr().err)
        assert f"error: {data} has changed since the run started" in line and "--accept-changed-data" in line
    assert load_checkpoint(out).step == 20
    assert main(["--resume", str(out), "--steps", "40", "--accept-changed-data"]) == 0
    assert "going on with it (--accept-changed-data)" in capsys.readouterr().err
    assert main(["--eval-only", str(out)]) == 0  # the new checksum was recorded


@pytest.fixture(scope="module")
def straight_60(tmp_path_factory, words_file):
    out = tmp_path_factory.mktemp("runs") / "straight"
    assert train(out, words_file, "--steps", "60", "--checkpoint-every", "20", "--samples", "0") == 0
    return out


@pytest.mark.parametrize("damage, problem", [
    (lambda p: p.unlink(), "missing; "),
    (lambda p: p.write_text("".join(p.read_text().splitlines(keepends=True)[:30])), "short (29 of 40 rows); "),
    (lambda p: p.write_text(p.read_text().replace("\n17,", "\n17,garbage")),
     "damaged or from another run at line 19 ('17,garbage"),
    (lambda p: p.write_bytes(b"\xff\xfe\x00garbage"), "not text; "),
])
def test_a_damaged_metrics_csv_is_rebuilt_on_resume_with_a_warning(tmp_path, words_file, straight_60, capsys, damage,
                                                                   problem):
    out = tmp_path / "run"
    train_unfinished(out, words_file, 40, "--checkpoint-every", "20")
    damage(out / "metrics.csv")
    capsys.readouterr()
    assert main(["--resume", str(out), "--steps", "60"]) == 0
    err = capsys.readouterr().err
    assert f"warning: {out / 'metrics.csv'} was {problem}" in err and "rewrote it from the checkpoint's loss history" in err
    assert (out / "metrics.csv").read_text() == (straight_60 / "metrics.csv").read_text()


# ----------------------------------------------------------------------------
# a diverging loss

@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_exploding_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, words_file, capsys):
    out = tmp_path / "run"
    assert train(out, words_file, "--steps", "2000", "--lr", "10", "--checkpoint-every", "1", "--n-hidden", "200") == 1
    line = one_error_line(capsys.readouterr().err)
    step = int(re.search(r"the loss exploded to \S+ at step (\d+) ", line).group(1))
    assert "try a smaller --lr" in line and f"The last good checkpoint (step {step}) is kept" in line
    ckpt = load_checkpoint(out)
    assert ckpt.step == step > 0 and np.isfinite(ckpt.losses).all() and max(ckpt.losses) <= ckpt.extra["max_loss"]
    assert not (out / "summary.json").exists()
