"""makemore part 2 (the MLP notebook) as a program: the embedding table C[X], the three
embeddings joined with torch.cat(torch.unbind(emb, 1), 1), tanh hidden layer, the loss by hand
with keepdims and by F.cross_entropy, the learning-rate sweep 10**torch.linspace(-3, 0, ...),
minibatches from randint, p.data += -lr * p.grad, and sampling with multinomial."""
import pytest

import microtorch
import microtorch.nn.functional as mF


def build_dataset(torch, words, block_size=3):
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y), {i: s for s, i in stoi.items()}


def mlp_program(torch, F, words, steps=300):
    X, Y, itos = build_dataset(torch, words)
    V = len(itos)
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((V, 10), generator=g)
    W1 = torch.randn((30, 200), generator=g) * 0.2
    b1 = torch.randn(200, generator=g) * 0.01
    W2 = torch.randn((200, V), generator=g) * 0.01
    b2 = torch.randn(V, generator=g) * 0
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    n_params = sum(p.nelement() for p in parameters)

    lre = torch.linspace(-3, 0, steps)
    lrs = 10**lre
    checks = {}
    losses = []
    for i in range(steps):
        ix = torch.randint(0, X.shape[0], (32,), generator=g)
        emb = C[X[ix]]  # (32, 3, 10)
        joined = torch.cat(torch.unbind(emb, 1), 1)  # (32, 30)
        if i == 0:
            checks["unbind_is_view"] = bool((joined == emb.view(-1, 30)).all())
        h = torch.tanh(joined @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Y[ix])
        if i == 0:
            counts = logits.exp()
            prob = counts / counts.sum(1, keepdims=True)
            checks["manual_loss"] = (-prob[torch.arange(32), Y[ix]].log().mean()).item()
            checks["loss0"] = loss.item()
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = lrs[i].item() if i < steps // 3 else 0.1
        for p in parameters:
            p.data += -lr * p.grad
        losses.append(loss.item())

    with torch.no_grad():
        emb = C[X]
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        full_loss = F.cross_entropy(h @ W2 + b2, Y).item()
        names = []
        for _ in range(5):
            out, context = [], [0] * 3
            while len(out) < 30:
                h = torch.tanh(C[torch.tensor([context])].view(1, -1) @ W1 + b1)
                probs = F.softmax(h @ W2 + b2, dim=1)
                ix = torch.multinomial(probs, num_samples=1, generator=g).item()
                context = context[1:] + [ix]
                if ix == 0:
                    break
                out.append(itos[ix])
            names.append("".join(out))
    return {"losses": losses, "full_loss": full_loss, "n_params": n_params, "names": names, **checks}


def test_mlp_program(words):
    r = mlp_program(microtorch, mF, words)
    assert r["n_params"] == 27 * 10 + 30 * 200 + 200 + 200 * 27 + 27
    assert r["unbind_is_view"]
    assert r["manual_loss"] == pytest.approx(r["loss0"], rel=1e-5)
    first, last = sum(r["losses"][:30]) / 30, sum(r["losses"][-30:]) / 30
    assert first > 3.0 and last < first - 0.5
    assert r["full_loss"] < 2.8
    assert all(isinstance(n, str) for n in r["names"])


def test_mlp_program_matches_pytorch(words, pt):
    import torch.nn.functional as tF

    ours, theirs = mlp_program(microtorch, mF, words), mlp_program(pt, tF, words)
    assert ours["n_params"] == theirs["n_params"]
    # the random streams differ until issue 12's generator is merged: compare the training as a
    # whole (initial loss near ln 27, the final full-data loss), not step by step
    assert ours["loss0"] == pytest.approx(theirs["loss0"], abs=0.1)
    assert ours["full_loss"] == pytest.approx(theirs["full_loss"], abs=0.15)
