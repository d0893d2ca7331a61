"""microtorch: a small reverse-mode autodiff library on numpy with PyTorch's API.

    import microtorch as torch
    import microtorch.nn.functional as F
"""
from . import autograd
from .devices import device
from .printing import get_printoptions, printoptions, set_printoptions
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled
from .random import (
    Generator,
    bernoulli,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from .ops import (
    abs,
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    chunk,
    clamp,
    clamp_max,
    clamp_min,
    clone,
    cumprod,
    cumsum,
    einsum,
    equal,
    exp,
    flatten,
    gather,
    index_select,
    log,
    log10,
    log_softmax,
    logsumexp,
    masked_fill,
    matmul,
    max,
    mean,
    min,
    permute,
    pow,
    prod,
    relu,
    reshape,
    roll,
    scatter,
    scatter_add,
    sigmoid,
    softmax,
    sort,
    split,
    sqrt,
    squeeze,
    std,
    sum,
    tanh,
    topk,
    transpose,
    tril,
    triu,
    unbind,
    unsqueeze,
    var,
)
from .dtypes import _BY_NAME as _DTYPES
from .dtypes import dtype

float32 = float = _DTYPES["float32"]
float64 = double = _DTYPES["float64"]
float16 = half = _DTYPES["float16"]
int8 = _DTYPES["int8"]
uint8 = _DTYPES["uint8"]
int16 = short = _DTYPES["int16"]
int32 = int = _DTYPES["int32"]
int64 = long = _DTYPES["int64"]
bool = _DTYPES["bool"]
del _DTYPES
from .tensor import Size, Tensor
from .creation import (
    allclose,
    arange,
    as_tensor,
    cat,
    concat,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    histogram,
    is_tensor,
    linspace,
    maximum,
    minimum,
    numel,
    ones,
    ones_like,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)

from . import backends, cuda  # noqa: E402
from . import nn, optim  # noqa: E402  (after the core they build on)
from . import utils  # noqa: E402
from .serialization import load, save  # noqa: E402

__version__ = "0.1.0"
