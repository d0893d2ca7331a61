"""save / load: torch.save and torch.load for microtorch, in a safe format of our own.

A file is a zip archive (stored, not compressed) of
  microtorch.json   {"format": "microtorch", "version": 1, "object": <the object, encoded>}
  tensors/<i>.npy   one numpy array per tensor (np.save, allow_pickle=False)
What it can hold: tensors (and Parameters, keeping requires_grad), numpy arrays, None, bools,
ints, floats (nan and inf too), strings, devices, dtypes, and dicts (any of those keys, order kept),
OrderedDicts, lists and tuples of them: state dicts, optimizer states, checkpoints. Nothing is
ever pickled, so loading a file cannot run code (weights_only is always in force). A tensor
reached twice is stored once and loads as one tensor (views do not keep sharing storage).

Saving to a path is atomic: the archive is written to a temporary file beside it, fsynced and
renamed over the path, so a crash leaves the old file or the new one, never half of one. A
damaged, truncated or foreign file (PyTorch's own .pt files included) is a RuntimeError that
names the file and says what it is.
"""
from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

from .devices import _check_device, device
from .dtypes import _by_name, dtype
from .tensor import Tensor, _new

_MANIFEST = "microtorch.json"
_FORMAT = "microtorch"
_VERSION = 1
_ALLOWED = "tensors, numpy arrays, None, bools, ints, floats, strings, devices, dtypes, and dicts, lists and tuples of them"


class _Encoder:
    """Turns an object tree into JSON-able data and a list of arrays."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.seen: dict[int, int] = {}  # id(tensor) -> its array's number
        self.keep: list = []  # the tensors seen, alive until the encoder is done (ids stay unique)

    def array(self, obj, array: np.ndarray) -> int:
        if id(obj) not in self.seen:
            self.seen[id(obj)] = len(self.arrays)
            self.arrays.append(array)
            self.keep.append(obj)
        return self.seen[id(obj)]

    def encode(self, obj: Any, where: str):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"float": repr(float(obj))}
        if isinstance(obj, Tensor):
            from .nn.module import Parameter  # at call time: nn is built on this package's core

            if obj._array.dtype.kind not in "biufc" or obj._array.dtype.hasobject:
                raise TypeError(f"microtorch.save: cannot store a tensor of dtype {obj._array.dtype} at {where}")
            entry = {"tensor": self.array(obj, obj._array)}
            if obj.requires_grad:
                entry["requires_grad"] = True
            if isinstance(obj, Parameter):
                entry["parameter"] = True
            return entry
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise TypeError(f"microtorch.save: cannot store a numpy array of objects at {where}")
            return {"ndarray": self.array(obj, obj)}
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), where)
        if isinstance(obj, device):
            return {"device": str(obj)}
        if isinstance(obj, dtype):
            return {"dtype": repr(obj).removeprefix("torch.")}
        if isinstance(obj, dict):
            items = [[self.encode(k, f"{where} (a key)"), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]
            for (key, _), original in zip(items, obj):
                if isinstance(key, dict) and ("tensor" in key or "ndarray" in key):
                    raise TypeError(f"microtorch.save: a tensor cannot be a dict key (at {where}, key {original!r})")
            return {"dict": items, "ordered": True} if isinstance(obj, OrderedDict) else {"dict": items}
        if isinstance(obj, list):
            return {"list": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, tuple):
            return {"tuple": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        raise TypeError(
            f"microtorch.save cannot store an object of type {type(obj).__module__}.{type(obj).__qualname__} "
            f"(at {where}): it saves only {_ALLOWED}, and never pickles arbitrary objects"
        )


def _decode(data, arrays: list[np.ndarray], made: dict, where: str):
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, dict):
        if "float" in data:
            return float(data["float"])
        if "tensor" in data:
            index = data["tensor"]
            if index not in made:
                from .nn.module import Parameter

                array = arrays[index]
                if data.get("parameter"):
                    made[index] = Parameter(_new(array), requires_grad=bool(data.get("requires_grad")))
                else:
                    made[index] = _new(array)
                    if data.get("requires_grad"):
                        made[index].requires_grad_(True)
            return made[index]
        if "ndarray" in data:
            return arrays[data["ndarray"]]
        if "device" in data:
            return device(data["device"])
        if "dtype" in data:
            return _by_name(data["dtype"])
        if "dict" in data:
            pairs = [(_decode(k, arrays, made, where), _decode(v, arrays, made, where)) for k, v in data["dict"]]
            return OrderedDict(pairs) if data.get("ordered") else dict(pairs)
        if "list" in data:
            return [_decode(v, arrays, made, where) for v in data["list"]]
        if "tuple" in data:
            return tuple(_decode(v, arrays, made, where) for v in data["tuple"])
    raise ValueError(f"unknown entry {str(data)[:80]}")


def _name(f) -> str:
    if isinstance(f, (str, os.PathLike)):
        return os.fspath(f)
    return getattr(f, "name", None) or f"<{type(f).__name__}>"


def _write_archive(stream: BinaryIO, manifest: dict, arrays: list[np.ndarray]) -> None:
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_MANIFEST, json.dumps(manifest, allow_nan=False))
        for i, array in enumerate(arrays):
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            archive.writestr(f"tensors/{i}.npy", buffer.getvalue())


def save(obj: Any, f, pickle_module=None, pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True) -> None:
    """Save obj (a state dict, an optimizer state, or nested dicts/lists/tuples of tensors,
    numbers, strings, None and bools) to a path or a writable binary file object.

    Writing to a path is atomic (temporary file, fsync, rename). An object of any other type is
    a TypeError naming it and where it sits: nothing is pickled. pickle_module and
    pickle_protocol are accepted for PyTorch's signature and ignored.
    """
    encoder = _Encoder()
    manifest = {"format": _FORMAT, "version": _VERSION, "object": encoder.encode(obj, "the saved object")}
    if not isinstance(f, (str, os.PathLike)):
        _write_archive(f, manifest, encoder.arrays)
        return
    path = os.path.abspath(os.fspath(f))
    folder = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            _write_archive(stream, manifest, encoder.arrays)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (where the platform lets a folder be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _foreign(name: str, head: bytes, members: list[str] | None) -> RuntimeError:
    """The error for a file that is not a microtorch archive, saying what it looks like."""
    if members is not None and any(m.endswith("data.pkl") for m in members):
        what = "a PyTorch file (torch.save's zip/pickle format); load it with PyTorch, e.g. convert it with " \
               "`{k: v.numpy() for k, v in torch.load(path).items()}` and numpy.savez"
    elif members is not None and members and all(m.endswith(".npy") for m in members):
        what = "a numpy .npz archive; load it with numpy.load"
    elif members is not None:
        what = "a zip archive without microtorch's manifest"
    elif head[:1] == b"\x80":
        what = "a pickle file (e.g. PyTorch's legacy torch.save format), which microtorch never unpickles"
    elif not head:
        what = "an empty file"
    else:
        what = "not a zip archive"
    return RuntimeError(f"{name} is not a microtorch file: {what}")


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = True, mmap: bool | None = None, **pickle_load_args) -> Any:
    """Load an object saved by microtorch.save from a path or a readable binary file object.

    Only data comes back (tensors, numbers, strings, containers): weights_only holds whatever it
    is set to, since the format cannot hold code. map_location may be None, 'cpu', a device, or a
    dict/callable as in PyTorch (everything loads onto the CPU); a CUDA device raises PyTorch's
    error. A damaged or foreign file raises RuntimeError naming the file.
    """
    if isinstance(map_location, (str, device)):
        _check_device(map_location)
    elif isinstance(map_location, dict):
        for target in map_location.values():
            _check_device(target)
    name = _name(f)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as stream:
            return _load_stream(stream, name)
    if not (hasattr(f, "seekable") and f.seekable()):
        f = io.BytesIO(f.read())
    return _load_stream(f, name)


def _load_stream(stream: BinaryIO, name: str) -> Any:
    start = stream.tell()
    head = stream.read(8)
    stream.seek(start)
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        if head[:4] == b"PK\x03\x04":
            raise RuntimeError(f"{name} is damaged: a zip archive that cannot be read (truncated?)") from None
        raise _foreign(name, head, None) from None
    with archive:
        members = archive.namelist()
        if _MANIFEST not in members:
            raise _foreign(name, head, members)
        try:
            manifest = json.loads(archive.read(_MANIFEST).decode("utf-8"))
            if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
                raise ValueError("its manifest is not microtorch's")
            if manifest.get("version") != _VERSION:
                raise ValueError(f"format version {manifest.get('version')!r}; this microtorch reads version {_VERSION}")
            count = sum(1 for m in members if m.startswith("tensors/"))
            arrays = []
            for i in range(count):
                with archive.open(f"tensors/{i}.npy") as member:
                    arrays.append(np.load(io.BytesIO(member.read()), allow_pickle=False))
            return _decode(manifest["object"], arrays, {}, name)
        except (zipfile.BadZipFile, KeyError, ValueError, IndexError, TypeError, EOFError, OSError, UnicodeDecodeError) as error:
            raise RuntimeError(f"{name} is damaged: {type(error).__name__}: {error}") from None
