"""Mouse interaction on the video view while a label set is edited: click selects a box, dragging it moves
the box (not the image), the selected box's handles resize it, N then drag draws a new box, M then click
merges the clicked track into the selected one. Empty space still pans and zooms as before.

An event filter on the view's viewport sees each press first: a press on a box or handle is consumed (the
ViewBox never starts a pan), the drag previews in the overlay only, and the release makes ONE edit through the
editor (so one undo step per gesture). Hit tests are in screen pixels, so handles stay grabbable at any zoom.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal

from stviewer.editing.overlay import HANDLES, handle_points, index_of

HANDLE_PICK_PX = 7.0  # a press this close to a handle grabs it
MIN_BOX_PX = 3.0  # a smaller drawn box is a slip, not a box
MIN_BOX_SIZE = 1.0  # image pixels: a resize never makes a box thinner than this


class EditTool(QObject):
    """``editor``: a stviewer.editing.editor.LabelEditor. ``ask_track_id(suggested_new, frame)`` asks the user
    which ID a newly drawn box gets (returns an int, or None to cancel); the window supplies a dialog and tests
    replace it."""

    modeChanged = Signal(str)  # "select", "draw" or "merge"

    def __init__(self, view, editor, state, *, ask_track_id: Callable[[int, int], int | None] | None = None):
        super().__init__(view)
        self.view = view
        self.editor = editor
        self.state = state
        self.ask_track_id = ask_track_id or (lambda suggested, _frame: suggested)
        self.mode = "select"
        self._drag: dict | None = None
        view.graphics.viewport().installEventFilter(self)

    # ---- modes ------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """True while a label set is being edited (clicks then belong to the labels, not the run)."""
        return self.editor.labels is not None

    def set_mode(self, mode: str) -> None:
        if mode not in ("select", "draw", "merge"):
            raise ValueError(f"unknown edit mode {mode!r}")
        if mode != "select" and not self.active:
            return
        self.mode = mode
        self._drag = None
        self.view.label_overlay.show_draft(None)
        cursor = Qt.CursorShape.CrossCursor if mode == "draw" else (
            Qt.CursorShape.PointingHandCursor if mode == "merge" else Qt.CursorShape.ArrowCursor)
        self.view.graphics.viewport().setCursor(cursor)
        self.modeChanged.emit(mode)

    def cancel(self) -> None:
        """Escape: cancel a mode or drag in progress, else clear the selection."""
        if self._drag is not None or self.mode != "select":
            if self._drag is not None and self._drag["kind"] != "draw":
                self.view.redraw_labels()
            self.set_mode("select")
        else:
            self.state.select_track(-1)

    # ---- coordinates ------------------------------------------------------------------------
    def _to_image(self, pos) -> np.ndarray:
        scene = self.view.graphics.mapToScene(pos.toPoint() if hasattr(pos, "toPoint") else pos)
        p = self.view.viewbox.mapSceneToView(scene)
        return np.array([p.x(), p.y()])

    def _to_screen(self, xy: np.ndarray) -> np.ndarray:
        scene = self.view.viewbox.mapViewToScene(QPointF(float(xy[0]), float(xy[1])))
        p = self.view.graphics.mapFromScene(scene)
        return np.array([p.x(), p.y()], np.float64)

    def hit_handle(self, screen: np.ndarray) -> int | None:
        """Index (HANDLES order) of the selected box's handle under ``screen``, or None."""
        shown = self.view.label_overlay.shown
        i = index_of(shown, self.state.selected_track) if self.state.selected_track >= 0 else None
        if i is None:
            return None
        pts = np.array([self._to_screen(p) for p in handle_points(shown.boxes[i])])
        d = np.hypot(*(pts - screen).T)
        j = int(np.argmin(d))
        return j if d[j] <= HANDLE_PICK_PX else None

    def hit_box(self, xy: np.ndarray) -> int | None:
        """Track ID of the innermost label box containing image point ``xy``, or None."""
        shown = self.view.label_overlay.shown
        if not len(shown):
            return None
        b = shown.boxes
        inside = (b[:, 0] <= xy[0]) & (xy[0] < b[:, 2]) & (b[:, 1] <= xy[1]) & (xy[1] < b[:, 3])
        hits = np.flatnonzero(inside)
        if not len(hits):
            return None
        areas = (b[hits, 2] - b[hits, 0]) * (b[hits, 3] - b[hits, 1])
        return int(shown.ids[hits[np.argmin(areas)]])

    # ---- events -----------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if not self.active:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            return self._press(event)
        if kind == QEvent.Type.MouseMove and self._drag is not None:
            self._move(event)
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._drag is not None \
                and event.button() == Qt.MouseButton.LeftButton:
            self._release(event)
            return True
        if kind == QEvent.Type.MouseButtonDblClick and self.mode != "select":
            return True
        return False

    def _press(self, event) -> bool:
        screen = np.array([event.position().x(), event.position().y()])
        xy = self._to_image(event.position())
        frame = self.state.frame
        if self.mode == "draw":
            self._drag = {"kind": "draw", "start": xy, "start_px": screen, "box": None, "frame": frame}
            return True
        if self.mode == "merge":
            other = self.hit_box(xy)
            keep = self.state.selected_track
            self.set_mode("select")
            if other is not None and keep >= 0 and other != keep:
                self.editor.merge_tracks(keep=keep, other=other)
            return True
        handle = self.hit_handle(screen)
        if handle is not None:
            tid = self.state.selected_track
            shown = self.view.label_overlay.shown
            box = shown.boxes[index_of(shown, tid)].copy()
            self._drag = {"kind": "resize", "track": tid, "handle": handle, "origin": box, "start": xy,
                          "box": box.copy(), "frame": frame}
            return True
        tid = self.hit_box(xy)
        if tid is None:
            self.state.select_track(-1)
            return False  # empty space: the ViewBox pans as usual
        self.state.select_track(tid)
        shown = self.view.label_overlay.shown
        box = shown.boxes[index_of(shown, tid)].copy()
        self._drag = {"kind": "move", "track": tid, "origin": box, "start": xy, "box": box.copy(), "frame": frame}
        return True

    def _move(self, event) -> None:
        d = self._drag
        xy = self._to_image(event.position())
        if d["kind"] == "draw":
            x1, y1 = np.minimum(d["start"], xy)
            x2, y2 = np.maximum(d["start"], xy)
            d["box"] = self._clip(np.array([x1, y1, x2, y2]))
            self.view.label_overlay.show_draft(d["box"])
            return
        delta = xy - d["start"]
        box = d["origin"].copy()
        if d["kind"] == "move":
            box += np.array([delta[0], delta[1], delta[0], delta[1]])
        else:
            mask = np.array(HANDLES[d["handle"]][1], np.float64)
            box += mask * np.array([delta[0], delta[1], delta[0], delta[1]])
            # dragging an edge past its opposite edge stops there rather than flipping the box
            box[2] = max(box[2], box[0] + MIN_BOX_SIZE) if mask[2] else box[2]
            box[0] = min(box[0], box[2] - MIN_BOX_SIZE) if mask[0] else box[0]
            box[3] = max(box[3], box[1] + MIN_BOX_SIZE) if mask[3] else box[3]
            box[1] = min(box[1], box[3] - MIN_BOX_SIZE) if mask[1] else box[1]
        d["box"] = box
        self.view.label_overlay.preview(d["track"], box)

    def _clip(self, box: np.ndarray) -> np.ndarray:
        video = self.state.video
        if video is None:
            return box
        w, h = float(video.width), float(video.height)
        return np.array([min(max(box[0], 0.0), w), min(max(box[1], 0.0), h),
                         min(max(box[2], 0.0), w), min(max(box[3], 0.0), h)])

    def _release(self, event) -> None:
        self._move(event)
        d, self._drag = self._drag, None
        if d["kind"] == "draw":
            self.view.label_overlay.show_draft(None)
            self.set_mode("select")
            box = d["box"]
            end_px = np.array([event.position().x(), event.position().y()])
            if box is None or np.any(np.abs(end_px - d["start_px"]) < MIN_BOX_PX) or \
                    box[2] - box[0] < MIN_BOX_SIZE or box[3] - box[1] < MIN_BOX_SIZE:
                return
            track_id = self.ask_track_id(self.editor.next_free_id(), d["frame"])
            if track_id is not None:
                self.editor.add_box(track_id=int(track_id), frame=d["frame"], box=box)
                self.state.select_track(int(track_id))
            return
        if np.allclose(d["box"], d["origin"]):
            return  # a click, not a drag
        self.editor.set_box(track_id=d["track"], frame=d["frame"], box=d["box"],
                            what="Move box" if d["kind"] == "move" else "Resize box")
