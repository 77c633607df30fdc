"""The comparison's shared timeline: both runs' action curves and β overlaid (A solid, B dashed), lanes
of where they differ (boxes only in A / only in B, top-action disagreement, each run's ID switches
against the labels, review-queue items), and each frame's share of the IDF1 difference (above zero
where A gains over B, below where B does). Click or drag the playhead to scrub, as in the timeline."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from stviewer.colors import BETA, PLAYHEAD, class_rgb
from stviewer.compare.style import A_RGB, ACTION_DISAGREE_RGB, B_RGB, REVIEW_RGB, RUN_PEN_STYLE, SWITCH_RGB
from stviewer.views.timeline import _TimelinePlot, move_playheads

LANES = ("only A", "only B", "action", "IDSW A", "IDSW B", "review")
LANE_RGB = {"only A": A_RGB, "only B": B_RGB, "action": ACTION_DISAGREE_RGB,
            "IDSW A": SWITCH_RGB, "IDSW B": SWITCH_RGB, "review": REVIEW_RGB}
LANE_HEIGHT = 0.7
MARK_WIDTH = 0.9  # frames: single-frame events (switches, review items) stay visible when zoomed out
MIN_MARK_PX = 2.0
LANE_MIN_PX = 12
LANE_FONT = QFont()
LANE_FONT.setPointSize(8)


def mask_segments(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of consecutive True frames as (first (S,), last (S,)) int64: one bar per run, not per frame."""
    m = np.asarray(mask, bool).astype(np.int8)
    if not m.size:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    edges = np.diff(np.concatenate([[0], m, [0]]))
    return np.flatnonzero(edges == 1).astype(np.int64), np.flatnonzero(edges == -1).astype(np.int64) - 1


class CompareTimeline(QWidget):
    def __init__(self, compare_session, parent: QWidget | None = None):
        super().__init__(parent)
        self._compare = compare_session
        self._state = compare_session.state
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground("#1e1f22")
        self.layout_widget.ci.layout.setSpacing(2)
        self.actions_plot = _TimelinePlot("actions")
        self.beta_plot = _TimelinePlot("β")
        self.lanes_plot = _TimelinePlot("")  # its lanes are named by their ticks
        self.share_plot = _TimelinePlot("ΔIDF1")
        self.plots = (self.actions_plot, self.beta_plot, self.lanes_plot, self.share_plot)
        for row, (plot, stretch) in enumerate(zip(self.plots, (6, 2, 6, 3))):
            self.layout_widget.addItem(plot, row=row, col=0)
            self.layout_widget.ci.layout.setRowStretchFactor(row, stretch)
            if plot is not self.share_plot:
                plot.getAxis("bottom").setStyle(showValues=False)
            if plot is not self.actions_plot:
                plot.setXLink(self.actions_plot)
        self.actions_plot.setYRange(0, 1, padding=0.02)
        lanes_vb = self.lanes_plot.getViewBox()
        lanes_vb.invertY(True)
        self.lanes_plot.setYRange(-0.5, len(LANES) - 0.5, padding=0)
        self.lanes_plot.setMinimumHeight(LANE_MIN_PX * len(LANES))  # lane names must not overlap
        self.lanes_plot.getAxis("left").setTicks([[(i, name) for i, name in enumerate(LANES)], []])
        self.lanes_plot.getAxis("left").setStyle(tickFont=LANE_FONT, tickTextOffset=3)
        self.share_plot.getAxis("left").setTicks(None)
        self.legend = self.actions_plot.addLegend(offset=(-8, 2), labelTextColor="#e6e6e6",
                                                  brush=pg.mkBrush(30, 31, 34, 210), labelTextSize="8pt",
                                                  colCount=4, verSpacing=-6)
        self.curves_a: list[pg.PlotDataItem] = []
        self.curves_b: list[pg.PlotDataItem] = []
        self.beta_a = self.beta_plot.plot(pen=self._pen(BETA, "A"))
        self.beta_b = self.beta_plot.plot(pen=self._pen(BETA, "B"))
        self.lane_bars = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[])
        self.lane_bars.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.lanes_plot.addItem(self.lane_bars)
        self.share_pos = self.share_plot.plot(pen=pg.mkPen(A_RGB, width=1), fillLevel=0.0,
                                              brush=pg.mkBrush(*A_RGB, 150))
        self.share_neg = self.share_plot.plot(pen=pg.mkPen(B_RGB, width=1), fillLevel=0.0,
                                              brush=pg.mkBrush(*B_RGB, 150))
        self.share_plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen("#55595f")), ignoreBounds=True)
        self.share_note = pg.TextItem("", color="#9aa0a6", anchor=(0, 0))
        self.share_note.setParentItem(self.share_plot.getViewBox())
        self.share_note.setPos(4, 2)
        self.review_frames = np.zeros(0, np.int64)
        self.playheads: list[pg.InfiniteLine] = []
        for plot in self.plots:
            line = pg.InfiniteLine(pos=0, angle=90, movable=True, pen=pg.mkPen(PLAYHEAD, width=2),
                                   hoverPen=pg.mkPen((255, 150, 150), width=3))
            line.setZValue(100)
            line.sigDragged.connect(self._on_drag)
            plot.addItem(line, ignoreBounds=True)
            self.playheads.append(line)
        self.layout_widget.scene().sigMouseClicked.connect(self._on_click)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.layout_widget)
        self._state.videoChanged.connect(self._on_video)
        self._state.frameChanged.connect(self._move_playhead)
        compare_session.runsChanged.connect(self.refresh_curves)
        compare_session.comparisonChanged.connect(self.refresh_lanes)
        self._on_video()

    @staticmethod
    def _pen(rgb, run: str, width: float = 1.5):
        pen = pg.mkPen(rgb, width=width)
        pen.setStyle(RUN_PEN_STYLE[run])
        return pen

    # ---- data -----------------------------------------------------------------------------------
    def _on_video(self) -> None:
        n = max(1, self._state.num_frames)
        for plot in self.plots:
            plot.getViewBox().setLimits(xMin=-0.5, xMax=n - 0.5, minXRange=min(10, n))
        self.actions_plot.setXRange(0, n - 1, padding=0.01)
        self.refresh_curves()
        self.refresh_lanes()
        self._move_playhead(self._state.frame)

    def refresh_curves(self) -> None:
        """Both runs' action curves (A solid, B dashed; a class has one colour in both) and β. Curve items
        are kept while the class lists stay the same (their data is replaced)."""
        runs = (self._compare.run_a, self._compare.run_b)
        names = tuple(None if run is None else tuple(run.class_names) for run in runs)
        if names != self._curve_names:
            for curve in self.curves_a + self.curves_b:
                self.actions_plot.removeItem(curve)
            self.legend.clear()
            self.curves_a, self.curves_b = [], []
            for classes, which, curves in zip(names, "AB", (self.curves_a, self.curves_b)):
                for i, name in enumerate(classes or ()):
                    # one legend entry per class: B's curves share A's colours (B's own names if A has none)
                    legend = name if which == "A" or not names[0] or names[0] != classes else None
                    curve = self.actions_plot.plot(pen=self._pen(class_rgb(i), which), name=legend)
                    curve.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
                    curves.append(curve)
            self._curve_names = names
        for run, curves, beta in zip(runs, (self.curves_a, self.curves_b), (self.beta_a, self.beta_b)):
            if run is None:
                beta.setData([], [])
                continue
            frames = np.arange(run.num_frames, dtype=np.float64)
            for i, curve in enumerate(curves):
                curve.setData(frames, run.action_probs[:, i], connect="finite")
            beta.setData(frames, run.beta, connect="finite")

    _curve_names: tuple = (None, None)

    def set_review_frames(self, frames: np.ndarray) -> None:
        """Mark the review queue's items on the "review" lane."""
        self.review_frames = np.unique(np.asarray(frames, np.int64))
        self.refresh_lanes()

    def lane_frames(self, lane: str) -> np.ndarray:
        """Frames marked on ``lane`` (one of LANES)."""
        c = self._compare.comparison
        if lane == "review":
            return self.review_frames
        if c is None:
            return np.zeros(0, np.int64)
        return {"only A": np.flatnonzero(c.only_a > 0), "only B": np.flatnonzero(c.only_b > 0),
                "action": np.flatnonzero(c.action_disagree), "IDSW A": np.unique(c.switches_a[:, 0]),
                "IDSW B": np.unique(c.switches_b[:, 0])}[lane]

    def refresh_lanes(self) -> None:
        x0, x1, y0, brushes = [], [], [], []
        n = max(1, self._state.num_frames)
        for i, lane in enumerate(LANES):
            frames = self.lane_frames(lane)
            mask = np.zeros(n, bool)
            frames = frames[(frames >= 0) & (frames < n)]
            mask[frames] = True
            first, last = mask_segments(mask)
            x0.append(first - MARK_WIDTH / 2)
            x1.append(last + MARK_WIDTH / 2)
            y0.append(np.full(len(first), i - LANE_HEIGHT / 2))
            brushes += [pg.mkBrush(*LANE_RGB[lane], 230)] * len(first)
        x0, x1, y0 = np.concatenate(x0), np.concatenate(x1), np.concatenate(y0)
        # at least MIN_MARK_PX wide on screen, so a single frame of a 100k-frame video stays visible
        px = self.lanes_plot.getViewBox().viewPixelSize()[0] if self.isVisible() else 0.0
        widen = np.maximum(0.0, MIN_MARK_PX * px - (x1 - x0)) / 2
        if len(x0):
            self.lane_bars.setOpts(x0=x0 - widen, x1=x1 + widen, y0=y0, y1=y0 + LANE_HEIGHT, brushes=brushes,
                                   pens=[pg.mkPen(None)] * len(x0))
        else:  # (pyqtgraph cannot take empty pen lists)
            self.lane_bars.setOpts(x0=[], x1=[], y0=[], y1=[])
        c = self._compare.comparison
        share = None if c is None else np.asarray(c.idf1_share, np.float64)
        if share is None or not np.isfinite(share).any():
            self.share_pos.setData([], [])
            self.share_neg.setData([], [])
            self.share_note.setText("choose a label set to see where A loses to B" if c is not None else "")
        else:
            frames = np.arange(len(share), dtype=np.float64)
            values = np.nan_to_num(share, nan=0.0)
            self.share_pos.setData(frames, np.maximum(values, 0.0))
            self.share_neg.setData(frames, np.minimum(values, 0.0))
            self.share_note.setText(f"▲ {c.names[0]} better   ▼ {c.names[1]} better")
            peak = float(np.abs(values).max()) or 1.0
            self.share_plot.setYRange(-peak, peak, padding=0.05)

    # ---- playhead --------------------------------------------------------------------------------
    def _move_playhead(self, k: int) -> None:
        move_playheads(self.playheads, k)

    def _on_drag(self, line: pg.InfiniteLine) -> None:
        self._state.set_frame(int(round(line.value())))
        self._move_playhead(self._state.frame)

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        for plot in self.plots:
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(event.scenePos()):
                self._state.set_frame(int(round(vb.mapSceneToView(event.scenePos()).x())))
                event.accept()
                return
