"""RunWriter: appends FrameResults to one run; ``checkpoint()`` makes them durable.

Frames are buffered and written in blocks; a checkpoint writes the buffer, flushes every dataset and
the file, and only then writes the run's ``commit`` record, so a reader (or a resumed writer) never
trusts data written after the last checkpoint.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import time
from typing import TYPE_CHECKING

import h5py
import numpy as np

from engine.cache import schema as S
from engine.cache.errors import CacheCorruptError, CacheError, CacheWriteError
from engine.cache.jsonattrs import to_json
from engine.cache.resume_state import ResumePoint, decode as decode_resume_point, encode as encode_resume_point
from engine.results import FrameResult

if TYPE_CHECKING:
    from engine.cache.store import ResultsCache

# Frames buffered before they are written to the datasets (bounded memory between checkpoints).
WRITE_BLOCK = 64

_PER_FRAME = (S.FRAME_FLAGS, S.BETA, S.ACTION_PROBS, S.TRACK_OFFSETS, S.DETECTION_OFFSETS)
_ROWS = (S.TRACKS, S.TRACK_ACTION_PROBS, S.DETECTIONS)
_IDENTITY_ROWS = (S.TRACK_MARGINS, S.TRACK_EMBEDDINGS)  # schema v2; absent in v1 runs (and embeddings when E = 0)


def create_run_group(f: h5py.File, name: str, *, num_frames: int, model_config: dict, checkpoint_sha256: str,
                     class_names: list[str], params: dict, alpha_shape: tuple[int, int], created: str,
                     embedding_dim: int = 0) -> None:
    """Create /runs/<name> with every dataset of the schema (empty), in one structural step.

    embedding_dim: E of the model's re-ID embeddings (0: the run stores none; the datasets cannot be added
    later, because a run is written in SWMR mode where no dataset can be created)."""
    class_names = [str(c) for c in class_names]
    if not class_names:
        raise ValueError("class_names must not be empty")
    if not isinstance(model_config, dict) or not isinstance(params, dict):
        raise ValueError("model_config and params must be dicts")
    try:
        ah, aw = (int(v) for v in alpha_shape)
    except (TypeError, ValueError):
        raise ValueError(f"alpha_shape must be (h, w), got {alpha_shape!r}") from None
    if ah <= 0 or aw <= 0:
        raise ValueError(f"alpha_shape must be positive, got {alpha_shape!r}")
    F, K = int(num_frames), len(class_names)
    E = int(embedding_dim)
    if E < 0:
        raise ValueError(f"embedding_dim must be >= 0, got {embedding_dim!r}")
    attrs = {"model_config": to_json(model_config, what="model_config"),
             "class_names": to_json(class_names, what="class_names"),
             "params": to_json(params, what="params"),
             "checkpoint_sha256": str(checkpoint_sha256 or ""),
             "alpha_shape": np.array([ah, aw], dtype=np.int64),
             "created": created,
             S.EMBEDDING_DIM_ATTR: np.int64(E)}
    g = f.require_group(S.RUNS_GROUP).create_group(name)
    for key, value in attrs.items():
        g.attrs[key] = value
    z = dict(compression=S.COMPRESSION, compression_opts=S.COMPRESSION_LEVEL, shuffle=True)
    fc = min(F, S.FRAME_CHUNK)
    g.create_dataset(S.COMMIT, data=np.zeros(3, np.int64))  # contiguous: rewritten in place
    g.create_dataset(S.FRAME_FLAGS, (F,), np.uint8, chunks=(fc,), fillvalue=0, **z)
    g.create_dataset(S.BETA, (F,), np.float32, chunks=(fc,), fillvalue=np.nan, **z)
    g.create_dataset(S.ACTION_PROBS, (F, K), np.float32, chunks=(max(1, min(F, S.FRAME_CHUNK // 4)), K),
                     fillvalue=np.nan, **z)
    g.create_dataset(S.ALPHA, (F, ah, aw), np.float16, chunks=(1, ah, aw), fillvalue=0, **z)
    for offsets in (S.TRACK_OFFSETS, S.DETECTION_OFFSETS):
        g.create_dataset(offsets, (F + 1,), np.int64, chunks=(min(F + 1, S.FRAME_CHUNK),), fillvalue=0, **z)
    rc = S.ROW_CHUNK
    g.create_dataset(S.TRACKS, (0, S.TRACK_WIDTH), np.float32, maxshape=(None, S.TRACK_WIDTH),
                     chunks=(rc, S.TRACK_WIDTH), **z)
    g.create_dataset(S.TRACK_ACTION_PROBS, (0, K), np.float32, maxshape=(None, K), chunks=(rc, K),
                     fillvalue=np.nan, **z)
    g.create_dataset(S.DETECTIONS, (0, S.DETECTION_WIDTH), np.float32, maxshape=(None, S.DETECTION_WIDTH),
                     chunks=(rc, S.DETECTION_WIDTH), **z)
    g.create_dataset(S.TRACK_MARGINS, (0,), np.float32, maxshape=(None,), chunks=(rc,), fillvalue=np.nan, **z)
    if E:
        g.create_dataset(S.TRACK_EMBEDDINGS, (0, E), np.float16, maxshape=(None, E), chunks=(rc, E),
                         fillvalue=np.nan, **z)
    if int(f.attrs.get("schema_version", 1)) < 2:
        f.attrs["schema_version"] = np.int64(2)  # the file now holds a v2 run (see schema.py "Versions")
    add_resume_datasets(g)


def add_resume_datasets(g: h5py.Group) -> None:
    """Give run group ``g`` its (optional) resume datasets; a structural step (not in SWMR mode).
    Runs written before exact resume existed get them on their first resume."""
    z = dict(compression=S.COMPRESSION, compression_opts=1)
    if S.RESUME_STATE not in g:
        # two slots, written alternately: the one the last commit pairs with is never overwritten
        g.create_dataset(S.RESUME_STATE, (2, 0), np.uint8, maxshape=(2, None), chunks=(1, 1 << 16), **z)
    if S.RESUMES not in g:
        g.create_dataset(S.RESUMES, (0, 2), np.float64, maxshape=(None, 2), chunks=(64, 2), **z)


def add_resume_datasets_to(cache: "ResultsCache", name: str) -> None:
    """Give run ``name`` of ``cache`` its resume datasets if it lacks them (a brief structural step)."""
    if all(k in cache.h5[S.RUNS_GROUP][name] for k in (S.RESUME_STATE, S.RESUMES)):
        return
    with cache._structure() as f:
        add_resume_datasets(f[S.RUNS_GROUP][name])


def _write_failure_reason(exc: BaseException) -> str:
    """'No space left on device' from HDF5's "errno = 28, ..." message (or the exception itself)."""
    code = getattr(exc, "errno", None)
    match = re.search(r"errno = (\d+)", str(exc))
    if match:
        code = int(match.group(1))
    if code in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if code == errno.EFBIG:
        return "the file grew past the size this process may write"
    if code:
        return os.strerror(code)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


# Room a structural step (new cache, new run) needs on disk; HDF5's normal write mode is not crash-safe,
# so it is never started without it (a failure half-way could leave a truncated file)
STRUCTURE_ROOM = 64 * 1024


def ensure_room(path, *, need: int = STRUCTURE_ROOM) -> None:
    """CacheWriteError unless ``need`` more bytes fit in ``path`` (free disk space, and this process's
    file-size limit), checked before a structural step instead of failing inside it."""
    import resource
    import shutil
    from pathlib import Path

    path = Path(path)
    size = path.stat().st_size if path.exists() else 0
    free = shutil.disk_usage(path.parent if str(path.parent) else ".").free
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0] if hasattr(resource, "RLIMIT_FSIZE") else -1
    if free < need:
        raise CacheWriteError(f"{path}: cannot write: the disk is full ({free >> 10} KB free); free space and "
                              f"run again")
    if limit != resource.RLIM_INFINITY and limit >= 0 and size + need > limit:
        raise CacheWriteError(f"{path}: cannot write: the file would grow past the size this process may "
                              f"write ({limit} bytes); free space and run again")


@contextlib.contextmanager
def structural_write_failures(path, cache: "ResultsCache | None", what: str):
    """Like ``_fatal_write_errors`` for steps outside a writer (creating the cache, adding a run):
    an HDF5 write failure abandons the handle cleanly and becomes CacheWriteError naming ``what``."""
    try:
        yield
    except CacheError:
        raise
    except (OSError, RuntimeError) as exc:
        if cache is not None:
            cache.abandon_after_write_failure()
        raise CacheWriteError(f"{path}: cannot {what}: {_write_failure_reason(exc)}; free space and run "
                              f"again") from None


def _fatal_write_errors(method):
    """A failed HDF5 write poisons the file handle: abandon it cleanly (see
    ``ResultsCache.abandon_after_write_failure``) and raise CacheWriteError naming what was kept."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except CacheError:
            raise
        except (OSError, RuntimeError) as exc:
            self._closed = True
            self._cache.abandon_after_write_failure()
            kept = self._committed_frames
            saved = f"frames 0..{kept - 1} are saved" if kept else "no frame was saved yet"
            raise CacheWriteError(f"{self._cache.path}: cannot write run {self.name!r}: "
                                  f"{_write_failure_reason(exc)}; {saved}. Free space and run again to "
                                  f"resume") from None
    return wrapper


class RunWriter:
    """Writes FrameResults of one run in increasing frame order. Obtain via
    ``ResultsCache.create_run`` or ``ResultsCache.open_run_writer`` (resume)."""

    def __init__(self, cache: "ResultsCache", name: str):
        self._cache = cache
        self.name = name
        self._generation = -1
        self._ds: dict[str, h5py.Dataset] = {}
        self._pending: list[FrameResult] = []
        self._closed = False
        self._resume_point: ResumePoint | None = None
        self._state_slot = 0
        self._committed_frames = 0
        try:
            group = self._group()
            self._num_frames = int(cache.video.num_frames)
            self._num_classes = int(group[S.ACTION_PROBS].shape[1])
            self._alpha_shape = tuple(int(v) for v in group.attrs["alpha_shape"])
            self._embedding_dim = int(group[S.TRACK_EMBEDDINGS].shape[1]) if S.TRACK_EMBEDDINGS in group else 0
            self._resume()
        except CacheError:
            raise
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            raise CacheCorruptError(f"{cache.path}: run {name!r} is damaged ({exc})") from None

    # ---- handles -----------------------------------------------------------------------------
    def _group(self) -> h5py.Group:
        return self._cache.h5[S.RUNS_GROUP][self.name]

    def _datasets(self) -> dict[str, h5py.Dataset]:
        if self._generation != self._cache.generation:
            g = self._group()
            self._ds = {k: g[k] for k in (S.COMMIT, S.ALPHA, *_PER_FRAME, *_ROWS)}
            self._ds.update({k: g[k] for k in _IDENTITY_ROWS if k in g})
            self._generation = self._cache.generation
        return self._ds

    def _optional(self, key: str) -> h5py.Dataset | None:
        """A dataset older runs may lack (resume_state, resumes)."""
        return self._group().get(key)

    def _resume(self) -> None:
        """Continue after the last contiguous committed frame; forget anything written after it.

        Only the commit record is trusted: flags and rows a dead writer flushed after its last commit
        are ignored and cleared."""
        ds = self._datasets()
        frames_end = int(np.clip(ds[S.COMMIT][0], 0, self._num_frames))
        flags = ds[S.FRAME_FLAGS][:frames_end]
        missing = np.flatnonzero((flags & S.FLAG_DONE) == 0)
        completed = int(missing[0]) if len(missing) else frames_end
        self._completed = completed
        self._frames_end = self._next_frame = completed
        self._resume_point = self._newest_resume_point(completed)
        self.rewind(completed)

    def _newest_resume_point(self, completed: int) -> ResumePoint | None:
        """The newest intact snapshot at or before ``completed`` that agrees with the committed offsets."""
        slots = self._optional(S.RESUME_STATE)
        if slots is None or slots.shape[1] == 0:
            return None
        ds = self._datasets()
        best, best_slot = None, None
        for slot in range(2):
            point = decode_resume_point(slots[slot])
            if (point is None or point.frame > completed
                    or int(ds[S.TRACK_OFFSETS][point.frame]) != point.track_rows
                    or int(ds[S.DETECTION_OFFSETS][point.frame]) != point.detection_rows):
                continue
            if best is None or point.frame > best.frame:
                best, best_slot = point, slot
        if best_slot is not None:
            self._state_slot = 1 - best_slot  # the next snapshot goes to the other slot
        return best

    @_fatal_write_errors
    def rewind(self, frame: int) -> None:
        """Forget every frame from ``frame`` on (committed at once), so writing continues there."""
        frame = int(frame)
        if not 0 <= frame <= self._completed:
            raise ValueError(f"can only rewind to a completed frame (0..{self._completed}), got {frame}")
        with self._cache.lock:
            self._write_pending()  # so the offsets up to ``frame`` are in the datasets
        ds = self._datasets()
        self._track_rows = int(ds[S.TRACK_OFFSETS][frame])
        self._detection_rows = int(ds[S.DETECTION_OFFSETS][frame])
        self._completed = frame
        self._frames_end = frame
        self._next_frame = frame
        if self._resume_point is not None and self._resume_point.frame > frame:
            self._resume_point = None
        # Commit the rewind first, then clear flags a dead writer may have left beyond it.
        self._write_commit()
        if frame < self._num_frames:
            tail = ds[S.FRAME_FLAGS][frame:]
            if tail.any():
                ds[S.FRAME_FLAGS][frame:] = np.zeros(len(tail), np.uint8)
                ds[S.FRAME_FLAGS].flush()

    @property
    def resume_point(self) -> ResumePoint | None:
        """The newest snapshot saved by ``checkpoint(resume_state=...)`` at or before the resumed
        frame (None for a fresh run, or a run saved without snapshots)."""
        return self._resume_point

    @_fatal_write_errors
    def record_resume(self, frame: int) -> None:
        """Append [now, frame] to the run's resume history (runs from before it existed skip this)."""
        history = self._optional(S.RESUMES)
        if history is None:
            return
        with self._cache.lock:
            n = history.shape[0]
            history.resize(n + 1, axis=0)
            history[n] = (time.time(), float(frame))
            history.flush()

    # ---- public --------------------------------------------------------------------------------
    @property
    def completed_frames(self) -> int:
        """Contiguous frames from 0 that have a result (durable or buffered): where to continue."""
        return self._completed

    @property
    def next_frame(self) -> int:
        """The smallest frame index ``write`` accepts."""
        return self._next_frame

    @property
    def num_frames(self) -> int:
        return self._num_frames

    @_fatal_write_errors
    def write(self, result: FrameResult) -> None:
        """Append one frame's result; frame indices must increase (gaps are allowed)."""
        if self._closed:
            raise CacheError(f"{self._cache.path}: writer of run {self.name!r} is closed")
        if not isinstance(result, FrameResult):
            raise TypeError(f"write expects a FrameResult, got {type(result).__name__}")
        k = int(result.frame_index)
        if k < self._next_frame or k >= self._num_frames:
            raise ValueError(f"frame {k} out of order or range: next frame must be in "
                             f"[{self._next_frame}, {self._num_frames})")
        if result.action_probs.shape != (self._num_classes,):
            raise ValueError(f"action_probs must be ({self._num_classes},), got {result.action_probs.shape}")
        emb = result.track_embeddings
        if emb is not None and self._embedding_dim and emb.shape[1] != self._embedding_dim:
            raise ValueError(f"track_embeddings must be (N, {self._embedding_dim}), got {emb.shape}")
        if result.alpha is not None and tuple(np.shape(result.alpha)) != self._alpha_shape:
            raise ValueError(f"alpha must be {self._alpha_shape}, got {np.shape(result.alpha)}")
        self._pending.append(result)
        if k == self._completed:
            self._completed = k + 1
        self._next_frame = k + 1
        if len(self._pending) >= WRITE_BLOCK:
            with self._cache.lock:
                self._write_pending()

    @_fatal_write_errors
    def checkpoint(self, *, resume_state: dict[str, np.ndarray] | None = None) -> None:
        """Make every frame written so far durable (survives SIGKILL of this process).

        resume_state: the pipeline's state right after the last written frame (every frame before it
        written, none after); stored with this commit so a resume continues exactly from here."""
        if self._closed:
            return
        with self._cache.lock:
            self._write_pending()
            ds = self._datasets()
            for d in ds.values():
                d.flush()
            if resume_state is not None:
                self._write_resume_state(resume_state)
            self._cache.h5.flush()
            self._write_commit()

    def _write_resume_state(self, state: dict[str, np.ndarray]) -> None:
        if self._completed != self._frames_end:
            raise ValueError(f"a resume snapshot needs every frame before {self._frames_end} written "
                             f"(frame {self._completed} is missing)")
        slots = self._optional(S.RESUME_STATE)
        if slots is None:
            return
        point = ResumePoint(frame=self._frames_end, track_rows=self._track_rows,
                            detection_rows=self._detection_rows, state=state)
        blob = encode_resume_point(point)
        if blob.size > slots.shape[1]:
            slots.resize(blob.size, axis=1)
        row = np.zeros(slots.shape[1], np.uint8)
        row[:blob.size] = blob
        slots[self._state_slot] = row
        slots.flush()
        self._resume_point = point
        self._state_slot = 1 - self._state_slot

    def close(self, *, resume_state: dict[str, np.ndarray] | None = None) -> None:
        """Checkpoint (with ``resume_state``, see ``checkpoint``) and release the run. Idempotent."""
        if self._closed:
            return
        try:
            self.checkpoint(resume_state=resume_state)
        finally:
            self._closed = True
            self._cache._detach_writer(self.name)

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- internals -----------------------------------------------------------------------------
    def _write_commit(self) -> None:
        commit = self._datasets()[S.COMMIT]
        commit[:] = np.array([self._frames_end, self._track_rows, self._detection_rows], np.int64)
        commit.flush()
        self._cache.h5.flush()
        self._committed_frames = self._frames_end

    def _write_pending(self) -> None:
        if not self._pending:
            return
        ds = self._datasets()
        pending, self._pending = self._pending, []
        # from the first frame not yet written, so offsets of skipped frames are filled too
        lo, hi = self._frames_end, pending[-1].frame_index + 1
        n, K = hi - lo, self._num_classes
        flags = np.zeros(n, np.uint8)
        beta = np.full(n, np.nan, np.float32)
        probs = np.full((n, K), np.nan, np.float32)
        track_ends = np.empty(n, np.int64)
        det_ends = np.empty(n, np.int64)
        tracks, taps, dets, alphas = [], [], [], {}
        margins, embeddings, E = [], [], self._embedding_dim
        t_rows, d_rows = self._track_rows, self._detection_rows
        by_index = {r.frame_index: r for r in pending}
        for i in range(n):
            r = by_index.get(lo + i)
            if r is not None:
                flag = S.FLAG_DONE | (S.FLAG_DAMAGED if r.damaged else 0)
                beta[i] = r.beta
                probs[i] = r.action_probs
                m = len(r.tracks)
                if m:
                    tracks.append(r.tracks)
                    if r.track_action_probs is not None:
                        taps.append(r.track_action_probs)
                    else:
                        taps.append(np.full((m, K), np.nan, np.float32))
                    margins.append(r.track_margins if r.track_margins is not None else np.full(m, np.nan, np.float32))
                    if E:
                        embeddings.append(r.track_embeddings if r.track_embeddings is not None
                                          else np.full((m, E), np.nan, np.float16))
                if E and r.track_embeddings is not None:
                    flag |= S.FLAG_HAS_TRACK_EMBEDDINGS
                if r.track_action_probs is not None:
                    flag |= S.FLAG_HAS_TRACK_ACTION_PROBS
                t_rows += m
                if r.detections is not None:
                    flag |= S.FLAG_HAS_DETECTIONS
                    if len(r.detections):
                        dets.append(r.detections)
                        d_rows += len(r.detections)
                if r.alpha is not None:
                    flag |= S.FLAG_HAS_ALPHA
                    alphas[i] = r.alpha
                flags[i] = flag
            track_ends[i] = t_rows
            det_ends[i] = d_rows
        ds[S.FRAME_FLAGS][lo:hi] = flags
        ds[S.BETA][lo:hi] = beta
        ds[S.ACTION_PROBS][lo:hi] = probs
        ds[S.TRACK_OFFSETS][lo + 1:hi + 1] = track_ends
        ds[S.DETECTION_OFFSETS][lo + 1:hi + 1] = det_ends
        if alphas:
            block = np.zeros((n, *self._alpha_shape), np.float16)
            for i, a in alphas.items():
                block[i] = a
            # one-frame chunks: write only the frames that have a map
            first, last = min(alphas), max(alphas) + 1
            if len(alphas) == last - first:
                ds[S.ALPHA][lo + first:lo + last] = block[first:last]
            else:
                for i in alphas:
                    ds[S.ALPHA][lo + i] = block[i]
        if tracks:
            self._append(ds[S.TRACKS], self._track_rows, np.concatenate(tracks))
            self._append(ds[S.TRACK_ACTION_PROBS], self._track_rows, np.concatenate(taps))
            if S.TRACK_MARGINS in ds:  # a v1 run resumed by this code stays v1
                self._append(ds[S.TRACK_MARGINS], self._track_rows, np.concatenate(margins))
            if E:
                self._append(ds[S.TRACK_EMBEDDINGS], self._track_rows, np.concatenate(embeddings))
        if dets:
            self._append(ds[S.DETECTIONS], self._detection_rows, np.concatenate(dets))
        self._track_rows, self._detection_rows = t_rows, d_rows
        self._frames_end = hi

    @staticmethod
    def _append(dataset: h5py.Dataset, start: int, rows: np.ndarray) -> None:
        end = start + len(rows)
        if end > dataset.shape[0]:
            # grow geometrically; unwritten chunks take no space in the file
            dataset.resize(max(end, 2 * dataset.shape[0], 4 * S.ROW_CHUNK), axis=0)
        dataset[start:end] = rows
