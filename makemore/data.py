"""The data: words -> vocabulary -> (X, Y) examples, and the train/val/test split.

Follows Karpathy's makemore lectures: '.' marks both the start and the end of a
word, and each example is (the previous block_size characters, the next one).
This module knows nothing of microtorch.nn.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import microtorch

BOUNDARY = "."  # start/end token, always index 0
DEFAULT_DATA_PATH = Path(__file__).resolve().parent.parent / "data" / "names.txt"


class DataError(ValueError):
    """A word list that cannot be used; the message names the file and the reason."""


# ----------------------------------------------------------------------------
# words

def _read_text(path: str | os.PathLike) -> str:
    """The file's text, decoded as UTF-8 (a leading byte-order mark is dropped)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: word list not found") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 (invalid byte at offset {e.start})") from None


def load_words(path: str | os.PathLike = DEFAULT_DATA_PATH) -> list[str]:
    """One word per line, surrounding whitespace stripped, blank lines skipped.

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
            words.append(word)
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


# ----------------------------------------------------------------------------
# examples

def build_arrays(words: Sequence[str], vocab: Vocabulary, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The lecture's examples as int64 arrays: X (N, block_size) contexts, Y (N,) next characters."""
    if block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ix in vocab.encode(w + BOUNDARY):
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]  # crop and append
    return np.array(X, dtype=np.int64).reshape(-1, block_size), np.array(Y, dtype=np.int64)


def build_dataset(words: Sequence[str], vocab: Vocabulary, block_size: int) -> tuple[microtorch.Tensor, microtorch.Tensor]:
    """build_arrays() as microtorch int64 tensors X (N, block_size) and Y (N,)."""
    X, Y = build_arrays(words, vocab, block_size)
    return microtorch.tensor(X), microtorch.tensor(Y)


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


def load_train_words(path: str | os.PathLike, seed: int) -> list[str]:
    """The words of the training split of the list at path (for marking samples as seen or new)."""
    return split_words(load_words(path), seed)[0]


def load_splits(path: str | os.PathLike = DEFAULT_DATA_PATH, block_size: int = 3, seed: int = 42,
                sequences: bool = False) -> Splits:
    """Load the words, build the vocabulary from all of them, and split as in the lecture.

    With sequences, each split is the sequence view (build_sequence_arrays, the length the
    longest word of the whole list + 1; block_size is then unused), else context windows.
    Raises DataError if the list is too short for every split to hold a word."""
    words = load_words(path)
    vocab = build_vocab(words)
    parts = split_words(words, seed)
    empty = [name for name, part in zip(SPLIT_NAMES, parts) if not part]
    if empty:
        raise DataError(f"{path}: {len(words)} word(s) are too few for the 80/10/10 split "
                        f"(the {' and '.join(empty)} split would be empty)")
    if sequences:
        length = sequence_length(words)
        train, val, test = (tuple(map(microtorch.tensor, build_sequence_arrays(part, vocab, length))) for part in parts)
    else:
        train, val, test = (build_dataset(part, vocab, block_size) for part in parts)
    return Splits(vocab, train, val, test)
