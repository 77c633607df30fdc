"""Tiny fake data trees in the official layouts."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest


def write_tiny_video(path: Path, *, frames: int = 12, size: tuple[int, int] = (48, 64)) -> None:
    """Frame k is a flat grey of level 10 * k (so tests can tell which frame they got)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (size[1], size[0]))
    assert writer.isOpened()
    for k in range(frames):
        writer.write(np.full((*size, 3), 10 * k, np.uint8))
    writer.release()


@pytest.fixture
def ucf_tree(tmp_path) -> Path:
    root = tmp_path / "UCF-101"
    lists = tmp_path / "ucfTrainTestlist"
    lists.mkdir()
    classes = ["ApplyEyeMakeup", "HandstandPushups", "YoYo"]
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(classes)))
    train, test = [], []
    for i, c in enumerate(classes):
        video_class = "HandStandPushups" if c == "HandstandPushups" else c
        for g in (1, 2, 8):
            name = f"v_{video_class}_g{g:02d}_c01.avi"
            write_tiny_video(root / c / name)
            (test if g == 1 else train).append(f"{video_class}/{name}")
            if g != 1:
                train[-1] += f" {i + 1}"
    (lists / "trainlist01.txt").write_text("\n".join(train) + "\n")
    (lists / "testlist01.txt").write_text("\n".join(test) + "\n")
    return root


@pytest.fixture
def hmdb_tree(tmp_path) -> Path:
    root = tmp_path / "hmdb51"
    splits = tmp_path / "testTrainMulti_7030_splits"
    splits.mkdir()
    for c in ("brush_hair", "cartwheel"):
        lines = []
        for k, tag in enumerate((1, 1, 2, 0)):
            name = f"{c}_video_{k}.avi"
            write_tiny_video(root / c / name)
            lines.append(f"{name} {tag} ")
        (splits / f"{c}_test_split1.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def mot_tree(tmp_path) -> Path:
    root = tmp_path / "MOT17"
    seq = root / "train" / "MOT17-02-FRCNN"
    (seq / "img1").mkdir(parents=True)
    (seq / "gt").mkdir()
    for k in range(10):
        cv2.imwrite(str(seq / "img1" / f"{k + 1:06d}.jpg"), np.full((60, 80, 3), 20 * k, np.uint8))
    rows = []
    for k in range(10):
        rows.append(f"{k + 1},1,{11 + k},21,20,30,1,1,1")  # pedestrian moving right
        rows.append(f"{k + 1},2,51,6,10,10,1,4,1")  # a bicycle (class 4): not a target
        rows.append(f"{k + 1},3,41,31,10,20,0,1,1")  # flag 0: ignored
    (seq / "gt" / "gt.txt").write_text("\n".join(rows) + "\n")
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=MOT17-02-FRCNN\nimDir=img1\nframeRate=30\nseqLength=10\n"
                                     "imWidth=80\nimHeight=60\nimExt=.jpg\n")
    return root
