"""Checks of what a results cache claims, before anything is allocated from it.

A cache is a file from anywhere: its attributes and dataset shapes may lie (num_frames 2e9 in a
136 KB file, an alpha map of 60000², offsets that run backwards or past the rows, class names that
are one string, a dataset whose raw storage is another file). Every number the reader uses is
checked here against the schema and against the others, and a violation is a CacheCorruptError
naming the file, the run and the rule. Memory the reader will hold per run is bounded up front.
"""
from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np

from engine.cache import schema as S
from engine.cache.errors import CacheCorruptError

MAX_FRAMES = 50_000_000        # ~23 days at 25 fps
MAX_CLASSES = 100_000
MAX_SIDE = 1 << 16             # video width/height in pixels
MAX_ALPHA_SIDE = 1024          # attention map side (input side / stride 8; inputs are <= 4096 px)
MAX_CLASS_NAME = 1000          # characters
PER_RUN_MEMORY = 1 << 30       # bytes the reader may hold in memory for one run's per-frame arrays
MAX_TRACK_ID = 2**24           # track IDs are stored as float32: exact integers only up to 2**24


def fail(path: Path | str, what: str) -> CacheCorruptError:
    return CacheCorruptError(f"{path}: {what}")


def check_header(path: Path | str, *, num_frames, fps, width, height) -> None:
    """The root attributes describe a plausible video."""
    for name, value, high in (("num_frames", num_frames, MAX_FRAMES), ("width", width, MAX_SIDE),
                              ("height", height, MAX_SIDE)):
        if not _is_int(value) or not 1 <= int(value) <= high:
            raise fail(path, f"header attribute {name}={_plain(value)!r} is not an integer in [1, {high}]")
    if not isinstance(fps, (int, float, np.integer, np.floating)) or not 0 < float(fps) <= 10_000 \
            or not math.isfinite(float(fps)):
        raise fail(path, f"header attribute fps={_plain(fps)!r} is not a frame rate")


def check_plain_storage(path: Path | str, where: str, dataset: h5py.Dataset) -> None:
    """Refuse datasets whose bytes live elsewhere: external raw files (which would read, say,
    /etc/passwd as tracks) and virtual datasets (which map other files in)."""
    if dataset.external:
        raise fail(path, f"{where} stores its data in external files ({dataset.external[0][0]!r}); refused")
    if dataset.is_virtual:
        raise fail(path, f"{where} is a virtual dataset (mapping other files); refused")


def check_run_layout(path: Path | str, run: str, group: h5py.Group, *, num_frames: int,
                     class_names, alpha_shape) -> int:
    """Every dataset of run ``run`` has the schema's shape and kind, and they agree with each other and
    with the video's ``num_frames``; returns K. Nothing is read but metadata."""
    where = f"run {run!r}"
    F = int(num_frames)
    if not isinstance(class_names, list) or not class_names or not all(
            isinstance(c, str) and len(c) <= MAX_CLASS_NAME for c in class_names):
        raise fail(path, f"{where}: class_names must be a JSON list of 1..{MAX_CLASSES} strings, "
                         f"got {type(class_names).__name__}")
    K = len(class_names)
    if K > MAX_CLASSES:
        raise fail(path, f"{where}: {K} class names (at most {MAX_CLASSES})")
    if (not isinstance(alpha_shape, tuple) or len(alpha_shape) != 2
            or not all(1 <= v <= MAX_ALPHA_SIDE for v in alpha_shape)):
        raise fail(path, f"{where}: alpha_shape {alpha_shape!r} is not (h, w) in [1, {MAX_ALPHA_SIDE}]")
    h, w = alpha_shape
    expected = {
        S.COMMIT: ((3,), "i"), S.FRAME_FLAGS: ((F,), "u"), S.BETA: ((F,), "f"), S.ACTION_PROBS: ((F, K), "f"),
        S.ALPHA: ((F, h, w), "f"), S.TRACK_OFFSETS: ((F + 1,), "i"), S.DETECTION_OFFSETS: ((F + 1,), "i"),
        S.TRACKS: ((None, S.TRACK_WIDTH), "f"), S.TRACK_ACTION_PROBS: ((None, K), "f"),
        S.DETECTIONS: ((None, S.DETECTION_WIDTH), "f"),
        S.TRACK_MARGINS: ((None,), "f"), S.TRACK_EMBEDDINGS: ((None, -1), "f"),
        S.RESUME_STATE: ((2, None), "u"), S.RESUMES: ((None, 2), "f"),
    }
    optional = {S.TRACK_MARGINS, S.TRACK_EMBEDDINGS, S.RESUME_STATE, S.RESUMES}
    for key, (shape, kind) in expected.items():
        item = group.get(key)
        if item is None:
            if key in optional:
                continue
            raise fail(path, f"{where} lacks its {key!r} dataset")
        if not isinstance(item, h5py.Dataset):
            raise fail(path, f"{where}: {key!r} is not a dataset")
        check_plain_storage(path, f"{where}: dataset {key!r}", item)
        if item.dtype.kind != kind or (kind in "iu" and item.dtype.itemsize > 8):
            raise fail(path, f"{where}: dataset {key!r} has dtype {item.dtype}, the schema says "
                             f"{'integer' if kind in 'iu' else 'float'}")
        if len(item.shape) != len(shape) or any(
                want is not None and (item.shape[i] != want if want >= 0 else not 1 <= item.shape[i] <= 4096)
                for i, want in enumerate(shape)):
            described = tuple("R" if v is None else ("E" if v < 0 else v) for v in shape)
            raise fail(path, f"{where}: dataset {key!r} has shape {item.shape}, the schema says {described}")
        if key == S.ALPHA and item.chunks is not None and item.chunks[0] != 1:
            raise fail(path, f"{where}: dataset {key!r} is chunked {item.chunks}, not one frame per chunk")
    per_frame = F * (1 + 4 + 4 * K + 16)
    if per_frame > PER_RUN_MEMORY:
        raise fail(path, f"{where}: {F} frames x {K} classes would need {per_frame >> 20} MB in memory "
                         f"(at most {PER_RUN_MEMORY >> 20} MB)")
    return K


def check_offsets(path: Path | str, run: str, name: str, offsets: np.ndarray, *, lo: int, rows: int) -> None:
    """offsets[lo:] (already read) start where the earlier ones ended, never decrease and stay within
    ``rows`` committed rows."""
    part = offsets[lo:]
    if len(part) and (part[0] < 0 or (np.diff(part) < 0).any() or part[-1] > rows):
        bad = int(np.flatnonzero(np.diff(part) < 0)[0]) + lo if (np.diff(part) < 0).any() else lo
        raise fail(path, f"run {run!r}: {name} decrease, are negative or run past the {rows} committed "
                         f"rows (near frame {bad})")


def check_frame_values(path: Path | str, run: str, flags: np.ndarray, beta: np.ndarray, probs: np.ndarray,
                       *, lo: int) -> None:
    """Frames with a result have a finite beta and finite action probabilities."""
    done = (flags & S.FLAG_DONE) != 0
    bad = done & ~(np.isfinite(beta) & np.isfinite(probs).all(axis=1))
    if bad.any():
        k = int(np.flatnonzero(bad)[0]) + lo
        raise fail(path, f"run {run!r}: frame {k} is marked done but its beta or action probabilities are "
                         f"NaN/infinite")


def check_track_rows(path: Path | str, run: str, tracks: np.ndarray, *, frame: int | None = None) -> None:
    """Track rows: finite numbers, IDs exact integers in [0, MAX_TRACK_ID]."""
    if tracks.ndim != 2 or tracks.shape[1] != S.TRACK_WIDTH:
        raise fail(path, f"run {run!r}: track rows of width {tracks.shape[1:]}, not {S.TRACK_WIDTH}")
    ids = tracks[:, 5]
    bad = ~np.isfinite(tracks).all(axis=1) | (ids < 0) | (ids > MAX_TRACK_ID) | (ids != np.floor(ids))
    if bad.any():
        where = f"frame {frame}" if frame is not None else f"track row {int(np.flatnonzero(bad)[0])}"
        raise fail(path, f"run {run!r}: {where} has a track with NaN/infinite values or an ID that is not an "
                         f"integer in [0, {MAX_TRACK_ID}] ({tracks[np.flatnonzero(bad)[0]].tolist()})")


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _is_int(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer()
