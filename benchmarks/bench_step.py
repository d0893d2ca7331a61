"""Training-step speed: microtorch against the hand-written numpy floor and PyTorch eager.

    python -m benchmarks.bench_step [--quick] [--sweep] [--json PATH] [--steps N]
                                    [--repeats R] [--threads T] [--no-torch] [--profile [N]]

Forms timed (each one training loop of makemore's BatchNorm MLP, float32, SGD):
  floor         the hand-written numpy forward and backward (benchmarks/numpy_floor.py)
  (a) lecture   the lecture's code as written for PyTorch, run on microtorch and on PyTorch
  (b) modules   nn.Sequential + fused BatchNorm1d/cross_entropy + optim.SGD, on both

The code of (a) and (b) is written once, taking the library (`torch`, `F`) as arguments, so
microtorch and PyTorch run the same source. The forms run interleaved in one process
(A B C D, A B C D, ...); steps/s is the median of the repeats, with min and max.
"""
from __future__ import annotations

import os
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _early_threads(argv: list[str]) -> int:
    """The --threads value (default 1), read before numpy is imported."""
    for i, arg in enumerate(argv):
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
    return 1


if __name__ == "__main__":  # pin the BLAS/OpenMP pools before numpy loads them
    _n_threads = str(_early_threads(sys.argv[1:]))
    for _var in _THREAD_VARS:
        os.environ[_var] = _n_threads
    if not __package__:  # run as a script: make the repository importable
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import cProfile  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any, Callable, Iterator  # noqa: E402

import numpy as np  # noqa: E402

import microtorch  # noqa: E402
import microtorch.nn.functional as mF  # noqa: E402
from benchmarks.numpy_floor import FloorTrainer  # noqa: E402
from makemore.data import DEFAULT_DATA_PATH, build_arrays, build_vocab, load_words, split_words  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
REFERENCE_NAMES = REPO.parent / "shared" / "reference" / "names.txt"
DEFAULT_JSON = REPO / "benchmarks" / "results" / "latest.json"
SEED = 2147483647
N_EMBD, BLOCK_SIZE, BATCH, HIDDEN = 10, 3, 32, 200
SWEEP_BATCHES = (32, 256, 1024, 4096)
SWEEP_HIDDENS = (200, 1600)

# the targets: (numerator, denominator, minimum ratio)
TARGETS = (
    ("microtorch (b)", "floor", 0.8),
    ("microtorch (b)", "PyTorch (b)", 1.9),
    ("microtorch (a)", "floor", 0.5),
    ("microtorch (a)", "PyTorch (a)", 1.25),
)
SWEEP_TARGET = (4096, 1600, 0.8)  # batch, hidden, min ratio microtorch (b) / PyTorch (b)


# ----------------------------------------------------------------------------
# the two forms, written once for any library with PyTorch's API

def lecture_init(torch: ModuleType, g: Any, vocab_size: int, n_embd: int, n_hidden: int, block_size: int) -> dict:
    """The lecture's parameters and running statistics, by name."""
    P = {
        "C": torch.randn((vocab_size, n_embd), generator=g),
        "W1": torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / ((n_embd * block_size) ** 0.5),
        "W2": torch.randn((n_hidden, vocab_size), generator=g) * 0.01,
        "b2": torch.randn(vocab_size, generator=g) * 0,
        "bngain": torch.ones((1, n_hidden)),
        "bnbias": torch.zeros((1, n_hidden)),
        "bnmean_running": torch.zeros((1, n_hidden)),
        "bnstd_running": torch.ones((1, n_hidden)),
    }
    for name in ("C", "W1", "W2", "b2", "bngain", "bnbias"):
        P[name].requires_grad = True
    return P


def lecture_parameters(P: dict) -> list:
    """The trainable tensors, in the lecture's order."""
    return [P["C"], P["W1"], P["W2"], P["b2"], P["bngain"], P["bnbias"]]


def lecture_forward(torch: ModuleType, F: ModuleType, P: dict, Xb: Any, Yb: Any) -> Any:
    """The lecture's forward pass (BatchNorm composed from mean/std ops); updates the running stats."""
    C, W1, W2, b2, bngain, bnbias = lecture_parameters(P)
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hpreact = embcat @ W1
    bnmeani = hpreact.mean(0, keepdim=True)
    bnstdi = hpreact.std(0, keepdim=True)
    hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
    with torch.no_grad():
        P["bnmean_running"] = 0.999 * P["bnmean_running"] + 0.001 * bnmeani
        P["bnstd_running"] = 0.999 * P["bnstd_running"] + 0.001 * bnstdi
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    return F.cross_entropy(logits, Yb)


def lecture_train(torch: ModuleType, F: ModuleType, P: dict, Xtr: Any, Ytr: Any, steps: int,
                  batch_size: int, g: Any, start: int = 0) -> Any:
    """The lecture's training loop for `steps` steps from step `start`; returns the last loss."""
    parameters = lecture_parameters(P)
    loss = None
    for i in range(start, start + steps):
        ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
        Xb, Yb = Xtr[ix], Ytr[ix]
        loss = lecture_forward(torch, F, P, Xb, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 100000 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
    return loss


def modules_init(torch: ModuleType, vocab_size: int, n_embd: int, n_hidden: int, block_size: int) -> Any:
    """makemore's MLP from nn modules (fused BatchNorm1d)."""
    nn = torch.nn
    return nn.Sequential(
        nn.Embedding(vocab_size, n_embd), nn.Flatten(),
        nn.Linear(n_embd * block_size, n_hidden, bias=False), nn.BatchNorm1d(n_hidden), nn.Tanh(),
        nn.Linear(n_hidden, vocab_size),
    )


def modules_train(torch: ModuleType, F: ModuleType, model: Any, opt: Any, Xtr: Any, Ytr: Any, steps: int,
                  batch_size: int, g: Any) -> Any:
    """The nn-module training loop with optim.SGD for `steps` steps; returns the last loss."""
    loss = None
    for _ in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
        Xb, Yb = Xtr[ix], Ytr[ix]
        logits = model(Xb)
        loss = F.cross_entropy(logits, Yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return loss


# ----------------------------------------------------------------------------
# runners: one object per (form, library), each with run(steps)

@dataclass
class Runner:
    """A named training loop; run(steps) trains that many steps; dtypes() lists the parameters' dtypes."""
    name: str
    run: Callable[[int], Any]
    dtypes: Callable[[], set[str]]


def load_training_arrays() -> tuple[np.ndarray, np.ndarray, int, Path]:
    """Xtr, Ytr (int64), the vocabulary size, and the word list used (the reference one if present)."""
    path = REFERENCE_NAMES if REFERENCE_NAMES.exists() else DEFAULT_DATA_PATH
    words = load_words(path)
    vocab = build_vocab(words)
    train_words, _, _ = split_words(words)
    Xtr, Ytr = build_arrays(train_words, vocab, BLOCK_SIZE)
    return Xtr, Ytr, len(vocab), path


def floor_runner(Xtr: np.ndarray, Ytr: np.ndarray, vocab_size: int, batch: int, hidden: int) -> Runner:
    """The numpy floor."""
    trainer = FloorTrainer(Xtr, Ytr, batch_size=batch, n_hidden=hidden, n_embd=N_EMBD, vocab_size=vocab_size, seed=SEED)
    return Runner("floor", trainer.train, lambda: {str(a.dtype) for a in trainer.params.trainable().values()})


def library_runners(torch: ModuleType, label: str, Xtr: np.ndarray, Ytr: np.ndarray, vocab_size: int,
                    batch: int, hidden: int, forms: str = "ab") -> list[Runner]:
    """Form (a) and/or (b) on `torch` (microtorch or PyTorch), named '<label> (a)' / '<label> (b)'."""
    F = torch.nn.functional
    X, Y = torch.tensor(Xtr), torch.tensor(Ytr)
    runners = []
    if "a" in forms:
        g_a = torch.Generator().manual_seed(SEED)
        P = lecture_init(torch, g_a, vocab_size, N_EMBD, hidden, BLOCK_SIZE)
        step = [0]

        def run_a(steps: int) -> Any:
            loss = lecture_train(torch, F, P, X, Y, steps, batch, g_a, start=step[0])
            step[0] += steps
            return loss

        runners.append(Runner(f"{label} (a)", run_a, lambda: {_dtype_name(p.dtype) for p in lecture_parameters(P)}))
    if "b" in forms:
        torch.manual_seed(SEED)
        g_b = torch.Generator().manual_seed(SEED)
        model = modules_init(torch, vocab_size, N_EMBD, hidden, BLOCK_SIZE)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        runners.append(Runner(
            f"{label} (b)",
            lambda steps: modules_train(torch, F, model, opt, X, Y, steps, batch, g_b),
            lambda: {_dtype_name(p.dtype) for p in model.parameters()},
        ))
    return runners


def _dtype_name(dtype: Any) -> str:
    """'float32' for numpy's and PyTorch's float32 alike."""
    return str(dtype).removeprefix("torch.")


def import_torch(threads: int) -> ModuleType | None:
    """PyTorch with `threads` intra-op threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


# ----------------------------------------------------------------------------
# timing

@dataclass
class Measurement:
    """Steps/s of each repeat of one runner at one size, and the process's CPU time / wall time
    in each (below 1 with one thread: the process waited for the CPU, the machine was busy)."""
    name: str
    batch: int
    hidden: int
    steps: int
    rates: list[float] = field(default_factory=list)
    cpu_share: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    def to_json(self) -> dict:
        return {"form": self.name, "batch": self.batch, "hidden": self.hidden, "steps": self.steps,
                "steps_per_s": self.rates, "median": self.median, "min": min(self.rates), "max": max(self.rates),
                "cpu_share": self.cpu_share}


def measure(runners: list[Runner], batch: int, hidden: int, steps: int, repeats: int, warmup: int) -> dict[str, Measurement]:
    """Warm each runner up, then time `repeats` rounds of `steps` steps, interleaved (ABC ABC ...)."""
    for r in runners:
        r.run(warmup)
        if r.dtypes() != {"float32"}:
            raise RuntimeError(f"{r.name}: parameters are {sorted(r.dtypes())} after warm-up, expected float32")
    results = {r.name: Measurement(r.name, batch, hidden, steps) for r in runners}
    for _ in range(repeats):
        for r in runners:
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            r.run(steps)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            results[r.name].rates.append(steps / wall)
            results[r.name].cpu_share.append(cpu / wall)
    return results


def ratio(results: dict[str, Measurement], num: str, den: str) -> float | None:
    """median(num) / median(den), or None when either was not measured."""
    if num in results and den in results:
        return results[num].median / results[den].median
    return None


def paired_ratios(results: dict[str, Measurement], num: str, den: str) -> list[float]:
    """num / den round by round: the two ran back to back, so a slow spell of the machine cancels."""
    if num in results and den in results:
        return [a / b for a, b in zip(results[num].rates, results[den].rates)]
    return []


def busy_note(results: dict[str, Measurement]) -> str | None:
    """A warning when the process got markedly less than a whole CPU while timed (one thread)."""
    shares = [s for m in results.values() for s in m.cpu_share]
    lowest = min(shares, default=1.0)
    if lowest < 0.95:
        return (f"note: in some repeats the process got only {lowest:.0%} of a CPU (median "
                f"{statistics.median(shares):.0%}): the machine is busy; trust ratios over steps/s, "
                "and the per-round ratios' spread")
    return None


def sweep_steps(steps: int, batch: int, hidden: int) -> int:
    """Fewer steps at larger sizes: the work per step grows about as batch * hidden."""
    return max(5, min(steps, steps * BATCH * HIDDEN // (batch * hidden)))


# ----------------------------------------------------------------------------
# environment and reporting

def blas_info() -> list[dict]:
    """What threadpoolctl sees (library, kernel architecture, version, threads), or [] without it."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "architecture", "version", "num_threads", "threading_layer")
    return [{k: info[k] for k in keys if k in info} for info in threadpool_info()]


@contextlib.contextmanager
def limit_threads(threads: int) -> Iterator[None]:
    """Cap the BLAS/OpenMP pools at `threads` for the block (threadpoolctl, if installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=threads):
        yield


def environment(threads: int, torch: ModuleType | None) -> dict:
    """The facts a reader needs to reproduce or compare a run."""
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "commit": commit,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": _cpu_name(),
        "numpy": np.__version__,
        "microtorch": microtorch.__version__,
        "torch": torch.__version__ if torch else None,
        "threads": threads,
        "env": {k: os.environ.get(k) for k in (*_THREAD_VARS, "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
        "blas": blas_info(),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}x"


def main_table(results: dict[str, Measurement]) -> str:
    """The markdown table of the batch-32 run: steps/s, min-max, ratio vs floor and vs PyTorch (same form)."""
    lines = ["| form | steps/s (median) | min–max | vs floor | vs PyTorch (same form) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, m in results.items():
        vs_floor = None if name == "floor" else ratio(results, name, "floor")
        vs_torch = ratio(results, name, name.replace("microtorch", "PyTorch")) if name.startswith("microtorch") else None
        lines.append(f"| {name} | {m.median:,.0f} | {min(m.rates):,.0f}–{max(m.rates):,.0f} "
                     f"| {_fmt_ratio(vs_floor)} | {_fmt_ratio(vs_torch)} |")
    return "\n".join(lines)


def target_lines(results: dict[str, Measurement]) -> list[str]:
    """One line per target of the issue: the measured ratio, the target, met or not."""
    lines = []
    for num, den, goal in TARGETS:
        r = ratio(results, num, den)
        verdict = "not measured" if r is None else ("met" if r >= goal else "NOT met")
        paired = paired_ratios(results, num, den)
        spread = (f"; round by round {min(paired):.2f}–{max(paired):.2f}, median {statistics.median(paired):.2f}"
                  if paired else "")
        lines.append(f"- {num} / {den}: {_fmt_ratio(r)} (target >= {goal}x): {verdict}{spread}")
    return lines


def sweep_table(sweep: list[dict[str, Measurement]]) -> str:
    """The markdown table of the sweep: steps/s of floor, microtorch (b), PyTorch (b), and the ratios."""
    lines = ["| batch | hidden | steps | floor | microtorch (b) | PyTorch (b) | mt/floor | mt/PyTorch |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for res in sweep:
        m = res["microtorch (b)"]
        cells = [f"{res[k].median:,.1f}" if k in res else "—" for k in ("floor", "microtorch (b)", "PyTorch (b)")]
        lines.append(f"| {m.batch} | {m.hidden} | {m.steps} | " + " | ".join(cells)
                     + f" | {_fmt_ratio(ratio(res, 'microtorch (b)', 'floor'))}"
                     + f" | {_fmt_ratio(ratio(res, 'microtorch (b)', 'PyTorch (b)'))} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# the command

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_step", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny step counts and a small sweep: a smoke test, not a measurement")
    p.add_argument("--sweep", action="store_true", help="also time batch 32..4096 x hidden 200..1600 (floor, (b), PyTorch (b))")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write the results (default {DEFAULT_JSON.relative_to(REPO)})")
    p.add_argument("--steps", type=int, default=None, help="steps per repeat at batch 32 (default 2000; 20 with --quick)")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per form (default 7; 2 with --quick)")
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/PyTorch threads (default 1)")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it is installed")
    p.add_argument("--profile", type=int, nargs="?", const=2000, default=None, metavar="N",
                   help="instead of timing, run microtorch (b) under cProfile for N steps (default 2000) and print the top functions")
    p.add_argument("--type", default=None, metavar="T",
                   help="time makemore's model type T (bigram, mlp, wavenet, rnn, gru, bow, transformer, or all) on "
                        "microtorch against its torch.nn twin instead (benchmarks/bench_zoo.py); with --profile, profile it")
    return p.parse_args(argv)


def profile(steps: int, top: int = 30) -> str:
    """cProfile of `steps` steps of microtorch form (b) at batch 32: time per source file, then the
    top functions by tottime (numpy's C calls made with operators, like @, count in their caller)."""
    Xtr, Ytr, vocab_size, _ = load_training_arrays()
    (runner,) = library_runners(microtorch, "microtorch", Xtr, Ytr, vocab_size, BATCH, HIDDEN, forms="b")
    runner.run(min(steps, 200))
    return profile_runner(runner, steps, f"microtorch (b), batch {BATCH}, hidden {HIDDEN}", top)


def profile_runner(runner: Runner, steps: int, what: str, top: int = 30, scale: float = 1e6, unit: str = "us") -> str:
    """cProfile of runner.run(steps): the time per source file as a markdown table (per step in
    `unit`, `scale` per second), then the top functions by tottime."""
    prof = cProfile.Profile()
    prof.runcall(runner.run, steps)
    stats = pstats.Stats(prof, stream=(out := io.StringIO()))
    total = stats.total_tt
    lines = [f"cProfile: {what}, {steps} steps, {total:.3f} s profiled ({scale * total / steps:.2f} {unit}/step under "
             "the profiler)", "", f"| where | tottime s | share | {unit}/step |", "| --- | ---: | ---: | ---: |"]
    for where, tt in sorted(_time_by_file(stats).items(), key=lambda kv: -kv[1]):
        lines.append(f"| {where} | {tt:.3f} | {tt / total:.0%} | {scale * tt / steps:.2f} |")
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return "\n".join(lines) + "\n" + out.getvalue()


def _time_by_file(stats: pstats.Stats) -> dict[str, float]:
    """Total tottime per source file (relative to the repository), C built-ins as one group."""
    by_file: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        path = Path(filename)
        if filename.startswith("~") or not path.is_absolute():
            where = "C built-ins (numpy reductions, etc.)"
        elif path.is_relative_to(REPO):
            where = str(path.relative_to(REPO))
        else:
            where = f"{path.parent.name}/{path.name} (outside the repository)"
        by_file[where] = by_file.get(where, 0.0) + tottime
    return by_file


def run(args: argparse.Namespace) -> dict:
    """Time the forms at batch 32 (and the sweep if asked); print the tables; return the JSON record."""
    steps = args.steps or (20 if args.quick else 2000)
    repeats = args.repeats or (2 if args.quick else 7)
    warmup = max(2, steps // 4)
    torch = None if args.no_torch else import_torch(args.threads)
    Xtr, Ytr, vocab_size, data_path = load_training_arrays()
    env = environment(args.threads, torch)
    print(f"# makemore training step: batch {BATCH}, hidden {HIDDEN}, embedding {N_EMBD}, block {BLOCK_SIZE}, float32")
    print(f"data {data_path} ({len(Xtr):,} training examples); threads {args.threads}; "
          f"numpy {env['numpy']}; torch {env['torch'] or '—'}; {env['processor']}")
    for info in env["blas"]:
        print(f"blas: {info}")
    if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
        print("note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set; they can slow numpy (see benchmarks/README.md)")
    if torch is None:
        print("PyTorch " + ("skipped (--no-torch)" if args.no_torch else "not installed: skipped"))

    def runners_at(batch: int, hidden: int, forms: str) -> list[Runner]:
        rs = [floor_runner(Xtr, Ytr, vocab_size, batch, hidden)]
        rs += library_runners(microtorch, "microtorch", Xtr, Ytr, vocab_size, batch, hidden, forms)
        if torch is not None:
            rs += library_runners(torch, "PyTorch", Xtr, Ytr, vocab_size, batch, hidden, forms)
        return rs

    print(f"\n## {repeats} repeats x {steps} steps, interleaved, after {warmup} warm-up steps\n")
    results = measure(runners_at(BATCH, HIDDEN, "ab"), BATCH, HIDDEN, steps, repeats, warmup)
    print(main_table(results))
    print("\nTargets (ratios of medians, same run):")
    print("\n".join(target_lines(results)))
    if args.threads == 1 and (note := busy_note(results)):
        print(note)
    record = {"environment": env, "config": {"steps": steps, "repeats": repeats, "warmup": warmup, "quick": args.quick},
              "results": [m.to_json() for m in results.values()],
              "ratios": {f"{num} / {den}": ratio(results, num, den) for num, den, _ in TARGETS},
              "paired_ratios": {f"{num} / {den}": paired_ratios(results, num, den) for num, den, _ in TARGETS},
              "sweep": []}

    if args.sweep:
        batches, hiddens = ((32, 256), (200,)) if args.quick else (SWEEP_BATCHES, SWEEP_HIDDENS)
        sweep_repeats = min(repeats, 3)
        sweep = []
        for hidden in hiddens:
            for batch in batches:
                n = sweep_steps(steps, batch, hidden)
                sweep.append(measure(runners_at(batch, hidden, "b"), batch, hidden, n, sweep_repeats, max(2, n // 4)))
        print(f"\n## Sweep: microtorch (b) vs floor and PyTorch (b), steps/s, median of {sweep_repeats}\n")
        print(sweep_table(sweep))
        b, h, goal = SWEEP_TARGET
        for res in sweep:
            if res["microtorch (b)"].batch == b and res["microtorch (b)"].hidden == h:
                r = ratio(res, "microtorch (b)", "PyTorch (b)")
                verdict = "not measured" if r is None else ("met" if r >= goal else "NOT met")
                print(f"\n- microtorch (b) / PyTorch (b) at batch {b}, hidden {h}: {_fmt_ratio(r)} (target >= {goal}x): {verdict}")
        record["sweep"] = [m.to_json() for res in sweep for m in res.values()]
    return record


def _zoo(args: argparse.Namespace) -> int:
    """--type: the model zoo's benchmark (or profile)."""
    from benchmarks import bench_zoo
    kinds = list(bench_zoo.ALL) if args.type == "all" else [args.type]
    if any(k not in bench_zoo.ALL for k in kinds):
        raise SystemExit(f"error: --type must be one of {', '.join(bench_zoo.ALL)} or all, got {args.type!r}")
    if args.profile is not None:
        print(bench_zoo.profile_type(kinds[0], args.profile if args.profile != 2000 else bench_zoo.STEPS[kinds[0]]))
        return 0
    torch = None if args.no_torch else import_torch(args.threads)
    print(f"# makemore types, batch {BATCH}, threads {args.threads}, torch {torch.__version__ if torch else '—'}")
    record = bench_zoo.run_zoo(kinds, torch, args.steps if not args.quick else 5, args.repeats or (2 if args.quick else 5))
    path = args.json.with_name(f"zoo-{args.type}.json") if args.json == DEFAULT_JSON else args.json
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"environment": environment(args.threads, torch), "types": record}, indent=2) + "\n")
    print(f"\nresults written to {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with limit_threads(args.threads):
        if args.type is not None:
            return _zoo(args)
        if args.profile is not None:
            print(profile(args.profile))
            return 0
        record = run(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
