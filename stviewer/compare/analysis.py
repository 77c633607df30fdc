"""The viewer's side of the engine's comparison (engine.compare): one call for the whole run, made in a
background job, and one for the boxes of the frame on screen. Everything here is computed by the engine;
this module only hands it the arrays the viewer holds. engine.compare is imported when first used
(it loads scipy), so the window opens as fast as before.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLUMNS_TO_TRACKS = [2, 3, 4, 5, 6, 1]  # (N, 7) [frame, id, x1, y1, x2, y2, score] -> FrameResult.tracks order


@dataclass(frozen=True)
class FrameDiff:
    """The boxes of one frame and their engine status (engine.compare.diff AGREE / ONLY_A / ONLY_B), in
    the runs' row order."""

    frame: int
    tracks_a: np.ndarray  # (Na, 6) [x1, y1, x2, y2, score, id]
    tracks_b: np.ndarray  # (Nb, 6)
    status_a: np.ndarray  # (Na,) int8
    status_b: np.ndarray  # (Nb,) int8


def status_name(status: int) -> str:
    """"agree", "only in A" or "only in B" for an engine status code."""
    from engine.compare.diff import STATUS_NAMES

    return STATUS_NAMES[int(status)]


def frame_diff(k: int, tracks_a: np.ndarray | None, tracks_b: np.ndarray | None) -> FrameDiff:
    """Frame k's boxes of A and B matched one-to-one at the engine's IoU >= 0.5 (Hungarian), each with
    its status."""
    from engine.compare.diff import AGREE, ONLY_A, ONLY_B
    from engine.compare.matching import match_boxes

    ta = np.zeros((0, 6), np.float32) if tracks_a is None else np.asarray(tracks_a, np.float32)
    tb = np.zeros((0, 6), np.float32) if tracks_b is None else np.asarray(tracks_b, np.float32)
    rows, cols, _iou = match_boxes(ta[:, :4], tb[:, :4])
    status_a = np.full(len(ta), ONLY_A, np.int8)
    status_b = np.full(len(tb), ONLY_B, np.int8)
    status_a[rows] = AGREE
    status_b[cols] = AGREE
    return FrameDiff(int(k), ta, tb, status_a, status_b)


@dataclass(frozen=True)
class ComparisonResult:
    """What the comparison job returns: the engine's Comparison, and why the action lane is empty when it is."""

    comparison: object  # engine.compare.diff.Comparison
    note: str = ""


def compare_runs(*, rows_a: np.ndarray, rows_b: np.ndarray, probs_a: np.ndarray | None,
                 probs_b: np.ndarray | None, label_rows: np.ndarray | None, num_frames: int,
                 names: tuple[str, str], labels_name: str | None, **_table_inputs) -> ComparisonResult:
    """The engine's comparison of two sources' track rows ((N, 7) [frame, id, x1, y1, x2, y2, score]) and
    clip-level action probabilities ((F, K), NaN rows where a frame has none; None for a label set)."""
    from engine.compare import TrackTable
    from engine.compare.diff import compare

    probs_a, probs_b, note = comparable_probs(probs_a, probs_b)
    labels = None if label_rows is None else TrackTable.from_rows(label_rows)
    comparison = compare(TrackTable.from_rows(rows_a), TrackTable.from_rows(rows_b), num_frames=int(num_frames),
                         labels=labels, probs_a=probs_a, probs_b=probs_b, names=tuple(names),
                         labels_name=labels_name)
    return ComparisonResult(comparison=comparison, note=note)


def comparable_probs(probs_a, probs_b):
    """(probs_a, probs_b, note): both None, with the reason, when the runs' action classes differ."""
    if probs_a is not None and probs_b is not None and probs_a.shape[1] and probs_b.shape[1] \
            and probs_a.shape[1] != probs_b.shape[1]:
        return None, None, "the runs have different action classes: no action comparison"
    return probs_a, probs_b, ""


def comparison_table(*, rows_a: np.ndarray, rows_b: np.ndarray, probs_a: np.ndarray | None,
                     probs_b: np.ndarray | None, num_frames: int, names: tuple[str, str],
                     records: dict | None = None, **_comparison_inputs) -> list[dict]:
    """The metrics table (a second job: full CLEAR/Identity/HOTA takes longer than the diff on long runs).
    With labels, ``records`` holds the exported files' MOT records ({"gt": gt records, "items": [(name,
    results records), ...]}) and each item is scored as ``stv eval`` scores those files; without, the runs'
    agreement (A scored with B as the reference), as ``stv compare`` does."""
    from engine.compare import TrackTable
    from engine.compare.table import agreement_table, labelled_table

    if records is not None:
        return labelled_table(records["items"], records["gt"], num_frames=int(num_frames))
    probs_a, probs_b, _note = comparable_probs(probs_a, probs_b)
    return agreement_table((names[0], TrackTable.from_rows(rows_a)), (names[1], TrackTable.from_rows(rows_b)),
                           num_frames=int(num_frames), probs_a=probs_a, probs_b=probs_b)
