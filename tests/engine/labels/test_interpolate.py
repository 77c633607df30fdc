"""Keyframe interpolation and the correction blend over model boxes."""
from __future__ import annotations

import numpy as np
import pytest

from engine.labels import edits as E
from engine.labels.interpolate import affected_range, rederive
from engine.labels.model import BoxKind, LabelSet


def drifting_track(num: int = 50, drift: float = 20.0, noise: float = 0.4):
    """A walking person (truth) and a model track whose boxes drift by ``drift`` px over ``num`` frames
    (plus a little jitter, as a real detector has)."""
    rng = np.random.default_rng(3)
    k = np.arange(num, dtype=np.float64)
    truth = np.stack([200 + 1.5 * k, 80 + 0.2 * k, 260 + 1.5 * k, 240 + 0.2 * k], axis=1)
    d = drift * k / (num - 1)
    model = truth + np.stack([d, 0.5 * d, d, 0.5 * d], axis=1) + rng.uniform(-noise, noise, truth.shape)
    rows = np.column_stack([k, np.full(num, 4.0), model, np.full(num, 0.8)])
    ls = LabelSet.from_run(rows, name="gt", num_frames=200, width=640, height=480)
    return ls, truth


def test_drift_of_20px_over_50_frames_is_fixed_with_two_edits():
    ls, truth = drifting_track()
    assert np.abs(ls.track(4).boxes - truth).max() > 19  # the model really is off by ~20 px at the end
    E.set_box(ls, track_id=4, frame=0, box=truth[0]).apply(ls)
    E.set_box(ls, track_id=4, frame=49, box=truth[49]).apply(ls)
    t = ls.track(4)
    assert len(t.keyframes()) == 2 and len(t) == 50
    assert np.abs(t.boxes - truth).max() <= 1.0
    assert (t.kinds[1:49] == BoxKind.MODEL).all()  # still model boxes (corrected), not interpolated


def test_one_edit_alone_does_not_fix_the_drift():
    """The blend holds the offset beyond the last keyframe: one edit at the end shifts the start."""
    ls, truth = drifting_track()
    E.set_box(ls, track_id=4, frame=49, box=truth[49]).apply(ls)
    t = ls.track(4)
    assert np.abs(t.boxes[49] - truth[49]).max() == 0
    assert np.abs(t.boxes[0] - truth[0]).max() > 15


def test_blend_falls_off_linearly_between_keyframes_and_is_held_beyond():
    rows = np.array([[k, 1, 0, 0, 10, 10, 1] for k in range(30)], np.float64)
    ls = LabelSet.from_run(rows, name="x", num_frames=30, width=64, height=64)
    E.set_box(ls, track_id=1, frame=10, box=[10, 0, 20, 10]).apply(ls)   # offset +10 in x
    E.set_box(ls, track_id=1, frame=20, box=[0, 20, 10, 30]).apply(ls)   # offset +20 in y
    off = ls.track(1).boxes - ls.track(1).model_boxes
    np.testing.assert_allclose(off[:11, 0], 10)           # held before the first keyframe
    np.testing.assert_allclose(off[15], [5, 10, 5, 10])    # halfway: half of each
    np.testing.assert_allclose(off[20:, 1], 20)            # held after the last one
    np.testing.assert_allclose(off[20:, 0], 0)


def test_no_blend_across_an_outside_marker():
    rows = np.array([[k, 1, 0, 0, 10, 10, 1] for k in range(40)], np.float64)
    ls = LabelSet.from_run(rows, name="x", num_frames=40, width=64, height=64)
    E.delete_frames(ls, track_id=1, first=15, last=19).apply(ls)   # object hidden 15..19
    E.set_box(ls, track_id=1, frame=10, box=[5, 0, 15, 10]).apply(ls)
    t = ls.track(1)
    off = t.boxes - t.model_boxes
    np.testing.assert_allclose(off[t.frames < 15][:, 0], 5)
    np.testing.assert_allclose(off[t.frames >= 20][:, 0], 0)   # beyond the marker: untouched


def test_interpolation_is_linear_in_corners_and_fills_model_gaps():
    ls = LabelSet.empty(name="x", num_frames=100, width=64, height=64)
    E.new_track(ls, frame=0, box=[0, 0, 10, 10], track_id=1).apply(ls)
    E.add_box(ls, track_id=1, frame=40, box=[40, 20, 60, 30]).apply(ls)
    t = ls.track(1)
    assert len(t) == 41 and (t.kinds[1:40] == BoxKind.INTERPOLATED).all()
    np.testing.assert_allclose(t.boxes[10], [10, 5, 22.5, 15])
    # moving the end keyframe recomputes the segment
    E.set_box(ls, track_id=1, frame=40, box=[80, 0, 90, 10]).apply(ls)
    np.testing.assert_allclose(ls.track(1).boxes[20], [40, 0, 50, 10])
    # a gap in a model track between two keyframes is interpolated between the corrected model boxes
    rows = np.array([[k, 2, k, 0, k + 10, 10, 1] for k in list(range(0, 10)) + list(range(20, 30))], np.float64)
    ls = LabelSet.from_run(rows, name="y", num_frames=30, width=64, height=64)
    E.set_keyframe(ls, track_id=2, frame=0).apply(ls)
    E.set_keyframe(ls, track_id=2, frame=29).apply(ls)
    t = ls.track(2)
    assert t.frames.tolist() == list(range(30)) and (t.kinds[10:20] == BoxKind.INTERPOLATED).all()
    np.testing.assert_allclose(t.boxes[15], [15, 0, 25, 10])


def test_only_the_affected_segment_is_recomputed():
    ls = LabelSet.empty(name="x", num_frames=100, width=64, height=64)
    E.new_track(ls, frame=0, box=[0, 0, 10, 10], track_id=1).apply(ls)
    for f, x in ((20, 20), (40, 40), (60, 60)):
        E.add_box(ls, track_id=1, frame=f, box=[x, 0, x + 10, 10]).apply(ls)
    t = ls.track(1)
    assert affected_range(t, 40) == (21, 59)
    assert affected_range(t, 70) == (61, 2**62)
    # hand-edit an interpolated box outside the range: rederive of [21, 59] must leave it alone
    boxes = t.boxes.copy()
    boxes[5] += 100
    tampered = t.replace(boxes=boxes)
    out = rederive(tampered, 21, 59)
    assert np.array_equal(out.boxes[5], boxes[5])
    assert np.array_equal(rederive(tampered).boxes[5], t.boxes[5])


def test_visibility_of_interpolated_rows_survives_recompute():
    ls = LabelSet.empty(name="x", num_frames=100, width=64, height=64)
    E.new_track(ls, frame=0, box=[0, 0, 10, 10], track_id=1).apply(ls)
    E.add_box(ls, track_id=1, frame=20, box=[20, 0, 30, 10]).apply(ls)
    E.set_visibility(ls, track_id=1, visibility=0.5, first=5, last=8).apply(ls)
    E.set_box(ls, track_id=1, frame=20, box=[40, 0, 50, 10]).apply(ls)
    assert ls.track(1).visibility[5:9].tolist() == [0.5] * 4
    np.testing.assert_allclose(ls.track(1).boxes[10], [20, 0, 30, 10])


@pytest.mark.parametrize("first_key", [0, 5])
def test_keyframe_without_model_box_takes_no_part_in_the_blend(first_key):
    rows = np.array([[k, 1, 0, 0, 10, 10, 1] for k in range(10, 30)], np.float64)
    ls = LabelSet.from_run(rows, name="x", num_frames=40, width=64, height=64)
    E.add_box(ls, track_id=1, frame=first_key, box=[50, 50, 60, 60]).apply(ls)   # no model box there
    E.set_box(ls, track_id=1, frame=29, box=[10, 0, 20, 10]).apply(ls)           # offset +10
    t = ls.track(1)
    for f in (10, 19, 28):
        np.testing.assert_allclose(t.boxes[t.row(f)] - t.model_boxes[t.row(f)], [10, 0, 10, 0])
    if first_key == 5:  # 6..9 interpolated between the drawn box and the corrected model box at 10
        np.testing.assert_allclose(t.boxes[t.row(7)], [34, 30, 44, 40])
