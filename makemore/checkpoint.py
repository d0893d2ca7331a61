"""Save and load a training run: <run>/checkpoint.npz (arrays) + <run>/checkpoint.json (the rest).

The json holds the config (model + training args), the vocabulary, the step, the RNG state,
the optimizer's options and the sha256 of the npz, so a pair from different saves is caught.
Both files are written atomically (temp file in the same folder, fsync, os.replace), and a
checkpoint is validated completely before anything is copied into a model or optimizer.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import microtorch
from microtorch import nn

from .data import Vocabulary
from .models import build_model, config_from_dict

NPZ_NAME = "checkpoint.npz"
JSON_NAME = "checkpoint.json"
FORMAT = "makemore-checkpoint-1"
_JSON_KEYS = ("format", "npz_sha256", "config", "vocab", "step", "rng_state", "optimizer", "extra")
_MODEL, _OPTIM, _LOSSES = "model:", "optim:", "losses"


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message names the file and the problem."""


# ----------------------------------------------------------------------------
# atomic writes

def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write data to path so that readers see either the old file or the whole new one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make runs private
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (a no-op where folders cannot be opened, e.g. Windows)."""
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
    """Write the run's state to run_dir/checkpoint.{npz,json}, atomically.

    config is {'model': ModelConfig.to_dict(), 'train': {...}}; losses is the per-step history."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    arrays = {_MODEL + k: v.numpy() for k, v in model.state_dict().items()}
    optim_arrays, optim_json = _optimizer_parts(optimizer)
    arrays.update(optim_arrays)
    arrays[_LOSSES] = np.asarray(losses, dtype=np.float64)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    npz = buffer.getvalue()
    meta = {
        "format": FORMAT,
        "npz_sha256": hashlib.sha256(npz).hexdigest(),
        "config": config,
        "vocab": vocab.to_json(),
        "step": int(step),
        "rng_state": generator.get_state(),
        "optimizer": optim_json,
        "extra": extra or {},
    }
    atomic_write_bytes(run_dir / NPZ_NAME, npz)
    atomic_write_bytes(run_dir / JSON_NAME, json.dumps(meta, indent=1).encode())


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
        _check_shapes(self.run_dir / NPZ_NAME, self.model_state, expected)

    def _check_optimizer(self, optimizer: microtorch.optim.Optimizer) -> None:
        path = self.run_dir / JSON_NAME
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


def _read_json(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing (is this a run folder?)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    missing = [k for k in _JSON_KEYS if k not in meta]
    if missing:
        raise CheckpointError(f"{path}: missing key(s) {missing}")
    if meta["format"] != FORMAT:
        raise CheckpointError(f"{path}: unknown format {meta['format']!r}, expected {FORMAT!r}")
    return meta


def _read_npz(path: Path, sha256: str) -> dict[str, np.ndarray]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise CheckpointError(f"{path}: sha256 does not match {JSON_NAME} (corrupted, truncated, or from a different save)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise CheckpointError(f"{path}: unreadable ({e})") from None


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


def load_checkpoint(run_dir: str | os.PathLike) -> Checkpoint:
    """Read and validate run_dir/checkpoint.{json,npz}; raises CheckpointError on any problem."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError(f"{run_dir}: no such run folder")
    json_path, npz_path = run_dir / JSON_NAME, run_dir / NPZ_NAME
    meta = _read_json(json_path)
    model_config, vocab = _parse_meta(json_path, meta)
    arrays = _read_npz(npz_path, meta["npz_sha256"])
    model_state = {k[len(_MODEL):]: v for k, v in arrays.items() if k.startswith(_MODEL)}
    expected = build_model(model_config, microtorch.Generator()).state_dict(keep_vars=True)
    _check_shapes(npz_path, model_state, {k: tuple(v.shape) for k, v in expected.items()})
    if _LOSSES not in arrays or arrays[_LOSSES].shape != (meta["step"],):
        raise CheckpointError(f"{npz_path}: the loss history does not have one entry per step (step {meta['step']})")
    return Checkpoint(
        run_dir=run_dir,
        config=meta["config"],
        model_config=model_config,
        vocab=vocab,
        step=meta["step"],
        rng_state=meta["rng_state"],
        model_state=model_state,
        optimizer_state=_optimizer_state(json_path, meta, arrays),
        losses=arrays[_LOSSES].tolist(),
        extra=meta["extra"],
    )
