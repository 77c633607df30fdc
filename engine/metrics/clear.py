"""CLEAR MOT metrics (MOTA, MOTP, FP, FN, IDSW, Frag, MT/PT/ML), following TrackEval's ``CLEAR``.

Per frame, gt and tracker boxes are matched by Hungarian assignment on
``1000 * [tracker continues the gt's match from the previous frame] + IoU`` (pairs with
IoU < threshold are forbidden), which first minimises identity switches and then maximises MOTP.
An IDSW is counted when a gt is matched to a tracker id different from the one it was last
matched to (any number of frames earlier). MOTP is the mean IoU of matches (an overlap, not a
distance). MT: tracked > 80% of its frames, ML: < 20%.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from engine.metrics.mot_data import EPS, SequenceData

INTEGER_FIELDS = ("CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag", "CLR_Frames")
SUMMED_FIELDS = INTEGER_FIELDS + ("MOTP_sum",)
FLOAT_FIELDS = (
    "MOTA", "MOTP", "MODA", "CLR_Re", "CLR_Pr", "MTR", "PTR", "MLR", "sMOTA", "CLR_F1", "FP_per_frame", "MOTAL",
)


@dataclass(frozen=True)
class ClearFrameMatch:
    """CLEAR's matching in one timestep (ids are SequenceData's contiguous ids).

    rows/cols (M,) index gt_ids/tracker_ids: gt ``gt_ids[rows[i]]`` matched tracker ``tracker_ids[cols[i]]``.
    previous_tracker_id (M,) float: the tracker id each matched gt was last matched to (NaN: never).
    switched (M,) bool: an ID switch (matched before, to another tracker id).
    resumed (M,) bool: not matched in the previous non-empty timestep (a fragment starts; TrackEval's
    state is left untouched by a timestep without gt or without tracker boxes).
    """

    frame: int
    gt_ids: np.ndarray
    tracker_ids: np.ndarray
    similarity: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    previous_tracker_id: np.ndarray
    switched: np.ndarray
    resumed: np.ndarray


def clear_frame_matches(data: SequenceData, *, threshold: float = 0.5) -> Iterator[ClearFrameMatch]:
    """CLEAR's per-timestep matching, the one definition used by :func:`clear_metrics` and by
    :func:`id_switch_events` (so listed ID switches always equal the IDSW count)."""
    n = data.num_gt_ids
    prev_tracker_id = np.full(n, np.nan)  # last tracker id each gt was matched to (for IDSW)
    prev_timestep_tracker_id = np.full(n, np.nan)  # match in the previous frame only (for matching)
    empty_int = np.zeros(0, np.intp)
    for t, (gt_ids_t, tracker_ids_t, similarity) in enumerate(
            zip(data.gt_ids, data.tracker_ids, data.similarity_scores)):
        if len(gt_ids_t) == 0 or len(tracker_ids_t) == 0:
            yield ClearFrameMatch(t, gt_ids_t, tracker_ids_t, similarity, empty_int, empty_int,
                                  np.zeros(0), np.zeros(0, bool), np.zeros(0, bool))
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
        switched = ~np.isnan(prev_matched) & (matched_tr != prev_matched)
        resumed = np.isnan(prev_timestep_tracker_id[matched_gt])
        prev_tracker_id[matched_gt] = matched_tr
        prev_timestep_tracker_id[:] = np.nan
        prev_timestep_tracker_id[matched_gt] = matched_tr
        yield ClearFrameMatch(t, gt_ids_t, tracker_ids_t, similarity, rows, cols, prev_matched, switched, resumed)


@dataclass(frozen=True)
class IDSwitchEvents:
    """CLEAR's ID switches, one entry each, in timestep order (contiguous SequenceData ids).

    frame (E,) int64 timestep; gt_id (E,) int64; previous_tracker_id (E,) int64 (the tracker id the gt
    was last matched to); tracker_id (E,) int64 (the one it is matched to now).
    """

    frame: np.ndarray
    gt_id: np.ndarray
    previous_tracker_id: np.ndarray
    tracker_id: np.ndarray

    def __len__(self) -> int:
        return int(self.frame.shape[0])


def id_switch_events(data: SequenceData, *, threshold: float = 0.5) -> IDSwitchEvents:
    """Every ID switch that :func:`clear_metrics` counts as IDSW (``len(events) == IDSW``)."""
    frames, gts, prevs, news = [], [], [], []
    for frame in clear_frame_matches(data, threshold=threshold):
        if frame.switched.any():
            k = frame.switched
            frames.append(np.full(int(k.sum()), frame.frame, np.int64))
            gts.append(frame.gt_ids[frame.rows[k]])
            prevs.append(frame.previous_tracker_id[k].astype(np.int64))
            news.append(frame.tracker_ids[frame.cols[k]])

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    return IDSwitchEvents(frame=cat(frames), gt_id=cat(gts), previous_tracker_id=cat(prevs), tracker_id=cat(news))


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
    for frame in clear_frame_matches(data, threshold=threshold):
        matched_gt = frame.gt_ids[frame.rows]
        res["IDSW"] += int(np.count_nonzero(frame.switched))
        gt_id_count[frame.gt_ids] += 1
        gt_matched_count[matched_gt] += 1
        gt_frag_count[matched_gt] += frame.resumed
        num_matches = len(matched_gt)
        res["CLR_TP"] += num_matches
        res["CLR_FN"] += len(frame.gt_ids) - num_matches
        res["CLR_FP"] += len(frame.tracker_ids) - num_matches
        if num_matches:
            res["MOTP_sum"] += float(frame.similarity[frame.rows, frame.cols].sum())

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
