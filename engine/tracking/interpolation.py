"""Offline short-gap recovery: linear interpolation of a track's box across missing frames.

A track that vanishes for a few frames (occlusion, missed detections) and comes back with the same
id gets boxes linearly interpolated between its last box before and first box after the gap, when
the gap is at most ``max_gap`` frames. Dead tracks are never extended, so this adds no false
positives at track ends (unlike Kalman coasting output). This is ByteTrack's offline
post-processing ("interpolation") used for its MOT benchmark submissions.
"""
from __future__ import annotations

import numpy as np


def interpolate_gaps(
    frame_indices: np.ndarray, track_ids: np.ndarray, boxes: np.ndarray, scores: np.ndarray, *, max_gap: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fill gaps of 1..max_gap missing frames inside each track.

    Inputs: (N,) int frame indices, (N,) int track ids, (N, 4) boxes, (N,) scores (one row per
    track and frame). Returns the same four arrays with the interpolated rows added, sorted by
    (frame, track id). Interpolated rows get the lower score of the two ends. max_gap 0 = no-op.
    """
    frame_indices = np.asarray(frame_indices, dtype=np.int64).reshape(-1)
    n = frame_indices.shape[0]
    track_ids = np.asarray(track_ids).reshape(-1)
    boxes = np.asarray(boxes, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if track_ids.shape != (n,) or boxes.shape != (n, 4) or scores.shape != (n,):
        raise ValueError(f"need (N,), (N,), (N, 4), (N,) arrays, got {track_ids.shape}, {boxes.shape}, {scores.shape}")
    if max_gap < 0:
        raise ValueError(f"max_gap must be >= 0, got {max_gap}")
    new_f, new_id, new_box, new_score = [frame_indices], [track_ids], [boxes], [scores]
    if max_gap and n:
        order = np.lexsort((frame_indices, track_ids))
        f, t, b, s = frame_indices[order], track_ids[order], boxes[order], scores[order]
        step = np.diff(f)
        same = t[1:] == t[:-1]
        gaps = np.flatnonzero(same & (step > 1) & (step <= max_gap + 1))
        for g in gaps:
            missing = np.arange(f[g] + 1, f[g + 1])
            w = ((missing - f[g]) / (f[g + 1] - f[g]))[:, None]
            new_f.append(missing)
            new_id.append(np.full(missing.size, t[g], dtype=track_ids.dtype))
            new_box.append((1.0 - w) * b[g] + w * b[g + 1])
            new_score.append(np.full(missing.size, min(s[g], s[g + 1])))
    f = np.concatenate(new_f)
    t = np.concatenate(new_id)
    order = np.lexsort((t, f))
    return f[order], t[order], np.concatenate(new_box)[order], np.concatenate(new_score)[order]
