"""The kill trial of issue 15: a run checkpointing every step, killed with SIGKILL at random
moments, resumed every time, read all along; at the end it must equal the same run never killed.

    python scripts/kill_trial.py                 # 100 kills (about 5 minutes here)
    python scripts/kill_trial.py --kills 10 --out /tmp/trial

Each round starts `python -m makemore.train` (the first round a new run, then --resume), waits
a random 0.5-4 s (import, data, resume, then training with a save after every step) and kills
it with SIGKILL. Meanwhile reader threads load the checkpoint in a loop (makemore.checkpoint.
load_checkpoint, as sample and diagnose do) and, every few rounds, run `python -m makemore.sample`:
a reader must never see an error once a first checkpoint exists. After the kills the run is
resumed to its end and compared with a straight run of as many steps: the checkpoints' arrays
(weights, buffers, optimizer state, loss history, RNG state) and metrics.csv must be identical.
Prints one line per round and a summary; exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from makemore.checkpoint import CheckpointError, load_checkpoint  # noqa: E402
from makemore.data import load_words  # noqa: E402

MODEL = ["--n-embd", "4", "--n-hidden", "32", "--batch-size", "32", "--samples", "0", "--checkpoint-every", "1",
         "--log-every", "100000", "--lr-decay-at", "100000"]


class Readers:
    """Threads loading the checkpoint in a loop; they count loads and errors (after the first save)."""

    def __init__(self, run_dir: Path, threads: int = 2):
        self.run_dir, self.stop = run_dir, threading.Event()
        self.loads = self.errors = 0
        self.messages: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def loop(self) -> None:
        while not self.stop.is_set():
            if not (self.run_dir / "checkpoint.npz").exists():
                time.sleep(0.01)
                continue
            try:
                load_checkpoint(self.run_dir)
                with self.lock:
                    self.loads += 1
            except CheckpointError as e:
                with self.lock:
                    self.errors += 1
                    self.messages.append(str(e))

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def train_command(run_dir: Path, data: Path, first: bool, steps: int) -> list[str]:
    base = [sys.executable, "-m", "makemore.train"]
    if first:
        return [*base, "--data", str(data), "--out", str(run_dir), "--steps", str(steps), *MODEL]
    return [*base, "--resume", str(run_dir), "--checkpoint-every", "1", "--log-every", "100000"]  # session flags


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=100)
    p.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one, removed)")
    p.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    args = p.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="kill-trial-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "words.txt"
    data.write_text("\n".join(load_words()[:3000]) + "\n")
    run_dir, straight = work / "killed", work / "straight"
    for d in (run_dir, straight):
        shutil.rmtree(d, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}  # output up to the kill is kept
    rng = random.Random(args.seed)
    readers = Readers(run_dir)
    total_steps = 10_000_000  # never reached while killing; the end is set by the last resume
    failures, resumed, steps_seen, sample_runs, mid_save = [], 0, [], 0, 0
    t0 = time.perf_counter()
    for round_ in range(args.kills):
        before = load_checkpoint(run_dir).step if (run_dir / "checkpoint.npz").exists() else None
        child = subprocess.Popen(train_command(run_dir, data, before is None, total_steps), env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(rng.uniform(0.5, 4.0))
        child.send_signal(signal.SIGKILL)
        output = child.communicate()[0]
        if child.returncode != -signal.SIGKILL:
            failures.append(f"round {round_}: the trainer exited with {child.returncode} before the kill:\n{output}")
        if before is not None and "resuming" in output:
            resumed += 1
        try:
            after = load_checkpoint(run_dir).step
        except CheckpointError as e:
            failures.append(f"round {round_}: the checkpoint does not load after the kill: {e}")
            after = None
        if before is not None and after is not None and after < before:
            failures.append(f"round {round_}: the checkpoint went back from step {before} to {after}")
        if round_ % 10 == 5:  # a reader in its own process, as a user runs it during training
            sample_runs += 1
            r = subprocess.run([sys.executable, "-m", "makemore.sample", str(run_dir), "-n", "2"], env=env,
                               capture_output=True, text=True)
            if r.returncode != 0:
                failures.append(f"round {round_}: makemore.sample failed: {r.stderr.strip()}")
        torn = list(run_dir.glob(".checkpoint.npz.*.tmp"))  # the kill landed inside a save (before its rename)
        mid_save += bool(torn)
        steps_seen.append(after)
        print(f"round {round_ + 1:3d}: step {before} -> {after}" + ("  (resumed)" if "resuming" in output else "")
              + ("  (killed mid-save)" if torn else ""), flush=True)
    readers.close()
    final = load_checkpoint(run_dir).step
    finish = subprocess.run([sys.executable, "-m", "makemore.train", "--resume", str(run_dir), "--steps", str(final)],
                            env=env, capture_output=True, text=True)
    if finish.returncode != 0:
        failures.append(f"the final resume failed: {finish.stderr.strip()}")
    straight_cmd = [sys.executable, "-m", "makemore.train", "--data", str(data), "--out", str(straight),
                    "--steps", str(final), *MODEL]
    ok = subprocess.run(straight_cmd, env=env, capture_output=True, text=True)
    if ok.returncode != 0:
        failures.append(f"the straight run failed: {ok.stderr.strip()}")
    else:
        with np.load(run_dir / "checkpoint.npz") as a, np.load(straight / "checkpoint.npz") as b:
            differ = [k for k in a.files if k not in ("meta", "sha256") and not np.array_equal(a[k], b[k])]
        ca, cb = load_checkpoint(run_dir), load_checkpoint(straight)
        if differ or ca.rng_state != cb.rng_state or ca.step != cb.step:
            failures.append(f"the killed run differs from the straight run: {differ or 'rng state / step'}")
        if (run_dir / "metrics.csv").read_text() != (straight / "metrics.csv").read_text():
            failures.append("metrics.csv of the killed run differs from the straight run's")
    seconds = time.perf_counter() - t0
    print(f"\n{args.kills} SIGKILLs ({mid_save} inside a save, leaving its temporary file), {resumed} resumes "
          f"that got as far as 'resuming', final step {final}; "
          f"{readers.loads} checkpoint loads by reader threads with {readers.errors} errors, "
          f"{sample_runs} makemore.sample runs; killed run {'==' if not failures else 'vs'} straight run of "
          f"{final} steps; {seconds:.0f} s")
    for f in failures + readers.messages[:5]:
        print("FAIL:", f)
    if args.out is None and not failures:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures or readers.errors else 0


if __name__ == "__main__":
    sys.exit(main())
