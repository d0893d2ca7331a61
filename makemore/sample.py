"""Sample names from a trained run: python -m makemore.sample RUN_DIR -n 20 --seed S."""

from __future__ import annotations

import argparse
import math
import sys

import microtorch

from . import options as O
from .checkpoint import CheckpointError, load_checkpoint
from .data import DataError, file_sha256, load_train_words, resolve_data
from .models import is_sequence
from .sampling import MAX_LENGTH, format_samples, sample_names

__all__ = ["sample_names", "format_samples", "MAX_LENGTH", "main"]

SAMPLE_CHUNK = 1000  # names sampled and printed at a time


def _train_words(train_args: dict | None) -> set[str] | None:
    """The run's training split, or None (with a warning) if its word list is gone, changed or unknown."""
    try:
        spec, seed = train_args["data"], train_args["seed"]
        path = resolve_data(spec, log=lambda text: print(text, file=sys.stderr))
        sha = train_args.get("data_sha256")
        if sha is not None and file_sha256(path) != sha:
            raise DataError(f"{path} has changed since the run started (its SHA-256 differs)")
        return set(load_train_words(path, seed, train_args.get("lowercase", False)))
    except (KeyError, TypeError):
        problem = "the checkpoint does not record its word list and seed"
    except (OSError, ValueError) as e:
        problem = str(e)
    print(f"warning: cannot mark names as seen or new: {problem}", file=sys.stderr)
    return None


def main(argv: list[str] | None = None) -> int:
    """The command line: print -n names sampled from RUN_DIR's checkpoint; 2 on a bad run folder."""
    p = argparse.ArgumentParser(prog="python -m makemore.sample", description="Sample names from a trained makemore run.")
    p.add_argument("run_dir", help="the run folder (holding checkpoint.npz)")
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
    train_words = _train_words(ckpt.config.get("train"))
    generator = microtorch.Generator().manual_seed(args.seed)
    for start in range(0, args.n, SAMPLE_CHUNK):  # printed as they come: memory does not grow with -n
        names = sample_names(model, ckpt.vocab, ckpt.model_config.block_size, min(SAMPLE_CHUNK, args.n - start), generator,
                             sequence=is_sequence(ckpt.model_config), temperature=args.temperature, top_k=args.top_k)
        print(format_samples(names, train_words), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
