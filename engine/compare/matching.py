"""Per-frame one-to-one matching of two box sets at IoU >= threshold (Hungarian), for whole runs at once.

The objective is the usual one (as ``engine.tracking.matching.assign`` on cost 1 - IoU): first the most
pairs with IoU >= threshold, then the largest total IoU. Fast for 10k+ frames: candidate pairs of every
frame are enumerated and scored in one vectorised pass (``iou_pairs``, the one IoU); a frame needs the
Hungarian solver only when a box has two or more candidates (rare at IoU >= 0.5: a box can overlap at most
a few others that much); otherwise its candidate pairs already are the optimal matching.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.compare.tracks import TrackTable
from engine.tracking.matching import assign, iou_matrix, iou_pairs

IOU_THRESHOLD = 0.5
PAIRS_PER_BLOCK = 1 << 20  # candidate pairs scored at once (about 100 MB of temporaries)


def match_boxes(boxes_a: np.ndarray, boxes_b: np.ndarray, *, threshold: float = IOU_THRESHOLD
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One frame: (Na, 4), (Nb, 4) xyxy -> (rows (M,), cols (M,), iou (M,)): boxes_a[rows[i]] matches
    boxes_b[cols[i]] with IoU iou[i] >= threshold."""
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    iou = iou_matrix(a, b)
    cost = np.where(iou >= threshold, 1.0 - iou, np.inf)
    rows, cols, _, _ = assign(cost, 1.0)
    return rows, cols, iou[rows, cols]


@dataclass(frozen=True)
class TableMatches:
    """Matching of two TrackTables frame by frame (row indices refer to each table's sorted rows).

    partner_a (Na,) int64: the row of B matched to each row of A (-1: only in A); partner_b (Nb,) likewise.
    iou_a (Na,) float64: IoU with the partner (NaN when none).
    """

    partner_a: np.ndarray
    partner_b: np.ndarray
    iou_a: np.ndarray

    @property
    def num_matches(self) -> int:
        return int(np.count_nonzero(self.partner_a >= 0))


def match_tables(a: TrackTable, b: TrackTable, *, num_frames: int, threshold: float = IOU_THRESHOLD) -> TableMatches:
    """Match every frame's boxes of ``a`` and ``b`` (see the module docstring)."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    bounds_a, bounds_b = a.frame_bounds(num_frames), b.frame_bounds(num_frames)
    partner_a = np.full(len(a), -1, np.int64)
    partner_b = np.full(len(b), -1, np.int64)
    iou_a = np.full(len(a), np.nan)
    per_frame = np.diff(bounds_a) * np.diff(bounds_b)
    ends = np.cumsum(per_frame)
    start = 0
    while start < num_frames:  # blocks of frames holding about PAIRS_PER_BLOCK candidate pairs: bounded memory
        base = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + PAIRS_PER_BLOCK, "right")))
        stop = min(stop, num_frames)
        _match_block(a, b, bounds_a[start:stop + 1], bounds_b[start:stop + 1], threshold, partner_a, partner_b, iou_a)
        start = stop
    return TableMatches(partner_a, partner_b, iou_a)


def _match_block(a, b, bounds_a, bounds_b, threshold, partner_a, partner_b, iou_a) -> None:
    ia, ib = _candidate_pairs(bounds_a, bounds_b)
    if ia.size == 0:
        return
    iou = iou_pairs(a.boxes[ia], b.boxes[ib])
    ok = iou >= threshold
    ia, ib, iou = ia[ok], ib[ok], iou[ok]
    # a frame is contested when some box has two candidates: solve those frames exactly
    ua, count_a = np.unique(ia, return_counts=True)
    ub, count_b = np.unique(ib, return_counts=True)
    contested_pair = np.isin(ia, ua[count_a > 1]) | np.isin(ib, ub[count_b > 1])
    contested_frames = np.unique(a.frames[ia[contested_pair]])
    simple = ~np.isin(a.frames[ia], contested_frames)
    partner_a[ia[simple]] = ib[simple]
    partner_b[ib[simple]] = ia[simple]
    iou_a[ia[simple]] = iou[simple]
    for k in contested_frames.tolist():
        # bounds are relative to the block: find the frame's rows from the tables themselves
        lo_a, hi_a = np.searchsorted(a.frames, [k, k + 1])
        lo_b, hi_b = np.searchsorted(b.frames, [k, k + 1])
        rows, cols, ious = match_boxes(a.boxes[lo_a:hi_a], b.boxes[lo_b:hi_b], threshold=threshold)
        partner_a[lo_a + rows] = lo_b + cols
        partner_b[lo_b + cols] = lo_a + rows
        iou_a[lo_a + rows] = ious


def _candidate_pairs(bounds_a: np.ndarray, bounds_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (row of A, row of B) pair in the same frame, as two index arrays (vectorised)."""
    na = np.diff(bounds_a)
    nb = np.diff(bounds_b)
    per_frame = na * nb
    total = int(per_frame.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    frame = np.repeat(np.arange(len(na)), per_frame)
    offset = np.arange(total) - np.repeat(np.cumsum(per_frame) - per_frame, per_frame)
    nb_f = nb[frame]
    ia = bounds_a[frame] + offset // nb_f
    ib = bounds_b[frame] + offset % nb_f
    return ia.astype(np.int64), ib.astype(np.int64)
