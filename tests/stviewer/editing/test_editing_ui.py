"""Every editing operation through the mouse and the keys, on a real window: select, move, resize, delete,
draw, keyframe, outside, merge, split, change ID, swap, keyframe navigation; each undone and redone through
Ctrl+Z / Ctrl+Shift+Z; the Edit menu names the action; Help → Keyboard shortcuts lists every key."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from engine.labels import BoxKind

FRAME = 5  # tracks 1-4 of the viewer tests' synthetic run are on this frame


@pytest.fixture
def editing(make_window, cached_clip, qtbot, errors):
    """A window on the cached clip editing a label set made from the run (through the Labels panel's menu)."""
    window = make_window()
    assert window.open_path(cached_clip)
    assert window.state.run is not None, errors
    window.editing.metrics.threaded = False  # metrics computed synchronously (no stray threads)
    window.editing.ask_close = lambda count: "discard"  # the quit prompt is tested on its own
    window.editing.label_panel.new_from_run_action.trigger()
    ed = window.editing
    assert ed.editor.labels is not None and ed.editor.labels.source_run == "demo", errors
    window.activateWindow()
    window.video_view.graphics.setFocus()
    window.state.set_frame(FRAME)
    window.video_view.render_now()
    qtbot.wait(10)
    return window


def viewport(window):
    return window.video_view.graphics.viewport()


def pixel(window, x: float, y: float) -> QPoint:
    p = window.editing.tool._to_screen(np.array([x, y]))
    return QPoint(int(round(p[0])), int(round(p[1])))


def box_of(window, tid: int, frame: int = FRAME):
    labels = window.editing.editor.labels
    if tid not in labels:
        return None
    t = labels.track(tid)
    i = t.row(frame)
    return None if i is None else (t.boxes[i].copy(), int(t.kinds[i]))


def lone_track(window, frame: int = FRAME) -> int:
    """A track whose box centre lies in no other box (so a click there is unambiguous)."""
    fb = window.editing.editor.frame_boxes(frame)
    for tid, b in zip(fb.ids, fb.boxes):
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        inside = (fb.boxes[:, 0] <= cx) & (cx < fb.boxes[:, 2]) & (fb.boxes[:, 1] <= cy) & (cy < fb.boxes[:, 3])
        if inside.sum() == 1:
            return int(tid)
    raise AssertionError("every box overlaps another")


def centre(box) -> tuple[float, float]:
    return float((box[0] + box[2]) / 2), float((box[1] + box[3]) / 2)


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window.video_view.graphics, k, modifier)


def undo(qtbot, window):
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def redo(qtbot, window):
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def drag(qtbot, window, start: QPoint, end: QPoint, steps: int = 4):
    vp = viewport(window)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(vp, start + (end - start) * i / steps)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)


def select(qtbot, window, tid: int):
    box, _ = box_of(window, tid)
    qtbot.mouseClick(viewport(window), Qt.MouseButton.LeftButton, pos=pixel(window, *centre(box)))
    assert window.state.selected_track == tid


def test_click_selects_escape_and_empty_space_clear(editing, qtbot):
    w = editing
    tid = lone_track(w)
    select(qtbot, w, tid)
    assert w.editing.label_panel.track_title.text().startswith(f"Track #{tid}")
    key(qtbot, w, Qt.Key.Key_Escape)
    assert w.state.selected_track == -1
    select(qtbot, w, tid)
    qtbot.mouseClick(viewport(w), Qt.MouseButton.LeftButton, pos=pixel(w, 2, 2))  # a corner: no box there
    assert w.state.selected_track == -1
    assert not w.editing.editor.stack.count(), "selecting is not an edit"


def test_drag_moves_the_box_not_the_image_then_undo_redo(editing, qtbot):
    w = editing
    tid = lone_track(w)
    before, kind = box_of(w, tid)
    assert kind == BoxKind.MODEL
    view_range = w.video_view.viewbox.viewRange()
    cx, cy = centre(before)
    drag(qtbot, w, pixel(w, cx, cy), pixel(w, cx + 30, cy + 10))
    after, kind = box_of(w, tid)
    assert kind == BoxKind.KEYFRAME
    np.testing.assert_allclose(after - before, [30, 10, 30, 10], atol=1.5)
    assert w.video_view.viewbox.viewRange() == view_range, "the image panned"
    assert w.editing.undo_action.text().replace("&", "") == f"Undo Move box #{tid} at frame {FRAME}"
    # the blend: the model boxes before and after the new keyframe moved too (no edit per frame)
    neighbour, nkind = box_of(w, tid, FRAME + 3)
    assert nkind == BoxKind.MODEL
    undo(qtbot, w)
    np.testing.assert_array_equal(box_of(w, tid)[0], before)
    assert box_of(w, tid)[1] == BoxKind.MODEL
    redo(qtbot, w)
    np.testing.assert_array_equal(box_of(w, tid)[0], after)


def test_handle_resizes(editing, qtbot):
    w = editing
    tid = lone_track(w)
    select(qtbot, w, tid)
    before, _ = box_of(w, tid)
    drag(qtbot, w, pixel(w, before[2], before[3]), pixel(w, before[2] + 20, before[3] + 15))  # bottom-right
    after, kind = box_of(w, tid)
    np.testing.assert_allclose(after[:2], before[:2])
    np.testing.assert_allclose(after[2:], before[2:] + [20, 15], atol=1.5)
    assert kind == BoxKind.KEYFRAME and "Resize" in w.editing.undo_action.text()
    undo(qtbot, w)
    np.testing.assert_array_equal(box_of(w, tid)[0], before)
    redo(qtbot, w)
    np.testing.assert_array_equal(box_of(w, tid)[0], after)


def test_delete_box_and_track(editing, qtbot):
    w = editing
    tid = lone_track(w)
    select(qtbot, w, tid)
    key(qtbot, w, Qt.Key.Key_Delete)
    assert box_of(w, tid) is None and tid in w.editing.editor.labels
    undo(qtbot, w)
    assert box_of(w, tid) is not None
    redo(qtbot, w)
    assert box_of(w, tid) is None
    undo(qtbot, w)
    key(qtbot, w, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert tid not in w.editing.editor.labels
    undo(qtbot, w)
    assert tid in w.editing.editor.labels


def test_n_and_drag_draws_a_new_track_or_a_box_of_an_existing_one(editing, qtbot):
    w = editing
    asked = []
    w.editing.tool.ask_track_id = lambda suggested, frame: asked.append((suggested, frame)) or suggested
    key(qtbot, w, Qt.Key.Key_N)
    assert w.editing.tool.mode == "draw"
    drag(qtbot, w, pixel(w, 5, 5), pixel(w, 40, 60))
    new_id = asked[0][0]
    box, kind = box_of(w, new_id)
    np.testing.assert_allclose(box, [5, 5, 40, 60], atol=1.5)
    assert kind == BoxKind.KEYFRAME and w.state.selected_track == new_id
    assert w.editing.tool.mode == "select"
    undo(qtbot, w)
    assert new_id not in w.editing.editor.labels
    redo(qtbot, w)
    assert new_id in w.editing.editor.labels
    # an existing ID on a frame where that track has no box: a keyframe added to it
    w.state.set_frame(12)
    w.video_view.render_now()
    w.editing.tool.ask_track_id = lambda suggested, frame: 1
    key(qtbot, w, Qt.Key.Key_N)
    drag(qtbot, w, pixel(w, 200, 20), pixel(w, 240, 110))
    box, kind = box_of(w, 1, 12)
    assert kind == BoxKind.KEYFRAME
    undo(qtbot, w)
    assert box_of(w, 1, 12) is None


def test_k_toggles_keyframe_and_e_r_jump_between_keyframes(editing, qtbot):
    w = editing
    tid = lone_track(w)
    select(qtbot, w, tid)
    key(qtbot, w, Qt.Key.Key_K)
    assert box_of(w, tid)[1] == BoxKind.KEYFRAME
    w.state.set_frame(20)
    key(qtbot, w, Qt.Key.Key_K)
    assert box_of(w, tid, 20)[1] == BoxKind.KEYFRAME
    key(qtbot, w, Qt.Key.Key_E)
    assert w.state.frame == FRAME
    key(qtbot, w, Qt.Key.Key_R)
    assert w.state.frame == 20
    w.editing.refresh_lanes()
    assert w.editing.lanes.mark_count == 2, "the timeline marks both keyframes"
    key(qtbot, w, Qt.Key.Key_K)  # back to a derived box
    assert box_of(w, tid, 20)[1] != BoxKind.KEYFRAME
    undo(qtbot, w)
    assert box_of(w, tid, 20)[1] == BoxKind.KEYFRAME
    undo(qtbot, w)
    undo(qtbot, w)
    assert box_of(w, tid)[1] == BoxKind.MODEL
    redo(qtbot, w)
    assert box_of(w, tid)[1] == BoxKind.KEYFRAME


def test_o_marks_outside_and_nothing_is_drawn_there(editing, qtbot):
    w = editing
    tid = lone_track(w)
    select(qtbot, w, tid)
    w.state.set_frame(30)
    w.video_view.render_now()
    key(qtbot, w, Qt.Key.Key_O)
    labels = w.editing.editor.labels
    assert 30 in labels.track(tid).outside.tolist()
    assert box_of(w, tid, 30) is None and box_of(w, tid, 35) is None
    assert tid not in w.video_view.label_overlay.shown.ids.tolist(), "outside frames show nothing"
    key(qtbot, w, Qt.Key.Key_O)  # on the marker's frame: inside again
    assert 30 not in w.editing.editor.labels.track(tid).outside.tolist()
    undo(qtbot, w)
    undo(qtbot, w)
    assert box_of(w, tid, 35) is not None and not len(w.editing.editor.labels.track(tid).outside)
    redo(qtbot, w)
    assert box_of(w, tid, 35) is None


def test_m_then_click_merges_alt_m_splits(editing, qtbot):
    w = editing
    labels = w.editing.editor.labels
    # make room: track 2 ends at frame 19, track 3 starts at 25 (then they can merge without overlap)
    w.editing.editor.delete_frames(track_id=2, first=20, last=39)
    w.editing.editor.delete_frames(track_id=3, first=0, last=24)
    w.state.set_frame(10)
    w.video_view.render_now()
    select(qtbot, w, 2) if box_of(w, 2, 10) is not None else None
    w.state.select_track(2)
    key(qtbot, w, Qt.Key.Key_M)
    assert w.editing.tool.mode == "merge"
    w.state.set_frame(30)
    w.video_view.render_now()
    b3, _ = box_of(w, 3, 30)
    qtbot.mouseClick(viewport(w), Qt.MouseButton.LeftButton, pos=pixel(w, *centre(b3)))
    labels = w.editing.editor.labels
    assert 3 not in labels and box_of(w, 2, 30) is not None
    assert "Merge #3 into #2" in w.editing.undo_action.text()
    undo(qtbot, w)
    assert 3 in w.editing.editor.labels
    redo(qtbot, w)
    assert 3 not in w.editing.editor.labels
    # split the merged track at frame 30
    w.state.select_track(2)
    expected_new = w.editing.editor.next_free_id()
    key(qtbot, w, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    labels = w.editing.editor.labels
    assert expected_new in labels, w.statusBar().currentMessage()
    assert labels.track(expected_new).first == 30 and labels.track(2).last < 30
    assert w.state.selected_track == expected_new
    undo(qtbot, w)
    assert expected_new not in w.editing.editor.labels
    redo(qtbot, w)
    assert expected_new in w.editing.editor.labels


def test_i_changes_an_id_and_offers_a_swap_when_it_is_taken(editing, qtbot):
    w = editing
    ed = w.editing
    tid = lone_track(w)
    select(qtbot, w, tid)
    ed.ask_int = lambda title, label, value: 42
    key(qtbot, w, Qt.Key.Key_I)
    assert 42 in ed.editor.labels and tid not in ed.editor.labels and w.state.selected_track == 42
    undo(qtbot, w)
    assert tid in ed.editor.labels and 42 not in ed.editor.labels
    redo(qtbot, w)
    undo(qtbot, w)
    other = next(t for t in (1, 2, 3, 4) if t != tid)
    ed.ask_int = lambda title, label, value: other
    questions = []
    ed.ask_yes = lambda title, text: questions.append(text) or True
    before = {t: ed.editor.labels.track(t).boxes.copy() for t in (tid, other)}
    select(qtbot, w, tid)
    key(qtbot, w, Qt.Key.Key_I)
    assert questions, "an ID in use in overlapping frames asks before swapping"
    np.testing.assert_array_equal(ed.editor.labels.track(other).boxes, before[tid])
    undo(qtbot, w)
    np.testing.assert_array_equal(ed.editor.labels.track(tid).boxes, before[tid])
    # Shift+I: swap from this frame on only
    orig = ed.editor.labels.track(tid)
    ed.ask_int = lambda title, label, value: other
    w.state.set_frame(20)
    w.state.select_track(tid)
    key(qtbot, w, Qt.Key.Key_I, Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(box_of(w, other, 25)[0], orig.boxes[orig.row(25)])  # swapped from 20 on
    np.testing.assert_array_equal(box_of(w, tid, 10)[0], orig.boxes[orig.row(10)])  # not before
    undo(qtbot, w)
    np.testing.assert_array_equal(ed.editor.labels.track(tid).boxes, before[tid])


def test_refused_edit_says_why_and_pushes_nothing(editing, qtbot):
    w = editing
    ed = w.editing
    tid = lone_track(w)
    w.state.select_track(tid)
    ed.ask_int = lambda title, label, value: 0  # not a valid ID
    count = ed.editor.stack.count()
    key(qtbot, w, Qt.Key.Key_I)
    assert ed.editor.stack.count() == count
    assert "Not done" in w.statusBar().currentMessage()


def test_edit_menu_names_the_action_and_shortcuts_window_lists_every_key(editing, qtbot):
    w = editing
    menus = {a.text().replace("&", ""): a.menu() for a in w.menuBar().actions() if a.menu()}
    assert {"File", "Edit", "Help"} <= set(menus)
    texts = [a.text().replace("&", "") for a in menus["Edit"].actions()]
    assert texts[0].startswith("Undo") and texts[1].startswith("Redo")
    assert w.editing.editor.stack.undoLimit() == 0, "no small cap on undo"
    w.editing.show_shortcuts()
    rows = dict(w.editing.shortcuts_dialog.rows())
    for keys in ("N", "K", "O", "M", "Alt+M", "E", "R", "I", "Del or Backspace", "Ctrl+Z", "Ctrl+S", "F1", "Esc"):
        assert keys in rows, f"{keys} missing from the shortcuts window: {sorted(rows)}"
    w.editing.shortcuts_dialog.close()


def test_class_visibility_ignore_from_the_label_panel(editing, qtbot):
    w = editing
    ed = w.editing
    tid = lone_track(w)
    select(qtbot, w, tid)
    panel = ed.label_panel
    panel.class_combo.activated.emit(panel.class_combo.findData(7))
    assert ed.editor.labels.track(tid).class_id == 7
    panel.visibility_spin.setValue(0.25)
    panel.visibility_spin.editingFinished.emit()
    assert np.all(ed.editor.labels.track(tid).visibility == 0.25)
    qtbot.mouseClick(panel.ignore_check, Qt.MouseButton.LeftButton)
    assert not ed.editor.labels.track(tid).consider.any()
    for _ in range(3):
        undo(qtbot, w)
    t = ed.editor.labels.track(tid)
    assert t.class_id == 1 and np.all(t.visibility == 1.0) and t.consider.all()
