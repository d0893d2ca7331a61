"""makemore's models, one module per family, chosen by the `type` field of their config.

Each family module defines a config dataclass (with `type`, `vocab_size`, `block_size`,
to_dict() and from_dict()) and build_model(config, generator). FAMILIES maps a type to them;
build_model() and config_from_dict() dispatch on it, so commands and checkpoints need not
know which family they hold. Today there is one family, the lecture's MLP (`mlp`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import microtorch
from microtorch import nn

from . import mlp
from .common import EVAL_BATCH, batches, count_parameters
from .mlp import ModelConfig, calibrate_batchnorm

__all__ = ["Family", "FAMILIES", "TYPES", "build_model", "config_from_dict", "count_parameters", "calibrate_batchnorm",
           "ModelConfig", "EVAL_BATCH", "batches"]


@dataclass(frozen=True)
class Family:
    """A model family: its config dataclass and how to build a model from one."""
    config: type
    build: Callable[[Any, microtorch.Generator | None], nn.Module]


FAMILIES: dict[str, Family] = {
    mlp.TYPE: Family(mlp.ModelConfig, mlp.build_model),
}
TYPES = tuple(FAMILIES)


def config_from_dict(d: dict):
    """The config that some family's to_dict() described; a dict without 'type' is an MLP's
    (checkpoints written before there were families)."""
    kind = d.get("type", mlp.TYPE)
    if kind not in FAMILIES:
        raise ValueError(f"unknown model type {kind!r}; known: {', '.join(TYPES)}")
    return FAMILIES[kind].config.from_dict(d)


def build_model(config, generator: microtorch.Generator | None = None) -> nn.Module:
    """The model of config's family, initialised with draws from generator."""
    return FAMILIES[config.type].build(config, generator)
