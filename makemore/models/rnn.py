"""The `rnn` and `gru` types: makemore.py's recurrent models.

    wte: Embedding(vocab, n_embd)      idx (B, T) -> (B, T, n_embd)
    cell over time from h = start      (B, T, n_embd2) hidden states
    lm_head: Linear(n_embd2, vocab)    -> (B, T, vocab) logits

RNNCell: h' = tanh(xh_to_h([x, h])). GRUCell: r = sigmoid(xh_to_r([x, h])),
hbar = tanh(xh_to_hbar([x, r * h])), z = sigmoid(xh_to_z([x, h])), h' = (1 - z) h + z hbar.
The whole recurrence over time runs as one fused op (microtorch.nn._sequence_ops), so a
training step builds a few graph nodes instead of ~15 per character; the cells' Linear
layers hold the weights (state_dict keys as makemore.py's: cell.xh_to_h.weight, ...).
Init: PyTorch's defaults, the start state zeros.
"""

from __future__ import annotations

import microtorch
from microtorch import nn
from microtorch.nn import _sequence_ops as seq

from .base import SequenceConfig

TYPES = ("rnn", "gru")


class RNNCell(nn.Module):
    """h' = tanh(W [x, h] + b)."""

    def __init__(self, config: SequenceConfig, generator=None) -> None:
        super().__init__()
        self.xh_to_h = nn.Linear(config.n_embd + config.n_embd2, config.n_embd2, generator=generator)

    def sequence(self, emb: microtorch.Tensor, h0: microtorch.Tensor) -> microtorch.Tensor:
        """The hidden states (B, T, n_embd2) of the cell run over emb (B, T, n_embd) from h0."""
        return seq.rnn_tanh_sequence(emb, h0, self.xh_to_h.weight, self.xh_to_h.bias)

    def forward(self, xt: microtorch.Tensor, hprev: microtorch.Tensor) -> microtorch.Tensor:
        """One step: (B, n_embd), (B, n_embd2) -> (B, n_embd2)."""
        return self.sequence(xt.unsqueeze(1), hprev)[:, 0]


class GRUCell(nn.Module):
    """makemore.py's GRU recurrence (reset gate r, update gate z, candidate hbar)."""

    def __init__(self, config: SequenceConfig, generator=None) -> None:
        super().__init__()
        n_in = config.n_embd + config.n_embd2
        self.xh_to_z = nn.Linear(n_in, config.n_embd2, generator=generator)
        self.xh_to_r = nn.Linear(n_in, config.n_embd2, generator=generator)
        self.xh_to_hbar = nn.Linear(n_in, config.n_embd2, generator=generator)

    def sequence(self, emb: microtorch.Tensor, h0: microtorch.Tensor) -> microtorch.Tensor:
        """The hidden states (B, T, n_embd2) of the cell run over emb (B, T, n_embd) from h0."""
        z, r, hbar = self.xh_to_z, self.xh_to_r, self.xh_to_hbar
        return seq.gru_sequence(emb, h0, z.weight, z.bias, r.weight, r.bias, hbar.weight, hbar.bias)

    def forward(self, xt: microtorch.Tensor, hprev: microtorch.Tensor) -> microtorch.Tensor:
        """One step: (B, n_embd), (B, n_embd2) -> (B, n_embd2)."""
        return self.sequence(xt.unsqueeze(1), hprev)[:, 0]


class RNN(nn.Module):
    """makemore.py's RNN language model with an 'rnn' or 'gru' cell."""

    def __init__(self, config: SequenceConfig, generator: microtorch.Generator | None = None) -> None:
        super().__init__()
        if config.type not in TYPES:
            raise ValueError(f"RNN takes type 'rnn' or 'gru', got {config.type!r}")
        self.block_size = config.block_size
        self.start = nn.Parameter(microtorch.zeros(1, config.n_embd2))  # the starting hidden state
        self.wte = nn.Embedding(config.vocab_size, config.n_embd, generator=generator)
        self.cell = (RNNCell if config.type == "rnn" else GRUCell)(config, generator)
        self.lm_head = nn.Linear(config.n_embd2, config.vocab_size, generator=generator)

    def forward(self, idx: microtorch.Tensor) -> microtorch.Tensor:
        """(B, T) character indices -> (B, T, vocab) logits of the next character at every position."""
        hidden = self.cell.sequence(self.wte(idx), self.start)  # (B, T, n_embd2)
        return self.lm_head(hidden)


def build_model(config: SequenceConfig, generator: microtorch.Generator | None = None) -> RNN:
    return RNN(config, generator)
