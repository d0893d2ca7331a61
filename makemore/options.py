"""The command-line options the commands share, defined once, and the training settings.

Every value is checked by its argparse type, so a bad setting is a one-line usage error
(exit 2) before any work. Learning rates must be finite, above 0 and at most MAX_LR: SGD
diverges on these models long before that (lr 10 explodes within a few hundred steps), so a
larger one is a typo, not an experiment.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import MISSING, asdict, dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Callable

import microtorch

from .data import LECTURE, SHIPPED
from .loop import lr_schedule
from .models import FAMILIES, TYPES, ModelConfig, SequenceConfig
from .models.bigram import BigramConfig
from .models.wavenet import WaveNetConfig

MAX_LR = 10.0
MAX_SEED = 2**64 - 1  # PyTorch's manual_seed range (unsigned 64-bit)
DEFAULT_STEPS = 200_000


# ----------------------------------------------------------------------------
# value types: each raises argparse.ArgumentTypeError with a one-line reason

def number(text: str) -> float:
    """A finite float, also written as a fraction: '5/3'."""
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError, OverflowError):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def ranged(low: float, high: float, low_open: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = number(text)
        if value < low or (low_open and value == low) or value > high:
            raise argparse.ArgumentTypeError(f"must be {'>' if low_open else '>='} {low:g} and <= {high:g}, got {text}")
        return value
    parse.__name__ = "number"
    return parse


learning_rate = ranged(0.0, MAX_LR, low_open=True)
final_learning_rate = ranged(0.0, MAX_LR)
momentum = ranged(0.0, 1.0)
non_negative = ranged(0.0, math.inf)


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An integer type that is at least minimum."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    parse.__name__ = "integer"
    return parse


def seed(text: str) -> int:
    """A seed: an integer from 0 to 2**64 - 1."""
    value = int_at_least(0)(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be at most 2**64 - 1, got {value}")
    return value


def folder(text: str) -> Path:
    """A folder to write into: it may not exist yet, but it and its parents may not be files."""
    path = Path(text)
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise argparse.ArgumentTypeError(f"{p} is a file, not a folder" if p == path
                                             else f"{p} (in {text}) is a file, not a folder")
        if p.exists():
            break
    return path


def data_source(text: str) -> str:
    """A --data value: 'shipped', 'lecture', or an existing file (not a folder)."""
    if text in (SHIPPED, LECTURE):
        return text
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a word list")
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file (a word list, '{SHIPPED}' or '{LECTURE}')")
    return text


def default_out(command: str) -> Path:
    """runs/<command>-<timestamp>: the default output folder of a command."""
    return Path("runs") / f"{command}-{time.strftime('%Y%m%d-%H%M%S')}"


def run_folder(text: str) -> Path:
    """An existing run folder."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such run folder" if not path.exists()
                                         else f"{text} is a file, not a run folder")
    return path


# ----------------------------------------------------------------------------
# the option groups

MODEL_OPTIONS = ("type", "block_size", "n_embd", "n_hidden", "n_layers", "no_batchnorm", "batchnorm_output", "init",
                 "gain", "output_scale", "bn_momentum", "n_head", "dropout")
TRAINING_OPTIONS = ("batch_size", "lr", "lr_decay_at", "lr_final", "optimizer", "weight_decay", "eval_every")
OPTIMIZERS = ("sgd", "adamw")
ADAMW_BETAS = (0.9, 0.99)  # makemore.py's


def _alias(g: argparse._ActionsContainer, flag: str, dest: str, type: Callable) -> None:
    """flag as another name of the option dest (makemore.py's spelling), kept out of --help so
    the option's own errors keep naming it alone."""
    g.add_argument(flag, dest=dest, type=type, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def add_model_options(g: argparse._ActionsContainer) -> None:
    """--type and the MLP's shape and initialisation."""
    g.add_argument("--type", choices=TYPES, default="mlp",
                   help="model family (default: %(default)s); the defaults below are the mlp's, the other types' are listed at the end")
    g.add_argument("--block-size", type=int_at_least(1), default=3,
                   help="characters of context (default: %(default)s; the sequence types use the longest word + 1)")
    g.add_argument("--n-embd", type=int_at_least(1), default=10, help="embedding size per character (default: %(default)s)")
    g.add_argument("--n-hidden", type=int_at_least(1), default=200,
                   help="units per hidden layer; the RNN's state, the BoW's MLP width (also --n-embd2) (default: %(default)s)")
    g.add_argument("--n-layers", type=int_at_least(0), default=1,
                   help="hidden [Linear, (BatchNorm1d), Tanh] blocks; the transformer's blocks (also --n-layer) "
                        "(default: %(default)s)")
    _alias(g, "--n-embd2", "n_hidden", int_at_least(1))
    _alias(g, "--n-layer", "n_layers", int_at_least(0))
    g.add_argument("--n-head", type=int_at_least(1), default=4, help="the transformer's attention heads (default: %(default)s)")
    g.add_argument("--dropout", type=ranged(0.0, 0.99), default=0.0,
                   help="the transformer's embedding and residual dropout, as GPT-2's (makemore.py has none) "
                        "(default: %(default)s)")
    g.add_argument("--no-batchnorm", action="store_true", help="no BatchNorm1d in the hidden blocks")
    g.add_argument("--batchnorm-output", action="store_true", help="a BatchNorm1d after the last Linear")
    g.add_argument("--init", choices=["kaiming", "pytorch", "naive"], default="kaiming",
                   help="weight initialisation; 'naive' is the lecture's overconfident N(0,1) start (default: %(default)s)")
    g.add_argument("--gain", type=non_negative, default=None, help="kaiming gain, e.g. 1, 5/3, 3 (default: 5/3, tanh's)")
    g.add_argument("--output-scale", type=non_negative, default=None,
                   help="scale of the last layer at init (default: 0.01 on its weight, or 0.1 on the output BatchNorm's gain)")
    g.add_argument("--bn-momentum", type=momentum, default=0.001,
                   help="BatchNorm1d's momentum for the running statistics, 0 to 1 (default: %(default)s)")


def add_training_options(g: argparse._ActionsContainer, steps_default: int | None, steps_help: str,
                         min_steps: int = 0) -> None:
    """--steps, --batch-size and the learning-rate schedule."""
    g.add_argument("--steps", type=int_at_least(min_steps), default=steps_default, help=steps_help)
    g.add_argument("--batch-size", type=int_at_least(1), default=32, help="examples per step (default: %(default)s)")
    g.add_argument("--lr", type=learning_rate, default=0.1,
                   help=f"learning rate before --lr-decay-at, above 0 and at most {MAX_LR:g} (also --learning-rate) "
                        "(default: %(default)s)")
    _alias(g, "--learning-rate", "lr", learning_rate)
    g.add_argument("--lr-decay-at", type=int_at_least(0), default=None,
                   help="step from which the learning rate is --lr-final (default: half the steps)")
    g.add_argument("--lr-final", type=final_learning_rate, default=0.01,
                   help="learning rate after the decay (default: %(default)s)")
    g.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd",
                   help=f"sgd, or adamw with betas {ADAMW_BETAS} as makemore.py (default: %(default)s)")
    g.add_argument("--weight-decay", type=non_negative, default=0.0, help="AdamW's decoupled weight decay (default: %(default)s)")
    g.add_argument("--eval-every", type=int_at_least(0), default=0,
                   help="steps between validation losses (metrics.csv, loss.png, the best-val checkpoint); 0: none "
                        "(default: %(default)s)")


DATA_HELP = (f"word list, one word per line; '{SHIPPED}': the 29,910 US names of 2017 installed with makemore; "
             f"'{LECTURE}': the lectures' 32,033 names, downloaded once into the user's cache folder")


def add_data_options(g: argparse._ActionsContainer, default: str | None = SHIPPED, help: str | None = None) -> None:
    """--data and --lowercase."""
    g.add_argument("--data", type=data_source, default=default,
                   help=f"{DATA_HELP} (default: {help or '%(default)s'})")
    g.add_argument("--lowercase", action="store_true", help="fold the words to lower case before building the vocabulary")


def add_seed_option(g: argparse._ActionsContainer, help: str) -> None:
    g.add_argument("--seed", type=seed, default=42, help=f"{help} (default: %(default)s)")


def check_batchnorm_batch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """BatchNorm's batch statistics need two examples."""
    if args.batch_size < 2 and not args.no_batchnorm:
        parser.error("BatchNorm needs --batch-size of at least 2")


def changed_options(parser: argparse.ArgumentParser, args: argparse.Namespace, names: tuple[str, ...]) -> list[str]:
    """The options among names that were given a value other than their default."""
    return [n for n in names if hasattr(args, n) and getattr(args, n) != parser.get_default(n)]


# ----------------------------------------------------------------------------
# per-type defaults: the options a type sets differently from the MLP's (makemore.models.FAMILIES)

TYPE_DEPENDENT = ("block_size", "n_embd", "n_hidden", "n_layers", "bn_momentum", "lr", "lr_decay_at", "lr_final",
                  "steps", "optimizer", "weight_decay", "eval_every")
# the model options each type reads; any other model option given on the command line is an error
TYPE_OPTIONS = {
    "mlp": ("block_size", "n_embd", "n_hidden", "n_layers", "no_batchnorm", "batchnorm_output", "init", "gain",
            "output_scale", "bn_momentum"),
    "bigram": (),
    "wavenet": ("block_size", "n_embd", "n_hidden", "bn_momentum", "output_scale"),
    **{t: ("n_embd", "n_layers", "n_head", "dropout") if t == "transformer" else ("n_embd", "n_hidden")
       for t in ("rnn", "gru", "bow", "transformer")},
}


def type_defaults_text() -> str:
    """The per-type defaults, for a command's --help epilog."""
    lines = ["defaults per --type (where they differ from the mlp's):"]
    for kind, family in FAMILIES.items():
        values = ", ".join(f"--{k.replace('_', '-')} {'constant' if k == 'lr_final' and v is None else v}"
                           for k, v in family.defaults.items())
        lines.append(f"  {kind:12s}{' sequence view (one padded word per row);' if family.sequence else ''} {values or '-'}")
    return "\n".join(lines)


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET = _Unset()


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """parser.parse_args, then the chosen --type's defaults for the type-dependent options not
    given (args.given: the dests given on the command line). A model option the type does not
    read is a usage error."""
    dests = {a.dest for a in parser._actions if a.dest in TYPE_DEPENDENT or a.dest in MODEL_OPTIONS}
    args = parser.parse_args(argv, namespace=argparse.Namespace(**{d: _UNSET for d in dests}))
    args.given = {d for d in dests if getattr(args, d) is not _UNSET}
    kind = args.type if args.type is not _UNSET else parser.get_default("type")
    resuming = bool(getattr(args, "resume", None) or getattr(args, "eval_only", None))
    family_defaults = FAMILIES[kind].defaults if not resuming else {}
    for d in dests:
        if getattr(args, d) is _UNSET:
            setattr(args, d, family_defaults.get(d, parser.get_default(d)))
    if not resuming:
        extra = sorted(d for d in args.given & set(MODEL_OPTIONS) if d != "type" and d not in TYPE_OPTIONS[kind])
        if extra:
            parser.error(f"--type {kind} does not use {', '.join('--' + d.replace('_', '-') for d in extra)}")
    return args


def model_config(args: argparse.Namespace, vocab_size: int, block_size: int | None = None):
    """The config of the model the options describe (block_size: the sequence view's length)."""
    kind = getattr(args, "type", "mlp")
    if kind == "bigram":
        return BigramConfig(vocab_size=vocab_size)
    if kind == "wavenet":
        scale = {} if args.output_scale is None else {"output_scale": args.output_scale}
        return WaveNetConfig(vocab_size=vocab_size, block_size=args.block_size, n_embd=args.n_embd,
                             n_hidden=args.n_hidden, bn_momentum=args.bn_momentum, **scale)
    if FAMILIES[kind].sequence:
        return SequenceConfig(type=kind, vocab_size=vocab_size, block_size=block_size, n_layer=args.n_layers,
                              n_head=args.n_head, n_embd=args.n_embd, n_embd2=args.n_hidden,
                              dropout=args.dropout if kind == "transformer" else 0.0)
    return ModelConfig(
        vocab_size=vocab_size, block_size=args.block_size, n_embd=args.n_embd, n_hidden=args.n_hidden,
        n_layers=args.n_layers, batchnorm=not args.no_batchnorm, init=args.init, gain=args.gain,
        output_scale=args.output_scale, batchnorm_output=args.batchnorm_output, bn_momentum=args.bn_momentum,
    )


# ----------------------------------------------------------------------------
# the training settings, as a checkpoint keeps them

@dataclass
class TrainConfig:
    """How a run trains: its data, split seed and schedule (fixed for its life, except steps)."""
    data: str
    steps: int
    batch_size: int
    lr: float
    lr_decay_at: int
    lr_final: float
    seed: int
    data_sha256: str | None = None  # of the word list's bytes, checked on resume
    lowercase: bool = False
    optimizer: str = "sgd"          # 'sgd' | 'adamw'
    weight_decay: float = 0.0
    eval_every: int = 0             # steps between validation losses; 0: none

    def make_optimizer(self, params) -> microtorch.optim.Optimizer:
        """SGD(lr), or makemore.py's AdamW(lr, betas (0.9, 0.99), eps 1e-8, weight_decay)."""
        if self.optimizer == "adamw":
            return microtorch.optim.AdamW(params, lr=self.lr, betas=ADAMW_BETAS, eps=1e-8, weight_decay=self.weight_decay)
        return microtorch.optim.SGD(params, lr=self.lr)

    @property
    def lr_at(self) -> Callable[[int], float]:
        return lr_schedule(self.lr, self.lr_final, self.lr_decay_at)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """The settings to_dict() described; raises KeyError naming the missing fields."""
        names = [f.name for f in fields(cls)]
        missing = [f.name for f in fields(cls) if f.default is MISSING and f.name not in d]
        if missing:
            raise KeyError(", ".join(missing))
        return cls(**{k: d[k] for k in names if k in d})


def train_config(args: argparse.Namespace, data: str, data_sha256: str | None) -> TrainConfig:
    """The settings of a new run from the options."""
    steps = args.steps if args.steps is not None else DEFAULT_STEPS
    return TrainConfig(data=data, steps=steps, batch_size=args.batch_size, lr=args.lr,
                       lr_decay_at=args.lr_decay_at if args.lr_decay_at is not None else steps // 2,
                       lr_final=args.lr_final if args.lr_final is not None else args.lr,  # None: a constant lr
                       seed=args.seed, data_sha256=data_sha256,
                       lowercase=getattr(args, "lowercase", False), optimizer=getattr(args, "optimizer", "sgd"),
                       weight_decay=getattr(args, "weight_decay", 0.0), eval_every=getattr(args, "eval_every", 0))
