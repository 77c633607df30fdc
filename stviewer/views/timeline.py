"""The timeline: action probabilities (one curve per class, with a legend), β, and a lane per track,
on a shared frame axis. Click or drag anywhere (the background or the red playhead) to scrub,
frame-exact; the wheel zooms the frame axis, a right- or middle-button drag (or Shift+drag) pans it."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from stviewer.colors import BETA, DAMAGED, MUTED, PLAYHEAD, class_rgb, track_rgb
from stviewer.state import ViewerState

LANE_HEIGHT = 0.7
LANE_LABEL_SPACING_PX = 16  # track ID labels closer than this overlap
SHORT_PLOT_PX = 110  # an actions plot shorter than this: one-row legend, three ticks


def damaged_spans(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) frame of each run of consecutive frames in sorted ``frames``: a long damaged
    stretch is one band, not thousands."""
    frames = np.asarray(frames, np.float64)
    if len(frames) == 0:
        return np.zeros(0), np.zeros(0)
    breaks = np.flatnonzero(np.diff(frames) != 1)
    return frames[np.r_[0, breaks + 1]], frames[np.r_[breaks, len(frames) - 1]]


def move_playheads(lines, k: int) -> None:
    """Put every playhead line at frame ``k`` without echoing their drag signals back to the state."""
    for line in lines:
        if line.value() != k:
            line.blockSignals(True)
            line.setValue(k)
            line.blockSignals(False)


class _ScrubViewBox(pg.ViewBox):
    """A plain left-button drag scrubs (calls ``on_scrub`` with the frame under the pointer) instead of
    panning: what a timeline user expects; the other buttons and Shift+drag still pan."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.on_scrub = None

    def mouseDragEvent(self, ev, axis=None) -> None:
        if (self.on_scrub is not None and ev.button() == Qt.MouseButton.LeftButton
                and not ev.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            ev.accept()
            self.on_scrub(self.mapSceneToView(ev.scenePos()).x())
            return
        if ev.button() == Qt.MouseButton.LeftButton:  # Shift+drag: pan, as a plain drag did before
            ev.accept()
            super().mouseDragEvent(ev, axis)
            return
        if ev.button() in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton):
            ev.accept()
            dif = (ev.pos() - ev.lastPos()) * -1
            tr = self.childGroup.transform()
            tr = pg.functions.invertQTransform(tr)
            shift = tr.map(dif) - tr.map(pg.Point(0, 0))
            self.translateBy(x=shift.x(), y=None)
            self.sigRangeChangedManually.emit(self.state["mouseEnabled"])
            return
        super().mouseDragEvent(ev, axis)


class _TimelinePlot(pg.PlotItem):
    def __init__(self, title: str, **kwargs):
        super().__init__(viewBox=_ScrubViewBox(), **kwargs)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setMouseEnabled(x=True, y=False)
        self.getViewBox().setDefaultPadding(0.0)
        self.showGrid(x=True, y=False, alpha=0.15)
        self.getAxis("left").setWidth(56)
        self.getAxis("left").setLabel(title, color=MUTED)
        self.getAxis("left").enableAutoSIPrefix(False)
        for axis in ("left", "bottom"):
            # cached as pixmaps: the moving playhead then re-blits instead of re-drawing (measured 5.2 -> 3.8 ms)
            self.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.getAxis(axis).setTextPen(MUTED)
            self.getAxis(axis).setPen(pg.mkPen("#55595f"))


class Timeline(QWidget):
    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__(parent)
        self._state = state
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground("#1e1f22")
        self.layout_widget.ci.layout.setSpacing(2)
        self.actions_plot = _TimelinePlot("actions")
        self.beta_plot = _TimelinePlot("β")
        self.lanes_plot = _TimelinePlot("tracks")
        self.layout_widget.addItem(self.actions_plot, row=0, col=0)
        self.layout_widget.addItem(self.beta_plot, row=1, col=0)
        self.layout_widget.addItem(self.lanes_plot, row=2, col=0)
        layout = self.layout_widget.ci.layout
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 1)
        layout.setRowStretchFactor(2, 2)
        for plot in (self.actions_plot, self.beta_plot):
            plot.getAxis("bottom").setStyle(showValues=False)
        self.beta_plot.setXLink(self.actions_plot)
        self.lanes_plot.setXLink(self.actions_plot)
        self.actions_plot.setYRange(0, 1, padding=0.02)
        self.lanes_plot.getViewBox().invertY(True)
        self._label_lanes({})
        self.lanes_plot.getViewBox().sigResized.connect(lambda _vb: self._label_lanes(self._lane_of))
        self.legend = self.actions_plot.addLegend(offset=(-8, 2), labelTextColor="#e6e6e6",
                                                  brush=pg.mkBrush(30, 31, 34, 210), labelTextSize="8pt",
                                                  colCount=3, verSpacing=-6)
        self.actions_plot.getViewBox().sigResized.connect(lambda _vb: self._fit_to_height())
        self.action_curves: list[pg.PlotDataItem] = []
        self.beta_curve = self.beta_plot.plot(pen=pg.mkPen(BETA, width=1.5))
        self.beta_curve.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # damaged frames: one item, a band per run of consecutive damaged frames behind the curves; the
        # cosmetic 1 px pen keeps a single frame visible when the whole video is in view
        self.damage_marks = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[], brush=pg.mkBrush(*DAMAGED, 70),
                                            pen=pg.mkPen(*DAMAGED, 160, width=1, cosmetic=True))
        self.damage_marks.setZValue(-10)
        self.actions_plot.addItem(self.damage_marks, ignoreBounds=True)
        self.lanes = pg.BarGraphItem(x0=[], x1=[], y0=[], y1=[])
        self.lanes.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.lanes_plot.addItem(self.lanes)
        self.selection_band = pg.LinearRegionItem(orientation="horizontal", movable=False,
                                                  brush=pg.mkBrush(77, 163, 255, 80), pen=pg.mkPen(None))
        self.selection_band.setVisible(False)
        self.lanes_plot.addItem(self.selection_band)
        self._lane_of: dict[int, int] = {}
        self.playheads: list[pg.InfiniteLine] = []
        for plot in (self.actions_plot, self.beta_plot, self.lanes_plot):
            line = pg.InfiniteLine(pos=0, angle=90, movable=True, pen=pg.mkPen(PLAYHEAD, width=2),
                                   hoverPen=pg.mkPen((255, 150, 150), width=3))
            line.setZValue(100)
            line.sigDragged.connect(self._on_drag)
            plot.addItem(line, ignoreBounds=True)
            self.playheads.append(line)
        for plot in (self.actions_plot, self.beta_plot, self.lanes_plot):
            plot.getViewBox().on_scrub = self._scrub_to
        self.layout_widget.scene().sigMouseClicked.connect(self._on_click)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.layout_widget)
        self._data_version = None
        # stviewer.editing sets this to the label set being edited: its tracks then fill the lanes
        self.lane_source = None
        self._refresh_timer = QTimer(self, singleShot=True, interval=200)  # live results: redraw ≤ 5×/s
        self._refresh_timer.timeout.connect(self.refresh_data)
        state.videoChanged.connect(self._on_video)
        state.runChanged.connect(self.refresh_data)
        state.resultsChanged.connect(self._schedule_refresh)
        state.frameChanged.connect(self._move_playhead)
        state.selectionChanged.connect(self._on_selection)

    # ---- data -------------------------------------------------------------------------------
    def _on_video(self) -> None:
        n = max(1, self._state.num_frames)
        for plot in (self.actions_plot, self.beta_plot, self.lanes_plot):
            plot.getViewBox().setLimits(xMin=-0.5, xMax=n - 0.5, minXRange=min(10, n))
        self.actions_plot.setXRange(0, n - 1, padding=0.01)
        self.refresh_data()
        self._move_playhead(self._state.frame)

    def _schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh_data(self) -> None:
        run = self._state.run
        version = None if run is None else (id(run), run.version)
        if self.lane_source is not None:
            version = (version, self.lane_source.version)
        if version == self._data_version and run is not None:
            return
        self._data_version = version
        if run is None:
            for curve in self.action_curves:
                curve.setData([], [])
            self.beta_curve.setData([], [])
            self.lanes.setOpts(x0=[], x1=[], y0=[], y1=[])
            self._draw_damage(None)
            self._label_lanes({})
            self.legend.clear()
            self._legend_names = []  # the next run's curves re-enter the legend, even with the same classes
            if self.lane_source is not None:
                self._draw_lanes(None)
            return
        frames = np.arange(run.num_frames, dtype=np.float64)
        probs = run.action_probs
        if len(self.action_curves) != probs.shape[1] or self._legend_names != run.class_names:
            for curve in self.action_curves:
                self.actions_plot.removeItem(curve)
            self.legend.clear()
            self.action_curves = [self.actions_plot.plot(pen=pg.mkPen(class_rgb(i), width=1.5), name=name)
                                  for i, name in enumerate(run.class_names)]
            for curve in self.action_curves:
                curve.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self._legend_names = list(run.class_names)
        for i, curve in enumerate(self.action_curves):
            curve.setData(frames, probs[:, i], connect="finite")
        self.beta_curve.setData(frames, run.beta, connect="finite")
        self._draw_damage(run)
        self._draw_lanes(run)

    _legend_names: list[str] = []

    def _fit_to_height(self) -> None:
        """A short actions plot (a small window) gets a one-row legend and three ticks, so neither the
        legend nor the tick labels cover each other or the curves."""
        short = self.actions_plot.getViewBox().height() < SHORT_PLOT_PX
        self.legend.setColumnCount(6 if short else 3)
        self.actions_plot.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")], []] if short else None)

    def _draw_damage(self, run) -> None:
        frames = np.zeros(0, np.int64) if run is None else run.damaged_frames
        starts, ends = damaged_spans(frames)
        self.damage_marks.setOpts(x0=starts - 0.5, x1=ends + 0.5, y0=np.zeros(len(starts)),
                                  y1=np.ones(len(starts)))

    def _draw_lanes(self, run) -> None:
        segments = (self.lane_source or run).track_segments()
        ids = sorted({s[0] for s in segments})
        self._lane_of = {tid: lane for lane, tid in enumerate(ids)}
        if not segments:
            self.lanes.setOpts(x0=[], x1=[], y0=[], y1=[])
            self._label_lanes({})
            return
        seg = np.array(segments, np.float64)
        lanes = np.array([self._lane_of[int(t)] for t in seg[:, 0]], np.float64)
        rgb_of = run.track_rgb if run is not None and self.lane_source is None else track_rgb
        brushes = [pg.mkBrush(*rgb_of(int(t)), 220) for t in seg[:, 0]]
        self.lanes.setOpts(x0=seg[:, 1] - 0.5, x1=seg[:, 2] + 0.5, y0=lanes - LANE_HEIGHT / 2,
                           y1=lanes + LANE_HEIGHT / 2, brushes=brushes, pens=[pg.mkPen(None)] * len(seg))
        self.lanes_plot.setYRange(-0.6, max(len(ids), 4) - 0.4, padding=0)
        self._label_lanes(self._lane_of)
        self._on_selection(self._state.selected_track)

    def _label_lanes(self, lane_of: dict[int, int]) -> None:
        """Label lanes with their track IDs, every ``step``-th lane so that labels do not overlap; no
        lanes, no ticks (the axis would otherwise number its empty range 0.2 … 1.0)."""
        fits = max(1, int(self.lanes_plot.getViewBox().height() // LANE_LABEL_SPACING_PX))
        step = max(1, -(-max(len(lane_of), 4) // fits))
        self.lanes_plot.getAxis("left").setTicks([[(lane, f"#{tid}") for tid, lane in lane_of.items()
                                                   if lane % step == 0], []])

    def lane_of(self, track_id: int) -> int | None:
        return self._lane_of.get(int(track_id))

    # ---- playhead / selection ------------------------------------------------------------------
    def _move_playhead(self, k: int) -> None:
        move_playheads(self.playheads, k)

    def _on_drag(self, line: pg.InfiniteLine) -> None:
        self._state.set_frame(int(round(line.value())))
        self._move_playhead(self._state.frame)  # snap to the exact frame

    def _scrub_to(self, x: float) -> None:
        self._state.set_frame(int(round(x)))  # clamped to the video's frames

    def frame_at_scene_x(self, scene_x: float) -> int:
        vb = self.actions_plot.getViewBox()
        return int(round(vb.mapSceneToView(pg.Point(scene_x, 0)).x()))

    def _on_click(self, event) -> None:
        for plot in (self.actions_plot, self.beta_plot, self.lanes_plot):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(event.scenePos()):
                p = vb.mapSceneToView(event.scenePos())
                if plot is self.lanes_plot:
                    lane = int(round(p.y()))
                    for tid, index in self._lane_of.items():
                        if index == lane and abs(p.y() - lane) <= LANE_HEIGHT / 2:
                            self._state.select_track(tid)
                self._state.set_frame(int(round(p.x())))
                event.accept()
                return

    def _on_selection(self, track_id: int) -> None:
        lane = self._lane_of.get(int(track_id))
        if lane is None:
            self.selection_band.setVisible(False)
        else:
            self.selection_band.setRegion((lane - 0.5, lane + 0.5))
            self.selection_band.setVisible(True)
