"""The modules of makemore.py's transformer and the GPT lecture: LayerNorm, GELU, SiLU,
Softmax/LogSoftmax, ModuleDict, ParameterList/ParameterDict, nn.utils.clip_grad_norm_, and the
Module features those programs use (apply, register_buffer, to(device), parameter counts)."""
import math

import numpy as np
import pytest

import microtorch as torch
import microtorch.nn as nn
import microtorch.nn.functional as F


def rng(seed=5):
    return np.random.default_rng(seed)


def test_layer_norm_module_parameters_forward_and_repr():
    ln = nn.LayerNorm(4)
    assert ln.normalized_shape == (4,) and ln.weight.tolist() == [1.0] * 4 and ln.bias.tolist() == [0.0] * 4
    assert list(ln.state_dict()) == ["weight", "bias"]
    x = torch.tensor(rng().standard_normal((2, 3, 4)).astype(np.float32))
    out = ln(x)
    np.testing.assert_allclose(out.detach().numpy().mean(-1), 0, atol=1e-6)
    np.testing.assert_allclose(out.detach().numpy().var(-1), 1, rtol=1e-3)
    # reprs as torch 2.13 prints them
    assert repr(ln) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(nn.LayerNorm((3, 4), bias=False)) == "LayerNorm((3, 4), eps=1e-05, elementwise_affine=True, bias=False)"
    plain = nn.LayerNorm(4, elementwise_affine=False)
    assert repr(plain) == "LayerNorm((4,), eps=1e-05, elementwise_affine=False, bias=False)"
    assert plain.weight is None and list(plain.parameters()) == []
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert nn.LayerNorm(3, dtype=torch.float64).weight.dtype == torch.float64


def test_activation_modules_and_reprs():
    x = torch.tensor([-1.0, 0.5, 2.0])
    np.testing.assert_allclose(nn.GELU()(x).numpy(), F.gelu(x).numpy())
    np.testing.assert_allclose(nn.GELU("tanh")(x).numpy(), F.gelu(x, approximate="tanh").numpy())
    np.testing.assert_allclose(nn.SiLU()(x).numpy(), F.silu(x).numpy())
    np.testing.assert_allclose(nn.Softmax(dim=-1)(x).numpy(), F.softmax(x, -1).numpy())
    np.testing.assert_allclose(nn.LogSoftmax(0)(x).numpy(), F.log_softmax(x, 0).numpy())
    # as torch 2.13 prints them
    assert [repr(m) for m in (nn.GELU(), nn.GELU("tanh"), nn.SiLU(), nn.Softmax(dim=-1), nn.LogSoftmax(1), nn.Softmax())] == [
        "GELU(approximate='none')", "GELU(approximate='tanh')", "SiLU()", "Softmax(dim=-1)", "LogSoftmax(dim=1)", "Softmax(dim=None)",
    ]


def test_module_dict_registers_and_behaves_like_a_dict():
    d = nn.ModuleDict(dict(c_fc=nn.Linear(2, 3), act=nn.GELU(), c_proj=nn.Linear(3, 2)))
    assert list(d) == ["c_fc", "act", "c_proj"] and len(d) == 3 and "act" in d
    assert d.c_fc is d["c_fc"]  # attribute access, as makemore.py's `m.c_proj(m.act(m.c_fc(x)))`
    assert [name for name, _ in d.named_parameters()] == ["c_fc.weight", "c_fc.bias", "c_proj.weight", "c_proj.bias"]
    assert repr(nn.ModuleDict(dict(a=nn.Linear(2, 3), b=nn.ReLU()))) == (
        "ModuleDict(\n  (a): Linear(in_features=2, out_features=3, bias=True)\n  (b): ReLU()\n)"
    )
    d["extra"] = nn.Tanh()
    assert list(d.keys()) == ["c_fc", "act", "c_proj", "extra"]
    popped = d.pop("act")
    assert isinstance(popped, nn.GELU) and "act" not in d and not hasattr(d, "act")
    d.update([("z", nn.ReLU())])
    assert list(d) == ["c_fc", "c_proj", "extra", "z"]
    with pytest.raises(ValueError, match="has length 1; 2 is required"):
        d.update([("only",)])
    d.clear()
    assert len(d) == 0 and list(d.parameters()) == []


def test_parameter_list_and_dict():
    pl = nn.ParameterList([nn.Parameter(torch.ones(3)), torch.ones(2, 2, dtype=torch.float64)])
    assert isinstance(pl[1], nn.Parameter) and len(pl) == 2 and pl[-1] is pl[1]
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    # as torch 2.13 prints them
    assert repr(pl) == (
        "ParameterList(\n    (0): Parameter containing: [torch.float32 of size 3]\n"
        "    (1): Parameter containing: [torch.float64 of size 2x2]\n)"
    )
    pl.append(nn.Parameter(torch.zeros(1)))
    assert len(list(pl.parameters())) == 3
    with pytest.raises(IndexError):
        pl[3]
    pd = nn.ParameterDict({"x": nn.Parameter(torch.ones(3))})
    assert repr(pd) == "ParameterDict(  (x): Parameter containing: [torch.FloatTensor of size 3])"
    pd["y"] = torch.zeros(2)
    assert isinstance(pd["y"], nn.Parameter) and list(pd) == ["x", "y"] and "y" in pd
    assert [n for n, _ in pd.named_parameters()] == ["x", "y"]
    del pd["x"]
    assert list(pd.keys()) == ["y"] and len(list(pd.parameters())) == 1

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = nn.ParameterList([nn.Parameter(torch.ones(2)) for _ in range(2)])

    assert list(Holder().state_dict()) == ["ps.0", "ps.1"]


def test_reprs_match_torch():
    torch_ = pytest.importorskip("torch")
    pairs = [
        (nn.LayerNorm(64), torch_.nn.LayerNorm(64)),
        (nn.LayerNorm((2, 3), eps=1e-6, bias=False), torch_.nn.LayerNorm((2, 3), eps=1e-6, bias=False)),
        (nn.ModuleDict({"ln": nn.LayerNorm(3), "h": nn.ModuleList([nn.Linear(3, 3)])}),
         torch_.nn.ModuleDict({"ln": torch_.nn.LayerNorm(3), "h": torch_.nn.ModuleList([torch_.nn.Linear(3, 3)])})),
        (nn.ParameterList([torch.ones(2, 3)]), torch_.nn.ParameterList([torch_.ones(2, 3)])),
        (nn.ParameterDict({"a": torch.ones(2), "b": torch.ones(1, dtype=torch.float64)}),
         torch_.nn.ParameterDict({"a": torch_.ones(2), "b": torch_.ones(1, dtype=torch_.float64)})),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_clip_grad_norm_known_answer_and_against_torch():
    a = nn.Parameter(torch.tensor([3.0, 0.0]))
    b = nn.Parameter(torch.tensor([[4.0]]))
    a.grad, b.grad = torch.tensor([3.0, 0.0]), torch.tensor([[4.0]])
    total = nn.utils.clip_grad_norm_([a, b], 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.numpy(), [3 / (5 + 1e-6), 0], rtol=1e-6)
    assert nn.utils.clip_grad_norm_(a, 10.0).item() == pytest.approx(0.6, rel=1e-5)  # below max_norm: unchanged
    np.testing.assert_allclose(a.grad.numpy(), [3 / (5 + 1e-6), 0], rtol=1e-6)
    nn.utils.clip_grad_value_([b], 0.1)
    assert b.grad.tolist() == [[pytest.approx(0.1)]]
    torch_ = pytest.importorskip("torch")
    grads = [rng().standard_normal(s).astype(np.float32) * 3 for s in [(3, 4), (5,), (2, 2)]]
    for norm_type in (2.0, 1.0, math.inf):
        ours = [nn.Parameter(torch.zeros(g.shape)) for g in grads]
        theirs = [torch_.nn.Parameter(torch_.zeros(g.shape)) for g in grads]
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = torch.tensor(g.copy()), torch_.tensor(g.copy())
        t_a = nn.utils.clip_grad_norm_(ours, 2.0, norm_type=norm_type)
        t_b = torch_.nn.utils.clip_grad_norm_(theirs, 2.0, norm_type=norm_type)
        assert t_a.item() == pytest.approx(t_b.item(), rel=1e-5)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(torch.ones(2))
    p.grad = torch.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_module_features_the_gpt_programs_use():
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.key = nn.Linear(4, 2, bias=False)
            self.register_buffer("tril", torch.tensor(np.tril(np.ones((3, 3), dtype=np.float32))))
            self.register_buffer("scratch", torch.zeros(1), persistent=False)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.Sequential(Head(), nn.LayerNorm(4))
            self.ln_f = nn.LayerNorm(4)
            self.apply(self._init)

        def _init(self, module):
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            elif isinstance(module, nn.LayerNorm):
                nn.init.zeros_(module.bias)
                nn.init.ones_(module.weight)

    m = Model()
    assert sum(p.numel() for p in m.parameters()) == 8 + 8 + 8
    assert list(m.state_dict()) == ["blocks.0.tril", "blocks.0.key.weight", "blocks.1.weight", "blocks.1.bias", "ln_f.weight", "ln_f.bias"]
    assert m.to("cpu") is m and m.to(torch.device("cpu")) is m
    assert abs(float(m.blocks[0].key.weight.std())) < 0.1
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        m.to("cuda")
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        m.cuda()
    m.zero_grad(set_to_none=True)
    assert m.eval().training is False and m.blocks[1].training is False and m.train().ln_f.training
