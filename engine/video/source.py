"""The one interface every video source implements, and its error type.

A ``VideoSource`` is a sequence of RGB frames: ``len(src)`` frames, ``src[k]`` is an
(H, W, 3) uint8 RGB C-contiguous array identical to frame ``k`` of a sequential decode.

Thread safety: every public method of the sources in this package may be called from several
threads at once (the viewer reads from its worker thread and from the UI thread); decoding is
serialised per source by a lock. For parallel decoding open a second handle with ``clone()``,
which reuses the already built frame index and is therefore cheap.
"""
from __future__ import annotations

import abc
import operator
from pathlib import Path
from typing import Iterator

import numpy as np


class VideoError(OSError):
    """A video (file or image-sequence folder) is missing, unreadable, corrupt or not a video."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class VideoSource(abc.ABC):
    """Frame-exact random access to a video; see the module docstring for the contract."""

    path: Path
    fps: float
    width: int
    height: int

    # ---- to implement -------------------------------------------------------------------
    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def _read(self, k: int) -> np.ndarray:
        """Frame ``k`` (0 <= k < len), exact, as a fresh (H, W, 3) uint8 RGB C-contiguous array."""

    @abc.abstractmethod
    def _iter(self, start: int, stop: int) -> Iterator[np.ndarray]:
        """Frames start..stop-1 in order, decoded sequentially."""

    @abc.abstractmethod
    def fingerprint(self) -> str:
        """Cheap identity of the content: size + hash of sampled bytes (for cache pairing)."""

    @abc.abstractmethod
    def clone(self) -> "VideoSource":
        """A second, independent handle on the same video (cheap: reuses the index)."""

    def close(self) -> None:
        self._closed = True

    # ---- shared behaviour ---------------------------------------------------------------
    _closed: bool = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, 3)

    def _check_open(self) -> None:
        if self._closed:
            raise VideoError(self.path, "the video source is closed")

    def normalize_index(self, k) -> int:
        """Python-style index -> 0 <= k < len; IndexError when out of range."""
        try:
            k = operator.index(k)
        except TypeError:
            raise TypeError(f"video frame indices must be integers, not {type(k).__name__}") from None
        n = len(self)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError(f"frame index out of range (video has {n} frames): {path_name(self.path)}")
        return k

    def __getitem__(self, k) -> np.ndarray:
        self._check_open()
        return self._read(self.normalize_index(k))

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.iter_frames()

    def iter_frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Frames ``start`` .. ``stop - 1`` decoded sequentially (fast path for whole-video work)."""
        self._check_open()
        n = len(self)
        start, stop, _ = slice(start, stop).indices(n)
        if start >= stop:
            return iter(())
        return self._iter(start, stop)

    def frame_time(self, k: int) -> float:
        """Presentation time of frame ``k`` in seconds from the first frame."""
        return self.normalize_index(k) / self.fps

    def get_display_frame(self, k: int, *, max_size: int | None = None) -> np.ndarray:
        """Frame ``k`` for display, no larger than ``max_size`` on its longest side.

        Sources with background proxies may return a lossy (JPEG) proxy here when the exact
        frame is not in memory; the default is the exact frame, downscaled if needed.
        """
        return fit_to(self[k], max_size)

    @property
    def damaged_frames(self) -> list[int]:
        """Frames whose pixels are known to be damaged (concealed by the decoder or repeated from the
        previous frame); found while decoding, so the list grows as the video is read."""
        return []

    def is_damaged(self, k: int) -> bool:
        return False

    def start_background_index(self, **options):
        """Start warming random access in the background; a no-op where seeks are already cheap."""
        return None

    def wait_background_index(self, timeout: float | None = None) -> bool:
        """True once background indexing has finished (immediately where there is none)."""
        return True

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self)} frames"
        return (f"{type(self).__name__}({str(self.path)!r}, {self.width}x{self.height}, "
                f"{self.fps:.6g} fps, {state})")


def path_name(path) -> str:
    return str(path)


def fit_to(frame: np.ndarray, max_size: int | None) -> np.ndarray:
    """Downscale (area filter, aspect kept) so the longest side is <= max_size."""
    if max_size is None or max(frame.shape[:2]) <= max_size:
        return frame
    if max_size < 1:
        raise ValueError(f"max_size must be >= 1, got {max_size}")
    import cv2  # only needed when downscaling

    h, w = frame.shape[:2]
    scale = max_size / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.ascontiguousarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
