"""The GPT lecture's program (ng-video-lecture gpt.py) and makemore.py's transformer block,
written once against a library (`torch` = microtorch or PyTorch), small: they run end to end on
microtorch, and from the same weights and batches give PyTorch's losses step for step.

Written for this test (not copied): the same modules and calls the two programs use."""
import math

import numpy as np
import pytest

import microtorch


def build(torch, vocab=11, block=8, n_embd=16, n_head=2, n_layer=2, dropout=0.0, style="lecture"):
    nn, F = torch.nn, torch.nn.functional

    class Head(nn.Module):
        def __init__(self, head_size):
            super().__init__()
            self.key = nn.Linear(n_embd, head_size, bias=False)
            self.query = nn.Linear(n_embd, head_size, bias=False)
            self.value = nn.Linear(n_embd, head_size, bias=False)
            self.register_buffer("tril", torch.tensor(np.tril(np.ones((block, block), dtype=np.float32))))
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            B, T, C = x.shape
            k, q = self.key(x), self.query(x)
            wei = q @ k.transpose(-2, -1) * C**-0.5
            wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
            wei = self.dropout(F.softmax(wei, dim=-1))
            return wei @ self.value(x)

    class MultiHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleList([Head(n_embd // n_head) for _ in range(n_head)])
            self.proj = nn.Linear(n_embd, n_embd)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            return self.dropout(self.proj(torch.cat([h(x) for h in self.heads], dim=-1)))

    class FusedAttention(nn.Module):
        """makemore.py's CausalSelfAttention, with F.scaled_dot_product_attention(is_causal=True)."""

        def __init__(self):
            super().__init__()
            self.c_q, self.c_k, self.c_v = (nn.Linear(n_embd, n_embd) for _ in range(3))
            self.c_proj = nn.Linear(n_embd, n_embd)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = (lin(x).view(B, T, n_head, C // n_head).transpose(1, 2) for lin in (self.c_q, self.c_k, self.c_v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
            if style == "lecture":
                self.sa = MultiHead()
                self.ffwd = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd), nn.Dropout(dropout))
            else:
                self.sa = FusedAttention()
                self.ffwd = nn.ModuleDict(dict(c_fc=nn.Linear(n_embd, 4 * n_embd), act=nn.GELU(approximate="tanh"), c_proj=nn.Linear(4 * n_embd, n_embd)))

        def forward(self, x):
            x = x + self.sa(self.ln1(x))
            f = self.ffwd
            return x + (f(self.ln2(x)) if style == "lecture" else f.c_proj(f.act(f.c_fc(self.ln2(x)))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding_table = nn.Embedding(vocab, n_embd)
            self.position_embedding_table = nn.Embedding(block, n_embd)
            self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab)

        def forward(self, idx, targets=None):
            B, T = idx.shape
            x = self.token_embedding_table(idx) + self.position_embedding_table(torch.arange(T))
            logits = self.lm_head(self.ln_f(self.blocks(x)))
            if targets is None:
                return logits, None
            B, T, C = logits.shape
            return logits, F.cross_entropy(logits.view(B * T, C), targets.view(B * T))

        @torch.no_grad()
        def generate(self, idx, max_new_tokens):
            for _ in range(max_new_tokens):
                logits, _ = self(idx[:, -block:])
                probs = F.softmax(logits[:, -1, :], dim=-1)
                idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
            return idx

    return GPT()


def batches(n_steps, vocab=11, block=8, batch=4, seed=0):
    r = np.random.default_rng(seed)
    data = r.integers(0, vocab, 400)
    for _ in range(n_steps):
        ix = r.integers(0, len(data) - block, batch)
        yield np.stack([data[i : i + block] for i in ix]), np.stack([data[i + 1 : i + block + 1] for i in ix])


def train(torch, model, n_steps, lr=1e-2):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for xb, yb in batches(n_steps):
        _, loss = model(torch.tensor(xb), torch.tensor(yb))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("style", ["lecture", "makemore"])
def test_runs_end_to_end_on_microtorch(style, tmp_path):
    microtorch.manual_seed(1337)
    model = build(microtorch, style=style)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params > 1000
    losses = train(microtorch, model, 20)
    assert abs(losses[0] - math.log(11)) < 0.5 and losses[-1] < losses[0] - 0.1
    model.eval()
    out = model.generate(microtorch.zeros((1, 1), dtype=microtorch.long), max_new_tokens=12)
    assert out.shape == (1, 13) and int(out.max()) < 11
    microtorch.save(model.state_dict(), tmp_path / "model.pt")
    again = build(microtorch, style=style)
    again.load_state_dict(microtorch.load(tmp_path / "model.pt"))
    x = microtorch.tensor(next(batches(1))[0])
    np.testing.assert_array_equal(model(x)[0].detach().numpy(), again.eval()(x)[0].detach().numpy())


@pytest.mark.parametrize("style", ["lecture", "makemore"])
def test_same_losses_as_pytorch_from_the_same_weights(style, request):
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: PyTorch's thread pool only costs time on a shared machine
    request.addfinalizer(lambda: torch.set_num_threads(threads))
    microtorch.manual_seed(0)
    ours = build(microtorch, style=style)
    theirs = build(torch, style=style)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    assert repr(ours) == repr(theirs)  # the model prints as PyTorch prints it
    a, b = train(microtorch, ours, 15), train(torch, theirs, 15)
    np.testing.assert_allclose(a, b, rtol=2e-4)
