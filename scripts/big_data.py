"""The 2,000,000-name run of issue 15: train and evaluate on a synthetic list, report peak memory and time.

    python scripts/big_data.py                      # 2,000,000 names, 2,000 steps
    python scripts/big_data.py --names 500000 --steps 1000

The names are the shipped list's with random suffixes of 0-4 letters drawn from a-z (so the
vocabulary stays 27 characters and the lengths stay name-like). Runs `python -m makemore.train`
on them (a new run, then --eval-only on it) as child processes and prints, for each, the wall
time and the peak resident memory (ru_maxrss of the child), next to the size of the data.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from makemore.data import load_words  # noqa: E402


def make_names(n: int, seed: int = 0) -> list[str]:
    """n names: shipped names with a random a-z suffix of 0-4 letters."""
    rng = np.random.default_rng(seed)
    base = load_words()
    picks = rng.integers(0, len(base), n)
    lengths = rng.integers(0, 5, n)
    letters = rng.integers(0, 26, int(lengths.sum())).astype(np.uint8) + ord("a")
    suffixes = letters.tobytes().decode("ascii")
    out, at = [], 0
    for i, k in zip(picks, lengths):
        out.append(base[i] + suffixes[at:at + k])
        at += k
    return out


def run(command: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of a child process."""
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({r.returncode}):\n{r.stderr}")
    if peak <= before:  # ru_maxrss of all children so far: run each measurement in a fresh process
        print("warning: the peak is that of an earlier child", file=sys.stderr)
    return seconds, peak / 1024, r.stdout


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--names", type=int, default=2_000_000)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one)")
    args = p.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="big-data-"))
    work.mkdir(parents=True, exist_ok=True)
    data, run_dir = work / "names.txt", work / "run"
    t0 = time.perf_counter()
    names = make_names(args.names)
    data.write_text("\n".join(names) + "\n")
    print(f"{len(names):,} names ({len(set(names)):,} distinct, {sum(map(len, names)) + len(names):,} examples), "
          f"{data.stat().st_size / 1e6:.1f} MB, written in {time.perf_counter() - t0:.1f} s", flush=True)
    del names
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    train = [sys.executable, "-m", "makemore.train", "--data", str(data), "--out", str(run_dir),
             "--steps", str(args.steps), "--samples", "5", "--test", "--checkpoint-every", str(args.steps)]
    seconds, peak, out = run(train, env)
    summary = json.loads((run_dir / "summary.json").read_text())
    print(f"train ({args.steps} steps, final losses of all three splits, running and calibrated): {seconds:.1f} s, "
          f"peak RSS {peak:,.0f} MB; train {summary['train_loss']:.4f} val {summary['val_loss']:.4f} "
          f"test {summary['test_loss']:.4f}", flush=True)
    seconds, peak, out = run([sys.executable, "-m", "makemore.train", "--eval-only", str(run_dir), "--test"], env)
    print(f"--eval-only: {seconds:.1f} s, peak RSS {peak:,.0f} MB", flush=True)
    print(out.strip().splitlines()[-3:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
