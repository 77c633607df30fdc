"""Tiny data trees in the official UCF-101, HMDB-51 and MOT17 layouts, for tests and `stv bench loader`.

Real downloads are tens of GB; the training and evaluation paths only need the layouts (split files,
class folders, seqinfo.ini, gt.txt) and decodable videos. Each tree's videos are a few frames of a
few dozen pixels, and ``shared_video=True`` hard-links every entry of the index to a handful of
encoded files, so a full UCF-101-sized index (101 classes, 13,320 clips, 3 splits) is written in
seconds. Frame k of a video is a flat grey whose level encodes the class and k (tests can tell
which window they got); an MOT sequence has one pedestrian box moving right.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

UCF_CLASSES = 101
UCF_GROUPS = 25
UCF_CLIPS = 13_320


def write_tiny_video(path: str | os.PathLike, *, frames: int = 12, size: tuple[int, int] = (48, 64),
                     level: int = 0) -> Path:
    """An MJPG .avi whose frame k is a flat grey of (level + 10 k) mod 256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (size[1], size[0]))
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV could not open an MJPG video writer")
    try:
        for k in range(frames):
            writer.write(np.full((*size, 3), (level + 10 * k) % 256, np.uint8))
    finally:
        writer.release()
    return path


def _place(template: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(template, target)
    except OSError:  # no hard links on this file system
        target.write_bytes(template.read_bytes())


def write_ucf101_tree(parent: str | os.PathLike, *, classes: int = 3, groups: int = 3, clips_per_class: int = 3,
                      total_clips: int | None = None, frames: int = 12, size: tuple[int, int] = (48, 64),
                      shared_video: bool = False) -> Path:
    """``parent``/UCF-101/<Class>/v_<Class>_gGG_cCC.avi + ``parent``/ucfTrainTestlist (classInd, 3 splits).

    A class's clips go round-robin over ``groups`` groups (clip i in group 1 + i % groups); split k
    holds out the k-th third of the groups, as the official lists hold out groups 1-7, 8-14, 15-21
    of 25. ``total_clips`` spreads that many clips over the classes instead of ``clips_per_class``
    (101 classes, 25 groups, 13,320 clips: UCF-101's index). Returns the UCF-101 folder.
    """
    parent = Path(parent)
    root, lists = parent / "UCF-101", parent / "ucfTrainTestlist"
    lists.mkdir(parents=True, exist_ok=True)
    names = [f"Class{c:03d}" for c in range(classes)]
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {n}\n" for i, n in enumerate(names)))
    third = max(1, groups // 3)
    entries: list[tuple[int, int, str]] = []  # (label, group, relative path)
    template = write_tiny_video(parent / "template.avi", frames=frames, size=size) if shared_video else None
    for label, name in enumerate(names):
        count = clips_per_class if total_clips is None else total_clips // classes + (label < total_clips % classes)
        for i in range(count):
            group, clip = 1 + i % groups, 1 + i // groups
            relative = f"{name}/v_{name}_g{group:02d}_c{clip:02d}.avi"
            if template is not None:
                _place(template, root / relative)
            else:
                write_tiny_video(root / relative, frames=frames, size=size, level=40 * label)
            entries.append((label, group, relative))
    for fold in (1, 2, 3):
        held_out = range((fold - 1) * third + 1, fold * third + 1)
        train = [f"{rel} {label + 1}\n" for label, g, rel in entries if g not in held_out]
        test = [f"{rel}\n" for label, g, rel in entries if g in held_out]
        (lists / f"trainlist{fold:02d}.txt").write_text("".join(train))
        (lists / f"testlist{fold:02d}.txt").write_text("".join(test))
    return root


def write_hmdb51_tree(parent: str | os.PathLike, *, classes: int = 2, videos_per_class: int = 6, frames: int = 12,
                      size: tuple[int, int] = (48, 64)) -> Path:
    """``parent``/hmdb51/<class>/<video>.avi + ``parent``/testTrainMulti_7030_splits (3 splits: in split k,
    video v is test when v % 3 == k - 1, else train). Returns the hmdb51 folder."""
    parent = Path(parent)
    root, splits = parent / "hmdb51", parent / "testTrainMulti_7030_splits"
    splits.mkdir(parents=True, exist_ok=True)
    for label in range(classes):
        name = f"action_{label}"
        for v in range(videos_per_class):
            write_tiny_video(root / name / f"{name}_video_{v}.avi", frames=frames, size=size, level=60 * label)
        for fold in (1, 2, 3):
            lines = [f"{name}_video_{v}.avi {2 if v % 3 == fold - 1 else 1} \n" for v in range(videos_per_class)]
            (splits / f"{name}_test_split{fold}.txt").write_text("".join(lines))
    return root


def write_mot17_tree(parent: str | os.PathLike, *, sequences: int = 1, frames: int = 12,
                     size: tuple[int, int] = (96, 128)) -> Path:
    """``parent``/MOT17/train/MOT17-0N-FRCNN/{img1/000001.jpg.., gt/gt.txt, seqinfo.ini}: one pedestrian
    (class 1) walking right, one ignored row (flag 0). Returns the MOT17 folder."""
    root = Path(parent) / "MOT17"
    height, width = size
    for s in range(sequences):
        seq = root / "train" / f"MOT17-{2 * s + 2:02d}-FRCNN"
        (seq / "img1").mkdir(parents=True, exist_ok=True)
        (seq / "gt").mkdir(exist_ok=True)
        rows = []
        for k in range(frames):
            image = np.full((height, width, 3), 90, np.uint8)
            left = 8 + 3 * k
            image[20:80, left:left + 24] = 230
            cv2.imwrite(str(seq / "img1" / f"{k + 1:06d}.jpg"), image)
            rows.append(f"{k + 1},1,{left + 1},21,24,60,1,1,1")
            rows.append(f"{k + 1},2,90,10,10,20,0,1,1")
        (seq / "gt" / "gt.txt").write_text("\n".join(rows) + "\n")
        (seq / "seqinfo.ini").write_text(
            f"[Sequence]\nname={seq.name}\nimDir=img1\nframeRate=30\nseqLength={frames}\n"
            f"imWidth={width}\nimHeight={height}\nimExt=.jpg\n")
    return root
