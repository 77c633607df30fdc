"""Opening, navigating, playing and drawing (pytest-qt, offscreen)."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from conftest import CLIP_FRAMES, CLIP_SIZE, KNOWN_BOX, KNOWN_FRAME, KNOWN_ID


def test_open_video_shows_first_frame(make_window, clip, errors):
    w = make_window()
    assert w.open_path(clip)
    w.video_view.render_now()
    assert w.video_view.displayed_frame == 0
    img = w.video_view.image.image
    assert img.shape == (CLIP_SIZE[1], CLIP_SIZE[0], 3) and img.dtype == np.uint8 and img.flags.c_contiguous
    assert "Frame      0" in w.video_view.frame_label.text() and "00:00.000" in w.video_view.frame_label.text()
    assert w.state.run is None and not errors


def test_keyboard_navigation(make_window, qtbot, clip):
    w = make_window()
    w.open_path(clip)
    qtbot.keyClick(w, Qt.Key.Key_Right)
    assert w.state.frame == 1
    qtbot.keyClick(w, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert w.state.frame == 11
    qtbot.keyClick(w, Qt.Key.Key_Left)
    assert w.state.frame == 10
    qtbot.keyClick(w, Qt.Key.Key_End)
    assert w.state.frame == CLIP_FRAMES - 1
    qtbot.keyClick(w, Qt.Key.Key_Right)
    assert w.state.frame == CLIP_FRAMES - 1  # clamped
    qtbot.keyClick(w, Qt.Key.Key_Home)
    assert w.state.frame == 0
    qtbot.waitUntil(lambda: w.video_view.displayed_frame == 0)
    w.state.set_frame(17)
    qtbot.waitUntil(lambda: w.video_view.displayed_frame == 17)
    assert "00:00.680" in w.video_view.frame_label.text()  # 17 / 25 fps


def test_scrub_timeline_click_and_drag_is_frame_exact(make_window, qtbot, cached_clip):
    w = make_window()
    w.open_path(cached_clip)
    tl = w.timeline
    qtbot.waitUntil(lambda: tl.layout_widget.isVisible())
    vb = tl.lanes_plot.getViewBox()
    view = tl.layout_widget
    for target in (23, 5):
        scene = vb.mapViewToScene(QPointF(target, 0.0))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene))
        assert w.state.frame == target
    line = tl.playheads[0]
    line.setValue(30.4)
    line.sigDragged.emit(line)
    assert w.state.frame == 30
    assert all(p.value() == 30 for p in tl.playheads)  # snapped to the exact frame
    qtbot.waitUntil(lambda: w.video_view.displayed_frame == 30)


def test_play_advances_at_video_fps(make_window, qtbot, clip):
    w = make_window()
    w.open_path(clip)
    seen = []
    w.state.frameChanged.connect(seen.append)
    t0 = time.perf_counter()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert w.state.playing
    qtbot.waitUntil(lambda: w.state.frame >= 10, timeout=3000)
    elapsed = time.perf_counter() - t0
    assert elapsed >= 10 / 25 * 0.9  # not faster than 25 fps
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert not w.state.playing
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    stopped = w.state.frame
    qtbot.wait(100)
    assert w.state.frame == stopped


def test_playback_drops_frames_when_drawing_is_slow(make_window, qtbot, clip):
    w = make_window()
    w.open_path(clip)
    shown = []
    w.state.frameChanged.connect(shown.append)
    w.state.frameChanged.connect(lambda _k: time.sleep(0.09))  # every frame takes > 2 frame periods
    w.state.set_speed(1.0)
    w.playback.toggle()
    qtbot.waitUntil(lambda: not w.state.playing, timeout=10000)
    assert w.state.frame == CLIP_FRAMES - 1
    # kept to the clock: frames were skipped, not queued (a slower machine skips more, never fewer)
    assert w.playback.frames_skipped > 0 and len(shown) < CLIP_FRAMES - 1


def test_overlay_toggles(make_window, qtbot, cached_clip):
    w = make_window()
    w.open_path(cached_clip)
    w.state.set_frame(20)
    w.video_view.render_now()
    view = w.video_view
    n_tracks = len(w.state.run.frame(20).tracks)
    visible = lambda items: sum(i.isVisible() for i in items)  # noqa: E731
    assert n_tracks > 0 and visible(view.boxes.boxes.items) == n_tracks
    assert visible(view.boxes.labels.items) == n_tracks
    assert view.heatmap.image.isVisible() and visible(view.trails.curves.items) > 0
    assert visible(view.boxes.detections.items) > 0
    for name in ("boxes", "trails", "heatmap", "scores", "detections"):
        w.overlay_actions[name].trigger()  # toolbar button
        assert w.state.overlays[name] is False
    assert visible(view.boxes.boxes.items) == 0 and visible(view.boxes.labels.items) == 0
    assert not view.heatmap.image.isVisible() and visible(view.trails.curves.items) == 0
    assert visible(view.boxes.detections.items) == 0
    pool_size = len(view.boxes.boxes.items)
    qtbot.keyClick(w, Qt.Key.Key_B)
    assert w.state.overlays["boxes"] and visible(view.boxes.boxes.items) == n_tracks
    for k in range(CLIP_FRAMES):  # items are reused, not created per frame
        w.state.set_frame(k)
        view.render_now()
    assert len(view.boxes.boxes.items) <= max(pool_size, 6)
    w.opacity_slider.setValue(25)
    assert w.state.heatmap_opacity == pytest.approx(0.25)


def test_box_lands_on_the_right_pixels(make_window, qtbot, cached_clip):
    w = make_window()
    w.open_path(cached_clip)
    for name in ("trails", "heatmap", "scores"):
        w.state.set_overlay(name, False)
    w.state.set_frame(KNOWN_FRAME)
    w.video_view.render_now()
    qtbot.wait(50)
    gv = w.video_view.graphics
    image = gv.grab().toImage()
    vb = w.video_view.viewbox
    x1, y1, x2, y2 = KNOWN_BOX
    want = np.array(w.state.run.track_rgb(KNOWN_ID))  # the run's palette (stviewer.colors.TrackPalette)
    ratio = image.devicePixelRatio()

    def colour_near(x: float, y: float, radius: int = 2) -> bool:
        p = gv.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
        for dx in range(-radius, radius + 1):
            for dy in range(-radius, radius + 1):
                c = image.pixelColor(int((p.x() + dx) * ratio), int((p.y() + dy) * ratio))
                if np.abs(np.array([c.red(), c.green(), c.blue()]) - want).max() <= 12:
                    return True
        return False

    ymid, xmid = (y1 + y2) / 2, (x1 + x2) / 2
    # on all four edges
    assert colour_near(x1, ymid) and colour_near(x2, ymid)
    assert colour_near(xmid, y2) and colour_near(x1 + 10, y1)
    # and not well inside or outside the box
    assert not colour_near(xmid, ymid + 20, radius=0)
    assert not colour_near(x2 + 25, ymid, radius=0)


def test_click_selects_track_everywhere(make_window, qtbot, cached_clip):
    w = make_window()
    w.open_path(cached_clip)
    w.state.set_frame(KNOWN_FRAME)
    w.video_view.render_now()
    gv = w.video_view.graphics
    x1, y1, x2, y2 = KNOWN_BOX
    pos = gv.mapFromScene(w.video_view.viewbox.mapViewToScene(QPointF((x1 + x2) / 2, (y1 + y2) / 2)))
    qtbot.mouseClick(gv.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert w.state.selected_track == KNOWN_ID
    row = w.track_list.row_of(KNOWN_ID)
    assert row is not None and w.track_list.item(row, 0).isSelected()
    assert w.timeline.selection_band.isVisible()
    assert f"#{KNOWN_ID}" in w.action_panel.track_title.text()
    assert w.action_panel.track_bars.rows[0][0] == "jump"  # the known track's action
    assert w.video_view.boxes.boxes.items[0].pen().width() == 4
    # choosing another track in the list selects it and jumps to where it lives
    other = next(t for t in w.track_list.track_ids() if t != KNOWN_ID)
    w.track_list.selectRow(w.track_list.row_of(other))
    assert w.state.selected_track == other
    assert w.state.run.frame(w.state.frame) is not None
    assert other in w.state.run.frame(w.state.frame).tracks[:, 5]


def test_track_list_and_timeline_contents(make_window, cached_clip):
    w = make_window()
    w.open_path(cached_clip)
    run = w.state.run
    summaries = {s.track_id: s for s in run.track_summaries()}
    assert KNOWN_ID in summaries and summaries[KNOWN_ID].num_frames == 1
    assert sorted(w.track_list.track_ids()) == sorted(summaries)
    assert len(w.timeline.action_curves) == 6
    x, y = w.timeline.action_curves[2].getData()
    assert len(x) == CLIP_FRAMES and np.allclose(y, run.action_probs[:, 2])
    assert w.timeline.lane_of(KNOWN_ID) is not None
    assert w.action_panel.frame_bars.rows and len(w.action_panel.frame_bars.rows) == 5


def test_bad_file_shows_error_and_app_stays_usable(make_window, tmp_path, clip, errors):
    w = make_window()
    bad = tmp_path / "broken.mp4"
    bad.write_text("this is not a video")
    assert not w.open_path(bad)
    assert errors and str(bad) in errors[-1][1]
    assert not w.open_path(tmp_path / "missing.mp4")
    assert len(errors) == 2
    foreign = tmp_path / "foreign.h5"
    import h5py

    with h5py.File(foreign, "w") as f:
        f["x"] = 1
    assert not w.open_path(foreign)
    assert len(errors) == 3 and str(foreign) in errors[-1][1]
    assert w.open_path(clip)  # still works
    assert w.state.num_frames == CLIP_FRAMES


def test_open_results_file_and_recent_files(make_window, cached_clip):
    w = make_window()
    h5 = cached_clip.with_name(cached_clip.name + ".stv.h5")
    assert w.open_path(h5)
    assert w.state.video is not None and w.state.run is not None and w.state.run.has_result.all()
    assert w.run_combo.currentText() == "demo"
    assert w.recent_files()[0] == str(h5)
    assert [a.text() for a in w.recent_menu.actions()][0] == str(h5)


def test_drop_opens_file(make_window, clip):
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDropEvent

    w = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    w.dropEvent(event)
    assert w.session.video_path == clip


def test_open_mot_sequence_folder(make_window, tmp_path, errors):
    import cv2

    seq = tmp_path / "SEQ-01"
    (seq / "img1").mkdir(parents=True)
    for k in range(6):
        frame = np.full((120, 160, 3), 40 * k, np.uint8)
        cv2.imwrite(str(seq / "img1" / f"{k + 1:06d}.jpg"), frame)
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=SEQ-01\nimDir=img1\nframeRate=10\nseqLength=6\n"
                                     "imWidth=160\nimHeight=120\nimExt=.jpg\n")
    w = make_window()
    assert w.open_path(seq), errors
    assert w.state.num_frames == 6 and w.state.fps == 10
    assert w.session.cache_path == seq / "stv_results.h5"
    w.state.set_frame(5)
    w.video_view.render_now()
    assert w.video_view.image.image.shape == (120, 160, 3)
    assert "00:00.500" in w.video_view.frame_label.text()


def test_space_plays_while_the_video_has_focus(make_window, qtbot, clip):
    w = make_window()
    w.open_path(clip)
    w.video_view.graphics.setFocus()
    qtbot.keyClick(w.video_view.graphics, Qt.Key.Key_Space)
    assert w.state.playing
    qtbot.keyClick(w.video_view.graphics, Qt.Key.Key_Space)
    assert not w.state.playing


def test_cache_location_falls_back_when_the_folder_is_read_only(tmp_path, monkeypatch):
    import os

    from stviewer import cache_location

    video = tmp_path / "ro" / "v.mp4"
    video.parent.mkdir()
    video.write_bytes(b"x")
    assert cache_location.cache_path_for(video) == video.with_name("v.mp4.stv.h5")
    monkeypatch.setattr(cache_location, "user_cache_dir", lambda: tmp_path / "user-cache")
    real_access = os.access
    monkeypatch.setattr(cache_location.os, "access",
                        lambda p, mode: False if str(p) == str(video.parent) else real_access(p, mode))
    fallback = cache_location.cache_path_for(video)
    assert fallback.parent == tmp_path / "user-cache" and fallback.name.startswith("v.mp4-")
    assert fallback.name.endswith(".stv.h5")


def _axis_labels(axis) -> list[str]:
    from PySide6.QtGui import QImage, QPainter

    image = QImage(200, 400, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [] if specs is None else [text for _, _, text in specs[2]]


def test_empty_tracks_lane_has_no_numeric_axis(make_window, qtbot, clip, cached_clip):
    from stviewer.run_data import RunData

    w = make_window()
    axis = w.timeline.lanes_plot.getAxis("left")
    assert _axis_labels(axis) == []  # nothing open
    w.open_path(clip)
    w.state.set_run(RunData(name="empty", num_frames=w.state.num_frames, class_names=["a", "b"]))
    w.timeline.refresh_data()
    assert _axis_labels(axis) == []  # a run without tracks: not "0.2 … 1.0"
    w.open_path(cached_clip)
    w.timeline.refresh_data()
    labels = _axis_labels(axis)
    assert labels and all(text.startswith("#") for text in labels)  # lanes: their track IDs
    w.state.set_run(None)
    w.timeline.refresh_data()
    assert _axis_labels(axis) == []


def test_many_track_lanes_get_labels_that_do_not_overlap(qtbot, clip):
    from engine.results import FrameResult
    from engine.video import open_video
    from stviewer.run_data import RunData
    from stviewer.state import ViewerState
    from stviewer.views.timeline import LANE_LABEL_SPACING_PX, Timeline

    state = ViewerState()
    timeline = Timeline(state)
    qtbot.addWidget(timeline)
    timeline.resize(900, 600)
    timeline.show()
    with open_video(clip) as video:
        state.set_video(video)
        n = state.num_frames
        run = RunData(name="crowd", num_frames=n, class_names=["a", "b"])
        for k in range(n):
            ids = np.arange(40) + 1 + k // 4  # 40 tracks at a time, new ones every 4 frames
            tracks = np.array([[10, 10, 50, 50, 0.9, i] for i in ids], np.float32)
            run.add(FrameResult(frame_index=k, tracks=tracks, action_probs=np.array([0.5, 0.5], np.float32),
                                alpha=None, beta=1.0 / n))
        state.set_run(run)
        timeline.refresh_data()
        axis = timeline.lanes_plot.getAxis("left")
        vb = timeline.lanes_plot.getViewBox()

        def label_spacing_px() -> float:
            lanes = [lane for lane, _ in axis._tickLevels[0]]
            px_per_lane = vb.height() / (vb.viewRange()[1][1] - vb.viewRange()[1][0])
            return min(np.diff(lanes)) * px_per_lane

        n_labels = len(axis._tickLevels[0])
        assert len(timeline._lane_of) > 40 and 2 <= n_labels < len(timeline._lane_of)
        assert label_spacing_px() >= LANE_LABEL_SPACING_PX - 1  # labels do not overlap
        height = vb.height()
        timeline.resize(900, 350)  # a shorter timeline labels fewer lanes
        qtbot.waitUntil(lambda: vb.height() < height - 20, timeout=2000)
        assert len(axis._tickLevels[0]) < n_labels
        assert label_spacing_px() >= LANE_LABEL_SPACING_PX - 1
        state.set_video(None)
