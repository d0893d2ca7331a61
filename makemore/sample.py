"""Sample names from a trained run: python -m makemore.sample RUN_DIR -n 20 --seed S."""

from __future__ import annotations

import argparse
import math
import sys

import microtorch

from . import options as O
from .checkpoint import CheckpointError, load_checkpoint
from .data import load_train_words
from .models import is_sequence
from .sampling import MAX_LENGTH, format_samples, sample_names

__all__ = ["sample_names", "format_samples", "MAX_LENGTH", "main"]


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
    p.add_argument("-n", type=O.int_at_least(0), default=20, help="how many names (default: %(default)s)")
    O.add_seed_option(p, "seed of the sampling generator")
    p.add_argument("--temperature", type=O.ranged(0.0, math.inf, low_open=True), default=1.0,
                   help="divide the logits by this: below 1 safer names, above 1 wilder (default: %(default)s)")
    p.add_argument("--top-k", type=O.int_at_least(1), default=None,
                   help="sample only from the k most likely characters (default: all)")
    args = p.parse_args(argv)
    try:
        ckpt = load_checkpoint(args.run_dir)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    model = ckpt.build_model()
    names = sample_names(model, ckpt.vocab, ckpt.model_config.block_size, args.n, microtorch.Generator().manual_seed(args.seed),
                         sequence=is_sequence(ckpt.model_config), temperature=args.temperature, top_k=args.top_k)
    print(format_samples(names, _train_words(ckpt.config.get("train"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
