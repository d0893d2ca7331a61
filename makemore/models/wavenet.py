"""The `wavenet` type: part 5's hierarchical model ("Building makemore Part 5: WaveNet").

    Embedding(vocab, 24)                                   (B, 8)      -> (B, 8, 24)
    [FlattenConsecutive(2), Linear, BatchNorm1d, Tanh] x 3 (B, 8, 24)  -> (B, 4, 128) -> (B, 2, 128) -> (B, 128)
    Linear(128, vocab)                                                 -> (B, vocab)

Pairs of neighbouring positions are fused at each level, so 8 characters of context are
merged in a tree of depth 3. BatchNorm1d of a 3-D (B, T, C) input normalises each channel over
batch and time (the lecture's layer; PyTorch's BatchNorm1d would read (B, C, T)). With n_embd 24,
n_hidden 128 and 27 characters: 76,579 parameters. Init as in the lecture: Linear weights
N(0, 1/fan_in), the last one times 0.1 (a near-uniform first prediction), its bias 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import microtorch
from microtorch import nn

from .base import ConfigIO

TYPE = "wavenet"


@dataclass
class WaveNetConfig(ConfigIO):
    vocab_size: int = 27
    block_size: int = 8       # a power of two: log2(block_size) levels of pairs
    n_embd: int = 24
    n_hidden: int = 128
    bn_momentum: float = 0.1  # the lecture's BatchNorm1d default
    output_scale: float = 0.1
    type: str = TYPE

    TYPES = (TYPE,)
    POSITIVE = ("vocab_size", "block_size", "n_embd", "n_hidden")

    def _validate(self) -> None:
        super()._validate()
        if self.block_size & (self.block_size - 1) or self.block_size < 2:
            raise ValueError(f"wavenet fuses pairs of positions: block_size must be a power of two >= 2, got {self.block_size}")
        if not 0.0 <= self.bn_momentum <= 1.0:
            raise ValueError(f"bn_momentum must be between 0 and 1, got {self.bn_momentum}")

    @property
    def levels(self) -> int:
        return int(math.log2(self.block_size))


class FlattenConsecutive(nn.Module):
    """(B, T, C) -> (B, T/n, C*n): n neighbouring positions side by side; a length-1 time axis is dropped."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x: microtorch.Tensor) -> microtorch.Tensor:
        B, T, C = x.shape
        if T % self.n:
            raise RuntimeError(f"FlattenConsecutive({self.n}): a time axis of {T} does not split into groups of {self.n}")
        if T == self.n:
            return x.view(B, C * self.n)
        return x.view(B, T // self.n, C * self.n)

    def extra_repr(self) -> str:
        return str(self.n)


class BatchNorm1dTime(nn.BatchNorm1d):
    """BatchNorm1d that reads a 3-D input as (B, T, C) and normalises each channel over batch and
    time (the lecture's layer); 2-D input (B, C) as usual. Its state_dict is BatchNorm1d's."""

    def forward(self, input: microtorch.Tensor) -> microtorch.Tensor:
        if input.ndim != 3:
            return super().forward(input)
        B, T, C = input.shape
        return super().forward(input.view(B * T, C)).view(B, T, C)


def build_model(config: WaveNetConfig, generator: microtorch.Generator | None = None) -> nn.Sequential:
    """The hierarchical model for config, initialised as in the lecture with draws from generator."""
    c = config
    layers: list[nn.Module] = [nn.Embedding(c.vocab_size, c.n_embd, generator=generator)]
    width = c.n_embd
    for _ in range(c.levels):
        layers += [FlattenConsecutive(2), nn.Linear(2 * width, c.n_hidden, bias=False, generator=generator),
                   BatchNorm1dTime(c.n_hidden, momentum=c.bn_momentum), nn.Tanh()]
        width = c.n_hidden
    layers.append(nn.Linear(width, c.vocab_size, generator=generator))
    model = nn.Sequential(*layers)
    with microtorch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Linear):
                nn.init.normal_(layer.weight, 0.0, 1.0 / math.sqrt(layer.in_features), generator=generator)
        model[-1].weight *= c.output_scale
        nn.init.zeros_(model[-1].bias)
    return model
