"""The comparison in the window: synchronised panes, diff colouring, overlay mode, disagreement keys."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from compare_data import (jobs_end,  # noqa: F401 (autouse fixture)
                          ACTION_FRAMES, DISAGREEMENTS, FALSE_POSITIVE, ONLY_A_FRAMES, ONLY_B_FRAMES, SWITCH_FRAME,
                          write_pair)
from engine.compare.diff import AGREE, ONLY_A, ONLY_B
from stviewer.compare.style import STATUS_RGB


@pytest.fixture
def comparing(make_window, qtbot, clip):
    """A window comparing run A with run B against label set gt, comparison computed."""
    write_pair(clip)
    w = make_window()
    w.session.threaded = False
    w.compare_ui.session.threaded = False
    assert w.open_path(clip)
    assert w.compare_ui.compare("run:A", "run:B", labels="gt")
    qtbot.waitUntil(lambda: w.compare_ui.session.comparison is not None)
    return w


def shown(w, k: int) -> None:
    w.state.set_frame(k)
    w.compare_ui.view.render_now()


def test_panes_share_frame_zoom_and_pan(comparing, qtbot):
    w = comparing
    ui = w.compare_ui
    assert ui.stack.currentWidget() is ui.view and ui.view.pane_b.isVisible()
    w.state.set_frame(17)
    qtbot.waitUntil(lambda: ui.view.pane_a.displayed_frame == 17 and ui.view.pane_b.displayed_frame == 17)
    a, b = ui.view.pane_a.viewbox, ui.view.pane_b.viewbox
    a.setRange(xRange=(40, 120), yRange=(30, 90), padding=0)  # zoom in A
    qtbot.waitUntil(lambda: np.allclose(b.viewRange(), a.viewRange()))
    b.translateBy(x=15, y=-5)  # pan in B
    qtbot.waitUntil(lambda: np.allclose(a.viewRange(), b.viewRange()))
    assert a.viewRange()[0][0] == pytest.approx(a.viewRange()[0][0])
    # each pane draws its own run's attention: A looks left, B right
    ha, hb = ui.view.pane_a.heatmap.image.image, ui.view.pane_b.heatmap.image.image
    assert ha.shape == hb.shape and np.argmax(ha.max(axis=0)) < ha.shape[1] // 2 < np.argmax(hb.max(axis=0))


def test_boxes_coloured_agree_only_a_only_b(comparing):
    w = comparing
    view = w.compare_ui.view
    shown(w, ONLY_A_FRAMES[0])
    assert sorted(view.pane_a.diff_boxes.drawn) == [("A", 11, AGREE), ("A", 12, ONLY_A)]
    assert view.pane_b.diff_boxes.drawn == [("B", 21, AGREE)]
    box = view.pane_a.diff_boxes.boxes.items[1]
    assert box.pen().color().getRgb()[:3] == STATUS_RGB['only in A']
    shown(w, ONLY_B_FRAMES[1])
    assert sorted(view.pane_b.diff_boxes.drawn) == [("B", 21, AGREE), ("B", 22, AGREE), ("B", 29, ONLY_B)]
    fp = [b for b in view.pane_b.diff_boxes.boxes.items if b.isVisible() and b.rect().x() == FALSE_POSITIVE[0]]
    assert len(fp) == 1 and fp[0].pen().color().getRgb()[:3] == STATUS_RGB['only in B']
    shown(w, 5)
    assert {s for _r, _t, s in view.pane_a.diff_boxes.drawn + view.pane_b.diff_boxes.drawn} == {AGREE}
    view.set_colour_by("id")  # back to per-ID colours: the diff no longer colours the boxes
    from stviewer.colors import track_rgb
    assert view.pane_a.diff_boxes.boxes.items[0].pen().color().getRgb()[:3] == track_rgb(11)


def test_overlay_mode_draws_both_runs_in_one_pane(comparing, qtbot):
    w = comparing
    ui = w.compare_ui
    ui.session.set_mode("overlay")
    shown(w, ONLY_B_FRAMES[0])
    assert not ui.view.pane_b.isVisible()
    drawn = ui.view.pane_a.diff_boxes.drawn
    assert {(r, t) for r, t, _s in drawn} == {("A", 11), ("A", 13), ("B", 21), ("B", 22), ("B", 29)}
    styles = {r: set() for r in "AB"}
    for item, (run, _t, _s) in zip(ui.view.pane_a.diff_boxes.boxes.items, drawn):
        styles[run].add(item.pen().style())
    assert styles == {"A": {Qt.PenStyle.SolidLine}, "B": {Qt.PenStyle.DashLine}}
    labels = [lab.textItem.toPlainText() for lab in ui.view.pane_a.diff_boxes.labels.items if lab.isVisible()]
    assert "A#11  0.90" in labels and "B#29  0.60" in labels  # scores are on by default
    ui.session.set_mode("side")
    assert ui.view.pane_b.isVisible()


def test_next_previous_disagreement_keys(comparing, qtbot):
    w = comparing
    c = w.compare_ui.session.comparison
    np.testing.assert_array_equal(c.disagreement_frames, DISAGREEMENTS)
    np.testing.assert_array_equal(c.frames_of("action"), ACTION_FRAMES)
    np.testing.assert_array_equal(c.switches_a[:, 0], [SWITCH_FRAME])
    assert len(c.switches_b) == 0  # B loses object 2 for a while, but keeps its ID: a fragment, no switch
    w.state.set_frame(0)
    visited = []
    for _ in range(len(DISAGREEMENTS) + 1):
        qtbot.keyClick(w, Qt.Key.Key_BracketRight)
        visited.append(w.state.frame)
    assert visited == DISAGREEMENTS + [DISAGREEMENTS[-1]]  # stays at the last one
    qtbot.keyClick(w, Qt.Key.Key_BracketLeft)
    assert w.state.frame == DISAGREEMENTS[-2]
    w.state.set_frame(22)
    qtbot.keyClick(w, Qt.Key.Key_BracketLeft)
    assert w.state.frame == SWITCH_FRAME
    lanes = w.compare_ui.timeline
    np.testing.assert_array_equal(lanes.lane_frames("only A"), ONLY_A_FRAMES)
    np.testing.assert_array_equal(lanes.lane_frames("only B"), ONLY_B_FRAMES)
    np.testing.assert_array_equal(lanes.lane_frames("IDSW A"), [SWITCH_FRAME])


def test_stop_comparing_restores_single_view(comparing):
    w = comparing
    ui = w.compare_ui
    assert not w.timeline_dock.isVisible() and ui.timeline_dock.isVisible()
    ui.session.stop()
    assert ui.stack.currentWidget() is w.video_view
    assert w.timeline_dock.isVisible() and not ui.timeline_dock.isVisible()


def test_edits_of_a_compared_label_set_update_the_comparison(make_window, qtbot, clip):
    from engine.io.export import load_current_label_set

    write_pair(clip)
    w = make_window()
    w.session.threaded = False
    ui = w.compare_ui
    ui.session.threaded = False
    w.open_path(clip)
    w.editing.ask_close = lambda _count: "discard"  # closing at the end must not wait for an answer
    editor = w.editing.editor
    editor.set_labels(load_current_label_set(w.session.cache, "gt"))
    assert ui.compare("run:A", "labels:gt")
    qtbot.waitUntil(lambda: ui.session.comparison is not None)
    assert int(ui.session.comparison.only_a.sum()) == 0  # A finds every labelled box
    assert editor.delete_track(track_id=2)  # the label set as being edited (not saved yet)
    qtbot.waitUntil(lambda: ui.session.comparison is not None and int(ui.session.comparison.only_a.sum()) == 40)
    shown(w, 3)
    assert sorted(ui.view.pane_b.diff_boxes.drawn) == [("B", 1, AGREE)]  # B shows the edited set
    editor.stack.undo()
    qtbot.waitUntil(lambda: ui.session.comparison is not None and int(ui.session.comparison.only_a.sum()) == 0)
