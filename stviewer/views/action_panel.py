"""Action panel: the current frame's top-k action probabilities as bars, and the selected track's."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from stviewer.colors import MUTED, TEXT, class_rgb, track_rgb
from stviewer.state import ViewerState

TOP_K = 5
ROW_HEIGHT = 22


class BarsWidget(QWidget):
    """Horizontal bars: (name, probability, colour) rows, painted directly (no child widgets)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: list[tuple[str, float, tuple[int, int, int]]] = []
        self.placeholder = "no results"
        self.setMinimumHeight(TOP_K * ROW_HEIGHT + 8)

    def set_rows(self, rows, placeholder: str = "no results") -> None:
        self.rows = list(rows)
        self.placeholder = placeholder
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(260, TOP_K * ROW_HEIGHT + 8)

    def column_widths(self) -> tuple[int, int, int]:
        """(name, bar, value) widths in pixels: the value column always fits "100.0%" in this font (a
        fixed width cut it to "l00.0%"); names are elided, the bar takes what is left."""
        fm = self.fontMetrics()
        value_w = fm.horizontalAdvance("100.0%") + 6
        w = self.width()
        name_w = min(130, max(fm.horizontalAdvance("crouch") + 8, int(w * 0.35)))
        bar_w = max(10, w - name_w - value_w - 6)
        return name_w, bar_w, value_w

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        p.setFont(font)
        w = self.width()
        if not self.rows:
            p.setPen(QColor(MUTED))
            p.drawText(QRectF(0, 0, w, ROW_HEIGHT), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       self.placeholder)
            return
        name_w, bar_w, value_w = self.column_widths()
        for i, (name, prob, rgb) in enumerate(self.rows):
            y = 4 + i * ROW_HEIGHT
            p.setPen(QColor(TEXT))
            p.drawText(QRectF(0, y, name_w, ROW_HEIGHT - 4),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(name, Qt.TextElideMode.ElideRight, name_w - 4))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(58, 61, 66))
            p.drawRoundedRect(QRectF(name_w, y + 3, bar_w, ROW_HEIGHT - 10), 3, 3)
            p.setBrush(QColor(*rgb))
            p.drawRoundedRect(QRectF(name_w, y + 3, max(2.0, bar_w * float(prob)), ROW_HEIGHT - 10), 3, 3)
            p.setPen(QColor(TEXT))
            p.drawText(QRectF(name_w + bar_w, y, value_w, ROW_HEIGHT - 4),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{100 * prob:.1f}%")


def top_k(probs: np.ndarray, class_names: list[str], k: int = TOP_K):
    order = np.argsort(-probs)[:k]
    return [(class_names[i] if i < len(class_names) else f"class {i}", float(probs[i]), class_rgb(int(i)))
            for i in order]


class ActionPanel(QWidget):
    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__(parent)
        self._state = state
        self.frame_title = QLabel("Frame actions")
        self.frame_bars = BarsWidget()
        self.track_title = QLabel("Selected track")
        self.track_bars = BarsWidget()
        for title in (self.frame_title, self.track_title):
            title.setStyleSheet("font-weight: bold; padding-top: 4px;")
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.frame_title)
        layout.addWidget(self.frame_bars)
        layout.addWidget(self.track_title)
        layout.addWidget(self.track_bars)
        layout.addStretch(1)
        # scrolls rather than holding the dock (and the window) at its full height in a small window
        self.scroll = QScrollArea()
        self.scroll.setWidget(content)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)
        for signal in (state.frameChanged, state.selectionChanged):
            signal.connect(lambda *_: self.refresh())
        state.runChanged.connect(self.refresh)
        state.resultsChanged.connect(self._on_results)

    def _on_results(self) -> None:
        if not self.frame_bars.rows:
            self.refresh()

    def refresh(self) -> None:
        st = self._state
        run = st.run
        k = st.frame
        self.frame_title.setText(f"Frame {k}: top actions")
        if run is None or st.num_frames == 0 or not run.has_result[k]:
            self.frame_bars.set_rows([], "no results for this frame yet")
        else:
            self.frame_bars.set_rows(top_k(run.action_probs[k], run.class_names))
        tid = st.selected_track
        if tid < 0:
            self.track_title.setText("Selected track")
            self.track_bars.set_rows([], "click a box or a track to select it")
            return
        r, g, b = run.track_rgb(tid) if run is not None else track_rgb(tid)
        self.track_title.setText(f"Track <span style='color: rgb({r},{g},{b})'>■</span> #{tid}: actions")
        probs = run.track_action_probs(tid, k) if run is not None and run.has_result[k] else None
        if probs is None:
            self.track_bars.set_rows([], f"track #{tid} has no actions at frame {k}")
        else:
            self.track_bars.set_rows(top_k(probs, run.class_names))
