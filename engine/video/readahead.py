"""Read-ahead for sequential playback: a worker thread decodes frames ahead of the playhead.

The worker owns its own decoder (its own container), so it never contends with random reads on
the source's decoder; it only shares the frame cache. It is started on the first request and
stopped (joined) by ``stop()``, which the source calls from ``close()``.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from engine.video.frame_cache import FrameCache


class ReadAhead:
    def __init__(self, make_decoder: Callable, convert: Callable, cache: FrameCache, *,
                 window: int, name: str = "video-readahead"):
        self._make_decoder = make_decoder
        self._convert = convert
        self._cache = cache
        self.window = max(1, int(window))
        self._name = name
        self._cond = threading.Condition()
        self._want: tuple[int, int] | None = None  # [start, stop) still to decode
        self._busy_with: int | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def request(self, start: int, stop: int) -> None:
        """Decode frames [start, min(stop, start + window)) into the cache, replacing older requests."""
        with self._cond:
            if self._stopping:
                return
            self._want = (start, min(stop, start + self.window))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def cancel(self) -> None:
        with self._cond:
            self._want = None

    def covers(self, k: int) -> bool:
        with self._cond:
            return (self._want is not None and self._want[0] <= k < self._want[1]) or self._busy_with == k

    def wait_for(self, k: int, timeout: float = 2.0) -> bool:
        """Wait (bounded) for the worker to cache frame k when it is about to; True when cached."""
        deadline = time.monotonic() + timeout
        while self.covers(k) and self.running:
            if k in self._cache:
                return True
            with self._cache.changed:
                self._cache.changed.wait(timeout=0.02)
            if time.monotonic() > deadline:
                break
        return k in self._cache

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._want = None
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _next_job(self) -> int | None:
        """Next uncached frame of the request (None: wait). Called with the lock held."""
        while self._want is not None:
            start, stop = self._want
            if start >= stop:
                self._want = None
                break
            if start in self._cache:
                self._want = (start + 1, stop)
                continue
            return start
        return None

    def _run(self) -> None:
        decoder = None
        try:
            while True:
                with self._cond:
                    k = self._next_job()
                    while k is None and not self._stopping:
                        self._cond.wait()
                        k = self._next_job()
                    if self._stopping:
                        return
                    self._busy_with = k
                    self._want = (k + 1, self._want[1])
                if decoder is None:
                    decoder = self._make_decoder()
                self._cache.put(k, self._convert(decoder.frame(k)))
                with self._cond:
                    self._busy_with = None
        except BaseException as exc:  # noqa: BLE001 - reported to the source; reads then decode themselves
            self.error = exc
        finally:
            with self._cond:
                self._busy_with = None
            if decoder is not None:
                decoder.close()
