"""Save and load a training run's state: one file, <run>/checkpoint.npz, with one commit point.

The file is an uncompressed npz (a zip of .npy arrays; np.load reads it): the model's state
dict under 'model:<PyTorch key>', the optimizer's tensors under 'optim:<index>:<name>', the
per-step loss history under 'losses', the rest (config, vocabulary, step, RNG state, the
optimizer's options, extra) as UTF-8 JSON bytes under 'meta', and under 'sha256' the SHA-256
of all of these (names, dtypes, shapes and bytes, in name order). A flipped bit anywhere is
caught: by the zip's CRC, by a member that no longer parses, or by the digest.

A save has one commit point. The file is built in memory and parsed back (so a state that
would not load is never written), written to a temporary file in the run folder, fsynced,
read back and compared, then made current with a single os.replace and the folder fsynced.
Until that rename the previous checkpoint is untouched; a reader, which reads the file in one
go, sees the old file or the new one, never a mixture. A failed save (disk full, read-only
folder, a kill) leaves at most a temporary file, which the next save of the run removes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import microtorch
from microtorch import nn

from .data import Vocabulary
from .files import commit_bytes
from .models import build_model, config_from_dict

CHECKPOINT_NAME = "checkpoint.npz"
FORMAT = "makemore-checkpoint-2"
_META_KEYS = ("format", "config", "vocab", "step", "rng_state", "optimizer", "extra")
_MODEL, _OPTIM, _LOSSES, _META, _SHA = "model:", "optim:", "losses", "meta", "sha256"


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message names the file and the problem."""


# ----------------------------------------------------------------------------
# the file format: arrays + meta + their digest

def _digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over every array's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def pack(arrays: dict[str, np.ndarray], meta: dict) -> bytes:
    """The checkpoint file's bytes for these arrays and this JSON-ready meta."""
    members = dict(arrays)
    members[_META] = np.frombuffer(json.dumps(meta, indent=1).encode(), dtype=np.uint8)
    members[_SHA] = np.frombuffer(_digest(members).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    return buffer.getvalue()


def unpack(data: bytes, path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and meta of a checkpoint file's bytes, their digest checked; CheckpointError if not."""
    if not data.startswith(b"PK\x03\x04"):
        raise CheckpointError(f"{path}: unreadable, corrupted or truncated (not an npz file: {len(data)} bytes "
                              f"starting {data[:8]!r})")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            members = {k: npz[k] for k in npz.files}
    except Exception as e:  # noqa: BLE001 - damaged bytes fail in many ways (zip, npy header, CRC, sizes)
        raise CheckpointError(f"{path}: unreadable, corrupted or truncated ({type(e).__name__}: {str(e)[:80]})") from None
    if _SHA not in members or _META not in members:
        raise CheckpointError(f"{path}: not a makemore checkpoint (no {_META!r} and {_SHA!r} entries)")
    saved = members.pop(_SHA)
    if saved.dtype != np.uint8 or saved.tobytes().decode("ascii", "replace") != _digest(members):
        raise CheckpointError(f"{path}: sha256 does not match its contents (corrupted)")
    meta_bytes = members.pop(_META)
    try:
        meta = json.loads(meta_bytes.tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: meta is not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: meta is not a JSON object")
    missing = [k for k in _META_KEYS if k not in meta]
    if missing:
        raise CheckpointError(f"{path}: meta lacks key(s) {missing}")
    if meta["format"] != FORMAT:
        raise CheckpointError(f"{path}: unknown format {meta['format']!r}, expected {FORMAT!r}")
    return members, meta


# ----------------------------------------------------------------------------
# saving

def _optimizer_parts(optimizer: microtorch.optim.Optimizer) -> tuple[dict, dict]:
    """The optimizer's state_dict split into npz arrays (its tensors) and a JSON dict (the rest)."""
    sd = optimizer.state_dict()
    arrays, state = {}, {}
    for index, entries in sd["state"].items():
        state[str(index)] = {}
        for name, value in entries.items():
            if isinstance(value, microtorch.Tensor):
                arrays[f"{_OPTIM}{index}:{name}"] = value.numpy()
                state[str(index)][name] = {"tensor": True}
            else:
                state[str(index)][name] = value
    return arrays, {"param_groups": sd["param_groups"], "state": state}


def save_checkpoint(
    run_dir: str | os.PathLike,
    model: nn.Module,
    optimizer: microtorch.optim.Optimizer,
    *,
    config: dict,
    vocab: Vocabulary,
    step: int,
    generator: microtorch.Generator,
    losses: list[float],
    extra: dict | None = None,
) -> None:
    """Write the run's state to run_dir/checkpoint.npz with one commit point (see the module doc).

    config is {'model': <config>.to_dict(), 'train': {...}}; losses is the per-step history. The
    bytes are parsed back before they are written, so a state that would not load raises
    CheckpointError and the previous checkpoint stays current."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    arrays = {_MODEL + k: v.numpy() for k, v in model.state_dict().items()}
    optim_arrays, optim_json = _optimizer_parts(optimizer)
    arrays.update(optim_arrays)
    arrays[_LOSSES] = np.asarray(losses, dtype=np.float64)
    meta = {
        "format": FORMAT,
        "config": config,
        "vocab": vocab.to_json(),
        "step": int(step),
        "rng_state": generator.get_state(),
        "optimizer": optim_json,
        "extra": extra or {},
    }
    path = run_dir / CHECKPOINT_NAME
    data = pack(arrays, meta)
    parse(data, path)  # verified before it can become current
    commit_bytes(path, data)


# ----------------------------------------------------------------------------
# loading

@dataclass
class Checkpoint:
    """A validated checkpoint, not yet applied to anything."""
    run_dir: Path
    config: dict
    model_config: object  # a family's config (makemore.models)
    vocab: Vocabulary
    step: int
    rng_state: dict
    model_state: dict[str, np.ndarray]
    optimizer_state: dict
    losses: list[float]
    extra: dict

    def build_model(self) -> nn.Module:
        """A fresh model for model_config with the saved weights and buffers."""
        model = build_model(self.model_config, microtorch.Generator())
        self.restore(model)
        return model

    def restore(self, model: nn.Module, optimizer: microtorch.optim.Optimizer | None = None,
                generator: microtorch.Generator | None = None) -> None:
        """Copy the saved state into model (and optimizer, generator); checks everything first."""
        self._check_model(model)
        if optimizer is not None:
            self._check_optimizer(optimizer)
        model.load_state_dict({k: microtorch.tensor(v) for k, v in self.model_state.items()})
        if optimizer is not None:
            optimizer.load_state_dict(self.optimizer_state)
        if generator is not None:
            generator.set_state(self.rng_state)

    def _check_model(self, model: nn.Module) -> None:
        expected = {k: tuple(v.shape) for k, v in model.state_dict(keep_vars=True).items()}
        _check_shapes(self.run_dir / CHECKPOINT_NAME, self.model_state, expected)

    def _check_optimizer(self, optimizer: microtorch.optim.Optimizer) -> None:
        path = self.run_dir / CHECKPOINT_NAME
        saved = [len(g["params"]) for g in self.optimizer_state["param_groups"]]
        own = [len(g["params"]) for g in optimizer.param_groups]
        if saved != own:
            raise CheckpointError(f"{path}: optimizer has parameter groups of sizes {saved}, this optimizer {own}")
        params = [p for g in optimizer.param_groups for p in g["params"]]
        for index, entries in self.optimizer_state["state"].items():
            if not 0 <= index < len(params):
                raise CheckpointError(f"{path}: optimizer state for parameter {index}, but there are {len(params)}")
            for name, value in entries.items():
                if isinstance(value, microtorch.Tensor) and name != "step" and value.shape != params[index].shape:
                    raise CheckpointError(f"{path}: optimizer state {name!r} of parameter {index} has shape "
                                          f"{tuple(value.shape)}, the parameter {tuple(params[index].shape)}")


def _check_shapes(path: Path, state: dict[str, np.ndarray], expected: dict[str, tuple]) -> None:
    """Raise CheckpointError unless state has exactly the expected keys and shapes."""
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{path}: model state does not match the config: missing {missing}, unexpected {unexpected}")
    for key, shape in expected.items():
        if tuple(state[key].shape) != shape:
            raise CheckpointError(f"{path}: {key} has shape {tuple(state[key].shape)}, the config needs {shape}")


def _parse_meta(path: Path, meta: dict) -> tuple[object, Vocabulary]:
    """The model config and vocabulary the json describes, checked against each other."""
    try:
        model_config = config_from_dict(meta["config"]["model"])
        vocab = Vocabulary.from_json(meta["vocab"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: bad config or vocabulary ({e})") from None
    if len(vocab) != model_config.vocab_size:
        raise CheckpointError(f"{path}: vocabulary has {len(vocab)} characters, the config says vocab_size={model_config.vocab_size}")
    if not isinstance(meta["step"], int) or meta["step"] < 0:
        raise CheckpointError(f"{path}: step must be a non-negative integer, got {meta['step']!r}")
    try:
        microtorch.Generator().set_state(meta["rng_state"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: bad rng_state ({type(e).__name__}: {e})") from None
    return model_config, vocab


def _optimizer_state(path: Path, meta: dict, arrays: dict[str, np.ndarray]) -> dict:
    """The optimizer state_dict, its tensors taken from the npz arrays."""
    try:
        groups = meta["optimizer"]["param_groups"]
        state = {}
        for index, entries in meta["optimizer"]["state"].items():
            state[int(index)] = {
                name: microtorch.tensor(arrays[f"{_OPTIM}{index}:{name}"]) if isinstance(value, dict) and value.get("tensor") else value
                for name, value in entries.items()
            }
        if not all(isinstance(g["params"], list) for g in groups):
            raise TypeError("a parameter group without a 'params' list")
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CheckpointError(f"{path}: bad optimizer state ({type(e).__name__}: {e})") from None
    return {"state": state, "param_groups": groups}


def parse(data: bytes, path: Path) -> Checkpoint:
    """The validated checkpoint in a checkpoint file's bytes (path names it in errors)."""
    arrays, meta = unpack(data, path)
    model_config, vocab = _parse_meta(path, meta)
    model_state = {k[len(_MODEL):]: v for k, v in arrays.items() if k.startswith(_MODEL)}
    expected = build_model(model_config, microtorch.Generator()).state_dict(keep_vars=True)
    _check_shapes(path, model_state, {k: tuple(v.shape) for k, v in expected.items()})
    if _LOSSES not in arrays or arrays[_LOSSES].shape != (meta["step"],):
        raise CheckpointError(f"{path}: the loss history does not have one entry per step (step {meta['step']})")
    return Checkpoint(
        run_dir=path.parent,
        config=meta["config"],
        model_config=model_config,
        vocab=vocab,
        step=meta["step"],
        rng_state=meta["rng_state"],
        model_state=model_state,
        optimizer_state=_optimizer_state(path, meta, arrays),
        losses=arrays[_LOSSES].tolist(),
        extra=meta["extra"],
    )


def load_checkpoint(run_dir: str | os.PathLike) -> Checkpoint:
    """Read run_dir/checkpoint.npz in one go and validate it; raises CheckpointError on any problem."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError(f"{run_dir}: no such run folder" if not run_dir.exists() else f"{run_dir}: not a folder")
    path = run_dir / CHECKPOINT_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        legacy = " (only checkpoint.json: a run of an older makemore, which this one cannot read)" \
            if (run_dir / "checkpoint.json").exists() else " (is this a run folder?)"
        raise CheckpointError(f"{path}: missing{legacy}") from None
    except OSError as e:
        raise CheckpointError(f"{path}: cannot be read ({e.strerror})") from None
    return parse(data, path)


def saved_step(run_dir: str | os.PathLike) -> int | str:
    """The step of the checkpoint in run_dir, or 'none' if there is no usable one."""
    try:
        return load_checkpoint(run_dir).step
    except CheckpointError:
        return "none"
