"""Track a MOT detections file with the built-in tracker in time and memory that follow its rows.

``stv track`` and ``stv import --det`` both come here. The tracker steps frame by frame, so a det
line at frame 1e9 (or seqLength 1e9) would mean 1e9 tracker steps. Long runs of empty frames are
therefore shortened before tracking: once ``quiet_frames`` empty frames have passed, every track is
gone (confirmed tracks turn lost at the first empty frame, lost ones are dropped after
``max_lost_frames`` more, tentative ones after ``max_tentative_misses``), and further empty frames
change nothing but the tracker's frame counter, whose absolute value nothing depends on (only
differences within a track's life, and "is this the very first frame", which a shortened gap keeps).
The output frames are mapped back to the real ones, so the result equals tracking every frame
(tests/engine/io/test_mot_tracking.py compares both).
"""
from __future__ import annotations

import numpy as np

from engine.io.mot import FrameDetections, MOTRecords, detections_by_frame, results_to_records

# Computed boxes (Kalman states, interpolations) are written at this precision: 1e-3 px, far below
# any annotation's accuracy, instead of float noise such as 340.82899999999995.
COMPUTED_BOX_DECIMALS = 3


def quiet_frames(tracker) -> int:
    """Empty frames after which ``tracker`` holds no track whatever it held before."""
    return int(max(tracker.max_lost_frames, tracker.max_tentative_misses, tracker.output_lost_frames)) + 2


def _compress(frames: FrameDetections, gap: int) -> tuple[list[np.ndarray], np.ndarray]:
    """(detections per compressed frame, real 0-based frame of each compressed frame)."""
    present = frames.frames_present
    real: list[np.ndarray] = []
    previous = -1
    for frame in present.tolist():
        empty = frame - previous - 1
        kept = min(empty, gap)
        if kept:
            # the first ``kept`` empty frames after the previous one (before the first: the last ones)
            start = previous + 1 if previous >= 0 else frame - kept
            real.append(np.arange(start, start + kept, dtype=np.int64))
        real.append(np.array([frame], np.int64))
        previous = frame
    tail = min(len(frames) - previous - 1, gap)
    if tail > 0:
        real.append(np.arange(previous + 1, previous + 1 + tail, dtype=np.int64))
    real_frames = np.concatenate(real) if real else np.zeros(0, np.int64)
    return [frames[int(k)] for k in real_frames], real_frames


def track_mot_detections(detections: MOTRecords, *, num_frames: int, tracker, interpolate_gaps_up_to: int,
                         backfill_tentative: bool = True
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run ``tracker`` (an engine.tracking.ByteTracker) over MOT detections.

    Returns (frame_indices (M,) 0-based, track_ids (M,), boxes_xyxy (M, 4), scores (M,)), sorted by
    frame, then id, exactly as ``engine.tracking.track_sequence`` over every frame would.
    """
    from engine.tracking import track_sequence

    frames = detections_by_frame(detections, num_frames)
    gap = max(quiet_frames(tracker), int(interpolate_gaps_up_to) + 1)
    per_frame, real_frames = _compress(frames, gap)
    compressed_idx, ids, boxes, scores = track_sequence(
        per_frame, tracker=tracker, interpolate_gaps_up_to=interpolate_gaps_up_to,
        backfill_tentative=backfill_tentative)
    return real_frames[compressed_idx], ids, boxes, scores


def tracks_to_results(frame_indices: np.ndarray, track_ids: np.ndarray, boxes_xyxy: np.ndarray,
                      scores: np.ndarray) -> MOTRecords:
    """10-column results of computed tracks, boxes rounded to 1e-3 px (scores kept: they are the
    detections' own values)."""
    records = results_to_records(frame_indices, track_ids, boxes_xyxy, scores)
    values = records.values.copy()
    values[:, 2:6] = np.round(values[:, 2:6], COMPUTED_BOX_DECIMALS) + 0.0  # + 0.0: no "-0"
    return MOTRecords(values=values, kind="results")
