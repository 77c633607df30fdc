"""The viewer's rough edges a new user hit: timeline legend after a second video, dragging the timeline
background, feedback for Model → Run on a complete run (class names from the start of a first run:
test_worker.py's real-pipeline test)."""
from __future__ import annotations

import shutil

import pytest

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from conftest import CLASS_NAMES, FakeInfer, write_cache


def _legend_names(timeline) -> list[str]:
    return [label.text for _sample, label in timeline.legend.items]


def test_timeline_legend_survives_opening_a_second_video(make_window, cached_clip, tmp_path):
    other = tmp_path / "other" / "clip2.mp4"
    other.parent.mkdir()
    shutil.copy(cached_clip, other)
    write_cache(other)
    w = make_window()
    assert w.open_path(cached_clip)
    assert _legend_names(w.timeline) == CLASS_NAMES
    assert w.open_path(other)
    assert _legend_names(w.timeline) == CLASS_NAMES  # was empty: the same classes were not re-added


def _drag(widget, points, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Press at points[0], move through the rest, release: real mouse events, as a user's drag."""
    viewport = widget.viewport()
    left = Qt.MouseButton.LeftButton

    def send(kind, pos, buttons):
        local = QPointF(pos)
        event = QMouseEvent(kind, local, viewport.mapToGlobal(local), left, buttons, modifiers)
        QApplication.sendEvent(viewport, event)

    send(QEvent.Type.MouseButtonPress, points[0], left)
    for p in points[1:]:
        send(QEvent.Type.MouseMove, p, left)
    send(QEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.NoButton)


def test_dragging_the_timeline_background_scrubs(make_window, qtbot, cached_clip):
    w = make_window()
    w.open_path(cached_clip)
    tl = w.timeline
    qtbot.waitUntil(lambda: tl.layout_widget.isVisible())
    vb = tl.actions_plot.getViewBox()
    view = tl.layout_widget
    x_range = vb.viewRange()[0]

    def at(frame: float):
        return view.mapFromScene(vb.mapViewToScene(QPointF(frame, 0.5)))

    seen = []
    w.state.frameChanged.connect(seen.append)
    _drag(view, [at(4), at(8), at(15), at(30)])
    assert w.state.frame == 30 and any(4 < f < 30 for f in seen)  # followed the pointer, frame-exact
    assert vb.viewRange()[0] == x_range  # scrubbed, not panned
    qtbot.wait(QApplication.doubleClickInterval() + 50)  # a second press at once would be a double click
    vb.setXRange(10, 25, padding=0)  # zoomed in: there is room to pan
    zoomed = vb.viewRange()[0]
    _drag(view, [at(20), at(18), at(16), at(14)], Qt.KeyboardModifier.ShiftModifier)  # Shift+drag still pans
    assert w.state.frame == 30 and vb.viewRange()[0][0] > zoomed[0]


def test_model_run_on_a_complete_run_says_so(make_window, cached_clip):
    fake = FakeInfer()
    w = make_window(infer_fn=fake)
    w.open_path(cached_clip)
    assert w.state.run is not None and w.state.run.has_result.all()
    w.session.start_inference()
    assert fake.calls == 0 and not w.session.is_running()
    assert "already complete" in w.statusBar().currentMessage()


def test_quitting_while_the_model_loads_does_not_wait_for_it(qtbot, clip, monkeypatch):
    """Closing the window during a first run: a worker still loading torch or the model (nothing written)
    is cancelled and not joined, so the app exits at once; it never starts the pipeline afterwards."""
    import threading

    from stviewer import workers
    from stviewer.session import Session
    from stviewer.state import ViewerState

    entered, release = threading.Event(), threading.Event()
    monkeypatch.setattr(workers, "limit_torch_threads", lambda: (entered.set(), release.wait(20)))
    session = Session(ViewerState(), auto_infer=False)  # the real worker path (infer_fn=None)
    assert session.open_path(clip)
    session.start_inference()
    assert entered.wait(20)
    thread = session.worker_thread
    session.close(quitting=True)
    assert thread.is_running() and session.worker is None  # not joined
    release.set()
    assert thread.wait(30000)
    assert not clip.with_name(clip.name + ".stv.h5").exists()  # cancelled before the pipeline wrote anything


def test_closing_while_the_pipeline_runs_joins_it_with_a_consistent_cache(make_window, qtbot, clip):
    import h5py

    fake = FakeInfer(delay_s=0.02)
    w = make_window(infer_fn=fake)
    w.open_path(clip)
    w.session.start_inference()
    qtbot.waitUntil(lambda: w.state.run is not None and w.state.run.has_result[3], timeout=10000)
    w.close()  # the pipeline phase: cancelled after its current frame and joined
    assert w.session.worker is None and fake.calls == 1
    with h5py.File(clip.with_name(clip.name + ".stv.h5"), "r") as f:  # closed cleanly: plain h5py opens it
        assert list(f["runs"]) == ["demo"]


def test_raw_detections_have_their_own_explained_toggle(make_window, cached_clip):
    w = make_window()
    w.open_path(cached_clip)
    w.state.set_frame(20)
    view = w.video_view
    dashed = lambda: sum(i.isVisible() for i in view.boxes.detections.items)  # noqa: E731
    w.state.set_overlay("scores", False)
    view.render_now()
    assert dashed() > 0  # detections on, scores off: still shown
    w.state.set_overlay("detections", False)
    w.state.set_overlay("scores", True)
    view.render_now()
    assert dashed() == 0  # "Scores" no longer brings unexplained dashed boxes
    assert "raw detections" in w.overlay_actions["detections"].toolTip()


def test_alpha_heatmap_is_normalised_per_frame_and_a_flat_map_looks_flat():
    import numpy as np

    from stviewer.views.overlays import normalise_alpha

    peaky = np.full((28, 48), 1e-4, np.float32)
    peaky[10, 20] = 0.01
    a, flat = normalise_alpha(peaky)
    assert not flat and a.min() == 0 and a.max() == 1  # the whole colour range, whatever the scale
    uniform = np.full((28, 48), 1 / (28 * 48), np.float32)
    noisy = uniform * (1 + 0.01 * np.random.default_rng(0).standard_normal((28, 48))).astype(np.float32)
    for alpha in (uniform, noisy):  # the no-attention model: not a full-frame wash
        a, flat = normalise_alpha(alpha)
        assert flat and not a.any()


def test_a_flat_alpha_map_shows_a_note_not_a_tint(make_window, cached_clip):
    import numpy as np

    w = make_window()
    w.open_path(cached_clip)
    view = w.video_view
    view.heatmap.update(np.full((28, 48), 0.5, np.float32), frame_size=(240, 320), show=True, opacity=0.6)
    assert not view.heatmap.image.isVisible() and view.heatmap.flat_note.isVisible()
    peaky = np.zeros((28, 48), np.float32)
    peaky[3, 4] = 1
    view.heatmap.update(peaky, frame_size=(240, 320), show=True, opacity=0.6)
    assert view.heatmap.image.isVisible() and not view.heatmap.flat_note.isVisible()


def test_a_click_on_empty_space_and_escape_clear_the_selection(make_window, qtbot, cached_clip):
    from conftest import KNOWN_BOX, KNOWN_FRAME, KNOWN_ID

    w = make_window()
    w.open_path(cached_clip)
    w.state.set_frame(KNOWN_FRAME)
    view = w.video_view
    view.render_now()
    gv = view.graphics

    def click(x, y):
        pos = gv.mapFromScene(view.viewbox.mapViewToScene(QPointF(x, y)))
        qtbot.mouseClick(gv.viewport(), Qt.MouseButton.LeftButton, pos=pos)

    x1, y1, x2, y2 = KNOWN_BOX
    click((x1 + x2) / 2, (y1 + y2) / 2)
    assert w.state.selected_track == KNOWN_ID
    click(x2 + 40, y2 + 20)  # outside every box
    assert w.state.selected_track == -1
    click((x1 + x2) / 2, (y1 + y2) / 2)
    assert w.state.selected_track == KNOWN_ID
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert w.state.selected_track == -1


def _fits(widget, text: str, width: int) -> bool:
    return widget.fontMetrics().horizontalAdvance(text) <= width


def test_no_clipped_text_in_the_panels_and_the_run_box(make_window, cached_clip, qtbot):
    from conftest import KNOWN_FRAME, KNOWN_ID

    w = make_window()
    w.open_path(cached_clip)
    w.state.set_frame(KNOWN_FRAME)
    w.state.select_track(KNOWN_ID)
    for size in ((1600, 1000), (1024, 640), (800, 500)):
        w.resize(*size)
        qtbot.wait(20)
        bars = w.action_panel.frame_bars
        _name_w, _bar_w, value_w = bars.column_widths()
        assert _fits(bars, "100.0%", value_w), size  # was cut to "l00.0%"
        header = w.track_list.horizontalHeader()
        for column in range(1, w.track_list.columnCount()):  # every numeric header fits ("Mean score" was cut)
            text = w.track_list.horizontalHeaderItem(column).text()
            assert _fits(header, text, header.sectionSize(column) - 8), (size, text)
    long_name = "resnet50_paper_kinetics_epoch30-1a2b3c4d"
    w._on_runs(["demo", long_name])
    assert _fits(w.run_combo, long_name, w.run_combo.sizeHint().width() - 20)
    assert w.run_combo.itemData(1, Qt.ItemDataRole.ToolTipRole) == long_name


def test_box_labels_of_neighbouring_tracks_do_not_overlap(make_window, qtbot, cached_clip):
    import numpy as np

    from engine.results import FrameResult

    w = make_window()
    w.open_path(cached_clip)
    view = w.video_view
    view.render_now()
    # like #21 and #34 of the demo clip: two boxes side by side, one a little lower
    tracks = np.array([[40, 60, 90, 200, 0.78, 21], [52, 63, 110, 230, 0.82, 34], [200, 40, 260, 120, 0.9, 3]],
                      np.float32)
    result = FrameResult(frame_index=0, tracks=tracks, action_probs=np.full(6, 1 / 6, np.float32), beta=0.1)
    view.boxes.update(result, show_boxes=True, show_scores=True, selected=-1)
    qtbot.wait(10)
    labels = [item for item in view.boxes.labels.items if item.isVisible()]
    rects = [item.sceneBoundingRect() for item in labels]
    assert len(rects) == 3
    for i in range(3):
        for j in range(i + 1, 3):
            assert not rects[i].intersects(rects[j]), (labels[i].textItem.toPlainText(),
                                                       labels[j].textItem.toPlainText())


def test_tracks_alive_at_the_same_time_get_hues_far_apart():
    from stviewer.colors import TrackPalette, hue_distance, id_hue

    # IDs whose own (hashed) hues are close: 0 and 13 differ by 13 golden steps (about 0.03 of the wheel)
    assert hue_distance(id_hue(0), id_hue(13)) < 0.05
    spans = [(0, 0, 100), (13, 5, 100), (7, 8, 60), (21, 200, 300)]
    palette = TrackPalette()
    palette.update(spans)
    alive = [0, 13, 7]
    for i, a in enumerate(alive):
        for b in alive[i + 1:]:
            assert hue_distance(palette.hue(a), palette.hue(b)) >= 0.25, (a, b)  # three tracks: ~120° apart
    assert palette.hue(0) == id_hue(0)  # alone when it starts: its own colour
    assert palette.hue(21) == id_hue(21)  # starts long after the others ended


def test_track_colours_do_not_change_as_a_live_run_grows():
    from stviewer.colors import TrackPalette

    spans = [(1, 0, 40), (2, 3, 90), (3, 10, 50), (4, 45, 120), (5, 46, 70), (6, 100, 150)]
    whole = TrackPalette()
    whole.update(spans)
    live = TrackPalette()
    for now in range(0, 151, 7):  # results arrive in frame order; the views refresh now and then
        live.update([(t, f, min(l, now)) for t, f, l in spans if f <= now])
        for t, f, _l in spans:
            if f <= now:
                assert live.hue(t) == whole.hue(t), (t, now)


def test_every_view_uses_the_runs_track_colours(make_window, cached_clip):
    from conftest import KNOWN_FRAME, KNOWN_ID

    w = make_window()
    w.open_path(cached_clip)
    run = w.state.run
    run.palette._hue[KNOWN_ID] = 0.5  # a colour only the run's palette gives
    run._palette_version = run.version
    expected = run.track_rgb(KNOWN_ID)
    w.state.set_frame(KNOWN_FRAME)
    w.state.select_track(KNOWN_ID)
    w.video_view.render_now()
    box = next(b for b in w.video_view.boxes.boxes.items if b.isVisible())
    assert box.pen().color().getRgb()[:3] == expected
    w.track_list._version = None
    w.track_list.refresh()
    row = w.track_list.row_of(KNOWN_ID)
    icon = w.track_list.item(row, 0).icon().pixmap(12, 12).toImage()
    assert icon.pixelColor(6, 6).getRgb()[:3] == expected
    assert "rgb({},{},{})".format(*expected) in w.action_panel.track_title.text()


@pytest.fixture
def app_style(qapp):
    """The app's own style and stylesheet (what `stviewer` runs with: its font sizes decide the layout)."""
    from stviewer.colors import DARK_STYLESHEET

    before_sheet, before_style = qapp.styleSheet(), qapp.style().name()
    qapp.setStyle("Fusion")
    qapp.setStyleSheet(DARK_STYLESHEET)
    yield
    qapp.setStyleSheet(before_sheet)
    qapp.setStyle(before_style)


def _resize(w, qtbot, width: int, height: int) -> None:
    for _ in range(2):  # the first resize compacts the docks, which lets the second reach the size
        w.resize(width, height)
        qtbot.wait(30)


def test_small_windows_keep_every_control_and_a_usable_video(app_style, make_window, qtbot, cached_clip, tmp_path):
    w = make_window()
    w.open_path(cached_clip)
    for width, height in ((1024, 640), (800, 500)):
        _resize(w, qtbot, width, height)
        assert (w.width(), w.height()) == (width, height)  # docks no longer hold the window at 720 px
        for bar, actions in ((w.playback_bar, [w.play_action, *w.step_actions]),
                             (w.overlay_bar, list(w.overlay_actions.values()))):
            for action in actions:
                assert bar.widgetForAction(action).isVisible(), (width, action.text())  # not in the overflow
        assert w.run_combo.isVisible() and w.speed_combo.isVisible() and w.opacity_slider.isVisible()
        video = w.video_view.graphics
        assert video.width() >= 300 and video.height() >= 150, (width, video.size())  # not a thumbnail
        image = w.grab()
        assert image.save(str(tmp_path / f"window_{width}x{height}.png"))
        assert (image.width(), image.height()) == (width, height)


def test_tracks_panel_is_restored_after_growing_back(app_style, make_window, qtbot, cached_clip):
    w = make_window()
    w.open_path(cached_clip)
    _resize(w, qtbot, 1600, 1000)
    wide_tracks = w.tracks_dock.height()
    _resize(w, qtbot, 800, 500)
    assert w.responsive.compact
    _resize(w, qtbot, 1600, 1000)
    assert not w.responsive.compact
    assert w.actions_dock not in w.tabifiedDockWidgets(w.tracks_dock)  # side by side again
    assert w.tracks_dock.isVisible() and w.actions_dock.isVisible()
    assert w.tracks_dock.height() >= min(wide_tracks, 250) - 10  # not left squeezed


def test_a_mot_folder_without_images_opens_with_its_detections_tracked(make_window, qtbot, tmp_path):
    """MOT files shared without img1/: a grey canvas of seqinfo's size, det.txt tracked into a run shown at
    once, gt.txt as a label set; the model is never started on grey frames."""
    from engine.assets import DEMO_CLIP_GT, asset_path
    from engine.cache import ResultsCache

    seq = tmp_path / "SEQ-01"
    (seq / "gt").mkdir(parents=True)
    (seq / "det").mkdir()
    source = asset_path(DEMO_CLIP_GT)
    shutil.copy(source / "seqinfo.ini", seq / "seqinfo.ini")
    gt = [line.rsplit(",", 2)[0] + ",1,1" for line in (source / "gt.txt").read_text().splitlines()]  # one class
    (seq / "gt" / "gt.txt").write_text("\n".join(gt) + "\n")
    det = [",".join([f, "-1", x, y, w, h, "0.9", "-1", "-1", "-1"]) for f, _i, x, y, w, h, *_ in
           (line.split(",") for line in gt)]
    (seq / "det" / "det.txt").write_text("\n".join(det) + "\n")
    fake = FakeInfer()
    w = make_window(infer_fn=fake, auto_infer=True)
    w.editing.ask_close = lambda _count: "save"  # the imported gt counts as unsaved: no dialog at the end
    assert w.open_path(seq)
    assert (w.state.video.width, w.state.video.height, w.state.num_frames) == (640, 360, 150)
    run = w.state.run
    assert run is not None and run.name == "public-detections" and run.has_result.all()
    assert len(run.track_summaries()) >= 3
    w.session.start_inference()
    qtbot.wait(300)  # past the auto-run delay
    assert fake.calls == 0 and not w.session.is_running()
    assert "no images" in w.statusBar().currentMessage()
    with ResultsCache.open(w.session.cache_path) as cache:
        assert cache.run_names == ["public-detections"]
    assert w.editing.label_set_names(), "gt/gt.txt became a label set (stviewer.editing)"
