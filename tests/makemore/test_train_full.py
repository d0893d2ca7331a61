"""The full default run, 200,000 steps (about a minute each): `python -m pytest -m slow`.

Not in the default suite. The lecture's BatchNorm MLP reaches train 2.0668 / val 2.1048 on the
reference list; the issue asks for val <= 2.12 with the running BatchNorm statistics.
"""
import json
from pathlib import Path

import pytest

from makemore.train import main

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "names.txt"


def _full_run(tmp_path: Path, data: Path | None) -> dict:
    out = tmp_path / "run"
    argv = ["--out", str(out), "--samples", "0"] + ([] if data is None else ["--data", str(data)])
    assert main(argv) == 0
    return json.loads((out / "summary.json").read_text())


@pytest.mark.slow
def test_default_run_on_the_reference_list_matches_the_lecture(tmp_path):
    if not REFERENCE.exists():
        pytest.skip(f"reference list not found at {REFERENCE}")
    summary = _full_run(tmp_path, REFERENCE)
    assert summary["steps"] == 200_000
    assert abs(summary["initial_loss_measured"] - 3.2958) < 0.1
    assert summary["val_loss"] <= 2.12
    assert summary["train_loss"] <= 2.09
    assert abs(summary["val_loss_calibrated"] - summary["val_loss"]) < 0.01


@pytest.mark.slow
def test_default_run_on_the_shipped_list(tmp_path):
    summary = _full_run(tmp_path, None)
    assert summary["steps"] == 200_000
    assert summary["val_loss"] <= 2.13
    assert summary["train_loss"] < summary["val_loss"]
