"""The `bow` type: makemore.py's bag of words.

    x = wte(idx) + wpe(position)                      (B, T, n_embd)
    x = x + cbow(x)                                   the mean of x over positions <= t
    x = x + c_proj(tanh(c_fc(x)))                     an MLP of width n_embd2
    lm_head: Linear(n_embd, vocab)                    (B, T, vocab)

CausalBoW is attention with uniform weights (the softmax of zeros with the future masked), so it
runs as one fused running mean; it keeps makemore.py's mask buffer `bias` (1, T, T) so the
state_dict loads into makemore.py's module. Init: PyTorch's defaults.
"""

from __future__ import annotations

import numpy as np

import microtorch
from microtorch import nn
from microtorch.nn import _sequence_ops as seq

from .base import SequenceConfig

TYPE = "bow"


def causal_mask(block_size: int, *lead: int) -> microtorch.Tensor:
    """tril(ones(T, T)) with leading singleton dimensions: 1 where a position may be seen."""
    mask = np.tril(np.ones((block_size, block_size), dtype=np.float32))
    return microtorch.from_numpy(mask.reshape(*lead, block_size, block_size))


class CausalBoW(nn.Module):
    """y[:, t] = mean of x[:, :t+1]."""

    def __init__(self, config: SequenceConfig) -> None:
        super().__init__()
        self.block_size = config.block_size
        self.register_buffer("bias", causal_mask(config.block_size, 1))

    def forward(self, x: microtorch.Tensor) -> microtorch.Tensor:
        return seq.causal_mean(x)


class MLP(nn.Module):
    """c_proj(act(c_fc(x))): makemore.py's ModuleDict(c_fc, c_proj[, act]) as a module of its own
    (the activation holds no state, so the keys are the same)."""

    def __init__(self, n_in: int, n_hidden: int, act: nn.Module, generator=None) -> None:
        super().__init__()
        self.c_fc = nn.Linear(n_in, n_hidden, generator=generator)
        self.c_proj = nn.Linear(n_hidden, n_in, generator=generator)
        self.act = act

    def forward(self, x: microtorch.Tensor) -> microtorch.Tensor:
        return self.c_proj(self.act(self.c_fc(x)))


class BoWBlock(nn.Module):
    def __init__(self, config: SequenceConfig, generator=None) -> None:
        super().__init__()
        self.cbow = CausalBoW(config)
        self.mlp = MLP(config.n_embd, config.n_embd2, nn.Tanh(), generator)

    def forward(self, x: microtorch.Tensor) -> microtorch.Tensor:
        x = x + self.cbow(x)
        return x + self.mlp(x)


class BoW(nn.Module):
    def __init__(self, config: SequenceConfig, generator: microtorch.Generator | None = None) -> None:
        super().__init__()
        self.block_size = config.block_size
        self.wte = nn.Embedding(config.vocab_size, config.n_embd, generator=generator)
        self.wpe = nn.Embedding(config.block_size, config.n_embd, generator=generator)
        self.context_block = BoWBlock(config, generator)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, generator=generator)

    def forward(self, idx: microtorch.Tensor) -> microtorch.Tensor:
        """(B, T) character indices -> (B, T, vocab) logits."""
        x = self.wte(idx) + self.wpe.weight[:idx.shape[1]]  # (B, T, C) + (T, C)
        return self.lm_head(self.context_block(x))


def build_model(config: SequenceConfig, generator: microtorch.Generator | None = None) -> BoW:
    if config.type != TYPE:
        raise ValueError(f"BoW takes type 'bow', got {config.type!r}")
    return BoW(config, generator)
