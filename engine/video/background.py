"""Background indexing: decode the file once, in a thread, right after opening.

It (1) verifies the packet-scan index against what the decoder really outputs (frame count and
every pts), (2) fills the exact decoded-frame cache while it has free room (no eviction), and
(3) when the whole video does not fit there, keeps a JPEG display proxy of every frame within
its own byte budget. After it is done, ``src.get_display_frame(k)`` never decodes video
(warm seek = one JPEG decode, a few ms), while ``src[k]`` stays exact (cache hit, or an exact
keyframe seek + decode forward).
"""
from __future__ import annotations

import logging
import math
import threading
from pathlib import Path

import numpy as np

from engine.video.decoder import open_container, rotate, to_rgb
from engine.video.frame_cache import FrameCache
from engine.video.index import FrameIndex
from engine.video.proxy import ProxyStore

log = logging.getLogger(__name__)


class BackgroundIndexer:
    def __init__(self, path: str | Path, index: FrameIndex, cache: FrameCache, *, width: int, height: int,
                 proxy_budget_bytes: int, proxy_max_size: int = 1280, quality: int = 85, rotation: int = 0):
        """width, height: the stored (coded) frame size; rotation: counter-clockwise degrees applied to
        every cached frame and proxy (the display matrix)."""
        self.rotation = rotation
        self.path = Path(path)
        self.index = index
        self.cache = cache
        self.width, self.height = width, height
        n = len(index)
        self.proxies = ProxyStore(n, budget_bytes=proxy_budget_bytes, quality=quality)
        self.proxy_max_size = proxy_max_size
        frame_bytes = width * height * 3
        # everything fits in the exact cache: no proxies needed
        self.exact_only = n * frame_bytes <= cache.max_bytes - cache.nbytes
        self.done_count = 0
        self.verified_count: int | None = None  # frames the decoder really output, once done
        self.problem: str | None = None  # a disagreement between the index and the decoder
        self._stop = threading.Event()
        self.finished = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def progress(self) -> tuple[int, int]:
        return self.done_count, len(self.index)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="video-background-index", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    def _proxy_size(self, scale: float) -> tuple[int, int]:
        s = min(1.0, self.proxy_max_size / max(self.width, self.height)) * scale
        # even sizes keep swscale's chroma handling simple
        return max(2, int(self.width * s) // 2 * 2), max(2, int(self.height * s) // 2 * 2)

    def _proxy_bgr(self, frame, size):
        w, h = size
        if (w, h) == (self.width, self.height):
            return np.ascontiguousarray(rotate(frame.to_ndarray(format="bgr24"), self.rotation))
        small = frame.reformat(width=w, height=h, format="bgr24", interpolation="AREA").to_ndarray()
        return np.ascontiguousarray(rotate(small, self.rotation))

    def _run(self) -> None:
        import av

        n = len(self.index)
        expected = 0
        size = self._proxy_size(1.0)
        container = None
        try:
            container = open_container(self.path)
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # throughput: frame threading is bit-exact in FFmpeg
            try:
                for frame in container.decode(stream):
                    if self._stop.is_set():
                        return
                    k = self.index.frame_of_pts(frame.pts)
                    if k is None:
                        continue
                    if k != expected:
                        self.problem = f"decoder output frame {k} where frame {expected} was expected"
                        expected = k
                    expected += 1
                    if self.cache.max_bytes and not (k in self.cache):
                        if self.cache.has_room(self.width * self.height * 3):
                            self.cache.put(k, to_rgb(frame, self.rotation), evict=False)
                    if not self.exact_only and not self.proxies.full:
                        jpeg = self.proxies.encode(self._proxy_bgr(frame, size))
                        if k == 0:  # fit the whole video into the budget, judging by frame 0
                            projected = len(jpeg) * n * 1.15
                            if projected > self.proxies.budget_bytes:
                                size = self._proxy_size(math.sqrt(self.proxies.budget_bytes / projected))
                                jpeg = self.proxies.encode(self._proxy_bgr(frame, size))
                            self.proxies.size = size
                        self.proxies.put(k, jpeg)
                    self.done_count = expected
            except av.error.FFmpegError as exc:
                self.problem = f"decoding stopped at frame {expected} ({exc})"
            self.verified_count = expected
            if expected != n and self.problem is None:
                self.problem = f"the decoder output {expected} frames, the packet index has {n}"
        except BaseException as exc:  # noqa: BLE001 - reported through .problem
            self.problem = f"background indexing failed: {exc}"
        finally:
            if container is not None:
                container.close()
            if self.problem is not None:
                log.warning("%s: %s", self.path, self.problem)
            self.finished.set()
