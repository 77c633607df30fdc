"""HOTA (DetA, AssA, LocA, ...), following TrackEval's ``HOTA``.

1. Global alignment score between every gt id and tracker id: the Jaccard index of their
   trajectories, where each frame contributes a soft match ``IoU / (row sum + column sum - IoU)``.
2. Per frame, Hungarian matching maximises ``global alignment * IoU``; then for each localisation
   threshold alpha in 0.05, 0.10, ..., 0.95 the matched pairs with IoU >= alpha are TPs.
3. DetA = TP / (TP + FN + FP); AssA = mean over TPs of the pair's association Jaccard;
   HOTA(alpha) = sqrt(DetA * AssA). Reported HOTA/DetA/AssA/LocA are means over the 19 alphas.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from engine.metrics.mot_data import EPS, SequenceData

ALPHAS = np.arange(0.05, 0.99, 0.05)  # exactly TrackEval's array_labels
COUNT_FIELDS = ("HOTA_TP", "HOTA_FN", "HOTA_FP")
ARRAY_FIELDS = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "OWTA")


def hota_metrics(data: SequenceData) -> dict[str, np.ndarray | float]:
    """Per-alpha arrays (19,) for every field of ``ARRAY_FIELDS``/``COUNT_FIELDS``, plus HOTA(0), LocA(0)."""
    na = len(ALPHAS)
    res: dict = {field: np.zeros(na) for field in ARRAY_FIELDS + COUNT_FIELDS}
    if data.num_tracker_dets == 0 or data.num_gt_dets == 0:
        if data.num_tracker_dets == 0:
            res["HOTA_FN"] = data.num_gt_dets * np.ones(na)
        else:
            res["HOTA_FP"] = data.num_tracker_dets * np.ones(na)
        res["LocA"] = np.ones(na)
        res["HOTA(0)"], res["LocA(0)"], res["HOTALocA(0)"] = 0.0, 1.0, 0.0
        return res

    potential = np.zeros((data.num_gt_ids, data.num_tracker_ids))
    gt_id_count = np.zeros((data.num_gt_ids, 1))
    tracker_id_count = np.zeros((1, data.num_tracker_ids))
    for gt_ids_t, tracker_ids_t, similarity in zip(data.gt_ids, data.tracker_ids, data.similarity_scores):
        denom = similarity.sum(0)[None, :] + similarity.sum(1)[:, None] - similarity
        sim_iou = np.zeros_like(similarity)
        mask = denom > 0 + EPS
        sim_iou[mask] = similarity[mask] / denom[mask]
        potential[gt_ids_t[:, None], tracker_ids_t[None, :]] += sim_iou
        gt_id_count[gt_ids_t] += 1
        tracker_id_count[0, tracker_ids_t] += 1

    global_alignment = potential / (gt_id_count + tracker_id_count - potential)
    matches_counts = [np.zeros_like(potential) for _ in ALPHAS]
    for gt_ids_t, tracker_ids_t, similarity in zip(data.gt_ids, data.tracker_ids, data.similarity_scores):
        if len(gt_ids_t) == 0:
            res["HOTA_FP"] += len(tracker_ids_t)
            continue
        if len(tracker_ids_t) == 0:
            res["HOTA_FN"] += len(gt_ids_t)
            continue
        score_mat = global_alignment[gt_ids_t[:, None], tracker_ids_t[None, :]] * similarity
        rows, cols = linear_sum_assignment(-score_mat)
        matched_sim = similarity[rows, cols]
        for a, alpha in enumerate(ALPHAS):
            ok = matched_sim >= alpha - EPS
            num_matches = int(ok.sum())
            res["HOTA_TP"][a] += num_matches
            res["HOTA_FN"][a] += len(gt_ids_t) - num_matches
            res["HOTA_FP"][a] += len(tracker_ids_t) - num_matches
            if num_matches:
                res["LocA"][a] += sum(matched_sim[ok])  # python sum: same rounding as TrackEval
                matches_counts[a][gt_ids_t[rows[ok]], tracker_ids_t[cols[ok]]] += 1

    for a in range(na):
        mc = matches_counts[a]
        tp = np.maximum(1, res["HOTA_TP"][a])
        res["AssA"][a] = np.sum(mc * (mc / np.maximum(1, gt_id_count + tracker_id_count - mc))) / tp
        res["AssRe"][a] = np.sum(mc * (mc / np.maximum(1, gt_id_count))) / tp
        res["AssPr"][a] = np.sum(mc * (mc / np.maximum(1, tracker_id_count))) / tp
    res["LocA"] = np.maximum(1e-10, res["LocA"]) / np.maximum(1e-10, res["HOTA_TP"])
    return finalize_hota(res)


def combine_hota(per_sequence: list[dict]) -> dict:
    res: dict = {field: sum(r[field] for r in per_sequence) for field in COUNT_FIELDS}
    for field in ("AssRe", "AssPr", "AssA"):
        res[field] = sum(r[field] * r["HOTA_TP"] for r in per_sequence) / np.maximum(1.0, res["HOTA_TP"])
    loca_weighted = sum(r["LocA"] * r["HOTA_TP"] for r in per_sequence)
    res["LocA"] = np.maximum(1e-10, loca_weighted) / np.maximum(1e-10, res["HOTA_TP"])
    return finalize_hota(res)


def finalize_hota(res: dict) -> dict:
    tp, fn, fp = res["HOTA_TP"], res["HOTA_FN"], res["HOTA_FP"]
    res["DetRe"] = tp / np.maximum(1, tp + fn)
    res["DetPr"] = tp / np.maximum(1, tp + fp)
    res["DetA"] = tp / np.maximum(1, tp + fn + fp)
    res["HOTA"] = np.sqrt(res["DetA"] * res["AssA"])
    res["OWTA"] = np.sqrt(res["DetRe"] * res["AssA"])
    res["HOTA(0)"] = float(res["HOTA"][0])
    res["LocA(0)"] = float(res["LocA"][0])
    res["HOTALocA(0)"] = res["HOTA(0)"] * res["LocA(0)"]
    return res
