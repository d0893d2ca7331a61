"""Parameter and Module: the building blocks of neural networks, as in torch.nn.

A Module keeps its parameters, buffers and submodules in insertion-ordered dicts
(`_parameters`, `_buffers`, `_modules`) and, for fast attribute reads, also as plain
instance attributes: `self.weight` is an ordinary `__dict__` hit, and `__call__` is just
`forward`. `__setattr__` / `__delattr__` keep both places in step.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Callable, Iterator

import numpy as np

from ..creation import as_tensor
from ..tensor import Tensor, _bump, _dtype, _new


class Parameter(Tensor):
    """A Tensor that a Module registers as one of its parameters. Shares the data's storage."""

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.empty(0, dtype=np.float32)
        else:
            array = as_tensor(data)._array  # a Tensor's or an ndarray's own storage
        self._array = array
        self._grad = None
        self._requires_grad = False
        self._node = None
        self._retains_grad = False
        self._vc = None
        self._base = None
        if requires_grad:
            self.requires_grad = True  # refuses integer data, as in PyTorch

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: the keys it could not match."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def _check_device(device) -> None:
    if device not in (None, "cpu"):
        raise RuntimeError(f"microtorch runs on the CPU only, got device {device!r}")


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (for nesting module reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class of all layers and models: subclass it, assign layers and Parameters in
    __init__ (after super().__init__()), and define forward()."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ registration
    def _forget(self, name: str, keep: dict | None = None) -> None:
        """Drop `name` from the instance attributes and from the registries other than `keep`
        (where a reassignment keeps its place in the order)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def _check_initialised(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call")

    def _check_new_name(self, name, registry: dict, what: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{what} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{what} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{what} name can\'t be empty string ""')
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None: a declared but absent parameter, like a disabled bias)."""
        self._check_initialised("parameter")
        self._check_new_name(name, self._parameters, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' (microtorch.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created explicitly.")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (e.g. running statistics).
        Persistent buffers are saved in the state_dict."""
        self._check_initialised("buffer")
        self._check_new_name(name, self._buffers, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (microtorch Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a child module under `name`."""
        self._check_initialised("module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new_name(name, self._modules, "module")
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        registries = "_parameters" in self.__dict__
        if isinstance(value, Parameter):
            self._check_initialised("parameters")
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self._check_initialised("module")
            self._forget(name, keep=self._modules)
            self.add_module(name, value)
        elif registries and name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' (microtorch.nn.Parameter or None expected)")
            self.register_parameter(name, None)
        elif registries and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' (microtorch.nn.Module or None expected)")
            self._modules[name] = None
            object.__setattr__(self, name, None)
        elif registries and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (microtorch.Tensor or None expected)")
            self._buffers[name] = value
            object.__setattr__(self, name, value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        """Reached only when normal lookup fails: look in the registries (if they were
        edited directly), else raise AttributeError."""
        attributes = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in attributes and name in attributes[registry]:
                return attributes[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        registries = "_parameters" in self.__dict__
        if registries and (name in self._parameters or name in self._buffers or name in self._modules):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    # ------------------------------------------------------------------ traversal
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """(name, module) for each direct child, skipping None and repeats."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        """Each direct child module once."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """(dotted name, module) for this module ('' names itself) and every descendant."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                child_prefix = prefix + ("." if prefix else "") + name
                yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        """This module and every descendant, each once."""
        for _, module in self.named_modules():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, tensor) for the entries of one registry of this module (and its descendants)."""
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        seen = set()
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ('0.weight', ...), each shared parameter once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters of this module and (with recurse) of all its descendants, in registration order."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, persistent or not, e.g. ('1.running_mean', ...)."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers of this module and (with recurse) of all its descendants."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call fn on every descendant (children first), then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (True) or evaluation mode (False) here and in all descendants."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: the same as train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set requires_grad on every parameter (False freezes the module); returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (default), or to zeros in place."""
        for param in self.parameters():
            if param._grad is None:
                continue
            if set_to_none:
                param._grad = None
            else:
                param._grad[...] = 0

    # ------------------------------------------------------------------ dtype
    def _tensors(self) -> Iterator[Tensor]:
        """Every parameter and buffer of the module tree, each once."""
        yield from self.parameters()
        yield from self.buffers()

    def _cast_floats(self, dtype: np.dtype) -> "Module":
        """Convert floating-point parameters, their gradients and floating buffers to dtype, in
        place: each tensor object is kept (like PyTorch's `param.data = ...`)."""
        for t in self._tensors():
            if t._array.dtype.kind == "f":
                t._array = t._array.astype(dtype, copy=False)
                if t._grad is not None:
                    t._grad = t._grad.astype(dtype, copy=False)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """to(dtype), to(tensor) or to('cpu'): convert floating parameters and buffers in place."""
        dtype, device = kwargs.get("dtype"), kwargs.get("device")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str) or arg is None:
                device = arg
            else:
                dtype = arg
        _check_device(device)
        if dtype is None:
            return self
        dtype = _dtype(dtype)
        if dtype.kind not in "fc":
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}")
        return self._cast_floats(dtype)

    def float(self) -> "Module":
        """Floating parameters and buffers to float32, in place; returns self."""
        return self._cast_floats(np.dtype(np.float32))

    def double(self) -> "Module":
        """Floating parameters and buffers to float64, in place; returns self."""
        return self._cast_floats(np.dtype(np.float64))

    def half(self) -> "Module":
        """Floating parameters and buffers to float16, in place; returns self."""
        return self._cast_floats(np.dtype(np.float16))

    def cpu(self) -> "Module":
        """Returns self: everything already lives on the CPU."""
        return self

    # ------------------------------------------------------------------ checkpoints
    def _local_state(self) -> dict:
        """This module's own state entries: parameters, then persistent buffers (no None)."""
        state = {name: p for name, p in self._parameters.items() if p is not None}
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                state[name] = buffer
        return state

    def state_dict(self, *, destination: dict | None = None, prefix: str = "", keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name ('0.weight', '1.running_mean', ...).

        The values are Tensors holding copies (a checkpoint does not change as training goes
        on); keep_vars=True gives the module's own tensors instead.
        """
        if destination is None:
            destination = OrderedDict()
        for name, t in self._local_state().items():
            destination[prefix + name] = t if keep_vars else _new(t._array.copy())
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> _IncompatibleKeys:
        """Copy values from state_dict into the parameters and buffers, in place, keeping
        their dtypes. With strict (the default) every key must match; a shape mismatch is
        always an error. Raises RuntimeError listing every problem; returns
        (missing_keys, unexpected_keys)."""
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        for key, target in own.items():
            if key in state_dict:
                error = _copy_from_checkpoint(key, target, state_dict[key])
                if error:
                    errors.append(error)
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(type(self).__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in repr (override in layers)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return self._get_name() + "(" + body + ")"


def _copy_from_checkpoint(key: str, target: Tensor, value) -> str | None:
    """Copy one checkpoint value into target's array in place; an error message, or None."""
    if not isinstance(value, Tensor):
        return f'While copying the parameter named "{key}", expected microtorch.Tensor from checkpoint but received {type(value)}'
    if value.shape != target.shape:
        return (
            f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} from checkpoint, "
            f"the shape in current model is {tuple(target.shape)}."
        )
    target._array[...] = value._array
    _bump(target)
    return None
