"""RunWriter: appends FrameResults to one run; ``checkpoint()`` makes them durable.

Frames are buffered and written in blocks; a checkpoint writes the buffer, flushes every dataset and
the file, and only then writes the run's ``commit`` record, so a reader (or a resumed writer) never
trusts data written after the last checkpoint.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import h5py
import numpy as np

from engine.cache import schema as S
from engine.cache.errors import CacheCorruptError, CacheError
from engine.cache.jsonattrs import to_json
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

    def _resume(self) -> None:
        """Continue after the last contiguous committed frame; forget anything written after it."""
        ds = self._datasets()
        frames_end = int(np.clip(ds[S.COMMIT][0], 0, self._num_frames))
        flags = ds[S.FRAME_FLAGS][:frames_end]
        missing = np.flatnonzero((flags & S.FLAG_DONE) == 0)
        completed = int(missing[0]) if len(missing) else frames_end
        self._track_rows = int(ds[S.TRACK_OFFSETS][completed])
        self._detection_rows = int(ds[S.DETECTION_OFFSETS][completed])
        self._completed = completed
        self._frames_end = completed
        self._next_frame = completed
        # Commit the rewind first, then clear flags a dead writer may have left beyond it.
        self._write_commit()
        if completed < self._num_frames:
            tail = ds[S.FRAME_FLAGS][completed:]
            if tail.any():
                ds[S.FRAME_FLAGS][completed:] = np.zeros(len(tail), np.uint8)
                ds[S.FRAME_FLAGS].flush()

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

    def checkpoint(self) -> None:
        """Make every frame written so far durable (survives SIGKILL of this process)."""
        if self._closed:
            return
        with self._cache.lock:
            self._write_pending()
            ds = self._datasets()
            for d in ds.values():
                d.flush()
            self._cache.h5.flush()
            self._write_commit()

    def close(self) -> None:
        """Checkpoint and release the run. Idempotent."""
        if self._closed:
            return
        try:
            self.checkpoint()
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
                flag = S.FLAG_DONE
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
