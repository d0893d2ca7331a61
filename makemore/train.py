"""Train the makemore MLP: python -m makemore.train --help.

The defaults reproduce the BatchNorm MLP of Karpathy's "Activations & Gradients, BatchNorm"
lecture: 10-d embeddings, 200 hidden units, 3 characters of context, batch 32, lr 0.1 then
0.01 after half of the 200k steps.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

import microtorch
from microtorch import nn

from . import options as O
from .checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint, save_checkpoint, saved_step
from .data import (LECTURE, SHIPPED, DataError, Splits, file_sha256, load_splits, load_words, resolve_data,
                   split_words, vocabulary_report)
from .diagnostics import (LOSS_GAP_TOLERANCE, expected_initial_loss, initial_loss_check, plot_losses, probe_batch,
                          uniform_target_loss)
from .files import commit_bytes, named_errors, os_error_line, remove_stale_temporaries
from .lock import RunLock, RunLocked
from .loop import (PROGRESS_EVERY, LossDiverged, NonFiniteLoss, evaluate, explosion_limit, lr_schedule, split_losses,
                   train_steps)
from .models import ModelConfig, build_model, calibrate_batchnorm, count_parameters, is_sequence
from .sampling import format_samples, sample_names

__all__ = ["train_steps", "lr_schedule", "evaluate", "split_losses", "calibrate_batchnorm", "NonFiniteLoss", "main"]

METRICS_CHUNK = 1000    # steps between appends to metrics.csv (and Ctrl-C checks)
PROGRESS_SECONDS = 0.5  # the terminal line is redrawn at most this often


# ----------------------------------------------------------------------------
# progress, metrics, the loss plot

class Progress:
    """One redrawn line on a terminal (at most every PROGRESS_SECONDS), else a plain line
    every log_every steps."""

    def __init__(self, total: int, start: int, log_every: int, lr_at: Callable[[int], float], stream=None):
        self.total, self.start, self.log_every, self.lr_at = total, start, log_every, lr_at
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.t0 = self.last = time.perf_counter()
        self.last_logged = start
        self.open_line = False  # a terminal line without its newline yet

    def __call__(self, step: int, losses: list[float], force: bool = False) -> None:
        now = time.perf_counter()
        if step == self.last_logged or not losses:
            return
        if not force and self.tty and now - self.last < PROGRESS_SECONDS:
            return
        if not force and not self.tty and step // self.log_every == self.last_logged // self.log_every:
            return
        self.last, self.last_logged = now, step
        rate = (step - self.start) / max(now - self.t0, 1e-9)
        recent = float(np.mean(losses[-PROGRESS_EVERY:]))
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        line = (f"step {step:7d}/{self.total}  loss {recent:.4f}  lr {self.lr_at(step - 1):g}  "
                f"{rate:6.0f} steps/s  ETA {_duration(eta)}")
        self.stream.write(f"\r{line}\033[K" if self.tty else line + "\n")
        self.stream.flush()
        self.open_line = self.tty

    def close(self) -> None:
        """End the terminal line, if one is open."""
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}"


METRICS_NAME = "metrics.csv"
METRICS_HEADER = "step,loss,lr\n"
VAL_HEADER = "step,loss,lr,val_loss\n"  # with --eval-every


def metrics_rows(start_step: int, losses: list[float], lr_at: Callable[[int], float],
                 val: dict[int, float] | None = None) -> list[str]:
    """One 'step,loss,lr' row per step. With val ({steps done: validation loss}, --eval-every), a
    fourth column val_loss, filled on the row of the step after which it was measured."""
    if val is None:
        return [f"{start_step + i},{loss:.6f},{lr_at(start_step + i):g}\n" for i, loss in enumerate(losses)]
    return [f"{start_step + i},{loss:.6f},{lr_at(start_step + i):g},"
            f"{format(val[start_step + i + 1], '.6f') if start_step + i + 1 in val else ''}\n"
            for i, loss in enumerate(losses)]


def append_metrics(path: Path, start_step: int, losses: list[float], lr_at: Callable[[int], float],
                   val: dict[int, float] | None = None) -> None:
    """Append one row per step (header first if the file is new); val as in metrics_rows."""
    rows = metrics_rows(start_step, losses, lr_at, val)
    with named_errors(path), open(path, "a") as f:
        if f.tell() == 0:
            f.write(METRICS_HEADER if val is None else VAL_HEADER)
        f.writelines(rows)


def sync_metrics(path: Path, losses: list[float], lr_at: Callable[[int], float],
                 val: dict[int, float] | None = None) -> str | None:
    """Make metrics.csv hold exactly the checkpoint's steps before a resumed run appends to it.

    Rows after the checkpoint's step (written before a kill) are dropped. A missing, short or
    damaged file (or one that disagrees with the checkpoint's loss history) is rewritten from
    that history; the returned warning says what was wrong (None if the file was in order)."""
    expected = [METRICS_HEADER if val is None else VAL_HEADER] + metrics_rows(0, losses, lr_at, val)
    try:
        with named_errors(path):
            lines = path.read_text().splitlines(keepends=True)
    except FileNotFoundError:
        lines, problem = None, "missing"
    except (UnicodeDecodeError, ValueError):
        lines, problem = None, "not text"
    if lines is not None:
        kept = lines[:len(expected)]
        if kept == expected:
            if len(lines) > len(expected):
                commit_bytes(path, "".join(expected).encode())
            return None
        if len(kept) < len(expected) and kept == expected[:len(kept)]:
            problem = f"short ({max(len(kept) - 1, 0)} of {len(losses)} rows)"
        else:
            bad = next(i for i, (a, b) in enumerate(zip(kept, expected)) if a != b)
            problem = f"damaged or from another run at line {bad + 1} ({kept[bad].strip()[:40]!r})"
    commit_bytes(path, "".join(expected).encode())
    return f"warning: {path} was {problem}; rewrote it from the checkpoint's loss history ({len(losses)} steps)"


# ----------------------------------------------------------------------------
# a run: its state, starting it, resuming it

@dataclass
class Run:
    dir: Path
    train: O.TrainConfig
    model_config: ModelConfig
    splits: Splits
    train_words: list[str]
    model: nn.Sequential
    optimizer: microtorch.optim.Optimizer
    generator: microtorch.Generator
    losses: list[float]
    extra: dict             # initial losses, accumulated training seconds

    @property
    def config(self) -> dict:
        return {"model": self.model_config.to_dict(), "train": self.train.to_dict()}

    @property
    def lr_at(self) -> Callable[[int], float]:
        return self.train.lr_at

    def save(self) -> None:
        save_checkpoint(self.dir, self.model, self.optimizer, config=self.config, vocab=self.splits.vocab,
                        step=len(self.losses), generator=self.generator, losses=self.losses, extra=self.extra)


def _data_spec(data: str, path: Path) -> str:
    """What a run records as its data: the keyword of a known list, else the file's absolute path."""
    return data if data in (SHIPPED, LECTURE) else str(path.resolve())


def new_run(args: argparse.Namespace, run_dir: Path) -> Run:
    """A fresh run from the command line: data, model, optimizer, generator seeded with --seed."""
    path = resolve_data(args.data)
    sha = file_sha256(path)
    words = load_words(path, args.lowercase)
    splits = load_splits(path, args.block_size, args.seed, words=words, sequences=O.FAMILIES[args.type].sequence)
    print("\n".join(vocabulary_report(words, splits.vocab)))
    train = O.train_config(args, _data_spec(args.data, path), sha)
    config = O.model_config(args, len(splits.vocab), block_size=splits.train[0].shape[1])
    generator = microtorch.Generator().manual_seed(args.seed)
    model = build_model(config, generator)
    optimizer = train.make_optimizer(model.parameters())
    return Run(run_dir, train, config, splits, split_words(words, args.seed)[0], model, optimizer, generator, [],
               {"train_seconds": 0.0})


def check_data(train: O.TrainConfig, accept_changed: bool) -> Path:
    """The run's word list, checked against the SHA-256 it had when the run started.

    A changed list is refused (its split would differ: validation words could land in training)
    unless accept_changed, which warns and records the new checksum."""
    path = resolve_data(train.data)
    sha = file_sha256(path)
    if train.data_sha256 is not None and sha != train.data_sha256:
        what = (f"{path} has changed since the run started (SHA-256 {sha[:16]}..., the run's "
                f"{train.data_sha256[:16]}...): its split would differ, and validation words could land in training")
        if not accept_changed:
            raise DataError(f"{what}. Restore the file, or pass --accept-changed-data to go on with it")
        print(f"warning: {what}; going on with it (--accept-changed-data)", file=sys.stderr)
        train.data_sha256 = sha
    return path


def _restore(run_dir: Path, accept_changed_data: bool = False) -> Run:
    """A run as its checkpoint left it (the data re-read and checked against its checksum and the vocabulary)."""
    ckpt = load_checkpoint(run_dir)
    where = run_dir / CHECKPOINT_NAME
    try:
        train = O.TrainConfig.from_dict(ckpt.config.get("train"))
    except KeyError as e:
        raise CheckpointError(f"{where}: the training settings (config.train) lack {e.args[0]}") from None
    except (TypeError, AttributeError):
        raise CheckpointError(f"{where}: the training settings (config.train) are missing or not a dict") from None
    path = check_data(train, accept_changed_data)
    words = load_words(path, train.lowercase)
    splits = load_splits(path, ckpt.model_config.block_size, train.seed, words=words,
                         sequences=is_sequence(ckpt.model_config))
    if splits.vocab != ckpt.vocab:
        raise CheckpointError(f"{run_dir}: the vocabulary of {path} is {splits.vocab}, the checkpoint's {ckpt.vocab}")
    generator = microtorch.Generator()  # the model's too (dropout draws from it), set to the saved state below
    model = build_model(ckpt.model_config, generator)
    optimizer = train.make_optimizer(model.parameters())
    ckpt.restore(model, optimizer, generator)
    return Run(run_dir, train, ckpt.model_config, splits, split_words(words, train.seed)[0], model, optimizer,
               generator, list(ckpt.losses), dict(ckpt.extra))


_FIXED_ON_RESUME = ("data", "seed", "lowercase", *O.TRAINING_OPTIONS, *O.MODEL_OPTIONS, "out")


def resume_run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Run:
    """The run in --resume, to be trained up to --steps (default: its own total)."""
    ignored = O.changed_options(parser, args, _FIXED_ON_RESUME)
    if ignored:
        print(f"warning: --resume takes these settings from the checkpoint, ignoring: {', '.join(ignored)}", file=sys.stderr)
    run = _restore(Path(args.resume), args.accept_changed_data)
    if args.steps is not None:
        if args.steps < len(run.losses):
            raise SystemExit(f"error: --steps {args.steps} is below the checkpoint's step {len(run.losses)}")
        run.train.steps = args.steps
    warning = sync_metrics(run.dir / METRICS_NAME, run.losses, run.lr_at,
                           _val_losses(run) if run.train.eval_every else None)
    if warning:
        print(warning, file=sys.stderr)
    a = run.train
    print(f"resuming {run.dir} at step {len(run.losses)} of {a.steps} "
          f"(lr {a.lr:g}, {a.lr_final:g} from step {a.lr_decay_at}, as the run was started)")
    return run


# ----------------------------------------------------------------------------
# training a run

def check_initial_loss(run: Run) -> None:
    """Print the predicted and measured initial loss; warn if they are more than LOSS_GAP_TOLERANCE apart."""
    batch = probe_batch(*run.splits.train, run.train.batch_size, run.train.seed)
    predicted = expected_initial_loss(run.model_config.vocab_size)
    measured = initial_loss_check(run.model, *batch)["loss"]  # in train mode, as the first step sees it
    run.extra.update(initial_loss_predicted=predicted, initial_loss_measured=measured,
                     max_loss=explosion_limit(run.model_config.vocab_size, measured))
    print(f"initial loss: predicted -ln(1/{run.model_config.vocab_size}) = {predicted:.4f}, measured {measured:.4f}")
    if abs(measured - predicted) <= LOSS_GAP_TOLERANCE:
        return
    with microtorch.no_grad():
        spread = uniform_target_loss(run.model.train()(batch[0]), batch[1])
    run.extra["initial_loss_spread"] = spread
    if is_sequence(run.model_config):  # makemore.py's models keep PyTorch's default init of the output layer
        print(f"  above -ln(1/V) by {measured - predicted:+.2f}: makemore.py's init (PyTorch's defaults) starts the "
              f"logits with a random spread, which alone costs {spread - predicted:+.2f} "
              "(mean logsumexp(z) - mean(z)); an output layer scaled by 0.1 would start at -ln(1/V)")
        return
    print(f"WARNING: the initial loss is {measured - predicted:+.2f} from the uniform prediction's: the network "
          "starts confidently wrong (see --init and --output-scale)", file=sys.stderr)


@contextlib.contextmanager
def _deferred_sigint():
    """While active, a first Ctrl-C only sets flag['stop'] (the loop stops at the next chunk
    boundary, between steps); a second one sets flag['hard'] and raises KeyboardInterrupt at
    once, possibly in the middle of a step, but not while flag['saving'] (a save in progress is
    finished, so the checkpoint is the newest state; the caller checks flag['hard'] after it)."""
    flag = {"stop": False, "hard": False, "saving": False}

    def handler(signum, frame):
        if flag["stop"]:
            flag["hard"] = True
            if not flag["saving"]:
                raise KeyboardInterrupt
            return
        flag["stop"] = True
        print("\nstopping after the current chunk of steps (Ctrl-C again to stop at once)...", file=sys.stderr)

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Ctrl-C alone
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _next_stop(step: int, total: int, checkpoint_every: int, eval_every: int = 0) -> int:
    """The end of the chunk starting at step: the next metrics append, checkpoint, evaluation or the end."""
    stop = min(total, (step // METRICS_CHUNK + 1) * METRICS_CHUNK, (step // checkpoint_every + 1) * checkpoint_every)
    return min(stop, (step // eval_every + 1) * eval_every) if eval_every else stop


BEST_DIR = "best"  # <run>/best/: the checkpoint of the lowest validation loss (with --eval-every)


def _val_losses(run: Run) -> dict[int, float]:
    """{steps done: validation loss} of the run's periodic evaluations."""
    return {int(step): loss for step, loss in run.extra.get("val_losses", [])}


def validate(run: Run) -> None:
    """The validation loss after the current step: recorded, printed, and the best-val checkpoint
    (<run>/best, a run folder of its own) replaced when it is the lowest so far."""
    step = len(run.losses)
    loss = evaluate(run.model, *run.splits.val)
    run.extra.setdefault("val_losses", []).append([step, loss])
    best = run.extra.get("best_val")
    if best is None or loss < best["loss"]:
        run.extra["best_val"] = {"step": step, "loss": loss}
        save_checkpoint(run.dir / BEST_DIR, run.model, run.optimizer, config=run.config, vocab=run.splits.vocab,
                        step=step, generator=run.generator, losses=run.losses, extra=run.extra)
    best = run.extra["best_val"]
    print(f"step {step}: val loss {loss:.4f} (best {best['loss']:.4f} at step {best['step']})", file=sys.stderr)


def train_run(run: Run, checkpoint_every: int, log_every: int, callback: Callable | None = None) -> str:
    """Train up to the run's total steps in chunks, appending metrics and checkpointing.

    Returns 'done', 'interrupted' (checkpoint saved), or 'killed' (a second Ctrl-C) and
    'nonfinite' (both keep the last good checkpoint)."""
    total = run.train.steps
    progress = Progress(total, len(run.losses), log_every, run.lr_at)
    status = "done"
    with _deferred_sigint() as flag:
        while status == "done" and len(run.losses) < total:
            status = _train_chunk(run, _next_stop(len(run.losses), total, checkpoint_every, run.train.eval_every),
                                  callback, progress, flag)
            step = len(run.losses)
            if status == "interrupted" or (status == "done" and (step % checkpoint_every == 0 or step == total)):
                flag["saving"] = True
                try:
                    run.save()
                finally:
                    flag["saving"] = False
                if flag["hard"]:  # a second Ctrl-C during the save
                    status = "killed"
    progress(len(run.losses), run.losses, force=True)
    progress.close()
    resume = f"  python -m makemore.train --resume {run.dir}"
    if status == "interrupted":
        print(f"\ninterrupted at step {len(run.losses)}; checkpoint saved. Resume with:\n{resume}")
    elif status == "killed":
        print(f"\nstopped at once; the last checkpoint (step {saved_step(run.dir)}) is kept. Resume with:\n{resume}")
    return status


def _train_chunk(run: Run, stop: int, callback: Callable | None, progress: Progress, flag: dict) -> str:
    """Train from the current step up to `stop` and append the metrics; returns the status."""
    step, t0, status = len(run.losses), time.perf_counter(), "done"
    try:
        train_steps(run.model, *run.splits.train, run.optimizer, stop - step, run.train.batch_size, run.lr_at,
                    run.generator, start_step=step, callback=callback, on_progress=progress, losses=run.losses,
                    max_loss=run.extra.get("max_loss"))
    except KeyboardInterrupt:  # a callback's, or a second Ctrl-C (maybe half-way through a step)
        status = "killed" if flag["hard"] else "interrupted"
    except LossDiverged as e:
        status = "nonfinite"
        progress.close()
        print(f"error: {e.describe()}; stopping. The last good checkpoint "
              f"(step {saved_step(run.dir)}) is kept; try a smaller --lr.", file=sys.stderr)
    run.extra["train_seconds"] += time.perf_counter() - t0
    if status == "done" and run.train.eval_every and len(run.losses) % run.train.eval_every == 0:
        progress.close()
        validate(run)
    append_metrics(run.dir / "metrics.csv", step, run.losses[step:], run.lr_at,
                   _val_losses(run) if run.train.eval_every else None)
    return "interrupted" if status == "done" and flag["stop"] else status


# ----------------------------------------------------------------------------
# reporting

def report_losses(model: nn.Sequential, splits: Splits, test: bool) -> dict[str, float]:
    """Compute and print the split losses (running and calibrated BatchNorm statistics)."""
    losses = split_losses(model, splits, test)
    names = ["train", "val"] + (["test"] if test else [])
    print("losses (eval mode)      " + "  ".join(f"{n:>6}" for n in names))
    print("  running statistics    " + "  ".join(f"{losses[n + '_loss']:6.4f}" for n in names))
    if f"{names[0]}_loss_calibrated" in losses:
        print("  calibrated statistics " + "  ".join(f"{losses[n + '_loss_calibrated']:6.4f}" for n in names))
    return losses


def finish(run: Run, args: argparse.Namespace) -> dict:
    """Final losses, the loss plot, samples and summary.json."""
    losses = report_losses(run.model, run.splits, args.test)
    val = _val_losses(run)
    plot_losses({"train (minibatch)": run.losses}, run.dir / "loss.png", points={"val": val} if val else None)
    names = sample_names(run.model, run.splits.vocab, run.model_config.block_size, args.samples,
                         microtorch.Generator().manual_seed(run.train.seed), sequence=is_sequence(run.model_config))
    print(format_samples(names, set(run.train_words)))
    seconds = run.extra["train_seconds"]
    summary = {
        "config": run.config,
        "parameters": count_parameters(run.model),
        "steps": len(run.losses),
        "wall_time_seconds": seconds,  # of the training steps, over all sessions of the run
        "steps_per_second": len(run.losses) / seconds if seconds > 0 else None,
        "initial_loss_predicted": run.extra.get("initial_loss_predicted"),
        "initial_loss_measured": run.extra.get("initial_loss_measured"),
        **losses,
        **({"val_losses": run.extra["val_losses"], "best_val": run.extra["best_val"]} if val else {}),
        "note": "the checkpoint keeps the running BatchNorm statistics; *_calibrated losses use "
                "statistics of the whole training set (calibrate_batchnorm)",
    }
    commit_bytes(run.dir / "summary.json", json.dumps(summary, indent=1).encode())
    print(f"wrote {run.dir}/summary.json, loss.png, {METRICS_NAME}, {CHECKPOINT_NAME}")
    return summary


def eval_only(args: argparse.Namespace) -> int:
    """Load a run's checkpoint and report its losses, without training."""
    run = _restore(Path(args.eval_only), args.accept_changed_data)
    print(f"{run.dir}: step {len(run.losses)}, {count_parameters(run.model)} parameters")
    report_losses(run.model, run.splits, args.test)
    return 0


# ----------------------------------------------------------------------------
# the command line

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m makemore.train",
        description="Train a makemore character model (the lecture's BatchNorm MLP by default; --type for the others) "
                    "on microtorch.",
        epilog=O.type_defaults_text(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_argument_group("data and run")
    O.add_data_options(g)
    g.add_argument("--out", type=O.folder, default=None, help="run folder (default: runs/<timestamp>)")
    O.add_seed_option(g, "seed of the split, the initial weights and the batches")
    g.add_argument("--resume", type=O.run_folder, metavar="RUN_DIR", help="continue this run from its checkpoint, up to --steps")
    g.add_argument("--eval-only", type=O.run_folder, metavar="RUN_DIR",
                   help="report the losses of this run's checkpoint, without training")
    g.add_argument("--accept-changed-data", action="store_true",
                   help="with --resume or --eval-only: go on although the word list's SHA-256 differs from the run's")
    O.add_training_options(p.add_argument_group("optimisation"), None,
                           f"total number of steps (default: {O.DEFAULT_STEPS}, or the resumed run's)")
    O.add_model_options(p.add_argument_group("model"))
    g = p.add_argument_group("reporting")
    g.add_argument("--samples", type=O.int_at_least(0), default=20, help="names to sample at the end (default: %(default)s)")
    g.add_argument("--test", action="store_true", help="also report the test loss")
    g.add_argument("--log-every", type=O.int_at_least(1), default=10_000,
                   help="steps between progress lines when not on a terminal (default: %(default)s)")
    g.add_argument("--checkpoint-every", type=O.int_at_least(1), default=20_000,
                   help="steps between checkpoints (default: %(default)s)")
    return p


def _check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.resume and args.eval_only:
        p.error("--resume and --eval-only exclude each other")
    O.check_batchnorm_batch(p, args)


def main(argv: list[str] | None = None, callback: Callable | None = None) -> int:
    """The command line; callback(step, model, optimizer, lr, loss) is passed to the loop.

    Returns 0; 1 if the run could not go on (a diverging loss, an OS error such as a full disk:
    the last good checkpoint is kept); 2 on bad input (settings, data, checkpoint, a locked
    run folder); 130 when interrupted."""
    parser = build_parser()
    args = O.parse_args(parser, argv)
    _check_args(parser, args)
    try:
        if args.eval_only:
            return eval_only(args)
        run_dir = Path(args.resume) if args.resume else (args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S"))
        with named_errors(run_dir):
            run_dir.mkdir(parents=True, exist_ok=True)
        with RunLock(run_dir) as lock:
            if lock.notice:
                print(lock.notice, file=sys.stderr)
            remove_stale_temporaries(run_dir)
            return _train(args, parser, run_dir, callback)
    except (CheckpointError, DataError, RunLocked) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {os_error_line(e)}", file=sys.stderr)
        return 1


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser, run_dir: Path, callback: Callable | None) -> int:
    """Start or resume the run in run_dir (locked by the caller), train it, and finish it."""
    if not args.resume and (run_dir / CHECKPOINT_NAME).exists():
        raise SystemExit(f"error: {run_dir} already holds a run; continue it with --resume {run_dir} or choose another --out")
    run = resume_run(args, parser) if args.resume else new_run(args, run_dir)
    print(f"run folder {run.dir}; model {count_parameters(run.model)} parameters:\n{run.model}")
    try:
        if not run.losses:
            check_initial_loss(run)
            run.save()  # step 0: a good checkpoint to fall back on
        status = train_run(run, args.checkpoint_every, args.log_every, callback)
        if status != "done":
            return 1 if status == "nonfinite" else 130
        finish(run, args)
    except OSError as e:
        print(f"\nerror: {os_error_line(e)}; the last good checkpoint (step {saved_step(run_dir)}) is kept",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
