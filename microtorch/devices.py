"""Devices: microtorch computes on the CPU only, with PyTorch's device objects and errors.

`device('cuda')` can be built, as in PyTorch, but putting a tensor or module on it raises the
error a CPU-only PyTorch raises: AssertionError("Torch not compiled with CUDA enabled"), never a
silent CPU run. Imports nothing of microtorch (tensor.py imports it).
"""
from __future__ import annotations

_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
    "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # the device types PyTorch's parser knows, in its order (for its error message)
_NO_CUDA = "Torch not compiled with CUDA enabled"


class device:
    """A device: device('cpu'), device('cuda:1'), device('cuda', 1); type and index (or None)."""

    __slots__ = ("type", "index")

    def __init__(self, type: "str | device", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        elif not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({_typename(type)})")
        else:
            type, index = _parse(type, index)
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.device' objects is not writable")

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        """Equal to a device of the same type and index; like PyTorch, never equal to a string."""
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self) -> "device":
        """`with device('cpu'):` is accepted; any other device raises at once."""
        _check_device(self)
        return self

    def __exit__(self, *exc) -> None:
        return None


def _typename(value) -> str:
    return type(value).__name__


def _parse(text: str, index: int | None) -> tuple[str, int | None]:
    kind, sep, number = text.partition(":")
    if kind not in _TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device string: {text}")
    if sep:
        if index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {text}")
        if not number.isdigit() or (len(number) > 1 and number[0] == "0"):
            raise RuntimeError(f"Invalid device string: '{text}'")
        index = int(number)
    if index is not None and index < 0:
        raise RuntimeError(f"Device index must not be negative")
    return kind, index


CPU = device("cpu")


def _check_device(dev) -> device:
    """The CPU device for None, 'cpu', 'cpu:0' or device('cpu'); PyTorch's error for any other:
    AssertionError for CUDA (as a CPU-only PyTorch raises), RuntimeError for the rest."""
    if dev is None:
        return CPU
    if not isinstance(dev, device):
        if isinstance(dev, str) and dev == "cpu":
            return CPU
        dev = device(dev)
    if dev.type == "cpu":
        return CPU
    if dev.type == "cuda":
        raise AssertionError(_NO_CUDA)
    if dev.type == "mps":
        raise RuntimeError("PyTorch is not linked with support for mps devices")
    raise RuntimeError(f"microtorch runs on the CPU only; device '{dev}' is not available")


def _is_device_like(value) -> bool:
    """Whether a positional argument of .to() names a device (a string, a device or an index)."""
    return isinstance(value, (str, device)) or (isinstance(value, int) and not isinstance(value, bool))


def _parse_to(args: tuple, kwargs: dict):
    """The dtype asked for by the arguments of Tensor.to / Module.to (None: keep it), after
    checking any device among them: to(dtype), to(device), to(device, dtype), to(tensor),
    with keywords dtype=, device=, non_blocking=, copy=, memory_format=."""
    unknown = set(kwargs) - {"dtype", "device", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"to() received an invalid combination of arguments - got unexpected keyword(s) {sorted(unknown)}")
    dtype = kwargs.get("dtype")
    _check_device(kwargs.get("device"))
    for arg in args:
        if arg is None:
            continue
        if _is_device_like(arg):
            _check_device(arg)
        elif hasattr(arg, "_array"):  # a tensor: its dtype (and its device, always the CPU)
            dtype = arg.dtype
        else:
            dtype = arg
    return dtype
