"""What the zoo's config dataclasses share: JSON round trips and the positive-size checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


class ConfigIO:
    """to_dict()/from_dict() for a config dataclass, and a check of its `type` and sizes."""

    TYPES: tuple[str, ...] = ()
    POSITIVE: tuple[str, ...] = ("vocab_size", "block_size")

    def _validate(self) -> None:
        if self.type not in self.TYPES:
            raise ValueError(f"type must be one of {self.TYPES} for {type(self).__name__}, got {self.type!r}")
        for name in self.POSITIVE:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    def __post_init__(self) -> None:
        self._validate()

    def to_dict(self) -> dict:
        """The fields as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict):
        """The config that to_dict() described; unknown keys are an error."""
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown {cls.__name__} field(s): {sorted(unknown)}")
        return cls(**d)


@dataclass
class SequenceConfig(ConfigIO):
    """makemore.py's ModelConfig for the models that read whole padded words (rnn, gru, bow,
    transformer): block_size is the longest word + 1 (the start token, then the word)."""
    type: str = "transformer"
    vocab_size: int = 27
    block_size: int = 16
    n_layer: int = 4    # transformer blocks
    n_head: int = 4     # attention heads per block
    n_embd: int = 64    # token (and position) embedding size
    n_embd2: int = 64   # the RNN's hidden state; the BoW's MLP width
    dropout: float = 0.0  # the transformer's embedding and residual dropout (makemore.py has none: 0)

    TYPES = ("rnn", "gru", "bow", "transformer")
    POSITIVE = ("vocab_size", "block_size", "n_layer", "n_head", "n_embd", "n_embd2")

    def _validate(self) -> None:
        super()._validate()
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be at least 0 and below 1, got {self.dropout}")
        if self.dropout and self.type != "transformer":
            raise ValueError(f"dropout is the transformer's, got {self.dropout} for {self.type!r}")
        if self.type == "transformer" and self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
