"""Display proxies: every frame as an in-memory JPEG at display resolution, within a byte budget.

Proxies are lossy and possibly downscaled: they are only for showing a frame at once while
scrubbing (``VideoSource.get_display_frame``). ``src[k]`` never returns a proxy.
"""
from __future__ import annotations

import threading

import numpy as np


class ProxyStore:
    def __init__(self, frame_count: int, *, budget_bytes: int, quality: int = 85):
        self.budget_bytes = int(budget_bytes)
        self.quality = int(quality)
        self._jpegs: list[bytes | None] = [None] * frame_count
        self._nbytes = 0
        self._lock = threading.Lock()
        self.size: tuple[int, int] | None = None  # (width, height) of the proxies
        self.full = False  # the budget ran out: later frames have no proxy

    @property
    def nbytes(self) -> int:
        return self._nbytes

    @property
    def count(self) -> int:
        return sum(j is not None for j in self._jpegs)

    def encode(self, bgr: np.ndarray) -> bytes:
        import cv2

        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return data.tobytes()

    def put(self, k: int, jpeg: bytes) -> bool:
        with self._lock:
            if self._nbytes + len(jpeg) > self.budget_bytes:
                self.full = True
                return False
            self._jpegs[k] = jpeg
            self._nbytes += len(jpeg)
            return True

    def __contains__(self, k: int) -> bool:
        return self._jpegs[k] is not None

    def get(self, k: int) -> np.ndarray | None:
        """RGB (h, w, 3) uint8 proxy of frame k, or None."""
        jpeg = self._jpegs[k]
        if jpeg is None:
            return None
        import cv2

        bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
