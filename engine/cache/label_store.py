"""Label sets inside the results cache: ``/label_sets/<name>/`` (format documented in engine.cache.schema).

Format 3 stores a full :class:`engine.labels.model.LabelSet` column-wise (rows grouped by track, tracks by
ascending ID), with a class per row; format 2 (the same without the ``classes`` dataset: every row has its
track's class) still loads, and so does format 1 (a single ``rows`` (N, 7) dataset, what ``ResultsCache.save_label_set`` writes)
still loads, every row becoming a MODEL box. Everything read is validated (sizes, frame range, IDs,
finite boxes, kinds, visibility) and a bad group raises CacheCorruptError naming the file and the set.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import h5py
import numpy as np

from engine.cache import schema as S
from engine.cache.errors import CacheCorruptError, CacheError
from engine.cache.jsonattrs import from_json, to_json

if TYPE_CHECKING:
    from engine.cache.store import ResultsCache
    from engine.labels.model import LabelSet

# format 3 datasets (documented in schema.py's label_sets section)
LABEL_FORMAT = 3
LABEL_FORMATS_READ = (1, 2, 3)
LABEL_TRACKS = "tracks"
LABEL_FRAMES = "frames"
LABEL_BOXES = "boxes"
LABEL_MODEL_BOXES = "model_boxes"
LABEL_KINDS = "kinds"
LABEL_VISIBILITY = "visibility"
LABEL_CONSIDER = "consider"
LABEL_OUTSIDE = "outside"
LABEL_CLASSES = "classes"  # format 3: per-row class (absent in format 2)

_COLUMNS = {  # dataset -> (dtype, trailing shape)
    LABEL_FRAMES: (np.int64, ()), LABEL_BOXES: (np.float64, (4,)), LABEL_MODEL_BOXES: (np.float64, (4,)),
    LABEL_KINDS: (np.uint8, ()), LABEL_VISIBILITY: (np.float64, ()), LABEL_CONSIDER: (np.uint8, ()),
    LABEL_CLASSES: (np.int64, ()),
}
_FORMAT_2_COLUMNS = {k: v for k, v in _COLUMNS.items() if k != LABEL_CLASSES}


def _dataset(group, name: str, data: np.ndarray) -> None:
    kwargs = {}
    if data.shape[0]:
        kwargs = dict(chunks=(min(data.shape[0], 65536),) + data.shape[1:], compression=S.COMPRESSION,
                      compression_opts=S.COMPRESSION_LEVEL, shuffle=True)
    group.create_dataset(name, data=data, **kwargs)


@contextmanager
def staged_label_set(f: h5py.File, name: str) -> Iterator[h5py.Group]:
    """A fresh hidden group ``/label_sets/.staging-<name>`` to fill; once the block completes it is
    flushed and moved over ``/label_sets/<name>``, so the name never points at a half-written set (a
    failed or killed save leaves the old one; the leftover staging group is hidden and replaced next time)."""
    sets = f.require_group(S.LABEL_SETS_GROUP)
    staging = f".staging-{name}"
    if staging in sets:
        del sets[staging]
    group = sets.create_group(staging)
    yield group
    f.flush()
    if name in sets:
        del sets[name]
    sets.move(staging, name)


def write_label_set(cache: "ResultsCache", label_set: "LabelSet", *, journal_id: str = "",
                    journal_seq: int = 0) -> None:
    """Store (or replace) ``label_set`` under its name, format 3. Written into a staging group that
    replaces the old one only once complete, so a failure leaves the saved set as it was. ``journal_id``
    and ``journal_seq`` record which journal entries the stored state already contains."""
    from engine.cache.store import check_name, utc_now

    name = check_name(label_set.name, "label set")
    if label_set.num_frames != cache.video.num_frames:
        raise ValueError(f"label set {name!r} has {label_set.num_frames} frames, the video "
                         f"{cache.video.num_frames}")
    tracks = label_set.tracks()
    n = sum(len(t) for t in tracks)
    table = np.zeros((len(tracks), 3), np.int64)
    cols = {k: np.zeros((n,) + shape, dtype) for k, (dtype, shape) in _COLUMNS.items()}
    outside = []
    end = 0
    for i, t in enumerate(tracks):
        a, end = end, end + len(t)
        table[i] = (t.track_id, t.class_id, end)
        cols[LABEL_FRAMES][a:end] = t.frames
        cols[LABEL_BOXES][a:end] = t.boxes
        cols[LABEL_MODEL_BOXES][a:end] = t.model_boxes
        cols[LABEL_KINDS][a:end] = t.kinds
        cols[LABEL_VISIBILITY][a:end] = t.visibility
        cols[LABEL_CONSIDER][a:end] = t.consider
        cols[LABEL_CLASSES][a:end] = t.classes
        if len(t.outside):
            outside.append(np.stack([np.full(len(t.outside), t.track_id), t.outside], axis=1))
    outside = np.concatenate(outside) if outside else np.zeros((0, 2), np.int64)
    with cache._structure() as f, staged_label_set(f, name) as g:
        _dataset(g, LABEL_TRACKS, table)
        for k, v in cols.items():
            _dataset(g, k, v)
        _dataset(g, LABEL_OUTSIDE, outside)
        a = g.attrs
        a["label_format"] = np.int64(LABEL_FORMAT)
        a["source_run"] = label_set.source_run
        a["note"] = label_set.note
        a["created"] = utc_now()
        a["class_names"] = to_json({str(k): v for k, v in sorted(label_set.class_names.items())},
                                   what="class names")
        a["width"] = np.int64(label_set.width)
        a["height"] = np.int64(label_set.height)
        a["journal_id"] = str(journal_id)
        a["journal_seq"] = np.int64(journal_seq)


MAX_LABEL_ROWS = 16_000_000  # 16x the 1M-box sets the editor is built for; more is a damaged file


def _read(g, key: str, dtype, shape: tuple, where: str) -> np.ndarray:
    if key not in g:
        raise CacheCorruptError(f"{where}: dataset {key!r} missing")
    d = g[key]
    if d.ndim != 1 + len(shape) or tuple(d.shape[1:]) != shape:
        raise CacheCorruptError(f"{where}: dataset {key!r} has shape {d.shape}, expected (N,{shape})")
    if d.shape[0] > MAX_LABEL_ROWS:  # checked before reading: the shape is all a bomb would need
        raise CacheCorruptError(f"{where}: dataset {key!r} claims {d.shape[0]} rows (limit {MAX_LABEL_ROWS})")
    try:
        return np.asarray(d[()], dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise CacheCorruptError(f"{where}: dataset {key!r} is not {np.dtype(dtype).name} ({exc})") from None


def label_set_format(cache: "ResultsCache", name: str) -> int:
    g = cache.h5[S.LABEL_SETS_GROUP][name]
    return int(g.attrs.get("label_format", 1))


def label_set_size(cache: "ResultsCache", name: str) -> int:
    """Number of boxes of a stored label set (any format)."""
    g = cache.h5[S.LABEL_SETS_GROUP][name]
    key = S.LABEL_ROWS if S.LABEL_ROWS in g else LABEL_FRAMES
    return int(g[key].shape[0])


def read_label_set(cache: "ResultsCache", name: str) -> tuple["LabelSet", str, int]:
    """(label set, journal_id, journal_seq) of stored set ``name`` (format 1, 2 or 3).

    KeyError if absent; CacheCorruptError naming the file and the rule for damaged contents."""
    from engine.labels.model import ROW_WIDTH, BoxKind, LabelSet, tracks_from_columns

    if name not in cache.label_set_names:
        raise KeyError(f"{cache.path}: no label set named {name!r} (label sets: {cache.label_set_names})")
    where = f"{cache.path}: label set {name!r}"
    video = cache.video
    try:
        with cache.lock:
            g = cache.h5[S.LABEL_SETS_GROUP][name]
            a = g.attrs
            fmt = int(a.get("label_format", 1))
            source_run = str(a.get("source_run", ""))
            note = str(a.get("note", ""))
            if fmt == 1:
                rows = _read(g, S.LABEL_ROWS, np.float64, (S.LABEL_WIDTH,), where)
                table = np.zeros((len(rows), ROW_WIDTH))
                table[:, 0:6] = rows[:, 0:6]
                table[:, 6] = BoxKind.MODEL
                table[:, 7] = 1.0
                table[:, 8] = 1.0
                table[:, 9] = 1.0
                try:
                    ls = LabelSet.from_rows(table, name=name, num_frames=video.num_frames, width=video.width,
                                            height=video.height, source_run=source_run, note=note, what=where)
                except ValueError as exc:
                    raise CacheCorruptError(str(exc)) from None
                return ls, "", 0
            if fmt not in LABEL_FORMATS_READ:
                raise CacheCorruptError(f"{where}: label format {fmt}, this code reads 1..{LABEL_FORMAT}")
            table = _read(g, LABEL_TRACKS, np.int64, (3,), where)
            columns = _COLUMNS if fmt >= 3 else _FORMAT_2_COLUMNS
            cols = {k: _read(g, k, dtype, shape, where) for k, (dtype, shape) in columns.items()}
            outside = _read(g, LABEL_OUTSIDE, np.int64, (2,), where)
            class_names = from_json(a.get("class_names", "{}"), what="class names")
            width = int(a.get("width", video.width))
            height = int(a.get("height", video.height))
            journal_id = str(a.get("journal_id", ""))
            journal_seq = int(a.get("journal_seq", 0))
    except CacheError:
        raise
    except (OSError, KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise CacheCorruptError(f"{where}: unreadable ({exc})") from None
    if not isinstance(class_names, dict):
        raise CacheCorruptError(f"{where}: class_names must be a JSON object")
    by_track: dict[int, list[int]] = {}
    for tid, fr in outside.tolist():
        by_track.setdefault(int(tid), []).append(int(fr))
    try:
        if len(table) and (np.diff(table[:, 0]) <= 0).any():
            raise ValueError("track IDs must be increasing")
        tracks = tracks_from_columns(
            track_ids=table[:, 0], class_ids=table[:, 1], row_ends=table[:, 2], frames=cols[LABEL_FRAMES],
            boxes=cols[LABEL_BOXES], kinds=cols[LABEL_KINDS], model_boxes=cols[LABEL_MODEL_BOXES],
            visibility=cols[LABEL_VISIBILITY], consider=cols[LABEL_CONSIDER] != 0,
            outside={t: sorted(f) for t, f in by_track.items()}, num_frames=video.num_frames,
            classes=cols.get(LABEL_CLASSES))  # format 2: None, every row its track's class
        ls = LabelSet(name=name, num_frames=video.num_frames, width=width, height=height,
                      class_names={int(k): str(v) for k, v in class_names.items()}, source_run=source_run,
                      note=note, tracks=tracks)
    except ValueError as exc:
        raise CacheCorruptError(f"{where}: {exc}") from None
    return ls, journal_id, journal_seq


def legacy_rows(cache: "ResultsCache", name: str) -> np.ndarray:
    """(N, 7) float64 [frame, id, x1, y1, x2, y2, 1.0] of a stored set of any format (the old API)."""
    g = cache.h5[S.LABEL_SETS_GROUP][name]
    if S.LABEL_ROWS in g:
        return np.asarray(g[S.LABEL_ROWS][()], dtype=np.float64)
    ls = read_label_set(cache, name)[0]
    rows = ls.to_rows()
    return np.column_stack([rows[:, 0:6], np.ones(len(rows))])
