import errno
import json
import os

import numpy as np
import pytest

import microtorch
import microtorch.nn.functional as F
from makemore import checkpoint as ckpt_module
from makemore import files
from makemore.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from makemore.data import build_vocab
from makemore.models.mlp import ModelConfig, build_model

CONFIG = ModelConfig(n_embd=4, n_hidden=8, n_layers=2)
VOCAB = build_vocab(["abcdefghijklmnopqrstuvwxyz"])


def state(model):
    return {k: v.numpy() for k, v in model.state_dict().items()}


def trained(seed=0, steps=3, momentum=0.9):
    """A small model and SGD-with-momentum optimizer after a few steps (so buffers and state are non-trivial)."""
    g = microtorch.Generator().manual_seed(seed)
    model = build_model(CONFIG, g)
    opt = microtorch.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
    losses = []
    for _ in range(steps):
        X = microtorch.randint(0, 27, (16, 3), generator=g)
        Y = microtorch.randint(0, 27, (16,), generator=g)
        loss = F.cross_entropy(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, opt, g, losses


def save(run_dir, seed=0, steps=3):
    model, opt, g, losses = trained(seed, steps)
    save_checkpoint(run_dir, model, opt, config={"model": CONFIG.to_dict(), "train": {"lr": 0.1}}, vocab=VOCAB,
                    step=steps, generator=g, losses=losses, extra={"note": "x"})
    return model, opt, g, losses


def test_round_trip_restores_everything(tmp_path):
    model, opt, g, losses = save(tmp_path)
    ck = load_checkpoint(tmp_path)
    assert ck.step == 3 and ck.losses == losses and ck.vocab == VOCAB
    assert ck.model_config == CONFIG and ck.config["train"] == {"lr": 0.1} and ck.extra == {"note": "x"}

    fresh = build_model(CONFIG, microtorch.Generator().manual_seed(99))
    fresh_opt = microtorch.optim.SGD(fresh.parameters(), lr=0.5, momentum=0.9)
    fresh_g = microtorch.Generator()
    ck.restore(fresh, fresh_opt, fresh_g)
    for (k, a), b in zip(state(model).items(), state(fresh).values()):
        assert np.array_equal(a, b), k
    assert int(fresh[3].num_batches_tracked.item()) == 3
    assert fresh_opt.param_groups[0]["lr"] == 0.1
    for p, q in zip(opt.param_groups[0]["params"], fresh_opt.param_groups[0]["params"]):
        assert np.array_equal(opt.state[p]["momentum_buffer"].numpy(), fresh_opt.state[q]["momentum_buffer"].numpy())
    assert np.array_equal(microtorch.randn(5, generator=g).numpy(), microtorch.randn(5, generator=fresh_g).numpy())
    assert np.array_equal(state(ck.build_model())["0.weight"], state(model)["0.weight"])


def test_a_save_leaves_one_file_and_replaces_it(tmp_path):
    save(tmp_path)
    save(tmp_path, seed=1, steps=4)  # overwrite
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    assert load_checkpoint(tmp_path).step == 4


def test_the_file_is_a_plain_npz_with_the_state_dict(tmp_path):
    model, *_ = save(tmp_path)
    with np.load(tmp_path / "checkpoint.npz") as z:
        state_dict = {k.removeprefix("model:"): z[k] for k in z.files if k.startswith("model:")}
        assert {"meta", "sha256", "losses"} <= set(z.files)
    assert state_dict.keys() == state(model).keys()


@pytest.mark.parametrize("where", ["write", "fsync", "replace"])
def test_a_failed_save_keeps_the_old_checkpoint_and_no_temporary(tmp_path, monkeypatch, where):
    save(tmp_path)
    before = (tmp_path / "checkpoint.npz").read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    target = {"write": (files.os, "write"), "fsync": (files.os, "fsync"), "replace": (files.os, "replace")}[where]
    monkeypatch.setattr(*target, disk_full)
    with pytest.raises(OSError) as info:
        save(tmp_path, seed=1, steps=5)
    assert info.value.errno == errno.ENOSPC and info.value.filename  # the error names a path
    monkeypatch.undo()
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    assert load_checkpoint(tmp_path).step == 3


def test_missing_run_or_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such run folder"):
        load_checkpoint(tmp_path / "nope")
    with pytest.raises(CheckpointError, match=r"checkpoint\.npz: missing \(is this a run folder\?\)"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.json").write_text("{}")
    with pytest.raises(CheckpointError, match="an older makemore"):
        load_checkpoint(tmp_path)


def test_truncated_or_garbage_file(tmp_path):
    save(tmp_path)
    path = tmp_path / "checkpoint.npz"
    data = path.read_bytes()
    for damaged in (data[:-100], data[: len(data) // 2], b"not a zip file", b""):
        path.write_bytes(damaged)
        with pytest.raises(CheckpointError, match=r"checkpoint\.npz: unreadable"):
            load_checkpoint(tmp_path)


def test_a_member_from_another_save_breaks_the_digest(tmp_path):
    save(tmp_path / "a", seed=0)
    save(tmp_path / "b", seed=1)
    a, meta = ckpt_module.unpack((tmp_path / "a" / "checkpoint.npz").read_bytes(), tmp_path)
    b, _ = ckpt_module.unpack((tmp_path / "b" / "checkpoint.npz").read_bytes(), tmp_path)
    members = {**a, "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    members["sha256"] = np.frombuffer(ckpt_module._digest(members).encode(), dtype=np.uint8)
    members["model:0.weight"] = b["model:0.weight"]
    with open(tmp_path / "a" / "checkpoint.npz", "wb") as f:
        np.savez(f, **members)
    with pytest.raises(CheckpointError, match="sha256 does not match its contents"):
        load_checkpoint(tmp_path / "a")


def test_every_flipped_bit_is_caught_or_changes_nothing(tmp_path):
    """A sample of single-bit flips over the whole file: each one is reported, or (a flip in a
    field nothing reads, such as a zip timestamp) loads exactly the saved state."""
    save(tmp_path)
    path = tmp_path / "checkpoint.npz"
    data = path.read_bytes()
    good = load_checkpoint(tmp_path)
    rng = np.random.default_rng(0)
    caught = 0
    for bit in rng.choice(len(data) * 8, size=300, replace=False):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        try:
            ck = ckpt_module.parse(bytes(flipped), path)
        except CheckpointError:
            caught += 1
            continue
        assert ck.step == good.step and ck.losses == good.losses and ck.config == good.config
        assert ck.rng_state == good.rng_state and ck.extra == good.extra
        assert all(np.array_equal(ck.model_state[k], v) for k, v in good.model_state.items())
    assert caught > 200


def edit_meta(run_dir, **changes):
    """Rewrite the checkpoint with meta changed and a valid digest (to reach the checks behind it)."""
    path = run_dir / "checkpoint.npz"
    arrays, meta = ckpt_module.unpack(path.read_bytes(), path)
    meta.update(changes)
    path.write_bytes(ckpt_module.pack(arrays, meta))
    return meta


def test_meta_that_is_not_json(tmp_path):
    save(tmp_path)
    path = tmp_path / "checkpoint.npz"
    arrays, _ = ckpt_module.unpack(path.read_bytes(), path)
    members = {**arrays, "meta": np.frombuffer(b"{not json", dtype=np.uint8)}
    members["sha256"] = np.frombuffer(ckpt_module._digest(members).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **members)
    with pytest.raises(CheckpointError, match=r"checkpoint\.npz: meta is not valid JSON"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize("changes, message", [
    ({"step": 7}, "one entry per step"),
    ({"step": -1}, "non-negative"),
    ({"vocab": list(".abc")}, "vocabulary has 4 characters"),
    ({"vocab": list("abc")}, "bad config or vocabulary"),
    ({"rng_state": {"seed": 1}}, "bad rng_state"),
    ({"format": "other"}, "unknown format"),
])
def test_edited_meta(tmp_path, changes, message):
    save(tmp_path)
    edit_meta(tmp_path, **changes)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(tmp_path)


def test_missing_meta_key(tmp_path):
    save(tmp_path)
    path = tmp_path / "checkpoint.npz"
    arrays, meta = ckpt_module.unpack(path.read_bytes(), path)
    del meta["optimizer"]
    path.write_bytes(ckpt_module.pack(arrays, meta))
    with pytest.raises(CheckpointError, match=r"checkpoint\.npz: meta lacks key\(s\) \['optimizer'\]"):
        load_checkpoint(tmp_path)


def test_shapes_that_do_not_fit_the_config(tmp_path):
    save(tmp_path)
    meta = ckpt_module.unpack((tmp_path / "checkpoint.npz").read_bytes(), tmp_path)[1]
    edit_meta(tmp_path, config={**meta["config"], "model": {**meta["config"]["model"], "n_hidden": 9}})
    with pytest.raises(CheckpointError, match=r"checkpoint\.npz: 2\.weight has shape \(8, 12\), the config needs \(9, 12\)"):
        load_checkpoint(tmp_path)
    edit_meta(tmp_path, config={**meta["config"], "model": {**meta["config"]["model"], "batchnorm": False}})
    with pytest.raises(CheckpointError, match="missing .*2.bias.* unexpected .*3.running_mean"):
        load_checkpoint(tmp_path)


def test_restore_into_a_different_model_changes_nothing(tmp_path):
    save(tmp_path)
    ck = load_checkpoint(tmp_path)
    other = build_model(ModelConfig(n_embd=4, n_hidden=8, n_layers=1), microtorch.Generator())
    before = state(other)
    with pytest.raises(CheckpointError, match="missing"):
        ck.restore(other)
    assert all(np.array_equal(before[k], v) for k, v in state(other).items())


def test_restore_with_a_mismatched_optimizer_changes_nothing(tmp_path):
    save(tmp_path)
    ck = load_checkpoint(tmp_path)
    model = build_model(CONFIG, microtorch.Generator())
    before = state(model)
    params = list(model.parameters())
    opt = microtorch.optim.SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1)
    with pytest.raises(CheckpointError, match="parameter groups"):
        ck.restore(model, opt)
    assert all(np.array_equal(before[k], v) for k, v in state(model).items())
