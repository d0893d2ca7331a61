"""makemore.py's models in miniature, as a program: the Transformer's causal self-attention
(c_attn(x).split(n_embd, dim=2), a torch.tril(torch.ones(...)) buffer, masked_fill, softmax),
NewGELU from torch.tanh and torch.pow, the MLP model's torch.roll context, cross_entropy with
ignore_index=-1, AdamW, evaluation under @torch.inference_mode(), arange(..., device=) and
sampling with the top-k crop (torch.topk, logits[logits < v[:, [-1]]] = -inf) and multinomial;
the blocks as makemore.py's: nn.LayerNorm before attention and MLP, the MLP in an nn.ModuleDict
called through a lambda; batches from a Dataset through makemore's InfiniteDataLoader (a
DataLoader on a RandomSampler with replacement and num_samples=1e10)."""
import math

import pytest

import microtorch
import microtorch.nn.functional as mF


def makemore_program(torch, F, words, model_type="transformer", steps=40, seed=3407):
    nn = torch.nn
    device = "cpu"
    chars = sorted(set("".join(words)))
    stoi = {ch: i + 1 for i, ch in enumerate(chars)}
    max_len = max(len(w) for w in words)
    vocab_size, block_size = len(chars) + 1, max_len + 1

    def encode(w):
        ix = torch.tensor([stoi[c] for c in w], dtype=torch.long)
        x = torch.zeros(max_len + 1, dtype=torch.long)
        y = torch.zeros(max_len + 1, dtype=torch.long)
        x[1 : 1 + len(ix)] = ix
        y[: len(ix)] = ix
        y[len(ix) + 1 :] = -1  # masked out of the loss
        return x, y

    pairs = [encode(w) for w in words]
    X = torch.stack([p[0] for p in pairs])
    Y = torch.stack([p[1] for p in pairs])
    n_embd, n_head = 16, 4

    class NewGELU(nn.Module):
        def forward(self, x):
            return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)
            self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(n_embd, dim=2)
            k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
            q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
            v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
            self.attn = CausalSelfAttention()
            self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(n_embd, 4 * n_embd), c_proj=nn.Linear(4 * n_embd, n_embd), act=NewGELU()))
            m = self.mlp
            self.mlpf = lambda x: m.c_proj(m.act(m.c_fc(x)))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlpf(self.ln_2(x))

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab_size, n_embd)
            self.wpe = nn.Embedding(block_size, n_embd)
            self.h = nn.ModuleList([Block() for _ in range(2)])
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            pos = torch.arange(0, t, dtype=torch.long, device=device).unsqueeze(0)
            x = self.wte(idx) + self.wpe(pos)
            for block in self.h:
                x = block(x)
            logits = self.lm_head(x)
            loss = None if targets is None else F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            return logits, loss

    class MLP(nn.Module):
        def __init__(self, context=3):
            super().__init__()
            self.context = context
            self.wte = nn.Embedding(vocab_size + 1, n_embd)  # + the <BLANK> token before the start
            self.mlp = nn.Sequential(nn.Linear(context * n_embd, 64), nn.Tanh(), nn.Linear(64, vocab_size))

        def forward(self, idx, targets=None):
            embs = []
            for _ in range(self.context):
                embs.append(self.wte(idx))
                idx = torch.roll(idx, 1, 1)
                idx[:, 0] = vocab_size
            logits = self.mlp(torch.cat(embs, -1))
            loss = None if targets is None else F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            return logits, loss

    def init_weights(module):  # makemore's GPT init: a fresh model predicts nearly uniformly
        if isinstance(module, (nn.Linear, nn.Embedding)):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            torch.nn.init.zeros_(module.bias)

    torch.manual_seed(seed)
    model = (Transformer if model_type == "transformer" else MLP)()
    model.apply(init_weights)
    model.to(device)
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.01, betas=(0.9, 0.99), eps=1e-8)

    @torch.inference_mode()
    def evaluate():
        model.eval()
        _, loss = model(X, Y)
        model.train()
        return loss.item(), torch.is_grad_enabled()

    @torch.no_grad()
    def generate(idx, max_new_tokens, top_k=None, do_sample=True):
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= block_size else idx[:, -block_size:]
            logits, _ = model(idx_cond)
            logits = logits[:, -1, :] / 1.0
            if top_k is not None:
                v, _ = torch.topk(logits, top_k)
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            if do_sample:
                idx_next = torch.multinomial(probs, num_samples=1)
            else:
                _, idx_next = torch.topk(probs, k=1, dim=-1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx

    class Names(torch.utils.data.Dataset):
        def __len__(self):
            return len(words)

        def __getitem__(self, i):
            return X[i], Y[i]

    sampler = torch.utils.data.RandomSampler(Names(), replacement=True, num_samples=int(1e10))
    batches = iter(torch.utils.data.DataLoader(Names(), sampler=sampler, batch_size=16, pin_memory=True, num_workers=0))
    start_loss, grad_inside = evaluate()
    losses = []
    for _ in range(steps):
        xb, yb = [t.to(device) for t in next(batches)]
        logits, loss = model(xb, yb)
        model.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    end_loss, _ = evaluate()
    X_init = torch.zeros(5, 1, dtype=torch.long).to(device)
    sampled = generate(X_init, block_size - 1, top_k=5).to("cpu")
    greedy = generate(X_init[:1], 4, do_sample=False)
    return {"start": start_loss, "end": end_loss, "losses": losses, "n_params": n_params, "grad_inside": grad_inside,
            "sampled": sampled.tolist(), "greedy": greedy.tolist(), "vocab_size": vocab_size}


@pytest.mark.filterwarnings("ignore:'pin_memory' argument")
@pytest.mark.parametrize("model_type", ["transformer", "mlp"])
def test_makemore_program(words, model_type):
    r = makemore_program(microtorch, mF, words[:300], model_type)
    assert r["grad_inside"] is False
    assert r["start"] == pytest.approx(math.log(r["vocab_size"]), abs=0.3)  # a fresh model is near uniform
    assert r["end"] < r["start"] - 0.5
    assert all(len(row) == len(r["sampled"][0]) and row[0] == 0 and 0 <= min(row) and max(row) < r["vocab_size"] for row in r["sampled"])
    assert len(r["greedy"][0]) == 5


@pytest.mark.filterwarnings("ignore:'pin_memory' argument")
@pytest.mark.parametrize("model_type", ["transformer", "mlp"])
def test_makemore_program_matches_pytorch(words, pt, model_type):
    import torch.nn.functional as tF

    ours = makemore_program(microtorch, mF, words[:300], model_type)
    theirs = makemore_program(pt, tF, words[:300], model_type)
    assert ours["n_params"] == theirs["n_params"]
    # the same random stream as PyTorch (issue 12): the same weights, batches and samples
    assert ours["start"] == pytest.approx(theirs["start"], rel=1e-5)
    assert ours["losses"] == pytest.approx(theirs["losses"], rel=1e-4)
    assert ours["end"] == pytest.approx(theirs["end"], rel=1e-4)
    assert ours["greedy"] == theirs["greedy"]
