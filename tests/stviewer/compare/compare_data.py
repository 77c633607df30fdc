"""A constructed pair of runs with known differences, and a label set, written into a small cache
beside the viewer tests' clip (40 frames, 320x240) with the engine's cache writer; no model runs.

Label set "gt": object 1 walks right from (20, 40); object 2 stands at (200, 40, 260, 160).
Run "A": both objects (ids 11, 12) but object 2 becomes id 13 from SWITCH_FRAME on (an ID switch).
Run "B": object 1 as id 21 throughout, object 2 as id 22 except on frames ONLY_A_FRAMES (missed);
a false positive (id 29) on ONLY_B_FRAMES. B's top action differs from A's on ACTION_FRAMES.
"""
from __future__ import annotations

import gc
import time
from pathlib import Path

import numpy as np
import pytest

from engine.cache import ResultsCache
from engine.results import FrameResult
from viewer_support import viewer_conftest  # noqa: F401 (re-exported to the tests)

CLASS_NAMES = ["walk", "run", "jump", "wave", "sit", "stand"]
FRAMES = 40
ONLY_A_FRAMES = list(range(10, 15))
SWITCH_FRAME = 20
ACTION_FRAMES = list(range(25, 28))
ONLY_B_FRAMES = list(range(30, 33))
DISAGREEMENTS = sorted(set(ONLY_A_FRAMES) | {SWITCH_FRAME} | set(ACTION_FRAMES) | set(ONLY_B_FRAMES))
FALSE_POSITIVE = (150.0, 180.0, 190.0, 230.0)


@pytest.fixture(autouse=True)
def jobs_end(monkeypatch):
    """Every background job the comparison starts (stviewer.compare.jobs.Job) has ended by the test's end.
    (Import this fixture into a test module to use it.)"""
    from stviewer.compare import jobs

    started = []
    start = jobs.Job.start

    def recording_start(self, *, threaded=True):
        started.append(self)
        start(self, threaded=threaded)

    monkeypatch.setattr(jobs.Job, "start", recording_start)
    yield started
    gc.collect()
    deadline = time.monotonic() + 5
    running = lambda: [j for j in started if j._thread is not None and not j._thread.isFinished()]  # noqa: E731
    while running() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not running(), f"{len(running())} comparison jobs still running"




def object_box(obj: int, k: int) -> tuple[float, float, float, float]:
    if obj == 1:
        return (20.0 + 2 * k, 40.0, 80.0 + 2 * k, 160.0)
    return (200.0, 40.0, 260.0, 160.0)


def label_rows() -> np.ndarray:
    rows = [[k, obj, *object_box(obj, k), 1.0] for k in range(FRAMES) for obj in (1, 2)]
    return np.array(rows, np.float64)


def _probs(top: int) -> np.ndarray:
    p = np.full(len(CLASS_NAMES), 0.04, np.float32)
    p[top] = 1.0 - 0.04 * (len(CLASS_NAMES) - 1)
    return p


def run_frame(which: str, k: int) -> FrameResult:
    tracks = []
    if which == "A":
        tracks.append([*object_box(1, k), 0.9, 11])
        tracks.append([*object_box(2, k), 0.8, 12 if k < SWITCH_FRAME else 13])
        top = 0
    else:
        tracks.append([*object_box(1, k), 0.85, 21])
        if k not in ONLY_A_FRAMES:
            tracks.append([*object_box(2, k), 0.7, 22])
        if k in ONLY_B_FRAMES:
            tracks.append([*FALSE_POSITIVE, 0.6, 29])
        top = 1 if k in ACTION_FRAMES else 0
    yy, xx = np.mgrid[0:28, 0:48].astype(np.float32)
    cx = 10.0 if which == "A" else 38.0  # A attends left, B right: the panes' heatmaps differ
    alpha = np.exp(-((xx - cx) ** 2 + (yy - 14.0) ** 2) / 30.0)
    alpha /= alpha.sum()
    return FrameResult(frame_index=k, tracks=np.array(tracks, np.float32), action_probs=_probs(top),
                       alpha=alpha.astype(np.float16), beta=0.125 + (0.02 if which == "A" else -0.02) * np.sin(k))


def write_pair(video: Path, *, with_labels: bool = True, checkpoints: tuple[str, str] = ("sha-a", "sha-b")) -> Path:
    """Runs "A" and "B" (and label set "gt") in the cache beside ``video``; returns the cache path."""
    from engine.video import open_video

    with open_video(video) as v:
        fp, n = v.fingerprint(), len(v)
    assert n == FRAMES, n
    path = video.with_name(video.name + ".stv.h5")
    with ResultsCache.create(path, video_fingerprint=fp, video_path=str(video), num_frames=n, fps=25, width=320,
                             height=240) as cache:
        for which, sha in zip("AB", checkpoints):
            with cache.create_run(which, model_config={"name": "fake"}, checkpoint_sha256=sha, params={},
                                  class_names=CLASS_NAMES, alpha_shape=(28, 48)) as writer:
                for k in range(n):
                    writer.write(run_frame(which, k))
        if with_labels:
            cache.save_label_set("gt", label_rows())
    return path
