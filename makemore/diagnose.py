"""Look inside the network: activation, gradient and update statistics, at init and after training.

Builds a model (or loads a run's checkpoint), traces one batch of training examples and
prints what the lecture looks at: the initial loss against -ln(1/27), each Tanh layer's
mean, std, % saturated and dead units, the gradients of the activations and of the
weights. With --steps it then trains (SGD, the lecture's step decay), records the
update:data ratio, and looks again at the same batch. Into --out it writes report.json
(every number), report.txt (the printed report) and the figures as PNG.

    python -m makemore.diagnose                                      # the lecture's BatchNorm MLP
    python -m makemore.diagnose --n-layers 5 --n-hidden 100 --no-batchnorm --gain 1    # shrinking
    python -m makemore.diagnose --n-layers 5 --n-hidden 100 --no-batchnorm --gain 3    # saturating
    python -m makemore.diagnose --n-layers 5 --n-hidden 100 --gain 3                   # BatchNorm fixes it
    python -m makemore.diagnose --init naive --no-batchnorm --steps 1000
    python -m makemore.diagnose --checkpoint runs/20240101-120000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import microtorch
from microtorch import nn

from . import diagnostics as D
from . import options as O
from .checkpoint import CheckpointError, load_checkpoint
from .data import SHIPPED, file_sha256, load_splits, resolve_data
from .models import is_sequence
from .files import commit_bytes, named_errors, os_error_line
from .loop import LossDiverged, evaluate, explosion_limit, lr_schedule, train_steps
from .models import build_model
from .models.mlp import add_bias_before_batchnorm
from .options import number

__all__ = ["add_bias_before_batchnorm", "number", "diagnose", "main"]


# ----------------------------------------------------------------------------
# the model

def _from_checkpoint(args: argparse.Namespace) -> dict:
    """The run's model, its data (or --data) and its loss history."""
    ckpt = load_checkpoint(args.checkpoint)
    train = ckpt.config.get("train", {})
    data = args.data or train.get("data", SHIPPED)
    path = resolve_data(data)
    if not args.data and train.get("data_sha256") not in (None, file_sha256(path)):
        print(f"warning: {path} has changed since the run was trained (its SHA-256 differs): "
              "the split is not the run's", file=sys.stderr)
    splits = load_splits(path, ckpt.model_config.block_size, train.get("seed", args.seed),
                         lowercase=train.get("lowercase", args.lowercase), sequences=is_sequence(ckpt.model_config))
    if splits.vocab != ckpt.vocab:
        raise CheckpointError(f"{args.checkpoint}: the vocabulary of {data} is {splits.vocab}, the checkpoint's {ckpt.vocab}")
    return {"model": ckpt.build_model(), "config": ckpt.model_config, "splits": splits, "data": data,
            "losses": list(ckpt.losses), "step": ckpt.step, "what": f"checkpoint {args.checkpoint} at step {ckpt.step}"}


def _fresh(args: argparse.Namespace, generator: microtorch.Generator) -> dict:
    data = args.data or SHIPPED
    splits = load_splits(resolve_data(data), args.block_size, args.seed, lowercase=args.lowercase,
                         sequences=O.FAMILIES[args.type].sequence)
    config = O.model_config(args, len(splits.vocab), block_size=splits.train[0].shape[1])
    model = build_model(config, generator)
    if args.bias_before_batchnorm:
        add_bias_before_batchnorm(model, generator)
    if config.type != "mlp":
        return {"model": model, "config": config, "splits": splits, "data": data, "losses": [], "step": 0,
                "what": f"initialisation: {config.type}"}
    gain = "" if config.init != "kaiming" else f", gain {config.resolved_gain:.3g}"
    what = (f"initialisation: {config.n_layers} x {config.n_hidden} tanh, "
            f"{'BatchNorm' if config.batchnorm else 'no BatchNorm'}, init {config.init}{gain}")
    return {"model": model, "config": config, "splits": splits, "data": data, "losses": [], "step": 0, "what": what}


# ----------------------------------------------------------------------------
# looking, training, looking again

class Echo:
    """print, keeping a copy of the text for report.txt."""

    def __init__(self):
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text)
        self.lines.append(text)


def look(model: nn.Sequential, Xb, Yb, title: str, out: Path, tag: str, threshold: float, echo: Echo) -> D.Report:
    """Trace the batch, print the report, write its three figures with the suffix tag."""
    report = D.diagnose_batch(model, Xb, Yb, threshold, warn=False)
    echo(D.format_report(report, title))
    D.plot_activations(report.trace, out / f"activations-{tag}.png", threshold, f"activation distribution: {title}")
    D.plot_activation_grads(report.trace, out / f"activation_grads-{tag}.png", f"activation gradients: {title}")
    D.plot_weight_grads(report.trace, out / f"weight_grads-{tag}.png", f"weight gradients: {title}")
    return report


def train(run: dict, args: argparse.Namespace, generator: microtorch.Generator, echo: Echo, initial_loss: float) -> dict:
    """--steps of SGD with the update:data recorder; returns the numbers of the training.
    Stops (LossDiverged) if the loss becomes non-finite or explodes past explosion_limit."""
    model, (X, Y) = run["model"], run["splits"].train
    decay_at = args.lr_decay_at if args.lr_decay_at is not None else run["step"] + args.steps // 2
    lr_final = args.lr if args.lr_final is None else args.lr_final  # None: a constant lr (makemore.py's types)
    lr_at = lr_schedule(args.lr, lr_final, decay_at)
    adamw = args.optimizer == "adamw"
    recorder = D.UpdateRatioRecorder(model, every=args.every, measured=adamw)  # AdamW's update is not lr * grad
    optimizer = (microtorch.optim.AdamW(model.parameters(), lr=args.lr, betas=O.ADAMW_BETAS, weight_decay=args.weight_decay)
                 if adamw else microtorch.optim.SGD(model.parameters(), lr=args.lr))
    t0 = time.perf_counter()
    losses = train_steps(model, X, Y, optimizer, args.steps, args.batch_size, lr_at, generator,
                         start_step=run["step"], callback=recorder,
                         max_loss=explosion_limit(len(run["splits"].vocab), initial_loss))
    seconds = time.perf_counter() - t0
    run["losses"].extend(losses)
    result = {"steps": args.steps, "seconds": seconds, "lr": args.lr, "lr_final": lr_final, "lr_decay_at": decay_at,
              "train_loss": evaluate(model, X, Y), "val_loss": evaluate(model, *run["splits"].val),
              "update_ratios": recorder.to_dict()}
    stats = " (running BatchNorm statistics)" if any(isinstance(m, nn.BatchNorm1d) for m in model.modules()) else ""
    echo(f"\ntrained {args.steps} steps in {seconds:.1f} s; eval mode{stats}: "
          f"train loss {result['train_loss']:.4f}, val loss {result['val_loss']:.4f}")
    D.plot_update_ratios(recorder, args.out / "update_ratio.png")
    return result


def diagnose(args: argparse.Namespace, echo: Echo) -> dict:
    """Both looks (and the training between them); returns everything for report.json."""
    generator = microtorch.Generator().manual_seed(args.seed)
    run = _from_checkpoint(args) if args.checkpoint else _fresh(args, generator)
    with named_errors(args.out):
        args.out.mkdir(parents=True, exist_ok=True)
    Xb, Yb = D.probe_batch(*run["splits"].train, args.probe_batch, args.seed)
    echo(f"model: {run['config']}\nlooking at a batch of {args.probe_batch} training examples of {run['data']}\n")
    result = {"config": run["config"].to_dict(), "source": run["what"], "data": str(run["data"]), "seed": args.seed,
              "probe_batch": args.probe_batch, "threshold": args.threshold}
    tag = "checkpoint" if args.checkpoint else "init"
    result[tag] = look(run["model"], Xb, Yb, run["what"], args.out, tag, args.threshold, echo).to_dict()
    if args.steps > 0:
        result["training"] = train(run, args, generator, echo, result[tag]["loss"]["loss"])
        echo()
        title = f"after {run['step'] + args.steps} steps of training"
        result["trained"] = look(run["model"], Xb, Yb, title, args.out, "trained", args.threshold, echo).to_dict()
    if run["losses"]:
        D.plot_losses({"train (minibatch)": run["losses"]}, args.out / "loss.png")
    return result


# ----------------------------------------------------------------------------
# the command line

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m makemore.diagnose", description=__doc__.split("\n\n")[0])
    g = p.add_argument_group("what to look at")
    g.add_argument("--checkpoint", metavar="RUN_DIR", help="a training run's folder, instead of a fresh model")
    O.add_data_options(g, default=None, help=f"the run's, or {SHIPPED}")
    g.add_argument("--out", type=O.folder, default=None, help="output folder (default: runs/diagnose-<timestamp>)")
    O.add_seed_option(g, "seed of the split, the weights, the probe batch and the batches")
    g.add_argument("--probe-batch", type=O.int_at_least(1), default=32,
                   help="training examples in the batch that is traced (default: %(default)s)")
    g.add_argument("--threshold", type=O.ranged(0.0, 1.0), default=D.SATURATION_THRESHOLD,
                   help="|tanh| above this is saturated (default: %(default)s)")
    g = p.add_argument_group("model (ignored with --checkpoint)")
    O.add_model_options(g)
    g.add_argument("--bias-before-batchnorm", action="store_true",
                   help="give each Linear before a BatchNorm a bias, to see it reported dead")
    g = p.add_argument_group("training (optional)")
    O.add_training_options(g, 0, "SGD steps after the first look, then a second look (default: %(default)s)")
    g.add_argument("--every", type=O.int_at_least(1), default=1, help="steps between update:data records (default: %(default)s)")
    return p


def _check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.steps > 0 and not args.checkpoint:
        O.check_batchnorm_batch(p, args)
    if args.checkpoint:
        ignored = O.changed_options(p, args, (*O.MODEL_OPTIONS, "bias_before_batchnorm"))
        if ignored:
            print(f"warning: --checkpoint takes the model from the run, ignoring: {', '.join(ignored)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """The command line; returns 0, 1 if the training diverged, 2 on bad input."""
    parser = build_parser()
    args = O.parse_args(parser, argv)
    _check_args(parser, args)
    args.out = args.out or O.default_out("diagnose")
    echo = Echo()
    try:
        result = diagnose(args, echo)
        commit_bytes(args.out / "report.json", json.dumps(result, indent=1).encode())
        commit_bytes(args.out / "report.txt", ("\n".join(echo.lines) + "\n").encode())
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except LossDiverged as e:
        print(f"error: {e.describe()} of the training; try a smaller --lr", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {os_error_line(e)}", file=sys.stderr)
        return 2 if isinstance(e, FileNotFoundError) and e.filename is None else 1
    print(f"\nwrote report.json, report.txt and the figures to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
