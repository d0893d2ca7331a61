"""The `transformer` type: makemore.py's GPT-2-style decoder.

    transformer.wte: Embedding(vocab, n_embd), transformer.wpe: Embedding(block_size, n_embd)
    transformer.h: n_layer x Block:   x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
        attn: c_attn Linear(n_embd, 3 n_embd) -> causal multi-head attention -> c_proj Linear
        mlp:  c_fc Linear(n_embd, 4 n_embd) -> GELU (tanh approximation) -> c_proj Linear
    transformer.ln_f: LayerNorm(n_embd);  lm_head: Linear(n_embd, vocab, bias=False)

The state_dict keys are makemore.py's (transformer.h.0.attn.c_attn.weight, ..., and the mask
buffer transformer.h.0.attn.bias of shape (1, 1, T, T)), so it loads strict into that module.
Attention is one fused op (microtorch.nn._sequence_ops), LayerNorm and GELU are nn.LayerNorm and
nn.GELU('tanh') (single fused ops in microtorch.nn.functional). Init: PyTorch's
defaults, as makemore.py (it does not re-initialise). config.dropout > 0 adds GPT-2's dropout
(minGPT's; makemore.py removed it) on the embeddings and on each residual branch; its masks are
drawn from the generator the model was built with (the run's: a resumed run draws the same).
"""

from __future__ import annotations

import microtorch
import microtorch.nn.functional as F
from microtorch import nn
from microtorch.nn import _sequence_ops as seq

from .base import SequenceConfig
from .bow import MLP, causal_mask

TYPE = "transformer"


class Dropout(nn.Dropout):
    """nn.Dropout drawing its masks from a given generator (None: the default one)."""

    def __init__(self, p: float, generator: microtorch.Generator | None = None) -> None:
        super().__init__(p)
        self.generator = generator

    def forward(self, x: microtorch.Tensor) -> microtorch.Tensor:
        return F.dropout(x, self.p, self.training, generator=self.generator)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: SequenceConfig, generator=None) -> None:
        super().__init__()
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, generator=generator)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, generator=generator)
        self.register_buffer("bias", causal_mask(config.block_size, 1, 1))
        self.n_head = config.n_head

    def forward(self, x: microtorch.Tensor) -> microtorch.Tensor:
        """(B, T, C) -> (B, T, C); position t attends to positions <= t."""
        return self.c_proj(seq.causal_attention(self.c_attn(x), self.n_head))


class Block(nn.Module):
    def __init__(self, config: SequenceConfig, generator=None) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config, generator)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config.n_embd, 4 * config.n_embd, nn.GELU('tanh'), generator)
        self.drop = Dropout(config.dropout, generator) if config.dropout else None

    def forward(self, x: microtorch.Tensor) -> microtorch.Tensor:
        if self.drop is None:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))
        x = x + self.drop(self.attn(self.ln_1(x)))
        return x + self.drop(self.mlp(self.ln_2(x)))


class Body(nn.Module):
    """makemore.py's ModuleDict(wte, wpe, h, ln_f), as a module with those four children."""

    def __init__(self, config: SequenceConfig, generator=None) -> None:
        super().__init__()
        self.wte = nn.Embedding(config.vocab_size, config.n_embd, generator=generator)
        self.wpe = nn.Embedding(config.block_size, config.n_embd, generator=generator)
        self.h = nn.ModuleList([Block(config, generator) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.drop = Dropout(config.dropout, generator) if config.dropout else None


class Transformer(nn.Module):
    def __init__(self, config: SequenceConfig, generator: microtorch.Generator | None = None) -> None:
        super().__init__()
        self.block_size = config.block_size
        self.transformer = Body(config, generator)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False, generator=generator)

    def forward(self, idx: microtorch.Tensor) -> microtorch.Tensor:
        """(B, T) character indices, T <= block_size -> (B, T, vocab) logits."""
        T = idx.shape[1]
        if T > self.block_size:
            raise ValueError(f"cannot forward a sequence of length {T}, the block size is only {self.block_size}")
        body = self.transformer
        x = body.wte(idx) + body.wpe.weight[:T]  # (B, T, C) + (T, C)
        if body.drop is not None:
            x = body.drop(x)
        for block in body.h:
            x = block(x)
        return self.lm_head(body.ln_f(x))


def build_model(config: SequenceConfig, generator: microtorch.Generator | None = None) -> Transformer:
    if config.type != TYPE:
        raise ValueError(f"Transformer takes type 'transformer', got {config.type!r}")
    return Transformer(config, generator)
