"""The review queue dock: N / P move through the items (frame and track follow), Enter applies the
proposal through the window's one undo stack and Undo reverts it, Backspace rejects."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from compare_data import SWITCH_FRAME, jobs_end, run_frame, FRAMES  # noqa: F401 (jobs_end: autouse fixture)
from engine.labels import LabelSet
from engine.labels import edits as E
from stviewer.compare.review import ACCEPTED, PENDING, REJECTED, ReviewEntry, ReviewQueue
from stviewer.editing.editor import LabelEditor
from stviewer.state import ViewerState
from stviewer.views.review_dock import ReviewDock


def run_a_rows() -> np.ndarray:
    rows = []
    for k in range(FRAMES):
        for x1, y1, x2, y2, score, tid in run_frame("A", k).tracks:
            rows.append([k, tid, x1, y1, x2, y2, score])
    return np.array(rows, np.float64)


@pytest.fixture
def review(qtbot):
    state = ViewerState()
    state.video = type("Video", (), {"__len__": lambda self: FRAMES, "fps": 25.0})()
    editor = LabelEditor(state)
    editor.set_labels(LabelSet.from_run(run_a_rows(), name="edited", num_frames=FRAMES, width=320, height=240,
                                         source_run="A"))
    queue = ReviewQueue(state, editor=lambda: editor)
    entries = [
        ReviewEntry(frame=SWITCH_FRAME, track_ids=(12, 13), kind="fragment", score=0.9,
                    reason="#13 starts where #12 ends; same appearance",
                    proposal="merge #13 into #12",
                    make_change=lambda labels: E.merge_tracks(labels, keep_id=12, other_id=13)),
        ReviewEntry(frame=5, track_ids=(11,), kind="short track", score=0.4, reason="low score", proposal="",
                    make_change=None),
        ReviewEntry(frame=30, track_ids=(11,), kind="ID switch", score=0.2, reason="small association margin",
                    proposal="split #11 at frame 30",
                    make_change=lambda labels: E.split_track(labels, track_id=11, frame=30)),
    ]
    queue.set_entries(entries, run_name="A")
    dock = ReviewDock(queue)
    qtbot.addWidget(dock)
    dock.resize(700, 300)
    dock.show()
    dock.tree.setFocus()
    return state, editor, queue, dock


def test_keys_move_accept_reject_and_undo(review, qtbot):
    state, editor, queue, dock = review
    labels = editor.labels
    assert {12, 13} <= set(labels.track_ids().tolist())
    # focusing the list makes its first item current: the frame and track follow
    qtbot.waitUntil(lambda: queue.current == 0)
    assert state.frame == SWITCH_FRAME and state.selected_track == 12
    qtbot.keyClick(dock.tree, Qt.Key.Key_N)
    assert queue.current == 1 and state.frame == 5 and state.selected_track == 11
    qtbot.keyClick(dock.tree, Qt.Key.Key_P)
    assert queue.current == 0 and state.frame == SWITCH_FRAME
    qtbot.keyClick(dock.tree, Qt.Key.Key_Return)  # accept: merge through the undo stack
    assert queue.status[0] == ACCEPTED and editor.stack.count() == 1
    assert 13 not in labels and labels.track(12).first == 0 and labels.track(12).last == FRAMES - 1
    assert editor.stack.undoText().startswith("Review: ")  # Edit > Undo names it
    assert queue.current == 1  # moved on to the next pending item
    qtbot.keyClick(dock.tree, Qt.Key.Key_Backspace)  # reject: nothing changes but the status
    assert queue.status[1] == REJECTED and editor.stack.count() == 1
    assert queue.current == 2
    qtbot.keyClick(dock.tree, Qt.Key.Key_P)
    assert queue.current == 1 and state.frame == 5
    editor.stack.undo()  # Edit > Undo reverts the accepted proposal; the item is pending again
    assert 13 in labels and labels.track(12).last == SWITCH_FRAME - 1
    assert queue.status[0] == PENDING
    editor.stack.redo()
    assert 13 not in labels and queue.status[0] == ACCEPTED
    assert dock.tree.topLevelItem(0).text(0).startswith("✓")
    assert "1 accepted, 1 rejected" in dock.summary.text()


def test_accept_without_a_label_set_says_why(review, qtbot):
    state, editor, queue, dock = review
    editor.set_labels(None)
    messages = []
    queue.message.connect(messages.append)
    queue.go_to(0)
    qtbot.keyClick(dock.tree, Qt.Key.Key_Enter)
    assert queue.status[0] == PENDING and messages and "label set" in messages[0]


def test_refused_proposal_leaves_everything_as_it_was(review, qtbot):
    state, editor, queue, dock = review
    messages = []
    queue.message.connect(messages.append)
    E.delete_track(editor.labels, track_id=13).apply(editor.labels)  # the proposal's track is gone
    queue.go_to(0)
    assert "13" in queue.why_not(0) and "no longer applies" in dock.detail.text()
    assert not queue.accept()
    assert queue.status[0] == PENDING and editor.stack.count() == 0 and "13" in messages[0]


def test_a_label_set_of_another_source_is_not_edited(review, qtbot):
    state, editor, queue, dock = review
    editor.set_labels(LabelSet.from_run(run_a_rows(), name="other", num_frames=FRAMES, width=320, height=240,
                                        source_run="B"))
    messages = []
    queue.message.connect(messages.append)
    queue.go_to(0)
    assert not queue.accept()
    assert queue.status[0] == PENDING and editor.stack.count() == 0 and "not made from run 'A'" in messages[0]


def test_review_queue_in_the_window(make_window, qtbot, clip):
    """The engine's queue of the shown run in the dock; accepting with no label set edited starts one from
    the run; the proposal goes through the window's undo stack (Edit > Undo reverts it); items are marked
    on the timeline."""
    from compare_data import write_pair

    write_pair(clip)
    w = make_window()
    w.session.threaded = False
    w.editing.ask_close = lambda _count: "discard"
    ui = w.compare_ui
    ui.review.threaded = False
    w.open_path(clip)
    w.session.select_run("A")
    ui.review.show()
    queue = ui.review.queue
    qtbot.waitUntil(lambda: len(queue.entries) > 0)
    merge = [i for i, e in enumerate(queue.entries) if e.track_ids == (12, 13)]
    assert merge and queue.entries[merge[0]].proposal == "merge #13 into #12"
    assert any("margins" in note for note in queue.notes)  # what the engine could not use is said
    np.testing.assert_array_equal(np.sort(ui.review.marks.data["x"]), np.sort(queue.frames()))
    np.testing.assert_array_equal(ui.timeline.lane_frames("review"), np.unique(queue.frames()))
    queue.go_to(merge[0])
    assert w.state.frame == SWITCH_FRAME
    editor = w.editing.editor
    assert editor.labels is None
    assert queue.accept()
    assert editor.labels is not None and editor.labels.source_run == "A"
    assert 13 not in editor.labels and queue.status[merge[0]] == ACCEPTED
    editor.stack.undo()
    assert 13 in editor.labels and queue.status[merge[0]] == PENDING
    # keys in the window: the list takes N / P / Backspace / Enter before the editing UI's N (draw a box) and
    # Backspace (delete the selected box), which share them
    tree = ui.review.dock_widget.tree
    w.activateWindow()
    tree.setFocus()
    qtbot.waitUntil(tree.hasFocus)
    queue.go_to(0)
    qtbot.keyClick(tree, Qt.Key.Key_N)  # (this run's queue has one item: N stays on it)
    qtbot.keyClick(tree, Qt.Key.Key_P)
    assert queue.current == 0 and w.editing.tool.mode == "select"  # not the editing UI's draw mode
    boxes = editor.labels.num_boxes
    qtbot.keyClick(tree, Qt.Key.Key_Backspace)
    assert queue.status[0] == REJECTED and editor.labels.num_boxes == boxes and editor.stack.count() == 1
