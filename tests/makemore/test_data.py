import random
import string
from pathlib import Path

import numpy as np
import pytest

import microtorch
from makemore.data import (
    DEFAULT_DATA_PATH,
    DataError,
    Vocabulary,
    build_arrays,
    build_dataset,
    build_vocab,
    load_splits,
    load_train_words,
    load_words,
    SHIPPED,
    resolve_data,
    split_words,
    vocabulary_report,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "names.txt"


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "words.txt"
    path.write_bytes(content)
    return path


# ---------------------------------------------------------------------------- load_words

def test_load_words_strips_whitespace_and_skips_blank_lines(tmp_path):
    path = write(tmp_path, b"  emma \n\n\r\nava\r\n\t\n")
    assert load_words(path) == ["emma", "ava"]


def test_load_words_drops_a_byte_order_mark(tmp_path):
    path = write(tmp_path, "\ufeffemma\nava\n".encode("utf-8"))
    assert load_words(path) == ["emma", "ava"]


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError, match="not found") as e:
        load_words(path)
    assert str(path) in str(e.value)


def test_non_utf8_names_the_path_and_byte_offset(tmp_path):
    path = write(tmp_path, b"emma\n\xffava\n")
    with pytest.raises(DataError, match="offset 5") as e:
        load_words(path)
    assert str(path) in str(e.value)
    assert "UTF-8" in str(e.value)


@pytest.mark.parametrize("content", [b"", b"\n  \n\r\n"])
def test_empty_file_names_the_path(tmp_path, content):
    path = write(tmp_path, content)
    with pytest.raises(DataError, match="no words") as e:
        load_words(path)
    assert str(path) in str(e.value)


def test_boundary_token_in_a_word_names_path_line_and_word(tmp_path):
    path = write(tmp_path, b"emma\n\nan.na\nava\n")
    with pytest.raises(DataError) as e:
        load_words(path)
    message = str(e.value)
    assert str(path) in message
    assert "line 3" in message
    assert "'an.na'" in message


@pytest.mark.parametrize("content, char", [(b"emma\nan\x00na\n", "'\\x00'"), (b"emma\nmary\tann\n", "'\\t'")])
def test_control_character_in_a_word_names_path_line_and_character(tmp_path, content, char):
    path = write(tmp_path, content)  # valid UTF-8, but not a list of words
    with pytest.raises(DataError, match="control character") as e:
        load_words(path)
    assert str(path) in str(e.value) and "line 2" in str(e.value) and char in str(e.value)


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


# ---------------------------------------------------------------------------- vocabulary

def test_vocab_of_a_tiny_list():
    vocab = build_vocab(["emma", "ava"])
    assert vocab.itos == [".", "a", "e", "m", "v"]
    assert vocab.stoi == {".": 0, "a": 1, "e": 2, "m": 3, "v": 4}
    assert len(vocab) == 5
    assert vocab.encode("emma.") == [2, 3, 3, 1, 0]
    assert vocab.decode([4, 1, 0]) == "va."
    assert vocab.decode(np.array([2, 3])) == "em"


def test_vocab_json_round_trip():
    vocab = build_vocab(["emma", "ava"])
    assert vocab.to_json() == [".", "a", "e", "m", "v"]
    restored = Vocabulary.from_json(vocab.to_json())
    assert restored == vocab
    assert restored.stoi == vocab.stoi
    assert restored != build_vocab(["emma"])


@pytest.mark.parametrize("chars", [[], ["a", "."], [".", "a", "a"], [".", "ab"]])
def test_vocab_rejects_bad_character_lists(chars):
    with pytest.raises(ValueError):
        Vocabulary.from_json(chars)


def test_encode_rejects_unknown_characters():
    with pytest.raises(ValueError, match="'z'"):
        build_vocab(["emma"]).encode("zoe")


# ---------------------------------------------------------------------------- examples

def test_build_arrays_on_emma_gives_the_lectures_five_rows():
    vocab = build_vocab(["emma"])
    X, Y = build_arrays(["emma"], vocab, block_size=3)
    assert X.dtype == np.int64 and Y.dtype == np.int64
    assert X.shape == (5, 3) and Y.shape == (5,)
    rows = [(vocab.decode(x), vocab.decode([y])) for x, y in zip(X, Y)]
    assert rows == [("...", "e"), ("..e", "m"), (".em", "m"), ("emm", "a"), ("mma", ".")]


def test_build_arrays_counts_one_example_per_character_plus_end():
    words = ["ab", "c", "abcabc"]
    X, Y = build_arrays(words, build_vocab(words), block_size=2)
    assert X.shape == (3 + 2 + 7, 2)
    assert list(Y[:3]) == [1, 2, 0]


def test_build_arrays_of_no_words_is_empty_but_shaped():
    X, Y = build_arrays([], build_vocab(["a"]), block_size=4)
    assert X.shape == (0, 4) and Y.shape == (0,)


def test_build_arrays_rejects_a_block_size_below_one():
    with pytest.raises(ValueError, match="block_size"):
        build_arrays(["emma"], build_vocab(["emma"]), block_size=0)


def test_build_dataset_returns_int64_tensors():
    vocab = build_vocab(["emma"])
    X, Y = build_dataset(["emma"], vocab, block_size=3)
    assert isinstance(X, microtorch.Tensor) and isinstance(Y, microtorch.Tensor)
    assert X.dtype == microtorch.int64 and Y.dtype == microtorch.int64
    assert tuple(X.shape) == (5, 3) and tuple(Y.shape) == (5,)
    Xa, Ya = build_arrays(["emma"], vocab, block_size=3)
    assert X.tolist() == Xa.tolist() and Y.tolist() == Ya.tolist()


# ---------------------------------------------------------------------------- the split

WORDS = [f"w{i}" for i in range(100)]


def test_split_is_80_10_10_of_a_shuffled_copy():
    words = list(WORDS)
    train, val, test = split_words(words)
    assert (len(train), len(val), len(test)) == (80, 10, 10)
    assert sorted(train + val + test) == sorted(WORDS)
    assert train + val + test != WORDS  # shuffled
    assert words == WORDS  # the input is not touched


def test_split_is_deterministic_and_leaves_global_random_alone():
    saved = random.getstate()
    try:
        random.seed(12345)  # a state no split could leave behind by chance
        state = random.getstate()
        first = split_words(WORDS, seed=42)
        assert random.getstate() == state
    finally:
        random.setstate(saved)
    assert split_words(WORDS, seed=42) == first
    assert split_words(WORDS, seed=7) != first


def test_split_matches_the_lectures_global_shuffle():
    state = random.getstate()
    try:
        words = list(WORDS)
        random.seed(42)
        random.shuffle(words)
    finally:
        random.setstate(state)
    train, val, test = split_words(WORDS, seed=42)
    assert train + val + test == words


def test_reference_split_gives_the_lectures_example_counts():
    if not REFERENCE.exists():
        pytest.skip(f"reference list not found at {REFERENCE}")
    words = load_words(REFERENCE)
    vocab = build_vocab(words)
    sizes = [build_arrays(part, vocab, 3)[0].shape for part in split_words(words)]
    assert sizes == [(182625, 3), (22655, 3), (22866, 3)]


def test_load_splits_on_a_small_file(tmp_path):
    words = [f"{a}{b}" for a in "abcde" for b in "xyz"]  # 15 words of 2 letters: 3 rows each
    path = write(tmp_path, "\n".join(words).encode())
    splits = load_splits(path, block_size=2, seed=1)
    assert splits.vocab == build_vocab(words)
    assert [tuple(X.shape) for X, _ in (splits.train, splits.val, splits.test)] == [(36, 2), (3, 2), (6, 2)]  # 12, 1, 2 words
    train_words, _, _ = split_words(words, seed=1)
    assert splits.train[1].tolist() == build_arrays(train_words, splits.vocab, 2)[1].tolist()


@pytest.mark.parametrize("n, empty", [(1, "train and val"), (2, "val"), (5, "val")])
def test_load_splits_names_a_list_too_short_for_the_split(tmp_path, n, empty):
    path = write(tmp_path, "\n".join(["emma", "ava", "bo", "liam", "noah"][:n]).encode())
    with pytest.raises(DataError, match="too few") as e:
        load_splits(path)
    assert str(path) in str(e.value) and f"the {empty} split would be empty" in str(e.value)


def test_load_splits_accepts_the_shortest_list_that_fills_every_split(tmp_path):
    path = write(tmp_path, "\n".join(["emma", "ava", "bo", "liam", "noah", "mia"]).encode())
    splits = load_splits(path)
    assert all(len(Y) > 0 for _, Y in (splits.train, splits.val, splits.test))
    assert load_train_words(path, 42) == split_words(load_words(path), 42)[0]


# ---------------------------------------------------------------------------- the shipped list

def test_default_path_is_the_shipped_list_inside_the_package():
    import makemore
    assert DEFAULT_DATA_PATH == Path(makemore.__file__).parent / "names.txt"
    assert resolve_data(SHIPPED) == DEFAULT_DATA_PATH


def test_shipped_names_are_a_to_z_with_a_27_entry_vocabulary():
    words = load_words()
    assert all(set(w) <= set(string.ascii_lowercase) for w in words)
    assert len(words) == len(set(words))
    assert 25_000 <= len(words) <= 35_000
    vocab = build_vocab(words)
    assert len(vocab) == 27
    assert vocab.itos == ["."] + list(string.ascii_lowercase)


# ---------------------------------------------------------------------------- vocabulary report, --lowercase

def test_vocabulary_report_counts_capitals_digits_and_symbols_with_examples():
    words = ["emma", "Anna", "Jean-Luc", "r2d2", "zoë", "o'neil", "ava"]
    lines = vocabulary_report(words, build_vocab(words))
    assert lines[0] == "vocabulary: 21 characters: '.' (start/end) and \"'-2AJLacdeilmnoruvzë\""
    assert lines[1] == "  2 of 7 words have capitals ('AJL'), e.g. Anna, Jean-Luc; --lowercase folds them"
    assert lines[2] == "  1 of 7 words have digits ('2'), e.g. r2d2"
    assert lines[3] == "  1 of 7 words have letters beyond a-z ('ë'), e.g. zoë"
    assert lines[4] == "  2 of 7 words have other symbols (\"'-\"), e.g. Jean-Luc, o'neil"
    assert vocabulary_report(["emma"], build_vocab(["emma"])) == ["vocabulary: 4 characters: '.' (start/end) and 'aem'"]


def test_lowercase_folds_case_before_the_vocabulary(tmp_path):
    path = write(tmp_path, b"Emma\nAVA\nbo\nLiam\nnoah\nMia\n")
    assert load_words(path, lowercase=True) == ["emma", "ava", "bo", "liam", "noah", "mia"]
    assert len(load_splits(path, lowercase=True).vocab) == len(build_vocab(load_words(path, lowercase=True)))
    assert len(load_splits(path).vocab) > len(load_splits(path, lowercase=True).vocab)


def test_the_initial_loss_is_predicted_for_the_vocabulary_in_use(tmp_path, capsys):
    from makemore.train import main
    path = write(tmp_path, "\n".join(["Ab", "ab", "ba", "Ba", "aab", "bba", "Aa", "bb", "abab", "Bb"]).encode())
    args = ["--data", str(path), "--steps", "0", "--samples", "0", "--n-hidden", "8"]
    assert main([*args, "--out", str(tmp_path / "mixed")]) == 0
    assert "predicted -ln(1/5) = 1.6094" in capsys.readouterr().out  # '.', 'A', 'B', 'a', 'b'
    assert main([*args, "--out", str(tmp_path / "lower"), "--lowercase"]) == 0
    assert "predicted -ln(1/3) = 1.0986" in capsys.readouterr().out


# ---------------------------------------------------------------------------- --data lecture

class _Server:
    """A local HTTP server on 127.0.0.1 serving `body` at /names.txt, counting the requests."""

    def __init__(self, body: bytes):
        import http.server
        import threading
        served = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                served.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(served.body)))
                self.end_headers()
                self.wfile.write(served.body)

            def log_message(self, *args):
                pass

        self.body, self.requests = body, 0
        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/names.txt"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def lecture_env(tmp_path, monkeypatch):
    """A private cache folder, a local server with a small list, and LECTURE_SHA256 set to its hash."""
    import hashlib
    from makemore import data
    body = "\n".join(load_words()[:500]).encode() + b"\n"
    server = _Server(body)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(data.URL_VARIABLE, server.url)
    monkeypatch.setattr(data, "LECTURE_SHA256", hashlib.sha256(body).hexdigest())
    yield server
    server.close()


def test_the_lecture_checksum_is_that_of_the_reference_list():
    if not REFERENCE.exists():
        pytest.skip(f"reference list not found at {REFERENCE}")
    from makemore.data import LECTURE_SHA256, file_sha256
    assert file_sha256(REFERENCE) == LECTURE_SHA256


def test_lecture_is_fetched_once_verified_cached_and_works_offline(tmp_path, lecture_env, monkeypatch, capsys):
    from makemore import data
    path = resolve_data(data.LECTURE)
    assert path == tmp_path / "cache" / "makemore" / "lecture-names.txt"
    assert path.read_bytes() == lecture_env.body and lecture_env.requests == 1
    assert "downloading the lectures' list from http://127.0.0.1:" in capsys.readouterr().out
    lecture_env.close()  # offline from now on
    assert resolve_data(data.LECTURE) == path and lecture_env.requests == 1
    assert capsys.readouterr().out == ""


def test_lecture_without_a_network_says_what_to_download_and_where(tmp_path, lecture_env, monkeypatch):
    from makemore import data
    lecture_env.close()
    with pytest.raises(DataError) as info:
        resolve_data(data.LECTURE)
    message = str(info.value)
    assert f"cannot download {lecture_env.url}" in message
    assert f"download {data.LECTURE_URL} yourself and save it as {tmp_path / 'cache' / 'makemore' / 'lecture-names.txt'}" \
        in message and data.LECTURE_SHA256 in message


def test_lecture_with_the_wrong_contents_is_refused_and_not_cached(tmp_path, lecture_env):
    from makemore import data
    lecture_env.body = b"mallory\n"
    with pytest.raises(DataError, match=r"sent 8 bytes with SHA-256 \w+, not the lectures' list"):
        resolve_data(data.LECTURE)
    assert not (tmp_path / "cache" / "makemore" / "lecture-names.txt").exists()


def test_a_damaged_cache_is_fetched_again(tmp_path, lecture_env, capsys):
    from makemore import data
    cached = tmp_path / "cache" / "makemore" / "lecture-names.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"edited\n")
    assert resolve_data(data.LECTURE) == cached and cached.read_bytes() == lecture_env.body
    assert "is not the lectures' list (its SHA-256 differs); downloading it again" in capsys.readouterr().out


def test_train_on_the_lecture_list_records_it_by_name(tmp_path, lecture_env, capsys):
    from makemore.checkpoint import load_checkpoint
    from makemore.train import main
    out = tmp_path / "run"
    assert main(["--data", "lecture", "--out", str(out), "--steps", "0", "--samples", "0", "--n-hidden", "8"]) == 0
    train = load_checkpoint(out).config["train"]
    from makemore import data
    assert train["data"] == "lecture" and train["data_sha256"] == data.LECTURE_SHA256
    lecture_env.close()
    assert main(["--eval-only", str(out)]) == 0  # offline: from the cache
