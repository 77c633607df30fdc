"""LabelEditor: the label set being edited, as a plain QObject (no widgets): which set, the window's undo
stack, and one public slot per edit. The mouse tools, the menus, the label panel and the test hook
(``stviewer --edit-script``) all edit through these slots, so every path is the same.

Each slot asks engine.labels.edits for a Change (pure; a refused edit raises ValueError with the reason,
which goes to ``refused``) and pushes it on the stack; applying or reverting a Change hands it to the
autosaver (journal) and emits ``edited``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine.labels import LabelSet
from engine.labels import edits as E
from stviewer.editing.commands import ChangeCommand
from stviewer.state import ViewerState


class LabelEditor(QObject):
    labelSetChanged = Signal()  # another set (or none) is edited
    edited = Signal(object)  # the Change just applied or reverted
    refused = Signal(str)  # an edit the engine refused, with its reason
    message = Signal(str)  # what the user should know about an edit that happened (e.g. dropped keyframes)

    def __init__(self, state: ViewerState, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.labels: LabelSet | None = None
        self.stack = QUndoStack(self)  # no undo limit: hours of work stay undoable
        self.on_change: Callable[[object, bool], None] | None = None  # the autosaver's journal append

    # ---- the set being edited --------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        return None if self.labels is None else self.labels.name

    def set_labels(self, labels: LabelSet | None) -> None:
        """Edit ``labels`` (None: stop editing). The undo history belongs to the previous set: cleared."""
        self.stack.clear()
        self.labels = labels
        self.labelSetChanged.emit()

    def frame_boxes(self, k: int):
        if self.labels is None or not 0 <= int(k) < self.labels.num_frames:
            return None
        return self.labels.frame_boxes(int(k))

    def next_free_id(self) -> int:
        return 1 if self.labels is None else self.labels.next_free_id()

    def track_info(self, track_id: int, frame: int) -> dict | None:
        """What the label panel shows of a track (None if the set has no such track)."""
        from stviewer.editing.overlay import KIND_NAMES

        if self.labels is None or int(track_id) not in self.labels:
            return None
        t = self.labels.track(int(track_id))
        i = t.row(int(frame))
        if i is not None:
            kind = KIND_NAMES[int(t.kinds[i])]
            vis, ignored = float(t.visibility[i]), not bool(t.consider[i])
        else:
            kind = "outside" if np.any((t.outside <= frame)) and frame > t.first else "no box"
            vis, ignored = float(t.visibility[-1]), not bool(t.consider[-1])
        return {"id": t.track_id, "class": t.class_id, "visibility": vis, "ignored": ignored, "kind": kind,
                "frames": len(t), "keyframes": len(t.keyframes())}

    # ---- applying --------------------------------------------------------------------------------
    def apply_change(self, change, *, forward: bool) -> None:
        """Called by the undo stack's commands only."""
        (change.apply if forward else change.revert)(self.labels)
        if self.on_change is not None:
            self.on_change(change, forward)
        self.edited.emit(change)

    def _push(self, make: Callable[[], object], *, text: str = "") -> bool:
        """Compute a Change with ``make`` and push it; False (and ``refused``) when the engine refuses."""
        if self.labels is None:
            self.refused.emit("no label set is being edited: pick or create one in the Labels panel")
            return False
        try:
            change = make()
        except (ValueError, KeyError, IndexError) as exc:
            self.refused.emit(str(exc).strip("'\""))
            return False
        self.stack.push(ChangeCommand(self, change, text=text))
        if change.message:
            self.message.emit(change.message)
        return True

    # ---- edits (public slots) --------------------------------------------------------------------
    def set_box(self, *, track_id: int, frame: int, box, what: str = "") -> bool:
        """Move / resize a box (it becomes a keyframe; neighbours follow). ``what``: the undo text's verb."""
        text = f"{what} #{int(track_id)} at frame {int(frame)}" if what else ""
        return self._push(lambda: E.set_box(self.labels, track_id=int(track_id), frame=int(frame),
                                            box=np.asarray(box, np.float64)), text=text)

    def add_box(self, *, track_id: int, frame: int, box) -> bool:
        """A drawn box: a keyframe of ``track_id`` (a new track when the ID is not used yet)."""
        box = np.asarray(box, np.float64)
        labels = self.labels
        if labels is not None and int(track_id) in labels:
            return self._push(lambda: E.add_box(labels, track_id=int(track_id), frame=int(frame), box=box))
        return self._push(lambda: E.new_track(labels, frame=int(frame), box=box, track_id=int(track_id)))

    def delete_box(self, *, track_id: int, frame: int) -> bool:
        return self._push(lambda: E.delete_box(self.labels, track_id=int(track_id), frame=int(frame)))

    def delete_track(self, *, track_id: int) -> bool:
        return self._push(lambda: E.delete_track(self.labels, track_id=int(track_id)))

    def delete_frames(self, *, track_id: int, first: int, last: int) -> bool:
        return self._push(lambda: E.delete_frames(self.labels, track_id=int(track_id), first=int(first),
                                                  last=int(last)))

    def toggle_keyframe(self, *, track_id: int, frame: int) -> bool:
        """K: make the box at ``frame`` a keyframe where it stands, or a keyframe back a derived box."""
        def make():
            t = self.labels.track(int(track_id))
            i = t.row(int(frame))
            is_key = i is not None and int(t.kinds[i]) == 0
            return E.set_keyframe(self.labels, track_id=int(track_id), frame=int(frame), keyframe=not is_key)
        return self._push(make)

    def toggle_outside(self, *, track_id: int, frame: int) -> bool:
        """O: the object is outside from ``frame`` on (or, on a marker's frame, inside again)."""
        def make():
            t = self.labels.track(int(track_id))
            if int(frame) in set(t.outside.tolist()):
                return E.clear_outside(self.labels, track_id=int(track_id), frame=int(frame))
            return E.mark_outside(self.labels, track_id=int(track_id), frame=int(frame))
        return self._push(make)

    def merge_tracks(self, *, keep: int, other: int) -> bool:
        return self._push(lambda: E.merge_tracks(self.labels, keep_id=int(keep), other_id=int(other)))

    def split_track(self, *, track_id: int, frame: int, new_id: int | None = None) -> bool:
        return self._push(lambda: E.split_track(self.labels, track_id=int(track_id), frame=int(frame),
                                                new_id=None if new_id is None else int(new_id)))

    def change_id(self, *, track_id: int, new_id: int, swap: bool = False) -> bool:
        return self._push(lambda: E.change_id(self.labels, track_id=int(track_id), new_id=int(new_id),
                                              swap=bool(swap)))

    def swap_ids(self, *, id_a: int, id_b: int, frame: int) -> bool:
        return self._push(lambda: E.swap_ids(self.labels, id_a=int(id_a), id_b=int(id_b), frame=int(frame)))

    def set_class(self, *, track_id: int, class_id: int) -> bool:
        return self._push(lambda: E.set_class(self.labels, track_id=int(track_id), class_id=int(class_id)))

    def set_visibility(self, *, track_id: int, visibility: float) -> bool:
        return self._push(lambda: E.set_visibility(self.labels, track_id=int(track_id),
                                                   visibility=float(visibility)))

    def set_consider(self, *, track_id: int, consider: bool) -> bool:
        return self._push(lambda: E.set_consider(self.labels, track_id=int(track_id), consider=bool(consider)))

    # ---- navigation ------------------------------------------------------------------------------
    def neighbour_keyframe(self, *, track_id: int, frame: int, direction: int) -> int | None:
        """The selected track's previous (direction -1) or next (+1) keyframe from ``frame``; with no track,
        the nearest keyframe of any track."""
        if self.labels is None:
            return None
        if int(track_id) in self.labels:
            kf = self.labels.track(int(track_id)).keyframes()
        else:
            parts = [t.keyframes() for t in self.labels.tracks()]
            kf = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        if direction < 0:
            i = int(np.searchsorted(kf, frame, side="left")) - 1
            return int(kf[i]) if i >= 0 else None
        i = int(np.searchsorted(kf, frame, side="right"))
        return int(kf[i]) if i < len(kf) else None
