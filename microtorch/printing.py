"""Tensors and shapes printed as PyTorch prints them, so a learner's screen matches the lecture's.

The rules (PyTorch's `_tensor_str`, re-derived here for numpy arrays):
- floats: one format for the whole tensor, chosen from its nonzero finite values: integers
  print as `1.`; otherwise `precision` decimals (4); scientific notation when
  max/min > 1000, max > 1e8 or min < 1e-4 (of the absolute values), or as set_printoptions says;
  every value is right-aligned to the widest;
- integers and bools print as Python prints them, right-aligned;
- more than `threshold` (1000) elements: only `edgeitems` (3) at each end of every dimension,
  with `...` between;
- rows wrap at `linewidth` (80) columns, continuation lines aligned under the first element;
- suffixes: `dtype=torch.float64` for dtypes other than float32, int64 and bool,
  `grad_fn=<...>` or `requires_grad=True`, `size=(...)` for empty tensors that are not 1-D.

Suffixes name the dtype as `torch.float64`, as PyTorch prints it: most users write
`import microtorch as torch`, and they compare with the lecture's screen.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math

import numpy as np

from .dtypes import _public


class Size(tuple):
    """A shape: a tuple of ints that prints as `torch.Size([3, 4])`, as in PyTorch."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "torch.Size([" + ", ".join(str(n) for n in self) + "])"

    __str__ = __repr__

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        return math.prod(self)

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other) -> "Size":
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other) -> "Size":
        return Size(tuple(other) + tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()
_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None) -> None:
    """Set how tensors print: digits after the point (4), the element count above which the
    output is summarised (1000), the items shown at each end when summarised (3), the line
    width (80), a profile ('default', 'short', 'full') and sci_mode (None: chosen per tensor).
    As in PyTorch, sci_mode is reset to None unless given."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"profile should be one of {', '.join(_PROFILES)}, got {profile!r}")
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options, as keywords for set_printoptions."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Change the print options inside a `with` block only."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# ---------------------------------------------------------------------- names
def _dtype_name(dtype) -> str:
    """'torch.float32' for a dtype (a dtype object or a numpy dtype), as PyTorch prints it."""
    return repr(_public(np.dtype(dtype)))


_LEGACY_TYPES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
    "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
}


def _type_name(t) -> str:
    """PyTorch's legacy type name of a tensor: 'torch.FloatTensor', 'torch.LongTensor', ..."""
    name = t._array.dtype.name
    return "torch." + _LEGACY_TYPES.get(name, name)


# ---------------------------------------------------------------------- values
class _Formatter:
    """One number format for all the (shown) values of a tensor, and the width to pad them to."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        precision = PRINT_OPTS.precision
        if not self.floating:
            self.width = max([1] + [len(str(v)) for v in values.reshape(-1).tolist()])
            return
        flat = values.reshape(-1)
        shown = flat[np.isfinite(flat) & (flat != 0)]
        if not shown.size:
            return
        magnitude = np.abs(shown).astype(np.float64)
        lo, hi = magnitude.min(), magnitude.max()
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
        else:
            self.sci_mode = bool(PRINT_OPTS.sci_mode)
        numbers = shown.tolist()
        if self.sci_mode:
            self.width = max(len(f"{v:.{precision}e}") for v in numbers)
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}") + 1 for v in numbers)
        else:
            self.width = max(len(f"{v:.{precision}f}") for v in numbers)

    def format(self, value) -> str:
        if self.floating:
            precision = PRINT_OPTS.precision
            if self.sci_mode:
                text = f"{value:{self.width}.{precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{precision}f}"
        else:
            text = str(value)
        return " " * (self.width - len(text)) + text


class _ComplexFormatter:
    """Complex values as PyTorch prints them: real and imaginary parts each with their own
    format, joined as `1.5000+2.j`."""

    def __init__(self, values: np.ndarray) -> None:
        self.real, self.imag = _Formatter(values.real), _Formatter(values.imag)
        self.width = self.real.width + self.imag.width + 1

    def format(self, value) -> str:
        value = complex(value)
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return self.real.format(value.real) + ("" if imag[0] in "+-" else "+") + imag


def _formatter(values: np.ndarray):
    return _ComplexFormatter(values) if values.dtype.kind == "c" else _Formatter(values)


def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements a summary shows (edgeitems at each end of every dimension), for the format."""
    edge = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if not edge:
        return a[(slice(0, 0),) * a.ndim]
    for axis in range(a.ndim):
        if a.shape[axis] > 2 * edge:
            a = np.concatenate([np.take(a, range(edge), axis=axis), np.take(a, range(a.shape[axis] - edge, a.shape[axis]), axis=axis)], axis=axis)
    return a


def _vector(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2)))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        items = [fmt.format(v) for v in a[:edge].tolist()] + [" ..."] + [fmt.format(v) for v in a[-edge:].tolist()]
    else:
        items = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    edge = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * edge:
        rows = [_nested(a[i], indent + 1, summarize, fmt) for i in range(edge)] + ["..."]
        rows += [_nested(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0] - edge, a.shape[0])]
    else:
        rows = [_nested(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _array_str(a: np.ndarray, indent: int) -> str:
    """The bracketed values of an array, as PyTorch lays them out."""
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    fmt = _formatter(_summarized(a) if summarize else a)
    return _nested(a, indent, summarize, fmt)


def _with_suffixes(text: str, suffixes: list, indent: int) -> str:
    """Append ', suffix' to the text, each on a new line when it would pass the line width."""
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(parts) + ")"


def _grad_fn_label(grad_fn) -> str:
    """The name printed in grad_fn=<...>: the grad_fn's name() if it has one, else the name
    tensor.py gives its backward closures."""
    name = getattr(grad_fn, "name", None)
    if callable(name):
        return name()
    from .tensor import _grad_fn_name  # at call time: tensor.py imports this module

    return _grad_fn_name(grad_fn)


_DEFAULT_DTYPES = ("float32", "complex64", "int64", "bool")  # complex64: the default complex dtype with float32


def tensor_repr(t) -> str:
    """`tensor([...], dtype=..., grad_fn=<...>)` for a microtorch Tensor, as PyTorch prints it."""
    a = t._array
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    name = a.dtype.name
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        if name != "float32":
            suffixes.append("dtype=" + _dtype_name(a.dtype))
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(a.shape)))
        if name not in _DEFAULT_DTYPES:
            suffixes.append("dtype=" + _dtype_name(a.dtype))
        body = _array_str(a, indent)
    grad_fn = t.grad_fn
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_label(grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)
