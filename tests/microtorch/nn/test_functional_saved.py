"""The fused ops' saved tensors: changing one in place between forward and backward raises
PyTorch's error (version counters), and where PyTorch's op raises too, the same case raises in
torch (the oracle, when importable). dropout saves only its mask: changing its input is allowed."""
import numpy as np
import pytest

import microtorch
import microtorch.nn.functional as F

VERSION_ERROR = "modified by an inplace operation"


def _inputs(lib, shapes, seed=0):
    """Non-leaf float32 tensors (leaf * 1.0) of the given shapes, so that add_ is allowed (float32
    and 4-d for attention: torch's fused CPU kernel, which saves q, k, v and the output; its
    float64 math path scales q first and so does not save it)."""
    rng = np.random.default_rng(seed)
    leaves = [lib.tensor(rng.standard_normal(s), dtype=lib.float32, requires_grad=True) for s in shapes]
    return [t * 1.0 for t in leaves]


CASES = {
    # name: (shapes, op(F, *tensors), index of the tensor changed in place, raises)
    "gelu": ([(3, 4)], lambda F, x: F.gelu(x), 0, True),
    "gelu_tanh": ([(3, 4)], lambda F, x: F.gelu(x, approximate="tanh"), 0, True),
    "silu": ([(3, 4)], lambda F, x: F.silu(x), 0, True),
    "layer_norm_input": ([(2, 3, 5), (5,), (5,)], lambda F, x, w, b: F.layer_norm(x, (5,), w, b), 0, True),
    "layer_norm_weight": ([(2, 3, 5), (5,), (5,)], lambda F, x, w, b: F.layer_norm(x, (5,), w, b), 1, True),
    "layer_norm_bias": ([(2, 3, 5), (5,), (5,)], lambda F, x, w, b: F.layer_norm(x, (5,), w, b), 2, True),
    "sdpa_query": ([(2, 2, 4, 8), (2, 2, 5, 8), (2, 2, 5, 8)], lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v), 0, True),
    "sdpa_value": ([(2, 2, 4, 8), (2, 2, 5, 8), (2, 2, 5, 8)], lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v), 2, True),
    "dropout": ([(50,)], lambda F, x: F.dropout(x, 0.5), 0, False),
}


def _run(lib, F_, name):
    shapes, op, changed, _ = CASES[name]
    tensors = _inputs(lib, shapes)
    out = op(F_, *tensors)
    tensors[changed].add_(1.0)
    out.sum().backward()


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_change_of_a_saved_tensor_raises(name):
    if CASES[name][3]:
        with pytest.raises(RuntimeError, match=VERSION_ERROR):
            _run(microtorch, F, name)
    else:
        _run(microtorch, F, name)  # nothing saved but the op's own state: no error


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_agrees(name):
    torch = pytest.importorskip("torch")
    if CASES[name][3]:
        with pytest.raises(RuntimeError, match=VERSION_ERROR):
            _run(torch, torch.nn.functional, name)
    else:
        _run(torch, torch.nn.functional, name)


def test_sdpa_saves_its_output():
    q, k, v = _inputs(microtorch, [(2, 2, 4, 8), (2, 2, 5, 8), (2, 2, 5, 8)])
    out = F.scaled_dot_product_attention(q, k, v)
    out.mul_(2.0)
    with pytest.raises(RuntimeError, match=VERSION_ERROR):
        out.sum().backward()
