"""dtypes.py: PyTorch's dtype objects (torch.float32 prints as PyTorch prints it), accepted
wherever a dtype is, next to the numpy dtypes and Python types that keep being accepted."""
import copy
import io
import pickle

import numpy as np
import pytest

import microtorch as torch
from microtorch.dtypes import _dtype

# name -> (is_floating_point, is_complex, is_signed, itemsize): from torch 2.13
KNOWN = {
    "float32": (True, False, True, 4),
    "float64": (True, False, True, 8),
    "float16": (True, False, True, 2),
    "int8": (False, False, True, 1),
    "uint8": (False, False, False, 1),
    "int16": (False, False, True, 2),
    "int32": (False, False, True, 4),
    "int64": (False, False, True, 8),
    "bool": (False, False, False, 1),
}
ALIASES = {"float": "float32", "double": "float64", "half": "float16", "short": "int16", "int": "int32", "long": "int64"}


def _attributes(d) -> tuple:
    return d.is_floating_point, d.is_complex, d.is_signed, d.itemsize


@pytest.mark.parametrize("name", KNOWN)
def test_repr_str_and_attributes(name, capsys):
    d = getattr(torch, name)
    assert isinstance(d, torch.dtype)
    assert repr(d) == str(d) == f"torch.{name}"
    assert _attributes(d) == KNOWN[name]
    print(torch.zeros(1, dtype=d).dtype)
    assert capsys.readouterr().out == f"torch.{name}\n"


def test_aliases_are_the_same_objects():
    for alias, name in ALIASES.items():
        assert getattr(torch, alias) is getattr(torch, name)
    assert torch.bool is torch.tensor([True]).dtype


@pytest.mark.parametrize("name", [*KNOWN, *ALIASES])
def test_against_torch(name):
    pt = pytest.importorskip("torch")
    ours, theirs = getattr(torch, name), getattr(pt, name)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert _attributes(ours) == _attributes(theirs)


def test_tensor_dtype_is_the_dtype_object():
    x = torch.ones(2)
    assert x.dtype is torch.float32 and x.dtype == torch.float32 and x.dtype != torch.float64
    assert torch.arange(3).dtype is torch.int64 and (x > 0).dtype is torch.bool
    assert torch.zeros(2, dtype=x.dtype).dtype is torch.float32
    assert torch.from_numpy(np.zeros(2, dtype=">f8")).dtype is torch.float64  # byte order is numpy's business
    assert x.type() == "torch.FloatTensor" and torch.arange(2).type() == "torch.LongTensor"


def test_equality_and_hash_with_numpy_dtypes():
    # a dtype object equals (and hashes as) its numpy dtype, so old code comparing with numpy keeps working
    assert torch.float32 == np.float32 and np.float32 == torch.float32
    assert torch.float32 == np.dtype("float32") and np.dtype("float32") == torch.float32
    assert torch.int64 != np.int32 and torch.float32 != np.dtype("float64")
    assert hash(torch.float32) == hash(np.dtype(np.float32))
    assert {np.dtype(np.int64): "long"}[torch.int64] == "long" and {torch.int64: "long"}[np.dtype(np.int64)] == "long"
    assert len({torch.float32, torch.float, torch.ones(1).dtype}) == 1
    # as in PyTorch, a string or a Python type is not a dtype
    assert torch.float32 != "float32" and torch.float64 != float and torch.int64 != int
    with pytest.raises(TypeError):
        torch.float32 < torch.float64  # noqa: B015


def test_numpy_accepts_the_dtype_objects():
    assert np.dtype(torch.float16) == np.float16 and np.zeros(2, dtype=torch.int64).dtype == np.int64
    assert np.arange(3).astype(torch.float32).dtype == np.float32
    assert np.asarray([1, 0], dtype=torch.bool).dtype == np.bool_
    assert _dtype(torch.float64) is np.dtype(np.float64) and _dtype(np.float64) is np.dtype(np.float64)


def test_immutable_and_singletons_through_pickle_copy_and_save():
    with pytest.raises(AttributeError):
        torch.float32.itemsize = 8
    for d in (torch.float32, torch.int64, torch.bool, torch.uint8):
        assert pickle.loads(pickle.dumps(d)) is d and copy.copy(d) is d and copy.deepcopy(d) is d
    buffer = io.BytesIO()
    torch.save({"dtype": torch.float16, "more": [torch.bool, torch.long]}, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer)
    assert loaded["dtype"] is torch.float16 and loaded["more"][0] is torch.bool and loaded["more"][1] is torch.int64


# every factory, with dtype objects, numpy dtypes and Python types; expected results from torch 2.13
# (PyTorch's dtype=float is torch.float64, int is torch.int64, bool is torch.bool)
FACTORIES = {
    "zeros": lambda d: torch.zeros(2, dtype=d),
    "ones": lambda d: torch.ones(2, dtype=d),
    "full": lambda d: torch.full((2,), 1, dtype=d),
    "empty": lambda d: torch.empty(2, dtype=d),
    "eye": lambda d: torch.eye(2, dtype=d),
    "tensor": lambda d: torch.tensor([1, 0], dtype=d),
    "as_tensor": lambda d: torch.as_tensor([1, 0], dtype=d),
    "as_tensor_of_tensor": lambda d: torch.as_tensor(torch.ones(2), dtype=d),
    "zeros_like": lambda d: torch.zeros_like(torch.ones(2), dtype=d),
    "ones_like": lambda d: torch.ones_like(torch.ones(2), dtype=d),
    "full_like": lambda d: torch.full_like(torch.ones(2), 1, dtype=d),
    "empty_like": lambda d: torch.empty_like(torch.ones(2), dtype=d),
    "to": lambda d: torch.ones(2).to(d),
    "to_keyword": lambda d: torch.ones(2).to(dtype=d),
    "to_device_and_dtype": lambda d: torch.ones(2).to("cpu", d),
}
NUMERIC = {  # factories without a bool kernel in PyTorch
    "arange": lambda d: torch.arange(3, dtype=d),
    "linspace": lambda d: torch.linspace(0, 1, 3, dtype=d),
    "randint": lambda d: torch.randint(0, 3, (2,), dtype=d),
    "randperm": lambda d: torch.randperm(3, dtype=d),
    "randint_like": lambda d: torch.randint_like(torch.ones(2), 3, dtype=d),
}
FLOATING = {  # factories with floating kernels only
    "rand": lambda d: torch.rand(2, dtype=d),
    "randn": lambda d: torch.randn(2, dtype=d),
    "rand_like": lambda d: torch.rand_like(torch.ones(2), dtype=d),
    "randn_like": lambda d: torch.randn_like(torch.ones(2), dtype=d),
}
WANT = [  # (dtype argument, the result's dtype)
    (torch.float64, "torch.float64"), (torch.float16, "torch.float16"), (torch.int32, "torch.int32"),
    (torch.uint8, "torch.uint8"), (torch.bool, "torch.bool"), (torch.long, "torch.int64"),
    (np.float64, "torch.float64"), (np.dtype("int32"), "torch.int32"), (np.bool_, "torch.bool"), (np.int16, "torch.int16"),
    (float, "torch.float64"), (int, "torch.int64"), (bool, "torch.bool"),
]


@pytest.mark.parametrize("name", [*FACTORIES, *NUMERIC, *FLOATING])
def test_factories_accept_every_kind_of_dtype(name):
    make = {**FACTORIES, **NUMERIC, **FLOATING}[name]
    tried = 0
    for argument, want in WANT:
        if name in NUMERIC and want == "torch.bool" or name in FLOATING and want not in ("torch.float64", "torch.float16"):
            continue
        out = make(argument)
        assert str(out.dtype) == want, (name, argument)
        assert out.dtype is getattr(torch, want.removeprefix("torch."))
        tried += 1
    assert tried >= 3


def test_type_and_module_casts():
    x = torch.ones(2, requires_grad=True)
    y = x.type(torch.float64)
    assert y.dtype is torch.float64 and y.grad_fn is not None
    assert x.to(torch.zeros(1, dtype=torch.float16)).dtype is torch.float16
    layer = torch.nn.Linear(2, 3).to(torch.float64)
    assert layer.weight.dtype is torch.float64 and layer.bias.dtype is torch.double
    assert layer.to(np.float32).weight.dtype is torch.float32 and layer.half().weight.dtype is torch.float16


# (a, b) -> the dtype of a + b, from torch 2.13
PROMOTIONS = [
    (lambda: torch.tensor([1, 2]) + torch.tensor([1.5]), "torch.float32"),
    (lambda: torch.tensor([1, 2]) + 1.5, "torch.float32"),
    (lambda: torch.tensor([True]) + 1, "torch.int64"),
    (lambda: torch.tensor([1], dtype=torch.int8) + torch.tensor([1], dtype=torch.uint8), "torch.int16"),
    (lambda: torch.ones(2, dtype=torch.float16) + torch.ones(2), "torch.float32"),
    (lambda: torch.ones(2) + torch.tensor(1.0, dtype=torch.float64), "torch.float32"),
    (lambda: torch.tensor([1, 2], dtype=torch.int32) / torch.tensor([2], dtype=torch.int32), "torch.float32"),
    (lambda: torch.ones(2) > 0, "torch.bool"),
    (lambda: torch.tensor([1, 2], dtype=torch.int32).sum(), "torch.int64"),
    (lambda: torch.tensor([1.0, 2.0]).argmax(), "torch.int64"),
]


def test_promotion_results_print_as_pytorch():
    for make, want in PROMOTIONS:
        assert repr(make().dtype) == want


def test_printing_suffix_matches_the_dtype():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert repr(x).endswith(f"dtype={x.dtype})")
    assert repr(torch.tensor([1, 2], dtype=torch.int32)) == "tensor([1, 2], dtype=torch.int32)"
