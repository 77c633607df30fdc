"""Run a tracker over a whole sequence of per-frame detections (used by `stv track` and tests).

Offline extras, both on by default because the whole sequence is known:
* backfill: a track's tentative frames (before ``confirm_hits`` matches confirmed it)
  are output once it is confirmed; tentative tracks that die unconfirmed are dropped.
* gap interpolation (:func:`engine.tracking.interpolation.interpolate_gaps`) up to
  ``interpolate_gaps_up_to`` missing frames (default 20, ByteTrack's value).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.tracking.interpolation import interpolate_gaps
from engine.tracking.tracker import ByteTracker

DEFAULT_INTERPOLATE_GAPS = 20


def track_sequence(
    detections_per_frame: Sequence[np.ndarray],
    *,
    tracker: ByteTracker | None = None,
    interpolate_gaps_up_to: int = DEFAULT_INTERPOLATE_GAPS,
    backfill_tentative: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Track frame by frame, then apply the offline extras above.

    detections_per_frame[k]: (N_k, 5) [x1, y1, x2, y2, score] of 0-based frame k. The tracker is
    reset first. Returns (frame_indices (M,), track_ids (M,), boxes_xyxy (M, 4), scores (M,)),
    sorted by frame, then id.
    """
    tracker = tracker if tracker is not None else ByteTracker()
    tracker.reset()
    saved_option = tracker.output_tentative
    tracker.output_tentative = backfill_tentative
    frames, rows = [], []
    try:
        for k, dets in enumerate(detections_per_frame):
            out = tracker.update(dets)
            if out.shape[0]:
                frames.append(np.full(out.shape[0], k, np.int64))
                rows.append(out)
    finally:
        tracker.output_tentative = saved_option
    if rows:
        frame_idx = np.concatenate(frames)
        table = np.concatenate(rows)
    else:
        frame_idx, table = np.zeros(0, np.int64), np.zeros((0, 7))
    ids = table[:, 5].astype(np.int64)
    if backfill_tentative and ids.size:
        # Every row of a track is a matched frame, and a tentative track is confirmed exactly when
        # it reaches confirm_hits matches, so it was confirmed iff it has >= confirm_hits rows (or
        # was born in the first frame, where tracks start confirmed). Lost tracks are not output.
        unique, counts = np.unique(ids, return_counts=True)
        first_frame_ids = np.unique(ids[frame_idx == 0])
        confirmed = unique[(counts >= tracker.confirm_hits) | np.isin(unique, first_frame_ids)]
        keep = np.isin(ids, confirmed)
        frame_idx, table, ids = frame_idx[keep], table[keep], ids[keep]
    return interpolate_gaps(frame_idx, ids, table[:, :4], table[:, 4], max_gap=interpolate_gaps_up_to)
