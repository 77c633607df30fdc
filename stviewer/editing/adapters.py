"""The few conversions the editing UI needs between engine pieces (no Qt, no arithmetic of its own): a run
given as rows where the engine expects a RunReader, a label set as engine.compare's TrackTable."""
from __future__ import annotations

import numpy as np


class RowsRun:
    """A run given as its (N, 7) rows [frame, id, x1, y1, x2, y2, score]: what engine.io.export reads of a
    RunReader (the viewer's run may be live, not yet in the cache)."""

    def __init__(self, rows: np.ndarray):
        self._rows = np.asarray(rows, np.float64)

    def track_rows(self) -> np.ndarray:
        return self._rows


def label_table(labels):
    """The label set's boxes that MOTChallenge scores (consider flag set, pedestrian class) as a TrackTable,
    for engine.compare's ID-switch events."""
    from engine.compare import TrackTable
    from engine.labels.model import COL_CLASS, COL_CONSIDER, COL_FRAME, COL_ID, COL_X1, COL_Y2

    rows = labels.to_rows()
    keep = (rows[:, COL_CONSIDER] != 0) & (rows[:, COL_CLASS] == 1)
    rows = rows[keep]
    return TrackTable(frames=rows[:, COL_FRAME], ids=rows[:, COL_ID], boxes=rows[:, COL_X1:COL_Y2 + 1],
                      scores=np.ones(len(rows)))


def evaluate_run_on_labels(run_rows: np.ndarray, labels) -> dict:
    """MOTA, IDF1, HOTA, FP, FN, IDSW ... of a run given as its (N, 7) rows against ``labels`` (an engine.labels
    LabelSet, unsaved edits included): engine.metrics.run_eval, the numbers ``stv eval`` gives on the exports."""
    from engine.metrics.run_eval import evaluate_run_against_labels

    return evaluate_run_against_labels(RowsRun(run_rows), labels).summary()
