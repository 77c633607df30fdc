"""A MOT sequence shared without its images (seqinfo.ini + gt/ and/or det/, no img1/) as a VideoSource.

MOT annotations are often passed around without the pixels. Such a folder opens as a neutral grey
canvas of seqinfo's size and length, so its boxes can still be inspected, corrected and exported;
``has_pixels`` is False so that the viewer can say so and no model is run on grey frames.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator

import numpy as np

from engine.video.image_sequence import read_seqinfo
from engine.video.source import VideoError, VideoSource

GREY = 96  # neutral, darker than typical boxes' colours, far from both black and white
MAX_SIDE = 16384
MAX_FRAMES = 10_000_000


def is_pixel_less_sequence(folder: Path) -> bool:
    """A MOT sequence folder with seqinfo.ini and gt/ or det/ but no image folder."""
    seqinfo = folder / "seqinfo.ini"
    if not seqinfo.is_file():
        return False
    try:
        image_dir = folder / read_seqinfo(seqinfo).get("imdir", "img1")
    except VideoError:
        return False
    return not image_dir.exists() and ((folder / "gt").is_dir() or (folder / "det").is_dir())


class BlankSequenceSource(VideoSource):
    """seqLength grey frames of imWidth x imHeight at frameRate, from ``folder/seqinfo.ini``."""

    has_pixels = False

    def __init__(self, folder: str | Path):
        self.path = Path(folder)
        seqinfo = self.path / "seqinfo.ini"
        info = read_seqinfo(seqinfo)
        try:
            width, height = int(info["imwidth"]), int(info["imheight"])
            length, fps = int(info["seqlength"]), float(info["framerate"])
        except (KeyError, ValueError) as exc:
            raise VideoError(seqinfo, f"a sequence without images needs imWidth, imHeight, seqLength and "
                                      f"frameRate in seqinfo.ini ({exc})") from None
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
            raise VideoError(seqinfo, f"imWidth x imHeight = {width} x {height} is outside 1..{MAX_SIDE}")
        if not 1 <= length <= MAX_FRAMES:
            raise VideoError(seqinfo, f"seqLength={length} is outside 1..{MAX_FRAMES}")
        if not 0 < fps <= 1000:
            raise VideoError(seqinfo, f"frameRate={fps} is not a frame rate")
        self.width, self.height, self.fps, self._length = width, height, fps, length
        self._seqinfo_bytes = seqinfo.read_bytes()[:65536]
        self._canvas = np.full((height, width, 3), GREY, np.uint8)
        self._canvas.setflags(write=False)

    def __len__(self) -> int:
        return self._length

    def _read(self, k: int) -> np.ndarray:
        return self._canvas.copy()

    def _iter(self, start: int, stop: int) -> Iterator[np.ndarray]:
        for _ in range(start, stop):
            self._check_open()
            yield self._canvas.copy()

    def fingerprint(self) -> str:
        """The sequence's identity is its seqinfo.ini (there are no pixels to hash)."""
        return f"blank-v1:{self._length}:{hashlib.blake2b(self._seqinfo_bytes, digest_size=16).hexdigest()}"

    def clone(self) -> "BlankSequenceSource":
        return BlankSequenceSource(self.path)
