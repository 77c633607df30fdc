"""Tracking MOT detections: shortened empty stretches give exactly the every-frame result; 1e-3 px output."""
from __future__ import annotations

import numpy as np
import pytest

from engine.io import MOTRecords, detections_by_frame
from engine.io.mot_tracking import track_mot_detections, tracks_to_results
from engine.tracking import ByteTracker, track_sequence


def walking_people(rng, frames):
    """Detections of 3 people walking, with dropped detections and long empty stretches."""
    rows = []
    for f in frames:
        for person in range(3):
            if rng.random() < 0.15:
                continue
            x = 50 + 120 * person + 2.5 * (f % 400) + rng.normal(0, 1.5)
            rows.append([f, -1, x, 80 + rng.normal(0, 1.5), 40 + rng.normal(0, 1), 90 + rng.normal(0, 1),
                         rng.uniform(0.3, 1.0), -1, -1, -1])
    return MOTRecords(values=np.array(rows, dtype=np.float64), kind="det")


@pytest.mark.parametrize("seed", [0, 1])
def test_shortened_gaps_equal_tracking_every_frame(seed):
    rng = np.random.default_rng(seed)
    # a leading gap, bursts of activity separated by gaps shorter and longer than the tracker's memory
    frames = np.concatenate([np.arange(7, 40), np.arange(45, 60), np.arange(100, 130), np.arange(131, 135),
                             np.arange(400, 420)])
    det = walking_people(rng, frames)
    num_frames = 450
    kwargs = dict(interpolate_gaps_up_to=20, backfill_tentative=True)
    full = track_sequence(detections_by_frame(det, num_frames), tracker=ByteTracker(max_lost_frames=10), **kwargs)
    fast = track_mot_detections(det, num_frames=num_frames, tracker=ByteTracker(max_lost_frames=10), **kwargs)
    assert len(full[0]) > 100
    for a, b in zip(full, fast):
        np.testing.assert_array_equal(a, b)


def test_frame_one_billion_is_tracked_without_a_step_per_frame():
    det = MOTRecords(values=np.array([[1, -1, 10, 10, 20, 40, 0.9, -1, -1, -1],
                                      [2, -1, 11, 10, 20, 40, 0.9, -1, -1, -1],
                                      [1_000_000_000, -1, 10, 10, 20, 40, 0.9, -1, -1, -1],
                                      [1_000_000_001, -1, 12, 10, 20, 40, 0.9, -1, -1, -1]]), kind="det")
    frames, ids, boxes, scores = track_mot_detections(det, num_frames=1_000_000_001, tracker=ByteTracker(),
                                                      interpolate_gaps_up_to=20)
    assert frames.tolist() == [0, 1, 999_999_999, 1_000_000_000]
    assert ids.tolist() == [1, 1, 2, 2]  # the old track died in the gap: a new id after it


def test_computed_boxes_are_written_at_a_thousandth_of_a_pixel():
    boxes = np.array([[339.82899999999995, 78.4999, 427.49099999999993, 322.74990000000003]])
    records = tracks_to_results(np.array([0]), np.array([1]), boxes, np.array([0.998128]))
    assert records.values[0, 2:7].tolist() == [340.829, 79.5, 87.662, 244.25, 0.998128]
