"""Label sets: corrected tracks beside a video's runs, editable with undo, saved crash-safely.

model.py (LabelSet, Track, BoxKind, FrameBoxes), edits.py (pure edit functions -> Change),
interpolate.py (keyframe interpolation and the correction blend), journal.py (SQLite edit journal beside
the cache, compaction into the cache's /label_sets/). No Qt here.
"""
from __future__ import annotations

from engine.labels.model import BoxKind, FrameBoxes, LabelSet, Track, TrackSpans

__all__ = ["BoxKind", "FrameBoxes", "LabelSet", "Track", "TrackSpans"]
