"""What a comparison compares: a run of the cache (any checkpoint's, or an imported tracker result,
which the cache keeps as a run too), a label set, or a checkpoint whose run may not exist yet.

``SourceSpec.parse`` reads the command line's ``--compare`` value; ``RowsRunData`` shows a label set
(rows only: no action probabilities, no attention) through the same interface as a model's run, so
the panes, trails and timeline lanes draw it unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.results import FrameResult
from stviewer.run_data import RunData

KINDS = ("run", "labels", "model")
ROW_WIDTH = 7  # frame, id, x1, y1, x2, y2, score (the cache's track-row and label-set layout)


@dataclass(frozen=True)
class SourceSpec:
    """kind "run": ``name`` is a run of the open cache; "labels": a label set of the open cache;
    "model": ``name`` is a checkpoint path or "demo", whose run is computed when the cache lacks it."""

    kind: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"source kind must be one of {KINDS}, got {self.kind!r}")
        if not self.name:
            raise ValueError(f"a {self.kind} source needs a name")

    @classmethod
    def parse(cls, text: str) -> "SourceSpec":
        """``run:NAME``, ``labels:NAME``, ``demo`` or a checkpoint path (``model:PATH`` also works)."""
        text = str(text).strip()
        for kind in KINDS:
            if text.startswith(kind + ":"):
                return cls(kind, text[len(kind) + 1:])
        if text != "demo" and not Path(text).is_file():
            raise ValueError(f"--compare {text!r}: not a checkpoint file; use a checkpoint path, 'demo', "
                             f"run:NAME or labels:NAME")
        return cls("model", text)

    @property
    def is_labels(self) -> bool:
        return self.kind == "labels"

    def describe(self) -> str:
        if self.kind == "model":
            return "demo model" if self.name == "demo" else Path(self.name).name
        return f"labels {self.name}" if self.kind == "labels" else self.name


def label_set_rows(labels) -> np.ndarray:
    """(N, 7) [frame, id, x1, y1, x2, y2, score = 1] of an engine.labels LabelSet: its boxes where a track
    is inside (keyframes, interpolated and model boxes), what its MOT export writes."""
    from engine.labels.model import COL_FRAME, COL_ID, COL_X1, COL_Y2

    table = labels.to_rows()
    rows = np.ones((len(table), ROW_WIDTH), np.float64)
    rows[:, 0] = table[:, COL_FRAME]
    rows[:, 1] = table[:, COL_ID]
    rows[:, 2:6] = table[:, COL_X1:COL_Y2 + 1]
    return rows


def results_records(run: RunData):
    """The 10-column MOT results records of a source, exactly as ``stv export`` writes them (so the table
    equals ``stv eval`` on the exported files): a run through its cache reader, a label set as results."""
    from engine.io.export import label_set_results_records, run_results_records

    if isinstance(run, RowsRunData):
        return label_set_results_records(run.label_set)
    if run.reader is None:
        raise ValueError(f"run {run.name!r} is not in the cache yet")
    return run_results_records(run.reader)


def compared_rows(run: RunData) -> np.ndarray:
    """(N, 7) rows the engine compares: a run's tracks; of a label set, the boxes evaluation scores
    (inside, considered, class 1: ``TrackTable.from_label_set``), as ``stv compare`` does."""
    if isinstance(run, RowsRunData) and run.label_set is not None:
        from engine.compare import TrackTable

        return TrackTable.from_label_set(run.label_set).rows()
    return run.track_rows().copy()


def check_rows(rows: np.ndarray, *, num_frames: int, what: str) -> np.ndarray:
    """(N, 7) float64 [frame, id, x1, y1, x2, y2, score] sorted by frame; ValueError naming ``what``."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != ROW_WIDTH:
        raise ValueError(f"{what}: rows must be (N, {ROW_WIDTH}) [frame, id, x1, y1, x2, y2, score], "
                         f"got {rows.shape}")
    if len(rows):
        if not np.isfinite(rows).all():
            raise ValueError(f"{what}: rows must be finite")
        if rows[:, 0].min() < 0 or rows[:, 0].max() >= num_frames:
            raise ValueError(f"{what}: frames must be in [0, {num_frames})")
    return np.ascontiguousarray(rows[np.argsort(rows[:, 0], kind="stable")])


class RowsRunData(RunData):
    """A label set (or any track rows) as a run: every frame "has a result" (a frame without boxes
    is a labelled empty frame), with its boxes as tracks and no actions, β or α."""

    def __init__(self, *, name: str, num_frames: int, rows: np.ndarray, label_set=None):
        super().__init__(name=name, num_frames=num_frames, class_names=[])
        self.label_set = label_set  # the engine.labels LabelSet the rows came from (None: plain rows)
        self.set_rows(rows)

    @classmethod
    def from_label_set(cls, labels) -> "RowsRunData":
        return cls(name=labels.name, num_frames=labels.num_frames, rows=label_set_rows(labels), label_set=labels)

    def set_rows(self, rows: np.ndarray) -> None:
        """Replace the rows (after an edit of the label set)."""
        self._rows = check_rows(rows, num_frames=self.num_frames, what=f"label set {self.name!r}")
        self._starts = np.searchsorted(self._rows[:, 0], np.arange(self.num_frames + 1), "left")
        self.has_result = np.ones(self.num_frames, bool)
        self._changed()

    def frame(self, k: int) -> FrameResult | None:
        k = int(k)
        if not 0 <= k < self.num_frames:
            return None
        rows = self._rows[self._starts[k]:self._starts[k + 1]]
        tracks = rows[:, [2, 3, 4, 5, 6, 1]].astype(np.float32)
        return FrameResult(frame_index=k, tracks=tracks, action_probs=np.zeros(0, np.float32))

    def detach_reader(self) -> None:  # nothing read from a file: the rows are in memory
        return None
