"""The viewer's side of the engine's comparison (engine.compare): one call for the whole run, made in a
background job, and one for the boxes of the frame on screen. Everything computed here is the
engine's; this module only gathers it into what the views draw (per-frame arrays and frame lists).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stviewer.compare.style import AGREE, ONLY_A, ONLY_B

IOU_THRESHOLD = 0.5


@dataclass(frozen=True)
class FrameDiff:
    """The boxes of one frame and their status (AGREE / ONLY_A / ONLY_B), in the runs' row order."""

    frame: int
    tracks_a: np.ndarray  # (Na, 6) [x1, y1, x2, y2, score, id]
    tracks_b: np.ndarray  # (Nb, 6)
    status_a: np.ndarray  # (Na,) int8
    status_b: np.ndarray  # (Nb,) int8


def frame_diff(k: int, tracks_a: np.ndarray | None, tracks_b: np.ndarray | None) -> FrameDiff:
    """Match frame k's boxes of A and B one-to-one at IoU >= 0.5 (Hungarian) and give each its status."""
    from engine.tracking.matching import assign, iou_matrix

    ta = np.zeros((0, 6), np.float32) if tracks_a is None else np.asarray(tracks_a, np.float32)
    tb = np.zeros((0, 6), np.float32) if tracks_b is None else np.asarray(tracks_b, np.float32)
    iou = iou_matrix(ta[:, :4].astype(np.float64), tb[:, :4].astype(np.float64))
    rows, cols = assign(1.0 - iou, 1.0 - IOU_THRESHOLD)[:2]
    status_a = np.full(len(ta), ONLY_A, np.int8)
    status_b = np.full(len(tb), ONLY_B, np.int8)
    status_a[rows] = AGREE
    status_b[cols] = AGREE
    return FrameDiff(int(k), ta, tb, status_a, status_b)


@dataclass
class Comparison:
    """The whole-run comparison of A and B (and of each against a label set when one is chosen).

    Per frame (F,): only_a / only_b / agree counts of boxes, action_disagree (the runs' top actions
    differ), idf1_share (this frame's share of IDF1(A) - IDF1(B), NaN without labels).
    switches_a / switches_b: frames of each run's ID switches against the labels.
    table: one dict per compared item with the keys of ``stv eval`` (MOTA, IDF1, HOTA, FP, FN, IDSW, ...).
    """

    names: tuple[str, str]
    labels_name: str | None
    num_frames: int
    agree: np.ndarray
    only_a: np.ndarray
    only_b: np.ndarray
    action_disagree: np.ndarray
    idf1_share: np.ndarray
    switches_a: np.ndarray
    switches_b: np.ndarray
    table: list[dict] = field(default_factory=list)
    disagreement_frames: np.ndarray = field(init=False)

    KINDS = ("unmatched", "switch", "action")

    def __post_init__(self) -> None:
        self.disagreement_frames = np.union1d(self.frames_of("unmatched"),
                                              np.union1d(self.frames_of("switch"), self.frames_of("action")))

    def frames_of(self, kind: str) -> np.ndarray:
        """Sorted frames of one kind of disagreement: "unmatched" boxes, an ID "switch" of either run
        against the labels, or top-"action" disagreement."""
        if kind == "unmatched":
            return np.flatnonzero((self.only_a > 0) | (self.only_b > 0)).astype(np.int64)
        if kind == "switch":
            return np.union1d(self.switches_a, self.switches_b).astype(np.int64)
        if kind == "action":
            return np.flatnonzero(self.action_disagree).astype(np.int64)
        raise ValueError(f"disagreement kind must be one of {self.KINDS}, got {kind!r}")

    def neighbour_disagreement(self, k: int, direction: int) -> int | None:
        """The first disagreement frame after k (direction > 0) or before k (direction < 0), or None."""
        frames = self.disagreement_frames
        if direction > 0:
            i = np.searchsorted(frames, k, "right")
            return int(frames[i]) if i < len(frames) else None
        i = np.searchsorted(frames, k, "left") - 1
        return int(frames[i]) if i >= 0 else None


def compare_runs(*, rows_a: np.ndarray, rows_b: np.ndarray, probs_a: np.ndarray, probs_b: np.ndarray,
                 label_rows: np.ndarray | None, num_frames: int, names: tuple[str, str],
                 labels_name: str | None) -> Comparison:
    """The engine's comparison of two runs' track rows ((N, 7) [frame, id, x1, y1, x2, y2, score]) and
    clip-level action probabilities ((F, K), NaN where a frame has none; K = 0 for a label set)."""
    from engine.compare import TrackTable, identity_events

    F = int(num_frames)
    rows_a, rows_b = np.asarray(rows_a, np.float64), np.asarray(rows_b, np.float64)
    bounds_a = np.searchsorted(rows_a[:, 0], np.arange(F + 1))
    bounds_b = np.searchsorted(rows_b[:, 0], np.arange(F + 1))
    agree, only_a, only_b = (np.zeros(F, np.int32) for _ in range(3))
    for k in range(F):
        ra, rb = rows_a[bounds_a[k]:bounds_a[k + 1]], rows_b[bounds_b[k]:bounds_b[k + 1]]
        d = frame_diff(k, ra[:, [2, 3, 4, 5, 6, 1]], rb[:, [2, 3, 4, 5, 6, 1]])
        agree[k] = int((d.status_a == AGREE).sum())
        only_a[k] = int((d.status_a == ONLY_A).sum())
        only_b[k] = int((d.status_b == ONLY_B).sum())
    action_disagree = np.zeros(F, bool)
    if probs_a.shape[1] and probs_b.shape[1]:
        both = np.isfinite(probs_a).all(axis=1) & np.isfinite(probs_b).all(axis=1)
        top_a = np.argmax(np.nan_to_num(probs_a, nan=-1.0), axis=1)
        top_b = np.argmax(np.nan_to_num(probs_b, nan=-1.0), axis=1)
        action_disagree = both & (top_a != top_b)
    switches_a = switches_b = np.zeros(0, np.int64)
    idf1_share = np.full(F, np.nan)
    if label_rows is not None:
        labels = TrackTable.from_rows(label_rows)
        switches_a = identity_events(TrackTable.from_rows(rows_a), labels, num_frames=F).frame
        switches_b = identity_events(TrackTable.from_rows(rows_b), labels, num_frames=F).frame
    return Comparison(names=tuple(names), labels_name=labels_name, num_frames=F, agree=agree, only_a=only_a,
                      only_b=only_b, action_disagree=action_disagree, idf1_share=idf1_share,
                      switches_a=np.asarray(switches_a, np.int64), switches_b=np.asarray(switches_b, np.int64))
