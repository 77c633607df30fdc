"""A thread-safe LRU cache of decoded frames bounded by bytes (not by frame count)."""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np


class FrameCache:
    """LRU map ``frame index -> array`` holding at most ``max_bytes`` of array data.

    Stored arrays are made read-only so a caller can never corrupt a cached frame; sources
    hand out copies.
    """

    def __init__(self, max_bytes: int):
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()
        # notified on every put, so a reader can wait for a frame being decoded elsewhere
        self.changed = threading.Condition(self._lock)

    @classmethod
    def from_megabytes(cls, megabytes: float) -> "FrameCache":
        return cls(int(megabytes * 1024 * 1024))

    @property
    def nbytes(self) -> int:
        return self._nbytes

    def __len__(self) -> int:
        return len(self._frames)

    def __contains__(self, k: int) -> bool:
        with self._lock:
            return k in self._frames

    def get(self, k: int) -> np.ndarray | None:
        with self._lock:
            frame = self._frames.get(k)
            if frame is not None:
                self._frames.move_to_end(k)
            return frame

    def has_room(self, nbytes: int) -> bool:
        """Whether ``nbytes`` more would fit without evicting anything."""
        with self._lock:
            return self._nbytes + nbytes <= self.max_bytes

    def put(self, k: int, frame: np.ndarray, *, evict: bool = True) -> bool:
        """Store ``frame`` (LRU-evicting others if ``evict``); False when it did not fit."""
        size = frame.nbytes
        if size > self.max_bytes:
            return False
        with self._lock:
            old = self._frames.pop(k, None)
            if old is not None:
                self._nbytes -= old.nbytes
            if not evict and self._nbytes + size > self.max_bytes:
                if old is not None:  # put it back untouched
                    self._frames[k] = old
                    self._nbytes += old.nbytes
                return False
            while self._nbytes + size > self.max_bytes and self._frames:
                _, dropped = self._frames.popitem(last=False)
                self._nbytes -= dropped.nbytes
            frame.setflags(write=False)
            self._frames[k] = frame
            self._nbytes += size
            self.changed.notify_all()
            return True

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
            self._nbytes = 0
