"""Every edit: what it does, its undo (apply -> revert identical, re-apply equal), and what it refuses."""
from __future__ import annotations

import numpy as np
import pytest
from labels_helpers import NUM_FRAMES, do

from engine.labels import edits as E
from engine.labels.model import BoxKind, LabelSet

BOX = [10.0, 20.0, 60.0, 140.0]


def kinds_at(ls, tid, frames):
    t = ls.track(tid)
    return [int(t.kinds[t.row(f)]) if t.row(f) is not None else None for f in frames]


def test_new_track_and_add_box_interpolate(labels):
    c = do(labels, E.new_track, frame=10, box=[0, 0, 10, 10])
    assert c.track_ids == (10,) and "New track #10" in c.description
    do(labels, E.add_box, track_id=10, frame=20, box=[10, 20, 30, 40])
    t = labels.track(10)
    assert t.frames.tolist() == list(range(10, 21))
    np.testing.assert_allclose(t.boxes[5], [5, 10, 20, 25])
    assert kinds_at(labels, 10, [10, 15, 20]) == [BoxKind.KEYFRAME, BoxKind.INTERPOLATED, BoxKind.KEYFRAME]
    do(labels, E.new_track, frame=0, box=BOX, track_id=77, class_id=3, visibility=0.5, consider=False)
    t = labels.track(77)
    assert t.class_id == 3 and t.visibility[0] == 0.5 and not t.consider[0]


def test_set_box_moves_and_blends(labels):
    c = do(labels, E.set_box, track_id=3, frame=20, box=[40, 50, 80, 150])
    t = labels.track(3)
    assert kinds_at(labels, 3, [19, 20, 21]) == [BoxKind.MODEL, BoxKind.KEYFRAME, BoxKind.MODEL]
    # offset (+10 px in x1, x2) held over the whole track: no other keyframe
    np.testing.assert_allclose(t.boxes[:, 0] - t.model_boxes[:, 0], 10.0)
    assert c.frame_range == (0, 59)


def test_set_keyframe_toggle(labels):
    do(labels, E.set_keyframe, track_id=5, frame=40)
    assert kinds_at(labels, 5, [40]) == [BoxKind.KEYFRAME]
    np.testing.assert_array_equal(labels.track(5).boxes, labels.track(5).model_boxes)
    E.set_box(labels, track_id=5, frame=40, box=[0, 0, 50, 50]).apply(labels)
    do(labels, E.set_keyframe, track_id=5, frame=40, keyframe=False)
    t = labels.track(5)
    assert (t.kinds == BoxKind.MODEL).all() and np.array_equal(t.boxes, t.model_boxes)
    # a keyframe without a model box under it disappears when un-keyed (unless interpolated again)
    E.new_track(labels, frame=5, box=BOX, track_id=50).apply(labels)
    E.add_box(labels, track_id=50, frame=9, box=BOX).apply(labels)
    E.add_box(labels, track_id=50, frame=15, box=[20, 20, 70, 140]).apply(labels)
    do(labels, E.set_keyframe, track_id=50, frame=9, keyframe=False)
    assert kinds_at(labels, 50, [9]) == [BoxKind.INTERPOLATED]
    do(labels, E.set_keyframe, track_id=50, frame=15, keyframe=False)
    assert labels.track(50).frames.tolist() == [5]
    with pytest.raises(ValueError, match="no other box"):
        E.set_keyframe(labels, track_id=50, frame=5, keyframe=False)
    with pytest.raises(ValueError, match="already a keyframe"):
        E.set_keyframe(labels, track_id=50, frame=5)


def test_delete_box_and_frames_leave_a_hole(labels):
    E.set_box(labels, track_id=3, frame=10, box=[10, 50, 50, 150]).apply(labels)
    E.set_box(labels, track_id=3, frame=30, box=[30, 50, 70, 150]).apply(labels)
    before = labels.track(3)
    do(labels, E.delete_box, track_id=3, frame=20)
    t = labels.track(3)
    assert t.row(20) is None and 20 in t.outside.tolist()
    for f in (19, 21, 40):  # nothing else moved
        np.testing.assert_allclose(t.boxes[t.row(f)], before.boxes[before.row(f)], atol=1e-9)
    do(labels, E.delete_frames, track_id=3, first=40, last=59)
    assert labels.track(3).last == 39
    c = do(labels, E.delete_frames, track_id=9, first=0, last=119)
    assert 9 not in labels and c.after[9] is None
    with pytest.raises(ValueError, match="no box in frames"):
        E.delete_frames(labels, track_id=5, first=0, last=10)
    with pytest.raises(ValueError, match="no box at frame 95"):
        E.delete_box(labels, track_id=5, frame=95)


def test_delete_track(labels):
    do(labels, E.delete_track, track_id=5)
    assert labels.track_ids().tolist() == [3, 9]
    assert labels.frame_boxes(50).ids.tolist() == [3]


def test_mark_outside_and_clear(labels):
    # a keyframe-interpolated track: kf at 10 and 30
    E.new_track(labels, frame=10, box=[0, 0, 10, 10], track_id=20).apply(labels)
    E.add_box(labels, track_id=20, frame=30, box=[20, 0, 30, 10]).apply(labels)
    before = labels.track(20)
    c = do(labels, E.mark_outside, track_id=20, frame=20)
    t = labels.track(20)
    assert t.outside.tolist() == [20] and t.frames.tolist() == list(range(10, 20)) + [30]
    np.testing.assert_allclose(t.boxes[:10], before.boxes[:10], atol=1e-9)  # the part before did not move
    assert labels.frame_boxes(25).ids.tolist() == [3] and "Outside #20" in c.description
    assert 20 not in labels.to_rows()[labels.to_rows()[:, 1] == 20][:, 0]
    do(labels, E.clear_outside, track_id=20, frame=20)
    t = labels.track(20)
    assert t.frames.tolist() == list(range(10, 31)) and t.outside.size == 0
    np.testing.assert_allclose(t.boxes, before.boxes, atol=1e-9)
    # on a model track without keyframes: the track ends
    do(labels, E.mark_outside, track_id=5, frame=60)
    assert labels.track(5).last == 59
    with pytest.raises(ValueError, match="already outside"):
        E.mark_outside(labels, track_id=5, frame=60)
    with pytest.raises(ValueError, match="outside can start"):
        E.mark_outside(labels, track_id=5, frame=30)
    with pytest.raises(ValueError, match="no outside marker"):
        E.clear_outside(labels, track_id=5, frame=61)


def test_change_id_rename_merge_refuse_swap(labels):
    c = do(labels, E.change_id, track_id=9, new_id=1000)
    assert 9 not in labels and labels.track(1000).first == 70 and "#9 to #1000" in c.description
    # 3 (0..59) and 1000 (70..119) never overlap: changing 1000 to 3 merges them
    c = do(labels, E.change_id, track_id=1000, new_id=3)
    t = labels.track(3)
    assert 1000 not in labels and t.first == 0 and t.last == 119 and "merged" in c.description
    assert 60 in t.outside.tolist()  # the gap 60..69 is not filled in
    # 5 (30..89) overlaps 3
    with pytest.raises(ValueError, match=r"ID 3 is already used .* 50 frame\(s\) .*first: frame 30.*swap"):
        E.change_id(labels, track_id=5, new_id=3)
    t3, t5 = labels.track(3), labels.track(5)
    do(labels, E.change_id, track_id=5, new_id=3, swap=True)
    assert labels.track(3).frames.tolist() == t5.frames.tolist()
    assert labels.track(5).frames.tolist() == t3.frames.tolist()
    with pytest.raises(ValueError, match="already has ID"):
        E.change_id(labels, track_id=5, new_id=5)


def test_swap_ids_from_a_frame(labels):
    t3, t5 = labels.track(3), labels.track(5)
    c = do(labels, E.swap_ids, id_a=3, id_b=5, frame=45)
    a, b = labels.track(3), labels.track(5)
    assert a.frames.tolist() == list(range(0, 90)) and b.frames.tolist() == list(range(30, 60))
    np.testing.assert_array_equal(a.boxes[a.row(50)], t5.boxes[t5.row(50)])
    np.testing.assert_array_equal(b.boxes[b.row(50)], t3.boxes[t3.row(50)])
    np.testing.assert_array_equal(a.boxes[a.row(44)], t3.boxes[t3.row(44)])
    assert "Swap #3 and #5 from frame 45" == c.description
    with pytest.raises(ValueError, match="neither track"):
        E.swap_ids(labels, id_a=3, id_b=5, frame=119)


def test_swap_keeps_interpolated_boxes_in_place(labels):
    E.new_track(labels, frame=0, box=[0, 0, 10, 10], track_id=30).apply(labels)
    E.add_box(labels, track_id=30, frame=100, box=[100, 0, 110, 10]).apply(labels)
    before = labels.track(30)
    do(labels, E.swap_ids, id_a=30, id_b=9, frame=50)
    a = labels.track(30)
    np.testing.assert_allclose(a.boxes[:50], before.boxes[:50], atol=1e-9)
    assert a.kinds[49] == BoxKind.KEYFRAME  # anchored at the cut
    assert labels.track(9).frames.tolist() == list(range(50, 101))
    # 9 (frames 70..119 before) now continues 30; the gap 50..69 of 30 is outside, not interpolated
    assert a.frames.tolist() == list(range(0, 50)) + list(range(70, 120)) and a.outside.tolist() == [50]


def test_merge_keeps_keyframes_and_reports_dropped(labels):
    E.set_box(labels, track_id=3, frame=40, box=[1, 2, 40, 60]).apply(labels)
    E.set_box(labels, track_id=5, frame=40, box=[5, 6, 45, 66]).apply(labels)  # both keyframes at 40
    E.set_box(labels, track_id=5, frame=50, box=[7, 8, 47, 68]).apply(labels)  # only 5 has one at 50
    c = do(labels, E.merge_tracks, keep_id=3, other_id=5)
    t = labels.track(3)
    assert 5 not in labels and t.first == 0 and t.last == 89
    assert c.info["dropped_keyframes"] == [40] and "frames 40" in c.message and "track 5" in c.message
    np.testing.assert_array_equal(t.boxes[t.row(40)], [1, 2, 40, 60])
    np.testing.assert_array_equal(t.boxes[t.row(50)], [7, 8, 47, 68])
    with pytest.raises(ValueError, match="itself"):
        E.merge_tracks(labels, keep_id=3, other_id=3)


def test_split(labels):
    t = labels.track(5)
    c = do(labels, E.split_track, track_id=5, frame=60)
    assert labels.track(5).frames.tolist() == list(range(30, 60))
    assert labels.track(10).frames.tolist() == list(range(60, 90)) and c.after[10].class_id == t.class_id
    np.testing.assert_array_equal(np.concatenate([labels.track(5).boxes, labels.track(10).boxes]), t.boxes)
    do(labels, E.split_track, track_id=3, frame=10, new_id=444)
    assert 444 in labels
    with pytest.raises(ValueError, match="already used"):
        E.split_track(labels, track_id=3, frame=5, new_id=9)
    with pytest.raises(ValueError, match="one part empty"):
        E.split_track(labels, track_id=3, frame=0)


def test_split_inside_an_interpolated_segment_keeps_boxes(labels):
    E.new_track(labels, frame=0, box=[0, 0, 10, 10], track_id=40).apply(labels)
    E.add_box(labels, track_id=40, frame=10, box=[10, 0, 20, 10]).apply(labels)
    before = labels.track(40)
    do(labels, E.split_track, track_id=40, frame=5)
    both = np.concatenate([labels.track(40).boxes, labels.track(41).boxes])
    np.testing.assert_allclose(both, before.boxes, atol=1e-9)
    assert labels.track(40).kinds[-1] == BoxKind.KEYFRAME and labels.track(41).kinds[0] == BoxKind.KEYFRAME


def test_attributes(labels):
    do(labels, E.set_class, track_id=3, class_id=2)
    assert labels.track(3).class_id == 2 and labels.frame_boxes(0).classes.tolist() == [2]
    do(labels, E.set_visibility, track_id=3, visibility=0.3, first=5, last=9)
    v = labels.track(3).visibility
    assert v[5:10].tolist() == [0.3] * 5 and v[4] == 1.0 and v[10] == 1.0
    do(labels, E.set_consider, track_id=3, consider=False)
    assert not labels.track(3).consider.any() and not labels.frame_boxes(3).consider.any()
    with pytest.raises(ValueError, match="already has class"):
        E.set_class(labels, track_id=3, class_id=2)
    with pytest.raises(ValueError, match="visibility"):
        E.set_visibility(labels, track_id=3, visibility=float("nan"))
    with pytest.raises(ValueError, match="before first"):
        E.set_consider(labels, track_id=3, consider=True, first=9, last=5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(track_id=99, frame=3, box=BOX), "no track 99"),
    (dict(track_id=0, frame=3, box=BOX), "track ID must be in"),
    (dict(track_id=3, frame=NUM_FRAMES, box=BOX), "frame 120 outside"),
    (dict(track_id=3, frame=-1, box=BOX), "frame -1 outside"),
    (dict(track_id=3, frame=2.0, box=BOX), "frame must be an integer"),
    (dict(track_id=3, frame=3, box=[0, 0, np.nan, 1]), "finite"),
    (dict(track_id=3, frame=3, box=[5, 0, 5, 10]), "x2 > x1"),
    (dict(track_id=3, frame=3, box=[0, 9, 5, 1]), "x2 > x1 and y2 > y1"),
    (dict(track_id=3, frame=3, box=[0, 0, 1e12, 1]), "within"),
    (dict(track_id=3, frame=3, box=[0, 0, 1]), "shape"),
    (dict(track_id=3, frame=70, box=BOX), "no box at frame 70"),
])
def test_set_box_refuses(labels, kwargs, match):
    with pytest.raises(ValueError, match=match):
        E.set_box(labels, **kwargs)


def test_add_and_new_refusals(labels):
    with pytest.raises(ValueError, match="already has a box"):
        E.add_box(labels, track_id=3, frame=5, box=BOX)
    with pytest.raises(ValueError, match="already used"):
        E.new_track(labels, frame=5, box=BOX, track_id=3)
    with pytest.raises(ValueError, match="track ID must be in"):
        E.new_track(labels, frame=5, box=BOX, track_id=2**40)


def test_combine_is_one_undo_step(labels):
    ls = labels
    c1 = E.set_box(ls, track_id=3, frame=5, box=BOX)
    work = ls.copy()
    c1.apply(work)
    c2 = E.split_track(work, track_id=3, frame=30)
    c2.apply(work)
    c3 = E.change_id(work, track_id=10, new_id=5, swap=True)
    c3.apply(work)
    both = E.combine("Fix identity", [c1, c2, c3])
    assert both.description == "Fix identity" and set(both.track_ids) == {3, 5, 10}
    before = ls.copy()
    both.apply(ls)
    assert ls.equals(work)
    both.revert(ls)
    assert ls.equals(before)


def test_stale_change_refused(labels):
    c1 = E.set_box(labels, track_id=3, frame=5, box=BOX)
    c2 = E.set_box(labels, track_id=3, frame=6, box=BOX)
    c1.apply(labels)
    with pytest.raises(ValueError, match="changed since"):
        c2.apply(labels)
    with pytest.raises(ValueError, match="changed since"):
        c2.revert(labels)


def test_edits_touch_only_their_track(labels):
    others = {tid: labels.track(tid) for tid in (5, 9)}
    E.set_box(labels, track_id=3, frame=5, box=BOX).apply(labels)
    assert all(labels.track(tid) is t for tid, t in others.items())


def test_label_set_never_holds_an_empty_track():
    ls = LabelSet.empty(name="x", num_frames=10, width=10, height=10)
    E.new_track(ls, frame=3, box=BOX).apply(ls)
    c = E.delete_box(ls, track_id=1, frame=3)
    assert c.after == {1: None}
