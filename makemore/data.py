"""The data: where a word list comes from, words -> vocabulary -> (X, Y) examples, the split.

Follows Karpathy's makemore lectures: '.' marks both the start and the end of a
word, and each example is (the previous block_size characters, the next one).
This module knows nothing of microtorch.nn.

Word lists (the --data of the commands): a path, SHIPPED ('shipped': the 29,910 names
installed with makemore as package data, see data/README.md) or LECTURE ('lecture': the
lectures' 32,033 names, downloaded once from the public makemore repository, checked against
LECTURE_SHA256 and cached in the user's cache folder).
"""

from __future__ import annotations

import hashlib
import os
import random
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import microtorch

from .files import commit_bytes

BOUNDARY = "."  # start/end token, always index 0
DEFAULT_DATA_PATH = Path(__file__).resolve().parent / "names.txt"  # package data: found from any install
SHIPPED, LECTURE = "shipped", "lecture"
LECTURE_URL = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt"
LECTURE_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
URL_VARIABLE = "MAKEMORE_LECTURE_URL"  # overrides LECTURE_URL (the tests point it at a local server)


class DataError(ValueError):
    """A word list that cannot be used; the message names the file and the reason."""


# ----------------------------------------------------------------------------
# where the words come from

def cache_dir() -> Path:
    """The user's cache folder for makemore: $XDG_CACHE_HOME/makemore, else ~/.cache/makemore."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "makemore"


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of the file's bytes, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def lecture_path(download: bool = True, log=print) -> Path:
    """The lectures' list in the cache, downloaded first if it is missing or damaged.

    Raises DataError saying what to download and where to put it when that fails."""
    path = cache_dir() / "lecture-names.txt"
    if path.is_file() and file_sha256(path) == LECTURE_SHA256:
        return path
    url = os.environ.get(URL_VARIABLE) or LECTURE_URL
    todo = (f"download {LECTURE_URL} yourself and save it as {path} (its SHA-256 must be {LECTURE_SHA256}), "
            "or pass any word list with --data PATH")
    if path.exists():
        log(f"warning: {path} is not the lectures' list (its SHA-256 differs); downloading it again")
    if not download:
        raise DataError(f"the lectures' list is not in the cache: {todo}")
    log(f"downloading the lectures' list from {url} into {path} ...")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise DataError(f"cannot download {url} ({reason}): {todo}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != LECTURE_SHA256:
        raise DataError(f"{url} sent {len(data)} bytes with SHA-256 {digest}, not the lectures' list: {todo}")
    path.parent.mkdir(parents=True, exist_ok=True)
    commit_bytes(path, data)
    return path


def resolve_data(spec: str | os.PathLike, log=print) -> Path:
    """The file behind a --data value: SHIPPED, LECTURE (fetched once) or a path."""
    if str(spec) == SHIPPED:
        return DEFAULT_DATA_PATH
    if str(spec) == LECTURE:
        return lecture_path(log=log)
    path = Path(spec)
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a word list")
    return path


# ----------------------------------------------------------------------------
# words

def _read_text(path: str | os.PathLike) -> str:
    """The file's text, decoded as UTF-8 (a leading byte-order mark is dropped)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: word list not found") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, not a word list") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 (invalid byte at offset {e.start})") from None


def load_words(path: str | os.PathLike = DEFAULT_DATA_PATH, lowercase: bool = False) -> list[str]:
    """One word per line, surrounding whitespace stripped, blank lines skipped (lower-cased if lowercase).

    Raises DataError, naming the file and line, for a word with the boundary token '.' or with
    a control character (NUL, tab, ...: a binary file that happens to be valid UTF-8)."""
    words = []
    for lineno, line in enumerate(_read_text(path).split("\n"), start=1):
        word = line.strip()
        if BOUNDARY in word:
            raise DataError(f"{path}: line {lineno}: word {word!r} contains the boundary token {BOUNDARY!r}")
        if not word.isprintable():
            bad = next(ch for ch in word if not ch.isprintable())
            raise DataError(f"{path}: line {lineno}: word {word!r} contains the control character {bad!r} "
                            "(expected a text file of one word per line)")
        if word:
            words.append(word.lower() if lowercase else word)
    if not words:
        raise DataError(f"{path}: no words (the file is empty or only blank lines)")
    return words


# ----------------------------------------------------------------------------
# vocabulary

class Vocabulary:
    """Characters <-> integers. The boundary token '.' is index 0."""

    def __init__(self, chars: Sequence[str]):
        itos = list(chars)
        if not itos or itos[0] != BOUNDARY:
            raise ValueError(f"a vocabulary starts with the boundary token {BOUNDARY!r}, got {itos[:1]}")
        if len(set(itos)) != len(itos) or any(len(ch) != 1 for ch in itos):
            raise ValueError(f"a vocabulary holds distinct single characters, got {itos}")
        self.itos = itos  # index -> character
        self.stoi = {ch: i for i, ch in enumerate(itos)}  # character -> index

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"Vocabulary({''.join(self.itos)!r})"

    def encode(self, s: str) -> list[int]:
        """The indices of the characters of s."""
        for ch in s:
            if ch not in self.stoi:
                raise ValueError(f"character {ch!r} of {s!r} is not in the vocabulary")
        return [self.stoi[ch] for ch in s]

    def decode(self, ixs: Sequence[int]) -> str:
        """The characters at the indices ixs."""
        return "".join(self.itos[int(i)] for i in ixs)

    def to_json(self) -> list[str]:
        """The ordered characters, '.' first: a JSON-ready value for checkpoints."""
        return list(self.itos)

    @classmethod
    def from_json(cls, chars: Sequence[str]) -> Vocabulary:
        """The vocabulary that to_json() described."""
        return cls(chars)


def build_vocab(words: Sequence[str]) -> Vocabulary:
    """'.' then the sorted set of characters in the words."""
    return Vocabulary([BOUNDARY] + sorted(set("".join(words))))


_KINDS = (
    ("capitals", str.isupper, "--lowercase folds them"),
    ("digits", str.isdigit, None),
    ("letters beyond a-z", lambda ch: ch.isalpha() and not ch.isupper() and not "a" <= ch <= "z", None),
    ("other symbols", lambda ch: not ch.isalnum(), None),
)


def vocabulary_report(words: Sequence[str], vocab: Vocabulary, examples: int = 5) -> list[str]:
    """Lines for the user: the vocabulary's size and characters, and how many words have
    capitals, digits, letters beyond a-z or other symbols (with a few examples of each)."""
    shown = "".join(vocab.itos[1:])
    lines = [f"vocabulary: {len(vocab)} characters: '{BOUNDARY}' (start/end) and {shown!r}"]
    for kind, test, hint in _KINDS:
        hits = [w for w in words if any(test(ch) for ch in w)]
        if hits:
            chars = sorted({ch for w in hits for ch in w if test(ch)})
            lines.append(f"  {len(hits):,} of {len(words):,} words have {kind} ({''.join(chars)!r}), e.g. "
                         f"{', '.join(hits[:examples])}" + (f"; {hint}" if hint else ""))
    return lines


# ----------------------------------------------------------------------------
# examples

def build_arrays(words: Sequence[str], vocab: Vocabulary, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The lecture's examples as int64 arrays: X (N, block_size) contexts, Y (N,) next characters.

    Vectorised (a 2,000,000-word list takes seconds): the words are laid out as one sequence,
    each preceded by block_size boundary tokens, '.' + '.'*bs + w1 + '.'*bs + w2 ... + '.'; the
    examples of a word are its characters and the '.' after it, each with the block_size
    tokens before it as context, as the lecture's loop `context = context[1:] + [ix]` gives."""
    if block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")
    if not words:
        return np.zeros((0, block_size), dtype=np.int64), np.zeros(0, dtype=np.int64)
    pad = BOUNDARY * block_size
    text = pad + pad.join(words) + BOUNDARY
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    table = np.array([ord(ch) for ch in vocab.itos], dtype=np.uint32)
    order = np.argsort(table)
    where = np.searchsorted(table[order], codes).clip(0, len(table) - 1)
    unknown = table[order][where] != codes
    if unknown.any():
        bad = chr(int(codes[np.argmax(unknown)]))
        word = next(w for w in words if bad in w)
        raise ValueError(f"character {bad!r} of {word!r} is not in the vocabulary")
    seq = order[where].astype(np.int64)  # (len(text),) token indices
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words)) + 1  # characters + end
    starts = block_size + np.concatenate([[0], np.cumsum(lengths[:-1] - 1 + block_size)])  # first char of each word
    positions = np.repeat(starts - np.cumsum(np.concatenate([[0], lengths[:-1]])), lengths) + np.arange(lengths.sum())
    windows = np.lib.stride_tricks.sliding_window_view(seq, block_size)  # windows[p] = seq[p:p+bs]
    return windows[positions - block_size], seq[positions]


def build_dataset(words: Sequence[str], vocab: Vocabulary, block_size: int) -> tuple[microtorch.Tensor, microtorch.Tensor]:
    """build_arrays() as microtorch int64 tensors X (N, block_size) and Y (N,), sharing the arrays (no copy)."""
    X, Y = build_arrays(words, vocab, block_size)
    return microtorch.from_numpy(X), microtorch.from_numpy(Y)


# ----------------------------------------------------------------------------
# the sequence view (makemore.py's): one row per word, for the models that read whole words

IGNORE_INDEX = -1  # the target past a word's end token; the loss (cross_entropy's ignore_index) skips it


def sequence_length(words: Sequence[str]) -> int:
    """The longest word + 1: the start token, then the word (the sequence models' block size)."""
    return max(len(w) for w in words) + 1


def build_sequence_arrays(words: Sequence[str], vocab: Vocabulary, length: int) -> tuple[np.ndarray, np.ndarray]:
    """X, Y (N, length) int64, one row per word: X is '.' then the word, padded with '.';
    Y is the word then '.' (the end token), padded with IGNORE_INDEX. Every character and each
    end token is predicted once, as in the window view, so the mean losses of both compare."""
    X = np.zeros((len(words), length), dtype=np.int64)
    Y = np.full((len(words), length), IGNORE_INDEX, dtype=np.int64)
    for i, w in enumerate(words):
        if len(w) + 1 > length:
            raise ValueError(f"word {w!r} of length {len(w)} does not fit a sequence of length {length}")
        ix = vocab.encode(w)
        X[i, 1:len(ix) + 1] = ix
        Y[i, :len(ix)] = ix
        Y[i, len(ix)] = 0
    return X, Y


# ----------------------------------------------------------------------------
# the split

SPLIT_NAMES = ("train", "val", "test")


def split_words(words: Sequence[str], seed: int = 42) -> tuple[list[str], list[str], list[str]]:
    """The lecture's 80/10/10 split of a shuffled copy; the global random state is untouched."""
    words = list(words)
    random.Random(seed).shuffle(words)  # the same order as random.seed(seed); random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    return words[:n1], words[n1:n2], words[n2:]


@dataclass
class Splits:
    """The vocabulary and the (X, Y) tensors of each split."""
    vocab: Vocabulary
    train: tuple[microtorch.Tensor, microtorch.Tensor]
    val: tuple[microtorch.Tensor, microtorch.Tensor]
    test: tuple[microtorch.Tensor, microtorch.Tensor]


def load_train_words(path: str | os.PathLike, seed: int, lowercase: bool = False) -> list[str]:
    """The words of the training split of the list at path (for marking samples as seen or new)."""
    return split_words(load_words(path, lowercase), seed)[0]


def load_splits(path: str | os.PathLike = DEFAULT_DATA_PATH, block_size: int = 3, seed: int = 42,
                lowercase: bool = False, words: Sequence[str] | None = None, sequences: bool = False) -> Splits:
    """Load the words (or take `words`, read from path already), build the vocabulary from all
    of them, and split as in the lecture.

    With sequences, each split is the sequence view (build_sequence_arrays, the length the
    longest word of the whole list + 1; block_size is then unused), else context windows.
    Raises DataError if the list is too short for every split to hold a word."""
    words = load_words(path, lowercase) if words is None else list(words)
    vocab = build_vocab(words)
    parts = split_words(words, seed)
    empty = [name for name, part in zip(SPLIT_NAMES, parts) if not part]
    if empty:
        raise DataError(f"{path}: {len(words)} word(s) are too few for the 80/10/10 split "
                        f"(the {' and '.join(empty)} split would be empty)")
    if sequences:
        length = sequence_length(words)
        train, val, test = (tuple(map(microtorch.from_numpy, build_sequence_arrays(part, vocab, length))) for part in parts)
    else:
        train, val, test = (build_dataset(part, vocab, block_size) for part in parts)
    return Splits(vocab, train, val, test)
