"""makemore.py's RNN and GRU language models in miniature, written once against a library
(microtorch or PyTorch): names padded with -1 targets, a Dataset + DataLoader with a RandomSampler
drawing with replacement, the recurrence from nn.Linear / torch.cat / F.tanh / F.sigmoid, and
cross_entropy(ignore_index=-1). They run end to end on microtorch, and from the same weights and
batches give PyTorch's losses step for step.

Written for this test (not copied): the same modules and calls makemore.py uses."""
import numpy as np
import pytest

import microtorch

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]
CHARS = sorted(set("".join(WORDS)))
BLOCK = max(len(w) for w in WORDS) + 1


def encode(word):
    x = np.zeros(BLOCK, dtype=np.int64)
    y = np.zeros(BLOCK, dtype=np.int64)
    ix = [CHARS.index(c) + 1 for c in word]
    x[1 : 1 + len(ix)] = ix
    y[: len(ix)] = ix
    y[len(ix) + 1 :] = -1  # masked out of the loss
    return x, y


def build(torch, cell_type, n_embd=8, n_embd2=12):
    nn, F = torch.nn, torch.nn.functional
    vocab = len(CHARS) + 1

    class RNNCell(nn.Module):
        def __init__(self):
            super().__init__()
            self.xh_to_h = nn.Linear(n_embd + n_embd2, n_embd2)

        def forward(self, xt, hprev):
            return F.tanh(self.xh_to_h(torch.cat([xt, hprev], dim=1)))

    class GRUCell(nn.Module):
        def __init__(self):
            super().__init__()
            self.xh_to_z = nn.Linear(n_embd + n_embd2, n_embd2)
            self.xh_to_r = nn.Linear(n_embd + n_embd2, n_embd2)
            self.xh_to_hbar = nn.Linear(n_embd + n_embd2, n_embd2)

        def forward(self, xt, hprev):
            xh = torch.cat([xt, hprev], dim=1)
            r = F.sigmoid(self.xh_to_r(xh))
            hbar = F.tanh(self.xh_to_hbar(torch.cat([xt, r * hprev], dim=1)))
            z = F.sigmoid(self.xh_to_z(xh))
            return (1 - z) * hprev + z * hbar

    class RNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.start = nn.Parameter(torch.zeros(1, n_embd2))
            self.wte = nn.Embedding(vocab, n_embd)
            self.cell = RNNCell() if cell_type == "rnn" else GRUCell()
            self.lm_head = nn.Linear(n_embd2, vocab)

        def forward(self, idx, targets=None):
            b, t = idx.size()
            emb = self.wte(idx)
            hprev = self.start.expand((b, -1))
            hiddens = []
            for i in range(t):
                hprev = self.cell(emb[:, i, :], hprev)
                hiddens.append(hprev)
            logits = self.lm_head(torch.stack(hiddens, 1))
            loss = None
            if targets is not None:
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            return logits, loss

    return RNN()


def train(torch, model, batches, lr=5e-3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.01, eps=1e-8)
    losses = []
    for X, Y in batches:
        _, loss = model(X, Y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("cell_type", ["rnn", "gru"])
@pytest.mark.filterwarnings("ignore:'pin_memory' argument")  # PyTorch's notice, no accelerator here
def test_runs_end_to_end_with_a_dataloader(cell_type):
    torch = microtorch
    data = torch.utils.data

    class CharDataset(data.Dataset):
        def __len__(self):
            return len(WORDS)

        def __getitem__(self, i):
            x, y = encode(WORDS[i])
            return torch.tensor(x), torch.tensor(y)

    torch.manual_seed(3407)
    dataset = CharDataset()
    sampler = data.RandomSampler(dataset, replacement=True, num_samples=int(1e10))
    loader = data.DataLoader(dataset, batch_size=4, pin_memory=True, num_workers=0, sampler=sampler)
    it = iter(loader)
    model = build(torch, cell_type)
    losses = train(torch, model, (next(it) for _ in range(40)))
    assert np.mean(losses[-5:]) < losses[0] - 0.2
    with torch.no_grad():
        model.eval()
        eval_losses = [model(X, Y)[1].item() for X, Y in data.DataLoader(dataset, shuffle=True, batch_size=5, num_workers=0)]
    assert len(eval_losses) == 2 and all(np.isfinite(eval_losses))


@pytest.mark.parametrize("cell_type", ["rnn", "gru"])
def test_same_losses_as_pytorch_from_the_same_weights(cell_type, request):
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: PyTorch's thread pool only costs time on a shared machine
    request.addfinalizer(lambda: torch.set_num_threads(threads))
    r = np.random.default_rng(0)
    pairs = [[encode(WORDS[i]) for i in r.integers(0, len(WORDS), 4)] for _ in range(12)]
    arrays = [(np.stack([x for x, _ in p]), np.stack([y for _, y in p])) for p in pairs]
    microtorch.manual_seed(0)
    ours = build(microtorch, cell_type)
    theirs = build(torch, cell_type)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    a = train(microtorch, ours, ((microtorch.tensor(x), microtorch.tensor(y)) for x, y in arrays))
    b = train(torch, theirs, ((torch.tensor(x), torch.tensor(y)) for x, y in arrays))
    np.testing.assert_allclose(a, b, rtol=1e-4)
