"""RunData: what the viewer knows about one run, from the cache and/or live from a running worker.

Per-frame arrays (beta, action probabilities) feed the timeline; track rows (frame order) feed the
track list, lanes and trails; ``frame(k)`` gives one frame's full result. While a worker writes the
cache, this process cannot hold the file open for reading too (HDF5 refuses a second handle on a
file open for writing in the same process), so the worker's results are kept here in memory until
the run is reattached to its reader.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.results import FrameResult
from stviewer.colors import TrackPalette


def damaged_note(run) -> str:
    """"; N frames damaged, concealed" for a run with damaged frames, "" otherwise (or without a run): the closing
    words of a model run's status message."""
    n = 0 if run is None else int(run.damaged.sum())
    if n == 0:
        return ""
    return f"; {n} frame{'s' if n != 1 else ''} damaged, concealed"


@dataclass(frozen=True)
class TrackSummary:
    track_id: int
    first_frame: int
    last_frame: int
    num_frames: int
    mean_score: float


class RunData:
    """One run's results. ``reader`` is an engine.cache RunReader or None (live results only)."""

    def __init__(self, *, name: str, num_frames: int, class_names: list[str], reader=None):
        if num_frames <= 0:
            raise ValueError(f"num_frames must be > 0, got {num_frames}")
        self.name = name
        self.num_frames = int(num_frames)
        self.class_names = [str(c) for c in class_names]
        K = len(self.class_names)
        self.beta = np.full(self.num_frames, np.nan, np.float32)
        self.action_probs = np.full((self.num_frames, K), np.nan, np.float32)
        self.has_result = np.zeros(self.num_frames, bool)
        self.damaged = np.zeros(self.num_frames, bool)  # the decoder concealed damage in these frames
        self._reader = None
        self._live: dict[int, FrameResult] = {}
        self._rows = np.zeros((0, 7), np.float64)
        self._pending_rows: list[np.ndarray] = []
        self._summaries: list[TrackSummary] | None = None
        self.palette = TrackPalette()  # colours of this run's tracks (see track_rgb)
        self._palette_version = -1
        self.version = 0  # bumped on every change, so views can skip redundant refreshes
        if reader is not None:
            self.attach_reader(reader)

    # ---- sources ------------------------------------------------------------------------
    @classmethod
    def from_reader(cls, reader) -> "RunData":
        return cls(name=reader.name, num_frames=reader.num_frames, class_names=reader.class_names, reader=reader)

    @property
    def reader(self):
        return self._reader

    def attach_reader(self, reader) -> None:
        """Take the whole-run arrays from ``reader``; live frames it now covers are dropped."""
        if reader.num_frames != self.num_frames:
            raise ValueError(f"run {reader.name!r} has {reader.num_frames} frames, expected {self.num_frames}")
        self._reader = reader
        self.name = reader.name
        self.class_names = list(reader.class_names)
        probs, beta = reader.action_probs(), reader.beta()
        done = ~np.isnan(beta)
        for k in [k for k in self._live if not done[k]]:  # live frames the cache does not have yet
            done[k] = True
            beta[k] = self._live[k].beta
            probs[k] = self._live[k].action_probs
        self.beta, self.action_probs, self.has_result = beta, probs, done
        damaged = np.zeros(self.num_frames, bool)
        marked = reader.damaged_frames()
        damaged[marked[marked < self.num_frames]] = True
        for k, result in self._live.items():
            damaged[k] |= bool(result.damaged)
        self.damaged = damaged
        rows = reader.track_rows()
        covered = reader.has_frame
        extra = [self._rows_of(r) for k, r in sorted(self._live.items()) if not covered(k)]
        self._rows = np.concatenate([rows] + extra) if extra else rows
        self._rows = self._rows[np.argsort(self._rows[:, 0], kind="stable")]
        self._pending_rows = []
        self._live = {k: r for k, r in self._live.items() if not covered(k)}
        self._changed()

    def detach_reader(self) -> None:
        """Keep every frame in memory and let go of the reader (before a worker writes the file)."""
        if self._reader is None:
            return
        reader, self._reader = self._reader, None
        for k in np.flatnonzero(self.has_result):
            if int(k) not in self._live:
                result = reader.frame(int(k))
                if result is not None:
                    self._live[int(k)] = result

    def add(self, result: FrameResult) -> None:
        """A live result from the worker."""
        k = int(result.frame_index)
        if not 0 <= k < self.num_frames:
            raise ValueError(f"frame {k} outside the run's [0, {self.num_frames})")
        if len(result.action_probs) != self.action_probs.shape[1]:
            raise ValueError(f"frame {k}: {len(result.action_probs)} action classes, expected "
                             f"{self.action_probs.shape[1]}")
        if self.has_result[k]:
            self._drop_rows(k)
        self._live[k] = result
        self.has_result[k] = True
        self.beta[k] = result.beta
        self.action_probs[k] = result.action_probs
        self.damaged[k] = bool(result.damaged)
        self._pending_rows.append(self._rows_of(result))
        self._changed()

    @staticmethod
    def _rows_of(result: FrameResult) -> np.ndarray:
        t = result.tracks
        rows = np.empty((len(t), 7), np.float64)
        rows[:, 0] = result.frame_index
        rows[:, 1] = t[:, 5]
        rows[:, 2:6] = t[:, :4]
        rows[:, 6] = t[:, 4]
        return rows

    def _drop_rows(self, k: int) -> None:
        rows = self.track_rows()
        self._rows = rows[rows[:, 0] != k]

    def _changed(self) -> None:
        self._summaries = None
        self.version += 1

    # ---- queries ------------------------------------------------------------------------
    def frame(self, k: int) -> FrameResult | None:
        k = int(k)
        live = self._live.get(k)
        if live is not None:
            return live
        if self._reader is not None and self._reader.has_frame(k):
            return self._reader.frame(k)
        return None

    @property
    def damaged_frames(self) -> np.ndarray:
        """Indices of the frames whose pixels the decoder concealed damage in (engine FLAG_DAMAGED)."""
        return np.flatnonzero(self.damaged)

    def track_rows(self) -> np.ndarray:
        """(N, 7) float64 [frame, id, x1, y1, x2, y2, score] sorted by frame."""
        if self._pending_rows:
            rows = np.concatenate([self._rows] + self._pending_rows)
            self._rows = rows[np.argsort(rows[:, 0], kind="stable")]
            self._pending_rows = []
        return self._rows

    def rows_between(self, first: int, last: int) -> np.ndarray:
        """Track rows of frames first..last inclusive."""
        rows = self.track_rows()
        frames = rows[:, 0]
        a, b = np.searchsorted(frames, first, "left"), np.searchsorted(frames, last, "right")
        return rows[a:b]

    def track_summaries(self) -> list[TrackSummary]:
        """One summary per track ID, by ID."""
        if self._summaries is None:
            rows = self.track_rows()
            out = []
            if len(rows):
                ids, inverse, counts = np.unique(rows[:, 1], return_inverse=True, return_counts=True)
                first = np.full(len(ids), np.inf)
                last = np.full(len(ids), -np.inf)
                np.minimum.at(first, inverse, rows[:, 0])
                np.maximum.at(last, inverse, rows[:, 0])
                score = np.bincount(inverse, weights=rows[:, 6], minlength=len(ids)) / counts
                out = [TrackSummary(int(i), int(f), int(l), int(c), float(s))
                       for i, f, l, c, s in zip(ids, first, last, counts, score)]
            self._summaries = out
        return self._summaries

    def track_rgb(self, track_id: int) -> tuple[int, int, int]:
        """The colour of ``track_id`` in this run: tracks alive at the same time are far apart in hue
        (stviewer.colors.TrackPalette); the same in every view."""
        if self._palette_version != self.version:
            self.palette.update((s.track_id, s.first_frame, s.last_frame) for s in self.track_summaries())
            self._palette_version = self.version
        return self.palette.rgb(track_id)

    def track_segments(self) -> list[tuple[int, int, int]]:
        """(track_id, first, last) runs of consecutive frames where each track exists (timeline lanes)."""
        rows = self.track_rows()
        if not len(rows):
            return []
        order = np.lexsort((rows[:, 0], rows[:, 1]))
        ids, frames = rows[order, 1].astype(np.int64), rows[order, 0].astype(np.int64)
        breaks = np.flatnonzero((np.diff(ids) != 0) | (np.diff(frames) > 1)) + 1
        starts = np.concatenate([[0], breaks])
        ends = np.concatenate([breaks - 1, [len(ids) - 1]])
        return [(int(ids[s]), int(frames[s]), int(frames[e])) for s, e in zip(starts, ends)]

    def track_frames(self, track_id: int) -> np.ndarray:
        """Sorted frame indices where ``track_id`` exists."""
        rows = self.track_rows()
        return rows[rows[:, 1] == track_id, 0].astype(np.int64)

    def nearest_track_frame(self, track_id: int, k: int) -> int | None:
        """The frame nearest to k where ``track_id`` exists (k itself when it does), or None."""
        frames = self.track_frames(track_id)
        if not len(frames):
            return None
        return int(frames[np.argmin(np.abs(frames - int(k)))])

    def track_action_probs(self, track_id: int, k: int) -> np.ndarray | None:
        """(K,) action probabilities of ``track_id`` at frame k, or None."""
        result = self.frame(k)
        if result is None or result.track_action_probs is None:
            return None
        hit = np.flatnonzero(result.tracks[:, 5] == track_id)
        if not len(hit):
            return None
        probs = result.track_action_probs[hit[0]]
        return None if np.isnan(probs).any() else probs

    @property
    def frames_done(self) -> int:
        return int(self.has_result.sum())
