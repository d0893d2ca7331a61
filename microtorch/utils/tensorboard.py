"""SummaryWriter, as torch.utils.tensorboard's, for scalars.

With the `tensorboard` package installed (`pip install 'microtorch[tensorboard]'`), it writes
real TensorBoard event files (tensorboard's own EventFileWriter and protobufs), which
`tensorboard --logdir runs` shows. Without it, importing this module still works: the writer
keeps the scalars in `<log_dir>/scalars.csv` (wall_time, step, tag, value) and says so once.
"""
from __future__ import annotations

import csv
import os
import socket
import sys
import time
from datetime import datetime


def _event_writer_classes():
    """tensorboard's event writer and protobufs, or None when tensorboard is not installed."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        return None
    return EventFileWriter, event_pb2, summary_pb2


def _default_log_dir(comment: str) -> str:
    """runs/<Mon>DD_HH-MM-SS_<host><comment>, as PyTorch names it."""
    return os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname() + comment)


class SummaryWriter:
    """Log scalars for TensorBoard: add_scalar(tag, value, step), add_scalars, flush, close.

    log_dir defaults to runs/<datetime>_<host><comment>. Without tensorboard, the scalars go to
    <log_dir>/scalars.csv instead (a one-line notice on stderr says where).
    """

    def __init__(
        self,
        log_dir: str | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        self.log_dir = os.fspath(log_dir) if log_dir is not None else _default_log_dir(comment)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        os.makedirs(self.log_dir, exist_ok=True)
        self._classes = _event_writer_classes()
        self._writers: dict[str, object] = {}  # folder -> EventFileWriter (add_scalars writes one per tag)
        self._csv = None
        if self._classes is None:
            path = os.path.join(self.log_dir, "scalars.csv")
            new = not os.path.exists(path) or os.path.getsize(path) == 0
            self._csv_file = open(path, "a", newline="", encoding="utf-8")
            self._csv = csv.writer(self._csv_file)
            if new:
                self._csv.writerow(["wall_time", "step", "tag", "value"])
            print(f"microtorch: tensorboard is not installed; scalars go to {path} (pip install 'microtorch[tensorboard]' for event files)", file=sys.stderr)
        else:
            self._event_writer(self.log_dir)  # the event file exists from the start, as in PyTorch

    # ------------------------------------------------------------------ writing
    def _event_writer(self, folder: str):
        if folder not in self._writers:
            EventFileWriter = self._classes[0]
            self._writers[folder] = EventFileWriter(folder, self.max_queue, self.flush_secs, self.filename_suffix)
        return self._writers[folder]

    def _write(self, folder: str, tag: str, value: float, step: int | None, walltime: float | None) -> None:
        walltime = time.time() if walltime is None else float(walltime)
        if self._csv is not None:
            self._csv.writerow([repr(walltime), "" if step is None else int(step), tag, repr(value)])
            return
        _, event_pb2, summary_pb2 = self._classes
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
        event = event_pb2.Event(wall_time=walltime, summary=summary)
        if step is not None:
            event.step = int(step)
        self._event_writer(folder).add_event(event)

    def add_scalar(self, tag: str, scalar_value, global_step: int | None = None, walltime: float | None = None, new_style: bool = False, double_precision: bool = False) -> None:
        """Record one value (a number or a one-element tensor) under tag at global_step."""
        self._write(self.log_dir, tag, _number(scalar_value), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step: int | None = None, walltime: float | None = None) -> None:
        """Several curves on one chart: as in PyTorch each tag is its own run, in the folder
        <log_dir>/<main_tag>_<tag> ('/' in main_tag becomes '_'); in the CSV, tag main_tag/tag."""
        walltime = time.time() if walltime is None else walltime
        for tag, value in tag_scalar_dict.items():
            if self._csv is not None:
                self._write(self.log_dir, f"{main_tag}/{tag}", _number(value), global_step, walltime)
            else:
                folder = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + tag)
                self._write(folder, main_tag, _number(value), global_step, walltime)

    def get_logdir(self) -> str:
        return self.log_dir

    def flush(self) -> None:
        """Write everything recorded so far to disk."""
        if self._csv is not None:
            self._csv_file.flush()
        for writer in self._writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close the files (the writer may not be used afterwards)."""
        if self._csv is not None and not self._csv_file.closed:
            self._csv_file.close()
        for writer in self._writers.values():
            writer.close()

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _number(value) -> float:
    """A scalar as a Python float: numbers, numpy scalars and one-element tensors."""
    if hasattr(value, "item"):
        value = value.item()
    return float(value)
