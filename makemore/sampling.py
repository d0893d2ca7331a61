"""Sampling names from a model, one character at a time (shared by the train and sample commands)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

import microtorch
import microtorch.nn.functional as F
from microtorch import nn

from .data import Vocabulary

MAX_LENGTH = 100  # a safety stop for a model that never predicts the end token


def next_probabilities(logits: microtorch.Tensor, temperature: float = 1.0, top_k: int | None = None) -> microtorch.Tensor:
    """softmax(logits / temperature) over (1, vocab) logits, only the top_k largest kept (if given)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be above 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if temperature != 1.0:
        logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        a = logits.numpy()
        kth = np.partition(a, -top_k, axis=-1)[..., -top_k:].min(axis=-1, keepdims=True)
        logits = microtorch.from_numpy(np.where(a < kth, -np.inf, a).astype(a.dtype))
    return F.softmax(logits, dim=1)


@microtorch.no_grad()
def sample_names(model: nn.Module, vocab: Vocabulary, block_size: int, n: int,
                 generator: microtorch.Generator, max_length: int = MAX_LENGTH, *, sequence: bool = False,
                 temperature: float = 1.0, top_k: int | None = None) -> list[str]:
    """n names, one character at a time from the model's softmax until '.', in eval mode.

    A window-view model reads the last block_size characters (padded with '.'); a sequence-view
    model (sequence=True) reads the start token and the name so far (its last block_size
    characters) and predicts from its last position, as makemore.py's generate()."""
    was_training = model.training
    model.eval()
    names = []
    try:
        for _ in range(n):
            context, out = ([0] if sequence else [0] * block_size), []
            while len(out) < max_length:
                logits = model(microtorch.tensor([context[-block_size:]]))
                if logits.ndim == 3:
                    logits = logits[:, -1]
                probs = next_probabilities(logits, temperature, top_k)
                ix = microtorch.multinomial(probs, 1, generator=generator).item()
                if ix == 0:
                    break
                out.append(ix)
                context = context + [ix] if sequence else context[1:] + [ix]
            names.append(vocab.decode(out))
    finally:
        model.train(was_training)
    return names


def format_samples(names: Iterable[str], train_words: set[str] | None) -> str:
    """One name a line, marked '(in train)' or '(new)' when the training words are known."""
    if train_words is None:
        return "\n".join(names)
    return "\n".join(f"{name} ({'in train' if name in train_words else 'new'})" for name in names)
