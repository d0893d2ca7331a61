"""makemore part 5 (a WaveNet-like hierarchy) as a program: the lecture's own layers as plain
classes on tensors, the Linear adding its bias in place to its graph output (self.out +=
self.bias), a BatchNorm over dims (0, 1) with running buffers updated under no_grad,
FlattenConsecutive's view/squeeze, a hand-made Sequential, the global random stream
(torch.manual_seed(42), torch.randn, torch.randint) and the lecture's last cell writing model
outputs of shape (1, 27) into the rows of a (8, 27) tensor (logits[i] = model(X[[7 + i]]))."""
import pytest

import microtorch
import microtorch.nn.functional as mF
from tests.programs.test_mlp_part2 import build_dataset


def layers(torch):
    class Linear:
        def __init__(self, fan_in, fan_out, bias=True):
            self.weight = torch.randn((fan_in, fan_out)) / fan_in**0.5
            self.bias = torch.zeros(fan_out) if bias else None

        def __call__(self, x):
            self.out = x @ self.weight
            if self.bias is not None:
                self.out += self.bias  # in place on a tensor of the graph
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
                dim = 0 if x.ndim == 2 else (0, 1)
                xmean, xvar = x.mean(dim, keepdim=True), x.var(dim, keepdim=True)
            else:
                xmean, xvar = self.running_mean, self.running_var
            self.out = self.gamma * (x - xmean) / torch.sqrt(xvar + self.eps) + self.beta
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

    class Embedding:
        def __init__(self, num, dim):
            self.weight = torch.randn((num, dim))

        def __call__(self, IX):
            self.out = self.weight[IX]
            return self.out

        def parameters(self):
            return [self.weight]

    class FlattenConsecutive:
        def __init__(self, n):
            self.n = n

        def __call__(self, x):
            B, T, C = x.shape
            x = x.view(B, T // self.n, C * self.n)
            if x.shape[1] == 1:
                x = x.squeeze(1)
            self.out = x
            return self.out

        def parameters(self):
            return []

    class Sequential:
        def __init__(self, layers):
            self.layers = layers

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            self.out = x
            return self.out

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    return Linear, BatchNorm1d, Tanh, Embedding, FlattenConsecutive, Sequential


def cnn_program(torch, F, words, steps=60):
    Linear, BatchNorm1d, Tanh, Embedding, FlattenConsecutive, Sequential = layers(torch)
    X, Y, itos = build_dataset(torch, words, block_size=8)
    V, n_embd, n_hidden = len(itos), 10, 32
    torch.manual_seed(42)
    model = Sequential([
        Embedding(V, n_embd),
        FlattenConsecutive(2), Linear(n_embd * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, V),
    ])
    with torch.no_grad():
        model.layers[-1].weight *= 0.1
    parameters = model.parameters()
    for p in parameters:
        p.requires_grad = True
    losses = []
    for i in range(steps):
        ix = torch.randint(0, X.shape[0], (32,))
        logits = model(X[ix])
        loss = F.cross_entropy(logits, Y[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -0.1 * p.grad
        losses.append(loss.item())
    last = model.layers[-1].out
    for layer in model.layers:
        layer.training = False
    with torch.no_grad():
        eval_loss = F.cross_entropy(model(X), Y).item()
    rows = torch.zeros(8, V)
    for i in range(8):
        rows[i] = model(X[[7 + i]])
    with torch.no_grad():
        batch = model(X[7:15])
    return {"losses": losses, "eval": eval_loss, "n_params": sum(p.nelement() for p in parameters),
            "out_grad_fn": last.grad_fn.name() if torch is microtorch else type(last.grad_fn).__name__,
            "rows_equal_batch": torch.allclose(rows, batch, atol=1e-6), "rows_require_grad": rows.requires_grad,
            "running_mean": model.layers[3].running_mean.flatten()[:4].tolist()}


def test_cnn_program(words):
    r = cnn_program(microtorch, mF, words)
    assert r["out_grad_fn"] == "AddBackward0"  # self.out += self.bias rebased the output's history
    assert r["rows_equal_batch"] and r["rows_require_grad"]
    assert r["losses"][0] == pytest.approx(3.2849865, rel=1e-5)  # known answers from torch 2.13 (same stream)
    assert r["losses"][-1] == pytest.approx(2.8287570, rel=1e-4) and r["eval"] == pytest.approx(2.8003509, rel=1e-4)
    assert sum(r["losses"][-10:]) / 10 < r["losses"][0] - 0.4 and r["eval"] < r["losses"][0] - 0.4


def test_cnn_program_matches_pytorch(words, pt):
    import torch.nn.functional as tF

    ours, theirs = cnn_program(microtorch, mF, words), cnn_program(pt, tF, words)
    assert ours["n_params"] == theirs["n_params"] and ours["out_grad_fn"] == theirs["out_grad_fn"]
    assert ours["rows_equal_batch"] == theirs["rows_equal_batch"] and ours["rows_require_grad"] == theirs["rows_require_grad"]
    # the global stream is PyTorch's (issue 12): the same weights and batches, float32 rounding apart
    assert ours["losses"] == pytest.approx(theirs["losses"], rel=1e-4)
    assert ours["eval"] == pytest.approx(theirs["eval"], rel=1e-4)
    assert ours["running_mean"] == pytest.approx(theirs["running_mean"], rel=1e-3, abs=1e-6)
