"""CLEAR MOT metrics (MOTA, MOTP, FP, FN, IDSW, Frag, MT/PT/ML), following TrackEval's ``CLEAR``.

Per frame, gt and tracker boxes are matched by Hungarian assignment on
``1000 * [tracker continues the gt's match from the previous frame] + IoU`` (pairs with
IoU < threshold are forbidden), which first minimises identity switches and then maximises MOTP.
An IDSW is counted when a gt is matched to a tracker id different from the one it was last
matched to (any number of frames earlier). MOTP is the mean IoU of matches (an overlap, not a
distance). MT: tracked > 80% of its frames, ML: < 20%.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from engine.metrics.mot_data import EPS, SequenceData

INTEGER_FIELDS = ("CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag", "CLR_Frames")
SUMMED_FIELDS = INTEGER_FIELDS + ("MOTP_sum",)
FLOAT_FIELDS = (
    "MOTA", "MOTP", "MODA", "CLR_Re", "CLR_Pr", "MTR", "PTR", "MLR", "sMOTA", "CLR_F1", "FP_per_frame", "MOTAL",
)


def clear_metrics(data: SequenceData, *, threshold: float = 0.5) -> dict[str, float]:
    res: dict[str, float] = {field: 0 for field in SUMMED_FIELDS + FLOAT_FIELDS}
    # Like TrackEval, an empty side returns raw counts without the final fields (MOTA 0, MLR 1).
    if data.num_tracker_dets == 0:
        res["CLR_FN"] = data.num_gt_dets
        res["ML"] = data.num_gt_ids
        res["MLR"] = 1.0
        return res
    if data.num_gt_dets == 0:
        res["CLR_FP"] = data.num_tracker_dets
        res["MLR"] = 1.0
        return res

    n = data.num_gt_ids
    gt_id_count = np.zeros(n)
    gt_matched_count = np.zeros(n)
    gt_frag_count = np.zeros(n)
    prev_tracker_id = np.full(n, np.nan)  # last tracker id each gt was matched to (for IDSW)
    prev_timestep_tracker_id = np.full(n, np.nan)  # match in the previous frame only (for matching)

    for gt_ids_t, tracker_ids_t, similarity in zip(data.gt_ids, data.tracker_ids, data.similarity_scores):
        if len(gt_ids_t) == 0:
            res["CLR_FP"] += len(tracker_ids_t)
            continue
        if len(tracker_ids_t) == 0:
            res["CLR_FN"] += len(gt_ids_t)
            gt_id_count[gt_ids_t] += 1
            continue
        continues = tracker_ids_t[None, :] == prev_timestep_tracker_id[gt_ids_t[:, None]]
        score_mat = 1000 * continues + similarity
        score_mat[similarity < threshold - EPS] = 0
        rows, cols = linear_sum_assignment(-score_mat)
        matched = score_mat[rows, cols] > 0 + EPS
        rows, cols = rows[matched], cols[matched]
        matched_gt = gt_ids_t[rows]
        matched_tr = tracker_ids_t[cols]

        prev_matched = prev_tracker_id[matched_gt]
        res["IDSW"] += int(np.sum(~np.isnan(prev_matched) & (matched_tr != prev_matched)))

        gt_id_count[gt_ids_t] += 1
        gt_matched_count[matched_gt] += 1
        not_previously_tracked = np.isnan(prev_timestep_tracker_id)
        prev_tracker_id[matched_gt] = matched_tr
        prev_timestep_tracker_id[:] = np.nan
        prev_timestep_tracker_id[matched_gt] = matched_tr
        gt_frag_count += not_previously_tracked & ~np.isnan(prev_timestep_tracker_id)

        num_matches = len(matched_gt)
        res["CLR_TP"] += num_matches
        res["CLR_FN"] += len(gt_ids_t) - num_matches
        res["CLR_FP"] += len(tracker_ids_t) - num_matches
        if num_matches:
            res["MOTP_sum"] += float(similarity[rows, cols].sum())

    present = gt_id_count > 0
    tracked_ratio = gt_matched_count[present] / gt_id_count[present]
    res["MT"] = int(np.sum(tracked_ratio > 0.8))
    res["PT"] = int(np.sum(tracked_ratio >= 0.2)) - res["MT"]
    res["ML"] = n - res["MT"] - res["PT"]
    res["Frag"] = int(np.sum(gt_frag_count[gt_frag_count > 0] - 1))
    res["CLR_Frames"] = data.num_timesteps
    return finalize_clear(res)


def combine_clear(per_sequence: list[dict[str, float]]) -> dict[str, float]:
    return finalize_clear({field: sum(r[field] for r in per_sequence) for field in SUMMED_FIELDS})


def finalize_clear(res: dict[str, float]) -> dict[str, float]:
    tp, fn, fp, idsw = res["CLR_TP"], res["CLR_FN"], res["CLR_FP"], res["IDSW"]
    num_gt_ids = res["MT"] + res["ML"] + res["PT"]
    res["MTR"] = res["MT"] / max(1.0, num_gt_ids)
    res["MLR"] = res["ML"] / max(1.0, num_gt_ids)
    res["PTR"] = res["PT"] / max(1.0, num_gt_ids)
    res["CLR_Re"] = tp / max(1.0, tp + fn)
    res["CLR_Pr"] = tp / max(1.0, tp + fp)
    res["MODA"] = (tp - fp) / max(1.0, tp + fn)
    res["MOTA"] = (tp - fp - idsw) / max(1.0, tp + fn)
    res["MOTP"] = res["MOTP_sum"] / max(1.0, tp)
    res["sMOTA"] = (res["MOTP_sum"] - fp - idsw) / max(1.0, tp + fn)
    res["CLR_F1"] = tp / max(1.0, tp + 0.5 * fn + 0.5 * fp)
    res["FP_per_frame"] = fp / max(1.0, res["CLR_Frames"])
    safe_log_idsw = np.log10(idsw) if idsw > 0 else idsw
    res["MOTAL"] = (tp - fp - safe_log_idsw) / max(1.0, tp + fn)
    return res
