"""Tensors print as PyTorch prints them: known strings (taken from torch 2.13, run everywhere) and
direct comparisons with torch's repr over many tensors (skipped without torch)."""
import math

import numpy as np
import pytest

import microtorch as torch
from microtorch.printing import Size


@pytest.fixture(autouse=True)
def default_print_options():
    torch.set_printoptions(profile="default")
    yield
    torch.set_printoptions(profile="default")


def _cases():
    """(name, numpy array) pairs: shapes, magnitudes, special values and dtypes."""
    r = np.random.default_rng(0)
    f32 = np.float32
    return [
        ("0-d float", np.array(3.0, dtype=f32)),
        ("0-d fraction", np.array(-0.12345, dtype=f32)),
        ("0-d int", np.array(7)),
        ("0-d bool", np.array(True)),
        ("1-d ints as floats", np.array([1.0, 2.0, 3.0], dtype=f32)),
        ("1-d mixed", np.array([1.5, -2.0, 0.25], dtype=f32)),
        ("1-d randn", r.standard_normal(10).astype(f32)),
        ("1-d long line", r.standard_normal(30).astype(f32)),
        ("2-d randn", r.standard_normal((4, 5)).astype(f32)),
        ("3-d randn", r.standard_normal((2, 3, 4)).astype(f32)),
        ("4-d", r.standard_normal((2, 2, 2, 2)).astype(f32)),
        ("large 1-d", np.arange(2000, dtype=f32)),
        ("large 2-d", r.standard_normal((40, 50)).astype(f32)),
        ("large 3-d", r.standard_normal((11, 10, 12)).astype(f32)),
        ("large ints", np.arange(1200).reshape(30, 40)),
        ("tiny", np.array([1e-5, 2e-5, 3e-6], dtype=f32)),
        ("huge", np.array([1e9, 2.5e10, 3.0], dtype=f32)),
        ("wide range", np.array([1.0, 2000.0, 0.5], dtype=f32)),
        ("nan inf", np.array([np.nan, np.inf, -np.inf, 1.5], dtype=f32)),
        ("nan only", np.array([np.nan, np.nan], dtype=f32)),
        ("zeros", np.zeros((2, 3), dtype=f32)),
        ("negative zero", np.array([-0.0, 1.0], dtype=f32)),
        ("ints", np.array([[1, -20, 300], [4, 5, 6]])),
        ("bools", np.array([[True, False], [False, True]])),
        ("float64", r.standard_normal(5)),
        ("float64 ints", np.array([1.0, 2.0])),
        ("float16", np.array([1.5, 2.25], dtype=np.float16)),
        ("int32", np.array([1, 2], dtype=np.int32)),
        ("uint8", np.array([1, 255], dtype=np.uint8)),
        ("int8", np.array([-1, 2], dtype=np.int8)),
        ("empty float", np.zeros(0, dtype=f32)),
        ("empty 2-d", np.zeros((0, 3), dtype=f32)),
        ("empty int", np.zeros(0, dtype=np.int64)),
        ("empty float64 2-d", np.zeros((2, 0))),
        ("sci 2-d", (r.standard_normal((3, 3)) * 1e-6).astype(f32)),
        ("big ints as floats", np.array([123456789.0, 1.0], dtype=f32)),
        ("rounding", np.array([0.00005, 0.99995, 1.00005], dtype=f32)),
        ("complex", np.array([1.5 + 2j, 3 - 1j], dtype=np.complex64)),
        ("complex128", np.array([[1 + 0j, -2.25j]])),
    ]


KNOWN = {  # str(torch.tensor(...)) in torch 2.13 for the arrays of _cases()
    "0-d float": "tensor(3.)",
    "0-d fraction": "tensor(-0.1235)",
    "0-d int": "tensor(7)",
    "0-d bool": "tensor(True)",
    "1-d ints as floats": "tensor([1., 2., 3.])",
    "1-d mixed": "tensor([ 1.5000, -2.0000,  0.2500])",
    "tiny": "tensor([1.0000e-05, 2.0000e-05, 3.0000e-06])",
    "huge": "tensor([1.0000e+09, 2.5000e+10, 3.0000e+00])",
    "nan inf": "tensor([   nan,    inf,   -inf, 1.5000])",
    "negative zero": "tensor([-0., 1.])",
    "ints": "tensor([[  1, -20, 300],\n        [  4,   5,   6]])",
    "bools": "tensor([[ True, False],\n        [False,  True]])",
    "float64 ints": "tensor([1., 2.], dtype=torch.float64)",
    "int32": "tensor([1, 2], dtype=torch.int32)",
    "empty float": "tensor([])",
    "complex": "tensor([1.5000+2.j, 3.0000-1.j])",
    "empty 2-d": "tensor([], size=(0, 3))",
    "empty int": "tensor([], dtype=torch.int64)",
    # max/min of the shown nonzero values is 1999 > 1000: scientific notation, as in PyTorch
    "large 1-d": "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])",
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_strings_from_pytorch(name):
    array = dict(_cases())[name]
    assert repr(torch.tensor(array)) == KNOWN[name]


def test_known_summary_of_a_large_int_tensor():
    # str(torch.arange(1200).reshape(30, 40)) in torch 2.13
    assert repr(torch.arange(1200).view(30, 40)) == (
        "tensor([[   0,    1,    2,  ...,   37,   38,   39],\n"
        "        [  40,   41,   42,  ...,   77,   78,   79],\n"
        "        [  80,   81,   82,  ...,  117,  118,  119],\n"
        "        ...,\n"
        "        [1080, 1081, 1082,  ..., 1117, 1118, 1119],\n"
        "        [1120, 1121, 1122,  ..., 1157, 1158, 1159],\n"
        "        [1160, 1161, 1162,  ..., 1197, 1198, 1199]])"
    )


@pytest.mark.parametrize("name, array", _cases(), ids=[n for n, _ in _cases()])
def test_same_string_as_torch(name, array):
    torch_ = pytest.importorskip("torch")
    assert repr(torch.tensor(array)) == repr(torch_.tensor(array))


def test_grad_suffixes_and_line_width():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2).startswith("tensor([2., 4.], grad_fn=<")
    long = torch.tensor(np.linspace(0, 1, 60).reshape(6, 10), dtype=torch.float64, requires_grad=True)
    text = repr(long)
    assert text.endswith("dtype=torch.float64, requires_grad=True)")
    assert max(len(line) for line in text.split("\n")) <= 80
    assert repr(torch.nn.Parameter(torch.ones(2))) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"


def test_suffixes_match_torch():
    torch_ = pytest.importorskip("torch")
    a = (np.arange(77) - 38).reshape(7, 11) / 8  # exact in binary: sums agree to the last bit
    for dtype in (np.float32, np.float64):
        ours = torch.tensor(a.astype(dtype), requires_grad=True)
        theirs = torch_.tensor(a.astype(dtype), requires_grad=True)
        assert repr(ours) == repr(theirs)
        ours_op = (ours * 2).sum(1)
        theirs_op = (theirs * 2).sum(1)
        # the grad_fn names differ (microtorch names its own backward nodes); the layout must not
        assert repr(ours_op).split("grad_fn=")[0] == repr(theirs_op).split("grad_fn=")[0]


def test_print_options_match_torch():
    torch_ = pytest.importorskip("torch")
    r = np.random.default_rng(3)
    arrays = [r.standard_normal((5, 7)).astype(np.float32), np.arange(30), r.standard_normal(12).astype(np.float32) * 1e3]
    settings = [
        dict(precision=2), dict(threshold=5), dict(edgeitems=1, threshold=10), dict(linewidth=40),
        dict(sci_mode=True), dict(sci_mode=False), dict(profile="short"), dict(profile="full"), dict(edgeitems=0, threshold=3),
    ]
    for options in settings:
        torch.set_printoptions(**options)
        torch_.set_printoptions(**options)
        try:
            for a in arrays:
                assert repr(torch.tensor(a)) == repr(torch_.tensor(a)), options
        finally:
            torch.set_printoptions(profile="default")
            torch_.set_printoptions(profile="default")


def test_set_printoptions_and_context():
    torch.set_printoptions(precision=2)
    assert repr(torch.tensor([1.12345])) == "tensor([1.12])"
    torch.set_printoptions(threshold=5)
    assert repr(torch.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    torch.set_printoptions(profile="default")
    assert repr(torch.tensor([1.12345])) == "tensor([1.1235])"
    with torch.printoptions(precision=1):
        assert repr(torch.tensor([1.25, 2.0])) == "tensor([1.2, 2.0])"
    assert torch.get_printoptions()["precision"] == 4
    with pytest.raises(ValueError, match="profile"):
        torch.set_printoptions(profile="tiny")


def test_size_is_a_tuple_that_prints_like_pytorch():
    t = torch.zeros(3, 4)
    assert isinstance(t.shape, tuple) and isinstance(t.shape, Size) and isinstance(t.size(), Size)
    assert repr(t.shape) == "torch.Size([3, 4])" and str(t.size()) == "torch.Size([3, 4])"
    assert repr(torch.tensor(1.0).shape) == "torch.Size([])"
    assert t.shape == (3, 4) and t.shape != [3, 4] and t.shape.numel() == 12
    assert t.shape[1:] == Size([4]) and isinstance(t.shape[1:], Size) and t.shape[0] == 3
    assert isinstance(t.shape + (5,), Size) and (2,) + t.shape == (2, 3, 4) and isinstance((2,) + t.shape, Size)
    b, c = t.shape
    assert (b, c) == (3, 4) and math.prod(t.shape) == 12 and torch.zeros(t.shape).shape == (3, 4)


def test_size_matches_torch():
    torch_ = pytest.importorskip("torch")
    for shape in [(), (3,), (2, 3, 4)]:
        assert repr(torch.zeros(shape).shape) == repr(torch_.zeros(shape).shape)
    assert repr(torch.zeros(2, 3).shape[1:]) == repr(torch_.zeros(2, 3).shape[1:])
