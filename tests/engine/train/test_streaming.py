"""StreamingClips: a fresh window + augmentation per epoch, the same items whatever worker decodes them."""
from __future__ import annotations

import torch

from engine.config import get_config
from engine.data.tiny_trees import write_mot17_tree, write_ucf101_tree
from engine.train.streaming import NO_ACTION_LABEL, open_streaming_clips

from train_helpers import TINY_OVERRIDES


def batches(clips, workers):
    loader = torch.utils.data.DataLoader(clips, batch_size=2, num_workers=workers, shuffle=False)
    return [b["clip"] for b in loader]


def test_windows_change_per_epoch_and_not_per_worker(tmp_path):
    root = write_ucf101_tree(tmp_path, classes=2, groups=3, clips_per_class=3, frames=30)
    config = get_config("tiny", **TINY_OVERRIDES)
    clips = open_streaming_clips(root, config=config, fold=1, seed=0, max_clips=None)
    assert len(clips) == 4 and clips.class_names == ["Class000", "Class001"] and not clips.has_tracking
    item = clips[0]
    assert item["clip"].shape == (4, 3, 64, 64) and item["label"].item() in (0, 1) and item["source"].item() == 0
    clips.set_epoch(0)
    epoch0 = batches(clips, 0)
    assert all(torch.equal(a, b) for a, b in zip(epoch0, batches(clips, 2)))  # workers: the same items
    clips.set_epoch(1)
    epoch1 = batches(clips, 0)
    assert any(not torch.equal(a, b) for a, b in zip(epoch0, epoch1))  # a new window / crop / jitter


def test_mot_items_carry_tracking_targets_and_no_action_label(tmp_path):
    root = write_mot17_tree(tmp_path, frames=12)
    config = get_config("tiny", **TINY_OVERRIDES)
    clips = open_streaming_clips(root, config=config, fold=1, seed=0, max_clips=None)
    assert len(clips) == 3 and clips.has_tracking and clips.dataset_name == "mot17"
    item = clips[1]
    assert item["label"].item() == NO_ACTION_LABEL and item["source"].item() == 0
    assert item["heatmap"].shape == (4, 1, 8, 8) and item["mask"].any()


def test_mot17_detector_copies_of_a_sequence_count_once(tmp_path):
    import shutil

    root = write_mot17_tree(tmp_path, sequences=2, frames=8)
    train = root / "train"
    for copy in ("DPM", "SDP"):
        shutil.copytree(train / "MOT17-02-FRCNN", train / f"MOT17-02-{copy}")
        ini = train / f"MOT17-02-{copy}" / "seqinfo.ini"
        ini.write_text(ini.read_text().replace("MOT17-02-FRCNN", f"MOT17-02-{copy}"))
    config = get_config("tiny", **TINY_OVERRIDES)
    clips = open_streaming_clips(root, config=config, fold=1, seed=0, max_clips=None)
    assert sorted(s.name for s in clips.windows.sequences) == ["MOT17-02-DPM", "MOT17-04-FRCNN"]
