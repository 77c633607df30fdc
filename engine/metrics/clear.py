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


@dataclass(frozen=True)
class ClearMatches:
    """CLEAR's matches of a whole sequence, one entry per matched pair, ordered by timestep then gt row
    (the fields of :class:`ClearFrameMatch`, flat): step (M,) timestep; row/col (M,) index that timestep's
    gt_ids/tracker_ids; gt_id/tracker_id (M,) int64; similarity (M,) IoU; previous_tracker_id (M,) float
    (NaN: never matched before); switched (M,) bool; resumed (M,) bool."""

    step: np.ndarray
    row: np.ndarray
    col: np.ndarray
    gt_id: np.ndarray
    tracker_id: np.ndarray
    similarity: np.ndarray
    previous_tracker_id: np.ndarray
    switched: np.ndarray
    resumed: np.ndarray


def clear_matches(data: SequenceData, *, threshold: float = 0.5) -> ClearMatches:
    """CLEAR's matching over the sequence, the one definition behind :func:`clear_metrics`,
    :func:`clear_frame_matches` and :func:`id_switch_events` (so listed ID switches equal IDSW).

    The per-frame Hungarian depends on the previous frame's matches only through which pairs it
    prefers (the 1000 bonus); a frame where every gt and every tracker box has at most one partner with
    IoU >= threshold has one optimum whatever that state is (all those pairs), so such frames are
    matched at once and only frames with competing pairs run the Hungarian, in time order."""
    ng = data.num_gt_ids
    int_parts = {name: [] for name in ("step", "row", "col")}
    both = [blk for blk in data.blocks() if blk.similarity.size]
    both_steps = np.sort(np.concatenate([blk.timesteps for blk in both])) if both else np.zeros(0, np.int64)
    # TrackEval's "previous timestep" (its state) is the last one with both gt and tracker boxes
    last_both = np.full(len(data.gt_ids), -1, np.int64)
    last_both[both_steps[1:]] = both_steps[:-1]
    contested_parts = []
    simple = threshold - EPS > EPS  # else a zero-IoU pair may be matched on its bonus: Hungarian everywhere
    for blk in both:
        candidate = blk.similarity >= threshold - EPS
        if simple:  # contested: a box with two candidate partners
            contested = (candidate.sum(2).max(1) > 1) | (candidate.sum(1).max(1) > 1)
        else:
            contested = np.ones(len(blk.timesteps), bool)
        b, i, j = np.nonzero(candidate & ~contested[:, None, None])
        int_parts["step"].append(blk.timesteps[b])
        int_parts["row"].append(i)
        int_parts["col"].append(j)
        contested_parts.append(blk.timesteps[contested])
    step, row, col = (np.concatenate(int_parts[k]).astype(np.int64) if both else np.zeros(0, np.int64)
                      for k in ("step", "row", "col"))
    contested = np.sort(np.concatenate(contested_parts)) if both else np.zeros(0, np.int64)

    if len(contested):
        # the frames that need the Hungarian, each after the one before it (whose matches it prefers)
        order = np.argsort(step, kind="stable")
        step, row, col = step[order], row[order], col[order]
        solved: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        new_step, new_row, new_col = [], [], []
        for t in contested.tolist():
            gt_ids_t, tracker_ids_t = data.gt_ids[t], data.tracker_ids[t]
            similarity = data.similarity_scores[t]
            prev_timestep_tracker_id = np.full(ng, np.nan)
            p = int(last_both[t])
            if p >= 0:
                if p in solved:
                    p_rows, p_cols = solved[p]
                else:
                    lo, hi = np.searchsorted(step, [p, p + 1])
                    p_rows, p_cols = row[lo:hi], col[lo:hi]
                prev_timestep_tracker_id[data.gt_ids[p][p_rows]] = data.tracker_ids[p][p_cols]
            continues = tracker_ids_t[None, :] == prev_timestep_tracker_id[gt_ids_t[:, None]]
            score_mat = 1000 * continues + similarity
            score_mat[similarity < threshold - EPS] = 0
            rows, cols = linear_sum_assignment(-score_mat)
            matched = score_mat[rows, cols] > 0 + EPS
            solved[t] = rows[matched], cols[matched]
            new_step.append(np.full(int(matched.sum()), t, np.int64))
            new_row.append(rows[matched])
            new_col.append(cols[matched])
        step = np.concatenate([step, *new_step])
        row = np.concatenate([row, *new_row]).astype(np.int64)
        col = np.concatenate([col, *new_col]).astype(np.int64)
    order = np.lexsort((row, step))
    step, row, col = step[order], row[order], col[order]

    gt_offsets = np.concatenate([[0], np.cumsum([len(x) for x in data.gt_ids])]).astype(np.int64)
    tr_offsets = np.concatenate([[0], np.cumsum([len(x) for x in data.tracker_ids])]).astype(np.int64)
    all_gt = np.concatenate(data.gt_ids) if data.gt_ids else np.zeros(0, np.int64)
    all_tr = np.concatenate(data.tracker_ids) if data.tracker_ids else np.zeros(0, np.int64)
    gt_id = all_gt[gt_offsets[step] + row].astype(np.int64)
    tracker_id = all_tr[tr_offsets[step] + col].astype(np.int64)
    similarity = _gather_similarity(data, step, row, col)

    # each gt's matches in time order: the one before says what it was last matched to
    by_gt = np.lexsort((step, gt_id))
    same = np.zeros(len(by_gt), bool)
    same[1:] = gt_id[by_gt[1:]] == gt_id[by_gt[:-1]]
    previous = np.full(len(by_gt), np.nan)
    previous[1:][same[1:]] = tracker_id[by_gt[:-1]][same[1:]]
    previous_step_of_match = np.full(len(by_gt), -2, np.int64)
    previous_step_of_match[1:][same[1:]] = step[by_gt[:-1]][same[1:]]
    previous_tracker_id = np.empty(len(by_gt))
    previous_tracker_id[by_gt] = previous
    resumed = np.empty(len(by_gt), bool)  # not matched in the previous timestep: a fragment starts
    resumed[by_gt] = previous_step_of_match != last_both[step[by_gt]]
    switched = ~np.isnan(previous_tracker_id) & (tracker_id != previous_tracker_id)
    return ClearMatches(step=step, row=row, col=col, gt_id=gt_id, tracker_id=tracker_id, similarity=similarity,
                        previous_tracker_id=previous_tracker_id, switched=switched, resumed=resumed)


def _gather_similarity(data: SequenceData, step: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """(M,) IoU of the matched pairs, read from the frame blocks."""
    blocks = data.blocks()
    block_of = np.full(len(data.similarity_scores), -1, np.int64)
    position = np.zeros(len(data.similarity_scores), np.int64)
    for index, blk in enumerate(blocks):
        block_of[blk.timesteps] = index
        position[blk.timesteps] = np.arange(len(blk.timesteps))
    out = np.empty(len(step))
    which = block_of[step]
    order = np.argsort(which, kind="stable")
    cuts = np.flatnonzero(np.diff(which[order])) + 1
    for part in np.split(order, cuts) if len(order) else []:
        out[part] = blocks[which[part[0]]].similarity[position[step[part]], row[part], col[part]]
    return out


def clear_frame_matches(data: SequenceData, *, threshold: float = 0.5) -> Iterator[ClearFrameMatch]:
    """:func:`clear_matches` one timestep at a time (every timestep, also those with nothing to match)."""
    m = clear_matches(data, threshold=threshold)
    bounds = np.searchsorted(m.step, np.arange(len(data.gt_ids) + 1))
    for t, (gt_ids_t, tracker_ids_t, similarity) in enumerate(
            zip(data.gt_ids, data.tracker_ids, data.similarity_scores)):
        k = slice(bounds[t], bounds[t + 1])
        yield ClearFrameMatch(t, gt_ids_t, tracker_ids_t, similarity, m.row[k].astype(np.intp),
                              m.col[k].astype(np.intp), m.previous_tracker_id[k], m.switched[k], m.resumed[k])


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
    m = clear_matches(data, threshold=threshold)
    k = m.switched
    return IDSwitchEvents(frame=m.step[k].astype(np.int64), gt_id=m.gt_id[k], previous_tracker_id=
                          m.previous_tracker_id[k].astype(np.int64), tracker_id=m.tracker_id[k])


def clear_metrics(data: SequenceData, *, threshold: float = 0.5) -> dict[str, float]:
    res = new_clear_result(data)
    if data.num_tracker_dets == 0 or data.num_gt_dets == 0:
        return res

    n = data.num_gt_ids
    m = clear_matches(data, threshold=threshold)
    gt_id_count = np.bincount(np.concatenate(data.gt_ids), minlength=n)
    gt_matched_count = np.bincount(m.gt_id, minlength=n)
    gt_frag_count = np.bincount(m.gt_id, weights=m.resumed, minlength=n)
    res["IDSW"] = int(np.count_nonzero(m.switched))
    res["CLR_TP"] = len(m.step)
    res["CLR_FN"] = data.num_gt_dets - len(m.step)
    res["CLR_FP"] = data.num_tracker_dets - len(m.step)
    res["MOTP_sum"] = _motp_sum(m)

    return finish_clear(res, data, gt_id_count, gt_matched_count, gt_frag_count)


def _motp_sum(m: ClearMatches) -> float:
    """Sum of the matched IoUs rounded as TrackEval's ``MOTP_sum += np.sum(frame's matched IoUs)``: numpy's
    sum within a frame (rows of one length summed together, as numpy sums each), then frames in order."""
    if not len(m.step):
        return 0
    cuts = np.flatnonzero(np.diff(m.step)) + 1
    starts = np.concatenate([[0], cuts])
    lengths = np.diff(np.append(starts, len(m.step)))
    per_frame = np.empty(len(starts))
    for length in np.unique(lengths).tolist():
        which = np.flatnonzero(lengths == length)
        per_frame[which] = m.similarity[starts[which][:, None] + np.arange(length)].sum(axis=1)
    return float(np.cumsum(per_frame)[-1])  # cumsum adds left to right, as the per-frame +=


def new_clear_result(data: SequenceData) -> dict[str, float]:
    """The zeroed result; when a side is empty, TrackEval's raw counts without the final fields (MOTA 0,
    MLR 1), which are then the whole result."""
    res: dict[str, float] = {field: 0 for field in SUMMED_FIELDS + FLOAT_FIELDS}
    if data.num_tracker_dets == 0:
        res["CLR_FN"] = data.num_gt_dets
        res["ML"] = data.num_gt_ids
        res["MLR"] = 1.0
    elif data.num_gt_dets == 0:
        res["CLR_FP"] = data.num_tracker_dets
        res["MLR"] = 1.0
    return res


def finish_clear(res: dict[str, float], data: SequenceData, gt_id_count: np.ndarray, gt_matched_count: np.ndarray,
                 gt_frag_count: np.ndarray) -> dict[str, float]:
    """MT/PT/ML from each gt id's (num_gt_ids,) frames and matched frames, Frag from its fragment starts."""
    present = gt_id_count > 0
    tracked_ratio = gt_matched_count[present] / gt_id_count[present]
    res["MT"] = int(np.sum(tracked_ratio > 0.8))
    res["PT"] = int(np.sum(tracked_ratio >= 0.2)) - res["MT"]
    res["ML"] = data.num_gt_ids - res["MT"] - res["PT"]
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
