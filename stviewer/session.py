"""Session: opens videos and results caches, picks the run for the chosen model, and runs the
inference worker when that run is missing or incomplete. Owns every open resource; no widgets."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from engine.train.provenance import synthetic_domain_warning
from stviewer.cache_location import cache_path_for
from stviewer.model_identity import ModelIdentity, fresh_run_name, model_identity
from stviewer.model_identity import matching_run as _matching_run
from stviewer.run_data import RunData, damaged_note
from stviewer.state import ViewerState
from stviewer.workers import InferenceWorker, WorkerThread

RESULTS_SUFFIXES = (".h5", ".hdf5")
AUTO_INFER_DELAY_MS = 200


def open_session_cache(path: Path, **kwargs):
    """The session's handle on a cache: mode "a" when the file is writable (an idle "a" cache holds the file
    read-only like "r", and label sets are saved through it: stviewer.editing), else "r", also while another
    process is writing a run into it."""
    import os

    from engine.cache import ResultsCache
    from engine.cache.errors import CacheBusyError

    if os.access(path, os.W_OK):
        try:
            return ResultsCache.open(path, mode="a", **kwargs)
        except CacheBusyError:
            pass
    return ResultsCache.open(path, mode="r", **kwargs)


def is_results_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in RESULTS_SUFFIXES and Path(path).is_file()


class Session(QObject):
    """What is open. ``infer_fn`` defaults to engine.pipeline.infer_video (imported in the worker).
    ``demo_checkpoint``: where the "demo" model's file is (default: the bundled one; tests point it
    elsewhere)."""

    error = Signal(str, str)  # title, reason
    status = Signal(str)
    domainWarning = Signal(str)  # engine.train.provenance's warning for this model + video, "" when none
    runsChanged = Signal(list)  # run names of the open cache
    workerStarted = Signal()
    workerProgress = Signal(int, int, float)
    workerFinished = Signal(str)  # "succeeded", "cancelled" or "failed"
    opened = Signal(str)  # the path the user opened (recent files)

    def __init__(self, state: ViewerState, *, model: str | Path = "demo", device: str = "auto",
                 infer_fn: Callable | None = None, auto_infer: bool = True, threaded: bool = True,
                 demo_checkpoint: str | Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.demo_checkpoint = Path(demo_checkpoint) if demo_checkpoint is not None else None
        self.state = state
        self.model: str | Path = model
        self.device = device
        self.infer_fn = infer_fn
        self.auto_infer = auto_infer
        self.threaded = threaded  # False: the worker runs synchronously (tests)
        self.video_path: Path | None = None
        self.cache_path: Path | None = None
        self.cache = None
        self.worker_thread: WorkerThread | None = None
        self.worker: InferenceWorker | None = None
        self.last_worker_outcome: str | None = None
        self._pending_run_name: str | None = None
        self._abandoned_threads: list = []  # see close(quitting=True): referenced until they end

    # ---- opening --------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> bool:
        """Open a video file, a MOT sequence folder or a results .h5; False (and ``error``) on failure."""
        path = Path(path)
        if is_results_file(path):
            return self.open_results(path)
        return self.open_video(path)

    def open_video(self, path: str | Path, *, cache_path: str | Path | None = None,
                   run_name: str | None = None, infer: bool | None = None) -> bool:
        from engine.video import open_video

        path = Path(path)
        try:
            video = open_video(path)
        except (OSError, ValueError) as exc:
            self.error.emit("Cannot open video", str(exc))
            return False
        self.close()
        self.video_path = path
        self.cache_path = Path(cache_path) if cache_path is not None else cache_path_for(path)
        self.state.set_video(video)
        video.start_background_index()  # warm random seeks (a no-op for image sequences)
        self.opened.emit(str(path))
        self.status.emit(f"{path.name}: {len(video)} frames, {video.width}×{video.height}, {video.fps:.3g} fps")
        if not self.has_pixels():
            return self._open_pixel_less(path, video)
        self._load_cache(run_name)
        if infer if infer is not None else self.auto_infer:
            run = self.state.run
            if run is None or not run.has_result.all():
                self._auto_infer_pending = True
                # a moment after the first frame is painted: torch loads in the worker, not before it
                QTimer.singleShot(AUTO_INFER_DELAY_MS, self._auto_start)
        return True

    _auto_infer_pending = False

    PIXEL_LESS_RUN = "public-detections"  # det/det.txt of a sequence shared without images, tracked

    def has_pixels(self) -> bool:
        """False for a MOT sequence shared without its images (a grey canvas: no model to run on it)."""
        video = self.state.video
        return video is None or bool(getattr(video, "has_pixels", True))

    def _open_pixel_less(self, path: Path, video) -> bool:
        """A MOT folder with gt/det but no img1/: its det/det.txt tracked by the built-in tracker into a run
        (once) in its cache and shown on the grey canvas; the model never runs on it (gt/gt.txt becomes a
        label set through stviewer.editing, which imports a sequence's gt on ``opened``)."""
        from engine.cache import CacheError
        from engine.io import MOTFormatError, read_detections
        from engine.io.mot_import import import_detections_run, open_or_create_cache
        from engine.tracking import ByteTracker

        det = path / "det" / "det.txt"
        if det.is_file():
            try:
                detections = read_detections(det, seq_length=len(video))  # checked before the cache is touched
                with open_or_create_cache(self.cache_path, video=path) as cache:
                    if self.PIXEL_LESS_RUN not in cache.run_names:
                        import_detections_run(cache, detections, name=self.PIXEL_LESS_RUN, tracker=ByteTracker())
            except (CacheError, MOTFormatError, OSError, ValueError) as exc:
                self.error.emit("Cannot track the sequence's detections", str(exc))
        self._load_cache(self.PIXEL_LESS_RUN)
        shown = f"det/det.txt tracked as run {self.PIXEL_LESS_RUN!r}" if det.is_file() else "no det/det.txt"
        self.status.emit(f"{path.name}: no images (a grey {video.width}×{video.height} canvas); {shown}; "
                         f"the model needs images")
        return True

    def _auto_start(self) -> None:
        self._auto_infer_pending = False
        self.start_inference()

    def auto_infer_pending(self) -> bool:
        return self._auto_infer_pending

    def open_results(self, path: str | Path) -> bool:
        """Open a results cache and the video it was made from, showing its first complete run."""
        from engine.cache import ResultsCache

        path = Path(path)
        try:
            with ResultsCache.open(path, mode="r") as cache:
                info = cache.video
                runs = cache.run_names
        except (OSError, ValueError) as exc:
            self.error.emit("Cannot open results", str(exc))
            return False
        video = Path(info.path)
        if not video.is_absolute():
            video = path.parent / video
        if not video.exists() and (path.parent / video.name).exists():
            video = path.parent / video.name  # moved together with its cache
        if not video.exists():
            self.error.emit("Cannot open results", f"{path}: its video {info.path} was not found")
            return False
        ok = self.open_video(video, cache_path=path, run_name=runs[0] if runs else None, infer=False)
        if ok:
            self.opened.emit(str(path))
        return ok

    def _load_cache(self, run_name: str | None) -> None:
        self._close_cache()
        self.runsChanged.emit([])
        if self.cache_path is None or not self.cache_path.exists():
            return
        video = self.state.video
        try:
            self.cache = open_session_cache(self.cache_path, video_fingerprint=video.fingerprint(),
                                            video_path=str(self.video_path))
            names = self.cache.run_names
            self.runsChanged.emit(names)
            name = run_name if run_name in names else self.matching_run(names)
            if name is not None:
                self.state.set_run(RunData.from_reader(self.cache.run(name)))
            elif self.state.run is not None:
                self.state.set_run(None)  # another model's run is not this model's results
        except (OSError, ValueError, KeyError) as exc:
            self._close_cache()
            self.error.emit("Cannot read results", str(exc))

    def model_identity(self) -> ModelIdentity | None:
        return model_identity(self.model, demo_checkpoint=self.demo_checkpoint)

    def matching_run(self, names: list[str]) -> str | None:
        """The run of ``self.model`` in the open cache (its checkpoint sha256 is the model's), or None."""
        if self.cache is None:
            return None
        return _matching_run(self.model_identity(),
                             {name: self.cache.run(name).info.checkpoint_sha256 for name in names})

    def select_run(self, name: str) -> None:
        if self.is_running() or self.cache is None or name not in self.cache.run_names:
            return
        self.state.set_run(RunData.from_reader(self.cache.run(name)))

    def set_model(self, model: str | Path) -> None:
        """Use ``model`` ("demo" or a checkpoint path); shows its run, running it when missing."""
        self.model = model
        if self.video_path is None:
            return
        self.stop_inference()
        self._load_cache(None)
        if self.state.run is None or not self.state.run.has_result.all():
            self.start_inference()

    # ---- inference ------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.worker is not None

    def start_inference(self) -> None:
        if self.video_path is None or self.is_running():
            return
        if not self.has_pixels():
            self.status.emit(f"{self.video_path.name} has no images: there is nothing to run the model on")
            return
        run = self.state.run
        run_name = None
        names = self.cache.run_names if self.cache is not None else []
        identity = self.model_identity()
        if (run is not None and run.has_result.all() and run.name in names
                and run.name == self.matching_run([run.name])):
            self.status.emit(f"Run {run.name} of this model is already complete for {self.video_path.name}: "
                             f"nothing to run")
            return
        if run is not None and run.name in names and run.name != self.matching_run([run.name]):
            self.state.set_run(None)  # the run shown was made by another model: start this model's own
            run = None
        if run is not None:
            run_name = run.name
            run.detach_reader()  # this process cannot read the file while it writes it
        elif identity is not None:
            # the pipeline's default name may belong to another checkpoint's run (an older demo model)
            run_name = fresh_run_name(identity, names)
        self._close_cache()
        self._pending_run_name = run_name
        worker = InferenceWorker(self.video_path, model=self.model, cache_path=self.cache_path, run_name=run_name,
                                 device=self.device, infer_fn=self.infer_fn)
        self._runs_before = list(names)
        worker.modelReady.connect(self._on_model_ready)
        worker.frameReady.connect(self._on_frame)
        worker.progressed.connect(self.workerProgress)
        worker.succeeded.connect(lambda name: self._finish("succeeded", name))
        worker.cancelled.connect(lambda: self._finish("cancelled", None))
        worker.failed.connect(lambda reason: self._finish("failed", None, reason))
        self.worker = worker
        self.last_worker_outcome = None
        self.status.emit(f"Running model {self.model} on {self.video_path.name}…")
        self.workerStarted.emit()
        if self.threaded:
            self.worker_thread = WorkerThread(worker)
            self.worker_thread.start()
        else:
            worker.run()

    def _on_model_ready(self, run_name: str, class_names: list) -> None:
        """The worker loaded its model: show the run's name and class names before its first result."""
        if self.worker is None:
            return
        # a synthetic-only model on real footage: one standing notice (torch is loaded by now, in the worker)
        self.domainWarning.emit(synthetic_domain_warning(self.model, self.video_path,
                                                         demo_checkpoint=self.demo_checkpoint) or "")
        run = self.state.run
        if run is None or run.reader is None and run.name != run_name:
            self.state.set_run(RunData(name=run_name, num_frames=self.state.num_frames, class_names=class_names))
        if run_name not in self._runs_before:
            self.runsChanged.emit(self._runs_before + [run_name])

    _runs_before: list[str] = []

    def _on_frame(self, result) -> None:
        if self.worker is None:
            return  # a late signal from a worker already stopped
        run = self.state.run
        if run is None:
            K = len(result.action_probs)
            run = RunData(name=self._pending_run_name or "running", num_frames=self.state.num_frames,
                          class_names=[f"class {i}" for i in range(K)])
            self.state.set_run(run)
        run.add(result)
        self.state.notify_results()

    def _finish(self, outcome: str, run_name: str | None, reason: str = "") -> None:
        worker = self.worker
        if self.worker_thread is not None:
            self.worker_thread.wait()
        self.worker_thread = None
        self.worker = None
        self.last_worker_outcome = outcome
        name = run_name or (self.state.run.name if self.state.run is not None else None)
        self._reattach(name)
        self.workerFinished.emit(outcome)
        if outcome == "failed":
            self.status.emit("Model run failed")
            self.error.emit("Model run failed", reason)
        elif outcome == "cancelled":
            done = self.state.run.frames_done if self.state.run is not None else 0
            self.status.emit(f"Cancelled; {done} frames have results{damaged_note(self.state.run)}")
        else:
            where = self.cache_path
            if self.video_path is not None and where.parent.resolve() == self.video_path.resolve().parent:
                where = where.name  # beside the video: the folder is known, keep the message short
            self.status.emit(f"Results of {name} ready ({where}){damaged_note(self.state.run)}")
        del worker

    def _reattach(self, name: str | None) -> None:
        """After the worker: read the cache again, keeping live frames it does not have."""
        if self.cache_path is None or not self.cache_path.exists() or self.state.video is None:
            return
        try:
            self.cache = open_session_cache(self.cache_path)
            names = self.cache.run_names
            self.runsChanged.emit(names)
            if name not in names:
                name = self.matching_run(names) if names else None
            if name is None:
                return
            reader = self.cache.run(name)
            run = self.state.run
            if run is None or run.num_frames != reader.num_frames:
                self.state.set_run(RunData.from_reader(reader))
            else:
                selected = self.state.selected_track
                run.attach_reader(reader)
                self.state.set_run(run)  # class names are known now
                if selected >= 0:
                    self.state.select_track(selected)
            self.state.notify_results()
        except (OSError, ValueError, KeyError) as exc:
            self._close_cache()
            self.error.emit("Cannot read results", str(exc))

    def cancel_inference(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.status.emit("Cancelling after the current window…")

    def stop_inference(self, timeout_ms: int = 60000) -> None:
        """Cancel and join the worker (delivering its last signals)."""
        if self.worker_thread is not None:
            self.worker_thread.stop(timeout_ms)
        from PySide6.QtCore import QCoreApplication

        QCoreApplication.processEvents()  # deliver done/cancelled -> _finish
        if self.worker is not None:  # its signals were lost (e.g. no event loop): tidy up here
            self.worker = None
            self.worker_thread = None

    # ---- closing ----------------------------------------------------------------------------
    def _close_cache(self) -> None:
        if self.cache is not None:
            self.cache.close()
            self.cache = None

    def close(self, *, quitting: bool = False) -> None:
        """Stop the worker and release everything. ``quitting``: the application is exiting, so a worker
        still loading torch or its model (it has written nothing; an import cannot be interrupted) is
        cancelled but not waited for; one running the pipeline is joined, which takes at most one window
        and leaves the cache consistent."""
        worker, thread = self.worker, self.worker_thread
        if quitting and worker is not None and thread is not None and worker.phase == "loading":
            worker.cancel()
            if not thread.wait(200):
                self._abandoned_threads.append(thread)  # kept referenced: it ends on its own, or with the process
                self.worker = self.worker_thread = None
        self.stop_inference()
        self._close_cache()
        video = self.state.video
        if video is not None:
            self.state.set_video(None)
            video.close()
        self.video_path = None

    def frames_with_results(self) -> np.ndarray:
        run = self.state.run
        return np.zeros(0, bool) if run is None else run.has_result
