"""A non-editable install finds the shipped word list (package data): `python -m pytest -m slow`."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_non_editable_install_trains_on_the_shipped_list(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(REPO)], check=True, cwd=tmp_path)
    assert (target / "makemore" / "names.txt").is_file()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(target)}
    r = subprocess.run([sys.executable, "-m", "makemore.train", "--steps", "5", "--samples", "1", "--out",
                        str(tmp_path / "run")], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "vocabulary: 27 characters" in r.stdout and str(target / "makemore") in subprocess.run(
        [sys.executable, "-c", "import makemore.data as d; print(d.DEFAULT_DATA_PATH)"], cwd=tmp_path, env=env,
        capture_output=True, text=True).stdout
