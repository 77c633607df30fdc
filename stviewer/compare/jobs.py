"""A function run once in the background (the whole-run comparison, review scoring), or synchronously
when ``threaded=False`` (tests). Its result reaches the UI thread through queued signals."""
from __future__ import annotations

import sys
import traceback
from typing import Callable

from PySide6.QtCore import QObject, Signal

from stviewer.workers import _RunThread, describe_error, is_expected_error


class Job(QObject):
    """``Job(fn).start()`` calls ``fn()``; succeeded(result) or failed(reason) follows."""

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], object], parent: QObject | None = None):
        super().__init__(parent)
        self._fn = fn
        self._thread: _RunThread | None = None

    def start(self, *, threaded: bool = True) -> None:
        if threaded:
            self._thread = _RunThread(self._run)
            self._thread.setObjectName("stviewer-job")
            self._thread.start()
        else:
            self._run()

    def _run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # noqa: BLE001 - reported to the user, never raised into Qt
            if not is_expected_error(exc):
                traceback.print_exception(exc, file=sys.stderr)
            self.failed.emit(describe_error(exc))
        else:
            self.succeeded.emit(result)

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def wait(self) -> None:
        """Join the thread (the functions run here are bounded; they are not cancelled)."""
        if self._thread is not None:
            self._thread.wait()
