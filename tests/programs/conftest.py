"""Short programs in the style of the Zero to Hero series, run end to end on microtorch (and,
where it is importable, on PyTorch from the same source). Each takes the library as arguments."""
from pathlib import Path

import pytest

NAMES = Path(__file__).resolve().parents[2] / "data" / "names.txt"


@pytest.fixture(scope="session")
def words():
    """The first 2,000 names of the repository's own list: enough to learn from, quick to run."""
    return NAMES.read_text().split()[:2000]


@pytest.fixture(scope="session")
def pt():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # several threads on this shared 2-core machine are 25x slower
    return torch
