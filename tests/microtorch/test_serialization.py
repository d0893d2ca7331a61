"""microtorch.save / load: round trips of state dicts, optimizer states and nested containers,
the atomic write, and clear errors for damaged and foreign files (torch's own .pt included)."""
import io
import math
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import microtorch as torch
import microtorch.nn as nn


def small_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Embedding(5, 3), nn.Flatten(), nn.Linear(6, 4), nn.BatchNorm1d(4), nn.LayerNorm(4))


def test_state_dict_round_trip(tmp_path):
    model = small_model()
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    loaded = torch.load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert loaded[key].dtype == value.dtype and np.array_equal(loaded[key].numpy(), value.numpy())
    other = small_model()
    for p in other.parameters():
        p.data.zero_()
    other.load_state_dict(torch.load(str(path), map_location="cpu", weights_only=True))
    for a, b in zip(model.parameters(), other.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert loaded["3.num_batches_tracked"].dtype == torch.int64


def test_optimizer_state_round_trip(tmp_path):
    model = small_model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.01)
    x = torch.tensor([[0, 1], [2, 3], [4, 0]])
    model(x).sum().backward()
    opt.step()
    state = opt.state_dict()
    torch.save({"model": model.state_dict(), "optimizer": state, "step": 1}, tmp_path / "ckpt.pt")
    back = torch.load(tmp_path / "ckpt.pt")
    assert back["step"] == 1 and back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.99)
    assert set(back["optimizer"]["state"]) == set(state["state"])  # int keys stay ints
    opt2 = torch.optim.AdamW(model.parameters(), lr=5.0)
    opt2.load_state_dict(back["optimizer"])
    assert opt2.param_groups[0]["lr"] == 1e-3


def test_nested_values_round_trip():
    t = torch.arange(6).view(2, 3)
    p = nn.Parameter(torch.ones(2, dtype=torch.float64))
    obj = {
        "none": None, "bools": [True, False], "int": -(2**70), "float": 0.1, "nan": float("nan"), "inf": -math.inf,
        "str": "héllo", "tuple": (1, (2.5, "x")), "list": [t, t], "param": p, "grad": torch.ones(1, requires_grad=True),
        3: "int key", (1, 2): "tuple key", None: "none key", "device": torch.device("cpu"),
        "numpy": np.arange(3, dtype=np.int16), "scalar": np.float32(1.5), "half": torch.ones(2, dtype=torch.float16),
        "empty": torch.zeros(0, 3), "bool_t": torch.tensor([True, False]),
    }
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    back = torch.load(buffer)
    assert back["none"] is None and back["bools"] == [True, False] and back["int"] == -(2**70) and back["float"] == 0.1
    assert math.isnan(back["nan"]) and back["inf"] == -math.inf and back["str"] == "héllo"
    assert back["tuple"] == (1, (2.5, "x")) and back[3] == "int key" and back[(1, 2)] == "tuple key" and back[None] == "none key"
    assert back["list"][0] is back["list"][1] and back["list"][0].tolist() == [[0, 1, 2], [3, 4, 5]]  # one tensor, stored once
    assert isinstance(back["param"], nn.Parameter) and back["param"].requires_grad and back["param"].dtype == torch.float64
    assert back["grad"].requires_grad and not isinstance(back["grad"], nn.Parameter)
    assert back["device"] == torch.device("cpu") and back["numpy"].dtype == np.int16 and back["scalar"] == 1.5
    assert back["half"].dtype == torch.float16 and back["empty"].shape == (0, 3) and back["bool_t"].dtype == torch.bool
    assert type(back) is dict and list(back) == list(obj)


def test_unsupported_objects_are_refused_naming_them():
    class Custom:
        pass

    with pytest.raises(TypeError, match=r"Custom.*\['a'\]\[1\].*never pickles"):
        torch.save({"a": [1, Custom()]}, io.BytesIO())
    with pytest.raises(TypeError, match="cannot store"):
        torch.save({1, 2}, io.BytesIO())
    with pytest.raises(TypeError, match="object"):
        torch.save(np.array([object()]), io.BytesIO())


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    torch.save({"v": 1}, path)
    import microtorch.serialization as serialization

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_archive", broken)
    with pytest.raises(OSError, match="disk full"):
        torch.save({"v": 2}, path)
    monkeypatch.undo()
    assert torch.load(path) == {"v": 1}  # the old file is intact
    assert os.listdir(tmp_path) == ["model.pt"]  # and no temporary file is left


def test_damaged_and_foreign_files_are_clear_errors(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(100)}, path)
    data = path.read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError, match=r"truncated\.pt is damaged"):
        torch.load(tmp_path / "truncated.pt")
    flipped = bytearray(data)
    flipped[data.index(b"\x93NUMPY") + 200] ^= 0xFF  # a byte of the tensor's data: the CRC check fails
    (tmp_path / "flipped.pt").write_bytes(bytes(flipped))
    with pytest.raises(RuntimeError, match=r"flipped\.pt is damaged"):
        torch.load(tmp_path / "flipped.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(RuntimeError, match=r"empty\.pt is not a microtorch file: an empty file"):
        torch.load(tmp_path / "empty.pt")
    (tmp_path / "legacy.pt").write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(RuntimeError, match=r"legacy\.pt is not a microtorch file: a pickle file"):
        torch.load(tmp_path / "legacy.pt")
    np.savez(tmp_path / "arrays.npz", a=np.ones(2))
    with pytest.raises(RuntimeError, match=r"arrays\.npz is not a microtorch file: a numpy \.npz archive"):
        torch.load(tmp_path / "arrays.npz")
    with zipfile.ZipFile(tmp_path / "fake_torch.pt", "w") as z:  # the layout of torch.save's files
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("archive/version", b"3\n")
    with pytest.raises(RuntimeError, match=r"fake_torch\.pt is not a microtorch file: a PyTorch file"):
        torch.load(tmp_path / "fake_torch.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(RuntimeError, match="not a zip archive"):
        torch.load(tmp_path / "text.pt")
    with pytest.raises(FileNotFoundError):
        torch.load(tmp_path / "missing.pt")


def test_torch_files_are_recognised():
    torch_ = pytest.importorskip("torch")
    buffer = io.BytesIO()
    torch_.save({"w": torch_.ones(2)}, buffer)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="is not a microtorch file: a PyTorch file"):
        torch.load(buffer)


def test_map_location():
    buffer = io.BytesIO()
    torch.save(torch.ones(2), buffer)
    for location in (None, "cpu", torch.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage):
        buffer.seek(0)
        assert torch.load(buffer, map_location=location).tolist() == [1.0, 1.0]
    buffer.seek(0)
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        torch.load(buffer, map_location="cuda")
