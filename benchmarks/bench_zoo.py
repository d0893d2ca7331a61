"""Training-step speed of each makemore type: microtorch against the same model in torch.nn
(benchmarks/torch_zoo.py, PyTorch eager), one run, interleaved repeats.

    python -m benchmarks.bench_step --type transformer        # or bigram, mlp, wavenet, rnn, gru, bow, all
    python -m benchmarks.bench_step --type transformer --profile 200

Both libraries run the same loop (written once, taking the library as an argument) on the same
batches' shapes: batch 32 examples (windows for bigram/mlp/wavenet, padded words for the
others), cross-entropy per predicted character, backward, the type's optimizer (SGD lr 0.1,
or AdamW as makemore.py). The torch model starts from microtorch's initial weights.
"""
from __future__ import annotations

import statistics
from types import ModuleType
from typing import Any

import numpy as np

import microtorch
from makemore.data import build_arrays, build_sequence_arrays, build_vocab, load_words, sequence_length, split_words
from makemore.models import FAMILIES, TYPES, SequenceConfig, build_model
from makemore.models.bigram import BigramConfig
from makemore.models.mlp import ModelConfig
from makemore.models.wavenet import WaveNetConfig

from .bench_step import BATCH, DEFAULT_DATA_PATH, REFERENCE_NAMES, SEED, Runner, measure, profile_runner

__all__ = ["default_config", "zoo_runners", "run_zoo", "profile_type"]


def default_config(kind: str, vocab_size: int, length: int):
    """The type's default model (the one `python -m makemore.train --type kind` builds)."""
    if kind == "bigram":
        return BigramConfig(vocab_size=vocab_size)
    if kind == "mlp":
        return ModelConfig(vocab_size=vocab_size)
    if kind == "wavenet":
        return WaveNetConfig(vocab_size=vocab_size)
    return SequenceConfig(kind, vocab_size, length)


def training_arrays(config) -> tuple[np.ndarray, np.ndarray]:
    """Xtr, Ytr of the reference list's (or the shipped list's) training split, in config's view."""
    path = REFERENCE_NAMES if REFERENCE_NAMES.exists() else DEFAULT_DATA_PATH
    words = load_words(path)
    train_words = split_words(words)[0]
    vocab = build_vocab(words)
    if FAMILIES[config.type].sequence:
        return build_sequence_arrays(train_words, vocab, config.block_size)
    return build_arrays(train_words, vocab, config.block_size)


def train_loop(torch: ModuleType, model: Any, opt: Any, X: Any, Y: Any, steps: int, batch: int, g: Any) -> Any:
    """`steps` training steps of model on random batches of (X, Y); the same code for both libraries."""
    F = torch.nn.functional
    loss = None
    for _ in range(steps):
        ix = torch.randint(0, X.shape[0], (batch,), generator=g)
        logits = model(X[ix])
        if logits.ndim == 3:
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), Y[ix].view(-1), ignore_index=-1)
        else:
            loss = F.cross_entropy(logits, Y[ix])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return loss


def _optimizer(torch: ModuleType, kind: str, params) -> Any:
    if FAMILIES[kind].defaults.get("optimizer") == "adamw":
        return torch.optim.AdamW(params, lr=5e-4, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.01)
    return torch.optim.SGD(params, lr=0.1)


def _runner(torch: ModuleType, label: str, kind: str, model: Any, X: np.ndarray, Y: np.ndarray, batch: int) -> Runner:
    opt = _optimizer(torch, kind, model.parameters())
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    g = torch.Generator().manual_seed(SEED)
    return Runner(label, lambda steps: train_loop(torch, model, opt, Xt, Yt, steps, batch, g),
                  lambda: {str(p.dtype).removeprefix("torch.") for p in model.parameters()})


def zoo_runners(kind: str, torch: ModuleType | None, batch: int = BATCH) -> list[Runner]:
    """microtorch's model of `kind` and (with torch) its torch.nn twin from the same weights."""
    probe = default_config(kind, 27, 16)
    X, Y = training_arrays(probe)
    vocab_size = int(max(X.max(), Y.max())) + 1
    config = default_config(kind, vocab_size, X.shape[1])
    model = build_model(config, microtorch.Generator().manual_seed(SEED))
    runners = [_runner(microtorch, f"microtorch {kind}", kind, model, X, Y, batch)]
    if torch is not None:
        from .torch_zoo import build_twin, load_from_microtorch
        twin = load_from_microtorch(build_twin(config.to_dict()), model)
        runners.append(_runner(torch, f"PyTorch {kind}", kind, twin, X, Y, batch))
    return runners


STEPS = {"bigram": 2000, "mlp": 2000, "wavenet": 1000, "rnn": 200, "gru": 200, "bow": 200, "transformer": 40}


def run_zoo(kinds: list[str], torch: ModuleType | None, steps: int | None, repeats: int, batch: int = BATCH) -> dict:
    """Time each type (microtorch, PyTorch) interleaved; print one table; return the JSON record."""
    lines = ["| type | steps | microtorch steps/s | PyTorch steps/s | ratio | round by round |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    record = {}
    for kind in kinds:
        n = steps or STEPS[kind]
        runners = zoo_runners(kind, torch, batch)
        res = measure(runners, batch, 0, n, repeats, max(2, n // 4))
        mt = res[f"microtorch {kind}"]
        pt = res.get(f"PyTorch {kind}")
        paired = [a / b for a, b in zip(mt.rates, pt.rates)] if pt else []
        ratio = mt.median / pt.median if pt else None
        lines.append(f"| {kind} | {n} | {mt.median:,.1f} | {f'{pt.median:,.1f}' if pt else '—'} | "
                     f"{f'{ratio:.2f}x' if ratio else '—'} | "
                     f"{f'{min(paired):.2f}–{max(paired):.2f}' if paired else '—'} |")
        print(lines[-1], flush=True)
        record[kind] = {"steps": n, "microtorch": mt.to_json(), "torch": pt.to_json() if pt else None,
                        "ratio": ratio, "paired_ratios": paired,
                        "median_paired": statistics.median(paired) if paired else None}
    print("\n" + "\n".join(lines))
    return record


def profile_type(kind: str, steps: int, top: int = 25) -> str:
    """cProfile of `steps` microtorch training steps of `kind` at batch 32: time per source file,
    then the top functions by tottime."""
    (runner,) = zoo_runners(kind, None)
    runner.run(max(2, steps // 10))
    return profile_runner(runner, steps, f"microtorch {kind}, batch {BATCH}", top, scale=1e3, unit="ms")


ALL = TYPES
