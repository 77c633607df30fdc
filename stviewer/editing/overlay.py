"""The label set's boxes over the video, one look per box kind: keyframes solid, interpolated boxes dashed,
boxes still taken from a model run dotted and thinner; outside frames have no box at all. The selected box
is thicker and carries eight resize handles. Items are pooled (never created per frame); the handles are one
ScatterPlotItem."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from engine.labels.model import BoxKind, FrameBoxes
from stviewer.colors import track_rgb
from stviewer.views.overlays import box_item_pool, label_item_pool

KEYFRAME, INTERPOLATED, MODEL = int(BoxKind.KEYFRAME), int(BoxKind.INTERPOLATED), int(BoxKind.MODEL)
KIND_NAMES = {KEYFRAME: "keyframe", INTERPOLATED: "interpolated", MODEL: "from model"}
_PEN_STYLE = {KEYFRAME: Qt.PenStyle.SolidLine, INTERPOLATED: Qt.PenStyle.DashLine, MODEL: Qt.PenStyle.DotLine}
_PEN_WIDTH = {KEYFRAME: 2.5, INTERPOLATED: 2.0, MODEL: 1.5}

# handle order: the edges of the box each handle moves (x1, y1, x2, y2 as 0/1 flags)
HANDLES = (("top-left", (1, 1, 0, 0)), ("top", (0, 1, 0, 0)), ("top-right", (0, 1, 1, 0)),
           ("right", (0, 0, 1, 0)), ("bottom-right", (0, 0, 1, 1)), ("bottom", (0, 0, 0, 1)),
           ("bottom-left", (1, 0, 0, 1)), ("left", (1, 0, 0, 0)))


def handle_points(box: np.ndarray) -> np.ndarray:
    """(8, 2) image coordinates of the handles of ``box`` [x1, y1, x2, y2], in HANDLES order."""
    x1, y1, x2, y2 = (float(v) for v in box)
    xm, ym = 0.5 * (x1 + x2), 0.5 * (y1 + y2)
    return np.array([[x1, y1], [xm, y1], [x2, y1], [x2, ym], [x2, y2], [xm, y2], [x1, y2], [x1, ym]])


def index_of(boxes, track_id: int) -> int | None:
    """Row of ``track_id`` in an engine.labels FrameBoxes, or None."""
    hit = np.flatnonzero(boxes.ids == int(track_id))
    return int(hit[0]) if len(hit) else None


def empty_frame_boxes(frame: int = 0) -> FrameBoxes:
    return FrameBoxes(frame=frame, ids=np.zeros(0, np.int64), boxes=np.zeros((0, 4)), kinds=np.zeros(0, np.uint8),
                      visibility=np.zeros(0), consider=np.zeros(0, bool), classes=np.zeros(0, np.int64))


class LabelOverlay:
    """Draws a FrameBoxes; ``preview(track_id, box)`` moves one box (and its handles) during a drag without
    touching the label set."""

    def __init__(self, viewbox: pg.ViewBox):
        self._viewbox = viewbox
        self.boxes = box_item_pool(viewbox, z=40)
        self.labels = label_item_pool(viewbox, z=42)
        self.handles = pg.ScatterPlotItem(size=9, symbol="s", pen=pg.mkPen(20, 20, 20), brush=pg.mkBrush(250, 250, 250))
        self.handles.setZValue(45)
        self.handles.setVisible(False)
        viewbox.addItem(self.handles)
        self.draft = QGraphicsRectItem()  # the box being drawn
        pen = QPen(QColor(255, 255, 255), 1.5, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.draft.setPen(pen)
        self.draft.setZValue(50)
        self.draft.setVisible(False)
        viewbox.addItem(self.draft)
        self.shown = empty_frame_boxes()
        self._item_of: dict[int, tuple[QGraphicsRectItem, pg.TextItem]] = {}
        self.selected = -1

    def update(self, boxes: FrameBoxes | None, *, selected: int, show: bool = True) -> None:
        self.boxes.begin()
        self.labels.begin()
        self._item_of = {}
        self.shown = boxes if (boxes is not None and show) else empty_frame_boxes()
        self.selected = int(selected)
        for tid, box, kind, consider in zip(self.shown.ids, self.shown.boxes, self.shown.kinds, self.shown.consider):
            tid, kind, ignored = int(tid), int(kind), not consider
            r, g, b = track_rgb(tid)
            item = self.boxes.take()
            # pooled items keep their look from the last frame: set pens and texts only when they change
            # (TextItem.setText re-lays out its document: the bulk of a frame's cost with hundreds of boxes)
            look = (tid, kind, ignored, tid == selected)
            if getattr(item, "_look", None) != look:
                width = _PEN_WIDTH[kind] + (2.0 if tid == selected else 0.0)
                pen = QPen(QColor(r, g, b, 140 if ignored else 255), width, _PEN_STYLE[kind])
                pen.setCosmetic(True)
                item.setPen(pen)
                item._look = look
            item.setRect(QRectF(float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])))
            if not item.isVisible():
                item.setVisible(True)
            label = self.labels.take()
            if getattr(label, "_look", None) != look[:3]:
                mark = {KEYFRAME: " ◆", INTERPOLATED: "", MODEL: " ·model"}[kind]
                label.setText(f"#{tid}{mark}{'  ignored' if ignored else ''}", color=(16, 16, 16))
                label.fill = pg.mkBrush(r, g, b, 230 if kind == KEYFRAME else 170)
                label._look = look[:3]
            label.setPos(float(box[0]), float(box[1]))
            if not label.isVisible():
                label.setVisible(True)
            self._item_of[tid] = (item, label)
        self.boxes.end()
        self.labels.end()
        self._place_handles()

    def _place_handles(self, box: np.ndarray | None = None) -> None:
        if box is None:
            i = index_of(self.shown, self.selected) if self.selected >= 0 else None
            box = None if i is None else self.shown.boxes[i]
        if box is None:
            self.handles.setVisible(False)
            return
        pts = handle_points(box)
        self.handles.setData(pos=pts)
        self.handles.setVisible(True)

    def preview(self, track_id: int, box: np.ndarray) -> None:
        """Show ``track_id``'s box at ``box`` (a drag in progress)."""
        items = self._item_of.get(int(track_id))
        if items is None:
            return
        x1, y1, x2, y2 = (float(v) for v in box)
        items[0].setRect(QRectF(x1, y1, x2 - x1, y2 - y1))
        items[1].setPos(x1, y1)
        if int(track_id) == self.selected:
            self._place_handles(np.asarray(box, np.float64))

    def show_draft(self, box: np.ndarray | None) -> None:
        if box is None:
            self.draft.setVisible(False)
            return
        x1, y1, x2, y2 = (float(v) for v in box)
        self.draft.setRect(QRectF(x1, y1, x2 - x1, y2 - y1))
        self.draft.setVisible(True)
