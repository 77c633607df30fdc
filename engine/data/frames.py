"""Reading a few frames of a short video or an image sequence for training (cv2, no torch).

Training windows are short and clips are small, so a sequential cv2 decode from the start up to
the last wanted frame is both exact and fast enough; no seeking (cv2's POS_FRAMES is not
frame-exact on every codec).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np


class FrameReadError(OSError):
    """A video or image that cannot be read (the message names the file)."""


def count_frames(path: str | os.PathLike) -> int:
    """Frame count from the container header, or by decoding when the header has none."""
    path = Path(path)
    if not path.is_file():
        raise FrameReadError(f"{path}: no such video file")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise FrameReadError(f"{path}: OpenCV cannot open this video")
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if n > 0:
            return n
        n = 0
        while cap.grab():
            n += 1
    finally:
        cap.release()
    if n == 0:
        raise FrameReadError(f"{path}: no decodable frames")
    return n


def read_video_frames(path: str | os.PathLike, indices: Sequence[int]) -> np.ndarray:
    """(K, H, W, 3) uint8 RGB frames at 0-based ``indices`` (any order, repeats allowed).

    Indices past the real end (headers can overstate the count) repeat the last decoded frame.
    """
    path = Path(path)
    wanted = np.asarray(indices, dtype=np.int64)
    if wanted.size == 0:
        raise ValueError("indices must not be empty")
    if wanted.min() < 0:
        raise ValueError(f"negative frame index {int(wanted.min())}")
    if not path.is_file():
        raise FrameReadError(f"{path}: no such video file")
    cap = cv2.VideoCapture(str(path))
    got: dict[int, np.ndarray] = {}
    last = None
    try:
        if not cap.isOpened():
            raise FrameReadError(f"{path}: OpenCV cannot open this video")
        needed = set(wanted.tolist())
        for k in range(int(wanted.max()) + 1):
            if k in needed:
                ok, frame = cap.read()
            else:
                ok = cap.grab()
                frame = None
            if not ok:
                break
            if frame is not None:
                got[k] = frame
            last = k
        if not got and last is not None:  # every wanted index is past the end: keep the last real frame
            cap.release()
            cap = cv2.VideoCapture(str(path))
            for _ in range(last + 1):
                ok, frame = cap.read()
                if not ok:
                    break
                got[last] = frame
    finally:
        cap.release()
    if not got:
        raise FrameReadError(f"{path}: no decodable frames")
    out = []
    for i in wanted.tolist():
        frame = got.get(i)
        if frame is None:  # past the end
            frame = got[max(k for k in got if k <= i)] if any(k <= i for k in got) else got[min(got)]
        out.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    return np.ascontiguousarray(np.stack(out))


def read_image_frames(paths: Sequence[str | os.PathLike]) -> np.ndarray:
    """(K, H, W, 3) uint8 RGB images."""
    out = []
    for p in paths:
        image = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if image is None:
            raise FrameReadError(f"{p}: missing or unreadable image")
        out.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    return np.ascontiguousarray(np.stack(out))
