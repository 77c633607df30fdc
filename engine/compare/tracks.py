"""TrackTable: the plain-array box set every comparison works on (a run, an imported result, a label set).

The cache stores a run's boxes and a label set's boxes as the same (N, 7) row layout
``[frame, track_id, x1, y1, x2, y2, score]`` (``RunReader.track_rows()``, ``ResultsCache.load_label_set``);
:meth:`TrackTable.from_rows` takes exactly that, so engine.compare never depends on where rows came from.
Frames are 0-based indices; boxes 0-based [x1, y1, x2, y2] pixels, x2/y2 exclusive (the engine's convention).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.io.mot import MOTRecords, results_to_records

ROW_WIDTH = 7  # frame, track_id, x1, y1, x2, y2, score


@dataclass(frozen=True)
class TrackTable:
    """Boxes with identities, sorted by (frame, id); at most one box per (frame, id).

    frames (N,) int64 0-based · ids (N,) int64 · boxes (N, 4) float64 xyxy · scores (N,) float64.
    """

    frames: np.ndarray
    ids: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        frames = np.asarray(self.frames)
        n = frames.shape[0] if frames.ndim == 1 else -1
        if n < 0:
            raise ValueError(f"frames must be (N,), got shape {frames.shape}")
        for name, shape in (("ids", (n,)), ("boxes", (n, 4)), ("scores", (n,))):
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(f"{name} must have shape {shape}, got {np.shape(getattr(self, name))}")
        frames_f = np.asarray(frames, dtype=np.float64)
        ids_f = np.asarray(self.ids, dtype=np.float64)
        boxes = np.asarray(self.boxes, dtype=np.float64)
        scores = np.asarray(self.scores, dtype=np.float64)
        if not (np.isfinite(frames_f).all() and np.isfinite(ids_f).all() and np.isfinite(boxes).all()):
            raise ValueError("frames, ids and boxes must be finite")
        if n and (frames_f.min() < 0 or np.any(frames_f != np.round(frames_f))):
            raise ValueError("frames must be integers >= 0")
        if n and np.any(ids_f != np.round(ids_f)):
            raise ValueError("ids must be integers")
        if n and np.any(boxes[:, 2:] < boxes[:, :2]):
            raise ValueError("boxes need x2 >= x1 and y2 >= y1")
        frames_i, ids_i = frames_f.astype(np.int64), ids_f.astype(np.int64)
        order = np.lexsort((ids_i, frames_i))
        frames_i, ids_i = frames_i[order], ids_i[order]
        if n > 1:
            dup = np.flatnonzero((frames_i[1:] == frames_i[:-1]) & (ids_i[1:] == ids_i[:-1]))
            if dup.size:
                raise ValueError(f"two boxes with id {ids_i[dup[0]]} in frame {frames_i[dup[0]]}")
        object.__setattr__(self, "frames", frames_i)
        object.__setattr__(self, "ids", ids_i)
        object.__setattr__(self, "boxes", boxes[order])
        object.__setattr__(self, "scores", np.nan_to_num(scores[order], nan=1.0))

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> "TrackTable":
        """(N, 7) ``[frame, track_id, x1, y1, x2, y2, score]`` (a run's ``track_rows()`` or a label set)."""
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != ROW_WIDTH:
            raise ValueError(f"rows must be (N, {ROW_WIDTH}) [frame, id, x1, y1, x2, y2, score], got {rows.shape}")
        return cls(frames=rows[:, 0], ids=rows[:, 1], boxes=rows[:, 2:6], scores=rows[:, 6])

    @classmethod
    def from_label_set(cls, label_set) -> "TrackTable":
        """The boxes of an ``engine.labels.LabelSet`` that evaluation scores as ground truth: rows inside
        the track, considered (MOT "consider" flag) and of class 1 (pedestrian), as ``stv eval`` scores
        an exported label set."""
        from engine.labels.model import COL_CLASS, COL_CONSIDER, COL_FRAME, COL_ID, COL_X1, COL_Y2

        rows = label_set.to_rows()
        keep = (rows[:, COL_CONSIDER] != 0) & (rows[:, COL_CLASS] == 1)
        rows = rows[keep]
        return cls(frames=rows[:, COL_FRAME], ids=rows[:, COL_ID], boxes=rows[:, COL_X1:COL_Y2 + 1],
                   scores=np.ones(len(rows)))

    @classmethod
    def empty(cls) -> "TrackTable":
        return cls(frames=np.zeros(0, np.int64), ids=np.zeros(0, np.int64), boxes=np.zeros((0, 4)),
                   scores=np.zeros(0))

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def rows(self) -> np.ndarray:
        """(N, 7) float64 ``[frame, track_id, x1, y1, x2, y2, score]``."""
        return np.column_stack([self.frames, self.ids, self.boxes, self.scores]).astype(np.float64)

    def frame_bounds(self, num_frames: int) -> np.ndarray:
        """(F + 1,) int64: frame k's boxes are rows ``bounds[k]:bounds[k + 1]`` (rows are frame-sorted)."""
        if len(self) and self.frames[-1] >= num_frames:
            raise ValueError(f"frame {int(self.frames[-1])} beyond the sequence's {num_frames} frames")
        return np.searchsorted(self.frames, np.arange(num_frames + 1)).astype(np.int64)

    def select(self, keep: np.ndarray) -> "TrackTable":
        return TrackTable(frames=self.frames[keep], ids=self.ids[keep], boxes=self.boxes[keep], scores=self.scores[keep])

    def as_mot_results(self) -> MOTRecords:
        """The 10-column MOT results records ``stv eval --pred`` would read from this table's export."""
        return results_to_records(self.frames, self.ids, self.boxes, self.scores)

    def as_mot_gt(self) -> MOTRecords:
        """10-column (MOT15-style) ground truth: every box considered (flag 1)."""
        values = results_to_records(self.frames, self.ids, self.boxes, self.scores).values.copy()
        values[:, 6] = 1.0
        return MOTRecords(values=values, kind="gt")
