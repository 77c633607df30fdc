"""The training loop on a tiny config: it learns, checkpoints every epoch, and resumes exactly."""
from __future__ import annotations

import pytest
import torch

from engine.model import load_checkpoint
from engine.train.checkpointing import TrainStateError, load_train_state
from engine.train.loop import TrainSettings, train

from train_helpers import TINY_OVERRIDES, tiny_clips


def _settings(out, **kw):
    base = dict(data="unused", out=str(out), config="tiny", epochs=2, lr=1e-3, lr_step=1, batch_size=4,
                device="cpu", progress=False, config_overrides=dict(TINY_OVERRIDES))
    base.update(kw)
    return TrainSettings(**base)


def test_two_epochs_straight_equal_one_plus_resume(tmp_path):
    clips = tiny_clips()
    lines: list[str] = []
    straight = train(_settings(tmp_path / "a"), clips=clips, log=lines.append)
    train(_settings(tmp_path / "b", epochs=1), clips=clips, log=lines.append)
    resumed = train(_settings(tmp_path / "b", resume=True), clips=clips, log=lines.append)
    assert resumed.epochs_run == 1
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    # the per-epoch log line names the loss parts, accuracy and throughput
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert len(epoch_lines) == 4
    for part in ("loss", "heatmap", "size", "offset", "reid", "track_action", "acc", "clips/s", "lr"):
        assert part in epoch_lines[-1]
    state = load_train_state(tmp_path / "b" / "train_state.pt")
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert state["scheduler"]["last_epoch"] == 2
    model, meta = load_checkpoint(tmp_path / "b" / "model.pt")
    assert meta["class_names"] == ["c0", "c1", "c2"]
    for name, value in model.state_dict().items():
        assert torch.equal(value, b[name]), name


def test_resume_refuses_other_settings(tmp_path):
    clips = tiny_clips(n=4)
    train(_settings(tmp_path, epochs=1), clips=clips, log=lambda s: None)
    with pytest.raises(TrainStateError, match="lr"):
        train(_settings(tmp_path, epochs=2, lr=5e-4, resume=True), clips=clips, log=lambda s: None)


def test_loss_falls_on_learnable_data(tmp_path):
    clips = tiny_clips(n=8)
    result = train(_settings(tmp_path, epochs=20, lr=3e-3, lr_step=30), clips=clips, log=lambda s: None)
    first, last = result.history[0], result.history[-1]
    assert last["loss"] < 0.6 * first["loss"], (first, last)
    assert last["heatmap"] < first["heatmap"]


def test_hflip_mirrors_targets_exactly_as_encoding_mirrored_boxes():
    import numpy as np

    from engine.model.targets import encode_targets
    from engine.train.data import hflip_item

    boxes = [np.array([[10.3, 5.0, 30.1, 40.0], [41.0, 12.5, 60.7, 50.0]], np.float32)]
    mirrored = [np.stack([64 - boxes[0][:, 2], boxes[0][:, 1], 64 - boxes[0][:, 0], boxes[0][:, 3]], 1)]
    kw = dict(input_size=(64, 64), max_objects=3)
    item = {"clip": torch.rand(1, 3, 64, 64), **encode_targets(boxes, [np.array([1, 2])], **kw)}
    expected = encode_targets(mirrored, [np.array([1, 2])], **kw)
    got = hflip_item(item)
    assert torch.equal(got["clip"], item["clip"].flip(-1))
    torch.testing.assert_close(got["heatmap"], expected["heatmap"])
    assert torch.equal(got["index"][got["mask"]], expected["index"][expected["mask"]])
    torch.testing.assert_close(got["offset"], expected["offset"], atol=1e-5, rtol=0)
    torch.testing.assert_close(got["size"], expected["size"])
