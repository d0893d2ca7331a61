"""The training loop and evaluation that every command shares.

train_steps runs minibatch SGD steps; evaluate gives the mean loss of a split in bounded-size
batches; split_losses adds the losses with BatchNorm statistics calibrated over the training
set. A NaN, infinite or exploding loss stops the loop before that step's update (LossDiverged).
"""

from __future__ import annotations

import math
from typing import Callable

import microtorch
import microtorch.nn.functional as F
from microtorch import nn

from .data import IGNORE_INDEX, Splits
from .models import EVAL_BATCH, batches, calibrate_batchnorm

__all__ = ["loss_of", "LossDiverged", "NonFiniteLoss", "ExplodingLoss", "EXPLODE_FACTOR", "explosion_limit", "lr_schedule",
           "train_steps", "evaluate", "split_losses", "PROGRESS_EVERY"]

PROGRESS_EVERY = 100  # steps between calls of on_progress
EXPLODE_FACTOR = 10.0  # a loss this many times above max(ln(vocab), the initial loss) is exploding


class LossDiverged(FloatingPointError):
    """The loss of a step is unusable (non-finite or exploding); that step's update was not applied."""

    def __init__(self, step: int, value: float, message: str):
        super().__init__(message)
        self.step, self.value = step, value

    def describe(self) -> str:
        """'the loss became <value> at step <step>' (and why that is too much), for error lines."""
        return f"the loss became {self.value:.6g} at step {self.step}"


class NonFiniteLoss(LossDiverged):
    """The loss became NaN or infinite; the update of that step was not applied."""

    def __init__(self, step: int, value: float):
        super().__init__(step, value, f"loss is {value} at step {step}")


class ExplodingLoss(LossDiverged):
    """The loss rose above the explosion limit; the update of that step was not applied."""

    def __init__(self, step: int, value: float, limit: float):
        super().__init__(step, value, f"loss is {value:.6g} at step {step}, above the explosion limit {limit:.4g}")
        self.limit = limit

    def describe(self) -> str:
        return (f"the loss exploded to {self.value:.6g} at step {self.step} (the limit is {self.limit:.4g}: "
                f"{EXPLODE_FACTOR:g} x the larger of ln(vocab) and the initial loss)")


def explosion_limit(vocab_size: int, initial_loss: float) -> float:
    """EXPLODE_FACTOR x the larger of ln(vocab_size) (the uniform guess's loss) and the measured
    initial loss: 33 for the lecture's 27 characters and a calibrated start, 264 for its
    overconfident start at 26.4. A learning rate of 10 crosses it within a few hundred steps."""
    return EXPLODE_FACTOR * max(math.log(vocab_size), initial_loss)


def loss_of(logits: microtorch.Tensor, targets: microtorch.Tensor, reduction: str = "mean") -> microtorch.Tensor:
    """Cross-entropy of (B, vocab) logits with (B,) targets (the window view), or of (B, T, vocab)
    with (B, T) targets padded with IGNORE_INDEX (the sequence view): per predicted character."""
    if logits.ndim == 3:
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1), ignore_index=IGNORE_INDEX,
                               reduction=reduction)
    return F.cross_entropy(logits, targets, reduction=reduction)


def lr_schedule(lr: float, lr_final: float, decay_at: int) -> Callable[[int], float]:
    """The lecture's step decay: lr before step decay_at, lr_final from then on."""
    return lambda step: lr if step < decay_at else lr_final


def train_steps(
    model: nn.Module,
    X: microtorch.Tensor,
    Y: microtorch.Tensor,
    optimizer: microtorch.optim.Optimizer,
    steps: int,
    batch_size: int,
    lr_at: Callable[[int], float],
    generator: microtorch.Generator,
    start_step: int = 0,
    callback: Callable | None = None,
    on_progress: Callable[[int, list[float]], None] | None = None,
    losses: list[float] | None = None,
    max_loss: float | None = None,
) -> list[float]:
    """Run `steps` minibatch SGD steps numbered start_step, start_step + 1, ...; returns the losses.

    Each step draws batch_size random examples with generator, does forward, cross-entropy,
    backward and optimizer.step(). callback(step, model, optimizer, lr, loss) runs after each
    update; on_progress(step, losses) every PROGRESS_EVERY steps. Losses are appended to
    `losses` if given, so a caller keeps the completed steps even when the loop is interrupted.
    Raises NonFiniteLoss if the loss is NaN or infinite, ExplodingLoss if it is above max_loss
    (see explosion_limit), both before applying that step's update.
    """
    losses = [] if losses is None else losses
    Xa, Ya = X.numpy(), Y.numpy()
    n = len(Ya)
    groups = optimizer.param_groups
    lr = None
    limit = math.inf if max_loss is None else max_loss
    model.train()
    for step in range(start_step, start_step + steps):
        ix = microtorch.randint(0, n, (batch_size,), generator=generator)._array
        loss = loss_of(model(microtorch.from_numpy(Xa[ix])), microtorch.from_numpy(Ya[ix]))
        value = loss.item()
        if not value <= limit:  # NaN fails every comparison
            raise NonFiniteLoss(step, value) if not math.isfinite(value) else ExplodingLoss(step, value, limit)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        step_lr = lr_at(step)
        if step_lr != lr:
            lr = step_lr
            for group in groups:
                group["lr"] = lr
        optimizer.step()
        losses.append(value)
        if callback is not None:
            callback(step, model, optimizer, lr, value)
        if on_progress is not None and (step + 1) % PROGRESS_EVERY == 0:
            on_progress(step + 1, losses)
    return losses


@microtorch.no_grad()
def evaluate(model: nn.Module, X: microtorch.Tensor, Y: microtorch.Tensor, batch_size: int = EVAL_BATCH) -> float:
    """The mean loss per predicted character over (X, Y) in eval mode (running BatchNorm
    statistics), at most batch_size predicted positions per forward (memory does not grow with
    the split; a sequence-view row counts its length); the batches' sums add up in float64."""
    if len(Y) == 0:
        raise ValueError("evaluate needs at least one example")
    was_training = model.training
    model.eval()
    total = 0.0
    rows = max(1, batch_size // (Y.shape[1] if Y.ndim == 2 else 1))
    try:
        for xb, yb in zip(batches(X, rows), batches(Y, rows)):
            total += loss_of(model(xb), yb, reduction="sum").item()
    finally:
        model.train(was_training)
    return total / int((Y.numpy() != IGNORE_INDEX).sum())


def has_batchnorm(model: nn.Module) -> bool:
    """Whether the model holds a BatchNorm1d (whose statistics can be calibrated)."""
    return any(isinstance(m, nn.BatchNorm1d) for m in model.modules())


def split_losses(model: nn.Module, splits: Splits, test: bool) -> dict[str, float]:
    """Train/val (and test) loss with the running statistics, then (for a model with BatchNorm)
    with statistics calibrated over the training set. The model's buffers are restored afterwards."""
    names = ["train", "val"] + (["test"] if test else [])
    result = {f"{name}_loss": evaluate(model, *getattr(splits, name)) for name in names}
    if not has_batchnorm(model):
        return result
    buffers = {k: v.numpy().copy() for k, v in model.named_buffers()}
    calibrate_batchnorm(model, splits.train[0])
    result.update({f"{name}_loss_calibrated": evaluate(model, *getattr(splits, name)) for name in names})
    for name, buffer in model.named_buffers():
        buffer.copy_(microtorch.from_numpy(buffers[name]))
    return result
