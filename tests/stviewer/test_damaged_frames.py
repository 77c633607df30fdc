"""Frames the decoder concealed damage in (engine FLAG_DAMAGED): timeline marks, status-bar notes."""
from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import QPointF

from conftest import CLASS_NAMES, FakeInfer, frame_result
from engine.cache import ResultsCache
from engine.video import open_video
from stviewer.colors import DAMAGED
from stviewer.model_identity import model_identity

DAMAGED_FRAMES = (5, 6, 7, 20)  # a stretch of three and a single frame


def _damaged(k: int):
    return dataclasses.replace(frame_result(k), damaged=k in DAMAGED_FRAMES)


def _write_damaged_cache(video) -> None:
    with open_video(video) as v:
        fp, n, (w, h) = v.fingerprint(), len(v), (v.width, v.height)
    with ResultsCache.create(video.with_name(video.name + ".stv.h5"), video_fingerprint=fp, video_path=str(video),
                             num_frames=n, fps=25, width=w, height=h) as cache:
        with cache.create_run("demo", model_config={"name": "fake"}, checkpoint_sha256=model_identity("demo").sha256,
                              params={}, class_names=CLASS_NAMES, alpha_shape=(28, 48)) as writer:
            for k in range(n):
                writer.write(_damaged(k))


def test_damaged_frames_are_one_timeline_item_and_a_status_note(make_window, qtbot, clip):
    _write_damaged_cache(clip)
    w = make_window()
    assert w.open_path(clip)
    run = w.state.run
    assert run is not None and list(run.damaged_frames) == list(DAMAGED_FRAMES)
    marks = w.timeline.damage_marks
    assert list(marks.opts["x0"]) == [4.5, 19.5] and list(marks.opts["x1"]) == [7.5, 20.5]
    assert list(marks.opts["y0"]) == [0, 0] and list(marks.opts["y1"]) == [1, 1]
    assert marks in w.timeline.actions_plot.items
    note = w.damaged_notice
    w.state.set_frame(6)
    assert note.isVisible() and "frame 6 damaged" in note.text()
    w.state.set_frame(8)
    assert not note.isVisible() and note.text() == ""
    w.state.set_frame(20)
    assert note.isVisible() and "frame 20 damaged" in note.text()
    # the band is drawn: the pixel column of frame 20 carries the mark's colour where no curve is
    w.timeline.actions_plot.setXRange(0, 39, padding=0)
    w.state.set_frame(0)
    image = w.timeline.layout_widget.grab().toImage()
    vb = w.timeline.actions_plot.getViewBox()
    def colour_at(frame: float) -> tuple[int, int, int]:
        column = [vb.mapViewToScene(QPointF(frame, y)) for y in np.linspace(0.05, 0.95, 30)]
        pixels = [image.pixelColor(int(p.x()), int(p.y())) for p in column]
        return tuple(int(np.median([getattr(c, ch)() for c in pixels])) for ch in ("red", "green", "blue"))

    damaged, clean = colour_at(20), colour_at(14)
    assert damaged != clean
    assert damaged[0] - damaged[2] > clean[0] - clean[2] + 20, (damaged, clean)  # tinted towards DAMAGED
    assert DAMAGED[0] > DAMAGED[2]


def test_no_damage_no_marks(make_window, cached_clip):
    w = make_window()
    assert w.open_path(cached_clip)
    assert len(w.timeline.damage_marks.opts["x0"]) == 0
    w.state.set_frame(6)
    assert not w.damaged_notice.isVisible()


def test_a_run_that_finishes_says_how_many_frames_were_damaged(make_window, monkeypatch, clip):
    fake = FakeInfer()
    monkeypatch.setitem(FakeInfer.__call__.__globals__, "frame_result", _damaged)
    w = make_window(infer_fn=fake)
    w.session.threaded = False
    assert w.open_path(clip)
    w.session.start_inference()
    assert w.session.last_worker_outcome == "succeeded"
    assert w.statusBar().currentMessage().endswith("; 4 frames damaged, concealed")
    run = w.state.run
    assert run.reader is not None and list(run.damaged_frames) == list(DAMAGED_FRAMES)  # read back from the cache
    assert len(w.timeline.damage_marks.opts["x0"]) == 2
    w.state.set_frame(7)
    assert w.damaged_notice.isVisible()


def test_damaged_spans_merge_consecutive_frames_only():
    from stviewer.views.timeline import damaged_spans

    starts, ends = damaged_spans(np.array([0, 2, 3, 4, 99_998, 99_999]))
    assert list(starts) == [0, 2, 99_998] and list(ends) == [0, 4, 99_999]
    starts, ends = damaged_spans(np.arange(100_000))  # a long damaged stretch is one band
    assert list(starts) == [0] and list(ends) == [99_999]
    assert [len(a) for a in damaged_spans(np.zeros(0, np.int64))] == [0, 0]
