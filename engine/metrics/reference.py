"""TrackEval's metric loops, line for line (one frame, one alpha at a time): the readable reference that
the vectorised metrics (:mod:`engine.metrics.mot_data`, :mod:`~engine.metrics.hota`, :mod:`~engine.metrics.clear`,
:mod:`~engine.metrics.identity`) are tested against (tests/engine/metrics/test_vectorised_equals_loops.py).
Too slow for the app (about 5 s for 10,000 frames of 20 people, against well under 1 s); never imported by it.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.optimize import linear_sum_assignment

from engine.io.mot import DISTRACTOR_CLASSES, MOTRecords
from engine.metrics.clear import ClearFrameMatch, finish_clear, new_clear_result
from engine.metrics.hota import ALPHAS, finalize_hota, new_hota_result
from engine.metrics.mot_data import EPS, GTSemantics, SequenceData, box_iou_ltwh, sequence_rules


def _rows_by_frame(frames: np.ndarray, present: np.ndarray) -> list[np.ndarray]:
    """Row indices of each frame in ``present`` (sorted unique frame numbers), file order kept."""
    order = np.argsort(frames, kind="stable")
    bounds = np.searchsorted(frames[order], np.append(present, np.iinfo(np.int64).max), side="left")
    return [order[bounds[t]: bounds[t + 1]] for t in range(len(present))]


def sequence_data_loops(
    gt: MOTRecords,
    pred: MOTRecords,
    *,
    num_timesteps: int | None = None,
    gt_semantics: GTSemantics = "auto",
    remove_distractor_matches: bool = True,
) -> SequenceData:
    """:func:`~engine.metrics.mot_data.build_sequence_data`, one frame at a time."""
    num_timesteps, preprocess, gt_keep_all = sequence_rules(
        gt, pred, num_timesteps=num_timesteps, gt_semantics=gt_semantics,
        remove_distractor_matches=remove_distractor_matches)
    gt_frames, gt_all_ids, gt_boxes, gt_classes = gt.frames, gt.ids, gt.ltwh, gt.classes
    tr_frames, tr_all_ids, tr_boxes = pred.frames, pred.ids, pred.ltwh

    gt_ids, tracker_ids, similarities = [], [], []
    gt_distractor = np.isin(gt_classes, DISTRACTOR_CLASSES) if preprocess else None
    present = np.union1d(gt_frames, tr_frames).astype(np.int64)
    gt_rows = _rows_by_frame(gt_frames, present)
    tr_rows = _rows_by_frame(tr_frames, present)
    for t in range(len(present)):
        g, r = gt_rows[t], tr_rows[t]
        sim = box_iou_ltwh(gt_boxes[g], tr_boxes[r])
        t_ids = tr_all_ids[r]
        # only a frame with distractor gt can lose tracker boxes (skipping the others changes nothing)
        if preprocess and len(r) and gt_distractor[g].any():
            scores = sim.copy()
            scores[scores < 0.5 - EPS] = 0
            rows, cols = linear_sum_assignment(-scores)
            matched = scores[rows, cols] > 0 + EPS
            rows, cols = rows[matched], cols[matched]
            remove = cols[gt_distractor[g][rows]]
            t_ids = np.delete(t_ids, remove)
            sim = np.delete(sim, remove, axis=1)
        keep = gt_keep_all[g]
        gt_ids.append(gt_all_ids[g][keep])
        tracker_ids.append(t_ids)
        similarities.append(sim[keep])

    def relabel(id_lists: list[np.ndarray]) -> int:
        unique = np.unique(np.concatenate(id_lists)) if id_lists else np.empty(0, np.int64)
        for t, ids in enumerate(id_lists):
            id_lists[t] = np.searchsorted(unique, ids).astype(np.int64)
        return len(unique)

    num_gt_ids = relabel(gt_ids)
    num_tracker_ids = relabel(tracker_ids)
    return SequenceData(
        num_timesteps=num_timesteps,
        frames=present,
        gt_ids=gt_ids,
        tracker_ids=tracker_ids,
        similarity_scores=similarities,
        num_gt_ids=num_gt_ids,
        num_tracker_ids=num_tracker_ids,
        num_gt_dets=int(sum(len(x) for x in gt_ids)),
        num_tracker_dets=int(sum(len(x) for x in tracker_ids)),
    )


def hota_loops(data: SequenceData) -> dict[str, np.ndarray | float]:
    """:func:`~engine.metrics.hota.hota_metrics`, one frame and one alpha at a time."""
    na = len(ALPHAS)
    res = new_hota_result(data)
    if data.num_tracker_dets == 0 or data.num_gt_dets == 0:
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


def clear_frame_matches_loops(data: SequenceData, *, threshold: float = 0.5) -> Iterator[ClearFrameMatch]:
    """:func:`~engine.metrics.clear.clear_frame_matches`, the Hungarian run on every frame in turn."""
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


def clear_loops(data: SequenceData, *, threshold: float = 0.5) -> dict[str, float]:
    res = new_clear_result(data)
    if data.num_tracker_dets == 0 or data.num_gt_dets == 0:
        return res

    n = data.num_gt_ids
    gt_id_count = np.zeros(n)
    gt_matched_count = np.zeros(n)
    gt_frag_count = np.zeros(n)
    for frame in clear_frame_matches_loops(data, threshold=threshold):
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

    return finish_clear(res, data, gt_id_count, gt_matched_count, gt_frag_count)


def identity_loops(data: SequenceData, threshold: float) -> tuple[dict[str, int], np.ndarray]:
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


