"""Stable colours: one per track ID (same ID, same colour, in every view) and the dark theme.

``TrackPalette`` colours one run's tracks so that tracks alive at the same time are far apart in hue
(two neighbours once got the same green from a hash of their IDs); ``track_rgb`` is the ID-only colour
for boxes that belong to no run.
"""
from __future__ import annotations

import colorsys
from collections.abc import Iterable

import numpy as np

# Golden-ratio hue steps keep consecutive IDs far apart on the colour wheel.
_GOLDEN = 0.618033988749895


def id_hue(track_id: int) -> float:
    """The hue (0..1) ``track_rgb`` gives ``track_id``: golden-ratio steps between consecutive IDs."""
    return (0.11 + int(track_id) * _GOLDEN) % 1.0


def hue_rgb(hue: float, track_id: int) -> tuple[int, int, int]:
    """A bright colour of ``hue``; saturation and value vary with the ID for a little more contrast."""
    track_id = int(track_id)
    sat = 0.75 if track_id % 2 else 0.6
    val = 1.0 if track_id % 3 else 0.88
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, sat, val)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def track_rgb(track_id: int) -> tuple[int, int, int]:
    """A bright, saturated colour for ``track_id`` from the ID alone (stable across runs and sessions)."""
    return hue_rgb(id_hue(track_id), track_id)


def hue_distance(a, b):
    """Circular distance between hues in 0..1 (0..0.5)."""
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) % 1.0
    return np.minimum(d, 1.0 - d)


class TrackPalette:
    """Hues for one run's tracks, far apart for tracks alive at the same time.

    Tracks are coloured in the order they start (frame, then ID). Each takes, among 36 evenly spaced
    hues and its ID's own hue, the one farthest from the hues of the tracks already coloured that are
    alive within ``window`` frames before it starts (ties: the hue nearest its ID's). A track's colour
    depends only on tracks that started before it and on what was known at its first frame, so it never
    changes afterwards: while a run is being computed and when it is reopened, the colours are the same.
    """

    CANDIDATES = np.arange(36) / 36.0

    def __init__(self, *, window: int = 25):
        self.window = int(window)
        self._hue: dict[int, float] = {}
        self._first = np.zeros(0, np.int64)
        self._last = np.zeros(0, np.int64)
        self._hues = np.zeros(0, np.float64)
        self._index: dict[int, int] = {}

    def update(self, spans: Iterable[tuple[int, int, int]]) -> None:
        """Colour the new tracks of ``spans`` ((track_id, first_frame, last_frame) so far); tracks already
        coloured only get their last frame updated."""
        new = []
        for tid, first, last in spans:
            tid = int(tid)
            i = self._index.get(tid)
            if i is None:
                new.append((int(first), tid, int(last)))
            else:
                self._last[i] = max(self._last[i], int(last))
        for first, tid, last in sorted(new):
            alive = (self._first <= first) & (self._last >= first - self.window)
            near = self._hues[alive]
            own = id_hue(tid)
            options = np.append(self.CANDIDATES, own)
            if len(near):
                spread = hue_distance(options[:, None], near[None, :]).min(axis=1)
                best = np.flatnonzero(np.isclose(spread, spread.max()))
                hue = float(options[best[np.argmin(hue_distance(options[best], own))]])
            else:
                hue = own
            self._index[tid] = len(self._hues)
            self._first = np.append(self._first, first)
            self._last = np.append(self._last, last)
            self._hues = np.append(self._hues, hue)
            self._hue[tid] = hue

    def hue(self, track_id: int) -> float:
        return self._hue.get(int(track_id), id_hue(track_id))

    def rgb(self, track_id: int) -> tuple[int, int, int]:
        """The track's colour (a track this palette has not seen: its ID colour)."""
        return hue_rgb(self.hue(track_id), track_id)


def class_rgb(index: int) -> tuple[int, int, int]:
    """Colour of action class ``index`` in the timeline and the action panel."""
    hue = (0.58 + index * _GOLDEN) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.55, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


BACKGROUND = "#1e1f22"
PANEL = "#2b2d31"
TEXT = "#e6e6e6"
MUTED = "#9aa0a6"
ACCENT = "#4da3ff"
BETA = (255, 200, 80)
PLAYHEAD = (255, 80, 80)
DAMAGED = (240, 120, 40)  # frames the decoder concealed damage in (timeline marks, status notes)

DARK_STYLESHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; font-size: 10pt; }}
QDockWidget::title {{ background: {PANEL}; padding: 4px 8px; font-weight: bold; }}
QTableWidget, QTreeWidget {{ background: {PANEL}; gridline-color: #3a3d42; alternate-background-color: #303237; }}
QHeaderView::section {{ background: #34373c; color: {TEXT}; border: none; padding: 4px; }}
QTableWidget::item:selected {{ background: #3d5a80; }}
QToolBar {{ background: {PANEL}; border: none; spacing: 6px; padding: 3px; }}
QToolButton, QPushButton {{ background: #3a3d42; border: 1px solid #4a4d52; border-radius: 4px; padding: 3px 8px; }}
QToolButton:checked {{ background: #3d5a80; border-color: {ACCENT}; }}
QToolButton:hover, QPushButton:hover {{ border-color: {ACCENT}; }}
QStatusBar {{ background: {PANEL}; }}
QProgressBar {{ background: #3a3d42; border: none; border-radius: 3px; text-align: center; max-height: 14px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QMenuBar, QMenu {{ background: {PANEL}; }}
QMenu::item:selected, QMenuBar::item:selected {{ background: #3d5a80; }}
QComboBox {{ background: #3a3d42; border: 1px solid #4a4d52; border-radius: 4px; padding: 2px 6px; }}
QSlider::groove:horizontal {{ height: 4px; background: #4a4d52; border-radius: 2px; }}
QSlider::handle:horizontal {{ width: 12px; margin: -5px 0; background: {ACCENT}; border-radius: 6px; }}
QLabel#frameLabel {{ font-family: monospace; font-size: 11pt; color: {TEXT}; padding: 2px 6px; }}
"""
