"""Edits of a label set: one pure function per operation, each returning an undoable :class:`Change`.

An edit function never mutates its input: it validates its arguments (ValueError with a message a user
can read: unknown ID, frame out of range, non-finite box, x2 <= x1, an ID already used...), builds the
new states of the tracks it touches and returns a Change holding the states before and after. The caller
(the Qt undo stack, a script, the journal replay) applies it::

    change = set_box(labels, track_id=3, frame=120, box=[10, 20, 60, 140])
    change.apply(labels)      # labels now shows the corrected box (and the blended neighbours)
    change.revert(labels)     # back, bit for bit
    change.description        # "Move box #3 at frame 120" (for Edit > Undo ...)

Tracks are immutable, so a Change holds only references to whole-track states (cheap; undo is exact) and
serialises into the journal as the after-states of the tracks it touched (``engine.labels.journal``).
Boxes are [x1, y1, x2, y2], full-frame pixels, 0-based, x2/y2 exclusive. Frames are 0-based.

Every row carries its own class (``Track.classes``; ``Track.class_id`` is the track's default). Merge,
split and swap move rows with their classes (and visibility, consider flag); a new box takes the class
of its neighbouring row (the one before it, else the one after, not across an outside marker), else
the track's default.

Merge, split and swap keep every box where it was: a derived box at a cut or a junction whose value
would otherwise change (it was interpolated, or blended from a keyframe now on the other side) becomes
a keyframe; a gap between rows of different origin gets an "outside" marker instead of being filled.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from engine.labels.interpolate import affected_range, rederive
from engine.labels.model import (BoxKind, LabelSet, Track, check_box, check_class_id, check_track_id,
                                 check_visibility)

__all__ = ["Change", "add_box", "change_id", "clear_outside", "combine", "delete_box", "delete_frames",
           "delete_track", "mark_outside", "merge_tracks", "new_track", "set_box", "set_class",
           "set_consider", "set_keyframe", "set_visibility", "split_track", "swap_ids"]

States = Mapping[int, "Track | None"]


@dataclass(frozen=True, eq=False)
class Change:
    """What one edit changed: the states of the touched tracks before and after (None = no track).

    ``info`` carries what the user should be told (e.g. ``dropped_keyframes`` of a merge) and
    ``message`` says it in words ("" when there is nothing to add to the description).
    """

    description: str
    before: States
    after: States
    info: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""

    @property
    def track_ids(self) -> tuple[int, ...]:
        """IDs whose track changed (appeared, disappeared or was replaced)."""
        return tuple(sorted(set(self.before) | set(self.after)))

    @property
    def frame_range(self) -> tuple[int, int] | None:
        """(first, last) frames touched by any before/after state (for redraws); None if no rows."""
        spans = [(t.first, t.last) for s in (self.before, self.after) for t in s.values() if t is not None]
        return (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None

    def apply(self, label_set: LabelSet) -> None:
        """Put the after-states into ``label_set``; ValueError if it is not in the before-state."""
        self._expect(label_set, self.before, "apply")
        label_set._set_tracks(self.after)

    def revert(self, label_set: LabelSet) -> None:
        """Put the before-states back; ValueError if ``label_set`` is not in the after-state."""
        self._expect(label_set, self.after, "revert")
        label_set._set_tracks(self.before)

    def _expect(self, label_set: LabelSet, states: States, verb: str) -> None:
        for tid, t in states.items():
            cur = label_set._tracks.get(tid)
            if cur is t or (t is not None and t.same_as(cur)):
                continue
            raise ValueError(f"cannot {verb} {self.description!r}: track {tid} of label set "
                             f"{label_set.name!r} was changed since (edits must be undone in order)")

    def __repr__(self) -> str:
        return f"Change({self.description!r}, tracks {list(self.track_ids)})"


def combine(description: str, changes: Sequence[Change]) -> Change:
    """One Change doing ``changes`` in order (each computed on the state the previous one leaves)."""
    before: dict[int, Track | None] = {}
    after: dict[int, Track | None] = {}
    info: dict[str, Any] = {}
    messages = []
    for c in changes:
        for tid, t in c.before.items():
            before.setdefault(tid, t)
        after.update(c.after)
        info.update(c.info)
        if c.message:
            messages.append(c.message)
    return Change(description, before, after, info, " ".join(messages))


# ---------------------------------------------------------------------------- argument checks

def _frame(ls: LabelSet, frame, what: str = "frame") -> int:
    if isinstance(frame, (bool, np.bool_)) or not isinstance(frame, (int, np.integer)):
        raise ValueError(f"{what} must be an integer, got {frame!r}")
    frame = int(frame)
    if not 0 <= frame < ls.num_frames:
        raise ValueError(f"{what} {frame} outside [0, {ls.num_frames - 1}]")
    return frame


def _track(ls: LabelSet, track_id) -> Track:
    tid = check_track_id(track_id)
    t = ls._tracks.get(tid)
    if t is None:
        raise ValueError(f"label set {ls.name!r} has no track {tid}")
    return t


def _row(t: Track, frame: int, verb: str) -> int:
    i = t.row(frame)
    if i is None:
        raise ValueError(f"track {t.track_id} has no box at frame {frame} to {verb} "
                         f"(its boxes span frames {t.first}..{t.last})")
    return i


def _range(ls: LabelSet, t: Track, first, last) -> tuple[int, int]:
    a = t.first if first is None else _frame(ls, first, "first frame")
    b = t.last if last is None else _frame(ls, last, "last frame")
    if b < a:
        raise ValueError(f"last frame {b} is before first frame {a}")
    return a, b


# ---------------------------------------------------------------------------- track surgery

def _rows(t: Track, mask: np.ndarray) -> dict[str, np.ndarray]:
    return dict(frames=t.frames[mask], boxes=t.boxes[mask], kinds=t.kinds[mask],
                model_boxes=t.model_boxes[mask], visibility=t.visibility[mask], consider=t.consider[mask],
                classes=t.classes[mask])


def _concat(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.argsort(cols["frames"], kind="stable")
    return {k: v[order] for k, v in cols.items()}


def _changed_rows(want: Track, got: Track) -> np.ndarray:
    """(n,) bool over ``want``'s rows: missing from ``got`` or with another box there."""
    idx = np.clip(np.searchsorted(got.frames, want.frames), 0, max(len(got) - 1, 0))
    present = got.frames[idx] == want.frames if len(got) else np.zeros(len(want), bool)
    same = present & np.isclose(got.boxes[idx], want.boxes, rtol=0, atol=1e-9).all(axis=1)
    return ~same


def _settle(track_id: int, class_id: int, cols: dict[str, np.ndarray], outside: np.ndarray,
            junctions: Sequence[int], num_frames: int) -> Track | None:
    """The track made of ``cols`` (rows) and ``outside`` markers, re-derived around the ``junctions``
    (frames next to a cut or a join) so that no box moves and no box appears: where re-deriving would
    change a box, derived rows become keyframes where they stand (first the junction rows, then the
    ends of each run of changed rows; derived boxes are linear between keyframes, so anchoring a run's
    ends keeps the run), and a gap the new keyframes would interpolate over gets an outside marker.
    Rows away from the junctions keep their values. Markers on a row's frame or before the first row
    are dropped. Rows whose classes are all one class make that the default (a single-class track's
    default is its rows' class)."""
    frames = cols["frames"]
    if not len(frames):
        return None
    if "classes" in cols and len(np.unique(cols["classes"])) == 1:
        class_id = int(cols["classes"][0])
    outside = np.unique(np.asarray(outside, np.int64))
    outside = outside[(outside > frames[0]) & ~np.isin(outside, frames)]
    want = Track.build(track_id=track_id, class_id=class_id, outside=outside, num_frames=num_frames, **cols)
    junctions = sorted({int(j) for j in junctions if want.row(int(j)) is not None})
    ranges = [affected_range(want, j) for j in junctions]

    def derive(t: Track) -> Track:
        for lo, hi in ranges:
            t = rederive(t, lo, hi)
        return t

    current = want
    for attempt in range(5):
        derived = derive(current)
        added = derived.frames[~np.isin(derived.frames, want.frames)]
        if len(added):  # keyframes closed a segment over a gap the track had: keep the gap a gap
            starts = added[np.r_[True, np.diff(added) > 1]]
            current = current.replace(outside=np.union1d(current.outside, starts))
            derived = derive(current)
        changed = _changed_rows(want, derived)
        if not changed.any():
            return derived
        derived_rows = current.kinds != BoxKind.KEYFRAME
        if attempt == 0:
            promote = np.isin(want.frames, junctions)
        elif attempt < 4:
            run_edge = changed & ~(np.r_[False, changed[:-1]] & np.r_[changed[1:], False])
            promote = run_edge
        else:
            promote = changed
        kinds = current.kinds.copy()
        kinds[promote & derived_rows] = BoxKind.KEYFRAME
        current = current.replace(kinds=kinds)
    return derive(current)


def _gap_markers(frames: np.ndarray, source: np.ndarray, outside: np.ndarray) -> tuple[list[int], list[int]]:
    """Junction frames (rows next to a change of origin) and markers for the gaps at those junctions."""
    switch = np.flatnonzero(source[1:] != source[:-1])
    junctions = np.unique(np.concatenate([frames[switch], frames[switch + 1]])).tolist()
    markers = []
    for i in switch.tolist():
        a, b = int(frames[i]), int(frames[i + 1])
        if b - a > 1 and not ((outside > a) & (outside < b)).any():
            markers.append(a + 1)
    return junctions, markers


def _join(track_id: int, class_id: int, parts: Sequence[tuple[Track, np.ndarray]], outside, cuts: Sequence[int],
          num_frames: int) -> Track | None:
    """Rows of several tracks (non-overlapping frames) as one track; see :func:`_settle`."""
    pieces = [(_rows(t, m), np.full(int(m.sum()), i)) for i, (t, m) in enumerate(parts)]
    pieces = [(p, s) for p, s in pieces if len(s)]
    if not pieces:
        return None
    cols = _concat([p for p, _ in pieces])
    src = np.concatenate([s for _, s in pieces])[np.argsort(np.concatenate([p["frames"] for p, _ in pieces]),
                                                            kind="stable")]
    outside = np.asarray(outside, np.int64)
    junctions, markers = _gap_markers(cols["frames"], src, outside)
    return _settle(track_id, class_id, cols, np.concatenate([outside, np.asarray(markers, np.int64)]),
                   list(junctions) + list(cuts), num_frames)


def _neighbour_class(t: Track, frame: int) -> int:
    """The class a new row at ``frame`` takes: the row before it, else the row after it, when no
    outside marker lies between (the object may have changed while out of view), else the default."""
    j = int(np.searchsorted(t.frames, frame))
    if j > 0 and not ((t.outside > t.frames[j - 1]) & (t.outside <= frame)).any():
        return int(t.classes[j - 1])
    if j < len(t) and not ((t.outside > frame) & (t.outside <= t.frames[j])).any():
        return int(t.classes[j])
    return t.class_id


def _with_keyframe(t: Track, frame: int, box: np.ndarray) -> Track:
    """``t`` with a keyframe ``box`` at ``frame`` (replacing or inserting the row), re-derived around it."""
    i = t.row(frame)
    if i is not None:
        boxes = t.boxes.copy()
        kinds = t.kinds.copy()
        boxes[i] = box
        kinds[i] = BoxKind.KEYFRAME
        new = t.replace(boxes=boxes, kinds=kinds)
    else:
        j = int(np.searchsorted(t.frames, frame))
        prev = max(j - 1, 0)
        new = t.replace(frames=np.insert(t.frames, j, frame), boxes=np.insert(t.boxes, j, box, axis=0),
                        kinds=np.insert(t.kinds, j, BoxKind.KEYFRAME),
                        model_boxes=np.insert(t.model_boxes, j, np.nan, axis=0),
                        visibility=np.insert(t.visibility, j, t.visibility[prev]),
                        consider=np.insert(t.consider, j, t.consider[prev]),
                        classes=np.insert(t.classes, j, _neighbour_class(t, frame)),
                        outside=t.outside[t.outside != frame])
    lo, hi = affected_range(new, frame)
    return rederive(new, lo, hi)


def _change(description: str, ls: LabelSet, after: dict[int, Track | None], **info) -> Change:
    before = {tid: ls._tracks.get(tid) for tid in after}
    message = info.pop("message", "")
    return Change(description, before, after, info, message)


# ---------------------------------------------------------------------------- boxes

def new_track(label_set: LabelSet, *, frame: int, box, track_id: int | None = None, class_id: int = 1,
              visibility: float = 1.0, consider: bool = True) -> Change:
    """A new track with one keyframe. ``track_id`` defaults to one above the largest ID in use; an ID
    already in use is refused (add a box to that track instead)."""
    frame = _frame(label_set, frame)
    box = check_box(box)
    tid = label_set.next_free_id() if track_id is None else check_track_id(track_id)
    if tid in label_set:
        raise ValueError(f"track ID {tid} is already used (frames {label_set.track(tid).first}.."
                         f"{label_set.track(tid).last}); add a box to it or pick another ID")
    t = Track.build(track_id=tid, class_id=check_class_id(class_id), frames=[frame], boxes=[box],
                    kinds=[BoxKind.KEYFRAME], visibility=[check_visibility(visibility)],
                    consider=[bool(consider)], num_frames=label_set.num_frames)
    return _change(f"New track #{tid} at frame {frame}", label_set, {tid: t})


def add_box(label_set: LabelSet, *, track_id: int, frame: int, box) -> Change:
    """A keyframe for an existing track at a frame where it has no box (frames between it and a
    neighbouring keyframe are interpolated unless an outside marker lies between)."""
    t = _track(label_set, track_id)
    frame = _frame(label_set, frame)
    box = check_box(box)
    if t.row(frame) is not None:
        raise ValueError(f"track {t.track_id} already has a box at frame {frame} (move it instead)")
    return _change(f"Add box #{t.track_id} at frame {frame}", label_set,
                   {t.track_id: _with_keyframe(t, frame, box)})


def set_box(label_set: LabelSet, *, track_id: int, frame: int, box) -> Change:
    """Move / resize the box of a track at a frame: it becomes a keyframe; interpolated boxes around it
    follow, and model boxes up to the neighbouring keyframes get the correction blended in."""
    t = _track(label_set, track_id)
    frame = _frame(label_set, frame)
    box = check_box(box)
    _row(t, frame, "move")
    return _change(f"Move box #{t.track_id} at frame {frame}", label_set,
                   {t.track_id: _with_keyframe(t, frame, box)})


def set_keyframe(label_set: LabelSet, *, track_id: int, frame: int, keyframe: bool = True) -> Change:
    """Make the box at ``frame`` a keyframe where it stands, or (keyframe=False) turn a keyframe back
    into a derived box: the model box plus the blended correction, an interpolated box, or nothing
    when neither applies (the track then ends or has a gap there)."""
    t = _track(label_set, track_id)
    frame = _frame(label_set, frame)
    i = _row(t, frame, "change")
    tid = t.track_id
    if keyframe:
        if t.kinds[i] == BoxKind.KEYFRAME:
            raise ValueError(f"the box of track {tid} at frame {frame} is already a keyframe")
        return _change(f"Keyframe #{tid} at frame {frame}", label_set,
                       {tid: _with_keyframe(t, frame, t.boxes[i])})
    if t.kinds[i] != BoxKind.KEYFRAME:
        raise ValueError(f"the box of track {tid} at frame {frame} is not a keyframe")
    if np.isfinite(t.model_boxes[i]).all():
        kinds = t.kinds.copy()
        kinds[i] = BoxKind.MODEL
        new = t.replace(kinds=kinds)
    else:
        keep = np.ones(len(t), bool)
        keep[i] = False
        if not keep.any():
            raise ValueError(f"track {tid} has no other box (delete the track instead)")
        new = t.replace(**_rows(t, keep))
    lo, hi = affected_range(new, frame)
    new = rederive(new, lo, hi)
    return _change(f"Remove keyframe #{tid} at frame {frame}", label_set, {tid: new})


def delete_frames(label_set: LabelSet, *, track_id: int, first: int, last: int,
                  description: str | None = None) -> Change:
    """Remove a track's boxes in frames [first, last]. When boxes remain after the range the object is
    marked outside from ``first`` (so nothing is interpolated back into the hole); deleting every box
    deletes the track."""
    t = _track(label_set, track_id)
    a, b = _range(label_set, t, first, last)
    tid = t.track_id
    hole = (t.frames >= a) & (t.frames <= b)
    if not hole.any():
        raise ValueError(f"track {tid} has no box in frames {a}..{b}")
    keep = ~hole
    desc = description or f"Delete frames {a}..{b} of track #{tid}"
    if not keep.any():
        return _change(desc, label_set, {tid: None})
    outside = list(t.outside[(t.outside < a) | (t.outside > b)])
    if (t.frames[keep] > b).any() and (t.frames[keep] < a).any():
        outside.append(a)
    cuts = [int(t.frames[keep][t.frames[keep] < a][-1])] if (t.frames[keep] < a).any() else []
    cuts += [int(t.frames[keep][t.frames[keep] > b][0])] if (t.frames[keep] > b).any() else []
    new = _settle(tid, t.class_id, _rows(t, keep), np.array(outside, np.int64), cuts, label_set.num_frames)
    return _change(desc, label_set, {tid: new})


def delete_box(label_set: LabelSet, *, track_id: int, frame: int) -> Change:
    """Remove one box (the object is not there at that frame); see :func:`delete_frames`."""
    frame = _frame(label_set, frame)
    _row(_track(label_set, track_id), frame, "delete")
    return delete_frames(label_set, track_id=track_id, first=frame, last=frame,
                         description=f"Delete box #{int(track_id)} at frame {frame}")


def delete_track(label_set: LabelSet, *, track_id: int) -> Change:
    """Remove a whole track."""
    t = _track(label_set, track_id)
    return _change(f"Delete track #{t.track_id}", label_set, {t.track_id: None})


def mark_outside(label_set: LabelSet, *, track_id: int, frame: int) -> Change:
    """The object is outside (left the view, hidden) from ``frame`` until the track's next keyframe:
    the boxes in between are removed and nothing is interpolated across. Without a later keyframe the
    track ends at ``frame - 1``. Boxes before ``frame`` do not move."""
    t = _track(label_set, track_id)
    frame = _frame(label_set, frame)
    tid = t.track_id
    if not t.first < frame <= t.last + 1:
        raise ValueError(f"track {tid} has boxes in frames {t.first}..{t.last}: outside can start from "
                         f"frame {t.first + 1} to {min(t.last + 1, label_set.num_frames - 1)}")
    if frame in t.outside:
        raise ValueError(f"track {tid} is already outside from frame {frame}")
    kf = t.keyframes()
    later = kf[kf > frame]
    stop = int(later[0]) if len(later) else label_set.num_frames
    keep = (t.frames < frame) | (t.frames >= stop)
    cuts = [int(t.frames[t.frames < frame][-1])]
    new = _settle(tid, t.class_id, _rows(t, keep), np.append(t.outside, frame), cuts, label_set.num_frames)
    return _change(f"Outside #{tid} from frame {frame}", label_set, {tid: new})


def clear_outside(label_set: LabelSet, *, track_id: int, frame: int) -> Change:
    """Remove the outside marker at ``frame``: the frames between the keyframes around it are
    interpolated again (boxes removed by the marker come back only through undo)."""
    t = _track(label_set, track_id)
    frame = _frame(label_set, frame)
    tid = t.track_id
    if frame not in t.outside:
        raise ValueError(f"track {tid} has no outside marker at frame {frame} (markers: {t.outside.tolist()})")
    new = t.replace(outside=t.outside[t.outside != frame])
    lo, hi = affected_range(new, frame)
    return _change(f"Clear outside #{tid} at frame {frame}", label_set, {tid: rederive(new, lo, hi)})


# ---------------------------------------------------------------------------- IDs

def _overlap(a: Track, b: Track) -> np.ndarray:
    return np.intersect1d(a.frames, b.frames, assume_unique=True)


def merge_tracks(label_set: LabelSet, *, keep_id: int, other_id: int) -> Change:
    """Put every box of ``other_id`` into ``keep_id`` (which keeps its ID and default class; every box keeps
    its own row class). In frames where both
    have a box: a keyframe wins over a derived box; of two keyframes ``keep_id``'s stays and the other's
    is dropped (listed in ``info['dropped_keyframes']`` and the message); of two derived boxes
    ``keep_id``'s stays."""
    keep = _track(label_set, keep_id)
    other = _track(label_set, other_id)
    if keep.track_id == other.track_id:
        raise ValueError(f"cannot merge track {keep.track_id} with itself")
    both = _overlap(keep, other)
    k_key = np.isin(both, keep.keyframes())
    o_key = np.isin(both, other.keyframes())
    from_other = both[o_key & ~k_key]
    dropped = both[o_key & k_key]
    keep_mask = ~np.isin(keep.frames, from_other)
    other_mask = ~np.isin(other.frames, both) | np.isin(other.frames, from_other)
    merged = _join(keep.track_id, keep.class_id, [(keep, keep_mask), (other, other_mask)],
                   np.concatenate([keep.outside, other.outside]), [], label_set.num_frames)
    message = ""
    if len(dropped):
        shown = ", ".join(str(f) for f in dropped[:10].tolist()) + (" ..." if len(dropped) > 10 else "")
        message = (f"{len(dropped)} keyframe(s) of track {other.track_id} dropped where both tracks had one "
                   f"(frames {shown})")
    return _change(f"Merge #{other.track_id} into #{keep.track_id}", label_set,
                   {keep.track_id: merged, other.track_id: None},
                   dropped_keyframes=[int(f) for f in dropped], message=message)


def split_track(label_set: LabelSet, *, track_id: int, frame: int, new_id: int | None = None) -> Change:
    """Boxes from ``frame`` on become a new track ``new_id`` (default: one above the largest ID in use;
    an ID in use is refused), with the same default class; every box keeps its row class. Both parts need
    at least one box."""
    t = _track(label_set, track_id)
    frame = _frame(label_set, frame)
    tid = t.track_id
    nid = label_set.next_free_id() if new_id is None else check_track_id(new_id, "new track ID")
    if nid in label_set:
        raise ValueError(f"track ID {nid} is already used; pick an unused ID for the split-off part")
    right = t.frames >= frame
    if right.all() or not right.any():
        raise ValueError(f"track {tid} has boxes in frames {t.first}..{t.last}: splitting at frame {frame} "
                         f"would leave one part empty")
    right_first = int(t.frames[right][0])
    left = _settle(tid, t.class_id, _rows(t, ~right), t.outside[t.outside < right_first],
                   [int(t.frames[~right][-1])], label_set.num_frames)
    new = _settle(nid, t.class_id, _rows(t, right), t.outside[t.outside > right_first], [right_first],
                  label_set.num_frames)
    return _change(f"Split #{tid} at frame {frame} (new #{nid})", label_set, {tid: left, nid: new})


def swap_ids(label_set: LabelSet, *, id_a: int, id_b: int, frame: int) -> Change:
    """From ``frame`` on, the boxes of ``id_a`` belong to ``id_b`` and vice versa (an ID switch fix).
    Each ID keeps its default class; the boxes move with their row classes."""
    a = _track(label_set, id_a)
    b = _track(label_set, id_b)
    frame = _frame(label_set, frame)
    if a.track_id == b.track_id:
        raise ValueError(f"cannot swap track {a.track_id} with itself")
    ra, rb = a.frames >= frame, b.frames >= frame
    if not ra.any() and not rb.any():
        raise ValueError(f"neither track {a.track_id} nor {b.track_id} has a box from frame {frame} on")

    def part(t: Track, after: bool) -> np.ndarray:
        return t.outside[t.outside >= frame] if after else t.outside[t.outside < frame]

    def cuts(t: Track, m: np.ndarray) -> list[int]:
        c = []
        if (~m).any():
            c.append(int(t.frames[~m][-1]))
        if m.any():
            c.append(int(t.frames[m][0]))
        return c

    new_a = _join(a.track_id, a.class_id, [(a, ~ra), (b, rb)], np.concatenate([part(a, False), part(b, True)]),
                  cuts(a, ra) + cuts(b, rb), label_set.num_frames)
    new_b = _join(b.track_id, b.class_id, [(b, ~rb), (a, ra)], np.concatenate([part(b, False), part(a, True)]),
                  cuts(a, ra) + cuts(b, rb), label_set.num_frames)
    return _change(f"Swap #{a.track_id} and #{b.track_id} from frame {frame}", label_set,
                   {a.track_id: new_a, b.track_id: new_b})


def change_id(label_set: LabelSet, *, track_id: int, new_id: int, swap: bool = False) -> Change:
    """Give a track another ID. An unused ID renames it. An ID whose track has no box in the same frames
    merges the two (the track of ``new_id`` keeps its class, see :func:`merge_tracks`). An ID used in an
    overlapping frame is refused with a message, unless ``swap``: then the two tracks exchange IDs."""
    t = _track(label_set, track_id)
    nid = check_track_id(new_id, "new track ID")
    tid = t.track_id
    if nid == tid:
        raise ValueError(f"track {tid} already has ID {nid}")
    other = label_set._tracks.get(nid)
    if other is None:
        return _change(f"Change ID #{tid} to #{nid}", label_set,
                       {tid: None, nid: t.replace(track_id=nid)})
    if swap:
        return _change(f"Swap IDs #{tid} and #{nid}", label_set,
                       {tid: other.replace(track_id=tid), nid: t.replace(track_id=nid)})
    both = _overlap(t, other)
    if len(both):
        raise ValueError(f"ID {nid} is already used by another track in {len(both)} frame(s) where track "
                         f"{tid} has a box (first: frame {int(both[0])}); pick another ID, or swap the two IDs")
    merged = merge_tracks(label_set, keep_id=nid, other_id=tid)
    return Change(f"Change ID #{tid} to #{nid} (merged)", merged.before, merged.after, merged.info,
                  merged.message)


# ---------------------------------------------------------------------------- attributes

def set_class(label_set: LabelSet, *, track_id: int, class_id: int, first: int | None = None,
              last: int | None = None) -> Change:
    """The MOT class of a whole track (its default and every row), or, given ``first`` and/or ``last``,
    of its boxes in [first, last] only (e.g. distractor 8 while the object is mostly out of view; the
    default changes too when every row then has the class)."""
    t = _track(label_set, track_id)
    cid = check_class_id(class_id)
    tid = t.track_id
    if first is None and last is None:
        if cid == t.class_id and t.single_class:
            raise ValueError(f"track {tid} already has class {cid}")
        return _change(f"Class {cid} for #{tid}", label_set,
                       {tid: t.replace(class_id=cid, classes=np.full(len(t), cid, np.int64))})
    a, b = _range(label_set, t, first, last)
    m = (t.frames >= a) & (t.frames <= b)
    if not m.any():
        raise ValueError(f"track {tid} has no box in frames {a}..{b}")
    if (t.classes[m] == cid).all():
        raise ValueError(f"track {tid} already has class {cid} in frames {a}..{b}")
    classes = t.classes.copy()
    classes[m] = cid
    default = cid if (classes == cid).all() else t.class_id
    return _change(f"Class {cid} for #{tid} frames {a}..{b}", label_set,
                   {tid: t.replace(class_id=default, classes=classes)})


def set_visibility(label_set: LabelSet, *, track_id: int, visibility: float, first: int | None = None,
                   last: int | None = None) -> Change:
    """Visibility in [0, 1] of a track's boxes in [first, last] (default: all of them)."""
    t = _track(label_set, track_id)
    v = check_visibility(visibility)
    a, b = _range(label_set, t, first, last)
    m = (t.frames >= a) & (t.frames <= b)
    if not m.any():
        raise ValueError(f"track {t.track_id} has no box in frames {a}..{b}")
    if (t.visibility[m] == v).all():
        raise ValueError(f"track {t.track_id} already has visibility {v:g} in frames {a}..{b}")
    vis = t.visibility.copy()
    vis[m] = v
    return _change(f"Visibility {v:g} for #{t.track_id} frames {a}..{b}", label_set,
                   {t.track_id: t.replace(visibility=vis)})


def set_consider(label_set: LabelSet, *, track_id: int, consider: bool, first: int | None = None,
                 last: int | None = None) -> Change:
    """MOT's consider flag (False = ignore in evaluation) of a track's boxes in [first, last]."""
    t = _track(label_set, track_id)
    a, b = _range(label_set, t, first, last)
    m = (t.frames >= a) & (t.frames <= b)
    if not m.any():
        raise ValueError(f"track {t.track_id} has no box in frames {a}..{b}")
    if (t.consider[m] == bool(consider)).all():
        raise ValueError(f"track {t.track_id} is already {'considered' if consider else 'ignored'} in frames "
                         f"{a}..{b}")
    con = t.consider.copy()
    con[m] = bool(consider)
    word = "Consider" if consider else "Ignore"
    return _change(f"{word} #{t.track_id} frames {a}..{b}", label_set, {t.track_id: t.replace(consider=con)})
