"""Checkpoints: round trip, no code unpickled, clear errors for foreign files and other configs, load_model."""
from __future__ import annotations

import hashlib
import json

import pytest
import torch

from engine.model import CheckpointError, build_model, load_checkpoint, load_model, save_checkpoint

SMALL = dict(input_size=(64, 96), clip_len=4, num_classes=3)
CLASSES = ["walk", "run", "wave"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(0)
    model = build_model("tiny", **SMALL).eval()
    path = save_checkpoint(tmp_path_factory.mktemp("ckpt") / "model.pt", model, class_names=CLASSES,
                           extra={"epochs": 3})
    return model, path


def test_round_trip_restores_weights_config_and_names(saved):
    model, path = saved
    loaded, meta = load_checkpoint(path)
    assert loaded.config == model.config and not loaded.training
    assert meta["class_names"] == CLASSES and meta["extra"] == {"epochs": 3}
    assert meta["config"] == model.config.to_dict() and meta["random_init"] is False
    assert meta["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    clip = torch.rand(1, 2, 3, 64, 96)
    with torch.no_grad():
        torch.testing.assert_close(loaded(clip).heatmap_logits, model(clip).heatmap_logits)
    # plain containers only: loadable without unpickling code
    payload = torch.load(path, weights_only=True)
    assert json.loads(payload["config"])["name"] == "tiny"


def test_checkpoint_for_another_config_names_the_differences(saved, tmp_path):
    _, path = saved
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, config="paper")
    message = str(info.value)
    assert str(path) in message and "missing keys" in message and "shape mismatches" in message
    assert "202 missing keys: encoder.layer1.0.bn3.bias" in message  # Bottleneck keys ResNet-18 lacks
    assert "(+" in message  # long lists are cut, with the count of the rest
    # a checkpoint whose weights were edited for another width: shapes named
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["fpn.smooth.0.weight"] = torch.zeros(1, 1, 3, 3)
    del payload["state_dict"]["tracking_head.heatmap.0.bias"]
    edited = tmp_path / "edited.pt"
    torch.save(payload, edited)
    with pytest.raises(CheckpointError, match=r"fpn.smooth.0.weight \(1, 1, 3, 3\) != \(64, 64, 3, 3\)") as info:
        load_checkpoint(edited)
    assert "tracking_head.heatmap.0.bias" in str(info.value) and str(edited) in str(info.value)


def test_foreign_files_are_refused_naming_the_file(tmp_path):
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="notes.pt"):
        load_checkpoint(text)
    bare = tmp_path / "bare.pt"
    torch.save({"conv.weight": torch.zeros(2)}, bare)
    with pytest.raises(CheckpointError, match="bare.pt.*not a stviewer model checkpoint"):
        load_checkpoint(bare)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(CheckpointError, match="truncated.pt"):
        load_checkpoint(truncated)


class Sneaky:
    def __reduce__(self):
        return (print, ("code ran",))


def test_pickled_code_is_never_run(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": "stviewer-model", "payload": Sneaky()}, path)
    with pytest.raises(CheckpointError, match="evil.pt") as caught:
        load_checkpoint(path)
    assert "code ran" not in capsys.readouterr().out
    assert "refused without being run" in str(caught.value)
    assert "weights_only" not in str(caught.value)  # never advise unsafe loading


def test_random_bytes_are_not_a_weights_file(tmp_path):
    path = tmp_path / "noise.pt"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(CheckpointError, match="noise.pt: not a readable model checkpoint: not a torch weights file"):
        load_checkpoint(path)


def test_save_checks_class_names(saved, tmp_path):
    model, _ = saved
    with pytest.raises(ValueError, match="class names"):
        save_checkpoint(tmp_path / "x.pt", model, class_names=["one"])


def test_load_model_demo_missing_is_an_error_not_a_random_model(tmp_path):
    from engine.assets import MissingAssetError

    with pytest.raises(MissingAssetError, match="demo model .*absent.pt is missing"):
        load_model("demo", demo_path=tmp_path / "absent.pt")
    with pytest.raises(FileNotFoundError):  # what callers that handle missing files already catch
        load_model("demo", demo_path=tmp_path / "absent.pt")


def test_load_model_reads_a_checkpoint(saved):
    _, path = saved
    model, meta = load_model(str(path))
    assert meta["class_names"] == CLASSES
    demo, demo_meta = load_model("demo", demo_path=path)
    assert demo_meta["random_init"] is False and demo.config.num_classes == 3
