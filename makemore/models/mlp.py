"""The `mlp` type: Embedding -> Flatten -> [Linear, (BatchNorm1d), Tanh] x n -> Linear.

Built from a ModelConfig as an nn.Sequential, so its state_dict keys are PyTorch's
("0.weight", "2.weight", "3.running_mean", ...) and load into the same torch.nn.Sequential.
The three inits follow Karpathy's "Activations & Gradients, BatchNorm" lecture.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

import microtorch
from microtorch import nn

from .common import EVAL_BATCH, batches, count_parameters

__all__ = ["INITS", "ModelConfig", "build_model", "calibrate_batchnorm", "count_parameters", "add_bias_before_batchnorm"]

TYPE = "mlp"
INITS = ("kaiming", "pytorch", "naive")


@dataclass
class ModelConfig:
    vocab_size: int = 27
    block_size: int = 3
    n_embd: int = 10
    n_hidden: int = 200
    n_layers: int = 1          # hidden [Linear, (BatchNorm1d), Tanh] blocks
    batchnorm: bool = True
    init: str = "kaiming"      # 'kaiming' | 'pytorch' | 'naive'
    gain: float | None = None  # kaiming gain; None = nn.init.calculate_gain('tanh') = 5/3
    output_scale: float | None = None  # None: 0.01 on the last Linear's weight, or 0.1 on the last BatchNorm's gain when batchnorm_output
    batchnorm_output: bool = False     # a BatchNorm1d(vocab) after the last Linear (the lecture's deep model)
    bn_momentum: float = 0.001         # the lecture's running-stat momentum for its BatchNorm MLP
    type: str = TYPE                   # the model family (makemore.models.FAMILIES)

    def __post_init__(self) -> None:
        if self.type != TYPE:
            raise ValueError(f"type must be {TYPE!r} for the MLP's config, got {self.type!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        for name in ("vocab_size", "block_size", "n_embd", "n_hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.n_layers < 0:
            raise ValueError(f"n_layers must be at least 0, got {self.n_layers}")
        if not 0.0 <= self.bn_momentum <= 1.0:
            raise ValueError(f"bn_momentum must be between 0 and 1, got {self.bn_momentum}")

    @property
    def resolved_gain(self) -> float:
        """The kaiming gain actually used: `gain`, or 5/3 for tanh."""
        return nn.init.calculate_gain("tanh") if self.gain is None else self.gain

    @property
    def resolved_output_scale(self) -> float:
        """The output scaling actually used: `output_scale`, or 0.1 (BatchNorm gain) / 0.01 (weight)."""
        if self.output_scale is not None:
            return self.output_scale
        return 0.1 if self.batchnorm_output else 0.01

    def to_dict(self) -> dict:
        """The fields as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """The config that to_dict() described; unknown keys are an error."""
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown ModelConfig field(s): {sorted(unknown)}")
        return cls(**d)


def build_model(config: ModelConfig, generator: microtorch.Generator | None = None) -> nn.Sequential:
    """The MLP for config, initialised as config.init says; all draws come from generator."""
    model = nn.Sequential(*_layers(config, generator))
    {"kaiming": _init_kaiming, "pytorch": _init_pytorch, "naive": _init_naive}[config.init](model, config, generator)
    return model


def _layers(config: ModelConfig, generator) -> list[nn.Module]:
    """The layer list; a Linear feeding a BatchNorm has no bias (its gradient would be zero)."""
    c = config
    layers: list[nn.Module] = [nn.Embedding(c.vocab_size, c.n_embd, generator=generator), nn.Flatten()]
    fan_in = c.n_embd * c.block_size
    for _ in range(c.n_layers):
        layers.append(nn.Linear(fan_in, c.n_hidden, bias=not c.batchnorm, generator=generator))
        if c.batchnorm:
            layers.append(nn.BatchNorm1d(c.n_hidden, momentum=c.bn_momentum))
        layers.append(nn.Tanh())
        fan_in = c.n_hidden
    layers.append(nn.Linear(fan_in, c.vocab_size, bias=not c.batchnorm_output, generator=generator))
    if c.batchnorm_output:
        layers.append(nn.BatchNorm1d(c.vocab_size, momentum=c.bn_momentum))
    return layers


def _linears(model: nn.Sequential) -> list[nn.Linear]:
    return [m for m in model if isinstance(m, nn.Linear)]


def _batchnorms(model: nn.Sequential) -> list[nn.BatchNorm1d]:
    return [m for m in model if isinstance(m, nn.BatchNorm1d)]


def _scale_output(model: nn.Sequential, config: ModelConfig) -> None:
    """Make the initial prediction nearly uniform: scale the last BatchNorm's gain (with
    batchnorm_output) or the last Linear's weight, and zero the last Linear's bias."""
    scale = config.resolved_output_scale
    last = _linears(model)[-1]
    with microtorch.no_grad():
        if config.batchnorm_output:
            _batchnorms(model)[-1].weight *= scale
        else:
            last.weight *= scale
        if last.bias is not None:
            nn.init.zeros_(last.bias)


def _init_kaiming(model: nn.Sequential, config: ModelConfig, generator) -> None:
    """Weights N(0, gain^2/fan_in) (kaiming_normal_ for tanh); hidden biases N(0,1)*0.01.

    Without batchnorm_output the last weight is N(0,1) * output_scale, the lecture's
    W2 = randn * 0.01; with it, the last Linear is initialised like the hidden ones."""
    linears = _linears(model)
    hidden = linears if config.batchnorm_output else linears[:-1]
    for layer in hidden:
        nn.init.normal_(layer.weight, 0.0, config.resolved_gain / math.sqrt(layer.in_features), generator=generator)
        if layer.bias is not None:
            nn.init.normal_(layer.bias, 0.0, 0.01, generator=generator)
    if not config.batchnorm_output:
        nn.init.normal_(linears[-1].weight, generator=generator)
    _scale_output(model, config)


def _init_pytorch(model: nn.Sequential, config: ModelConfig, generator) -> None:
    """The layers' own defaults (already drawn), plus the output scaling."""
    _scale_output(model, config)


def _init_naive(model: nn.Sequential, config: ModelConfig, generator) -> None:
    """Every Linear weight and bias N(0, 1), no scaling: the lecture's first, overconfident net."""
    for layer in _linears(model):
        nn.init.normal_(layer.weight, generator=generator)
        if layer.bias is not None:
            nn.init.normal_(layer.bias, generator=generator)


def add_bias_before_batchnorm(model: nn.Sequential, generator: microtorch.Generator) -> list[str]:
    """Give every bias-free Linear that feeds a BatchNorm a bias N(0, 0.01^2), as the lecture's
    first BatchNorm MLP had; its gradient is zero (the mean subtraction cancels it)."""
    names = []
    for i, (layer, after) in enumerate(zip(model, list(model)[1:])):
        if isinstance(layer, nn.Linear) and layer.bias is None and isinstance(after, nn.BatchNorm1d):
            layer.bias = nn.Parameter(microtorch.randn(layer.out_features, generator=generator) * 0.01)
            names.append(f"{i}.bias")
    return names


@microtorch.no_grad()
def calibrate_batchnorm(model: nn.Sequential, X: microtorch.Tensor, batch_size: int = EVAL_BATCH) -> None:
    """Set every BatchNorm1d's running_mean/running_var to the statistics of X pushed through
    the network, layer by layer (each BatchNorm sees the output of the calibrated layers
    before it). Variance is unbiased, PyTorch's convention for running_var.

    X goes through in batches of batch_size rows (one pass per BatchNorm), so memory is that
    of one batch's activations whatever the size of X; the moments of the batches are merged
    in float64 (Chan et al.: mean_ab = mean_a + d * n_b / n, M2_ab = M2_a + M2_b + d^2 n_a n_b / n)."""
    was_training = model.training
    model.eval()
    layers = list(model)
    try:
        for k, layer in enumerate(layers):
            if not isinstance(layer, nn.BatchNorm1d):
                continue
            n, mean, m2 = 0, 0.0, 0.0
            for xb in batches(X, batch_size):
                for before in layers[:k]:
                    xb = before(xb)
                a = xb.numpy().astype(np.float64)
                a = a.reshape(-1, a.shape[-1])  # (B, C); (B, T, C) as B*T rows (wavenet's BatchNorm over batch and time)
                nb, mb = len(a), a.mean(0)
                d = mb - mean
                mean = mean + d * (nb / (n + nb))
                m2 = m2 + ((a - mb) ** 2).sum(0) + d ** 2 * (n * nb / (n + nb))
                n += nb
            layer.running_mean.copy_(microtorch.from_numpy(mean.astype(np.float32)))
            layer.running_var.copy_(microtorch.from_numpy((m2 / max(n - 1, 1)).astype(np.float32)))
    finally:
        model.train(was_training)
