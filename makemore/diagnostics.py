"""The lessons of "Activations & Gradients, BatchNorm" as numbers and figures.

Pure statistics on arrays (or tensors) first, each checkable on hand-made activations:

    saturation(t)            % of |t| > 0.97
    dead_neurons(t)          units saturated for every example of the batch
    tanh_stats(t)            mean, std, % saturated, dead count and %
    grad_to_data_ratio(g, w) std(g) / std(w)
    update_to_data_ratio(g, w, lr)   log10(std(lr * g) / std(w)); the lecture aims at about -3

then the same on a model: `trace(model, X, Y)` runs the nn.Sequential layer by layer, keeps
every Tanh's input (pre-activation) and output, and with targets runs backward with
retain_grad() on the outputs; `probe_batch(X, Y, size, seed)` draws the batch to look at.
`diagnose_batch(model, X, Y)` gathers it all into a Report
(JSON-able through .to_dict(), printable through format_report), and
`UpdateRatioRecorder(model)` is a callback for makemore.train.train_steps that records the
update:data ratio as training goes. The plot_* functions draw the lecture's figures with
matplotlib's object API (no pyplot, so no global backend is chosen; PNG through Agg).

Standard deviations are unbiased (ddof=1), as torch.Tensor.std() in the lecture.
This module never imports makemore.train: train.py calls its hooks.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import microtorch
import microtorch.nn.functional as F
from microtorch import nn

from .files import commit_bytes

SATURATION_THRESHOLD = 0.97   # |tanh| above this: in the flat tail, the gradient mostly gone
UPDATE_RATIO_REFERENCE = -3.0  # the lecture's rule of thumb for log10(update std / data std)
DEAD_GRAD_RTOL = 1e-5          # a gradient this small next to the largest one is zero (float32 noise)
LOSS_GAP_TOLERANCE = 0.1       # an initial loss further than this from -ln(1/V) is worth a warning


class DeadParameterWarning(UserWarning):
    """A parameter received no gradient over a batch: it can never learn."""


# ----------------------------------------------------------------------------
# statistics on arrays

def _np(x) -> np.ndarray:
    """The values of a tensor (even one that requires grad) or array, as a numpy array."""
    if isinstance(x, microtorch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def _std(a: np.ndarray) -> float:
    """The unbiased standard deviation (torch's default); 0 for fewer than two values."""
    return float(a.std(ddof=1)) if a.size > 1 else 0.0


def expected_initial_loss(vocab_size: int) -> float:
    """-ln(1/vocab_size): the loss of a network that predicts every character equally likely."""
    return -math.log(1.0 / vocab_size)


def uniform_target_loss(logits, targets=None) -> float:
    """mean over rows of logsumexp(z) - mean(z): the expected cross-entropy of these logits if the
    targets were unrelated to them. ln(V) for equal logits; above it by about var(z)/2 when the
    logits start with a random spread (PyTorch's default init of an output layer). With targets,
    the rows whose target is -1 (the sequence view's padding) are left out, as the loss does."""
    z = _np(logits).astype(np.float64)
    z = z.reshape(-1, z.shape[-1])
    if targets is not None:
        z = z[_np(targets).reshape(-1) != -1]
    top = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - top).sum(axis=1)) + top[:, 0]
    return float((lse - z.mean(axis=1)).mean())


def saturation(t, threshold: float = SATURATION_THRESHOLD) -> float:
    """The percentage of activations with |t| > threshold."""
    a = _np(t)
    return float(100.0 * (np.abs(a) > threshold).mean())


def dead_neurons(t, threshold: float = SATURATION_THRESHOLD) -> int:
    """The number of units (columns of a (batch, units) matrix) saturated for every example:
    no example sends a gradient through them."""
    a = _np(t)
    return int((np.abs(a) > threshold).all(axis=0).sum())


def tanh_stats(t, threshold: float = SATURATION_THRESHOLD) -> dict:
    """mean, std, saturated_pct, dead, dead_pct and units of a (batch, units) Tanh output."""
    a = _np(t)
    units = a.shape[1]
    dead = dead_neurons(a, threshold)
    return {"mean": float(a.mean()), "std": _std(a), "saturated_pct": saturation(a, threshold),
            "dead": dead, "dead_pct": 100.0 * dead / units, "units": units}


def grad_stats(g) -> dict:
    """mean and std of a gradient."""
    a = _np(g)
    return {"mean": float(a.mean()), "std": _std(a)}


def _ratio(a: float, b: float) -> float:
    """a / b as numpy divides: inf for a constant b, nan for 0 / 0 (a dead layer is a finding, not an error)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))


def grad_to_data_ratio(grad, data) -> float:
    """std(grad) / std(data): how large a step of size lr * grad is next to the weights."""
    return _ratio(_std(_np(grad)), _std(_np(data)))


def update_to_data_ratio(grad, data, lr: float) -> float:
    """log10(std(lr * grad) / std(data)): the size of an SGD update next to the data, in decades;
    -inf when the gradient is constant (e.g. all zero: the weight no longer learns)."""
    ratio = _ratio(_std(lr * _np(grad).astype(np.float64)), _std(_np(data)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log10(ratio))


def is_dead_gradient(grad, reference: float, rtol: float = DEAD_GRAD_RTOL) -> bool:
    """True when every |grad| is at most rtol * reference (reference: the largest gradient
    anywhere in the model), or there is no gradient at all."""
    if grad is None:
        return True
    return bool(np.abs(_np(grad)).max(initial=0.0) <= rtol * reference)


# ----------------------------------------------------------------------------
# tracing a model

@dataclass
class TanhTrace:
    """One Tanh layer of a traced batch: its input, output and the output's gradient."""
    layer: int                  # position in the nn.Sequential
    preact: np.ndarray
    out: np.ndarray
    grad: np.ndarray | None     # d loss / d out, when the trace ran backward

    @property
    def label(self) -> str:
        return f"layer {self.layer} (Tanh)"


@dataclass
class Trace:
    """What one batch did in the model: the loss, the Tanh layers, every parameter's gradient."""
    loss: float | None
    logits: np.ndarray
    tanh: list[TanhTrace]
    params: dict[str, tuple[np.ndarray, np.ndarray | None]]  # name -> (data, grad)

    def weights(self) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        """The 2-D parameters (Linear and Embedding weights), the lecture's choice."""
        return {name: dg for name, dg in self.params.items() if dg[0].ndim == 2}


@contextlib.contextmanager
def _side_effect_free(model: nn.Module):
    """Train mode inside; afterwards the previous mode and buffers (running statistics) are back."""
    buffers = {name: b.numpy().copy() for name, b in model.named_buffers()}
    was_training = model.training
    model.train()
    try:
        yield
    finally:
        model.train(was_training)
        with microtorch.no_grad():
            for name, b in model.named_buffers():
                b.copy_(microtorch.from_numpy(buffers[name]))


def _forward(model: nn.Module, X: microtorch.Tensor) -> tuple[microtorch.Tensor, list]:
    """Layer by layer (an nn.Sequential) or through forward with every nn.Tanh submodule recorded
    (another model); returns the logits and (index or name, input, output) of every Tanh.
    A Tanh's (B, T, C) input and output are read as B*T rows of C units."""
    tanhs = []

    def record(key, x, out):
        if out.requires_grad:
            out.retain_grad()
        tanhs.append((key, x, out))

    if isinstance(model, nn.Sequential):
        x = X
        for i, layer in enumerate(model):
            out = layer(x)
            if isinstance(layer, nn.Tanh):
                record(i, x, out)
            x = out
        return x, tanhs
    hooked = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Tanh)]
    for name, m in hooked:
        def forward(x, _name=name, _m=m):
            out = type(_m).forward(_m, x)
            record(_name, x, out)
            return out
        object.__setattr__(m, "forward", forward)
    try:
        return model(X), tanhs
    finally:
        for _, m in hooked:
            object.__delattr__(m, "forward")


def _rows(a: np.ndarray) -> np.ndarray:
    """(B, ..., C) as (rows, C)."""
    return a.reshape(-1, a.shape[-1]) if a.ndim > 2 else a


def _batch_loss(logits: microtorch.Tensor, Y: microtorch.Tensor) -> microtorch.Tensor:
    """Cross-entropy per predicted character: (B, V) logits, or (B, T, V) with targets -1 ignored."""
    if logits.ndim == 3:
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), Y.view(-1), ignore_index=-1)
    return F.cross_entropy(logits, Y)


def trace(model: nn.Sequential, X: microtorch.Tensor, Y: microtorch.Tensor | None = None) -> Trace:
    """Run a batch through model in train mode (batch statistics, as training sees it).

    With targets Y the cross-entropy loss is backpropagated: the parameters' .grad are
    replaced, and each Tanh output's gradient is kept. The model's mode and running
    statistics are left as they were."""
    with _side_effect_free(model):
        model.zero_grad(set_to_none=True)
        with microtorch.set_grad_enabled(Y is not None):
            logits, tanhs = _forward(model, X)
            loss = None
            if Y is not None:
                loss = _batch_loss(logits, Y)
                loss.backward()
    records = [TanhTrace(i, _rows(_np(pre)).copy(), _rows(_np(out)).copy(),
                         None if out.grad is None else _rows(_np(out.grad)).copy())
               for i, pre, out in tanhs]
    params = {name: (_np(p).copy(), None if p.grad is None else _np(p.grad).copy())
              for name, p in model.named_parameters()}
    return Trace(None if loss is None else loss.item(), _np(logits).copy(), records, params)


def probe_batch(X: microtorch.Tensor, Y: microtorch.Tensor, size: int, seed: int) -> tuple[microtorch.Tensor, microtorch.Tensor]:
    """size random examples, drawn from their own generator seeded with seed: the same batch
    for every look, and the training batches' generator is left alone."""
    ix = microtorch.randint(0, len(Y), (size,), generator=microtorch.Generator().manual_seed(seed))
    return X[ix], Y[ix]


def _traced(source: nn.Module | Trace, X, Y) -> Trace:
    return source if isinstance(source, Trace) else trace(source, X, Y)


# ----------------------------------------------------------------------------
# statistics of a model on a batch

def initial_loss_check(source: nn.Module | Trace, X=None, Y=None) -> dict:
    """The loss on the batch next to -ln(1/V), V the number of logits: {loss, expected, gap}."""
    tr = _traced(source, X, Y)
    if tr.loss is None:
        raise ValueError("the trace has no loss: trace the model with targets Y")
    expected = expected_initial_loss(tr.logits.shape[-1])
    return {"loss": tr.loss, "expected": expected, "gap": tr.loss - expected}


def activation_stats(source: nn.Module | Trace, X=None, threshold: float = SATURATION_THRESHOLD) -> list[dict]:
    """Per Tanh layer: tanh_stats of its output plus the std of its input (pre-activation)."""
    tr = _traced(source, X, None)
    return [{"layer": r.layer, "label": r.label, **tanh_stats(r.out, threshold), "preact_std": _std(r.preact)}
            for r in tr.tanh]


def activation_grad_stats(source: nn.Module | Trace, X=None, Y=None) -> list[dict]:
    """Per Tanh layer: mean and std of d loss / d output (needs targets)."""
    tr = _traced(source, X, Y)
    return [{"layer": r.layer, "label": r.label, **grad_stats(r.grad)} for r in tr.tanh if r.grad is not None]


def weight_grad_stats(source: nn.Module | Trace, X=None, Y=None) -> list[dict]:
    """Per 2-D weight: shape, gradient mean and std, and grad:data ratio (needs targets)."""
    tr = _traced(source, X, Y)
    return [{"name": name, "shape": list(data.shape), **grad_stats(grad), "grad_to_data": grad_to_data_ratio(grad, data)}
            for name, (data, grad) in tr.weights().items() if grad is not None]


def dead_parameters(source: nn.Module | Trace, X=None, Y=None, rtol: float = DEAD_GRAD_RTOL,
                    warn: bool = True) -> list[str]:
    """The names of the parameters whose gradient over the batch is zero (to rtol of the largest
    gradient in the model); with warn, a DeadParameterWarning names them. The classic: the bias
    of a Linear that feeds a BatchNorm, whose mean subtraction cancels it."""
    tr = _traced(source, X, Y)
    grads = {name: grad for name, (_, grad) in tr.params.items()}
    if all(g is None for g in grads.values()):
        raise ValueError("no gradients in the trace: trace the model with targets Y")
    reference = max(float(np.abs(g).max(initial=0.0)) for g in grads.values() if g is not None)
    dead = [name for name, g in grads.items() if is_dead_gradient(g, reference, rtol)]
    if dead and warn:
        warnings.warn(f"parameter(s) with zero gradient over the batch, which will never learn: {', '.join(dead)} "
                      "(a bias before a BatchNorm is cancelled by its mean subtraction)", DeadParameterWarning,
                      stacklevel=2)
    return dead


# ----------------------------------------------------------------------------
# the report

@dataclass
class Report:
    """Every number of one batch; .trace keeps the arrays for the figures."""
    loss: dict                   # initial_loss_check
    activations: list[dict]
    activation_grads: list[dict]
    weight_grads: list[dict]
    dead_parameters: list[str]
    threshold: float = SATURATION_THRESHOLD
    trace: Trace | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """The numbers, JSON-ready (the arrays of the trace left out)."""
        d = asdict(self)
        del d["trace"]
        return d


def diagnose_batch(model: nn.Sequential, X: microtorch.Tensor, Y: microtorch.Tensor,
                   threshold: float = SATURATION_THRESHOLD, warn: bool = True) -> Report:
    """One traced forward and backward of (X, Y), and every statistic above."""
    tr = trace(model, X, Y)
    return Report(
        loss=initial_loss_check(tr),
        activations=activation_stats(tr, threshold=threshold),
        activation_grads=activation_grad_stats(tr),
        weight_grads=weight_grad_stats(tr),
        dead_parameters=dead_parameters(tr, warn=warn),
        threshold=threshold,
        trace=tr,
    )


def format_report(report: Report, title: str = "diagnostics") -> str:
    """The report as text, one line per layer, in the lecture's wording."""
    r = report
    lines = [f"== {title} =="]
    gap = r.loss["gap"]
    warning = "  <- worse than a uniform guess: confidently wrong (at init: scale down the output layer)"
    lines.append(f"loss {r.loss['loss']:.4f}; a uniform prediction's -ln(1/V) = {r.loss['expected']:.4f}; gap {gap:+.4f}"
                 + (warning if gap > LOSS_GAP_TOLERANCE else ""))
    lines.append(f"activations (Tanh outputs; saturated: |t| > {r.threshold}; dead: saturated on every example of the batch)")
    for a in r.activations:
        lines.append(f"  {a['label']:<16} mean {a['mean']:+.2f}, std {a['std']:.2f}, saturated {a['saturated_pct']:5.2f}%, "
                     f"dead {a['dead']}/{a['units']} ({a['dead_pct']:.1f}%), pre-activation std {a['preact_std']:.2f}")
    lines.append("activation gradients (d loss / d Tanh output)")
    for a in r.activation_grads:
        lines.append(f"  {a['label']:<16} mean {a['mean']:+.6f}, std {a['std']:.3e}")
    lines.append("weight gradients (2-D parameters)")
    for w in r.weight_grads:
        shape = "x".join(map(str, w["shape"]))
        lines.append(f"  {w['name']:<10} {shape:>8}: mean {w['mean']:+.6f}, std {w['std']:.3e}, "
                     f"grad:data ratio {w['grad_to_data']:.3e}")
    if r.dead_parameters:
        lines.append(f"WARNING dead parameters (zero gradient over the batch): {', '.join(r.dead_parameters)}")
    else:
        lines.append("dead parameters: none")
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# the update:data ratio during training

class UpdateRatioRecorder:
    """A train_steps callback: every `every` steps, log10(std(lr * grad) / std(data)) of each
    2-D weight (SGD's update; the lecture wants about -3, UPDATE_RATIO_REFERENCE).

        recorder = UpdateRatioRecorder(model, every=10)
        train_steps(model, X, Y, optimizer, steps, 32, lr_at, g, callback=recorder)
        recorder.ratios["0.weight"]  # one value per recorded step in recorder.steps
    """

    def __init__(self, model: nn.Module, every: int = 1, measured: bool = False):
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.every = every
        self.measured = measured  # the actual change of the data over the step (AdamW's update is not lr * grad)
        self.params = [(name, p) for name, p in model.named_parameters() if p.ndim == 2]
        self.steps: list[int] = []
        self.ratios: dict[str, list[float]] = {name: [] for name, _ in self.params}
        self._before: dict[str, np.ndarray] | None = None

    def __call__(self, step: int, model: nn.Module, optimizer, lr: float, loss: float) -> None:
        if self.measured:
            self._measure(step)
            return
        if step % self.every:
            return
        self.steps.append(step)
        for name, p in self.params:
            grad = p.grad
            self.ratios[name].append(math.nan if grad is None else update_to_data_ratio(grad, p, lr))

    def _measure(self, step: int) -> None:
        """log10(std(data after - data before) / std(data before)) over the step: the data is copied
        one step before each recorded one (the first recorded step is the second after it starts)."""
        before, self._before = self._before, None
        if before is not None:
            self.steps.append(step)
            for name, p in self.params:
                now = _np(p).astype(np.float64)
                self.ratios[name].append(math.log10(_ratio(_std(now - before[name]), _std(before[name]))))
        if (step + 1) % self.every == 0:
            self._before = {name: _np(p).astype(np.float64) for name, p in self.params}

    def to_dict(self) -> dict:
        """{every, steps, ratios, reference}, JSON-ready."""
        return {"every": self.every, "steps": list(self.steps), "ratios": {k: list(v) for k, v in self.ratios.items()},
                "reference": UPDATE_RATIO_REFERENCE}


# ----------------------------------------------------------------------------
# figures

def _figure(title: str, xlabel: str, ylabel: str):
    """A Figure with one axes (matplotlib's object API: no pyplot, no global backend)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return fig, ax


def _finish(fig, ax, path: str | Path | None):
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:  # the extension picks the format (.png goes through Agg); one commit point
        buffer = io.BytesIO()
        fig.savefig(buffer, dpi=100, format=Path(path).suffix.lstrip(".") or "png")
        commit_bytes(path, buffer.getvalue())
    return fig


def _density(ax, values: np.ndarray, label: str, bins: int = 50) -> None:
    """The lecture's histogram: density as a line over the bin starts."""
    hist, edges = np.histogram(values, bins=bins, density=True)
    ax.plot(edges[:-1], hist, label=label)


def plot_activations(tr: Trace, path: str | Path | None = None, threshold: float = SATURATION_THRESHOLD,
                     title: str = "activation distribution (Tanh outputs)"):
    """A density line per Tanh layer, its legend the layer's mean, std and % saturated."""
    fig, ax = _figure(title, "tanh output", "density")
    for r in tr.tanh:
        s = tanh_stats(r.out, threshold)
        _density(ax, r.out.ravel(), f"{r.label}: mean {s['mean']:+.2f}, std {s['std']:.2f}, "
                                    f"saturated {s['saturated_pct']:.1f}%")
    return _finish(fig, ax, path)


def plot_activation_grads(tr: Trace, path: str | Path | None = None,
                          title: str = "gradient distribution (d loss / d Tanh output)"):
    """A density line per Tanh layer's output gradient, its legend the mean and std."""
    fig, ax = _figure(title, "gradient", "density")
    for r in tr.tanh:
        if r.grad is not None:
            s = grad_stats(r.grad)
            _density(ax, r.grad.ravel(), f"{r.label}: mean {s['mean']:+.6f}, std {s['std']:.3e}")
    return _finish(fig, ax, path)


def plot_weight_grads(tr: Trace, path: str | Path | None = None, title: str = "weight gradient distribution"):
    """A density line per 2-D weight's gradient, its legend the shape, mean, std and grad:data."""
    fig, ax = _figure(title, "gradient", "density")
    for name, (data, grad) in tr.weights().items():
        if grad is not None:
            s = grad_stats(grad)
            _density(ax, grad.ravel(), f"{name} {tuple(data.shape)}: mean {s['mean']:+.6f}, std {s['std']:.3e}, "
                                       f"grad:data {grad_to_data_ratio(grad, data):.3e}")
    return _finish(fig, ax, path)


def plot_update_ratios(recorder: UpdateRatioRecorder, path: str | Path | None = None,
                       title: str = "update:data ratio during training"):
    """log10(std(lr * grad) / std(data)) per 2-D weight over the steps, and the -3 reference."""
    fig, ax = _figure(title, "step", "log10(update std / data std)")
    for name, values in recorder.ratios.items():
        ax.plot(recorder.steps, values, label=name)
    ax.axhline(UPDATE_RATIO_REFERENCE, color="k", linestyle="--", label=f"reference ({UPDATE_RATIO_REFERENCE:g})")
    return _finish(fig, ax, path)


def smooth_log_losses(losses: list[float], windows: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """(steps, mean log10 loss) over about `windows` equal windows, the lecture's smoothed curve."""
    n = len(losses)
    width = max(1, n // windows)
    m = n // width * width
    curve = np.log10(np.asarray(losses[:m], dtype=np.float64)).reshape(-1, width).mean(axis=1)
    return np.arange(len(curve)) * width + width / 2, curve


def plot_losses(curves: dict[str, list[float]], path: str | Path | None = None, title: str = "training loss",
                points: dict[str, dict[int, float]] | None = None):
    """One smoothed log10-loss curve per named run; points: named {step: loss} series (e.g. the
    periodic validation loss), drawn as log10 lines with markers beside them."""
    fig, ax = _figure(title, "step", "log10(loss), window mean")
    for name, losses in curves.items():
        if losses:
            steps, curve = smooth_log_losses(losses)
            ax.plot(steps, curve, label=name)
    for name, series in (points or {}).items():
        steps = sorted(series)
        ax.plot(steps, np.log10([series[s] for s in steps]), marker=".", label=name)
    return _finish(fig, ax, path)
