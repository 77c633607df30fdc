"""ByteTrack's second association (low-score detections) uses its own, stricter thresholds: pinned so that
a mutation making it use the high-score association's thresholds fails."""
from __future__ import annotations

import numpy as np

from engine.tracking import ByteTracker

BOX = np.array([100.0, 100.0, 200.0, 200.0])


def _shifted(dx: float, score: float) -> np.ndarray:
    return np.array([[BOX[0] + dx, BOX[1], BOX[2] + dx, BOX[3], score]])


def _tracker_with_a_confirmed_track() -> tuple[ByteTracker, int]:
    tracker = ByteTracker()
    for _ in range(6):  # a still object seen with high scores: confirmed, no velocity
        out = tracker.update(_shifted(0.0, 0.95))
    assert len(out) == 1
    return tracker, int(out[0, 5])


def _iou_shift(iou: float) -> float:
    """Horizontal shift of a 100x100 box giving this IoU with the unshifted box: (100-d)/(100+d)."""
    return 100.0 * (1 - iou) / (1 + iou)


def test_defaults_differ_so_the_cases_below_tell_the_thresholds_apart():
    t = ByteTracker()
    assert t.low_match_threshold < 1 - 0.4 <= t.match_threshold  # cost 0.6: high may match, low may not
    assert t.low_threshold <= 0.3 < t.high_threshold


def test_a_low_score_detection_continues_a_track_it_overlaps_well():
    tracker, track_id = _tracker_with_a_confirmed_track()
    out = tracker.update(_shifted(_iou_shift(0.6), 0.3))  # cost 0.4 <= low_match_threshold 0.5
    assert len(out) == 1 and int(out[0, 5]) == track_id and int(out[0, 6]) == 0
    assert np.isclose(out[0, 4], 0.3)


def test_a_low_score_detection_needs_the_stricter_low_match_threshold():
    tracker, track_id = _tracker_with_a_confirmed_track()
    # cost 0.6: inside the high-score association's 0.7, outside the low-score association's 0.5
    out = tracker.update(_shifted(_iou_shift(0.4), 0.3))
    assert track_id not in out[:, 5].astype(int).tolist()
    # the same overlap with a high score does continue the track (first association)
    tracker, track_id = _tracker_with_a_confirmed_track()
    out = tracker.update(_shifted(_iou_shift(0.4), 0.9))
    assert int(out[0, 5]) == track_id


def test_low_score_detections_never_start_tracks_and_below_low_threshold_are_ignored():
    tracker = ByteTracker()
    for _ in range(5):
        assert len(tracker.update(_shifted(0.0, 0.3))) == 0  # low: second association only
    tracker, track_id = _tracker_with_a_confirmed_track()
    out = tracker.update(_shifted(_iou_shift(0.8), tracker.low_threshold / 2))  # below low: not a detection
    assert track_id not in out[:, 5].astype(int).tolist()
