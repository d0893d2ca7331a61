"""torch.cuda on a machine without CUDA, as a CPU-only PyTorch behaves: nothing is available,
seeding is a harmless no-op (scripts call it unconditionally), and anything that needs a GPU
raises PyTorch's AssertionError("Torch not compiled with CUDA enabled")."""
from __future__ import annotations

from .devices import _NO_CUDA


def is_available() -> bool:
    """False: microtorch has no CUDA."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """A no-op, as in PyTorch without CUDA (there is no CUDA generator to seed)."""


def manual_seed_all(seed: int) -> None:
    """A no-op, as in PyTorch without CUDA."""


def seed() -> None:
    """A no-op, as in PyTorch without CUDA."""


def seed_all() -> None:
    """A no-op, as in PyTorch without CUDA."""


def empty_cache() -> None:
    """A no-op: there is no CUDA memory to release (PyTorch's is a no-op without CUDA too)."""


def synchronize(device=None) -> None:
    """Raises, as in a CPU-only PyTorch: there is no CUDA device to wait for."""
    raise AssertionError(_NO_CUDA)


def current_device() -> int:
    raise AssertionError(_NO_CUDA)


def get_device_name(device=None) -> str:
    raise AssertionError(_NO_CUDA)


def set_device(device) -> None:
    raise AssertionError(_NO_CUDA)
