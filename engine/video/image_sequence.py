"""A MOTChallenge image-sequence folder (``seqinfo.ini`` + ``img1/000001.jpg`` …) as a VideoSource.

Accepted paths: the sequence folder (holding seqinfo.ini), its image folder (img1/) or, with an
explicit ``fps=``, any folder of numbered images. Every frame 1..seqLength must be present: a gap
or a seqLength claiming more is refused naming the first missing image (the app and the CLI both
open sequences here, so they agree); each image
is decoded on access with OpenCV (the same decoder for random and sequential reads, so
``src[k]`` equals frame k of a sequential read by construction).
"""
from __future__ import annotations

import configparser
import re
import threading
from pathlib import Path
from typing import Iterator

import numpy as np

from engine.video.fingerprint import files_fingerprint
from engine.video.frame_cache import FrameCache
from engine.video.source import VideoError, VideoSource

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
MB = 1024 * 1024


def read_seqinfo(path: str | Path) -> dict[str, str]:
    """The [Sequence] section of a MOTChallenge seqinfo.ini, keys lower-cased."""
    parser = configparser.ConfigParser()
    try:
        if not parser.read(path):
            raise VideoError(path, "cannot read seqinfo.ini")
    except configparser.Error as exc:
        raise VideoError(path, f"malformed seqinfo.ini ({exc})") from exc
    if not parser.has_section("Sequence"):
        raise VideoError(path, "seqinfo.ini has no [Sequence] section")
    return {k.lower(): v.strip() for k, v in parser.items("Sequence")}


class ImageSequenceSource(VideoSource):
    def __init__(self, path: str | Path, *, fps: float | None = None, cache_mb: float = 128.0):
        path = Path(path)
        self.path = path
        if not path.is_dir():
            raise VideoError(path, "no such folder")
        seqinfo = path / "seqinfo.ini"
        if not seqinfo.exists() and (path.parent / "seqinfo.ini").exists():
            seqinfo = path.parent / "seqinfo.ini"
        claimed_length = None
        if seqinfo.exists():
            info = read_seqinfo(seqinfo)
            image_dir = seqinfo.parent / info.get("imdir", "img1")
            ext = info.get("imext", ".jpg")
            try:
                if fps is None:
                    fps = float(info["framerate"])
                claimed_length = int(info["seqlength"]) if "seqlength" in info else None
            except (KeyError, ValueError) as exc:
                raise VideoError(seqinfo, f"seqinfo.ini needs a numeric frameRate/seqLength ({exc})") from exc
            files = self._numbered(image_dir, ext, claimed_length)
        else:
            if fps is None:
                raise VideoError(path, "not a video file and no seqinfo.ini (pass fps= for a plain image folder)")
            image_dir = path
            files = sorted((p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                           key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)])
        if not files:
            raise VideoError(image_dir, "no frames (expected 000001.jpg …)")
        if not fps or fps <= 0:
            raise VideoError(path, f"invalid frame rate {fps!r}")
        self.fps = float(fps)
        self.files = files
        self.claimed_length = claimed_length
        self.cache = FrameCache(int(cache_mb * MB))
        self._options = dict(fps=fps, cache_mb=cache_mb)
        self._lock = threading.Lock()
        first = self._decode(0)
        self.height, self.width = first.shape[:2]

    @staticmethod
    def _numbered(image_dir: Path, ext: str, claimed: int | None) -> list[Path]:
        """Images 1..N of a MOT sequence: every one must be there. A gap (frame 20 of 40 missing) or a
        seqLength claiming more frames than there are images is refused, naming the first missing
        file: cutting the sequence short, or shifting every later frame, would pair boxes with the
        wrong pixels."""
        if not image_dir.is_dir():
            raise VideoError(image_dir, "image folder named in seqinfo.ini does not exist")
        by_number: dict[int, Path] = {}
        for p in image_dir.iterdir():  # the names present: cost scales with the folder, not with seqLength
            if p.name.endswith(ext) and p.name[:-len(ext)].isdigit():
                by_number.setdefault(int(p.name[:-len(ext)]), p)
        numbers = sorted(by_number)
        if not numbers:
            return []
        last = claimed if claimed is not None else numbers[-1]
        if claimed is not None and claimed > len(numbers):
            present = set(numbers)
            first_missing = next(k for k in range(1, len(numbers) + 2) if k not in present)
            raise VideoError(image_dir, f"seqinfo.ini says seqLength={claimed} but the folder holds {len(numbers)} "
                                        f"images; {first_missing:06d}{ext} is the first missing one")
        expected_count = last
        frames = [k for k in numbers if k <= last]
        if frames != list(range(1, expected_count + 1)):
            present = set(frames)
            missing = [k for k in range(1, expected_count + 1) if k not in present]
            raise VideoError(image_dir, f"{len(missing)} of {expected_count} frames are missing "
                                        f"(first: {missing[0]:06d}{ext}); refusing a sequence with gaps, since "
                                        f"every later frame would be paired with the wrong boxes")
        return [by_number[k] for k in frames]

    def __len__(self) -> int:
        return len(self.files)

    def _decode(self, k: int) -> np.ndarray:
        import cv2

        path = self.files[k]
        data = np.fromfile(path, dtype=np.uint8) if path.exists() else None
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
        if bgr is None:
            raise VideoError(path, f"frame {k} is missing or not a readable image")
        if hasattr(self, "width") and bgr.shape[:2] != (self.height, self.width):
            raise VideoError(path, f"frame {k} is {bgr.shape[1]}x{bgr.shape[0]}, "
                                   f"the sequence is {self.width}x{self.height}")
        return np.ascontiguousarray(bgr[:, :, ::-1])

    def _read(self, k: int) -> np.ndarray:
        frame = self.cache.get(k)
        if frame is None:
            frame = self._decode(k)
            if not self.cache.put(k, frame):
                return frame
        return frame.copy()

    def _iter(self, start: int, stop: int) -> Iterator[np.ndarray]:
        for k in range(start, stop):
            self._check_open()
            yield self._decode(k)

    def fingerprint(self) -> str:
        return files_fingerprint(self.files)

    def clone(self) -> "ImageSequenceSource":
        return ImageSequenceSource(self.path, **self._options)

    def close(self) -> None:
        self._closed = True
        self.cache.clear()
