"""Fixtures for the viewer tests: tiny synthetic clips, caches with known tracks, a fake pipeline."""
from __future__ import annotations

import gc
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import stviewer  # noqa: F401  (applies the PySide6 emit() refcount fix first)

from engine.cache import ResultsCache
from engine.cache.synthetic import synthetic_frame
from engine.results import FrameResult

CLASS_NAMES = ["walk", "run", "jump", "wave", "sit", "stand"]
CLIP_FRAMES = 40
CLIP_SIZE = (320, 240)  # width, height
KNOWN_ID = 7
KNOWN_FRAME = 12
KNOWN_BOX = (60.0, 50.0, 180.0, 170.0)  # x1, y1, x2, y2 on KNOWN_FRAME


@pytest.fixture(scope="session")
def clip_master(tmp_path_factory) -> Path:
    from engine.video.synthetic import write_clip

    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    return write_clip(path, frames=CLIP_FRAMES, width=CLIP_SIZE[0], height=CLIP_SIZE[1], fps=25, gop=10)


@pytest.fixture
def clip(clip_master, tmp_path) -> Path:
    """A fresh copy per test (its cache goes beside it)."""
    dst = tmp_path / "clip.mp4"
    shutil.copy(clip_master, dst)
    return dst


def frame_result(k: int) -> FrameResult:
    """Synthetic results scaled to the clip, plus the known track on KNOWN_FRAME."""
    r = synthetic_frame(k, num_classes=len(CLASS_NAMES), width=CLIP_SIZE[0], height=CLIP_SIZE[1],
                        num_tracks=3, with_detections=True)
    if k == KNOWN_FRAME:
        x1, y1, x2, y2 = KNOWN_BOX
        r.tracks = np.array([[x1, y1, x2, y2, 0.9, KNOWN_ID]], np.float32)
        r.track_action_probs = np.eye(len(CLASS_NAMES), dtype=np.float32)[[2]]
        r.detections = None
    return r


def write_cache(video: Path, *, run_name: str = "demo", frames: int | None = None,
                cache_path: Path | None = None, checkpoint_sha256: str | None = None) -> Path:
    """A cache with run ``run_name``, made (by default) by the checkpoint the viewer's "demo" model is now."""
    from engine.video import open_video
    from stviewer.model_identity import model_identity

    if checkpoint_sha256 is None:
        checkpoint_sha256 = model_identity("demo").sha256

    with open_video(video) as v:
        fp, n = v.fingerprint(), len(v)
    cache_path = cache_path or video.with_name(video.name + ".stv.h5")
    with ResultsCache.create(cache_path, video_fingerprint=fp, video_path=str(video), num_frames=n, fps=25,
                             width=CLIP_SIZE[0], height=CLIP_SIZE[1]) as cache:
        with cache.create_run(run_name, model_config={"name": "fake"}, checkpoint_sha256=checkpoint_sha256, params={},
                              class_names=CLASS_NAMES, alpha_shape=(28, 48)) as writer:
            for k in range(n if frames is None else frames):
                writer.write(frame_result(k))
    return cache_path


@pytest.fixture
def cached_clip(clip) -> Path:
    write_cache(clip)
    return clip


class FakeInfer:
    """An ``engine.pipeline.infer_video``-compatible function writing synthetic results, slowly."""

    def __init__(self, *, delay_s: float = 0.0, fail_at: int | None = None, checkpoint_sha256: str | None = None):
        self.checkpoint_sha256 = checkpoint_sha256  # recorded in new runs (default: the model's real one)
        self.delay_s = delay_s
        self.fail_at = fail_at
        self.calls = 0
        self.thread_names: list[str] = []
        self.run_names: list[str | None] = []  # the run_name of each call
        self.started = threading.Event()

    def __call__(self, video, *, model, cache_path, run_name=None, device="auto", progress=None, cancel=None,
                 on_frame=None, **_):
        from engine.pipeline.control import InferenceCancelled, Progress
        from engine.video import open_video
        from stviewer.model_identity import model_identity

        self.calls += 1
        self.thread_names.append(threading.current_thread().name)
        self.run_names.append(run_name)
        identity = model_identity(model)
        sha = self.checkpoint_sha256 or (identity.sha256 if identity is not None else "")
        name = run_name or "demo"
        with open_video(video) as v:
            fp, n = v.fingerprint(), len(v)
        cache = ResultsCache.create(cache_path, video_fingerprint=fp, video_path=str(video), num_frames=n,
                                    fps=25, width=CLIP_SIZE[0], height=CLIP_SIZE[1])
        with cache:
            if name in cache.run_names:
                writer = cache.open_run_writer(name)
            else:
                writer = cache.create_run(name, model_config={"name": "fake"}, checkpoint_sha256=sha, params={},
                                          class_names=CLASS_NAMES, alpha_shape=(28, 48))
            with writer:
                t0 = time.perf_counter()
                self.started.set()
                for k in range(writer.completed_frames, n):
                    if cancel is not None and cancel.cancelled:
                        raise InferenceCancelled("inference cancelled")
                    if self.fail_at == k:
                        raise ValueError(f"{video}: fake failure at frame {k}")
                    if self.delay_s:
                        time.sleep(self.delay_s)
                    result = frame_result(k)
                    writer.write(result)
                    if on_frame is not None:
                        on_frame(result)
                    if progress is not None:
                        progress(Progress(k + 1, n, (k + 1) / max(1e-6, time.perf_counter() - t0)))
        return name


@pytest.fixture(scope="session", autouse=True)
def _private_settings(tmp_path_factory):
    """Windows made by ``stviewer.app.main`` use the default QSettings: keep them out of the user's."""
    from PySide6.QtCore import QSettings

    folder = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)


@pytest.fixture
def errors() -> list:
    return []


@pytest.fixture
def make_window(qtbot, tmp_path, errors, monkeypatch):
    """make_window(**MainWindow kwargs) -> a shown window whose errors land in ``errors``; checks at the end
    that every thread the code under test started has ended: Python threads, the inference QThreads
    (by the native id each records) and the decoders of the videos it opened (closed). Threads that
    libraries keep for the process (torch's OpenMP pool, Qt's pooled threads) are not ours to count."""
    from PySide6.QtCore import QSettings, QThreadPool

    import engine.video
    from stviewer import workers
    from stviewer.main_window import MainWindow

    def python_threads() -> list[str]:
        # a _DummyThread is what threading records for a thread it did not start (our QThread); it is
        # never removed, so QThreads are checked by their native ids below
        return [t.name for t in threading.enumerate() if not isinstance(t, threading._DummyThread)]

    def live_native_ids() -> set[int]:
        if not os.path.isdir("/proc/self/task"):
            return set()
        return {int(task) for task in os.listdir("/proc/self/task")}

    worker_threads: list = []
    start_worker = workers.WorkerThread.start

    def recording_start(self):
        worker_threads.append(self)
        start_worker(self)

    monkeypatch.setattr(workers.WorkerThread, "start", recording_start)
    sources: list = []
    open_video = engine.video.open_video

    def recording_open(*args, **kwargs):
        source = open_video(*args, **kwargs)
        sources.append(source)
        return source

    monkeypatch.setattr(engine.video, "open_video", recording_open)

    def leftovers() -> list[str]:
        live = live_native_ids()
        left = [f"python thread {name}" for name in python_threads() if name not in threads_before]
        left += [f"inference QThread (native id {w.thread.native_id})" for w in worker_threads
                 if not w.thread.isFinished() or w.thread.native_id in live]
        left += [f"video source {s.path} (its decoder threads)" for s in sources if not s.closed]
        return left

    threads_before = python_threads()
    windows = []

    def make(**kwargs):
        kwargs.setdefault("auto_infer", False)
        kwargs.setdefault("settings", QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(**kwargs)
        window.error_reporter = lambda title, message: errors.append((title, message))
        # the unsaved-edits prompt is modal: in a test it would block teardown forever, so windows
        # discard by default and the tests of the prompt set their own answer
        window.editing.ask_close = lambda _count: "discard"
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
    gc.collect()
    deadline = time.monotonic() + 5
    while leftovers() and time.monotonic() < deadline:  # threads end a moment after they are told to
        time.sleep(0.02)
    assert not leftovers(), leftovers()
    assert QThreadPool.globalInstance().activeThreadCount() == 0
