"""SummaryWriter: real event files when tensorboard is installed (read back with tensorboard's
own EventAccumulator), else a CSV of scalars and a one-line notice; importing never fails."""
import csv
import os

import numpy as np
import pytest

import microtorch as torch
from microtorch.utils import tensorboard
from microtorch.utils.tensorboard import SummaryWriter


def test_csv_fallback_without_tensorboard(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tensorboard, "_event_writer_classes", lambda: None)
    with SummaryWriter(log_dir=tmp_path / "run") as writer:
        writer.add_scalar("Loss/train", torch.tensor(2.5), 0)
        writer.add_scalar("Loss/train", 1.25, 500, walltime=123.0)
        writer.add_scalars("loss", {"train": np.float32(1.0), "test": 2}, 7)
        writer.flush()
    notice = capsys.readouterr().err.strip().splitlines()
    assert len(notice) == 1 and "tensorboard is not installed" in notice[0] and "scalars.csv" in notice[0]
    with open(tmp_path / "run" / "scalars.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["wall_time", "step", "tag", "value"]
    assert [r[1:] for r in rows[1:]] == [["0", "Loss/train", "2.5"], ["500", "Loss/train", "1.25"], ["7", "loss/train", "1.0"], ["7", "loss/test", "2.0"]]
    assert rows[2][0] == "123.0"
    SummaryWriter(log_dir=tmp_path / "run").close()  # appending to an existing run keeps one header
    with open(tmp_path / "run" / "scalars.csv", newline="") as f:
        assert sum(1 for r in csv.reader(f) if r[0] == "wall_time") == 1


def test_default_log_dir_is_runs_datetime_host(tmp_path, monkeypatch):
    monkeypatch.setattr(tensorboard, "_event_writer_classes", lambda: None)
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    writer.close()
    folder = writer.get_logdir()
    assert folder.startswith("runs" + os.sep) and folder.endswith("_lr0.1") and os.path.isdir(folder)


def test_event_files_with_tensorboard(tmp_path):
    pytest.importorskip("tensorboard")
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    writer = SummaryWriter(log_dir=str(tmp_path))
    for step, value in [(0, 3.0), (500, 2.5), (1000, 2.25)]:
        writer.add_scalar("Loss/train", value, step)
    writer.add_scalars("both", {"a": 1.0, "b": 2.0}, 3)
    writer.close()
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("Loss/train")] == [(0, 3.0), (500, 2.5), (1000, 2.25)]
    sub = event_accumulator.EventAccumulator(str(tmp_path / "both_a"))
    sub.Reload()
    assert [(e.step, e.value) for e in sub.Scalars("both")] == [(3, 1.0)]
