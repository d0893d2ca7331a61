"""A run folder's lock: one training process at a time writes into a run folder.

The lock is <run>/train.lock, held with an exclusive advisory lock (fcntl.flock, or
msvcrt.locking on Windows) for as long as the training runs, and holding the holder's pid.
The operating system drops the lock when its process dies, however it dies, so a lock file
whose lock can be taken but that still names a pid is stale: its process was killed before it
could clear it. It is taken over with a notice. Readers (sample, diagnose, --eval-only) need
no lock: a checkpoint has one commit point.
"""

from __future__ import annotations

import os
from pathlib import Path

from .files import named_errors

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

LOCK_NAME = "train.lock"


class RunLocked(Exception):
    """Another process holds the run folder's lock; the message names the folder and its pid."""

    def __init__(self, run_dir: Path, pid: int | None):
        holder = f"process {pid}" if pid is not None else "another process"
        super().__init__(f"{run_dir} is in use: {holder} is training into it (lock {run_dir / LOCK_NAME}); "
                         "wait for it to finish or stop it, or choose another --out")
        self.run_dir, self.pid = run_dir, pid


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:  # BlockingIOError (EWOULDBLOCK), or EACCES / EDEADLK on some systems
        return False
    return True


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


class RunLock:
    """The lock of run_dir: acquire() or raise RunLocked; release() (or use it as a context manager)."""

    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self.fd: int | None = None
        self.notice: str | None = None  # set by acquire() when a stale lock was taken over

    def acquire(self) -> RunLock:
        with named_errors(self.path):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                raise RunLocked(self.run_dir, _read_pid(fd))
            with named_errors(self.path):
                previous = _read_pid(fd)
                if previous is not None and previous != os.getpid():
                    self.notice = (f"note: took over the stale lock of process {previous} in {self.run_dir} "
                                   "(it is no longer running: it was killed before it could clear it)")
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, f"{os.getpid()}\n".encode())
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return self

    def release(self) -> None:
        """Clear the pid and drop the lock (the file stays: removing it would race a new holder)."""
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
        except OSError:
            pass  # a stale pid is harmless: the next holder takes it over
        finally:
            os.close(self.fd)  # closing drops flock and msvcrt locks
            self.fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
