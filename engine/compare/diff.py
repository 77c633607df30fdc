"""What differs between two runs (or a run and a label set), frame by frame, for the comparison views.

* boxes: per frame, matched one-to-one at IoU >= 0.5 (:mod:`engine.compare.matching`) and given a status
  AGREE / ONLY_A / ONLY_B;
* ID switches of each side against a label set (:mod:`engine.compare.switches`, CLEAR's IDSW events);
* frames where the two runs' top clip-level actions differ;
* each frame's share of the IDF1 difference (see :func:`idf1_shares`);
* next / previous disagreement over the sorted event frames.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.compare.matching import IOU_THRESHOLD, match_tables
from engine.compare.switches import identity_events, sequence_pair
from engine.compare.tracks import TrackTable
from engine.metrics.identity import identity_assignment, identity_metrics

AGREE, ONLY_A, ONLY_B = 0, 1, 2
STATUS_NAMES = {AGREE: "agree", ONLY_A: "only in A", ONLY_B: "only in B"}
DISAGREEMENT_KINDS = ("unmatched", "switch", "action")


@dataclass(frozen=True)
class BoxDiff:
    """Box statuses of two tables and per-frame counts.

    status_a (Na,) int8 AGREE or ONLY_A per row of A (its sorted rows); status_b (Nb,) AGREE or ONLY_B;
    partner_a (Na,) / partner_b (Nb,) int64 matched row of the other table (-1 none);
    agree, only_a, only_b (F,) int32 counts per frame.
    """

    status_a: np.ndarray
    status_b: np.ndarray
    partner_a: np.ndarray
    partner_b: np.ndarray
    agree: np.ndarray
    only_a: np.ndarray
    only_b: np.ndarray


def box_diff(a: TrackTable, b: TrackTable, *, num_frames: int, threshold: float = IOU_THRESHOLD) -> BoxDiff:
    """Each box of A and B as agree / only-in-A / only-in-B, and the per-frame counts."""
    m = match_tables(a, b, num_frames=num_frames, threshold=threshold)
    status_a = np.where(m.partner_a >= 0, AGREE, ONLY_A).astype(np.int8)
    status_b = np.where(m.partner_b >= 0, AGREE, ONLY_B).astype(np.int8)
    agree = np.bincount(a.frames[m.partner_a >= 0], minlength=num_frames).astype(np.int32)
    only_a = np.bincount(a.frames[m.partner_a < 0], minlength=num_frames).astype(np.int32)
    only_b = np.bincount(b.frames[m.partner_b < 0], minlength=num_frames).astype(np.int32)
    return BoxDiff(status_a, status_b, m.partner_a, m.partner_b, agree, only_a, only_b)


def top_action_disagreement(probs_a: np.ndarray, probs_b: np.ndarray) -> np.ndarray:
    """(F,) bool: frames where both runs have clip-level action probabilities and their argmax differs.

    probs_a, probs_b: (F, K) float, NaN rows for frames without a result; K may be 0 (a label set, an
    imported result): then no frame disagrees. The two runs must share their class list (same K)."""
    pa, pb = np.asarray(probs_a, np.float64), np.asarray(probs_b, np.float64)
    if pa.ndim != 2 or pb.ndim != 2 or pa.shape[0] != pb.shape[0]:
        raise ValueError(f"action probabilities must be (F, K) with the same F, got {pa.shape} and {pb.shape}")
    if pa.shape[1] == 0 or pb.shape[1] == 0:
        return np.zeros(pa.shape[0], bool)
    if pa.shape[1] != pb.shape[1]:
        raise ValueError(f"the runs have different class lists ({pa.shape[1]} vs {pb.shape[1]} classes)")
    both = np.isfinite(pa).all(axis=1) & np.isfinite(pb).all(axis=1)
    top_a = np.argmax(np.nan_to_num(pa, nan=-np.inf), axis=1)
    top_b = np.argmax(np.nan_to_num(pb, nan=-np.inf), axis=1)
    return both & (top_a != top_b)


def idtp_per_frame(run: TrackTable, labels: TrackTable, *, num_frames: int,
                   threshold: float = IOU_THRESHOLD) -> tuple[np.ndarray, dict]:
    """(F,) int64 IDTP contributed by each frame under IDF1's global identity assignment (sums to IDTP),
    and the run's identity metrics (IDTP, IDFP, IDFN, IDF1, ...) as ``stv eval`` computes them."""
    pair = sequence_pair(labels, run, num_frames=num_frames)
    data = pair.data
    metrics = identity_metrics(data, threshold=threshold)
    assigned = identity_assignment(data, threshold=threshold)
    per_frame = np.zeros(num_frames, np.int64)
    for t, (g, r, sim) in enumerate(zip(data.gt_ids, data.tracker_ids, data.similarity_scores)):
        if len(g) and len(r):
            per_frame[t] = int(np.count_nonzero((sim >= threshold) & (assigned[g][:, None] == r[None, :])))
    return per_frame, metrics


def idf1_shares(a: TrackTable, b: TrackTable, labels: TrackTable, *, num_frames: int,
                threshold: float = IOU_THRESHOLD) -> np.ndarray:
    """(F,) float64: each frame's share of IDF1(A) - IDF1(B) against ``labels``.

    IDF1 = 2 IDTP / (G + P), with G the label boxes and P the run's boxes, and IDTP = sum over frames of
    IDTP(t): the label boxes of frame t overlapped (IoU >= 0.5) by the run box whose id IDF1's global
    optimal assignment gives that label's id. So

        share(t) = 2 IDTP_A(t) / (G + P_A) - 2 IDTP_B(t) / (G + P_B)

    sums exactly to IDF1_A - IDF1_B. A negative share marks a frame where A loses to B (B keeps the
    identity there under its assignment, A does not).
    """
    tp_a, _ = idtp_per_frame(a, labels, num_frames=num_frames, threshold=threshold)
    tp_b, _ = idtp_per_frame(b, labels, num_frames=num_frames, threshold=threshold)
    g = len(labels)
    denom_a, denom_b = max(1.0, g + len(a)), max(1.0, g + len(b))
    return 2.0 * tp_a / denom_a - 2.0 * tp_b / denom_b


def next_event(frames: np.ndarray, k: int) -> int | None:
    """The first frame of sorted ``frames`` after k, or None."""
    frames = np.asarray(frames)
    i = int(np.searchsorted(frames, k, "right"))
    return int(frames[i]) if i < len(frames) else None


def previous_event(frames: np.ndarray, k: int) -> int | None:
    """The last frame of sorted ``frames`` before k, or None."""
    frames = np.asarray(frames)
    i = int(np.searchsorted(frames, k, "left")) - 1
    return int(frames[i]) if i >= 0 else None


@dataclass
class Comparison:
    """The whole comparison of A and B (and of each against a label set when one is given).

    Per frame (F,): agree / only_a / only_b box counts, action_disagree (the runs' top actions differ),
    idf1_share (this frame's share of IDF1(A) - IDF1(B), NaN without labels).
    switches_a / switches_b (E, 4) int64 [frame, label_id, previous_id, new_id]: each run's ID switches
    against the labels (empty without labels). boxes: the per-box statuses.
    """

    names: tuple[str, str]
    labels_name: str | None
    num_frames: int
    boxes: BoxDiff
    action_disagree: np.ndarray
    idf1_share: np.ndarray
    switches_a: np.ndarray
    switches_b: np.ndarray
    disagreement_frames: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        frames = [self.frames_of(kind) for kind in DISAGREEMENT_KINDS]
        self.disagreement_frames = np.unique(np.concatenate(frames)).astype(np.int64)

    @property
    def agree(self) -> np.ndarray:
        return self.boxes.agree

    @property
    def only_a(self) -> np.ndarray:
        return self.boxes.only_a

    @property
    def only_b(self) -> np.ndarray:
        return self.boxes.only_b

    def frames_of(self, kind: str) -> np.ndarray:
        """Sorted frames of one kind of disagreement: "unmatched" boxes, an ID "switch" of either run
        against the labels, or top-"action" disagreement."""
        if kind == "unmatched":
            return np.flatnonzero((self.boxes.only_a > 0) | (self.boxes.only_b > 0)).astype(np.int64)
        if kind == "switch":
            return np.union1d(self.switches_a[:, 0], self.switches_b[:, 0]).astype(np.int64)
        if kind == "action":
            return np.flatnonzero(self.action_disagree).astype(np.int64)
        raise ValueError(f"disagreement kind must be one of {DISAGREEMENT_KINDS}, got {kind!r}")

    def next_disagreement(self, k: int, kind: str | None = None) -> int | None:
        """The first disagreement frame after k (of ``kind``, or of any kind), or None."""
        return next_event(self.disagreement_frames if kind is None else self.frames_of(kind), k)

    def previous_disagreement(self, k: int, kind: str | None = None) -> int | None:
        """The last disagreement frame before k (of ``kind``, or of any kind), or None."""
        return previous_event(self.disagreement_frames if kind is None else self.frames_of(kind), k)


def compare(a: TrackTable, b: TrackTable, *, num_frames: int, labels: TrackTable | None = None,
            probs_a: np.ndarray | None = None, probs_b: np.ndarray | None = None,
            names: tuple[str, str] = ("A", "B"), labels_name: str | None = None,
            threshold: float = IOU_THRESHOLD) -> Comparison:
    """Compare A and B (runs or label sets as TrackTables) over frames [0, num_frames).

    probs_a/probs_b: (F, K) clip-level action probabilities (None or K = 0 for a label set or an import).
    """
    F = int(num_frames)
    if F < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    boxes = box_diff(a, b, num_frames=F, threshold=threshold)
    pa = np.zeros((F, 0)) if probs_a is None else np.asarray(probs_a)
    pb = np.zeros((F, 0)) if probs_b is None else np.asarray(probs_b)
    for name, p in (("probs_a", pa), ("probs_b", pb)):
        if p.ndim != 2 or p.shape[0] != F:
            raise ValueError(f"{name} must be ({F}, K), got {p.shape}")
    action = top_action_disagreement(pa, pb)
    empty = np.zeros((0, 4), np.int64)
    switches_a = switches_b = empty
    share = np.full(F, np.nan)
    if labels is not None:
        switches_a = identity_events(a, labels, num_frames=F, threshold=threshold).switch_rows()
        switches_b = identity_events(b, labels, num_frames=F, threshold=threshold).switch_rows()
        share = idf1_shares(a, b, labels, num_frames=F, threshold=threshold)
    return Comparison(names=(str(names[0]), str(names[1])), labels_name=labels_name, num_frames=F, boxes=boxes,
                      action_disagree=action, idf1_share=share, switches_a=switches_a, switches_b=switches_b)
