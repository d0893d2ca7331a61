"""makemore part 3 (karpathy/nn-zero-to-hero, makemore_part3_bn.ipynb) run on microtorch prints
the lecture's numbers: the same seeds give PyTorch's random streams, so the same losses.

The code below is written for this test; it follows the notebook's sequence of random calls:
the split from Python's random.seed(42) + random.shuffle, then one Generator seeded 2147483647
for the weights (in the notebook's order) and every batch index. The expected numbers are the
notebook's saved outputs (PyTorch), and were checked here against torch 2.13 by running the same
functions with `torch` in place of `microtorch`.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

import microtorch
import microtorch.nn.functional as mF

REPO_ROOT = Path(__file__).resolve().parents[2]
# the reference list beside the repository (or where MAKEMORE_REFERENCE_NAMES says, e.g. from a worktree)
REFERENCE = Path(os.environ.get("MAKEMORE_REFERENCE_NAMES", REPO_ROOT.parent / "shared" / "reference" / "names.txt"))
SEED = 2147483647
BLOCK_SIZE = 3

pytestmark = pytest.mark.skipif(not REFERENCE.exists(), reason=f"reference list not found at {REFERENCE}")


def lecture_split(torch):
    """The notebook's dataset: shuffled with random.seed(42), 80/10/10, block size 3."""
    words = REFERENCE.read_text().splitlines()
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0

    def build(ws):
        X, Y = [], []
        for w in ws:
            context = [0] * BLOCK_SIZE
            for ch in w + ".":
                X.append(context)
                Y.append(stoi[ch])
                context = context[1:] + [stoi[ch]]
        return torch.tensor(X), torch.tensor(Y)

    rng = random.Random(42)  # the same order as random.seed(42); random.shuffle(words)
    rng.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    return build(words[:n1]), build(words[n1:n2]), len(stoi)


# ---------------------------------------------------------------------- the BatchNorm MLP
def mlp_step0_loss(torch, F) -> float:
    (Xtr, Ytr), _, vocab_size = lecture_split(torch)
    n_embd, n_hidden = 10, 200
    g = torch.Generator().manual_seed(SEED)
    C = torch.randn((vocab_size, n_embd), generator=g)
    W1 = torch.randn((n_embd * BLOCK_SIZE, n_hidden), generator=g) * (5 / 3) / ((n_embd * BLOCK_SIZE) ** 0.5)
    W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.01
    b2 = torch.randn(vocab_size, generator=g) * 0
    bngain, bnbias = torch.ones((1, n_hidden)), torch.zeros((1, n_hidden))
    ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
    emb = C[Xtr[ix]]
    hpreact = emb.view(emb.shape[0], -1) @ W1
    hpreact = bngain * (hpreact - hpreact.mean(0, keepdim=True)) / hpreact.std(0, keepdim=True) + bnbias
    logits = torch.tanh(hpreact) @ W2 + b2
    return F.cross_entropy(logits, Ytr[ix]).item()


def test_the_batchnorm_mlp_starts_at_the_lectures_loss():
    assert f"{mlp_step0_loss(microtorch, mF):.4f}" == "3.3239"  # the notebook's "0/ 200000: 3.3239"


# ---------------------------------------------------------------------- the deep network
def deep_network(torch, F, steps: int, evaluate: bool = True) -> dict:
    """The notebook's 6-layer tanh network (Linear without bias, BatchNorm1d, Tanh; 100 hidden),
    trained `steps` steps as in the notebook; returns the step-0 loss, the layer-2 statistics
    of the last step's forward and (if evaluate) the train/val losses in eval mode."""

    class Linear:
        def __init__(self, fan_in, fan_out, bias=True):
            self.weight = torch.randn((fan_in, fan_out), generator=g) / fan_in**0.5
            self.bias = torch.zeros(fan_out) if bias else None

        def __call__(self, x):
            self.out = x @ self.weight
            if self.bias is not None:
                self.out = self.out + self.bias  # the notebook's `+=`, out of place
            return self.out

        def parameters(self):
            return [self.weight] + ([] if self.bias is None else [self.bias])

    class BatchNorm1d:
        def __init__(self, dim, eps=1e-5, momentum=0.1):
            self.eps, self.momentum, self.training = eps, momentum, True
            self.gamma, self.beta = torch.ones(dim), torch.zeros(dim)
            self.running_mean, self.running_var = torch.zeros(dim), torch.ones(dim)

        def __call__(self, x):
            if self.training:
                xmean, xvar = x.mean(0, keepdim=True), x.var(0, keepdim=True)
            else:
                xmean, xvar = self.running_mean, self.running_var
            self.out = self.gamma * ((x - xmean) / torch.sqrt(xvar + self.eps)) + self.beta
            if self.training:
                with torch.no_grad():
                    self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                    self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
            return self.out

        def parameters(self):
            return [self.gamma, self.beta]

    class Tanh:
        def __call__(self, x):
            self.out = torch.tanh(x)
            return self.out

        def parameters(self):
            return []

    (Xtr, Ytr), (Xdev, Ydev), vocab_size = lecture_split(torch)
    n_embd, n_hidden = 10, 100
    g = torch.Generator().manual_seed(SEED)
    C = torch.randn((vocab_size, n_embd), generator=g)
    layers = [Linear(n_embd * BLOCK_SIZE, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh()]
    for _ in range(4):
        layers += [Linear(n_hidden, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh()]
    layers += [Linear(n_hidden, vocab_size, bias=False), BatchNorm1d(vocab_size)]
    with torch.no_grad():
        layers[-1].gamma *= 0.1  # last layer: less confident
    parameters = [C] + [p for layer in layers for p in layer.parameters()]
    for p in parameters:
        p.requires_grad = True

    def forward(X):
        x = C[X]
        x = x.view(x.shape[0], -1)
        for layer in layers:
            x = layer(x)
        return x

    result = {}
    for i in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
        loss = F.cross_entropy(forward(Xtr[ix]), Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 150000 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        if i == 0:
            result["step0"] = loss.item()
    t = layers[2].out
    result["layer2"] = (t.mean().item(), t.std().item(), (t.abs() > 0.97).float().mean().item() * 100)
    if not evaluate:
        return result
    for layer in layers:
        layer.training = False
    with torch.no_grad():
        result["train"] = F.cross_entropy(forward(Xtr), Ytr).item()
        result["val"] = F.cross_entropy(forward(Xdev), Ydev).item()
    return result


def test_the_deep_network_starts_at_the_lectures_loss():
    assert f"{deep_network(microtorch, mF, steps=1, evaluate=False)['step0']:.4f}" == "3.2870"  # the notebook's "0/ 200000: 3.2870"


@pytest.mark.slow
def test_the_deep_network_after_1001_steps_prints_the_lectures_numbers():
    out = deep_network(microtorch, mF, steps=1001)  # the notebook breaks after i == 1000
    assert f"{out['step0']:.4f}" == "3.2870"
    mean, std, saturated = out["layer2"]  # "layer 2 (      Tanh): mean -0.00, std 0.63, saturated: 2.78%"
    assert (f"{mean:.2f}", f"{std:.2f}", f"{saturated:.2f}") == ("-0.00", "0.63", "2.78")
    assert out["train"] == pytest.approx(2.4002976417541504, abs=1e-3)  # the notebook's split_loss('train')
    assert out["val"] == pytest.approx(2.3982467651367188, abs=1e-3)  # and split_loss('val')


# ---------------------------------------------------------------------- sampling (makemore part 1's loop)
def bigram_names(torch, n: int = 5) -> list[str]:
    """The smoothed bigram counts' model sampled with multinomial(num_samples=1, replacement=True)."""
    words = REFERENCE.read_text().splitlines()
    stoi = {s: i + 1 for i, s in enumerate(sorted(set("".join(words))))}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    counts = [[0] * 27 for _ in range(27)]  # the lecture's N[ix1, ix2] += 1, counted in Python lists (faster)
    for w in words:
        for a, b in zip("." + w, w + "."):
            counts[stoi[a]][stoi[b]] += 1
    P = (torch.tensor(counts, dtype=torch.int32) + 1).float()
    P /= P.sum(1, keepdim=True)
    g = torch.Generator().manual_seed(SEED)
    names = []
    for _ in range(n):
        ix, name = 0, ""
        while True:
            ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
            name += itos[ix]
            if ix == 0:
                break
        names.append(name)
    return names


def test_sampling_gives_the_lectures_names():
    # makemore part 1's names from the counts model (the same from PyTorch 2.13 here)
    assert bigram_names(microtorch) == ["cexze.", "momasurailezitynn.", "konimittain.", "llayn.", "ka."]
