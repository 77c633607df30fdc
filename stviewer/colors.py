"""Stable colours: one per track ID (same ID, same colour, in every view) and the dark theme."""
from __future__ import annotations

import colorsys

# Golden-ratio hue steps keep consecutive IDs far apart on the colour wheel.
_GOLDEN = 0.618033988749895


def track_rgb(track_id: int) -> tuple[int, int, int]:
    """A bright, saturated colour for ``track_id`` (stable across runs and sessions)."""
    track_id = int(track_id)
    hue = (0.11 + track_id * _GOLDEN) % 1.0
    sat = 0.75 if track_id % 2 else 0.6
    val = 1.0 if track_id % 3 else 0.88
    r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


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
