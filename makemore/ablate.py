"""The lecture's loss log, reproduced: five initialisations trained alike, beside the lecture's numbers.

Five variants of the one-hidden-layer MLP (10-d embeddings, 3 characters of context, 200
tanh units) are trained with the same seed, batches (batch 32), steps and learning rate
(0.1, then 0.01 from half the steps on), and compared with the numbers of Karpathy's
"Activations & Gradients, BatchNorm" lecture:

| variant                       | ModelConfig                         | then, in place (no_grad)              | lecture train / val |
|-------------------------------|-------------------------------------|---------------------------------------|---------------------|
| original                      | init='naive', batchnorm=False       | (all weights and biases N(0, 1))      | 2.1245 / 2.1682     |
| fix softmax confidently wrong | init='naive', batchnorm=False       | last W x 0.01, last b x 0             | 2.07 / 2.13         |
| fix tanh saturation           | init='naive', batchnorm=False       | as above, and hidden W x 0.2, b x 0.01 | 2.0356 / 2.1027     |
| kaiming init                  | init='kaiming', batchnorm=False     | (hidden W N(0,1) * (5/3)/sqrt(30), b N(0,1) * 0.01, last W x 0.01, b 0: all by the config) | 2.0377 / 2.1070 |
| + BatchNorm                   | ModelConfig() (kaiming, BatchNorm)  | (hidden Linear without bias, BN momentum 0.001) | 2.0668 / 2.1048 |

For each the table shows the loss at initialisation and the % of saturated tanh units
(|t| > 0.97) on one batch of training examples, and the train and val loss after training,
evaluated on the whole splits in eval mode: BatchNorm uses its running statistics (not
statistics recomputed over the training set), as the lecture's numbers for the BatchNorm
model do. Each variant's wall time is printed. Into --out go ablation.md (the table),
ablation.json (one object per variant) and ablation.png (the smoothed loss curves).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field

import microtorch
from microtorch import nn

from . import diagnostics as D
from . import options as O
from .data import load_splits, resolve_data
from .files import commit_bytes, named_errors, os_error_line
from .loop import LossDiverged, evaluate, explosion_limit, lr_schedule, train_steps
from .models.mlp import ModelConfig, build_model


@dataclass(frozen=True)
class Variant:
    name: str
    config: dict                                # ModelConfig fields
    scale: dict = field(default_factory=dict)   # in-place factors: output_weight, output_bias, hidden_weight, hidden_bias
    lecture: tuple[float, float] = (0.0, 0.0)   # the lecture's final train / val loss


_OUTPUT_FIX = {"output_weight": 0.01, "output_bias": 0.0}
VARIANTS = (
    Variant("original", {"init": "naive", "batchnorm": False}, {}, (2.1245, 2.1682)),
    Variant("fix softmax confidently wrong", {"init": "naive", "batchnorm": False}, _OUTPUT_FIX, (2.07, 2.13)),
    Variant("fix tanh saturation", {"init": "naive", "batchnorm": False},
            {**_OUTPUT_FIX, "hidden_weight": 0.2, "hidden_bias": 0.01}, (2.0356, 2.1027)),
    Variant("kaiming init", {"init": "kaiming", "batchnorm": False}, {}, (2.0377, 2.1070)),
    Variant("+ BatchNorm", {}, {}, (2.0668, 2.1048)),
)


def scale_in_place(model: nn.Sequential, scale: dict) -> None:
    """Multiply the last Linear's weight/bias (output_*) and the others' (hidden_*) by the factors."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    groups = {"output": linears[-1:], "hidden": linears[:-1]}
    with microtorch.no_grad():
        for key, factor in scale.items():
            where, what = key.split("_")
            for layer in groups[where]:
                tensor = getattr(layer, what)
                if tensor is not None:
                    tensor *= factor


def build_variant(variant: Variant, vocab_size: int, generator: microtorch.Generator) -> nn.Sequential:
    """The variant's model: ModelConfig(vocab_size, **variant.config), then its scaling."""
    model = build_model(ModelConfig(vocab_size=vocab_size, **variant.config), generator)
    scale_in_place(model, variant.scale)
    return model


def run_variant(variant: Variant, splits, args: argparse.Namespace) -> dict:
    """Build (seeded), look at the probe batch, train, evaluate; the variant's row and losses."""
    generator = microtorch.Generator().manual_seed(args.seed)
    model = build_variant(variant, len(splits.vocab), generator)
    X, Y = splits.train
    report = D.diagnose_batch(model, *D.probe_batch(X, Y, args.probe_batch, args.seed), warn=False)
    optimizer = microtorch.optim.SGD(model.parameters(), lr=args.lr)
    lr_at = lr_schedule(args.lr, args.lr_final, args.steps // 2)
    t0 = time.perf_counter()
    losses = train_steps(model, X, Y, optimizer, args.steps, args.batch_size, lr_at, generator,
                         max_loss=explosion_limit(len(splits.vocab), report.loss["loss"]))
    seconds = time.perf_counter() - t0
    row = {"variant": variant.name, "init_loss": report.loss["loss"],
           "saturated_pct": sum(a["saturated_pct"] for a in report.activations) / len(report.activations),
           "train": evaluate(model, X, Y), "val": evaluate(model, *splits.val),
           "lecture_train": variant.lecture[0], "lecture_val": variant.lecture[1],
           "steps": args.steps, "seconds": seconds}
    return {"row": row, "losses": losses}


_HEADER = ("| variant | init loss | saturated tanh at init | train | val | lecture train | lecture val | wall time |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|")


def format_row(r: dict) -> str:
    """One variant's row of the markdown table."""
    return (f"| {r['variant']} | {r['init_loss']:.4f} | {r['saturated_pct']:.1f}% | {r['train']:.4f} | {r['val']:.4f} "
            f"| {r['lecture_train']:g} | {r['lecture_val']:g} | {r['seconds']:.1f} s |")  # as the lecture quotes them


def format_table(rows: list[dict], args: argparse.Namespace, vocab_size: int = 27) -> str:
    """The markdown table, with the settings and how the losses were measured."""
    return "\n".join([
        f"# Ablation: {args.steps} steps, batch {args.batch_size}, lr {args.lr:g} -> {args.lr_final:g} at step "
        f"{args.steps // 2}, seed {args.seed}, data {args.data}",
        "",
        _HEADER,
        *map(format_row, rows),
        "",
        f"init loss and saturation (|tanh| > {D.SATURATION_THRESHOLD}) on one batch of {args.probe_batch} training "
        f"examples; -ln(1/{vocab_size}) = {D.expected_initial_loss(vocab_size):.4f}.",
        "train / val: the whole splits in eval mode, BatchNorm with its running statistics. "
        "The lecture's numbers are for 200,000 steps.",
    ])


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m makemore.ablate", description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=O.int_at_least(1), default=O.DEFAULT_STEPS,
                   help="training steps of each variant (the lecture's 200,000) (default: %(default)s)")
    O.add_data_options(p)
    p.add_argument("--out", type=O.folder, default=None, help="output folder (default: runs/ablate-<timestamp>)")
    O.add_seed_option(p, "seed of the split, the weights and the batches (every variant)")
    p.add_argument("--batch-size", type=O.int_at_least(2), default=32, help="examples per step (default: %(default)s)")
    p.add_argument("--lr", type=O.learning_rate, default=0.1,
                   help="learning rate for the first half of the steps (default: %(default)s)")
    p.add_argument("--lr-final", type=O.final_learning_rate, default=0.01,
                   help="learning rate for the second half (default: %(default)s)")
    p.add_argument("--probe-batch", type=O.int_at_least(1), default=32,
                   help="training examples for the init loss and saturation (default: %(default)s)")
    return p


def main(argv: list[str] | None = None) -> int:
    """The command line; returns 0, 1 if a variant's training diverged, 2 on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.out = args.out or O.default_out("ablate")
    try:
        splits = load_splits(resolve_data(args.data), 3, args.seed, lowercase=args.lowercase)
        with named_errors(args.out):
            args.out.mkdir(parents=True, exist_ok=True)
        return _ablate(args, splits)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {os_error_line(e)}", file=sys.stderr)
        return 2 if isinstance(e, FileNotFoundError) and e.filename is None else 1


def _ablate(args: argparse.Namespace, splits) -> int:
    """Train the variants and write the table, its JSON and the curves."""
    results = []
    for variant in VARIANTS:
        print(f"training '{variant.name}' for {args.steps} steps...", flush=True)
        try:
            results.append(run_variant(variant, splits, args))
        except LossDiverged as e:
            print(f"error: '{variant.name}': {e.describe()}; try a smaller --lr", file=sys.stderr)
            return 1
        r = results[-1]["row"]
        print(f"  {r['seconds']:.1f} s: init loss {r['init_loss']:.4f}, saturated {r['saturated_pct']:.1f}%, "
              f"train {r['train']:.4f}, val {r['val']:.4f}", flush=True)
    rows = [r["row"] for r in results]
    table = format_table(rows, args, len(splits.vocab))
    print("\n" + table)
    commit_bytes(args.out / "ablation.md", (table + "\n").encode())
    commit_bytes(args.out / "ablation.json", json.dumps(rows, indent=1).encode())
    D.plot_losses({r["row"]["variant"]: r["losses"] for r in results}, args.out / "ablation.png",
                  f"the lecture's variants: training loss ({args.steps} steps, seed {args.seed})")
    print(f"\nwrote ablation.md, ablation.json and ablation.png to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
