"""The `bigram` type: a (vocab, vocab) table of logits for the next character given the last one
(part 1's neural bigram; makemore.py's Bigram). It starts at zeros, so the first prediction is
uniform and the initial loss exactly ln(vocab)."""

from __future__ import annotations

from dataclasses import dataclass

import microtorch
import microtorch.nn.functional as F
from microtorch import nn

from .base import ConfigIO

TYPE = "bigram"


@dataclass
class BigramConfig(ConfigIO):
    vocab_size: int = 27
    block_size: int = 1   # one character of context (the window view's block size)
    type: str = TYPE

    TYPES = (TYPE,)

    def _validate(self) -> None:
        super()._validate()
        if self.block_size != 1:
            raise ValueError(f"a bigram reads one character of context: block_size must be 1, got {self.block_size}")


class Bigram(nn.Module):
    """logits[b, t] = table[idx[b, t]]; state_dict key 'logits' as in makemore.py."""

    def __init__(self, config: BigramConfig) -> None:
        super().__init__()
        self.logits = nn.Parameter(microtorch.zeros(config.vocab_size, config.vocab_size))

    def forward(self, idx: microtorch.Tensor) -> microtorch.Tensor:
        out = F.embedding(idx, self.logits)  # (B, T, V)
        return out[:, -1] if out.ndim == 3 and out.shape[1] == 1 else out


def build_model(config: BigramConfig, generator: microtorch.Generator | None = None) -> Bigram:
    """The zero table (no random draws)."""
    return Bigram(config)
