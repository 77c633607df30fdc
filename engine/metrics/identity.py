"""Identity metrics (IDF1, IDP, IDR), following TrackEval's ``Identity``.

A global one-to-one assignment between gt ids and tracker ids (plus "unmatched" dummies) minimises
IDFN + IDFP, where a gt/tracker pair earns one IDTP per frame in which their boxes overlap with
IoU >= threshold.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from engine.metrics.mot_data import SequenceData

INTEGER_FIELDS = ("IDTP", "IDFN", "IDFP")


def identity_metrics(data: SequenceData, *, threshold: float = 0.5) -> dict[str, float]:
    res: dict[str, float] = {field: 0 for field in INTEGER_FIELDS}
    if data.num_tracker_dets == 0:
        res["IDFN"] = data.num_gt_dets
        return finalize_identity(res)
    if data.num_gt_dets == 0:
        res["IDFP"] = data.num_tracker_dets
        return finalize_identity(res)
    res.update(_solve(data, threshold)[0])
    return finalize_identity(res)


def identity_assignment(data: SequenceData, *, threshold: float = 0.5) -> np.ndarray:
    """(num_gt_ids,) int64: the tracker id IDF1's global assignment gives each gt id (-1: none), the
    assignment :func:`identity_metrics` scores (so per-frame IDTP under it sums to IDTP)."""
    if data.num_tracker_dets == 0 or data.num_gt_dets == 0:
        return np.full(data.num_gt_ids, -1, np.int64)
    return _solve(data, threshold)[1]


def _solve(data: SequenceData, threshold: float) -> tuple[dict[str, int], np.ndarray]:
    res: dict[str, int] = {}
    ng, nt = data.num_gt_ids, data.num_tracker_ids
    potential = np.zeros((ng, nt))
    gt_id_count = np.zeros(ng)
    tracker_id_count = np.zeros(nt)
    for gt_ids_t, tracker_ids_t, similarity in zip(data.gt_ids, data.tracker_ids, data.similarity_scores):
        g, r = np.nonzero(similarity >= threshold)
        np.add.at(potential, (gt_ids_t[g], tracker_ids_t[r]), 1)
        gt_id_count[gt_ids_t] += 1
        tracker_id_count[tracker_ids_t] += 1

    fp_mat = np.zeros((ng + nt, ng + nt))
    fn_mat = np.zeros((ng + nt, ng + nt))
    fp_mat[ng:, :nt] = 1e10
    fn_mat[:ng, nt:] = 1e10
    fn_mat[:ng, :nt] = gt_id_count[:, None]
    fn_mat[np.arange(ng), nt + np.arange(ng)] = gt_id_count
    fp_mat[:ng, :nt] = tracker_id_count[None, :]
    fp_mat[ng + np.arange(nt), np.arange(nt)] = tracker_id_count
    fn_mat[:ng, :nt] -= potential
    fp_mat[:ng, :nt] -= potential
    rows, cols = linear_sum_assignment(fn_mat + fp_mat)
    res["IDFN"] = int(fn_mat[rows, cols].sum())
    res["IDFP"] = int(fp_mat[rows, cols].sum())
    res["IDTP"] = int(gt_id_count.sum() - res["IDFN"])
    assigned = np.full(ng, -1, np.int64)
    real = (rows < ng) & (cols < nt)
    assigned[rows[real]] = cols[real]
    return res, assigned


def combine_identity(per_sequence: list[dict[str, float]]) -> dict[str, float]:
    return finalize_identity({field: sum(r[field] for r in per_sequence) for field in INTEGER_FIELDS})


def finalize_identity(res: dict[str, float]) -> dict[str, float]:
    tp, fn, fp = res["IDTP"], res["IDFN"], res["IDFP"]
    res["IDR"] = tp / max(1.0, tp + fn)
    res["IDP"] = tp / max(1.0, tp + fp)
    res["IDF1"] = tp / max(1.0, tp + 0.5 * fp + 0.5 * fn)
    return res
