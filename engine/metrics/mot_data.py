"""Turn MOT ground truth and tracker results into TrackEval's per-sequence evaluation data.

This mirrors ``trackeval.datasets.MotChallenge2DBox`` (``_load_raw_file`` +
``get_preprocessed_seq_data`` + ``_calculate_similarities``) step for step, so that the metric
functions in this package see exactly the arrays TrackEval's metrics see:

* similarity = box IoU on [left, top, width, height] (continuous coordinates, no +1);
* ground-truth semantics (``gt_semantics``):
    - ``"mot16"`` (9-column gt: MOT16/17/20): tracker boxes matched (Hungarian on IoU >= 0.5) to a gt
      box of a distractor class (2 person_on_vehicle, 7 static_person, 8 distractor, 12 reflection)
      are removed first (``remove_distractor_matches``, TrackEval's ``DO_PREPROC``); then only gt
      rows with flag != 0 and class 1 (pedestrian) are kept;
    - ``"mot15"`` (10-column gt, e.g. TUD-Stadtmitte): TrackEval never preprocesses MOT15: there are
      no classes, so only gt rows with flag (column 7) == 0 are dropped and no tracker box is removed;
    - ``"auto"``: mot16 for 9-column gt, mot15 for 10-column gt;
* ids are relabelled to 0..K-1 over the sequence.

Memory and time follow the rows present, never the frame numbers: a frame with neither gt nor
tracker rows changes no metric (TrackEval's loops skip it: nothing to match, no counts, and the
"previous frame" of the IDSW and Frag rules is the last frame that had gt rows), so only frames
with rows get an entry and ``frames`` says which. ``num_timesteps`` (seqLength) is only counted
(CLR_Frames), so seqLength 1e9 or a row at frame 1e9 costs nothing per frame.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment

from engine.io.mot import DISTRACTOR_CLASSES, PEDESTRIAN_CLASS, MOTRecords
from engine.io.mot_rules import MAX_FRAME, MOT_CLASSES

EPS = np.finfo("float").eps
GTSemantics = Literal["auto", "mot15", "mot16"]


@dataclass
class SequenceData:
    """Per-frame evaluation arrays (TrackEval's ``data`` dict as attributes), for the frames that
    have rows only: entry t belongs to 1-based frame ``frames[t]``."""

    num_timesteps: int
    frames: np.ndarray  # (T,) int64 1-based frame numbers with gt or tracker rows, increasing
    gt_ids: list[np.ndarray]  # (G_t,) int, contiguous 0..num_gt_ids-1
    tracker_ids: list[np.ndarray]  # (T_t,) int, contiguous 0..num_tracker_ids-1
    similarity_scores: list[np.ndarray]  # (G_t, T_t) IoU
    num_gt_ids: int
    num_tracker_ids: int
    num_gt_dets: int
    num_tracker_dets: int


def box_iou_ltwh(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """(N, 4), (M, 4) [left, top, w, h] -> (N, M) IoU, degenerate boxes give 0 (as TrackEval)."""
    b1 = np.asarray(boxes1, dtype=np.float64).reshape(-1, 4).copy()
    b2 = np.asarray(boxes2, dtype=np.float64).reshape(-1, 4).copy()
    b1[:, 2:] += b1[:, :2]
    b2[:, 2:] += b2[:, :2]
    lo = np.maximum(b1[:, None, :2], b2[None, :, :2])
    hi = np.minimum(b1[:, None, 2:], b2[None, :, 2:])
    wh = np.maximum(hi - lo, 0)
    inter = wh[..., 0] * wh[..., 1]
    area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
    area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
    union = area1[:, None] + area2[None, :] - inter
    inter[area1 <= EPS, :] = 0
    inter[:, area2 <= EPS] = 0
    inter[union <= EPS] = 0
    union[union <= EPS] = 1
    return inter / union


def _rows_by_frame(frames: np.ndarray, present: np.ndarray) -> list[np.ndarray]:
    """Row indices of each frame in ``present`` (sorted unique frame numbers), file order kept."""
    order = np.argsort(frames, kind="stable")
    bounds = np.searchsorted(frames[order], np.append(present, np.iinfo(np.int64).max), side="left")
    return [order[bounds[t]: bounds[t + 1]] for t in range(len(present))]


def resolve_semantics(gt: MOTRecords, gt_semantics: GTSemantics) -> str:
    if gt_semantics == "auto":
        return "mot15" if gt.classes is None else "mot16"
    if gt_semantics not in ("mot15", "mot16"):
        raise ValueError(f"gt_semantics must be 'auto', 'mot15' or 'mot16', got {gt_semantics!r}")
    if gt_semantics == "mot16" and gt.classes is None:
        raise ValueError(f"{gt.path}: MOT16 semantics need gt with classes (8- or 9-column gt), "
                         f"found {gt.num_columns} columns")
    return gt_semantics


def build_sequence_data(
    gt: MOTRecords,
    pred: MOTRecords,
    *,
    num_timesteps: int | None = None,
    gt_semantics: GTSemantics = "auto",
    remove_distractor_matches: bool = True,
) -> SequenceData:
    """Preprocess one sequence like TrackEval's MotChallenge2DBox. ``num_timesteps`` defaults to
    the last frame in either file (pass seqinfo's seqLength when known)."""
    semantics = resolve_semantics(gt, gt_semantics)
    if num_timesteps is None:
        num_timesteps = max(gt.max_frame(), pred.max_frame())
    num_timesteps = int(num_timesteps)
    if not 0 <= num_timesteps <= MAX_FRAME:
        raise ValueError(f"num_timesteps must be in [0, {MAX_FRAME}], got {num_timesteps}")
    for records in (gt, pred):
        if records.max_frame() > num_timesteps:
            raise ValueError(f"{records.path}: frame {records.max_frame()} beyond {num_timesteps} frames")
    preprocess = semantics == "mot16" and remove_distractor_matches
    gt_frames, gt_all_ids, gt_boxes = gt.frames, gt.ids, gt.ltwh
    gt_keep_all = gt.confidences.astype(np.int64) != 0  # TrackEval: zero_marked = int(column 7)
    gt_classes = gt.classes
    if semantics == "mot16":
        gt_keep_all &= gt_classes == PEDESTRIAN_CLASS
        if preprocess:  # TrackEval refuses unknown classes when it preprocesses
            invalid = np.setdiff1d(np.unique(gt_classes), MOT_CLASSES)
            if invalid.size:
                raise ValueError(f"{gt.path}: gt classes {invalid.tolist()} are not MOTChallenge classes 1..13 "
                                 "(use MOT15 semantics or disable distractor removal)")
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
