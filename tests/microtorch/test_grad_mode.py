"""grad_mode.py: the switches, importable from microtorch, microtorch.grad_mode and (the old path) microtorch.autograd."""
import microtorch as torch
from microtorch import autograd, grad_mode


def test_inference_mode_as_context_and_decorator():
    x = torch.ones(2, requires_grad=True)
    with torch.inference_mode():
        assert not torch.is_grad_enabled() and not (x * 2).requires_grad
    with torch.inference_mode(False):
        assert torch.is_grad_enabled()

    @torch.inference_mode
    def bare():
        return torch.is_grad_enabled()

    @torch.inference_mode()
    def called():
        return torch.is_grad_enabled()

    assert bare() is False and called() is False and torch.is_grad_enabled()


def test_old_import_paths_still_work():
    assert autograd.no_grad is grad_mode.no_grad is torch.no_grad
    assert autograd.enable_grad is grad_mode.enable_grad and autograd.set_grad_enabled is grad_mode.set_grad_enabled
    from microtorch.tensor import _dtype, float32, tensor, zeros_like

    # microtorch.tensor.float32 is the numpy dtype microtorch computes in; torch.float32 its dtype object
    assert float32 == torch.float32 and _dtype(torch.float32) is float32 and _dtype(float) == torch.float64
    assert tensor([1.0]).tolist() == [1.0] and zeros_like(torch.ones(2)).tolist() == [0.0, 0.0]
