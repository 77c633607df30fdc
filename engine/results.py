"""The per-frame result record that flows pipeline -> cache -> viewer.

Plain numpy only (no torch), so the viewer can read caches without importing torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Columns of ``FrameResult.tracks``.
TRACK_COLUMNS = ("x1", "y1", "x2", "y2", "score", "track_id")


@dataclass
class FrameResult:
    """Everything the model and tracker say about one frame.

    frame_index        0-based index of the frame in its video.
    tracks             (N, 6) float32 [x1, y1, x2, y2, score, track_id], pixels of the full frame, 0-based,
                       x2/y2 exclusive.
    action_probs       (K,) float32, sums to 1: the clip-level action probabilities of the window
                       this frame belongs to.
    alpha              (h, w) float16/float32 spatial attention of this frame (sums to 1), or None.
    beta               float, this frame's temporal attention weight within its window.
    track_action_probs (N, K) float32 per-track action probabilities, or None when the model has none.
    detections         (D, 5) float32 raw decoder output [x1, y1, x2, y2, score] before tracking, or None.
    track_embeddings   (N, E) float16 re-ID embedding of each track row (the matched detection's, unit length;
                       a coasting row carries its track's running embedding), or None when the model has none.
    damaged            True when the decoder concealed damage in this frame's pixels (engine.video).
    track_margins      (N,) float32 association margin of each track row: the gap between the cost of the
                       match the tracker made and the best alternative (another detection for the track,
                       another track for the detection, or the gate); small = a near-tie, i.e. a possible ID
                       switch. NaN for new tracks and rows without a match this frame. None when unknown.
    """

    frame_index: int
    tracks: np.ndarray
    action_probs: np.ndarray
    alpha: np.ndarray | None = None
    beta: float = 0.0
    track_action_probs: np.ndarray | None = None
    detections: np.ndarray | None = field(default=None)
    track_embeddings: np.ndarray | None = None
    track_margins: np.ndarray | None = None
    damaged: bool = False

    def __post_init__(self) -> None:
        if self.frame_index < 0:
            raise ValueError(f"frame_index must be >= 0, got {self.frame_index}")
        tracks = np.asarray(self.tracks, dtype=np.float32)
        if tracks.ndim != 2 or tracks.shape[1] != len(TRACK_COLUMNS):
            raise ValueError(f"tracks must be (N, {len(TRACK_COLUMNS)}), got {tracks.shape}")
        self.tracks = tracks
        probs = np.asarray(self.action_probs, dtype=np.float32)
        if probs.ndim != 1:
            raise ValueError(f"action_probs must be (K,), got {probs.shape}")
        self.action_probs = probs
        if self.alpha is not None and np.asarray(self.alpha).ndim != 2:
            raise ValueError(f"alpha must be (h, w), got {np.asarray(self.alpha).shape}")
        if self.track_action_probs is not None:
            tap = np.asarray(self.track_action_probs, dtype=np.float32)
            if tap.shape != (len(tracks), len(probs)):
                raise ValueError(
                    f"track_action_probs must be ({len(tracks)}, {len(probs)}), got {tap.shape}")
            self.track_action_probs = tap
        if self.detections is not None:
            det = np.asarray(self.detections, dtype=np.float32)
            if det.ndim != 2 or det.shape[1] != 5:
                raise ValueError(f"detections must be (D, 5), got {det.shape}")
            self.detections = det
        if self.track_embeddings is not None:
            emb = np.asarray(self.track_embeddings, dtype=np.float16)
            if emb.ndim != 2 or emb.shape[0] != len(tracks):
                raise ValueError(f"track_embeddings must be ({len(tracks)}, E), got {emb.shape}")
            self.track_embeddings = emb
        if self.track_margins is not None:
            margins = np.asarray(self.track_margins, dtype=np.float32)
            if margins.shape != (len(tracks),):
                raise ValueError(f"track_margins must be ({len(tracks)},), got {margins.shape}")
            self.track_margins = margins
