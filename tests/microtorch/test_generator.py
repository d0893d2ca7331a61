"""The generator gives PyTorch's CPU stream value for value.

Known answers: every expected value below was printed by torch 2.13.0+cpu (x86-64, this machine)
for the same call and seed; they run without torch. Where torch is importable, direct comparisons
over many seeds, sizes and dtypes, interleaved as a program would call them.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

import microtorch as torch
import microtorch.nn.functional as F
from microtorch.generator import STATE_SIZE, Generator

LECTURE_SEED = 2147483647


def G(seed: int = LECTURE_SEED) -> Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------- known answers (from torch 2.13)
def test_rand_float32_and_float64_known_answers():
    assert torch.rand(8, generator=G()).tolist() == [
        0.7081288695335388, 0.3542391061782837, 0.10543233156204224, 0.5996444225311279,
        0.09044414758682251, 0.08987283706665039, 0.8822469711303711, 0.9887261390686035]
    assert torch.rand(3, generator=G(), dtype=torch.float64).tolist() == [0.6650313816112263, 0.843458957224422, 0.723553514275463]
    assert torch.rand(2, generator=G(0)).tolist() == [0.49625658988952637, 0.7682217955589294]
    assert torch.rand(2, generator=G(42)).tolist() == [0.8822692632675171, 0.9150039553642273]


def test_randn_known_answers_for_the_three_paths():
    x = torch.randn(32, generator=G()).tolist()  # two full blocks of 16
    assert x[:4] == [1.5673619508743286, -0.2372923195362091, -0.027384605258703232, -1.100779414176941]
    assert x[-2:] == [-1.0725021362304688, 0.7276178002357483]
    # 20 = one block + a tail: the last 16 are redrawn
    assert torch.randn(20, generator=G()).tolist()[-4:] == [2.2497076988220215, -0.4755009710788727, 0.6205004453659058, 1.1500210762023926]
    # fewer than 16: float64 pairs, the second value cached for the next call (which draws no words)
    g = G()
    assert torch.randn(1, generator=g).item() == -0.9800073504447937
    assert torch.randn(1, generator=g).item() == -1.6578478813171387
    assert torch.rand(1, generator=g).item() == 0.09044414758682251  # words 5 on: the cache used none
    assert torch.randn(5, generator=G(), dtype=torch.float64).tolist() == pytest.approx(
        [-0.9800073527194095, -1.6578479083048836, -0.057166228101822945, -0.34085409685984724, 2.099155128757817], rel=1e-15)
    assert torch.randn(16, generator=G(), dtype=torch.float64).tolist()[:2] == pytest.approx([-0.9205077687466588, -0.82382783815798], rel=1e-15)


def test_randint_randperm_multinomial_known_answers():
    assert torch.randint(0, 27, (8,), generator=G()).tolist() == [0, 26, 16, 12, 5, 9, 8, 19]
    assert torch.randint(0, 2**28, (3,), generator=G()).tolist() == [73052010, 60392012, 51839464]  # random64 from 2**28 on
    assert torch.randint(-(2**40), 2**40, (2,), generator=G()).tolist() == [1030328332138, 677054612044]
    assert torch.randperm(10, generator=G()).tolist() == [1, 9, 7, 4, 0, 5, 6, 8, 3, 2]
    p = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    assert torch.multinomial(p, 1, generator=G()).tolist() == [[3], [0]]
    assert torch.multinomial(p, 3, generator=G()).tolist() == [[3, 2, 1], [0, 3, 1]]
    assert torch.multinomial(p, 6, True, generator=G()).tolist() == [[3, 3, 3, 0, 0, 3], [3, 0, 1, 1, 1, 1]]


def test_fills_inits_and_dropout_known_answers():
    assert torch.empty(4).normal_(1.0, 0.5, generator=G()).tolist() == [0.5099962949752808, 0.17107604444026947, 0.9714168906211853, 0.8295729756355286]
    assert torch.empty(4).uniform_(-2.0, 3.0, generator=G()).tolist() == [1.5406444072723389, -0.22880446910858154, -1.4728384017944336, 0.9982221126556396]
    assert torch.bernoulli(torch.empty(12), 0.5, generator=G()).tolist() == [0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 1]
    torch.manual_seed(42)
    assert torch.nn.Linear(3, 2).weight.tolist() == [[0.4414065182209015, 0.47920528054237366, -0.1352572739124298],
                                                    [0.5303604602813721, -0.1264995038509369, 0.11650390923023224]]
    assert torch.nn.Embedding(2, 3).weight.tolist() == [[-1.1228563785552979, -0.18632829189300537, 2.2082014083862305],
                                                       [-0.637997031211853, 0.46165722608566284, 0.2673508822917938]]
    torch.manual_seed(42)
    assert F.dropout(torch.ones(10), 0.5).tolist() == [2, 2, 2, 2, 0, 2, 0, 0, 2, 2]


def test_seeds_use_the_low_32_bits_and_keep_all_64():
    g = G(2**40 + 7)
    assert torch.randint(0, 100, (5,), generator=g).tolist() == [15, 92, 21, 86, 83] and g.initial_seed() == 2**40 + 7
    assert torch.rand(3, generator=G(2**40 + 5)).tolist() == torch.rand(3, generator=G(5)).tolist()
    assert G(-1).initial_seed() == 2**64 - 1  # negative seeds wrap, as in PyTorch
    with pytest.raises(ValueError, match="Overflow"):
        G(2**64)
    with pytest.raises(RuntimeError, match="expected a long"):
        G().manual_seed(1.5)


def test_state_is_pytorchs_bytes():
    state = G().get_state()
    assert state.dtype == torch.uint8 and state.shape == (STATE_SIZE,)
    # sha256 of torch.Generator().manual_seed(2147483647).get_state(), before and after randn(3)
    assert hashlib.sha256(state.numpy().tobytes()).hexdigest() == "5eab49a8f9a13250d84041f0dd752218da3d717137e06b94eef7bc2e58c0797d"
    g = G()
    torch.randn(3, generator=g)  # leaves a cached normal in the state
    assert hashlib.sha256(g.get_state().numpy().tobytes()).hexdigest() == "05b9ccd2cb8cfa74792cc286726be4c1dca41183143c7f45f0a6eedbd36cd79e"


def test_set_state_round_trips_mid_stream_with_the_normal_cache():
    g = G(3)
    torch.randn(3, generator=g)  # odd count: a cached normal
    torch.rand(700, generator=g)  # past a twist of the state
    state = g.get_state()
    expected = [torch.randn(1, generator=g).item(), *torch.randint(0, 10**6, (5,), generator=g).tolist()]
    other = G(99)
    assert other.set_state(state) is other and other.initial_seed() == 3
    assert [torch.randn(1, generator=other).item(), *torch.randint(0, 10**6, (5,), generator=other).tolist()] == expected
    assert other.set_state(state.tolist()) is other  # a JSON list of the bytes (checkpoints)
    torch.set_rng_state(state)
    assert torch.randn(1).item() == expected[0] and torch.get_rng_state().shape == (STATE_SIZE,)
    with pytest.raises(TypeError, match="ByteTensor"):
        other.set_state({"seed": 1})
    with pytest.raises(RuntimeError, match="size 5056"):
        other.set_state(torch.zeros(10, dtype=torch.uint8))


def test_errors_match_pytorchs():
    with pytest.raises(NotImplementedError, match="normal_kernel_cpu.*Long"):
        torch.zeros(3, dtype=torch.int64).normal_()
    with pytest.raises(RuntimeError, match="from=5 >= to=5"):
        torch.randint(5, 5, (3,))
    with pytest.raises(RuntimeError, match="n_sample <= 0"):
        torch.multinomial(torch.tensor([1.0, 2.0]), 0)
    with pytest.raises(RuntimeError, match="floating-point"):
        torch.multinomial(torch.tensor([1, 2]), 1)


def test_batch_sampling_draws_one_word_per_index():
    g = G()
    ix = torch.randint(0, 182625, (32,), generator=g)
    assert ix.dtype == torch.int64 and ix.shape == (32,)
    words = G()._bits.random_raw(33)
    assert ix.tolist() == (words[:32] % 182625).tolist()
    assert torch.randint(0, 182625, (1,), generator=g).item() == int(words[32] % 182625)


# ---------------------------------------------------------------------- against torch itself
SEEDS = [0, 1, 42, 12345, LECTURE_SEED, 2**32 + 17, 2**63 + 5]


@pytest.fixture(scope="module")
def real():
    return pytest.importorskip("torch")


def _pair(real, seed):
    return real.Generator().manual_seed(seed), G(seed)


def _same(mine, theirs, exact=True):
    a, b = np.asarray(mine.tolist()), theirs.numpy()
    assert a.shape == b.shape
    if exact:
        np.testing.assert_array_equal(a, b)
    else:  # float64 transcendental functions: numpy's and libm's agree to an ulp
        np.testing.assert_allclose(a, b, rtol=4e-16, atol=1e-300)


@pytest.mark.parametrize("seed", SEEDS)
def test_rand_randn_all_sizes_and_dtypes_interleaved(real, seed):
    tg, g = _pair(real, seed)
    sizes = list(range(1, 50)) + [63, 64, 65, 100, 255, 256, 257, 999, 1000]
    for n in sizes:
        _same(torch.randn(n, generator=g), real.randn(n, generator=tg))
        _same(torch.rand(n, generator=g), real.rand(n, generator=tg))
        _same(torch.randn(n, generator=g, dtype=torch.float64), real.randn(n, generator=tg, dtype=real.float64), exact=False)
        _same(torch.rand(n, generator=g, dtype=torch.float64), real.rand(n, generator=tg, dtype=real.float64))
    _same(torch.randn(3, 5, generator=g), real.randn(3, 5, generator=tg))  # varargs
    _same(torch.randn((4, 7), generator=g), real.randn((4, 7), generator=tg))  # a tuple
    _same(torch.rand([2, 9], generator=g), real.rand([2, 9], generator=tg))


@pytest.mark.parametrize("seed", SEEDS)
def test_integers_permutations_and_sampling(real, seed):
    tg, g = _pair(real, seed)
    for low, high in [(0, 2), (0, 27), (-5, 5), (0, 182625), (0, 2**28 - 1), (0, 2**28), (0, 2**31 - 1), (0, 2**32), (-(2**40), 2**50), (0, 2**62)]:
        _same(torch.randint(low, high, (37,), generator=g), real.randint(low, high, (37,), generator=tg))
    _same(torch.randint(0, 1000, (9,), generator=g, dtype=torch.int32), real.randint(0, 1000, (9,), generator=tg, dtype=real.int32))
    _same(torch.randint(2**29, (3, 4), generator=g), real.randint(2**29, (3, 4), generator=tg))
    for n in [0, 1, 2, 3, 10, 100, 1000, 5000]:
        _same(torch.randperm(n, generator=g), real.randperm(n, generator=tg))
    weights = np.random.default_rng(seed % 2**32).random((5, 27)).astype(np.float32)
    weights[0, :20] = 0  # zero-weight categories
    for num, replacement in [(1, False), (1, True), (2, False), (7, False), (27, False), (2, True), (50, True)]:
        mine = torch.multinomial(torch.tensor(weights), num, replacement, generator=g)
        theirs = real.multinomial(real.tensor(weights), num, replacement, generator=tg)
        if replacement or num <= 7:
            _same(mine, theirs)
        else:  # past row 0's 7 non-zero categories: its zero-weight ties come in top-k's own order
            _same(mine[:, :7], theirs[:, :7])
            _same(mine[1:], theirs[1:])
            assert sorted(mine[0].tolist()) == sorted(theirs[0].tolist())
        _same(torch.multinomial(torch.tensor(weights[1]), num, replacement, generator=g),
              real.multinomial(real.tensor(weights[1]), num, replacement, generator=tg))
    _same(torch.randn(7, generator=g), real.randn(7, generator=tg))  # still in step


@pytest.mark.parametrize("seed", SEEDS)
def test_fills_on_contiguous_and_strided_tensors(real, seed):
    tg, g = _pair(real, seed)
    for shape in [(5,), (16,), (40,), (33, 17)]:
        for mean, std in [(0.0, 1.0), (1.5, 0.02), (-3.0, 7.0)]:
            _same(torch.empty(shape).normal_(mean, std, generator=g), real.empty(shape).normal_(mean, std, generator=tg))
        for a, b in [(0.0, 1.0), (-0.3, 0.7), (2.0, 5.0)]:
            _same(torch.empty(shape).uniform_(a, b, generator=g), real.empty(shape).uniform_(a, b, generator=tg))
            _same(torch.empty(shape, dtype=torch.float64).uniform_(a, b, generator=g),
                  real.empty(shape, dtype=real.float64).uniform_(a, b, generator=tg))
    # strided views: torch walks them in memory order (and normal_ takes the one-at-a-time path)
    _same(torch.empty(20, 8).t().normal_(generator=g), real.empty(20, 8).t().normal_(generator=tg))
    _same(torch.empty(6, 8)[:, ::2].uniform_(generator=g), real.empty(6, 8)[:, ::2].uniform_(generator=tg))
    _same(torch.empty(5, 40).t().uniform_(-1, 1, generator=g), real.empty(5, 40).t().uniform_(-1, 1, generator=tg))
    _same(torch.normal(2.0, 3.0, (50,), generator=g), real.normal(2.0, 3.0, (50,), generator=tg))
    probs = np.random.default_rng(seed % 2**32).random(30).astype(np.float32)
    _same(torch.bernoulli(torch.tensor(probs), generator=g), real.bernoulli(real.tensor(probs), generator=tg))
    _same(torch.bernoulli(torch.tensor(probs.astype(np.float64)), generator=g), real.bernoulli(real.tensor(probs.astype(np.float64)), generator=tg))
    _same(torch.bernoulli(torch.empty(40), 0.3, generator=g), real.empty(40).bernoulli_(0.3, generator=tg))
    _same(torch.randn(3, generator=g), real.randn(3, generator=tg))


@pytest.mark.parametrize("seed", SEEDS)
def test_global_generator_modules_inits_and_dropout(real, seed):
    real.manual_seed(seed)
    torch.manual_seed(seed)
    ours = [torch.nn.Embedding(27, 10), torch.nn.Linear(30, 200), torch.nn.Linear(200, 27, bias=False), torch.nn.Linear(7, 3)]
    theirs = [real.nn.Embedding(27, 10), real.nn.Linear(30, 200), real.nn.Linear(200, 27, bias=False), real.nn.Linear(7, 3)]
    for mine, other in zip(ours, theirs):
        for (name, p), (_, q) in zip(mine.named_parameters(), other.named_parameters()):
            _same(p.detach(), q.detach())
    for fn, kwargs in [("kaiming_uniform_", {}), ("kaiming_normal_", {"nonlinearity": "tanh"}), ("xavier_uniform_", {"gain": 5 / 3}),
                       ("xavier_normal_", {}), ("uniform_", {"a": -2, "b": 2}), ("normal_", {"std": 0.02})]:
        w, v = torch.empty(13, 7), real.empty(13, 7)
        getattr(torch.nn.init, fn)(w, **kwargs)
        getattr(real.nn.init, fn)(v, **kwargs)
        _same(w, v)
    for p in [0.1, 0.5, 0.9]:
        _same(F.dropout(torch.ones(4, 33), p), real.nn.functional.dropout(real.ones(4, 33), p))
        _same(torch.nn.Dropout(p)(torch.ones(50)), real.nn.Dropout(p)(real.ones(50)))
    np.testing.assert_array_equal(torch.get_rng_state().numpy(), real.get_rng_state().numpy())


def test_states_load_across_libraries(real):
    tg = real.Generator().manual_seed(5)
    real.randn(5, generator=tg)
    real.rand(1000, generator=tg)
    g = torch.Generator().set_state(torch.tensor(tg.get_state().numpy(), dtype=torch.uint8))
    _same(torch.randn(9, generator=g), real.randn(9, generator=tg))
    other = real.Generator()
    other.set_state(real.tensor(g.get_state().numpy()))
    _same(torch.randint(0, 50, (20,), generator=g), real.randint(0, 50, (20,), generator=other))
