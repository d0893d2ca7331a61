"""Sampling names from a model, one character at a time (shared by the train and sample commands)."""

from __future__ import annotations

from collections.abc import Iterable

import microtorch
import microtorch.nn.functional as F
from microtorch import nn

from .data import Vocabulary

MAX_LENGTH = 100  # a safety stop for a model that never predicts the end token


@microtorch.no_grad()
def sample_names(model: nn.Module, vocab: Vocabulary, block_size: int, n: int,
                 generator: microtorch.Generator, max_length: int = MAX_LENGTH) -> list[str]:
    """n names, one character at a time from the model's softmax until '.', in eval mode."""
    was_training = model.training
    model.eval()
    names = []
    try:
        for _ in range(n):
            context, out = [0] * block_size, []
            while len(out) < max_length:
                probs = F.softmax(model(microtorch.tensor([context])), dim=1)
                ix = microtorch.multinomial(probs, 1, generator=generator).item()
                if ix == 0:
                    break
                out.append(ix)
                context = context[1:] + [ix]
            names.append(vocab.decode(out))
    finally:
        model.train(was_training)
    return names


def format_samples(names: Iterable[str], train_words: set[str] | None) -> str:
    """One name a line, marked '(in train)' or '(new)' when the training words are known."""
    if train_words is None:
        return "\n".join(names)
    return "\n".join(f"{name} ({'in train' if name in train_words else 'new'})" for name in names)
