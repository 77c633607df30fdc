"""The label-set model: named, editable tracks beside a video's runs (Qt-free).

A :class:`LabelSet` holds tracks keyed by a positive integer ID the user chose (never renumbered). Each
:class:`Track` is immutable and stores its rows column-wise, sorted by frame, so an edit replaces ONE
track object and touches nothing else (undo keeps the old object; see ``engine.labels.edits``).

Per row (one per frame where the track is *inside*, i.e. shown and exported):

=============  ====================  ==========================================================
frames         int64 (n,)            0-based frame index, strictly increasing
boxes          float64 (n, 4)        [x1, y1, x2, y2] full-frame pixels, 0-based, x2/y2 exclusive
                                      (the cache's convention; ``engine.io.mot`` converts to MOT)
kinds          uint8 (n,)            :class:`BoxKind`
model_boxes    float64 (n, 4)        the box the model run (or an import) gave at that frame, NaN
                                      where none; a correction is blended on top of it
visibility     float64 (n,)          in [0, 1] (MOT gt column 9)
consider       bool (n,)             MOT gt column 7 "consider" flag (False = ignored)
classes        int64 (n,)            MOT gt column 8 class of the row (MOT17 gt marks an actor
                                      as distractor 8 in the frames where it is mostly out of view)
=============  ====================  ==========================================================

Per track: ``track_id`` (1 .. MAX_TRACK_ID), ``class_id`` (the track's default MOT class, default 1 =
pedestrian: what a track shows as its class, and what a row gets when it has no neighbouring row to take
its class from; every row of a single-class track has it) and
``outside`` (int64 (m,) sorted frames): "outside from this frame" markers. The object is outside from a
marker until the track's next row; no interpolation or correction blend crosses a marker, and marker
frames never hold a row. Frames without a row are simply not part of the track (not exported).

Kinds: KEYFRAME rows are boxes the user placed; INTERPOLATED rows fill the frames between two keyframes
that have no model box (linear in the corners, like CVAT); MODEL rows came from a run or an import and
carry the correction blended from the neighbouring keyframes (``engine.labels.interpolate``).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import IntEnum
from typing import Iterable, Mapping

import numpy as np

MAX_TRACK_ID = 2**31 - 1     # MOT files and TrackEval hold IDs as int32
MAX_CLASS_ID = 2**31 - 1
MAX_COORD = 1e7              # |coordinate| bound: anything larger is a damaged file, not a box
MAX_FRAMES = 2**31 - 1

#: MOTChallenge (MOT16/17/20) ground-truth classes; the default ``LabelSet.class_names``.
MOT_CLASS_NAMES: dict[int, str] = {
    1: "pedestrian", 2: "person_on_vehicle", 3: "car", 4: "bicycle", 5: "motorbike", 6: "non_mot_vehicle",
    7: "static_person", 8: "distractor", 9: "occluder", 10: "occluder_on_ground", 11: "occluder_full",
    12: "reflection", 13: "crowd",
}


class BoxKind(IntEnum):
    """How a row's box came to be (stored as uint8)."""

    KEYFRAME = 0       # placed by the user; an anchor for interpolation and the correction blend
    INTERPOLATED = 1   # linear between the neighbouring keyframes (no model box at that frame)
    MODEL = 2          # from a run or an import, plus the blended correction of the neighbouring keyframes


KIND_VALUES = frozenset(int(k) for k in BoxKind)

#: Columns of the flat row table of :meth:`LabelSet.to_rows` / :meth:`LabelSet.from_rows` (float64);
#: ``class_id`` is the row's own class (``Track.classes``), as MOT gt's column 8.
ROW_COLUMNS = ("frame", "track_id", "x1", "y1", "x2", "y2", "kind", "visibility", "consider", "class_id",
               "outside")
ROW_WIDTH = len(ROW_COLUMNS)
(COL_FRAME, COL_ID, COL_X1, COL_Y1, COL_X2, COL_Y2, COL_KIND, COL_VISIBILITY, COL_CONSIDER, COL_CLASS,
 COL_OUTSIDE) = range(ROW_WIDTH)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _check_int(value, what: str, hi: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    value = int(value)
    if not 1 <= value <= hi:
        raise ValueError(f"{what} must be in [1, {hi}], got {value}")
    return value


def check_track_id(track_id, what: str = "track ID") -> int:
    """``track_id`` as an int in [1, MAX_TRACK_ID]; ValueError otherwise (bool, float with a fraction...)."""
    return _check_int(track_id, what, MAX_TRACK_ID)


def check_class_id(class_id) -> int:
    """``class_id`` as an int in [1, MAX_CLASS_ID] (MOTChallenge uses 1..13)."""
    return _check_int(class_id, "class id", MAX_CLASS_ID)


def check_box(box, *, what: str = "box") -> np.ndarray:
    """A user box: (4,) float64 finite [x1, y1, x2, y2] with x2 > x1, y2 > y1, |coords| <= MAX_COORD."""
    b = np.asarray(box, dtype=np.float64)
    if b.shape != (4,):
        raise ValueError(f"{what} must be [x1, y1, x2, y2], got shape {b.shape}")
    if not np.isfinite(b).all():
        raise ValueError(f"{what} must be finite, got {b.tolist()}")
    if np.abs(b).max() > MAX_COORD:
        raise ValueError(f"{what} coordinates must be within +-{MAX_COORD:g}, got {b.tolist()}")
    if not (b[2] > b[0] and b[3] > b[1]):
        raise ValueError(f"{what} needs x2 > x1 and y2 > y1, got {b.tolist()}")
    return b


def check_visibility(value) -> float:
    v = float(value)
    if not 0.0 <= v <= 1.0:  # also refuses NaN
        raise ValueError(f"visibility must be in [0, 1], got {value!r}")
    return v


@dataclass(frozen=True, eq=False)
class Track:
    """One track, immutable (arrays are read-only). Build with :meth:`Track.build`, which validates."""

    track_id: int
    class_id: int
    frames: np.ndarray
    boxes: np.ndarray
    kinds: np.ndarray
    model_boxes: np.ndarray
    visibility: np.ndarray
    consider: np.ndarray
    outside: np.ndarray
    #: (n,) int64 per-row class; None (positional construction of a single-class track) means
    #: ``class_id`` on every row (filled in by ``__post_init__``).
    classes: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.classes is None:
            object.__setattr__(self, "classes", _readonly(np.full(self.frames.shape[0], self.class_id, np.int64)))

    @classmethod
    def build(cls, *, track_id: int, class_id: int = 1, frames, boxes, kinds, model_boxes=None,
              visibility=None, consider=None, outside=(), classes=None, num_frames: int | None = None,
              _checked: frozenset = frozenset()) -> "Track":
        """Validate and freeze. ``model_boxes``/``visibility``/``consider`` default to NaN / 1.0 / True,
        ``classes`` (per-row class) to ``class_id`` on every row.

        Checks: IDs and classes in range, frames strictly increasing (and < num_frames when given), boxes
        finite with x2 >= x1, y2 >= y1 (model boxes may be degenerate; user boxes are checked by the
        edits), kinds known, visibility in [0, 1], MODEL rows have a model box, outside markers sorted,
        unique, in range and not on a row's frame. ValueError names the track and the rule.
        (``_checked``: columns handed over unchanged from a validated Track by :meth:`replace`; they are
        neither copied nor checked again, which keeps an edit of a 100k-frame track cheap.)
        """
        tid = check_track_id(track_id)
        cid = check_class_id(class_id)

        def column(name: str, value, dtype) -> np.ndarray:
            if name in _checked:
                return value
            return np.array(value, dtype=dtype)

        frames = column("frames", frames, np.int64).reshape(-1)
        n = frames.shape[0]
        boxes = column("boxes", boxes, np.float64).reshape(n, 4) if n else np.zeros((0, 4))
        kinds = column("kinds", kinds, np.uint8).reshape(-1)
        mb = (np.full((n, 4), np.nan) if model_boxes is None
              else column("model_boxes", model_boxes, np.float64).reshape(n, 4) if n else np.zeros((0, 4)))
        vis = np.ones(n) if visibility is None else column("visibility", visibility, np.float64).reshape(-1)
        con = np.ones(n, bool) if consider is None else column("consider", consider, bool).reshape(-1)
        out = column("outside", outside, np.int64).reshape(-1)
        if classes is None:
            rcls = np.full(n, cid, np.int64)
        else:
            rcls = column("classes", classes, np.int64).reshape(-1)
        fresh = {k for k in ("frames", "boxes", "kinds", "model_boxes", "visibility", "consider", "outside",
                             "classes") if k not in _checked}
        where = f"track {tid}"
        if kinds.shape != (n,) or vis.shape != (n,) or con.shape != (n,) or rcls.shape != (n,):
            raise ValueError(f"{where}: column lengths differ ({n} frames, {kinds.shape[0]} kinds, "
                             f"{vis.shape[0]} visibilities, {con.shape[0]} consider flags, "
                             f"{rcls.shape[0]} row classes)")
        if classes is not None and "classes" in fresh and n and ((rcls < 1) | (rcls > MAX_CLASS_ID)).any():
            raise ValueError(f"{where}: row class must be in [1, {MAX_CLASS_ID}], got "
                             f"{int(rcls[(rcls < 1) | (rcls > MAX_CLASS_ID)][0])}")
        if n:
            if "frames" in fresh or num_frames is not None:
                if frames[0] < 0 or (num_frames is not None and frames[-1] >= num_frames):
                    raise ValueError(f"{where}: frame out of range [0, {num_frames})")
            if "frames" in fresh and n > 1 and not (np.diff(frames) > 0).all():
                raise ValueError(f"{where}: frames must be strictly increasing (one box per frame)")
            if "boxes" in fresh:
                if not np.isfinite(boxes).all() or np.abs(boxes).max() > MAX_COORD:
                    raise ValueError(f"{where}: boxes must be finite and within +-{MAX_COORD:g}")
                if (boxes[:, 2] < boxes[:, 0]).any() or (boxes[:, 3] < boxes[:, 1]).any():
                    raise ValueError(f"{where}: boxes need x2 >= x1 and y2 >= y1")
            if "kinds" in fresh and kinds.max() > max(KIND_VALUES):
                raise ValueError(f"{where}: unknown box kind (allowed {sorted(KIND_VALUES)})")
            if "model_boxes" in fresh or "kinds" in fresh:
                finite = np.isfinite(mb)
                has_mb = finite.all(axis=1)
                if "model_boxes" in fresh:
                    if (finite.any(axis=1) & ~has_mb).any() or np.isinf(mb).any():
                        raise ValueError(f"{where}: a model box must be 4 finite numbers or 4 NaN")
                    if has_mb.any() and np.nanmax(np.abs(mb)) > MAX_COORD:
                        raise ValueError(f"{where}: model boxes must be within +-{MAX_COORD:g}")
                if ((kinds == BoxKind.MODEL) & ~has_mb).any():
                    raise ValueError(f"{where}: a MODEL row without a model box")
            if "visibility" in fresh and not ((vis >= 0) & (vis <= 1)).all():
                raise ValueError(f"{where}: visibility must be in [0, 1]")
        if out.size:
            if out[0] < 0 or (num_frames is not None and out[-1] >= num_frames):
                raise ValueError(f"{where}: outside frame out of range [0, {num_frames})")
            if out.size > 1 and not (np.diff(out) > 0).all():
                raise ValueError(f"{where}: outside frames must be strictly increasing")
            if n and ("outside" in fresh or "frames" in fresh) and np.isin(out, frames).any():
                raise ValueError(f"{where}: an outside frame also holds a box")
        for a in (frames, boxes, kinds, mb, vis, con, out, rcls):
            _readonly(a)
        return cls(tid, cid, frames, boxes, kinds, mb, vis, con, out, rcls)

    def replace(self, **changes) -> "Track":
        """A new validated Track with some fields replaced; the others are shared (they are read-only)
        and not checked again.

        ``class_id`` without ``classes`` on a single-class track (every row has its default) changes the
        class of every row too, as it did before rows had classes; on a track with mixed row classes
        it changes only the default."""
        fields = dict(track_id=self.track_id, class_id=self.class_id, frames=self.frames, boxes=self.boxes,
                      kinds=self.kinds, model_boxes=self.model_boxes, visibility=self.visibility,
                      consider=self.consider, outside=self.outside, classes=self.classes)
        if "classes" not in changes and ("class_id" in changes or "frames" in changes):
            if self.single_class:  # the rows follow the (new) default, as before rows had classes
                changes = dict(changes, classes=None)
            elif "frames" in changes and np.asarray(changes["frames"]).reshape(-1).shape[0] != len(self):
                raise ValueError(f"track {self.track_id} has rows of several classes: replacing its rows "
                                 f"needs their classes too")
        fields.update(changes)
        same = frozenset(k for k, v in fields.items() if v is getattr(self, k, None) and isinstance(v, np.ndarray))
        return Track.build(**fields, _checked=same)

    # ---- queries ------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.frames.shape[0])

    @property
    def single_class(self) -> bool:
        """Every row has the track's default class (what every track was before rows had classes)."""
        return bool((self.classes == self.class_id).all())

    @property
    def first(self) -> int:
        return int(self.frames[0])

    @property
    def last(self) -> int:
        return int(self.frames[-1])

    def row(self, frame: int) -> int | None:
        """Row index of ``frame``, or None when the track has no box there."""
        i = int(np.searchsorted(self.frames, frame))
        return i if i < len(self.frames) and self.frames[i] == frame else None

    def keyframes(self) -> np.ndarray:
        """(K,) int64 frames of the keyframes."""
        return self.frames[self.kinds == BoxKind.KEYFRAME]

    def intervals(self) -> np.ndarray:
        """(M, 2) int64 [first, last] (inclusive) runs of consecutive frames with a box (timeline lanes)."""
        if not len(self):
            return np.zeros((0, 2), np.int64)
        breaks = np.flatnonzero(np.diff(self.frames) > 1)
        starts = np.concatenate([self.frames[:1], self.frames[breaks + 1]])
        ends = np.concatenate([self.frames[breaks], self.frames[-1:]])
        return np.stack([starts, ends], axis=1)

    def same_as(self, other: "Track | None") -> bool:
        """Value equality (NaN model boxes compare equal)."""
        if other is self:
            return True
        if other is None:
            return False
        return (self.track_id == other.track_id and self.class_id == other.class_id
                and np.array_equal(self.frames, other.frames) and np.array_equal(self.boxes, other.boxes)
                and np.array_equal(self.kinds, other.kinds)
                and np.array_equal(self.model_boxes, other.model_boxes, equal_nan=True)
                and np.array_equal(self.visibility, other.visibility)
                and np.array_equal(self.consider, other.consider) and np.array_equal(self.outside, other.outside)
                and np.array_equal(self.classes, other.classes))

    def __repr__(self) -> str:
        span = f"{self.first}..{self.last}" if len(self) else "empty"
        mixed = "" if self.single_class else f" (rows of classes {np.unique(self.classes).tolist()[:5]})"
        return (f"Track(id={self.track_id}, class={self.class_id}{mixed}, {len(self)} boxes {span}, "
                f"{len(self.keyframes())} keyframes, {len(self.outside)} outside)")


def tracks_from_columns(*, track_ids, class_ids, row_ends, frames, boxes, kinds, model_boxes, visibility,
                        consider, outside: Mapping[int, Iterable[int]] | None = None,
                        num_frames: int, classes=None) -> list[Track]:
    """Many tracks at once from row columns grouped by track (track i owns rows row_ends[i-1]:row_ends[i]),
    checked with the rules of :meth:`Track.build` in a few whole-array passes (a 1M-box set loads in a
    fraction of the time one build per track takes). ``class_ids`` (T,) are the tracks' defaults,
    ``classes`` (N,) the per-row classes (None: each track's default on its rows). ValueError names the
    first offending track."""
    ids = np.asarray(track_ids, np.int64).reshape(-1)
    cids = np.asarray(class_ids, np.int64).reshape(-1)
    ends = np.asarray(row_ends, np.int64).reshape(-1)
    T = ids.shape[0]
    frames = np.array(frames, dtype=np.int64).reshape(-1)
    n = frames.shape[0]
    boxes = np.array(boxes, dtype=np.float64)
    kinds = np.array(kinds, dtype=np.uint8).reshape(-1)
    mb = np.array(model_boxes, dtype=np.float64)
    vis = np.array(visibility, dtype=np.float64).reshape(-1)
    con = np.array(consider, dtype=bool).reshape(-1)
    rcls = None if classes is None else np.array(classes, dtype=np.int64).reshape(-1)
    if (cids.shape != (T,) or ends.shape != (T,) or boxes.shape != (n, 4) or mb.shape != (n, 4)
            or any(a.shape[0] != n for a in (kinds, vis, con)) or (rcls is not None and rcls.shape != (n,))):
        raise ValueError("track and row columns have different lengths")
    starts = np.r_[0, ends[:-1]] if T else np.zeros(0, np.int64)
    if T and (ends[-1] != n or (ends - starts <= 0).any()):
        raise ValueError(f"track row ends must increase up to the {n} rows (every track has a box)")
    if not T and n:
        raise ValueError(f"{n} rows but no tracks")
    owner = np.repeat(np.arange(T), ends - starts) if T else np.zeros(0, np.int64)
    if rcls is None:
        rcls = cids[owner] if T else np.zeros(0, np.int64)

    def fail(row_mask: np.ndarray, rule: str) -> None:
        if row_mask.any():
            raise ValueError(f"track {int(ids[owner[int(np.flatnonzero(row_mask)[0])]])}: {rule}")

    bad_id = (ids < 1) | (ids > MAX_TRACK_ID)
    if bad_id.any():
        raise ValueError(f"track ID must be in [1, {MAX_TRACK_ID}], got {int(ids[bad_id][0])}")
    if T > 1 and not (np.diff(np.sort(ids)) > 0).all():
        raise ValueError("a track ID appears twice")
    bad_cls = (cids < 1) | (cids > MAX_CLASS_ID)
    if bad_cls.any():
        raise ValueError(f"track {int(ids[bad_cls][0])}: class id must be in [1, {MAX_CLASS_ID}]")
    fail((frames < 0) | (frames >= num_frames), f"frame out of range [0, {num_frames})")
    if n > 1:
        step_ok = np.diff(frames) > 0
        step_ok[ends[:-1] - 1] = True  # a new track starts: no order across tracks
        fail(np.r_[False, ~step_ok], "frames must be strictly increasing (one box per frame)")
    fail(~np.isfinite(boxes).all(axis=1) | (np.abs(boxes) > MAX_COORD).any(axis=1),
         f"boxes must be finite and within +-{MAX_COORD:g}")
    fail((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1]), "boxes need x2 >= x1 and y2 >= y1")
    fail(~np.isin(kinds, list(KIND_VALUES)), f"unknown box kind (allowed {sorted(KIND_VALUES)})")
    has_mb = np.isfinite(mb).all(axis=1)
    fail(~has_mb & ~np.isnan(mb).all(axis=1), "a model box must be 4 finite numbers or 4 NaN")
    fail(has_mb & (np.abs(np.where(has_mb[:, None], mb, 0)).max(axis=1) > MAX_COORD),
         f"model boxes must be within +-{MAX_COORD:g}")
    fail((kinds == BoxKind.MODEL) & ~has_mb, "a MODEL row without a model box")
    fail(~((vis >= 0) & (vis <= 1)), "visibility must be in [0, 1]")
    fail((rcls < 1) | (rcls > MAX_CLASS_ID), f"row class must be in [1, {MAX_CLASS_ID}]")
    for a in (frames, boxes, kinds, mb, vis, con, rcls):
        _readonly(a)
    outside = {int(k): v for k, v in (outside or {}).items()}
    unknown = set(outside) - set(ids.tolist())
    if unknown:
        raise ValueError(f"outside markers for unknown track {min(unknown)}")
    no_markers = _readonly(np.zeros(0, np.int64))
    tracks = []
    for i, (tid, cid, a, b) in enumerate(zip(ids.tolist(), cids.tolist(), starts.tolist(), ends.tolist())):
        cols = (frames[a:b], boxes[a:b], kinds[a:b], mb[a:b], vis[a:b], con[a:b])
        if tid in outside:  # few tracks: the full per-track checks of the markers
            tracks.append(Track.build(track_id=tid, class_id=cid, frames=cols[0], boxes=cols[1], kinds=cols[2],
                                      model_boxes=cols[3], visibility=cols[4], consider=cols[5],
                                      outside=sorted(outside[tid]), classes=rcls[a:b], num_frames=num_frames))
        else:
            tracks.append(Track(tid, cid, *cols, no_markers, rcls[a:b]))
    return tracks


def most_frequent_class(classes: np.ndarray, row_ends: np.ndarray) -> np.ndarray:
    """(T,) int64 per group of rows (group i: rows row_ends[i-1]:row_ends[i]) its most frequent class,
    the smallest id among equally frequent ones: the default class of a track read from per-row classes."""
    classes = np.asarray(classes, np.int64).reshape(-1)
    ends = np.asarray(row_ends, np.int64).reshape(-1)
    if not len(ends):
        return np.zeros(0, np.int64)
    owner = np.repeat(np.arange(len(ends)), np.diff(np.r_[0, ends]))
    order = np.lexsort((classes, owner))
    o, c = owner[order], classes[order]
    new = np.r_[True, (o[1:] != o[:-1]) | (c[1:] != c[:-1])]
    run_start = np.flatnonzero(new)
    counts = np.diff(np.r_[run_start, len(c)])
    run_owner, run_class = o[run_start], c[run_start]
    # per owner: the largest count, then the smallest class (runs are sorted by class within an owner)
    pick = np.lexsort((run_class, -counts, run_owner))
    first = np.r_[True, run_owner[pick][1:] != run_owner[pick][:-1]]
    return run_class[pick][first]


@dataclass(frozen=True)
class FrameBoxes:
    """The boxes of one frame, sorted by track ID (what the viewer draws). N = tracks inside at that frame."""

    frame: int
    ids: np.ndarray          # (N,) int64
    boxes: np.ndarray        # (N, 4) float64 [x1, y1, x2, y2]
    kinds: np.ndarray        # (N,) uint8 BoxKind
    visibility: np.ndarray   # (N,) float64
    consider: np.ndarray     # (N,) bool
    classes: np.ndarray      # (N,) int64, each box's own (per-row) class

    def __len__(self) -> int:
        return int(self.ids.shape[0])


@dataclass(frozen=True)
class TrackSpans:
    """Per track (ascending ID): first and last frame with a box (inclusive). Arrays (T,) int64."""

    ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


class _SpanIndex:
    """Which tracks may have a box at frame k: tracks registered in fixed-size frame buckets.

    A query visits only the tracks whose span overlaps k's bucket (about the tracks alive at k); an
    edit re-registers only the edited track. (A flat starts/ends scan would be O(tracks) per frame.)
    """

    BUCKET = 256

    def __init__(self) -> None:
        self._span: dict[int, tuple[int, int]] = {}
        self._buckets: dict[int, set[int]] = {}

    def set(self, tid: int, span: tuple[int, int] | None) -> None:
        old = self._span.pop(tid, None)
        if old is not None:
            for b in range(old[0] // self.BUCKET, old[1] // self.BUCKET + 1):
                s = self._buckets[b]
                s.discard(tid)
                if not s:
                    del self._buckets[b]
        if span is not None:
            self._span[tid] = span
            for b in range(span[0] // self.BUCKET, span[1] // self.BUCKET + 1):
                self._buckets.setdefault(b, set()).add(tid)

    def candidates(self, k: int) -> list[int]:
        out = []
        for tid in self._buckets.get(k // self.BUCKET, ()):
            s, e = self._span[tid]
            if s <= k <= e:
                out.append(tid)
        out.sort()
        return out


class LabelSet:
    """A named, editable set of tracks over a video of ``num_frames`` frames of ``width`` x ``height``.

    Read freely; mutate only through ``Change.apply`` / ``Change.revert`` (``engine.labels.edits``), which
    call :meth:`_set_tracks`. ``revision`` increases on every mutation (views cache on it). Not
    thread-safe: hand a worker ``copy()`` (cheap: the immutable tracks are shared; ~10 ms at 5,000 tracks).
    """

    def __init__(self, *, name: str, num_frames: int, width: int, height: int,
                 class_names: Mapping[int, str] | None = None, source_run: str = "", note: str = "",
                 tracks: Iterable[Track] = ()):
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            raise ValueError(f"label set name must be non-empty, without '/', not starting with '.': {name!r}")
        num_frames, width, height = int(num_frames), int(width), int(height)
        if not 0 < num_frames <= MAX_FRAMES or width <= 0 or height <= 0:
            raise ValueError(f"num_frames, width and height must be > 0, got {num_frames}, {width}, {height}")
        self.name = name
        self.num_frames = num_frames
        self.width = width
        self.height = height
        self.class_names: dict[int, str] = dict(MOT_CLASS_NAMES if class_names is None else
                                                {check_class_id(k): str(v) for k, v in class_names.items()})
        self.source_run = str(source_run or "")
        self.note = str(note)
        self.revision = 0
        self._tracks: dict[int, Track] = {}
        self._index = _SpanIndex()
        for t in tracks:
            if t.track_id in self._tracks:
                raise ValueError(f"label set {name!r}: track ID {t.track_id} appears twice")
            self._put(t)

    # ---- constructors ------------------------------------------------------------------
    @classmethod
    def empty(cls, *, name: str, num_frames: int, width: int, height: int,
              class_names: Mapping[int, str] | None = None, note: str = "") -> "LabelSet":
        """A label set without tracks."""
        return cls(name=name, num_frames=num_frames, width=width, height=height, class_names=class_names,
                   note=note)

    @classmethod
    def from_run(cls, run, *, name: str, num_frames: int | None = None, width: int | None = None,
                 height: int | None = None, class_id: int = 1, source_run: str | None = None,
                 note: str = "") -> "LabelSet":
        """The model's tracks as a label set (every box kind MODEL, model box = box).

        ``run`` is a ``RunReader`` (its committed ``track_rows()``; frame size from its cache) or an
        (N, 7) array [frame, track_id, x1, y1, x2, y2, score] (then num_frames/width/height are required).
        Model track IDs are kept (they must be >= 1). A track ID twice in one frame is refused.
        """
        if hasattr(run, "track_rows"):
            rows = run.track_rows()
            num_frames = run.num_frames if num_frames is None else num_frames
            video = getattr(getattr(run, "_cache", None), "video", None)  # the frame size is the cache's
            if video is not None:
                width = video.width if width is None else width
                height = video.height if height is None else height
            if width is None or height is None:
                raise ValueError("from_run: give width and height (the run does not say its frame size)")
            source_run = run.name if source_run is None else source_run
        else:
            rows = np.asarray(run, dtype=np.float64)
            if num_frames is None or width is None or height is None:
                raise ValueError("from_run with an array needs num_frames, width and height")
        if rows.ndim != 2 or rows.shape[1] != 7:
            raise ValueError(f"run rows must be (N, 7) [frame, id, x1, y1, x2, y2, score], got {rows.shape}")
        what = f"run {source_run or ''}".strip()
        frames, ids = rows[:, 0], rows[:, 1]
        for values, lo, hi, label in ((frames, 0, int(num_frames) - 1, "frame"), (ids, 1, MAX_TRACK_ID, "track id")):
            bad = ~np.isfinite(values) | (values != np.floor(values)) | (values < lo) | (values > hi)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"{what}: row {i}: {label} {values[i]!r} is not an integer in [{lo}, {hi}]")
        order = np.lexsort((frames, ids))
        frames = frames[order].astype(np.int64)
        ids = ids[order].astype(np.int64)
        n = len(ids)
        if n > 1:
            dup = (ids[1:] == ids[:-1]) & (frames[1:] == frames[:-1])
            if dup.any():
                i = int(np.flatnonzero(dup)[0])
                raise ValueError(f"{what}: track {int(ids[i])} has two boxes in frame {int(frames[i])}")
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if n else np.zeros(0, np.int64)
        boxes = rows[order, 2:6]
        try:
            tracks = tracks_from_columns(
                track_ids=ids[starts], class_ids=np.full(len(starts), check_class_id(class_id)),
                row_ends=np.r_[starts[1:], n], frames=frames, boxes=boxes, kinds=np.full(n, BoxKind.MODEL, np.uint8),
                model_boxes=boxes, visibility=np.ones(n), consider=np.ones(n, bool), num_frames=int(num_frames))
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
        return cls(name=name, num_frames=num_frames, width=width, height=height, source_run=source_run or "",
                   note=note, tracks=tracks)

    @classmethod
    def from_rows(cls, rows, *, name: str, num_frames: int, width: int, height: int,
                  class_names: Mapping[int, str] | None = None, source_run: str = "", note: str = "",
                  what: str = "rows") -> "LabelSet":
        """Build from a flat (N, 11) float64 table with columns ``ROW_COLUMNS``:

        frame (0-based), track_id (>= 1), x1, y1, x2, y2 (0-based, x2/y2 exclusive), kind (BoxKind),
        visibility [0, 1], consider (0/1), class_id (>= 1, the row's class), outside (0/1).
        A track's default class (``Track.class_id``) is the most frequent class of its rows (of equally
        frequent ones the smallest id); every row keeps its own.
        A row with outside = 1 is an "outside from this frame" marker: its box columns are ignored (NaN
        allowed). MODEL rows get their box as model box (imported tracks should be MODEL, so that a
        correction blends instead of needing an edit per frame). Nothing is re-interpolated.
        ValueError names ``what``, the row and the rule.
        """
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != ROW_WIDTH:
            raise ValueError(f"{what}: need an (N, {ROW_WIDTH}) table {ROW_COLUMNS}, got {rows.shape}")
        ints = rows[:, [COL_FRAME, COL_ID, COL_KIND, COL_CLASS, COL_OUTSIDE, COL_CONSIDER]]
        bad = ~np.isfinite(ints).all(axis=1) | (ints != np.round(ints)).any(axis=1)
        if bad.any():
            raise ValueError(f"{what}: row {int(np.flatnonzero(bad)[0])}: frame, id, kind, class, consider "
                             f"and outside must be integers")
        for col, lo, hi, label in ((COL_FRAME, 0, num_frames - 1, "frame"), (COL_ID, 1, MAX_TRACK_ID, "track id"),
                                   (COL_OUTSIDE, 0, 1, "outside"), (COL_CONSIDER, 0, 1, "consider")):
            v = rows[:, col]
            bad = (v < lo) | (v > hi)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"{what}: row {i}: {label} {v[i]:g} outside [{lo}, {hi}]")
        order = np.lexsort((rows[:, COL_FRAME], rows[:, COL_ID]))
        rows = rows[order]
        inside = rows[:, COL_OUTSIDE] == 0
        markers = rows[~inside]
        rows = rows[inside]
        ids = rows[:, COL_ID].astype(np.int64)
        frames = rows[:, COL_FRAME].astype(np.int64)
        if len(ids) > 1:
            dup = (ids[1:] == ids[:-1]) & (frames[1:] == frames[:-1])
            if dup.any():
                i = int(np.flatnonzero(dup)[0])
                raise ValueError(f"{what}: track {int(ids[i])} has two boxes in frame {int(frames[i])}")
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, np.int64)
        ends = np.r_[starts[1:], len(ids)].astype(np.int64)
        cls_ids = rows[:, COL_CLASS].astype(np.int64)
        bad = (cls_ids < 1) | (cls_ids > MAX_CLASS_ID)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{what}: track {int(ids[i])} frame {int(frames[i])}: class {int(cls_ids[i])} "
                             f"outside [1, {MAX_CLASS_ID}]")
        kinds = rows[:, COL_KIND]
        boxes = rows[:, COL_X1:COL_Y2 + 1]
        by_track: dict[int, list[int]] = {}
        for tid, fr in zip(markers[:, COL_ID].astype(np.int64).tolist(), markers[:, COL_FRAME].astype(np.int64).tolist()):
            by_track.setdefault(tid, []).append(fr)
        try:
            if not np.isin(kinds, list(KIND_VALUES)).all():
                raise ValueError(f"unknown box kind (allowed {sorted(KIND_VALUES)})")
            tracks = tracks_from_columns(
                track_ids=ids[starts], class_ids=most_frequent_class(cls_ids, ends), classes=cls_ids,
                row_ends=ends, frames=frames, boxes=boxes,
                kinds=kinds, model_boxes=np.where((kinds == BoxKind.MODEL)[:, None], boxes, np.nan),
                visibility=rows[:, COL_VISIBILITY], consider=rows[:, COL_CONSIDER] != 0,
                outside={t: sorted(set(f)) for t, f in by_track.items() if t in set(ids[starts].tolist())},
                num_frames=num_frames)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
        return cls(name=name, num_frames=num_frames, width=width, height=height, class_names=class_names,
                   source_run=source_run, note=note, tracks=tracks)

    def to_rows(self, *, include_outside: bool = False) -> np.ndarray:
        """The flat (N, 11) float64 table (``ROW_COLUMNS``), sorted by track ID then frame.

        By default one row per frame where a track is inside (keyframe, interpolated or model box): what
        a MOT export writes. ``include_outside`` adds the "outside from this frame" markers (outside = 1,
        NaN box, the track's default class), so ``from_rows(to_rows(include_outside=True))`` round-trips
        (except model boxes of keyframes, which the table does not carry, and a default class that is not
        the most frequent row class of its track, which ``from_rows`` takes as the default).
        """
        parts = []
        for tid in sorted(self._tracks):
            t = self._tracks[tid]
            n = len(t)
            m = len(t.outside) if include_outside else 0
            block = np.zeros((n + m, ROW_WIDTH))
            block[:n, COL_FRAME] = t.frames
            block[:n, COL_X1:COL_Y2 + 1] = t.boxes
            block[:n, COL_KIND] = t.kinds
            block[:n, COL_VISIBILITY] = t.visibility
            block[:n, COL_CONSIDER] = t.consider
            block[:n, COL_CLASS] = t.classes
            block[n:, COL_CLASS] = t.class_id
            if m:
                block[n:, COL_FRAME] = t.outside
                block[n:, COL_X1:COL_Y2 + 1] = np.nan
                block[n:, COL_OUTSIDE] = 1
                block[n:, COL_VISIBILITY] = 0
                block = block[np.argsort(block[:, COL_FRAME], kind="stable")]
            block[:, COL_ID] = tid
            parts.append(block)
        return np.concatenate(parts) if parts else np.zeros((0, ROW_WIDTH))

    # ---- reading ----------------------------------------------------------------------------
    def __contains__(self, track_id) -> bool:
        return int(track_id) in self._tracks

    def __len__(self) -> int:
        """Number of tracks."""
        return len(self._tracks)

    def track_ids(self) -> np.ndarray:
        """(T,) int64 ascending."""
        return np.array(sorted(self._tracks), dtype=np.int64)

    def track(self, track_id: int) -> Track:
        """The track of ``track_id``; KeyError (naming the ID) if there is none."""
        try:
            return self._tracks[int(track_id)]
        except KeyError:
            raise KeyError(f"label set {self.name!r} has no track {track_id}") from None

    def tracks(self) -> list[Track]:
        return [self._tracks[t] for t in sorted(self._tracks)]

    @property
    def num_boxes(self) -> int:
        return sum(len(t) for t in self._tracks.values())

    def next_free_id(self) -> int:
        """One above the largest ID in use (1 for an empty set): the default for a new track."""
        return max(self._tracks, default=0) + 1

    def frame_boxes(self, k: int) -> FrameBoxes:
        """The boxes at frame ``k`` (IndexError outside [0, num_frames)); cost O(tracks near k + log)."""
        k = int(k)
        if not 0 <= k < self.num_frames:
            raise IndexError(f"frame {k} outside [0, {self.num_frames})")
        tracks, rows = [], []
        for tid in self._index.candidates(k):
            t = self._tracks[tid]
            i = bisect.bisect_left(t.frames, k)  # no numpy call overhead for a handful of tracks
            if i < len(t.frames) and t.frames[i] == k:
                tracks.append(t)
                rows.append(i)
        n = len(tracks)
        boxes = np.empty((n, 4))
        kinds = np.empty(n, np.uint8)
        vis = np.empty(n)
        con = np.empty(n, bool)
        cls_ = np.empty(n, np.int64)
        for j, (t, i) in enumerate(zip(tracks, rows)):
            boxes[j] = t.boxes[i]
            kinds[j] = t.kinds[i]
            vis[j] = t.visibility[i]
            con[j] = t.consider[i]
            cls_[j] = t.classes[i]
        return FrameBoxes(frame=k, ids=np.fromiter((t.track_id for t in tracks), np.int64, n), boxes=boxes,
                          kinds=kinds, visibility=vis, consider=con, classes=cls_)

    def track_spans(self) -> TrackSpans:
        """First/last frame of every track that has a box (ascending ID), for the timeline."""
        ids = [tid for tid in sorted(self._tracks) if len(self._tracks[tid])]
        return TrackSpans(ids=np.array(ids, np.int64),
                          starts=np.array([self._tracks[t].first for t in ids], np.int64),
                          ends=np.array([self._tracks[t].last for t in ids], np.int64))

    def keyframes(self, track_id: int) -> np.ndarray:
        """(K,) int64 keyframe frames of a track (timeline marks)."""
        return self.track(track_id).keyframes()

    def equals(self, other: "LabelSet") -> bool:
        """Same metadata and the same tracks, value by value."""
        if (self.name, self.num_frames, self.width, self.height, self.class_names, self.source_run,
                self.note) != (other.name, other.num_frames, other.width, other.height, other.class_names,
                               other.source_run, other.note):
            return False
        if self._tracks.keys() != other._tracks.keys():
            return False
        return all(t.same_as(other._tracks[tid]) for tid, t in self._tracks.items())

    def copy(self) -> "LabelSet":
        """An independent label set sharing the (immutable) track objects."""
        return LabelSet(name=self.name, num_frames=self.num_frames, width=self.width, height=self.height,
                        class_names=self.class_names, source_run=self.source_run, note=self.note,
                        tracks=self._tracks.values())

    def __repr__(self) -> str:
        return (f"LabelSet({self.name!r}, {len(self._tracks)} tracks, {self.num_boxes} boxes, "
                f"{self.num_frames} frames)")

    # ---- mutation (only through engine.labels.edits.Change) ----------------------------------
    def _check(self, t: Track) -> None:
        if not len(t):
            raise ValueError(f"label set {self.name!r}: track {t.track_id} has no box (delete it instead)")
        if t.frames[-1] >= self.num_frames:
            raise ValueError(f"label set {self.name!r}: track {t.track_id} has frame {int(t.frames[-1])} "
                             f">= {self.num_frames}")
        if len(t.outside) and t.outside[-1] >= self.num_frames:
            raise ValueError(f"label set {self.name!r}: track {t.track_id} outside frame out of range")

    def _put(self, t: Track) -> None:
        self._check(t)
        self._tracks[t.track_id] = t
        self._index.set(t.track_id, (t.first, t.last))

    def _set_tracks(self, states: Mapping[int, Track | None]) -> None:
        """Replace (or remove, for None) the given tracks. The one mutation primitive; checks everything
        before changing anything."""
        for tid, t in states.items():
            if t is not None:
                if t.track_id != tid:
                    raise ValueError(f"state for track {tid} carries ID {t.track_id}")
                self._check(t)
        for tid, t in states.items():
            if t is None:
                if tid in self._tracks:
                    del self._tracks[tid]
                    self._index.set(tid, None)
            else:
                self._put(t)
        self.revision += 1
