"""HOTA (DetA, AssA, LocA, ...), following TrackEval's ``HOTA``.

1. Global alignment score between every gt id and tracker id: the Jaccard index of their
   trajectories, where each frame contributes a soft match ``IoU / (row sum + column sum - IoU)``.
2. Per frame, Hungarian matching maximises ``global alignment * IoU``; then for each localisation
   threshold alpha in 0.05, 0.10, ..., 0.95 the matched pairs with IoU >= alpha are TPs.
3. DetA = TP / (TP + FN + FP); AssA = mean over TPs of the pair's association Jaccard;
   HOTA(alpha) = sqrt(DetA * AssA). Reported HOTA/DetA/AssA/LocA are means over the 19 alphas.

Computed for all frames and alphas at once (the metrics panel recomputes 10,000 frames in well under a
second): frames of one matrix shape are stacked (``SequenceData.blocks``), only overlapping pairs are
kept, and every rounding-sensitive step follows TrackEval's order (alignment scores added frame by
frame, the Hungarian on the same dense matrices, LocA summed left to right), so all values are
TrackEval's bit for bit except the association sums (AssA/AssRe/AssPr), added over the overlapping
pairs instead of the dense id x id matrix: a difference in the last bits (< 1e-12). The line-for-line
loops stay in :mod:`engine.metrics.reference`, tested equal.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from engine.metrics.mot_data import CHUNK_PAIRS, EPS, SequenceData

ALPHAS = np.arange(0.05, 0.99, 0.05)  # exactly TrackEval's array_labels
COUNT_FIELDS = ("HOTA_TP", "HOTA_FN", "HOTA_FP")
ARRAY_FIELDS = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "OWTA")


def new_hota_result(data: SequenceData) -> dict:
    """The zeroed per-alpha result; when a side is empty, TrackEval's whole result (all misses or all
    false positives, LocA 1)."""
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


def hota_metrics(data: SequenceData) -> dict[str, np.ndarray | float]:
    """Per-alpha arrays (19,) for every field of ``ARRAY_FIELDS``/``COUNT_FIELDS``, plus HOTA(0), LocA(0)."""
    na = len(ALPHAS)
    res = new_hota_result(data)
    if data.num_tracker_dets == 0 or data.num_gt_dets == 0:
        return res

    ng, nt = data.num_gt_ids, data.num_tracker_ids
    gt_id_count = np.bincount(np.concatenate(data.gt_ids), minlength=ng).astype(np.float64)
    tracker_id_count = np.bincount(np.concatenate(data.tracker_ids), minlength=nt).astype(np.float64)
    blocks = [blk for blk in data.blocks() if blk.similarity.size]

    # 1. Soft matches of each frame. Only overlapping pairs (IoU > 0) can add to an alignment score or be
    #    matched at an alpha, so they are kept as a sparse list, in frame order.
    frame_parts, key_parts, soft_parts, where_parts = [], [], [], []
    for blk in blocks:
        sim = blk.similarity
        column_sums, row_sums = sim.sum(1), sim.sum(2)  # as TrackEval's similarity.sum(0), .sum(1)
        b, i, j = np.nonzero(sim > 0)
        frame_parts.append(blk.timesteps[b])
        key_parts.append(blk.gt_ids[b, i] * nt + blk.tracker_ids[b, j])
        s = sim[b, i, j]
        d = column_sums[b, j] + row_sums[b, i] - s  # TrackEval's denominator, at the overlapping pairs only
        soft = np.zeros_like(s)
        ok = d > 0 + EPS
        soft[ok] = s[ok] / d[ok]
        soft_parts.append(soft)
        where_parts.append((b, i, j))
    frame = np.concatenate(frame_parts) if frame_parts else np.zeros(0, np.int64)
    keys = np.concatenate(key_parts) if key_parts else np.zeros(0, np.int64)
    soft = np.concatenate(soft_parts) if soft_parts else np.zeros(0)
    pair_keys, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.reshape(-1)
    # bincount adds in input order: each pair's frames in time order, as TrackEval's per-frame +=
    order = np.argsort(frame, kind="stable")
    potential = np.bincount(inverse[order], weights=soft[order], minlength=len(pair_keys))
    pair_gt, pair_tr = pair_keys // max(nt, 1), pair_keys % max(nt, 1)
    global_alignment = potential / (gt_id_count[pair_gt] + tracker_id_count[pair_tr] - potential)

    # 2. Per frame, Hungarian matching on global alignment * IoU (scipy on the same dense matrices as
    #    TrackEval, so ties resolve identically); rows come back sorted, as TrackEval sums them.
    matched_key, matched_sim = [], []
    loca_per_frame = np.zeros((na, len(data.gt_ids)))
    start = 0
    for blk, (b, i, j) in zip(blocks, where_parts):
        stop = start + len(b)
        score = global_alignment[inverse[start:stop]] * blk.similarity[b, i, j]
        start = stop
        num_frames, g, n = blk.similarity.shape
        m = min(g, n)
        rows = np.empty((num_frames, m), np.intp)
        cols = np.empty((num_frames, m), np.intp)
        step = max(1, CHUNK_PAIRS // (g * n))  # a chunk of frames at a time: small, cached matrices
        bounds = np.searchsorted(b, np.arange(0, num_frames + step, step))  # b ascends (nonzero's order)
        for c, f0 in enumerate(range(0, num_frames, step)):
            neg = np.full((min(step, num_frames - f0), g, n), -0.0)  # TrackEval's -score_mat, zeros included
            k = slice(bounds[c], bounds[c + 1])
            neg[b[k] - f0, i[k], j[k]] = -score[k]
            for f in range(len(neg)):
                rows[f0 + f], cols[f0 + f] = linear_sum_assignment(neg[f])
        fb = np.repeat(np.arange(num_frames), m)
        rows, cols = rows.reshape(-1), cols.reshape(-1)
        sims = blk.similarity[fb, rows, cols]
        matched_key.append(blk.gt_ids[fb, rows] * nt + blk.tracker_ids[fb, cols])
        matched_sim.append(sims)
        # TrackEval's LocA[a] += sum(the frame's matched IoUs >= alpha): left to right, rows in order
        by_rank = sims.reshape(num_frames, m).T  # (m, B): the k-th matched pair of each frame
        counted = np.where(by_rank[:, None, :] >= (ALPHAS - EPS)[None, :, None], by_rank[:, None, :], 0.0)
        frame_sums = np.zeros((na, num_frames))  # 0 + x = x: as Python's sum starting at 0
        for k in range(m):
            frame_sums += counted[k]
        loca_per_frame[:, blk.timesteps] = frame_sums
    m_key = np.concatenate(matched_key) if matched_key else np.zeros(0, np.int64)
    m_sim = np.concatenate(matched_sim) if matched_sim else np.zeros(0)

    # 3. Per alpha: a match counts where IoU >= alpha (monotone in alpha: pair p counts for alphas < passes[p])
    ok = m_sim[None, :] >= (ALPHAS - EPS)[:, None]  # (19, M)
    tp = ok.sum(1).astype(np.float64)
    res["HOTA_TP"] = tp
    res["HOTA_FN"] = data.num_gt_dets - tp
    res["HOTA_FP"] = data.num_tracker_dets - tp
    # then the frames' sums in time order (cumsum adds left to right; np.sum would pair them up)
    res["LocA"] = np.cumsum(loca_per_frame, axis=1)[:, -1] if loca_per_frame.size else np.zeros(na)

    passes = ok.sum(0)
    match_keys, match_inverse = np.unique(m_key, return_inverse=True)
    per_pass = np.bincount(match_inverse.reshape(-1) * (na + 1) + passes,
                           minlength=len(match_keys) * (na + 1)).reshape(-1, na + 1)
    matches_counts = np.cumsum(per_pass[:, ::-1], axis=1)[:, ::-1][:, 1:].T.astype(np.float64)  # (19, K)
    gt_count = gt_id_count[match_keys // max(nt, 1)]
    tr_count = tracker_id_count[match_keys % max(nt, 1)]
    for a in range(na):
        mc = matches_counts[a]
        tp_a = np.maximum(1, tp[a])
        res["AssA"][a] = np.sum(mc * (mc / np.maximum(1, gt_count + tr_count - mc))) / tp_a
        res["AssRe"][a] = np.sum(mc * (mc / np.maximum(1, gt_count))) / tp_a
        res["AssPr"][a] = np.sum(mc * (mc / np.maximum(1, tr_count))) / tp_a
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
