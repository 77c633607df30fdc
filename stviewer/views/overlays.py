"""Overlays drawn over the video in image coordinates: track boxes + ID labels, trails, the α
heatmap and detection scores. Graphics items are pooled and reused from frame to frame."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from engine.results import FrameResult
from stviewer.colors import track_rgb

LABEL_FONT = QFont()
LABEL_FONT.setPointSize(9)
LABEL_FONT.setBold(True)


def box_item_pool(viewbox: pg.ViewBox, *, z: float) -> "_Pool":
    """Pooled rectangle items in ``viewbox`` at depth ``z`` (each overlay styles them per frame)."""
    def make() -> QGraphicsRectItem:
        item = QGraphicsRectItem()
        item.setZValue(z)
        viewbox.addItem(item)
        return item
    return _Pool(make)


def label_item_pool(viewbox: pg.ViewBox, *, z: float) -> "_Pool":
    """Pooled box labels (text anchored at its bottom-left, the overlays' font) at depth ``z``."""
    def make() -> pg.TextItem:
        item = pg.TextItem(anchor=(0, 1))
        item.setFont(LABEL_FONT)
        item.setZValue(z)
        viewbox.addItem(item)
        return item
    return _Pool(make)


class _Pool:
    """Hands out items made by ``make``; items not handed out this frame are hidden, not deleted."""

    def __init__(self, make):
        self._make = make
        self.items: list = []
        self._used = 0

    def begin(self) -> None:
        self._used = 0

    def take(self):
        if self._used == len(self.items):
            self.items.append(self._make())
        item = self.items[self._used]
        self._used += 1
        return item

    def end(self) -> None:
        for item in self.items[self._used:]:
            if item.isVisible():
                item.setVisible(False)

    @property
    def used(self) -> int:
        return self._used


class BoxOverlay:
    """Track boxes (stable colour per ID, thicker when selected) with ``#id`` labels; with
    ``show_scores`` the label adds the score; with ``show_detections`` the model's raw detections
    (before tracking) appear as dashed boxes, a toggle of their own so that nothing unexplained shows."""

    def __init__(self, viewbox: pg.ViewBox):
        self._viewbox = viewbox
        self.boxes = box_item_pool(viewbox, z=20)
        self.labels = label_item_pool(viewbox, z=30)
        self.detections = _Pool(self._make_detection)
        self._placed: list[tuple[pg.TextItem, tuple[float, float, float, float], bool]] = []
        # labels keep a fixed size on screen: a zoom changes which ones collide, so place them again
        viewbox.sigRangeChanged.connect(lambda *_: self.place_labels())

    def _make_detection(self) -> QGraphicsRectItem:
        item = QGraphicsRectItem()
        pen = QPen(QColor(230, 230, 230, 170), 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        item.setPen(pen)
        item.setZValue(15)
        self._viewbox.addItem(item)
        return item

    def update(self, result: FrameResult | None, *, show_boxes: bool, show_scores: bool, selected: int,
               opacity: float = 1.0, show_detections: bool = False,
               rgb_of: Callable[[int], tuple[int, int, int]] = track_rgb) -> None:
        """``opacity`` < 1 dims the run (a label set is edited over it, the run stays for reference);
        ``rgb_of``: a track's colour (the run's ``RunData.track_rgb``)."""
        for pool in (self.boxes, self.labels, self.detections):
            pool.begin()
        placed = []
        if result is not None and show_boxes:
            for x1, y1, x2, y2, score, tid in result.tracks:
                tid = int(tid)
                r, g, b = rgb_of(tid)
                box = self.boxes.take()
                pen = QPen(QColor(r, g, b), 4 if tid == selected else 2)
                pen.setCosmetic(True)
                box.setPen(pen)
                box.setRect(QRectF(float(x1), float(y1), float(x2 - x1), float(y2 - y1)))
                box.setOpacity(opacity)
                box.setVisible(True)
                label = self.labels.take()
                label.setOpacity(opacity)
                text = f"#{tid}  {score:.2f}" if show_scores else f"#{tid}"
                label.setText(text, color=(16, 16, 16))
                label.fill = pg.mkBrush(r, g, b, 230)
                label.setPos(float(x1), float(y1))
                label.setVisible(True)
                placed.append((label, (float(x1), float(y1), float(x2), float(y2)), tid == selected))
        if result is not None and show_detections and result.detections is not None:
            for x1, y1, x2, y2, score in result.detections:
                det = self.detections.take()
                det.setRect(QRectF(float(x1), float(y1), float(x2 - x1), float(y2 - y1)))
                det.setToolTip(f"detection {score:.2f}")
                det.setVisible(True)
        for pool in (self.boxes, self.labels, self.detections):
            pool.end()
        self._placed = placed
        self.place_labels()

    def place_labels(self) -> None:
        """Move labels so that none covers another: each (the selected track's first, then top to bottom)
        takes the first free place among above its box, inside its top, below it, above its right end
        and inside its bottom; when none is free, the least covered. Done in the view's units, since a
        label keeps its size in screen pixels."""
        px, py = self._viewbox.viewPixelSize()
        if not self._placed or not px > 0 or not py > 0:
            return
        taken: list[tuple[float, float, float, float]] = []
        order = sorted(self._placed, key=lambda p: (not p[2], p[1][1], p[1][0]))
        for label, (x1, y1, x2, y2), _selected in order:
            br = label.boundingRect()
            w, h = br.width() * px, br.height() * py
            # (position, anchor, the label's rectangle x1, y1, x2, y2 in image units; y grows down)
            candidates = [((x1, y1), (0, 1), (x1, y1 - h, x1 + w, y1)),
                          ((x1, y1), (0, 0), (x1, y1, x1 + w, y1 + h)),
                          ((x1, y2), (0, 0), (x1, y2, x1 + w, y2 + h)),
                          ((x2, y1), (1, 1), (x2 - w, y1 - h, x2, y1)),
                          ((x1, y2), (0, 1), (x1, y2 - h, x1 + w, y2))]
            best = min(candidates, key=lambda c: (_covered(c[2], taken), candidates.index(c)))
            (x, y), anchor, rect = best
            label.setAnchor(anchor)
            label.setPos(x, y)
            taken.append(rect)


def _covered(rect: tuple[float, float, float, float], others: list[tuple[float, float, float, float]]) -> float:
    """Area of ``rect`` covered by ``others`` (summed; overlaps among the others counted twice)."""
    x1, y1, x2, y2 = rect
    total = 0.0
    for a1, b1, a2, b2 in others:
        w, h = min(x2, a2) - max(x1, a1), min(y2, b2) - max(y1, b1)
        if w > 0 and h > 0:
            total += w * h
    return total


class TrailOverlay:
    """Centres of each visible track over the last ``length`` frames, one curve per track."""

    def __init__(self, viewbox: pg.ViewBox):
        self._viewbox = viewbox
        self.curves = _Pool(self._make_curve)

    def _make_curve(self) -> pg.PlotCurveItem:
        item = pg.PlotCurveItem(antialias=True)  # short curves: smooth is cheap here
        item.setZValue(18)
        self._viewbox.addItem(item)
        return item

    def update(self, rows: np.ndarray | None, *, current: FrameResult | None, show: bool, selected: int,
               rgb_of: Callable[[int], tuple[int, int, int]] = track_rgb) -> None:
        """rows: (N, 7) [frame, id, x1, y1, x2, y2, score] of the trail's frames, in frame order."""
        self.curves.begin()
        if show and rows is not None and len(rows) and current is not None and len(current.tracks):
            visible = current.tracks[:, 5]
            rows = rows[np.isin(rows[:, 1], visible)]
            order = np.argsort(rows[:, 1], kind="stable")  # keeps frame order within each track
            rows = rows[order]
            ids = rows[:, 1]
            bounds = np.flatnonzero(np.diff(ids)) + 1
            for chunk in np.split(rows, bounds):
                if len(chunk) < 2:
                    continue
                tid = int(chunk[0, 1])
                cx = 0.5 * (chunk[:, 2] + chunk[:, 4])
                cy = 0.5 * (chunk[:, 3] + chunk[:, 5])
                curve = self.curves.take()
                r, g, b = rgb_of(tid)
                curve.setData(cx, cy, pen=pg.mkPen(r, g, b, 200, width=3 if tid == selected else 2))
                curve.setVisible(True)
        self.curves.end()


def _heatmap_lut() -> np.ndarray:
    """Inferno colours whose opacity grows with attention (low attention leaves the frame visible)."""
    lut = pg.colormap.get("inferno").getLookupTable(0.0, 1.0, 256, alpha=True).astype(np.ubyte)
    lut[:, 3] = (255 * np.clip(np.linspace(0, 1, 256) * 1.6, 0, 1) ** 0.8).astype(np.ubyte)
    return lut


# below this spread ((max - min) / max) an α map is "flat": no spatial preference worth colouring
FLAT_SPREAD = 0.25


def normalise_alpha(alpha: np.ndarray) -> tuple[np.ndarray, bool]:
    """(map scaled to 0..1 within this frame, flat). Per frame min-max, so the most and the least attended
    places always span the colour map; a flat map (the no-attention model's uniform α, or noise around
    uniform) comes back as zeros and ``flat=True``, drawn as nothing rather than a full-frame wash."""
    a = np.asarray(alpha, np.float32)
    if a.size == 0 or not np.isfinite(a).all():
        return np.zeros_like(a), True
    lo, hi = float(a.min()), float(a.max())
    if hi <= 0 or (hi - lo) / hi < FLAT_SPREAD:
        return np.zeros_like(a), True
    return (a - lo) / (hi - lo), False


class HeatmapOverlay:
    """The α map, normalised per frame (``normalise_alpha``), upsampled bilinearly and stretched over the
    frame; a flat map shows a small "α uniform" note instead of tinting the whole frame."""

    UPSAMPLE = 4  # bilinear upsampling factor before Qt stretches the image over the frame

    def __init__(self, viewbox: pg.ViewBox):
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(_heatmap_lut())
        self.image.setZValue(10)
        self.image.setVisible(False)
        viewbox.addItem(self.image)
        self.flat_note = pg.TextItem("α uniform: no spatial attention on this frame", color=(20, 20, 20),
                                     fill=pg.mkBrush(255, 200, 80, 200), anchor=(0, 0))
        self.flat_note.setFont(LABEL_FONT)
        self.flat_note.setZValue(31)
        self.flat_note.setVisible(False)
        viewbox.addItem(self.flat_note)
        self.flat = False
        self._rect = None

    def update(self, alpha: np.ndarray | None, *, frame_size: tuple[int, int], show: bool, opacity: float) -> None:
        if not show or alpha is None:
            self.image.setVisible(False)
            self.flat_note.setVisible(False)
            return
        import cv2

        a, self.flat = normalise_alpha(alpha)
        self.flat_note.setPos(0.0, 0.0)
        self.flat_note.setVisible(self.flat)
        if self.flat:
            self.image.setVisible(False)
            return
        h, w = a.shape
        a = cv2.resize(a, (w * self.UPSAMPLE, h * self.UPSAMPLE), interpolation=cv2.INTER_LINEAR)
        a8 = np.ascontiguousarray(np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8))  # uint8: direct LUT path
        self.image.setImage(a8, levels=(0, 255), autoLevels=False)
        H, W = frame_size
        rect = QRectF(0, 0, W, H)
        if rect != self._rect:
            self.image.setRect(rect)
            self._rect = rect
        self.image.setOpacity(opacity)
        self.image.setVisible(True)


def scene_point(viewbox: pg.ViewBox, x: float, y: float) -> QPointF:
    """Image coordinates -> the view's scene coordinates (for tests and hit-testing)."""
    return viewbox.mapViewToScene(QPointF(x, y))
