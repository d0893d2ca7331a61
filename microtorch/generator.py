"""Generator: PyTorch's CPU random stream, value for value, on numpy's MT19937 bit generator.

PyTorch's CPU generator is a 32-bit Mersenne Twister seeded with the reference `init_genrand`
on the low 32 bits of the seed; numpy's MT19937 (legacy seeding) produces the same words.
Every sampler below draws its words in bulk and transforms them with numpy, in the order and
with the arithmetic of PyTorch's CPU kernels (aten/src/ATen/core/TransformationHelper.h,
DistributionsHelper.h, native/cpu/DistributionTemplates.h, randperm in TensorFactories.cpp,
native/cpu/MultinomialKernel.cpp and the multinomial fast path in native/Distributions.cpp):

- a "random" is one 32-bit word; a "random64" is two words, the first one the high half;
- uniform floats keep the low `digits` bits of a word (24 for float32 from a random, 53 for
  float64 from a random64) and scale them by 2**-digits;
- normals come in Box-Muller pairs; see `Generator.normal`.

This module imports nothing of microtorch's (only numpy), so tensor.py can import it.
"""
from __future__ import annotations

import math
import secrets

import numpy as np

DEFAULT_SEED = 67280421310721  # PyTorch's default seed for a new or the default generator
_MT_N = 624  # words of Mersenne Twister state
_TWO_PI = 2.0 * math.pi
_WIDE_RANGE = 2**28  # integer ranges from here on draw a random64 per number (DistributionsHelper.h)

# PyTorch's CPUGeneratorImplState (CPUGeneratorImpl.cpp), byte for byte, so states can be
# exchanged with torch.Generator.get_state()/set_state().
_STATE_DTYPE = np.dtype({
    "names": ["seed", "left", "seeded", "next", "state", "normal_x", "normal_y", "normal_rho",
              "normal_is_valid", "next_float_normal", "float_normal_is_valid"],
    "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", (_MT_N,)), "<f8", "<f8", "<f8", "<i4", "<f4", "u1"],
    "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
    "itemsize": 5056,
})
STATE_SIZE = _STATE_DTYPE.itemsize


def _first_words(seed32: int) -> tuple[int, int]:
    """The first two state words init_genrand makes from a 32-bit seed (to tell a fresh state)."""
    return seed32, (1812433253 * (seed32 ^ (seed32 >> 30)) + 1) & 0xFFFFFFFF


def _fill_order(array: np.ndarray) -> np.ndarray:
    """A view of array whose C order is memory order: the order PyTorch's TensorIterator walks a
    strided output (dimensions sorted by stride), so a non-contiguous fill matches torch's."""
    if array.flags.c_contiguous:
        return array
    axes = sorted(range(array.ndim), key=lambda d: -abs(array.strides[d]))
    return array.transpose(axes)


_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _check_float(out: np.ndarray, kernel: str) -> np.dtype:
    """out's dtype, which must be floating point (PyTorch's kernels exist for those only)."""
    if out.dtype.kind != "f":
        name = _TORCH_NAMES.get(out.dtype.name, out.dtype.name)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')
    return out.dtype


class Generator:
    """A seedable random stream, like torch.Generator: the same numbers as PyTorch's CPU generator."""

    __slots__ = ("device", "_bits", "_seed", "_next_normal", "_next_float_normal")

    def __init__(self, device: str = "cpu") -> None:
        if str(device) != "cpu":
            raise RuntimeError(f"microtorch has only the CPU generator, got device {device!r}")
        self.device = "cpu"
        self._bits = np.random.MT19937(0)
        self.manual_seed(DEFAULT_SEED)

    def __repr__(self) -> str:
        return f"<microtorch.Generator (MT19937) initial_seed={self._seed}>"

    # ------------------------------------------------------------------ seeding and state
    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from seed (negative seeds wrap to 64 bits, as in PyTorch); returns self."""
        if isinstance(seed, float):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:
            raise ValueError("Overflow when unpacking long long")
        self._seed = seed % 2**64
        self._bits._legacy_seeding(self._seed & 0xFFFFFFFF)  # init_genrand on the low 32 bits
        self._next_normal = None  # the cached second value of a scalar Box-Muller pair
        self._next_float_normal = None
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        """Seed from fresh entropy (a 64-bit number) and return it."""
        return self.manual_seed(secrets.randbits(64)).initial_seed()

    def _state_array(self) -> np.ndarray:
        """The state in PyTorch's CPUGeneratorImplState layout, as 5056 uint8."""
        mt = self._bits.state["state"]
        key, pos = mt["key"], int(mt["pos"])
        record = np.zeros((), dtype=_STATE_DTYPE)
        record["seed"], record["seeded"], record["state"] = self._seed, 1, key
        if pos >= _MT_N:  # the next draw twists; torch says so with left == 1
            fresh = tuple(int(k) for k in key[:2]) == _first_words(self._seed & 0xFFFFFFFF)
            record["left"], record["next"] = 1, 0 if fresh else _MT_N
        else:
            record["left"], record["next"] = _MT_N + 1 - pos, pos
        if self._next_normal is not None:
            record["normal_is_valid"], record["normal_y"] = 1, self._next_normal
        if self._next_float_normal is not None:
            record["float_normal_is_valid"], record["next_float_normal"] = 1, self._next_float_normal
        return record.reshape(1).view(np.uint8).copy()

    def get_state(self):
        """The full state as a uint8 Tensor of 5056 bytes, in PyTorch's layout (torch can load it)."""
        from .tensor import tensor, uint8  # deferred: only this method needs a Tensor

        return tensor(self._state_array(), dtype=uint8)

    def set_state(self, new_state) -> "Generator":
        """Restore a state from get_state() (ours or PyTorch's bytes); returns self.

        Besides a uint8 Tensor it accepts (an extension) any array-like of the 5056 byte values,
        e.g. a JSON list from `get_state().tolist()`."""
        if isinstance(new_state, (dict, str)) or new_state is None:
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        raw = np.asarray(getattr(new_state, "_array", new_state))
        if raw.dtype != np.uint8:
            if raw.dtype.kind not in "iu" or raw.size and (raw.min() < 0 or raw.max() > 255):
                raise TypeError(f"expected a torch.ByteTensor, but got an array of {raw.dtype}")
            raw = raw.astype(np.uint8)
        if raw.size != STATE_SIZE:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {STATE_SIZE} but found the input RNG state size to be {raw.size}")
        record = np.ascontiguousarray(raw.reshape(-1)).view(_STATE_DTYPE)[0]
        left, nxt = int(record["left"]), int(record["next"])
        if not 1 <= left <= _MT_N or not 0 <= nxt <= _MT_N:
            raise RuntimeError("Invalid mt19937 state")
        pos = _MT_N if left == 1 else nxt
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": record["state"].astype(np.uint32), "pos": pos}}
        self._seed = int(record["seed"])
        self._next_normal = float(record["normal_y"]) if record["normal_is_valid"] else None
        self._next_float_normal = float(record["next_float_normal"]) if record["float_normal_is_valid"] else None
        return self

    # ------------------------------------------------------------------ raw words
    def random(self, n: int) -> np.ndarray:
        """n 32-bit words (as uint64), PyTorch's `random()` n times."""
        return self._bits.random_raw(n)

    def random64(self, n: int) -> np.ndarray:
        """n 64-bit words: two 32-bit words each, the first one the high half (`random64()`)."""
        w = self._bits.random_raw(2 * n)
        return (w[0::2] << 32) | w[1::2]

    def _unit(self, n: int, dtype) -> np.ndarray:
        """n uniforms in [0, 1) of dtype: uniform_real_distribution<dtype>(0, 1)."""
        if dtype == np.float64:
            return (self.random64(n) & (2**53 - 1)).astype(np.float64) * 2.0**-53
        if dtype == np.float16:  # 11 digits, computed in float32
            return (self.random(n) & (2**11 - 1)).astype(np.float32) * np.float32(2.0**-11)
        return (self.random(n) & (2**24 - 1)).astype(np.float32) * np.float32(2.0**-24)

    # ------------------------------------------------------------------ floats
    def uniform_(self, out: np.ndarray, low: float = 0.0, high: float = 1.0) -> np.ndarray:
        """Fill out with U(low, high): u * (high - low) + low in out's dtype as one multiply-add
        (PyTorch's compiled kernel fuses it), in memory order."""
        dtype = _check_float(out, "uniform_kernel_cpu")
        lo, hi = dtype.type(low), dtype.type(high)
        x = self._unit(out.size, dtype)
        view = _fill_order(out)
        if lo == 0 and hi == 1:
            view[...] = x.reshape(view.shape)
            return out
        # the product and sum in a wider type, rounded once (long double on x86 for float64)
        wide = np.longdouble if dtype == np.float64 else np.float64
        span = wide(dtype.type(hi - lo))
        view[...] = (x.astype(wide) * span + wide(lo)).reshape(view.shape)
        return out

    def normal_(self, out: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
        """Fill out with N(mean, std^2) as PyTorch's CPU normal_ does.

        Contiguous, 16 or more elements: fill with uniforms u (of out's dtype), then per block of
        16 Box-Muller on (1 - u[i], u[i + 8]), i < 8: radius * cos(theta) goes to i, radius *
        sin(theta) to i + 8. A count that is not a multiple of 16 redraws the last 16 values with
        16 fresh uniforms. Otherwise (fewer than 16, or a strided view): one value at a time from
        float64 pairs, the second of each pair cached in the generator for the next value.
        """
        _check_float(out, "normal_kernel_cpu")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        n = out.size
        if n >= 16 and out.flags.c_contiguous:
            dtype = np.float64 if out.dtype == np.float64 else np.float32
            full = n - n % 16
            u = self._unit(n, out.dtype)[:full]
            if n % 16:  # the tail's 16 fresh uniforms, transformed with the full blocks in one pass
                u = np.concatenate([u, self._unit(16, out.dtype)])
            values = _box_muller_16(u.astype(dtype, copy=False), dtype, mean, std)
            flat = out.reshape(-1)
            flat[:full] = values[:full]
            if n % 16:
                flat[n - 16:] = values[full:]
            return out
        view = _fill_order(out)
        view[...] = (self._scalar_normals(n) * std + mean).reshape(view.shape)
        return out

    def _scalar_normals(self, n: int) -> np.ndarray:
        """n standard normals from normal_distribution<double>, one at a time, with the cache."""
        values = np.empty(n, dtype=np.float64)
        start = 0
        if n and self._next_normal is not None:
            values[0], self._next_normal, start = self._next_normal, None, 1
        pairs = (n - start + 1) // 2
        if pairs:
            u = self._unit(2 * pairs, np.float64)
            u1, u2 = u[0::2], u[1::2]
            radius = np.sqrt(-2.0 * np.log1p(-u2))
            theta = _TWO_PI * u1
            both = np.empty(2 * pairs)
            both[0::2], both[1::2] = radius * np.cos(theta), radius * np.sin(theta)
            values[start:] = both[: n - start]
            if (n - start) % 2:
                self._next_normal = float(both[-1])
        return values

    def exponential_(self, out: np.ndarray, lambd: float = 1.0) -> np.ndarray:
        """Fill out with Exp(lambd): -1/lambd * log(1 - u), u a float64 uniform per element."""
        u = self._unit(out.size, np.float64)
        view = _fill_order(out)
        view[...] = (-1.0 / lambd * np.log(1.0 - u)).reshape(view.shape)
        return out

    def bernoulli(self, shape: tuple, p) -> np.ndarray:
        """Booleans u < p, u a float64 uniform per element (PyTorch's portable bernoulli_(p) path;
        on Intel CPUs with MKL PyTorch draws bernoulli_(float p) from MKL's own stream instead).
        A float32 array p (torch.bernoulli(probs)) compares float32 uniforms from one word each."""
        p = np.asarray(p)
        n = math.prod(shape)
        if p.dtype == np.float32 or p.dtype == np.float16:
            return self._unit(n, np.float32).reshape(shape) < p.astype(np.float32)
        return self._unit(n, np.float64).reshape(shape) < p

    # ------------------------------------------------------------------ integers
    def random_(self, out: np.ndarray, low: int | None = None, high: int | None = None) -> np.ndarray:
        """Fill out with integers: in [low, high) as (word % (high - low)) + low, the word a random64
        when the range is 2**28 or more (any dtype; PyTorch's public builds), else a random. Without bounds:
        [0, 2**63) for int64 (and [0, 2**mantissa] for floats), [0, max] for smaller integers."""
        n, dtype = out.size, out.dtype
        if low is None:
            if dtype == np.bool_:
                values = self.random(n) & 1
            elif dtype == np.int64:
                values = self.random64(n) % np.uint64(2**63)
            elif dtype == np.float64:
                values = self.random64(n) % np.uint64(2**53 + 1)
            elif dtype.kind == "f":
                values = self.random(n) % np.uint64(2 ** (np.finfo(dtype).nmant + 1) + 1)
            else:
                values = self.random(n) % np.uint64(int(np.iinfo(dtype).max) + 1)
        else:
            span = np.uint64(high - low)
            words = self.random64(n) if high - low >= _WIDE_RANGE else self.random(n)
            values = (words % span).view(np.int64) + np.int64(low)  # wraps like int64_t in C
        view = _fill_order(out)
        view[...] = values.astype(dtype).reshape(view.shape)
        return out

    def randint(self, low: int, high: int, shape: tuple, dtype=np.int64) -> np.ndarray:
        """A new array of integers in [low, high) (the fast path of randint: one word each)."""
        span = high - low
        if span < _WIDE_RANGE:
            values = self._bits.random_raw(shape) % span  # uint64
            return (values + low if low >= 0 else values.view(np.int64) + low).astype(dtype, copy=False)
        return self.random_(np.empty(shape, dtype=dtype), low, high)

    def randperm(self, n: int) -> np.ndarray:
        """A permutation of range(n) by PyTorch's Fisher-Yates: for i < n - 1, swap i with
        i + random() % (n - i); from n >= 2**32 // 20, the inside-out variant on random64."""
        perm = list(range(n))
        if n < (2**32 - 1) // 20:
            offsets = (self.random(max(n - 1, 0)) % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
            for i, z in enumerate(offsets):
                j = i + z
                perm[i], perm[j] = perm[j], perm[i]
        else:
            targets = (self.random64(n) % np.arange(1, n + 1, dtype=np.uint64)).tolist()
            for i, z in enumerate(targets):
                perm[i] = perm[z]
                perm[z] = i
        return np.array(perm, dtype=np.int64)

    def multinomial(self, weights: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
        """Category indices (rows, num_samples) for a 2-D array of checked, non-negative weights.

        Without replacement, or for one sample: argmax / top-k of w / q with q ~ Exp(1) drawn like
        weights (the exponential race). With replacement: per row the cumulative sum in the
        weights' dtype, divided by its total, last entry set to 1; each sample is the first
        index whose cumulative value is >= a float64 uniform. Zero-weight categories tie at 0:
        drawn after the others (num_samples above the non-zero count), they come in index order
        here and in top-k's own order in PyTorch."""
        rows = weights.shape[0]
        if not replacement or num_samples == 1:
            q = self.exponential_(np.empty(weights.shape, dtype=weights.dtype))
            keys = weights / q
            if num_samples == 1:
                return np.argmax(keys, axis=1).reshape(rows, 1)
            return np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
        acc = np.float64 if weights.dtype == np.float64 else np.float32
        cdf = np.cumsum(weights.astype(acc, copy=False), axis=1, dtype=acc)
        cdf /= cdf[:, -1:].copy()
        cdf[:, -1] = 1
        u = self._unit(rows * num_samples, np.float64).reshape(rows, num_samples)
        out = np.empty((rows, num_samples), dtype=np.int64)
        for r in range(rows):
            out[r] = np.searchsorted(cdf[r].astype(np.float64), u[r], side="left")
        return out


def _box_muller_16(u: np.ndarray, dtype, mean: float, std: float) -> np.ndarray:
    """normal_fill_16 on each block of 16 uniforms: (1 - u[i], u[i + 8]) -> positions i and i + 8.

    float32 follows PyTorch's AVX2 kernel (x86 builds use it on AVX2 and AVX-512 machines):
    float32 arithmetic throughout, Cephes-style log and sincos polynomials, the multiply-adds
    the compiler fuses done as one rounding; float64 is the scalar kernel in float64."""
    blocks = u.reshape(-1, 2, 8)
    if dtype == np.float32:
        f32 = np.float32
        radius = np.sqrt(f32(-2) * _log_f32(f32(1) - blocks[:, 0]))
        sin, cos = _sincos_f32(f32(_TWO_PI) * blocks[:, 1])
        pair = np.stack([radius * cos, radius * sin], axis=1)  # (blocks, 2, 8)
        return _fma_f32(pair, f32(std), f32(mean)).reshape(-1)
    radius = np.sqrt(-2.0 * np.log(1 - blocks[:, 0]))
    theta = _TWO_PI * blocks[:, 1]
    pair = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
    return (pair * std + mean).reshape(-1)


def _fma_f32(a, b, c) -> np.ndarray:
    """a * b + c for float32 operands with one rounding (the product is exact in float64)."""
    return (np.multiply(a, b, dtype=np.float64) + c).astype(np.float32)


# Cephes' single-precision coefficients (log: ln(1 + x) = x - x^2/2 + x^3 P(x); sin and cos on
# [-pi/4, pi/4]), as in the AVX2 kernel PyTorch's normal_ uses for float32.
_LOG_P = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
          -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)
_LN2_HI, _LN2_LO = 0.693359375, -2.12194440e-4
_SIN_P = (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)
_COS_P = (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)
_PI4_PARTS = (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)  # -pi/4 in three pieces


def _log_f32(x: np.ndarray) -> np.ndarray:
    """ln(x) for positive float32 x: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then a
    polynomial in m - 1 (Horner steps fused) plus e * ln 2 in two pieces."""
    f32 = np.float32
    bits = np.maximum(x, np.finfo(f32).tiny).view(np.int32)
    e = ((bits >> 23) - 126).astype(f32)
    m = ((bits & ~0x7F800000) | 0x3F000000).view(f32)  # mantissa in [0.5, 1)
    small = m < f32(0.707106781186547524)
    e = e - small.astype(f32)
    m = (m - f32(1)) + np.where(small, m, f32(0))  # 2m - 1 or m - 1
    z = m * m
    y = np.full_like(m, _LOG_P[0])
    for c in _LOG_P[1:]:
        y = _fma_f32(y, m, f32(c))
    y = _fma_f32(y * m, z, e * f32(_LN2_LO))
    y = y - z * f32(0.5)
    return (m + y) + e * f32(_LN2_HI)


def _sincos_f32(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sin(x), cos(x) for float32 x >= 0: reduce by the nearest even multiple j of pi/4, then the
    sine or cosine polynomial by the octant; the signs from j."""
    f32 = np.float32
    j = (x * f32(4 / math.pi)).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(f32)
    for part in _PI4_PARTS:
        x = x + y * f32(part)
    z = x * x
    cos = _fma_f32(f32(_COS_P[0]) * z + f32(_COS_P[1]), z, f32(_COS_P[2]))
    cos = _fma_f32(cos * z, z, -(z * f32(0.5))) + f32(1)
    sin = _fma_f32(_fma_f32(f32(_SIN_P[0]), z, f32(_SIN_P[1])), z, f32(_SIN_P[2]))
    sin = _fma_f32(sin * z, x, x)
    swap = (j & 2) != 0  # octants where sine and cosine trade polynomials
    sin, cos = np.where(swap, cos, sin), np.where(swap, sin, cos)
    sin = np.where((j & 4) != 0, -sin, sin)
    cos = np.where(((j - 2) & 4) == 0, -cos, cos)
    return sin, cos


default_generator = Generator()
