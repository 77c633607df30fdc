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

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment

from engine.io.mot import DISTRACTOR_CLASSES, PEDESTRIAN_CLASS, MOTRecords
from engine.io.mot_rules import MAX_FRAME, MOT_CLASSES

EPS = np.finfo("float").eps
# gt x tracker pairs handled at once when frames are processed in chunks: the temporaries stay in cache
# (several times faster than one pass over a long video's tens of millions of pairs)
CHUNK_PAIRS = 1 << 16
GTSemantics = Literal["auto", "mot15", "mot16"]


@dataclass(frozen=True)
class FrameBlock:
    """The timesteps whose similarity matrices have one shape (G, T), stacked: what the vectorised metrics
    read instead of looping over frames. ``similarity_scores[timesteps[b]]`` is ``similarity[b]``."""

    timesteps: np.ndarray  # (B,) int64 indices into SequenceData's per-timestep lists, increasing
    gt_ids: np.ndarray  # (B, G) int64
    tracker_ids: np.ndarray  # (B, T) int64
    similarity: np.ndarray  # (B, G, T) float64 IoU


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
    # the same matrices grouped by shape (similarity_scores' entries are views into them); see blocks()
    frame_blocks: list[FrameBlock] | None = field(default=None, repr=False)

    def blocks(self) -> list[FrameBlock]:
        """The timesteps grouped by matrix shape (``frame_blocks``; stacked from the lists when absent)."""
        if self.frame_blocks is None:
            shapes = np.array([s.shape for s in self.similarity_scores], np.int64).reshape(-1, 2)
            self.frame_blocks = [
                FrameBlock(ts, np.array([self.gt_ids[t] for t in ts], np.int64).reshape(len(ts), g),
                           np.array([self.tracker_ids[t] for t in ts], np.int64).reshape(len(ts), n),
                           np.array([self.similarity_scores[t] for t in ts], np.float64).reshape(len(ts), g, n))
                for ts, g, n in _group_by_shape(shapes[:, 0], shapes[:, 1])]
        return self.frame_blocks


def _group_by_shape(rows: np.ndarray, cols: np.ndarray) -> list[tuple[np.ndarray, int, int]]:
    """(timesteps, G, T) for each distinct (rows[t], cols[t]), timesteps increasing."""
    if len(rows) == 0:
        return []
    key = rows.astype(np.int64) * (int(cols.max()) + 1) + cols
    order = np.argsort(key, kind="stable")
    cuts = np.flatnonzero(np.diff(key[order])) + 1
    return [(ts, int(rows[ts[0]]), int(cols[ts[0]])) for ts in np.split(order, cuts)]


def box_iou_ltwh(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """(N, 4), (M, 4) [left, top, w, h] -> (N, M) IoU, degenerate boxes give 0 (as TrackEval)."""
    b1 = np.asarray(boxes1, dtype=np.float64).reshape(1, -1, 4)
    b2 = np.asarray(boxes2, dtype=np.float64).reshape(1, -1, 4)
    return box_iou_ltwh_batched(b1, b2)[0]


def box_iou_ltwh_batched(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """(B, N, 4), (B, M, 4) [left, top, w, h] -> (B, N, M) IoU of each batch's pairs: TrackEval's
    ``_calculate_box_ious`` operation for operation (so every value is bit-identical to it), on many
    frames at once. Degenerate boxes (area <= eps) and empty unions give 0."""
    b1 = np.asarray(boxes1, dtype=np.float64)
    b2 = np.asarray(boxes2, dtype=np.float64)
    if b1.ndim != 3 or b2.ndim != 3 or b1.shape[2] != 4 or b2.shape[2] != 4 or b1.shape[0] != b2.shape[0]:
        raise ValueError(f"boxes must be (B, N, 4) and (B, M, 4), got {b1.shape} and {b2.shape}")
    num, n, m = b1.shape[0], b1.shape[1], b2.shape[1]
    step = max(1, CHUNK_PAIRS // max(1, n * m))
    if num <= step:
        return _iou_chunk(b1, b2)
    out = np.empty((num, n, m))
    for start in range(0, num, step):
        out[start:start + step] = _iou_chunk(b1[start:start + step], b2[start:start + step])
    return out



def _iou_chunk(b1: np.ndarray, b2: np.ndarray) -> np.ndarray:
    x1a, y1a, x1b, y1b = b1[..., 0], b1[..., 1], b2[..., 0], b2[..., 1]
    x2a, y2a = x1a + b1[..., 2], y1a + b1[..., 3]  # [x, y, w, h] -> corners, as TrackEval
    x2b, y2b = x1b + b2[..., 2], y1b + b2[..., 3]
    # per axis (the same operations as TrackEval's [..., :2]/[..., 2:] slices, value for value)
    iw = np.minimum(x2a[:, :, None], x2b[:, None, :]) - np.maximum(x1a[:, :, None], x1b[:, None, :])
    ih = np.minimum(y2a[:, :, None], y2b[:, None, :]) - np.maximum(y1a[:, :, None], y1b[:, None, :])
    inter = np.maximum(iw, 0, out=iw)
    inter *= np.maximum(ih, 0, out=ih)
    area1 = (x2a - x1a) * (y2a - y1a)
    area2 = (x2b - x1b) * (y2b - y1b)
    union = area1[:, :, None] + area2[:, None, :]
    union -= inter
    bad = union <= EPS
    bad |= (area1 <= EPS)[:, :, None]
    bad |= (area2 <= EPS)[:, None, :]
    inter[bad] = 0
    union[union <= EPS] = 1
    inter /= union
    return inter


def _refuse_duplicate_ids(what, present: np.ndarray, counts: np.ndarray, ids: np.ndarray,
                          unique: np.ndarray) -> None:
    """TrackEval aborts when one id appears twice in a frame (its per-frame ``+=`` would count it once);
    ``ids`` are relabelled (indices into ``unique``), grouped by timestep with ``counts``."""
    if len(ids) < 2:
        return
    span = max(len(unique), 1)
    keys = np.sort(np.repeat(np.arange(len(counts), dtype=np.int64), counts) * span + ids)
    dup = np.flatnonzero(keys[1:] == keys[:-1])
    if dup.size:
        step, i = divmod(int(keys[dup[0]]), span)
        raise ValueError(f"{what}: id {unique[i]:g} twice in frame {int(present[step])} "
                         "(TrackEval refuses an id twice in one frame)")


def resolve_semantics(gt: MOTRecords, gt_semantics: GTSemantics) -> str:
    if gt_semantics == "auto":
        return "mot15" if gt.classes is None else "mot16"
    if gt_semantics not in ("mot15", "mot16"):
        raise ValueError(f"gt_semantics must be 'auto', 'mot15' or 'mot16', got {gt_semantics!r}")
    if gt_semantics == "mot16" and gt.classes is None:
        raise ValueError(f"{gt.path}: MOT16 semantics need gt with classes (8- or 9-column gt), "
                         f"found {gt.num_columns} columns")
    return gt_semantics


def sequence_rules(gt: MOTRecords, pred: MOTRecords, *, num_timesteps: int | None, gt_semantics: GTSemantics,
                   remove_distractor_matches: bool) -> tuple[int, bool, np.ndarray]:
    """(num_timesteps, whether distractor matches are removed, (N_gt,) bool: the gt rows scored), with
    the inputs checked as TrackEval checks them."""
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
    gt_keep_all = gt.confidences.astype(np.int64) != 0  # TrackEval: zero_marked = int(column 7)
    if semantics == "mot16":
        gt_keep_all &= gt.classes == PEDESTRIAN_CLASS
        if preprocess:  # TrackEval refuses unknown classes when it preprocesses
            invalid = np.setdiff1d(np.unique(gt.classes), MOT_CLASSES)
            if invalid.size:
                raise ValueError(f"{gt.path}: gt classes {invalid.tolist()} are not MOTChallenge classes 1..13 "
                                 "(use MOT15 semantics or disable distractor removal)")
    return num_timesteps, preprocess, gt_keep_all


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
    num_timesteps, preprocess, gt_keep_all = sequence_rules(
        gt, pred, num_timesteps=num_timesteps, gt_semantics=gt_semantics,
        remove_distractor_matches=remove_distractor_matches)
    gt_frames, gt_all_ids, gt_boxes, gt_classes = gt.frames, gt.ids, gt.ltwh, gt.classes
    tr_frames, tr_all_ids, tr_boxes = pred.frames, pred.ids, pred.ltwh

    present = np.union1d(gt_frames, tr_frames).astype(np.int64)
    # rows sorted by frame (file order kept within a frame): frame t's rows are [start[t], start[t + 1])
    gt_order = np.argsort(gt_frames, kind="stable")
    tr_order = np.argsort(tr_frames, kind="stable")
    gt_start = np.searchsorted(gt_frames[gt_order], present, side="left")
    tr_start = np.searchsorted(tr_frames[tr_order], present, side="left")
    gt_start, tr_start = np.append(gt_start, len(gt_order)), np.append(tr_start, len(tr_order))

    tr_removed = np.zeros(len(tr_frames), bool)
    if preprocess:
        # only a frame with distractor gt and tracker boxes can lose tracker boxes
        distractor_frames = np.unique(gt_frames[np.isin(gt_classes, DISTRACTOR_CLASSES)])
        steps = np.searchsorted(present, distractor_frames)
        for t in steps[tr_start[steps + 1] > tr_start[steps]].tolist():
            g, r = gt_order[gt_start[t]:gt_start[t + 1]], tr_order[tr_start[t]:tr_start[t + 1]]
            scores = box_iou_ltwh(gt_boxes[g], tr_boxes[r])
            scores[scores < 0.5 - EPS] = 0
            rows, cols = linear_sum_assignment(-scores)
            matched = scores[rows, cols] > 0 + EPS
            rows, cols = rows[matched], cols[matched]
            tr_removed[r[cols[np.isin(gt_classes[g][rows], DISTRACTOR_CLASSES)]]] = True

    gt_sel = gt_order[gt_keep_all[gt_order]]  # scored rows, still frame-sorted
    tr_sel = tr_order[~tr_removed[tr_order]]
    num_steps = len(present)
    gt_counts = np.bincount(np.searchsorted(present, gt_frames[gt_sel]), minlength=num_steps)
    tr_counts = np.bincount(np.searchsorted(present, tr_frames[tr_sel]), minlength=num_steps)
    gt_offsets = np.concatenate([[0], np.cumsum(gt_counts)]).astype(np.int64)
    tr_offsets = np.concatenate([[0], np.cumsum(tr_counts)]).astype(np.int64)
    # ids relabelled to 0..K-1 over the sequence
    gt_unique, gt_flat = np.unique(gt_all_ids[gt_sel], return_inverse=True)
    tr_unique, tr_flat = np.unique(tr_all_ids[tr_sel], return_inverse=True)
    gt_flat, tr_flat = gt_flat.astype(np.int64).reshape(-1), tr_flat.astype(np.int64).reshape(-1)
    _refuse_duplicate_ids(gt.path or "gt", present, gt_counts, gt_flat, gt_unique)
    _refuse_duplicate_ids(pred.path or "results", present, tr_counts, tr_flat, tr_unique)
    gt_sel_boxes, tr_sel_boxes = gt_boxes[gt_sel], tr_boxes[tr_sel]

    similarities: list[np.ndarray] = [None] * num_steps  # type: ignore[list-item]
    blocks = []
    for steps, g, n in _group_by_shape(gt_counts, tr_counts):
        gi = gt_offsets[steps][:, None] + np.arange(g)
        ti = tr_offsets[steps][:, None] + np.arange(n)
        sim = box_iou_ltwh_batched(gt_sel_boxes[gi], tr_sel_boxes[ti])
        blocks.append(FrameBlock(steps.astype(np.int64), gt_flat[gi], tr_flat[ti], sim))
        for b, t in enumerate(steps.tolist()):
            similarities[t] = sim[b]
    gt_ids = [gt_flat[gt_offsets[t]:gt_offsets[t + 1]] for t in range(num_steps)]
    tracker_ids = [tr_flat[tr_offsets[t]:tr_offsets[t + 1]] for t in range(num_steps)]
    return SequenceData(
        num_timesteps=num_timesteps,
        frames=present,
        gt_ids=gt_ids,
        tracker_ids=tracker_ids,
        similarity_scores=similarities,
        num_gt_ids=len(gt_unique),
        num_tracker_ids=len(tr_unique),
        num_gt_dets=len(gt_flat),
        num_tracker_dets=len(tr_flat),
        frame_blocks=blocks,
    )
