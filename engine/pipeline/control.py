"""Progress reports and cancellation shared by the pipeline and its callers (CLI, GUI worker)."""
from __future__ import annotations

import threading
from dataclasses import dataclass


class InferenceCancelled(Exception):
    """Raised out of the pipeline when its CancelToken was cancelled (after the current window)."""


class NonFiniteOutputError(ValueError):
    """The model produced NaN or inf (broken weights or inputs): the run stops, what was written stays."""


class CancelToken:
    """A thread-safe flag: the caller cancels, the pipeline checks it once per window."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise InferenceCancelled("inference cancelled")


@dataclass(frozen=True)
class Progress:
    """done/total frames of the current video and the throughput so far (frames per second)."""

    done: int
    total: int
    fps: float

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0
