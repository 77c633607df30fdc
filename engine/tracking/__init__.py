"""Online multi-object tracking (ByteTrack-style) and offline gap interpolation; numpy/scipy only."""
from engine.tracking.interpolation import interpolate_gaps
from engine.tracking.kalman import BoxKalmanFilter
from engine.tracking.matching import assign, cosine_distance, iou_matrix
from engine.tracking.run import track_sequence
from engine.tracking.tracker import OUTPUT_COLUMNS, ByteTracker

__all__ = [
    "OUTPUT_COLUMNS",
    "BoxKalmanFilter",
    "ByteTracker",
    "assign",
    "cosine_distance",
    "interpolate_gaps",
    "iou_matrix",
    "track_sequence",
]
