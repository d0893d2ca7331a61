"""makemore's models, one module per family, chosen by the `type` field of their config.

Each family module defines a config dataclass (with `type`, `vocab_size`, `block_size`,
to_dict() and from_dict()) and build_model(config, generator). FAMILIES maps a type to them;
build_model() and config_from_dict() dispatch on it, so commands and checkpoints need not
know which family they hold.

    bigram       a (vocab, vocab) logits table                       (part 1)
    mlp          the lecture's (BatchNorm) MLP, the default           (parts 2-3)
    wavenet      the hierarchical model                               (part 5)
    rnn, gru     makemore.py's recurrent models                       (sequence view)
    bow          makemore.py's bag of words                           (sequence view)
    transformer  makemore.py's GPT                                    (sequence view)

Every model maps (B, T) character indices to logits: (B, vocab) for the context-window view
(bigram, mlp, wavenet: T = block_size) or (B, T, vocab) for the sequence view (one padded
word per row, makemore.py's; targets past the end are IGNORE_INDEX). Each family also names
the option defaults that differ from the MLP's (its sizes, optimizer and schedule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import microtorch
from microtorch import nn

from . import bigram, bow, mlp, rnn, transformer, wavenet
from .base import SequenceConfig
from .common import EVAL_BATCH, batches, count_parameters
from .mlp import ModelConfig, calibrate_batchnorm

__all__ = ["Family", "FAMILIES", "TYPES", "build_model", "config_from_dict", "count_parameters", "calibrate_batchnorm",
           "ModelConfig", "SequenceConfig", "EVAL_BATCH", "batches", "is_sequence"]


@dataclass(frozen=True)
class Family:
    """A model family: its config dataclass, how to build a model from one, whether it reads the
    sequence view, and the option defaults (by argparse dest) that differ from the MLP's."""
    config: type
    build: Callable[[Any, microtorch.Generator | None], nn.Module]
    sequence: bool = False
    defaults: dict = field(default_factory=dict)


# makemore.py's optimisation: AdamW(lr 5e-4, betas (0.9, 0.99), weight decay 0.01), a constant lr
_MAKEMORE_PY = {"optimizer": "adamw", "lr": 5e-4, "lr_final": None, "weight_decay": 0.01,
                "n_embd": 64, "n_hidden": 64, "n_layers": 4, "steps": 20_000, "eval_every": 500}

FAMILIES: dict[str, Family] = {
    bigram.TYPE: Family(bigram.BigramConfig, bigram.build_model,
                        defaults={"block_size": 1, "lr": 1.0, "lr_final": 0.1, "steps": 30_000}),
    mlp.TYPE: Family(mlp.ModelConfig, mlp.build_model),
    wavenet.TYPE: Family(wavenet.WaveNetConfig, wavenet.build_model,
                         defaults={"block_size": 8, "n_embd": 24, "n_hidden": 128, "bn_momentum": 0.1,
                                   "lr_decay_at": 150_000, "eval_every": 10_000}),
    "rnn": Family(SequenceConfig, rnn.build_model, True, _MAKEMORE_PY),
    "gru": Family(SequenceConfig, rnn.build_model, True, _MAKEMORE_PY),
    bow.TYPE: Family(SequenceConfig, bow.build_model, True, _MAKEMORE_PY),
    transformer.TYPE: Family(SequenceConfig, transformer.build_model, True, _MAKEMORE_PY),
}
TYPES = tuple(FAMILIES)


def is_sequence(config) -> bool:
    """Whether config's family reads the sequence view (whole padded words)."""
    return FAMILIES[config.type].sequence


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
