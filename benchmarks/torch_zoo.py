"""makemore's model zoo written with torch.nn: the twins the benchmark times and the tests load
microtorch's state dicts into (strict). Each follows makemore.py (and part 5 for the wavenet);
the same keys and shapes as makemore/models/, PyTorch's fused kernels where torch has one
(F.scaled_dot_product_attention, nn.LayerNorm, nn.GELU(approximate='tanh')).

    twin = build_twin(config.to_dict())      # a makemore.models config, as a dict
    twin.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Bigram(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(c["vocab_size"], c["vocab_size"]))

    def forward(self, idx):
        out = self.logits[idx]
        return out[:, -1] if out.shape[1] == 1 else out


class FlattenConsecutive(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x):
        B, T, C = x.shape
        x = x.view(B, T // self.n, C * self.n)
        return x.squeeze(1) if x.shape[1] == 1 else x


class BatchNorm1dTime(nn.BatchNorm1d):
    """(B, T, C): each channel over batch and time (the lecture's); (B, C) as usual."""

    def forward(self, x):
        if x.ndim == 3:
            B, T, C = x.shape
            return super().forward(x.reshape(B * T, C)).view(B, T, C)
        return super().forward(x)


def wavenet(c: dict) -> nn.Sequential:
    layers, width = [nn.Embedding(c["vocab_size"], c["n_embd"])], c["n_embd"]
    for _ in range(int(math.log2(c["block_size"]))):
        layers += [FlattenConsecutive(2), nn.Linear(2 * width, c["n_hidden"], bias=False),
                   BatchNorm1dTime(c["n_hidden"], momentum=c["bn_momentum"]), nn.Tanh()]
        width = c["n_hidden"]
    return nn.Sequential(*layers, nn.Linear(width, c["vocab_size"]))


def mlp(c: dict) -> nn.Sequential:
    layers, width = [nn.Embedding(c["vocab_size"], c["n_embd"]), nn.Flatten()], c["n_embd"] * c["block_size"]
    for _ in range(c["n_layers"]):
        layers.append(nn.Linear(width, c["n_hidden"], bias=not c["batchnorm"]))
        if c["batchnorm"]:
            layers.append(nn.BatchNorm1d(c["n_hidden"], momentum=c["bn_momentum"]))
        layers.append(nn.Tanh())
        width = c["n_hidden"]
    layers.append(nn.Linear(width, c["vocab_size"], bias=not c["batchnorm_output"]))
    if c["batchnorm_output"]:
        layers.append(nn.BatchNorm1d(c["vocab_size"], momentum=c["bn_momentum"]))
    return nn.Sequential(*layers)


class RNNCell(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.xh_to_h = nn.Linear(c["n_embd"] + c["n_embd2"], c["n_embd2"])

    def forward(self, xt, hprev):
        return torch.tanh(self.xh_to_h(torch.cat([xt, hprev], dim=1)))


class GRUCell(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        n_in = c["n_embd"] + c["n_embd2"]
        self.xh_to_z = nn.Linear(n_in, c["n_embd2"])
        self.xh_to_r = nn.Linear(n_in, c["n_embd2"])
        self.xh_to_hbar = nn.Linear(n_in, c["n_embd2"])

    def forward(self, xt, hprev):
        xh = torch.cat([xt, hprev], dim=1)
        r = torch.sigmoid(self.xh_to_r(xh))
        hbar = torch.tanh(self.xh_to_hbar(torch.cat([xt, r * hprev], dim=1)))
        z = torch.sigmoid(self.xh_to_z(xh))
        return (1 - z) * hprev + z * hbar


class RNN(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.start = nn.Parameter(torch.zeros(1, c["n_embd2"]))
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.cell = RNNCell(c) if c["type"] == "rnn" else GRUCell(c)
        self.lm_head = nn.Linear(c["n_embd2"], c["vocab_size"])

    def forward(self, idx):
        emb = self.wte(idx)
        h = self.start.expand((idx.shape[0], -1))
        hiddens = []
        for i in range(idx.shape[1]):
            h = self.cell(emb[:, i, :], h)
            hiddens.append(h)
        return self.lm_head(torch.stack(hiddens, 1))


class CausalBoW(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        T = c["block_size"]
        self.register_buffer("bias", torch.tril(torch.ones(T, T)).view(1, T, T))

    def forward(self, x):
        B, T, C = x.shape
        att = torch.zeros((B, T, T)).masked_fill(self.bias[:, :T, :T] == 0, float("-inf"))
        return F.softmax(att, dim=-1) @ x


class BoWBlock(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.cbow = CausalBoW(c)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(c["n_embd"], c["n_embd2"]), c_proj=nn.Linear(c["n_embd2"], c["n_embd"])))

    def forward(self, x):
        x = x + self.cbow(x)
        return x + self.mlp.c_proj(torch.tanh(self.mlp.c_fc(x)))


class BoW(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["block_size"], c["n_embd"])
        self.context_block = BoWBlock(c)
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"])

    def forward(self, idx):
        pos = torch.arange(idx.shape[1]).unsqueeze(0)
        return self.lm_head(self.context_block(self.wte(idx) + self.wpe(pos)))


class CausalSelfAttention(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        T = c["block_size"]
        self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"])
        self.c_proj = nn.Linear(c["n_embd"], c["n_embd"])
        self.register_buffer("bias", torch.tril(torch.ones(T, T)).view(1, 1, T, T))
        self.n_head, self.n_embd = c["n_head"], c["n_embd"]

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        n = c["n_embd"]
        self.ln_1 = nn.LayerNorm(n)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = nn.LayerNorm(n)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(n, 4 * n), c_proj=nn.Linear(4 * n, n), act=nn.GELU(approximate="tanh")))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        m = self.mlp
        return x + m.c_proj(m.act(m.c_fc(self.ln_2(x))))


class Transformer(nn.Module):
    def __init__(self, c: dict) -> None:
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c["vocab_size"], c["n_embd"]),
            wpe=nn.Embedding(c["block_size"], c["n_embd"]),
            h=nn.ModuleList([Block(c) for _ in range(c["n_layer"])]),
            ln_f=nn.LayerNorm(c["n_embd"]),
        ))
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)

    def forward(self, idx):
        t = self.transformer
        x = t.wte(idx) + t.wpe(torch.arange(idx.shape[1]).unsqueeze(0))
        for block in t.h:
            x = block(x)
        return self.lm_head(t.ln_f(x))


_BUILDERS = {"bigram": Bigram, "mlp": mlp, "wavenet": wavenet, "rnn": RNN, "gru": RNN, "bow": BoW, "transformer": Transformer}


def build_twin(config: dict) -> nn.Module:
    """The torch.nn model of a makemore.models config (its to_dict())."""
    return _BUILDERS[config.get("type", "mlp")](config)


def load_from_microtorch(twin: nn.Module, model) -> nn.Module:
    """Copy a microtorch model's state_dict into twin, strict (keys and shapes must match)."""
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}, strict=True)
    return twin
