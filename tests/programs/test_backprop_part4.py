"""makemore part 4 (becoming a backprop ninja) as a program: an MLP with a hand-written
BatchNorm, its gradients written out by hand and checked against loss.backward() (the
retain_grad'ed intermediates, t.grad), cross_entropy's gradient in one go on a tensor of the
graph (dlogits = F.softmax(logits, 1); dlogits[range(n), Yb] -= 1; dlogits /= n), then trained
under no_grad on the manual gradients alone (p.data += -lr * grad, dC[ix] += demb[k, j])."""
import pytest

import microtorch
import microtorch.nn.functional as mF
from tests.programs.test_mlp_part2 import build_dataset


def backprop_program(torch, F, words, steps=40, n_hidden=64):
    X, Y, itos = build_dataset(torch, words)
    V, n_embd, block_size, n = len(itos), 10, 3, 32
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((V, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / ((n_embd * block_size) ** 0.5)
    b1 = torch.randn(n_hidden, generator=g) * 0.1
    W2 = torch.randn((n_hidden, V), generator=g) * 0.1
    b2 = torch.randn(V, generator=g) * 0.1
    bngain = torch.randn((1, n_hidden), generator=g) * 0.1 + 1.0
    bnbias = torch.randn((1, n_hidden), generator=g) * 0.1
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True

    def forward(Xb, Yb):
        emb = C[Xb]
        embcat = emb.view(emb.shape[0], -1)
        hprebn = embcat @ W1 + b1
        bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
        bndiff = hprebn - bnmeani
        bnvar = 1 / (n - 1) * (bndiff**2).sum(0, keepdim=True)  # Bessel's correction
        bnvar_inv = (bnvar + 1e-5) ** -0.5
        bnraw = bndiff * bnvar_inv
        h = torch.tanh(bngain * bnraw + bnbias)
        logits = h @ W2 + b2
        return locals()

    def manual_grads(v, Xb, Yb):
        """Exercises 2-3: cross_entropy and batchnorm backward in one go each."""
        dlogits = F.softmax(v["logits"], 1)  # a tensor of the graph: the in-place ops below are recorded
        dlogits[range(n), Yb] -= 1
        dlogits /= n
        h, bnraw = v["h"], v["bnraw"]
        dh, dW2, db2 = dlogits @ W2.T, h.T @ dlogits, dlogits.sum(0)
        dhpreact = (1.0 - h**2) * dh
        dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
        dbnbias = dhpreact.sum(0, keepdim=True)
        dhprebn = bngain * v["bnvar_inv"] / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
        dembcat, dW1, db1 = dhprebn @ W1.T, v["embcat"].T @ dhprebn, dhprebn.sum(0)
        demb = dembcat.view(v["emb"].shape)
        dC = torch.zeros_like(C)
        for k in range(Xb.shape[0]):
            for j in range(Xb.shape[1]):
                dC[Xb[k, j]] += demb[k, j]
        return dlogits, [dC, dW1, db1, dW2, db2, dbngain, dbnbias]

    ix = torch.randint(0, X.shape[0], (n,), generator=g)
    Xb, Yb = X[ix], Y[ix]
    v = forward(Xb, Yb)
    v["logits"].retain_grad()
    loss = F.cross_entropy(v["logits"], Yb)
    loss.backward()
    dlogits, grads = manual_grads(v, Xb, Yb)
    checks = {
        "dlogits_grad_fn": type(dlogits.grad_fn).__name__ if torch is not microtorch else dlogits.grad_fn.name(),
        "dlogits_close": torch.allclose(dlogits, v["logits"].grad, atol=1e-7),
        "grads_close": all(torch.allclose(d, p.grad, atol=1e-6) for d, p in zip(grads, parameters)),
        "dlogits_row_sum": dlogits[0].sum().abs().item(),
    }
    losses = []
    with torch.no_grad():
        for i in range(steps):
            ix = torch.randint(0, X.shape[0], (n,), generator=g)
            Xb, Yb = X[ix], Y[ix]
            v = forward(Xb, Yb)
            loss = F.cross_entropy(v["logits"], Yb)
            _, grads = manual_grads(v, Xb, Yb)
            for p, grad in zip(parameters, grads):
                p.data += -0.1 * grad
            losses.append(loss.item())
    return checks, losses


def test_backprop_program(words):
    checks, losses = backprop_program(microtorch, mF, words)
    assert checks["dlogits_close"] and checks["grads_close"]  # the manual gradients are autograd's
    assert checks["dlogits_grad_fn"] == "DivBackward0"  # dlogits /= n recorded on the graph
    assert checks["dlogits_row_sum"] < 1e-6  # softmax minus a one-hot sums to zero
    assert losses[0] == pytest.approx(3.4476399, rel=1e-5)  # known answers from torch 2.13 (same stream)
    assert losses[-1] == pytest.approx(3.0174944, rel=1e-4)
    assert sum(losses[-10:]) / 10 < sum(losses[:10]) / 10 - 0.2


def test_backprop_program_matches_pytorch(words, pt):
    import torch.nn.functional as tF

    ours, our_losses = backprop_program(microtorch, mF, words)
    theirs, their_losses = backprop_program(pt, tF, words)
    assert ours["dlogits_close"] == theirs["dlogits_close"] and ours["grads_close"] == theirs["grads_close"]
    assert ours["dlogits_grad_fn"] == theirs["dlogits_grad_fn"]
    # the same random stream (issue 12): the same batches and weights, float32 rounding apart
    assert our_losses == pytest.approx(their_losses, rel=1e-4)
