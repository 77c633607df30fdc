"""Read frames ahead of the model on a background thread, resized to the model's input.

Decoding (FFmpeg releases the GIL) then overlaps with the model's forward pass. The queue is
bounded, so memory stays flat however long the video is.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np

_END = object()


def resize_for_model(frame: np.ndarray, *, input_size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (h, w, 3) uint8 at the model's input size (h, w), stretched.

    Stretching (no letterbox) matches how training clips are resized; boxes map back with
    independent x and y scales.
    """
    h, w = input_size
    if frame.shape[0] == h and frame.shape[1] == w:
        return frame
    interpolation = cv2.INTER_AREA if frame.shape[0] > h else cv2.INTER_LINEAR
    return cv2.resize(frame, (w, h), interpolation=interpolation)


class PrefetchedFrames:
    """Iterate (frame_index, resized frame) pairs of ``source`` from ``start`` on a reader thread.

    Use as a context manager; leaving it stops and joins the thread.
    """

    def __init__(self, source: Any, *, start: int, input_size: tuple[int, int], depth: int = 32) -> None:
        self._source = source
        self._start = start
        self._input_size = input_size
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="stv-frame-reader", daemon=True)

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        try:
            index = self._start
            for frame in self._source.iter_frames(start=self._start):
                if not self._put((index, resize_for_model(frame, input_size=self._input_size))):
                    return
                index += 1
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)

    def __enter__(self) -> "PrefetchedFrames":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
