"""Random: Generator seeding and state, the global seed, and the sampling factories."""
import json

import numpy as np
import pytest

import microtorch as torch


def test_generator_manual_seed_returns_itself_and_repeats_the_stream():
    g = torch.Generator()
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    first = torch.randn(5, generator=g).tolist()
    again = torch.randn(5, generator=torch.Generator().manual_seed(42)).tolist()
    other = torch.randn(5, generator=torch.Generator().manual_seed(43)).tolist()
    assert first == again and first != other
    assert torch.randn(5, generator=g).tolist() != first  # the stream moves on


def test_global_manual_seed():
    assert isinstance(torch.manual_seed(7), torch.Generator)
    a = torch.rand(4).tolist()
    torch.manual_seed(7)
    assert torch.rand(4).tolist() == a and torch.initial_seed() == 7
    g = torch.Generator().manual_seed(7)
    torch.manual_seed(7)
    torch.randn(3)  # the global stream does not move a separate generator
    torch.manual_seed(7)
    assert torch.randn(3, generator=g).tolist() == torch.randn(3).tolist()


def test_get_state_set_state_round_trip():
    g = torch.Generator().manual_seed(3)
    torch.randn(10, generator=g)
    state = json.loads(json.dumps(g.get_state().tolist()))  # checkpoint-friendly: a list of the state bytes
    expected = torch.randint(0, 100, (8,), generator=g).tolist()
    other = torch.Generator().manual_seed(99)
    assert other.set_state(state) is other
    assert torch.randint(0, 100, (8,), generator=other).tolist() == expected and other.initial_seed() == 3


def test_randn_and_rand_sizes_dtypes_and_moments():
    g = torch.Generator().manual_seed(0)
    assert torch.randn(2, 3, generator=g).shape == (2, 3) and torch.randn((2, 3), generator=g).shape == (2, 3)
    x = torch.randn(20000, generator=g)
    assert x.dtype == torch.float32 and x.is_leaf and not x.requires_grad
    assert abs(x.mean().item()) < 0.03 and abs(x.std().item() - 1) < 0.03
    u = torch.rand(20000, generator=g)
    assert u.min().item() >= 0 and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.01
    assert torch.randn(3, dtype=torch.float64).dtype == torch.float64
    w = torch.randn(3, 2, requires_grad=True)
    assert w.requires_grad and w.is_leaf
    with pytest.raises(TypeError, match="floating point"):
        torch.randn(3, dtype=torch.int64)


def test_randint_forms():
    g = torch.Generator().manual_seed(0)
    a = torch.randint(3, 7, (1000,), generator=g)
    assert a.dtype == torch.int64 and a.shape == (1000,)
    assert set(a.tolist()) == {3, 4, 5, 6}
    b = torch.randint(5, (2, 3), generator=g)
    assert b.shape == (2, 3) and b.min().item() >= 0 and b.max().item() < 5
    c = torch.randint(5, size=(4,))
    assert c.shape == (4,) and 0 <= c.min().item() and c.max().item() < 5
    with pytest.raises(RuntimeError, match="from"):
        torch.randint(5, 5, (2,))


def test_multinomial_with_replacement_matches_the_probabilities():
    g = torch.Generator().manual_seed(2147483647)
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    draws = torch.multinomial(probs, 20000, replacement=True, generator=g)
    assert draws.dtype == torch.int64 and draws.shape == (20000,)
    freq = np.bincount(draws.numpy(), minlength=4) / 20000
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.015)
    weights = torch.tensor([[1.0, 0.0, 3.0], [0.0, 5.0, 0.0]])  # unnormalised rows
    rows = torch.multinomial(weights, 4000, replacement=True, generator=g)
    assert rows.shape == (2, 4000) and set(rows[1].tolist()) == {1}
    assert 1 not in rows[0].tolist()
    assert abs((rows[0] == 2).float().mean().item() - 0.75) < 0.03


def test_multinomial_without_replacement_gives_distinct_indices():
    g = torch.Generator().manual_seed(0)
    probs = torch.tensor([0.05, 0.5, 0.2, 0.15, 0.1])
    for _ in range(50):
        draw = torch.multinomial(probs, 5, generator=g).tolist()
        assert sorted(draw) == [0, 1, 2, 3, 4]
    firsts = [torch.multinomial(probs, 2, replacement=False, generator=g)[0].item() for _ in range(2000)]
    assert abs(firsts.count(1) / 2000 - 0.5) < 0.04
    with pytest.raises(RuntimeError, match="without replacement"):
        torch.multinomial(probs, 6)
    # too few non-zero categories: PyTorch 2.13 does not raise; the zero-weight ones come last
    draw = torch.multinomial(torch.tensor([0.0, 1.0, 0.0]), 2).tolist()
    assert draw[0] == 1 and len(set(draw)) == 2


def test_multinomial_is_reproducible_with_a_seeded_generator():
    probs = torch.tensor([0.3, 0.3, 0.4])
    a = torch.multinomial(probs, 10, replacement=True, generator=torch.Generator().manual_seed(5))
    b = torch.multinomial(probs, 10, replacement=True, generator=torch.Generator().manual_seed(5))
    assert a.tolist() == b.tolist()


def test_multinomial_rejects_invalid_distributions():
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor([0.5, -0.1]), 1)
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor([0.0, 0.0]), 1)
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.ones(2, 2, 2), 1)


def test_in_place_fills_use_the_generator():
    a = torch.empty(5).normal_(generator=torch.Generator().manual_seed(1))
    b = torch.empty(5).normal_(generator=torch.Generator().manual_seed(1))
    assert a.tolist() == b.tolist()
    u = torch.empty(1000, dtype=torch.float64).uniform_(-3.0, -1.0, generator=torch.Generator().manual_seed(1))
    assert u.dtype == torch.float64 and u.min().item() >= -3 and u.max().item() < -1


def test_randperm_is_a_permutation():
    p = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    assert p.dtype == torch.int64 and sorted(p.tolist()) == list(range(10))


class _AllOnesBits:
    """A bit-generator stand-in whose every word is 0xFFFFFFFF: the largest uniforms there are."""

    def random_raw(self, size):
        return np.full(size, 2**32 - 1, dtype=np.uint64)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_rand_stays_below_one_after_the_cast(dtype):
    g = torch.Generator()
    g._bits = _AllOnesBits()
    u = torch.rand(4, generator=g, dtype=dtype)
    assert u.dtype == dtype and (u < 1).all()
    assert (torch.rand_like(torch.ones(3), generator=g) < 1).all()


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: torch.randn(2, 3, **kw),
        lambda **kw: torch.rand(4, **kw),
        lambda **kw: torch.normal(0.0, 1.0, (3,), **kw),
        lambda **kw: torch.randn_like(torch.zeros(2), **kw),
        lambda **kw: torch.rand_like(torch.zeros(2), **kw),
        lambda **kw: torch.randint(0, 5, (3,), **kw),
        lambda **kw: torch.randint_like(torch.zeros(2), 5, **kw),
        lambda **kw: torch.randperm(5, **kw),
    ],
)
def test_random_factories_take_device(make):
    """device= as in PyTorch: the CPU (by name or device object) works and draws the same numbers;
    'cuda' raises PyTorch's CPU-build AssertionError instead of a silent CPU run."""
    torch.manual_seed(3)
    plain = make()
    torch.manual_seed(3)
    on_cpu = make(device="cpu")
    torch.manual_seed(3)
    on_cpu_object = make(device=torch.device("cpu"))
    assert plain.tolist() == on_cpu.tolist() == on_cpu_object.tolist()
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        make(device="cuda")
