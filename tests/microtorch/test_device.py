"""Devices: the CPU only, with PyTorch's device objects and the errors a CPU-only PyTorch raises
(messages taken from torch 2.13 CPU)."""
import pytest

import microtorch as torch
import microtorch.nn as nn
from microtorch.devices import _check_device

NO_CUDA = "^Torch not compiled with CUDA enabled$"


def test_device_objects():
    cpu = torch.device("cpu")
    assert repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu" and cpu.type == "cpu" and cpu.index is None
    assert cpu == torch.device("cpu") and hash(cpu) == hash(torch.device("cpu")) and cpu != torch.device("cpu:0")
    assert cpu != "cpu"  # as in PyTorch: a device never equals a string
    assert repr(torch.device("cpu:0")) == "device(type='cpu', index=0)"
    cuda = torch.device("cuda")  # constructible, as in PyTorch
    assert repr(cuda) == "device(type='cuda')" and repr(torch.device("cuda", 1)) == "device(type='cuda', index=1)"
    assert str(torch.device("cuda:1")) == "cuda:1" and torch.device(torch.device("cuda:2")).index == 2
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, .* device type at start of device string: foo"):
        torch.device("foo")
    with pytest.raises(RuntimeError, match="Invalid device string: 'cuda:-1'"):
        torch.device("cuda:-1")
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
        torch.device(0)
    with pytest.raises(AttributeError):
        cpu.type = "cuda"


def test_tensor_device_and_to():
    t = torch.ones(2)
    assert t.device == torch.device("cpu") and str(t.device) == "cpu" and t.device.type == "cpu" and not t.is_cuda
    assert t.to("cpu") is t and t.to(torch.device("cpu")) is t and t.cpu() is t and t.to(device="cpu") is t
    assert t.to("cpu", torch.float64).dtype == torch.float64 and t.to(torch.ones(1, dtype=torch.float64)).dtype == torch.float64
    copied = t.to("cpu", copy=True)
    assert copied is not t and copied.tolist() == t.tolist()
    for bad in ("cuda", "cuda:0", torch.device("cuda")):
        with pytest.raises(AssertionError, match=NO_CUDA):
            t.to(bad)
    with pytest.raises(AssertionError, match=NO_CUDA):
        t.to(device="cuda")
    with pytest.raises(AssertionError, match=NO_CUDA):
        t.cuda()
    with pytest.raises(RuntimeError, match="PyTorch is not linked with support for mps devices"):
        t.to("mps")
    with pytest.raises(TypeError, match="unexpected keyword"):
        t.to(devise="cpu")


def test_module_to_device():
    m = nn.Linear(2, 2)
    assert m.to("cpu") is m and m.to(torch.device("cpu"), torch.float64).weight.dtype == torch.float64
    with pytest.raises(AssertionError, match=NO_CUDA):
        m.to("cuda")
    with pytest.raises(AssertionError, match=NO_CUDA):
        nn.Linear(2, 2, device="cuda")
    assert nn.Linear(2, 2, device=torch.device("cpu")).weight.device == torch.device("cpu")


def test_check_device_for_factories():
    assert _check_device(None) == torch.device("cpu") and _check_device("cpu") == torch.device("cpu")
    assert _check_device(torch.device("cpu")) == torch.device("cpu") and _check_device("cpu:0") == torch.device("cpu")
    with pytest.raises(AssertionError, match=NO_CUDA):
        _check_device("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        _check_device("meta")


def test_cuda_and_backends_modules():
    assert torch.cuda.is_available() is False and torch.cuda.device_count() == 0
    torch.cuda.manual_seed(1)
    torch.cuda.manual_seed_all(1)
    torch.cuda.empty_cache()
    with pytest.raises(AssertionError, match=NO_CUDA):  # as in PyTorch without CUDA
        torch.cuda.synchronize()
    with pytest.raises(AssertionError, match=NO_CUDA):
        torch.cuda.current_device()
    assert torch.backends.mps.is_available() is False and torch.backends.cudnn.is_available() is False
    torch.backends.cudnn.benchmark = True  # a flag scripts set; harmless
    device = "cuda" if torch.cuda.is_available() else "cpu"  # the GPT lecture's line
    assert torch.ones(1).to(device).device == torch.device("cpu")
    with torch.device("cpu"):
        pass


def test_matches_torch():
    torch_ = pytest.importorskip("torch")
    for spec in ["cpu", "cuda", "cuda:1", "cpu:0"]:
        assert repr(torch.device(spec)) == repr(torch_.device(spec)) and str(torch.device(spec)) == str(torch_.device(spec))
    for call in (lambda lib: lib.ones(2).to("cuda"), lambda lib: lib.cuda.synchronize(), lambda lib: lib.nn.Linear(2, 2).to("cuda")):
        with pytest.raises(AssertionError) as ours:
            call(torch)
        with pytest.raises(AssertionError) as theirs:
            call(torch_)
        assert str(ours.value) == str(theirs.value)
    assert (torch.device("cpu") == "cpu") == (torch_.device("cpu") == "cpu")


def test_every_factory_takes_device_and_checks_it_with_the_devices_module():
    """The plain and the random factories accept device= (makemore.py: torch.zeros((B, T, T), device=x.device),
    arange(..., device=device)), and all check it with devices._check_device: the same errors everywhere."""
    import microtorch.tensor
    assert not hasattr(microtorch.tensor, "_check_device") or microtorch.tensor._check_device is _check_device
    cpu = torch.device("cpu")
    made = [
        torch.zeros(2, device=cpu), torch.ones(2, device="cpu"), torch.full((2,), 1.0, device="cpu:0"),
        torch.arange(3, device=cpu), torch.tensor([1.0], device="cpu"), torch.randn(2, device=cpu),
        torch.rand(2, device="cpu"), torch.randint(0, 5, (2,), device=cpu), torch.randperm(3, device="cpu"),
        torch.normal(0.0, 1.0, (2,), device=cpu), torch.randn_like(torch.ones(2), device="cpu"),
        torch.rand_like(torch.ones(2), device=cpu), torch.randint_like(torch.ones(2), 3, device="cpu"),
    ]
    assert all(t.device == cpu for t in made)
    factories = [
        lambda d: torch.zeros(2, device=d), lambda d: torch.arange(3, device=d), lambda d: torch.randn(2, device=d),
        lambda d: torch.rand(2, device=d), lambda d: torch.randint(5, (2,), device=d), lambda d: torch.randperm(3, device=d),
        lambda d: torch.normal(0.0, 1.0, (2,), device=d), lambda d: torch.randn_like(torch.ones(2), device=d),
    ]
    for make in factories:
        with pytest.raises(AssertionError, match=NO_CUDA):
            make("cuda:0")
        with pytest.raises(RuntimeError, match="PyTorch is not linked with support for mps devices"):
            make("mps")
