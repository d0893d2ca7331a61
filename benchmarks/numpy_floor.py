"""The floor: the lecture's BatchNorm MLP with a hand-written numpy forward and backward.

No autograd, no graph, no wrapper objects: the cost of one training step in plain numpy, which
is what microtorch's per-op overhead is measured against. The model is the one of Karpathy's
"Activations & Gradients, BatchNorm" lecture, in its layout:

    emb = C[X]                      (B, block, n_embd)  -> embcat (B, block * n_embd)
    hpreact = embcat @ W1           (B, H)              no bias: BatchNorm removes it
    hpreact = bngain * (hpreact - mean) / std + bnbias
    h = tanh(hpreact)
    logits = h @ W2 + b2            (B, V)
    loss = cross_entropy(logits, Y)

The BatchNorm's std is either the biased one plus eps (nn.BatchNorm1d: `unbiased=False,
eps=1e-5`) or the lecture's `hpreact.std(0)` (`unbiased=True, eps=0`); both have the
closed-form backward dx = (g - mean(g) - xhat * sum(g * xhat) / (N - ddof)) / std.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

PARAM_NAMES = ("C", "W1", "bngain", "bnbias", "W2", "b2")


@dataclass
class Params:
    """The trainable arrays (lecture layout: W1 is (in, H), W2 is (H, V)) and the running statistics."""
    C: np.ndarray  # (V, n_embd)
    W1: np.ndarray  # (block * n_embd, H)
    bngain: np.ndarray  # (H,)
    bnbias: np.ndarray  # (H,)
    W2: np.ndarray  # (H, V)
    b2: np.ndarray  # (V,)
    running_mean: np.ndarray | None = None  # (H,), not trained; zeros by default
    running_var: np.ndarray | None = None  # (H,), not trained; ones by default

    def __post_init__(self) -> None:
        n_hidden = self.W1.shape[1]
        if self.running_mean is None:
            self.running_mean = np.zeros(n_hidden, dtype=self.W1.dtype)
        if self.running_var is None:
            self.running_var = np.ones(n_hidden, dtype=self.W1.dtype)

    def trainable(self) -> dict[str, np.ndarray]:
        """The parameters by name, in PARAM_NAMES order."""
        return {name: getattr(self, name) for name in PARAM_NAMES}

    def astype(self, dtype) -> Params:
        """A copy with every array converted to dtype."""
        return Params(**{f.name: getattr(self, f.name).astype(dtype) for f in fields(self)})


def init_params(
    vocab_size: int = 27,
    n_embd: int = 10,
    n_hidden: int = 200,
    block_size: int = 3,
    seed: int = 2147483647,
    dtype=np.float32,
) -> Params:
    """The lecture's initialisation: W1 scaled by (5/3)/sqrt(fan_in), W2 by 0.01, b2 zero, gain 1, bias 0."""
    rng = np.random.default_rng(seed)
    fan_in = n_embd * block_size
    return Params(
        C=rng.standard_normal((vocab_size, n_embd)).astype(dtype),
        W1=(rng.standard_normal((fan_in, n_hidden)) * (5 / 3) / fan_in**0.5).astype(dtype),
        bngain=np.ones(n_hidden, dtype=dtype),
        bnbias=np.zeros(n_hidden, dtype=dtype),
        W2=(rng.standard_normal((n_hidden, vocab_size)) * 0.01).astype(dtype),
        b2=np.zeros(vocab_size, dtype=dtype),
    )


def loss_and_grads(
    p: Params,
    Xb: np.ndarray,
    Yb: np.ndarray,
    *,
    unbiased: bool = False,
    eps: float = 1e-5,
    momentum: float = 0.1,
) -> tuple[float, dict[str, np.ndarray]]:
    """The mean cross-entropy on the batch (Xb (B, block) ints, Yb (B,) ints) and the gradient of
    every parameter; also moves the running statistics `momentum` of the way to the batch's."""
    n = Xb.shape[0]
    vocab_size = p.C.shape[0]
    dtype = p.W1.dtype
    ddof = 1 if unbiased else 0

    # forward
    embcat = p.C[Xb].reshape(n, -1)
    hpre = embcat @ p.W1
    mean = hpre.mean(0)
    xc = hpre - mean
    var = np.einsum("ij,ij->j", xc, xc) / (n - ddof)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = xc * inv_std
    h = np.tanh(xhat * p.bngain + p.bnbias)
    logits = h @ p.W2 + p.b2
    logits -= logits.max(1, keepdims=True)  # softmax is shift-invariant
    probs = np.exp(logits)
    sums = probs.sum(1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.mean(np.log(sums[:, 0]) - logits[rows, Yb]))

    # running statistics (the unbiased variance, as nn.BatchNorm1d keeps)
    running_var = var if unbiased else var * (n / (n - 1))
    p.running_mean *= 1 - momentum
    p.running_mean += momentum * mean
    p.running_var *= 1 - momentum
    p.running_var += momentum * running_var

    # backward: cross-entropy (softmax - one_hot) / n
    dlogits = probs / (sums * n)
    dlogits[rows, Yb] -= 1.0 / n
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dh = dlogits @ p.W2.T
    dhbn = dh * (1.0 - h * h)  # tanh' = 1 - tanh^2
    dbngain = np.einsum("ij,ij->j", dhbn, xhat)
    dbnbias = dhbn.sum(0)
    dxhat = dhbn * p.bngain
    dhpre = (dxhat - dxhat.mean(0) - xhat * (np.einsum("ij,ij->j", dxhat, xhat) / (n - ddof))) * inv_std
    dW1 = embcat.T @ dhpre
    demb = (dhpre @ p.W1.T).reshape(-1, p.C.shape[1])
    one_hot = (Xb.reshape(-1, 1) == np.arange(vocab_size)).astype(dtype)
    dC = one_hot.T @ demb  # the embedding's scatter-add as a matmul
    return loss, {"C": dC, "W1": dW1, "bngain": dbngain, "bnbias": dbnbias, "W2": dW2, "b2": db2}


def sgd_step(p: Params, grads: dict[str, np.ndarray], lr: float) -> None:
    """p -= lr * grad, in place, for every parameter."""
    for name, g in grads.items():
        param = getattr(p, name)
        param -= lr * g


class FloorTrainer:
    """The training loop on the floor: sample a batch, forward, backward, SGD; float32 throughout."""

    def __init__(
        self,
        Xtr: np.ndarray,
        Ytr: np.ndarray,
        *,
        batch_size: int = 32,
        n_hidden: int = 200,
        n_embd: int = 10,
        vocab_size: int = 27,
        lr: float = 0.1,
        seed: int = 2147483647,
    ) -> None:
        self.Xtr, self.Ytr = Xtr, Ytr
        self.batch_size = batch_size
        self.lr = lr
        self.params = init_params(vocab_size, n_embd, n_hidden, Xtr.shape[1], seed)
        self.rng = np.random.default_rng(seed)
        self.loss = float("nan")

    def train(self, steps: int) -> None:
        """Run `steps` training steps."""
        p, lr, n, b = self.params, self.lr, self.Xtr.shape[0], self.batch_size
        for _ in range(steps):
            ix = self.rng.integers(0, n, b)
            self.loss, grads = loss_and_grads(p, self.Xtr[ix], self.Ytr[ix])
            sgd_step(p, grads, lr)
