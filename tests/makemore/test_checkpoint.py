import hashlib
import json
import os

import numpy as np
import pytest

import microtorch
import microtorch.nn.functional as F
from makemore import checkpoint as ckpt_module
from makemore.checkpoint import CheckpointError, atomic_write_bytes, load_checkpoint, save_checkpoint
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


def test_atomic_write_leaves_only_the_two_files(tmp_path):
    save(tmp_path)
    save(tmp_path, seed=1)  # overwrite
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.json", "checkpoint.npz"]


def test_failed_write_keeps_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_missing_run_or_files(tmp_path):
    with pytest.raises(CheckpointError, match="no such run folder"):
        load_checkpoint(tmp_path / "nope")
    with pytest.raises(CheckpointError, match="checkpoint.json: missing"):
        load_checkpoint(tmp_path)
    save(tmp_path)
    (tmp_path / "checkpoint.npz").unlink()
    with pytest.raises(CheckpointError, match="checkpoint.npz: missing"):
        load_checkpoint(tmp_path)


def test_truncated_npz(tmp_path):
    save(tmp_path)
    npz = tmp_path / "checkpoint.npz"
    npz.write_bytes(npz.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match=r"checkpoint\.npz: sha256 does not match"):
        load_checkpoint(tmp_path)


def test_unreadable_npz_with_matching_hash(tmp_path):
    save(tmp_path)
    garbage = b"not a zip file"
    (tmp_path / "checkpoint.npz").write_bytes(garbage)
    edit_json(tmp_path, npz_sha256=hashlib.sha256(garbage).hexdigest())
    with pytest.raises(CheckpointError, match=r"checkpoint\.npz: unreadable"):
        load_checkpoint(tmp_path)


def test_json_and_npz_from_different_saves(tmp_path):
    save(tmp_path / "a", seed=0)
    save(tmp_path / "b", seed=1)
    os.replace(tmp_path / "b" / "checkpoint.npz", tmp_path / "a" / "checkpoint.npz")
    with pytest.raises(CheckpointError, match="different save"):
        load_checkpoint(tmp_path / "a")


def edit_json(run_dir, **changes):
    path = run_dir / "checkpoint.json"
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))
    return meta


def test_corrupted_json(tmp_path):
    save(tmp_path)
    path = tmp_path / "checkpoint.json"
    path.write_text(path.read_text()[:50])
    with pytest.raises(CheckpointError, match=r"checkpoint\.json: not valid JSON"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize("changes, message", [
    ({"step": 7}, "one entry per step"),
    ({"step": -1}, "non-negative"),
    ({"vocab": list(".abc")}, "vocabulary has 4 characters"),
    ({"vocab": list("abc")}, "bad config or vocabulary"),
    ({"rng_state": {"seed": 1}}, "bad rng_state"),
    ({"format": "other"}, "unknown format"),
])
def test_edited_json(tmp_path, changes, message):
    save(tmp_path)
    edit_json(tmp_path, **changes)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(tmp_path)


def test_missing_json_key(tmp_path):
    save(tmp_path)
    meta = json.loads((tmp_path / "checkpoint.json").read_text())
    del meta["optimizer"]
    (tmp_path / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"checkpoint\.json: missing key\(s\) \['optimizer'\]"):
        load_checkpoint(tmp_path)


def test_shapes_that_do_not_fit_the_config(tmp_path):
    save(tmp_path)
    meta = json.loads((tmp_path / "checkpoint.json").read_text())
    edit_json(tmp_path, config={**meta["config"], "model": {**meta["config"]["model"], "n_hidden": 9}})
    with pytest.raises(CheckpointError, match=r"checkpoint\.npz: 2\.weight has shape \(8, 12\), the config needs \(9, 12\)"):
        load_checkpoint(tmp_path)
    edit_json(tmp_path, config={**meta["config"], "model": {**meta["config"]["model"], "batchnorm": False}})
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
