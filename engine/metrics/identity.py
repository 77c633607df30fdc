"""Identity metrics (IDF1, IDP, IDR), following TrackEval's ``Identity``.

A global one-to-one assignment between gt ids and tracker ids (plus "unmatched" dummies) minimises
IDFN + IDFP, where a gt/tracker pair earns one IDTP per frame in which their boxes overlap with
IoU >= threshold.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

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
    """TrackEval's assignment minimises IDFN + IDFP over a (ng + nt)^2 matrix with "unmatched" dummies.
    Its cost is sum(gt counts) + sum(tracker counts) - 2 * (overlap frames of the matched real pairs), so
    the optimum is the maximum-weight matching of gt ids to tracker ids on their overlap frame counts: a
    sparse problem, solved per connected group of overlapping ids. Its value (IDTP, hence IDFN and IDFP,
    integers) is TrackEval's exactly; among equally good assignments another may be returned."""
    res: dict[str, int] = {}
    ng, nt = data.num_gt_ids, data.num_tracker_ids
    gt_id_count = np.bincount(np.concatenate(data.gt_ids), minlength=ng)
    tracker_id_count = np.bincount(np.concatenate(data.tracker_ids), minlength=nt)
    key_parts = []
    for blk in data.blocks():
        b, i, j = np.nonzero(blk.similarity >= threshold)
        key_parts.append(blk.gt_ids[b, i] * nt + blk.tracker_ids[b, j])
    keys, potential = np.unique(np.concatenate(key_parts) if key_parts else np.zeros(0, np.int64),
                                return_counts=True)
    pair_gt, pair_tr = keys // nt, keys % nt
    graph = coo_matrix((np.ones(len(keys)), (pair_gt, ng + pair_tr)), shape=(ng + nt, ng + nt))
    _, component = connected_components(graph, directed=False)
    assigned = np.full(ng, -1, np.int64)
    pair_component = component[pair_gt]
    order = np.argsort(pair_component, kind="stable")
    cuts = np.flatnonzero(np.diff(pair_component[order])) + 1
    idtp = 0
    for group in np.split(order, cuts) if len(order) else []:
        if len(group) == 1:  # one gt id and one tracker id overlapping only each other
            assigned[pair_gt[group]] = pair_tr[group]
            idtp += int(potential[group[0]])
            continue
        gts, g_local = np.unique(pair_gt[group], return_inverse=True)
        trs, t_local = np.unique(pair_tr[group], return_inverse=True)
        weights = np.zeros((len(gts), len(trs)), np.int64)
        weights[g_local.reshape(-1), t_local.reshape(-1)] = potential[group]
        rows, cols = linear_sum_assignment(weights, maximize=True)
        real = weights[rows, cols] > 0
        assigned[gts[rows[real]]] = trs[cols[real]]
        idtp += int(weights[rows, cols].sum())
    res["IDTP"] = idtp
    res["IDFN"] = int(gt_id_count.sum()) - idtp
    res["IDFP"] = int(tracker_id_count.sum()) - idtp
    return res, assigned


def combine_identity(per_sequence: list[dict[str, float]]) -> dict[str, float]:
    return finalize_identity({field: sum(r[field] for r in per_sequence) for field in INTEGER_FIELDS})


def finalize_identity(res: dict[str, float]) -> dict[str, float]:
    tp, fn, fp = res["IDTP"], res["IDFN"], res["IDFP"]
    res["IDR"] = tp / max(1.0, tp + fn)
    res["IDP"] = tp / max(1.0, tp + fp)
    res["IDF1"] = tp / max(1.0, tp + 0.5 * fp + 0.5 * fn)
    return res
