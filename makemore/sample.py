"""Sample names from a trained run: python -m makemore.sample RUN_DIR -n 20 --seed S."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

import microtorch
import microtorch.nn.functional as F
from microtorch import nn

from .checkpoint import CheckpointError, load_checkpoint
from .data import Vocabulary, load_train_words

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


def _train_words(train_args: dict | None) -> set[str] | None:
    """The run's training split, or None (with a warning) if its word list is gone or unknown."""
    try:
        path, seed = train_args["data"], train_args["seed"]
        return set(load_train_words(path, seed))
    except (KeyError, TypeError):
        problem = "the checkpoint does not record its word list and seed"
    except (OSError, ValueError) as e:
        problem = str(e)
    print(f"warning: cannot mark names as seen or new: {problem}", file=sys.stderr)
    return None


def main(argv: list[str] | None = None) -> int:
    """The command line: print -n names sampled from RUN_DIR's checkpoint; 2 on a bad run folder."""
    p = argparse.ArgumentParser(prog="python -m makemore.sample", description="Sample names from a trained makemore run.")
    p.add_argument("run_dir", help="the run folder (holding checkpoint.json and checkpoint.npz)")
    p.add_argument("-n", type=int, default=20, help="how many names (default: %(default)s)")
    p.add_argument("--seed", type=int, default=42, help="seed of the sampling generator (default: %(default)s)")
    args = p.parse_args(argv)
    try:
        ckpt = load_checkpoint(args.run_dir)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    model = ckpt.build_model()
    names = sample_names(model, ckpt.vocab, ckpt.model_config.block_size, args.n, microtorch.Generator().manual_seed(args.seed))
    print(format_samples(names, _train_words(ckpt.config.get("train"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
