"""The comparison table: each compared item against a chosen label set, or the two items' agreement.

Against labels the numbers are ``stv eval``'s on the exported files, to the last bit: both sides become MOT
rows through the export's own conversions (``engine.io.export``: a label set as 9-column gt, a run or a label
set as 10-column results) and are scored by :func:`engine.metrics.run_eval.evaluate_run_against_labels`
semantics (MOT16 rules, seqLength = the video's frame count). The caller hands MOT records (plain arrays);
``engine.cli.compare`` makes them from a cache's runs and label sets.

Without labels there is no truth, so the table holds the runs' agreement: A scored with B as the reference
(IDF1 is symmetric in the two; MOTA/FP/FN read "A against B"), the share of boxes both have (matched at
IoU >= 0.5), and the share of frames whose top action agrees.
"""
from __future__ import annotations

import numpy as np

from engine.compare.diff import box_diff, top_action_disagreement
from engine.compare.tracks import TrackTable
from engine.io.mot import MOTRecords
from engine.metrics.evaluate import evaluate_sequence

#: the columns every table row has (as ``stv eval --json`` names them)
TABLE_KEYS = ("MOTA", "IDF1", "HOTA", "FP", "FN", "IDSW")


def evaluate_item(pred: MOTRecords, gt: MOTRecords, *, num_frames: int) -> dict:
    """``stv eval``'s summary of results ``pred`` against ground truth ``gt`` over ``num_frames`` frames
    (the exported seqinfo's seqLength): every key ``stv eval --json`` prints."""
    if pred.kind != "results":
        raise ValueError(f"the compared item must be results records, got {pred.kind}")
    return evaluate_sequence(gt, pred, num_timesteps=int(num_frames)).summary()


def top1_accuracy(probs: np.ndarray, action_labels: np.ndarray) -> float | None:
    """Share of frames with an action label (>= 0) whose top clip-level action equals it; None when no
    frame has both a label and a prediction."""
    probs = np.asarray(probs, np.float64)
    labels = np.asarray(action_labels)
    if probs.ndim != 2 or labels.shape != (probs.shape[0],):
        raise ValueError(f"need probs (F, K) and action_labels (F,), got {probs.shape} and {labels.shape}")
    if probs.shape[1] == 0:
        return None
    usable = (labels >= 0) & np.isfinite(probs).all(axis=1)
    if not usable.any():
        return None
    return float(np.mean(np.argmax(probs[usable], axis=1) == labels[usable]))


def labelled_table(items: list[tuple[str, MOTRecords]], gt: MOTRecords, *, num_frames: int,
                   probs: list[np.ndarray | None] | None = None, action_labels: np.ndarray | None = None) -> list[dict]:
    """One row per item: {"name", every ``stv eval`` key, "top1"} (top1 None without action labels)."""
    rows = []
    for i, (name, pred) in enumerate(items):
        row = {"name": name, **evaluate_item(pred, gt, num_frames=num_frames)}
        p = probs[i] if probs is not None else None
        row["top1"] = None if (p is None or action_labels is None) else top1_accuracy(p, action_labels)
        rows.append(row)
    return rows


def agreement_table(a: tuple[str, TrackTable], b: tuple[str, TrackTable], *, num_frames: int,
                    probs_a: np.ndarray | None = None, probs_b: np.ndarray | None = None) -> list[dict]:
    """One row: A scored against B (every ``stv eval`` key) plus box_agreement (boxes matched / all boxes
    of both) and action_agreement (share of frames, where both have actions, whose top action agrees;
    None when either has none)."""
    (name_a, table_a), (name_b, table_b) = a, b
    row = {"name": f"{name_a} vs {name_b}", "reference": name_b,
           **evaluate_item(table_a.as_mot_results(), table_b.as_mot_gt(), num_frames=num_frames)}
    boxes = box_diff(table_a, table_b, num_frames=num_frames)
    matched = int(boxes.agree.sum())
    total = matched + int(boxes.only_a.sum()) + int(boxes.only_b.sum())
    row["box_agreement"] = matched / total if total else 1.0
    row["action_agreement"] = None
    if probs_a is not None and probs_b is not None and probs_a.shape[1] and probs_b.shape[1]:
        both = np.isfinite(probs_a).all(axis=1) & np.isfinite(probs_b).all(axis=1)
        if both.any():
            row["action_agreement"] = float(1.0 - top_action_disagreement(probs_a, probs_b)[both].mean())
    return [row]
