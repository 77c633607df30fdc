"""The timeline's track lanes while a label set is edited: its tracks' spans (drawn by the timeline's own
batched bar item, through ``track_segments()``) and keyframe marks as ONE curve of short vertical ticks,
built only for the visible frame range. Per-track intervals and keyframes are cached per Track object (tracks
are immutable, an edit replaces only the tracks it changed), so a redraw after an edit costs a concatenation,
not a pass over every box of the set.
"""
from __future__ import annotations

import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

MAX_MARKS = 50_000  # beyond this many keyframes in view, ticks would merge into a bar anyway: thin them
MARK_HALF_HEIGHT = 0.36


class LabelLanes:
    """Lane source for ``Timeline.lane_source`` plus the keyframe-mark item on its lanes plot."""

    def __init__(self, timeline, editor):
        self._timeline = timeline
        self._editor = editor
        self._per_track: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
        self.marks = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 230, width=1.5), connect="pairs")
        self.marks.setZValue(50)
        # cached as a pixmap: the playhead crossing the lanes every frame then re-blits the ticks instead of
        # stroking all of them again (40k ticks for 5,000 tracks: ~10 ms a frame, measured)
        self.marks.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        timeline.lanes_plot.addItem(self.marks, ignoreBounds=True)
        self._keyframes = (np.zeros(0, np.int64), np.zeros(0, np.int64))  # (frames, track ids) sorted by frame
        self._cached_revision = None
        self._lane_ids = np.zeros(0, np.int64)
        self.mark_count = 0
        timeline.lanes_plot.getViewBox().sigXRangeChanged.connect(lambda *_: self.draw_marks())

    # ---- what the timeline asks --------------------------------------------------------------
    @property
    def version(self):
        labels = self._editor.labels
        return None if labels is None else (id(labels), labels.revision)

    def _track_data(self, track) -> tuple[np.ndarray, np.ndarray]:
        data = self._per_track.get(track)
        if data is None:
            data = (track.intervals(), track.keyframes())
            self._per_track[track] = data
        return data

    def track_segments(self) -> list[tuple[int, int, int]]:
        """(track_id, first, last) runs of consecutive frames with a box, like RunData.track_segments()."""
        labels = self._editor.labels
        if labels is None:
            return []
        out: list[tuple[int, int, int]] = []
        kf_frames, kf_ids = [], []
        for track in labels.tracks():
            intervals, keyframes = self._track_data(track)
            tid = track.track_id
            out.extend((tid, int(a), int(b)) for a, b in intervals)
            if len(keyframes):
                kf_frames.append(keyframes)
                kf_ids.append(np.full(len(keyframes), tid, np.int64))
        if kf_frames:
            frames, ids = np.concatenate(kf_frames), np.concatenate(kf_ids)
            order = np.argsort(frames, kind="stable")
            self._keyframes = (frames[order], ids[order])
        else:
            self._keyframes = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        self._lane_ids = labels.track_ids()
        self._cached_revision = self.version
        return out

    # ---- keyframe marks ---------------------------------------------------------------------
    def draw_marks(self) -> None:
        """Ticks at the keyframes inside the visible frame range (after the lanes are laid out)."""
        if self._editor.labels is None:
            self.marks.setData([], [])
            self.mark_count = 0
            return
        if self._cached_revision != self.version:
            self.track_segments()
        frames, ids = self._keyframes
        (x0, x1), _ = self._timeline.lanes_plot.getViewBox().viewRange()
        a = np.searchsorted(frames, np.floor(x0), side="left")
        b = np.searchsorted(frames, np.ceil(x1), side="right")
        frames, ids = frames[a:b], ids[a:b]
        if len(frames) > MAX_MARKS:
            step = -(-len(frames) // MAX_MARKS)
            frames, ids = frames[::step], ids[::step]
        # the timeline gives lane i to the i-th smallest track ID (every label track has a box)
        lanes = np.searchsorted(self._lane_ids, ids).astype(np.float64)
        if not len(frames):
            self.marks.setData([], [])
            self.mark_count = 0
            return
        x = np.repeat(frames.astype(np.float64), 2)
        y = np.empty(2 * len(lanes))
        y[0::2] = lanes - MARK_HALF_HEIGHT
        y[1::2] = lanes + MARK_HALF_HEIGHT
        self.marks.setData(x, y, connect="pairs")
        self.mark_count = len(frames)

    def detach(self) -> None:
        self._timeline.lanes_plot.removeItem(self.marks)
