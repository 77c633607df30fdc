"""The background inference worker: runs the pipeline over a video into its results cache.

``InferenceWorker.run()`` is the whole job; ``WorkerThread`` runs it in a QThread, and tests may call
``run()`` directly (synchronous mode). The inference function is a parameter (default
``engine.pipeline.infer_video``, imported inside ``run()`` so torch loads in the worker thread, after
the first frame has been painted).
"""
from __future__ import annotations

import os
import sys
import threading
import traceback
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal

from engine.pipeline.control import CancelToken  # cheap: no torch, no scipy


def limit_torch_threads() -> int | None:
    """Leave a core to the UI thread: torch's intra-op threads for this (the worker) thread become every
    core but one, unless the user chose OMP_NUM_THREADS. Torch's default of one thread per core keeps
    every core busy (OpenMP workers spin between ops), starving the UI thread and the frame decoder
    thread, so the window stutters for the whole run. Returns the number set, or None."""
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    import torch

    from engine.pipeline.stream import default_cpu_threads

    threads = default_cpu_threads()
    torch.set_num_threads(threads)  # OpenMP's setting is per calling thread: call it in the worker
    return threads


def is_expected_error(exc: BaseException) -> bool:
    """Bad input the user can fix (missing/corrupt/foreign video, checkpoint or cache): OSError and
    ValueError subclasses carry a message naming the file; a traceback would only hide it."""
    return isinstance(exc, (OSError, ValueError))


def describe_error(exc: BaseException) -> str:
    """A one-line reason for the error dialog."""
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return f"out of memory while running the model ({exc})"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (OSError, ValueError)) else f"{type(exc).__name__}: {text}"


class InferenceWorker(QObject):
    """Runs ``infer_fn(video, model=..., cache_path=..., run_name=..., device=..., progress=..., cancel=...,
    on_frame=...)`` (the ``engine.pipeline.infer_video`` signature) once."""

    modelReady = Signal(str, list)  # run name, class names: known once the model is loaded, before any frame
    progressed = Signal(int, int, float)  # done, total, frames/s
    frameReady = Signal(object)  # FrameResult, emitted from the worker thread
    succeeded = Signal(str)  # run name
    failed = Signal(str)  # reason
    cancelled = Signal()
    done = Signal()  # after any of the three above

    def __init__(self, video: str | Path, *, model: str | Path = "demo", cache_path: str | Path,
                 run_name: str | None = None, device: str = "auto", infer_fn: Callable | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.video = Path(video)
        self.model = model
        self.cache_path = Path(cache_path)
        self.run_name = run_name
        self.device = device
        self._infer_fn = infer_fn
        self._token = CancelToken()
        self.result_name: str | None = None
        self.error: str | None = None
        self.was_cancelled = False
        # "loading" while torch and the model load (nothing written yet: safe to abandon when the app
        # quits), "running" once the pipeline (which stops within one window when cancelled) has started
        self.phase = "loading" if infer_fn is None else "running"

    def cancel(self) -> None:
        """Ask the pipeline to stop after its current window (thread-safe)."""
        self._token.cancel()

    def run(self) -> None:
        infer = self._infer_fn
        try:
            model = str(self.model)
            if infer is None:
                from engine.pipeline import infer_video  # imports torch: in this thread
                from engine.pipeline.runner import _load, default_run_name  # the pipeline's own model loading

                infer = infer_video
                limit_torch_threads()
                self._token.raise_if_cancelled()  # closed while torch was loading: stop before the model
                # loaded here, not inside the pipeline, so the viewer shows the model's class names and the
                # run's name from the first frame on (not "class 0…" until the run ends)
                net, meta, _device = _load(model, self.device)
                self._token.raise_if_cancelled()
                self.modelReady.emit(self.run_name or default_run_name(meta), list(meta["class_names"]))
                model = (net, meta)
                self.phase = "running"
            name = infer(self.video, model=model, cache_path=self.cache_path, run_name=self.run_name,
                         device=self.device, progress=self._on_progress, cancel=self._token,
                         on_frame=self.frameReady.emit)
        except BaseException as exc:  # noqa: BLE001 - reported to the user, never raised into Qt
            if self._token.cancelled:  # InferenceCancelled, or whatever the cancelled job raised
                self.was_cancelled = True
                self.cancelled.emit()
            else:
                self.error = describe_error(exc)
                if is_expected_error(exc):
                    print(f"stviewer: model run failed: {self.error}", file=sys.stderr)
                else:  # a bug: keep everything needed to find it
                    traceback.print_exception(exc)
                self.failed.emit(self.error)
        else:
            if self._token.cancelled:
                self.was_cancelled = True
                self.cancelled.emit()
            else:
                self.result_name = str(name)
                self.succeeded.emit(self.result_name)
        finally:
            self.done.emit()

    def _on_progress(self, progress) -> None:
        self.progressed.emit(int(progress.done), int(progress.total), float(progress.fps))


class _RunThread(QThread):
    def __init__(self, job: Callable[[], None]):
        super().__init__()
        self._job = job
        self.native_id: int | None = None  # the OS thread's id, so a check can tell this thread from others

    def run(self) -> None:  # no event loop: the thread ends when the job does
        self.native_id = threading.get_native_id()
        self._job()


class WorkerThread(QObject):
    """Owns one QThread running one InferenceWorker; ``stop()`` cancels and joins it. The worker object
    stays on the caller's thread, so its signals reach the UI queued (never blocking the worker)."""

    def __init__(self, worker: InferenceWorker, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self.thread = _RunThread(worker.run)
        self.thread.setObjectName("stviewer-inference")

    def start(self) -> None:
        self.thread.start(QThread.Priority.LowPriority)

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def wait(self, timeout_ms: int = -1) -> bool:
        if timeout_ms < 0:
            return self.thread.wait()
        return self.thread.wait(timeout_ms)

    def stop(self, timeout_ms: int = 30000) -> bool:
        """Cancel the worker and wait for its thread to end; True when it did."""
        self.worker.cancel()
        if not self.thread.isRunning():
            return True
        return self.thread.wait(timeout_ms)
