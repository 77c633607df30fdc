"""ByteTracker contract, states, association stages, re-ID fusion, memory over long streams."""
from __future__ import annotations

import numpy as np
import pytest

from engine.tracking import ByteTracker, interpolate_gaps, track_sequence


def box(cx, cy, w=20.0, h=40.0, score=0.9):
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score]


def test_output_contract_and_det_index():
    tracker = ByteTracker()
    out = tracker.update(np.array([box(50, 50), box(200, 50, score=0.95)]))
    assert out.shape == (2, 7) and out.dtype == np.float64
    assert out[:, 5].tolist() == [1, 2]  # first frame: confirmed at once, ids from 1
    assert out[:, 6].tolist() == [0, 1]
    # second frame, detections listed in the other order: det_index follows the input rows
    out = tracker.update(np.array([box(203, 50, score=0.8), box(52, 50)]))
    by_id = {int(r[5]): r for r in out}
    assert by_id[1][6] == 1 and by_id[2][6] == 0
    assert by_id[2][4] == pytest.approx(0.8)
    np.testing.assert_allclose(by_id[1][:4], box(52, 50)[:4], atol=2.0)
    assert tracker.update(np.zeros((0, 5))).shape == (0, 7)


@pytest.mark.parametrize("bad", [np.zeros((3, 4)), np.zeros(5), np.zeros((2, 5, 1)), [[0, 0, 1, 1, np.nan]],
                                 [[10, 0, 5, 5, 0.9]]])
def test_bad_detections_raise(bad):
    with pytest.raises(ValueError):
        ByteTracker().update(bad)


def test_bad_embeddings_and_options_raise():
    tracker = ByteTracker()
    with pytest.raises(ValueError, match="embeddings"):
        tracker.update(np.array([box(5, 5)]), embeddings=np.zeros((2, 8)))
    tracker.update(np.array([box(5, 5)]), embeddings=np.ones((1, 8)))
    with pytest.raises(ValueError, match="embedding size"):
        tracker.update(np.array([box(5, 5)]), embeddings=np.ones((1, 4)))
    with pytest.raises(ValueError):
        ByteTracker(low_threshold=0.7, high_threshold=0.5)
    with pytest.raises(ValueError):
        ByteTracker(match_threshold=1.5)
    with pytest.raises(ValueError):
        ByteTracker(confirm_hits=0)


def test_ids_are_per_instance_and_reset():
    a, b = ByteTracker(), ByteTracker()
    for _ in range(3):
        a.update(np.array([box(10, 10), box(100, 10)]))
    assert b.update(np.array([box(10, 10)]))[:, 5].tolist() == [1]
    a.reset()
    assert len(a) == 0
    assert a.update(np.array([box(300, 300)]))[:, 5].tolist() == [1]


def test_state_lifecycle():
    tracker = ByteTracker(max_lost_frames=3, max_tentative_misses=0)
    tracker.update(np.array([box(10, 10)]))  # frame 1: confirmed at once
    out = tracker.update(np.array([box(12, 10), box(200, 200)]))
    assert out[:, 5].tolist() == [1]  # the new track is tentative, not output
    assert tracker.track_states() == {1: "confirmed", 2: "tentative"}
    out = tracker.update(np.array([box(14, 10), box(201, 200)]))
    assert out[:, 5].tolist() == [1, 2]
    assert tracker.track_states() == {1: "confirmed", 2: "confirmed"}
    tracker.update(np.array([box(16, 10)]))
    assert tracker.track_states() == {1: "confirmed", 2: "lost"}
    for _ in range(3):
        tracker.update(np.array([box(18, 10)]))
    assert tracker.track_states() == {1: "confirmed"}  # lost for more than 3 frames: removed
    tracker.update(np.array([box(20, 10), box(400, 400)]))
    tracker.update(np.array([box(22, 10)]))
    assert 4 not in tracker.track_states() and 3 not in tracker.track_states()  # tentative that missed: removed


def test_lost_track_is_recovered_with_its_id():
    tracker = ByteTracker()
    for t in range(10):
        tracker.update(np.array([box(10 + 2 * t, 50), box(300, 50)]))
    for t in range(10, 15):  # the first person is occluded
        out = tracker.update(np.array([box(300, 50)]))
        assert out[:, 5].tolist() == [2]
        assert tracker.track_states()[1] == "lost"
    out = tracker.update(np.array([box(10 + 2 * 15, 50), box(300, 50)]))
    assert sorted(out[:, 5].tolist()) == [1, 2]


def test_coasting_output_option():
    tracker = ByteTracker(output_lost_frames=2)
    for t in range(5):
        tracker.update(np.array([box(10 + 4 * t, 50)]))
    rows = [tracker.update(np.zeros((0, 5))) for _ in range(3)]
    assert [r.shape[0] for r in rows] == [1, 1, 0]
    assert rows[0][0, 6] == -1 and rows[0][0, 5] == 1
    assert rows[1][0, 0] > rows[0][0, 0]  # predicted box keeps moving


def test_low_score_detections_continue_tracks_but_never_start_them():
    tracker = ByteTracker()
    tracker.update(np.array([box(10, 10, score=0.9)]))
    out = tracker.update(np.array([box(11, 10, score=0.3), box(200, 200, score=0.3)]))
    assert out[:, 5].tolist() == [1] and out[0, 6] == 0  # second association with a low score
    assert len(tracker) == 1  # the isolated low-score box started nothing


def test_reid_embeddings_bridge_a_jump():
    """A person reappears displaced (IoU 0 with the prediction): only a matching embedding keeps the id."""
    def run(embedding_after):
        tracker = ByteTracker()
        e1 = np.array([[1.0, 0.0, 0.0, 0.0]])
        for _ in range(5):
            tracker.update(np.array([box(100, 100)]), embeddings=e1)
        tracker.update(np.zeros((0, 5)), embeddings=np.zeros((0, 4)))
        out = tracker.update(np.array([box(125, 100)]), embeddings=embedding_after)  # 25 px > box width
        return out, tracker
    same, _ = run(np.array([[0.99, 0.1, 0.0, 0.0]]))
    assert same[:, 5].tolist() == [1]
    other, tracker = run(np.array([[0.0, 1.0, 0.0, 0.0]]))
    assert other.shape[0] == 0 and sorted(tracker.track_states()) == [1, 2]


def test_memory_stays_flat_over_100k_frames():
    """Objects keep appearing and vanishing; removed tracks must leave the arrays."""
    tracker = ByteTracker(max_lost_frames=30)
    empty = np.zeros((0, 5))
    sizes = []
    for frame in range(100_000):
        phase = frame % 200
        if phase < 6:  # a short-lived object every 200 frames, at a new place each time
            x = 50.0 + (frame // 200) % 20 * 30
            dets = np.array([box(x + phase, 100), box(x + 500, 300 - phase)])
        else:
            dets = empty
        tracker.update(dets)
        if phase == 5:
            sizes.append(len(tracker))
    assert tracker._next_id > 900  # about 1000 tracks were created ...
    assert max(sizes) <= 4 and len(tracker) == 0  # ... and all were pruned
    arrays = (tracker._mean, tracker._cov, tracker._ids, tracker._state, tracker._hits, tracker._last_seen,
              tracker._score, tracker._det_index)
    assert all(a.shape[0] == 0 for a in arrays)


def test_interpolate_gaps():
    frames = np.array([0, 1, 4, 10, 0, 2])
    ids = np.array([1, 1, 1, 1, 2, 2])
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [4, 0, 14, 10], [10, 0, 20, 10],
                      [50, 50, 60, 60], [52, 50, 62, 60]], float)
    scores = np.array([0.9, 0.8, 0.7, 0.9, 0.5, 0.6])
    f, t, b, s = interpolate_gaps(frames, ids, boxes, scores, max_gap=3)
    track1 = f[t == 1].tolist()
    assert track1 == [0, 1, 2, 3, 4, 10]  # 2..3 filled; the 5-frame gap 5..9 is too long
    np.testing.assert_allclose(b[(t == 1) & (f == 2)], [[2, 0, 12, 10]])
    np.testing.assert_allclose(b[(t == 1) & (f == 3)], [[3, 0, 13, 10]])
    assert s[(t == 1) & (f == 2)][0] == 0.7
    assert f[t == 2].tolist() == [0, 1, 2]
    assert np.all(np.diff(f) >= 0)
    f0, *_ = interpolate_gaps(frames, ids, boxes, scores, max_gap=0)
    assert len(f0) == len(frames)
    with pytest.raises(ValueError):
        interpolate_gaps(frames, ids, boxes[:3], scores, max_gap=2)


def test_track_sequence_backfills_confirmed_tracks_only():
    frames = [np.array([box(10, 10)]), np.array([box(12, 10), box(300, 300)]),
              np.array([box(14, 10), box(302, 300)]), np.array([box(16, 10), box(500, 100)]),
              np.zeros((0, 5)), np.zeros((0, 5))]
    f, t, b, s = track_sequence(frames, interpolate_gaps_up_to=0)
    assert sorted(set(t.tolist())) == [1, 2]
    assert f[t == 2].tolist() == [1, 2]  # frame 1 was tentative, output retroactively
    f2, t2, *_ = track_sequence(frames, interpolate_gaps_up_to=0, backfill_tentative=False)
    assert f2[t2 == 2].tolist() == [2]


def test_embeddings_arriving_with_the_first_tracks_keep_arrays_aligned():
    """Regression: the embedding table was sized after the new tracks were appended, then appended again."""
    tracker = ByteTracker(confirm_hits=1)
    dets = np.array([[0, 0, 10, 10, 0.9], [50, 50, 60, 60, 0.9], [100, 0, 110, 10, 0.9]], np.float32)
    emb = np.eye(3, 4, dtype=np.float32)
    tracker.update(np.zeros((0, 5), np.float32))
    for _ in range(3):
        out = tracker.update(dets, embeddings=emb)
    assert sorted(out[:, 5].tolist()) == [1, 2, 3]
