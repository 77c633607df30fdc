"""The video view: the frame as a pyqtgraph ImageItem in an aspect-locked ViewBox (wheel zooms,
drag pans, double-click fits), with the overlays on top and the frame number / timestamp above."""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from stviewer.colors import track_rgb
from stviewer.state import ViewerState
from stviewer.views.overlays import BoxOverlay, HeatmapOverlay, TrailOverlay

RUN_OPACITY_WHILE_EDITING = 0.35  # the run stays visible under the label set, for reference


def format_time(seconds: float) -> str:
    minutes, sec = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes):02d}:{sec:06.3f}"


class _FitViewBox(pg.ViewBox):
    def mouseDoubleClickEvent(self, event):  # double-click: back to the whole frame
        self.autoRange(padding=0)
        event.accept()


class VideoView(QWidget):
    """Shows ``state.frame`` of ``state.video`` with the run's overlays. Frame changes are coalesced:
    however many arrive before the next event-loop pass, only the latest is decoded and drawn."""

    trackClicked = Signal(int)
    frameDisplayed = Signal(int)

    def __init__(self, state: ViewerState, parent: QWidget | None = None):
        super().__init__(parent)
        self._state = state
        self.frame_label = QLabel("No video", objectName="frameLabel")
        self.graphics = pg.GraphicsView(background="#141518")
        self.viewbox = _FitViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.viewbox.setDefaultPadding(0.0)
        self.graphics.setCentralItem(self.viewbox)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(0)
        self.viewbox.addItem(self.image)
        self.heatmap = HeatmapOverlay(self.viewbox)
        self.trails = TrailOverlay(self.viewbox)
        self.boxes = BoxOverlay(self.viewbox)
        from stviewer.editing.overlay import LabelOverlay  # the label set being edited, over the run

        self.label_overlay = LabelOverlay(self.viewbox)
        self.label_source = None  # set by stviewer.editing: frame -> engine.labels FrameBoxes or None
        self.edit_tool = None  # stviewer.editing.tools.EditTool while editing is installed
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.frame_label)
        layout.addWidget(self.graphics, 1)
        self.displayed_frame = -1
        self.current_result = None
        self.last_render_s = 0.0
        self._frame_size: tuple[int, int] | None = None
        self._render_pending = False
        self.viewbox.scene().sigMouseClicked.connect(self._on_click)
        state.videoChanged.connect(self._on_video)
        state.frameChanged.connect(self.request_render)
        state.overlaysChanged.connect(self._redraw_overlays)
        state.selectionChanged.connect(lambda _tid: self._redraw_overlays())
        state.runChanged.connect(self.request_render)
        state.resultsChanged.connect(self._on_results)

    # ---- rendering ------------------------------------------------------------------------
    def _on_video(self) -> None:
        video = self._state.video
        self._frame_size = None if video is None else (int(video.height), int(video.width))
        self.displayed_frame = -1
        if video is None:
            self.image.clear()
            self.frame_label.setText("No video")
        self.request_render()

    def request_render(self, *_args) -> None:
        if not self._render_pending:
            self._render_pending = True
            QTimer.singleShot(0, self._render_if_pending)

    def _render_if_pending(self) -> None:
        if self._render_pending:  # not already drawn by an explicit render_now()
            self.render_now()

    def render_now(self) -> None:
        """Decode and draw the current frame with its overlays (synchronously)."""
        self._render_pending = False
        st = self._state
        if st.video is None:
            return
        t0 = time.perf_counter()
        k = st.frame
        # exact when decoded-frame cache holds it, else the background indexer's proxy, else an exact seek
        frame = st.video.get_display_frame(k)
        if frame.dtype != np.uint8 or not frame.flags.c_contiguous:
            frame = np.ascontiguousarray(frame, dtype=np.uint8)
        first = self.displayed_frame < 0
        # uint8 RGB with no levels is shown as-is (0..255): pyqtgraph then skips its per-pixel rescale, which
        # levels=(0, 255) would still run (~2 ms per 720p frame); autoLevels=False skips the min/max scan
        self.image.setImage(frame, autoLevels=False, levels=None)
        if first:
            self.viewbox.setRange(xRange=(0, frame.shape[1]), yRange=(0, frame.shape[0]), padding=0)
        self.displayed_frame = k
        self._redraw_overlays()
        n = st.num_frames
        self.frame_label.setText(f"Frame {k:>6d} / {n - 1:<6d}   {format_time(st.frame_time(k))}   "
                                 f"{st.fps:.3g} fps   {st.speed:g}×")
        self.last_render_s = time.perf_counter() - t0
        self.frameDisplayed.emit(k)

    def _on_results(self) -> None:
        # a live result for the frame on screen: draw it (other frames are drawn when shown)
        run = self._state.run
        if run is not None and self.current_result is None and run.has_result[self._state.frame]:
            self._redraw_overlays()

    def _redraw_overlays(self) -> None:
        st = self._state
        if st.video is None or self.displayed_frame < 0:
            return
        k = self.displayed_frame
        run = st.run
        result = run.frame(k) if run is not None and run.has_result[k] else None
        self.current_result = result
        on = st.overlays
        editing = self.label_source is not None
        rgb_of = run.track_rgb if run is not None else track_rgb  # the run's colours: neighbours far apart
        self.boxes.update(result, show_boxes=on["boxes"], show_scores=on["scores"], show_detections=on["detections"],
                          rgb_of=rgb_of,
                          selected=-1 if editing else st.selected_track,
                          opacity=RUN_OPACITY_WHILE_EDITING if editing else 1.0)
        self.redraw_labels()
        rows = None
        if on["trails"] and run is not None and result is not None:
            rows = run.rows_between(max(0, k - st.trail_length), k)
        self.trails.update(rows, current=result, show=on["trails"], selected=st.selected_track, rgb_of=rgb_of)
        self.heatmap.update(None if result is None else result.alpha, frame_size=self._frame_size,
                            show=on["heatmap"], opacity=st.heatmap_opacity)

    def redraw_labels(self) -> None:
        """The label set's boxes on the displayed frame (none when no set is edited)."""
        k = self.displayed_frame
        boxes = None if self.label_source is None or k < 0 else self.label_source(k)
        self.label_overlay.update(boxes, selected=self._state.selected_track, show=self._state.overlays["boxes"])

    # ---- interaction ----------------------------------------------------------------------
    def _on_click(self, event) -> None:
        if self.edit_tool is not None and self.edit_tool.active:
            return  # clicks select label boxes (stviewer.editing.tools), not the run's
        result = self.current_result
        if result is None or not len(result.tracks):
            self._state.select_track(-1)  # a click on empty space clears the selection
            return
        p = self.viewbox.mapSceneToView(event.scenePos())
        x, y = p.x(), p.y()
        t = result.tracks
        inside = (t[:, 0] <= x) & (x < t[:, 2]) & (t[:, 1] <= y) & (y < t[:, 3])
        hits = np.flatnonzero(inside)
        if len(hits):
            areas = (t[hits, 2] - t[hits, 0]) * (t[hits, 3] - t[hits, 1])
            self._state.select_track(int(t[hits[np.argmin(areas)], 5]))  # the innermost box wins
        else:
            self._state.select_track(-1)  # a click on empty space clears the selection

    def fit(self) -> None:
        self.viewbox.autoRange(padding=0)
