"""Clip sampling, augmentation and the torch Datasets (synthetic, UCF-101, HMDB-51, MOT17)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from engine.data.clips import (ClipAugment, MOTClipDataset, SyntheticClipDataset, detect_layout, open_clip_dataset,
                               window_indices, window_starts)
from engine.data.synthetic import generate_clip, read_benchmark, write_benchmark

SIZE = (144, 256)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    write_benchmark(root, clips=3, seed=21, num_frames=20, size=SIZE)
    return root


def test_window_sampling():
    assert window_starts(20, span=8, mode="test") == [6]
    assert window_starts(20, span=8, mode="test", windows=3) == [0, 6, 12]
    assert window_starts(5, span=8, mode="test", windows=2) == [0, 0]
    rng = np.random.default_rng(0)
    starts = {window_starts(20, span=8, mode="train", rng=rng)[0] for _ in range(200)}
    assert starts == set(range(13))
    assert window_indices(3, clip_len=4, stride=2, num_frames=8).tolist() == [3, 5, 7, 7]
    with pytest.raises(ValueError):
        window_starts(20, span=8, mode="val")


def test_synthetic_items_match_the_generated_clip(bench):
    ds, names = open_clip_dataset(bench, clip_len=8, split="test", windows_per_clip=2)
    assert detect_layout(bench) == "synthetic" and ds.has_tracking and len(ds) == 6
    assert names == ["walk", "run", "jump", "wave", "crouch", "spin"]
    item = ds[1]  # clip 0, second window: frames 12..19
    assert item["start"] == 12 and item["clip"].shape == (8, 3, *SIZE) and item["clip"].dtype == torch.float32
    entry = read_benchmark(bench).clips[0]
    clip = generate_clip(seed=entry.seed, num_frames=20, size=SIZE, action=entry.label)
    assert item["label"] == clip.label_index
    decoded = (item["clip"].permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
    assert min(cv2.PSNR(a, b) for a, b in zip(decoded, clip.frames[12:20])) > 28
    for t in range(8):
        keep = clip.considered[12 + t]
        np.testing.assert_array_equal(item["boxes"][t], clip.boxes[12 + t][keep])
        np.testing.assert_array_equal(item["ids"][t], clip.ids[12 + t][keep])
        assert item["actor_labels"][t].tolist() == [names.index(clip.actor_actions[int(i)]) for i in item["ids"][t]]


def test_resizing_scales_boxes(bench):
    plain = SyntheticClipDataset(bench, clip_len=4, mode="test")
    resized = SyntheticClipDataset(bench, clip_len=4, mode="test", input_size=(72, 64))
    a, b = plain[0], resized[0]
    assert b["clip"].shape == (4, 3, 72, 64)
    np.testing.assert_allclose(b["boxes"][0], a["boxes"][0] * np.array([0.25, 0.5, 0.25, 0.5]), rtol=1e-6)


def test_train_windows_are_seeded_and_vary_by_epoch(bench):
    ds = SyntheticClipDataset(bench, clip_len=4, mode="train", seed=3)
    starts = [ds[i]["start"] for i in range(3)]
    assert starts == [SyntheticClipDataset(bench, clip_len=4, mode="train", seed=3)[i]["start"] for i in range(3)]
    seen = set()
    for epoch in range(8):
        ds.set_epoch(epoch)
        seen.add(ds[0]["start"])
    assert len(seen) > 1


def test_augment_flips_and_crops_boxes_with_the_pixels():
    frames = np.zeros((2, 40, 60, 3), np.uint8)
    frames[:, 10:30, 5:15] = 255  # a white block at x 5..15, y 10..30
    boxes = [np.array([[5, 10, 15, 30]], np.float32), np.zeros((0, 4), np.float32)]
    flip = ClipAugment(scale=(1, 1), ratio=(1, 1), flip_probability=1.0, brightness=0, contrast=0, saturation=0)
    out, out_boxes, kept = flip(frames, rng=np.random.default_rng(0), boxes=boxes)
    np.testing.assert_array_equal(out_boxes[0], [[45, 10, 55, 30]])
    assert out[0, 10:30, 45:55].min() == 255 and out[0].sum() == frames[0].sum()
    assert kept[0].tolist() == [True] and out_boxes[1].shape == (0, 4)
    # random crops: the box still frames the white pixels after crop + resize
    aug = ClipAugment(scale=(0.5, 0.9), brightness=0, contrast=0, saturation=0)
    for seed in range(10):
        out, out_boxes, kept = aug(frames, rng=np.random.default_rng(seed), boxes=boxes, output_size=(40, 60))
        ys, xs = np.nonzero(out[0, :, :, 0] > 128)
        if kept[0][0]:
            x1, y1, x2, y2 = out_boxes[0][0]
            assert xs.min() >= x1 - 1.5 and xs.max() <= x2 + 0.5 and ys.min() >= y1 - 1.5 and ys.max() <= y2 + 0.5
    jitter = ClipAugment(scale=(1, 1), ratio=(1, 1), flip_probability=0)
    out, _, _ = jitter(np.full((1, 8, 8, 3), 100, np.uint8), rng=np.random.default_rng(1))
    assert out.dtype == np.uint8 and not np.all(out == 100)


def test_video_datasets_over_ucf_and_hmdb(ucf_tree, hmdb_tree):
    ds, names = open_clip_dataset(ucf_tree, clip_len=4, split="test", stride=2)
    assert detect_layout(ucf_tree) == "ucf101" and not ds.has_tracking and len(ds) == 3 and len(names) == 3
    item = ds[2]
    assert item["label"] == 2 and item["clip"].shape == (4, 3, 48, 64)
    assert np.allclose(item["clip"].mean(dim=(1, 2, 3)).numpy() * 255 / 10, [2, 4, 6, 8], atol=0.3)
    train, _ = open_clip_dataset(ucf_tree, clip_len=4, split="train", input_size=(32, 32), augment=True)
    assert len(train) == 6 and train[5]["clip"].shape == (4, 3, 32, 32)
    hmdb, hnames = open_clip_dataset(hmdb_tree, clip_len=4, split="train", max_clips=2)
    assert detect_layout(hmdb_tree) == "hmdb51" and hnames == ["brush_hair", "cartwheel"] and len(hmdb) == 2
    assert {hmdb[i]["label"] for i in range(2)} == {0, 1}


def test_mot_dataset_targets_and_flip(mot_tree):
    ds, names = open_clip_dataset(mot_tree, clip_len=3, split="test")
    assert isinstance(ds, MOTClipDataset) and names == []
    item = ds[0]  # frames 3, 4, 5
    assert item["label"] == -1 and item["start"] == 3
    np.testing.assert_array_equal(item["boxes"][0], [[13, 20, 33, 50]])  # only the counted pedestrian
    assert item["ids"][0].tolist() == [1]
    flip = ClipAugment(scale=(1, 1), ratio=(1, 1), flip_probability=1.0, brightness=0, contrast=0, saturation=0)
    flipped = MOTClipDataset(ds.sequences, clip_len=3, mode="test", augment=flip)[0]
    np.testing.assert_array_equal(flipped["boxes"][0], [[80 - 33, 20, 80 - 13, 50]])


def test_unknown_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="not a `stv make-synthetic` folder"):
        open_clip_dataset(tmp_path, clip_len=4)
    with pytest.raises(FileNotFoundError, match="no such data folder"):
        open_clip_dataset(tmp_path / "missing", clip_len=4)
