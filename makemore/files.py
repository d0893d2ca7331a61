"""Writing files so that a crash, a kill or a full disk never leaves a torn one.

commit_bytes gives a file one commit point (write a temporary beside it, fsync, read back,
rename over it, fsync the folder). Every OSError raised here names the path it concerns, so
the commands can report it in one line (os_error_line).
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from microtorch.serialization import _fsync_folder as fsync_dir  # a rename made durable: one helper for both writers

__all__ = ["commit_bytes", "named_errors", "os_error_line", "remove_stale_temporaries", "fsync_dir"]


@contextlib.contextmanager
def named_errors(path: str | os.PathLike):
    """Re-raise an OSError without a file name (os.write's ENOSPC, say) as one naming path."""
    try:
        yield
    except OSError as e:
        if e.filename is None:
            raise type(e)(e.errno, e.strerror or str(e), str(path)) from e
        raise


def os_error_line(e: OSError) -> str:
    """'<path>: <reason>' (and the second path of a rename), for a one-line error."""
    reason = e.strerror or str(e)
    if e.filename is None:
        return reason
    return f"{e.filename}: {reason}" + (f" (-> {e.filename2})" if e.filename2 else "")


def _write_file(path: Path, data: bytes) -> None:
    """Create path (it must not exist), write data and fsync: the seam fault-injection tests patch."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_name(path: Path) -> Path:
    """The temporary file a commit of path writes first: hidden, beside it, ending in .tmp."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def commit_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Make path hold data, with one commit point: a temporary file beside it is written,
    fsynced and read back, then renamed over path (and the folder fsynced). Readers see the
    old file or the new one; on any error the old file is untouched and the temporary removed."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        with named_errors(tmp):
            tmp.unlink(missing_ok=True)  # a leftover of this pid (an earlier failed attempt)
            _write_file(tmp, data)
            if tmp.read_bytes() != data:
                raise OSError(errno.EIO, "read back different bytes than were written", str(tmp))
        with named_errors(path):
            os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporaries of interrupted commits in folder (only while holding its lock)."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass
    return removed
