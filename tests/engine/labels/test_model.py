"""LabelSet: construction, validation, per-frame query, spans, the flat row table."""
from __future__ import annotations

import numpy as np
import pytest

from engine.labels.model import (COL_CLASS, COL_ID, COL_KIND, COL_OUTSIDE, ROW_COLUMNS, ROW_WIDTH, BoxKind,
                                 LabelSet, Track)

from labels_helpers import NUM_FRAMES, model_set, run_rows


def test_from_run_makes_model_boxes(labels):
    assert list(labels.track_ids()) == [3, 5, 9]
    t = labels.track(5)
    assert (t.first, t.last, len(t)) == (30, 89, 60)
    assert (t.kinds == BoxKind.MODEL).all() and np.array_equal(t.boxes, t.model_boxes)
    assert labels.num_boxes == 60 + 60 + 50 and labels.source_run == "demo"
    assert labels.class_names[1] == "pedestrian"


def test_frame_boxes_matches_a_brute_force_scan(labels):
    rows = labels.to_rows()
    for k in range(NUM_FRAMES):
        fb = labels.frame_boxes(k)
        expect = rows[rows[:, 0] == k]
        assert list(fb.ids) == sorted(expect[:, COL_ID].astype(int).tolist())
        np.testing.assert_array_equal(fb.boxes, expect[np.argsort(expect[:, COL_ID])][:, 2:6])
        assert fb.boxes.dtype == np.float64 and fb.kinds.dtype == np.uint8 and fb.ids.dtype == np.int64
    with pytest.raises(IndexError):
        labels.frame_boxes(NUM_FRAMES)


def test_frame_boxes_index_with_long_and_many_tracks():
    """Tracks spanning many index buckets, and buckets with many tracks, agree with a scan."""
    rng = np.random.default_rng(0)
    specs = []
    for tid in range(1, 200):
        a = int(rng.integers(0, 2000))
        specs.append((tid, a, min(1999, a + int(rng.integers(0, 700))), 10.0, 0.1))
    ls = LabelSet.from_run(run_rows(specs), name="x", num_frames=2000, width=640, height=360)
    for k in rng.integers(0, 2000, 50).tolist() + [0, 255, 256, 1999]:
        expect = sorted(tid for tid, a, b, _, _ in specs if a <= k <= b)
        assert ls.frame_boxes(k).ids.tolist() == expect


def test_track_spans_and_intervals(labels):
    spans = labels.track_spans()
    assert spans.ids.tolist() == [3, 5, 9]
    assert spans.starts.tolist() == [0, 30, 70] and spans.ends.tolist() == [59, 89, 119]
    rows = run_rows([(4, 0, 9, 0.0, 1.0), (4, 20, 29, 0.0, 1.0)])
    ls = LabelSet.from_run(rows, name="g", num_frames=40, width=64, height=64)
    assert ls.track(4).intervals().tolist() == [[0, 9], [20, 29]]
    assert ls.keyframes(4).size == 0


def test_rows_round_trip_with_everything(labels):
    from engine.labels import edits as E

    E.set_box(labels, track_id=3, frame=10, box=[1.25, 2, 30, 40]).apply(labels)
    E.mark_outside(labels, track_id=3, frame=40).apply(labels)
    E.set_class(labels, track_id=9, class_id=7).apply(labels)
    E.set_visibility(labels, track_id=5, visibility=0.25, first=40, last=50).apply(labels)
    E.set_consider(labels, track_id=5, consider=False, first=60, last=61).apply(labels)
    table = labels.to_rows(include_outside=True)
    assert table.shape[1] == ROW_WIDTH == len(ROW_COLUMNS)
    assert (table[table[:, COL_OUTSIDE] == 1][:, [0, 1]] == [40, 3]).all()
    back = LabelSet.from_rows(table, name="gt", num_frames=NUM_FRAMES, width=640, height=360, source_run="demo")
    for t in labels.tracks():
        b = back.track(t.track_id)
        for field in ("frames", "boxes", "kinds", "visibility", "consider", "outside"):
            np.testing.assert_array_equal(getattr(b, field), getattr(t, field))
        assert b.class_id == t.class_id
    # MOT export view: inside rows only
    inside = labels.to_rows()
    assert (inside[:, COL_OUTSIDE] == 0).all() and len(inside) == labels.num_boxes
    assert set(inside[inside[:, COL_ID] == 9][:, COL_CLASS]) == {7}


@pytest.mark.parametrize("column,value,match", [
    (0, np.nan, "integers"), (0, -1, "frame"), (0, NUM_FRAMES, "frame"), (1, 0, "track id"),
    (1, 2**40, "track id"), (2, np.nan, "finite"), (4, 1e300, "finite"), (6, 7, "kind"),
    (7, 1.5, "visibility"), (8, 2, "consider"), (9, 0, "class"), (1, 3.5, "integers"),
])
def test_from_rows_refuses_bad_rows(labels, column, value, match):
    table = labels.to_rows()
    table[5, column] = value
    with pytest.raises(ValueError, match=match):
        LabelSet.from_rows(table, name="gt", num_frames=NUM_FRAMES, width=640, height=360, what="bad.txt")


def test_from_rows_refuses_two_boxes_of_one_id_in_a_frame(labels):
    table = labels.to_rows()
    table = np.concatenate([table, table[:1]])
    with pytest.raises(ValueError, match="two boxes in frame 0"):
        LabelSet.from_rows(table, name="gt", num_frames=NUM_FRAMES, width=640, height=360)


def test_track_build_checks():
    ok = dict(track_id=1, frames=[0, 1], boxes=[[0, 0, 1, 1]] * 2, kinds=[0, 0])
    Track.build(**ok)
    with pytest.raises(ValueError, match="strictly increasing"):
        Track.build(**{**ok, "frames": [1, 1]})
    with pytest.raises(ValueError, match="MODEL row without a model box"):
        Track.build(**{**ok, "kinds": [2, 0]})
    with pytest.raises(ValueError, match="outside frame also holds a box"):
        Track.build(**ok, outside=[1])
    with pytest.raises(ValueError, match="track ID"):
        Track.build(**{**ok, "track_id": True})
    t = Track.build(**ok)
    with pytest.raises(ValueError):
        t.frames[0] = 5  # read-only: sharing tracks between states is safe


def test_from_run_with_a_cache_run(tmp_path):
    from engine.cache import ResultsCache
    from engine.cache.synthetic import synthetic_frame

    with ResultsCache.create(tmp_path / "c.stv.h5", video_fingerprint="fp", video_path="v.mp4", num_frames=30,
                             fps=25.0, width=640, height=360) as cache:
        writer = cache.create_run("r", model_config={}, checkpoint_sha256="", class_names=["a"], params={},
                                  alpha_shape=(4, 4))
        for k in range(30):
            writer.write(synthetic_frame(k, num_classes=1, alpha_shape=(4, 4)))
        writer.close()
        run = cache.run("r")
        ls = LabelSet.from_run(run, name="fixed")
        rows = run.track_rows()
        assert ls.num_boxes == len(rows) and ls.source_run == "r" and (ls.width, ls.height) == (640, 360)
        back = ls.to_rows()
        order = np.lexsort((rows[:, 0], rows[:, 1]))
        np.testing.assert_array_equal(back[:, [0, 1, 2, 3, 4, 5]], rows[order][:, :6])
        assert (back[:, COL_KIND] == BoxKind.MODEL).all()


def test_empty_and_bad_names():
    ls = LabelSet.empty(name="new", num_frames=10, width=4, height=4)
    assert len(ls) == 0 and ls.frame_boxes(3).ids.size == 0 and ls.next_free_id() == 1
    assert ls.to_rows().shape == (0, ROW_WIDTH)
    for bad in ("", "a/b", ".hidden"):
        with pytest.raises(ValueError):
            LabelSet.empty(name=bad, num_frames=10, width=4, height=4)
    assert model_set().next_free_id() == 10
