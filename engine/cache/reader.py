"""RunReader: O(1) per-frame access to one run, trusting only what the last checkpoint committed.

The small per-frame arrays (flags, beta, action probabilities, row offsets) are held in memory and
topped up by ``refresh()``; ``frame(k)`` then reads one alpha chunk and a slice of each row array.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import h5py
import numpy as np

from engine.cache import schema as S
from engine.cache.errors import CacheCorruptError, CacheError
from engine.cache.jsonattrs import from_json
from engine.cache import validate
from engine.cache.records import RunInfo
from engine.results import FrameResult

if TYPE_CHECKING:
    from engine.cache.store import ResultsCache

_HANDLES = (S.COMMIT, S.FRAME_FLAGS, S.BETA, S.ACTION_PROBS, S.ALPHA, S.TRACK_OFFSETS, S.TRACKS,
            S.TRACK_ACTION_PROBS, S.DETECTION_OFFSETS, S.DETECTIONS)
_IDENTITY_HANDLES = (S.TRACK_MARGINS, S.TRACK_EMBEDDINGS)  # schema v2, optional (see schema.py "Versions")


def _h5_errors(method):
    """HDF5 failures while reading become CacheCorruptError naming the file and run."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            with self._cache.lock:
                return method(self, *args, **kwargs)
        except CacheError:
            raise
        except (OSError, KeyError, RuntimeError) as exc:
            raise CacheCorruptError(f"{self._cache.path}: cannot read run {self.name!r} ({exc})") from None
    return wrapper


class RunReader:
    """Reads one run. Obtain via ``ResultsCache.run(name)``; call ``refresh()`` to see frames a
    concurrent writer has checkpointed since."""

    def __init__(self, cache: "ResultsCache", name: str):
        self._cache = cache
        self.name = name
        self._setup()

    @_h5_errors
    def _setup(self) -> None:
        cache, name = self._cache, self.name
        self._generation = -1
        self._ds: dict[str, h5py.Dataset] = {}
        F = int(cache.video.num_frames)
        self._info_attrs = self._read_info_attrs()
        # every shape checked against the schema and the others before anything is allocated
        K = validate.check_run_layout(cache.path, name, cache.h5[S.RUNS_GROUP][name], num_frames=F,
                                      class_names=self._info_attrs["class_names"],
                                      alpha_shape=self._info_attrs["alpha_shape"])
        ds = self._datasets()
        self._num_frames, self._num_classes = F, K
        self._flags = np.zeros(F, np.uint8)
        self._beta = np.full(F, np.nan, np.float32)
        self._probs = np.full((F, K), np.nan, np.float32)
        self._track_offsets = np.zeros(F + 1, np.int64)
        self._detection_offsets = np.zeros(F + 1, np.int64)
        self._end = 0
        self._completed = 0
        self._identity_reason = self._check_identity(ds)
        self._load()

    # ---- handles / loading ----------------------------------------------------------------------
    def _datasets(self) -> dict[str, h5py.Dataset]:
        if self._generation != self._cache.generation:
            g = self._cache.h5[S.RUNS_GROUP][self.name]
            self._ds = {k: g[k] for k in _HANDLES}
            self._ds.update({k: g[k] for k in _IDENTITY_HANDLES if k in g})
            self._generation = self._cache.generation
        return self._ds

    def _read_info_attrs(self) -> dict:
        a = self._cache.h5[S.RUNS_GROUP][self.name].attrs
        try:
            class_names = from_json(a["class_names"], what="class_names")
            if not isinstance(class_names, list):  # a bare string would read as one class per letter
                raise ValueError(f"class_names is a JSON {type(class_names).__name__}, not a list")
            return dict(model_config=from_json(a["model_config"], what="model_config"),
                        checkpoint_sha256=str(a["checkpoint_sha256"]),
                        class_names=list(class_names),
                        params=from_json(a["params"], what="params"),
                        alpha_shape=tuple(int(v) for v in a["alpha_shape"]),
                        created=str(a["created"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise CacheCorruptError(f"{self._cache.path}: run {self.name!r} has damaged attributes ({exc})") from None

    def _check_identity(self, ds: dict) -> str | None:
        """Why this run has no per-row identity data (None when it has margins and embeddings)."""
        if S.TRACK_MARGINS not in ds:
            return (f"run {self.name!r} was written with cache schema version 1, before re-ID embeddings and "
                    f"association margins were stored; run the model again to get them")
        if ds[S.TRACK_MARGINS].ndim != 1:
            raise CacheCorruptError(f"{self._cache.path}: run {self.name!r} has a damaged {S.TRACK_MARGINS} dataset")
        if S.TRACK_EMBEDDINGS not in ds:
            return f"the model of run {self.name!r} has no re-ID embedding head (association margins only)"
        if ds[S.TRACK_EMBEDDINGS].ndim != 2 or ds[S.TRACK_EMBEDDINGS].shape[1] < 1:
            raise CacheCorruptError(f"{self._cache.path}: run {self.name!r} has a damaged {S.TRACK_EMBEDDINGS} dataset")
        return None

    def _load(self) -> None:
        ds = self._datasets()
        commit = ds[S.COMMIT][()]
        F = self._num_frames
        end = int(np.clip(commit[0], 0, F))
        lo = min(self._end, end)
        if lo < self._end:  # a resumed writer rewound: forget what we had past its restart point
            self._flags[lo:] = 0
            self._beta[lo:] = np.nan
            self._probs[lo:] = np.nan
        if end > lo:
            self._flags[lo:end] = ds[S.FRAME_FLAGS][lo:end]
            self._beta[lo:end] = ds[S.BETA][lo:end]
            self._probs[lo:end] = ds[S.ACTION_PROBS][lo:end]
            self._track_offsets[lo:end + 1] = ds[S.TRACK_OFFSETS][lo:end + 1]
            self._detection_offsets[lo:end + 1] = ds[S.DETECTION_OFFSETS][lo:end + 1]
            path = self._cache.path
            rows = {S.TRACK_OFFSETS: min(int(commit[1]), ds[S.TRACKS].shape[0], ds[S.TRACK_ACTION_PROBS].shape[0]),
                    S.DETECTION_OFFSETS: min(int(commit[2]), ds[S.DETECTIONS].shape[0])}
            offsets = {S.TRACK_OFFSETS: self._track_offsets, S.DETECTION_OFFSETS: self._detection_offsets}
            for key, array in offsets.items():
                if lo == 0 and array[0] != 0:
                    raise CacheCorruptError(f"{path}: run {self.name!r}: {key} do not start at row 0")
                validate.check_offsets(path, self.name, key, array[:end + 1], lo=lo, rows=rows[key])
            validate.check_frame_values(path, self.name, self._flags[lo:end], self._beta[lo:end],
                                        self._probs[lo:end], lo=lo)
        self._end = end
        if (self._track_offsets[end] > int(commit[1]) or self._detection_offsets[end] > int(commit[2])
                or self._track_offsets[end] > ds[S.TRACKS].shape[0]
                or self._detection_offsets[end] > ds[S.DETECTIONS].shape[0]
                or any(self._track_offsets[end] > ds[k].shape[0] for k in _IDENTITY_HANDLES if k in ds)):
            raise CacheCorruptError(f"{self._cache.path}: run {self.name!r} row index past its committed rows")
        done = (self._flags[:end] & S.FLAG_DONE) != 0
        missing = np.flatnonzero(~done)
        self._completed = int(missing[0]) if len(missing) else end

    @_h5_errors
    def refresh(self) -> None:
        """Pick up what a concurrent writer has checkpointed (SWMR refresh, or reopen)."""
        cache = self._cache
        if cache.is_reading:
            if cache.swmr_read:
                for d in self._datasets().values():
                    d.refresh()
            else:
                cache.refresh()
        # else this process writes the file: what it committed is already visible
        self._load()

    # ---- metadata ------------------------------------------------------------------------------
    @property
    def info(self) -> RunInfo:
        return RunInfo(name=self.name, complete=self._completed >= self._num_frames,
                       completed_frames=self._completed, num_frames=self._num_frames, **self._info_attrs)

    @property
    def class_names(self) -> list[str]:
        return list(self._info_attrs["class_names"])

    @property
    def num_frames(self) -> int:
        return self._num_frames

    @property
    def completed_frames(self) -> int:
        """Contiguous frames from 0 with a committed result."""
        return self._completed

    @property
    def frames_with_results(self) -> int:
        """All committed frames with a result (gaps excluded)."""
        return int(np.count_nonzero(self._flags[:self._end] & S.FLAG_DONE))

    def has_frame(self, k: int) -> bool:
        k = int(k)
        return 0 <= k < self._end and bool(self._flags[k] & S.FLAG_DONE)

    # ---- per-frame -----------------------------------------------------------------------------
    @_h5_errors
    def frame(self, k: int) -> FrameResult | None:
        """Frame k's result, or None when it has none (yet). IndexError outside [0, F)."""
        k = int(k)
        if not 0 <= k < self._num_frames:
            raise IndexError(f"frame {k} outside [0, {self._num_frames})")
        if k >= self._end:
            return None
        flag = int(self._flags[k])
        if not flag & S.FLAG_DONE:
            return None
        ds = self._datasets()
        a, b = int(self._track_offsets[k]), int(self._track_offsets[k + 1])
        if b > a:
            tracks = ds[S.TRACKS][a:b]
            validate.check_track_rows(self._cache.path, self.name, tracks, frame=k)
            tap = ds[S.TRACK_ACTION_PROBS][a:b] if flag & S.FLAG_HAS_TRACK_ACTION_PROBS else None
        else:
            tracks = np.zeros((0, S.TRACK_WIDTH), np.float32)
            tap = np.zeros((0, self._num_classes), np.float32) if flag & S.FLAG_HAS_TRACK_ACTION_PROBS else None
        detections = None
        if flag & S.FLAG_HAS_DETECTIONS:
            c, d = int(self._detection_offsets[k]), int(self._detection_offsets[k + 1])
            detections = ds[S.DETECTIONS][c:d] if d > c else np.zeros((0, S.DETECTION_WIDTH), np.float32)
        alpha = ds[S.ALPHA][k] if flag & S.FLAG_HAS_ALPHA else None
        margins = embeddings = None
        if S.TRACK_MARGINS in ds:
            margins = ds[S.TRACK_MARGINS][a:b] if b > a else np.zeros(0, np.float32)
        if S.TRACK_EMBEDDINGS in ds and flag & S.FLAG_HAS_TRACK_EMBEDDINGS:
            emb = ds[S.TRACK_EMBEDDINGS]
            embeddings = emb[a:b] if b > a else np.zeros((0, emb.shape[1]), np.float16)
        return FrameResult(frame_index=k, tracks=tracks, action_probs=self._probs[k].copy(), alpha=alpha,
                           beta=float(self._beta[k]), track_action_probs=tap, detections=detections,
                           track_embeddings=embeddings, track_margins=margins,
                           damaged=bool(flag & S.FLAG_DAMAGED))

    # ---- whole-run arrays ----------------------------------------------------------------------
    def action_probs(self) -> np.ndarray:
        """(F, K) float32 clip-level action probabilities; NaN rows for frames without a result."""
        out = self._probs.copy()
        out[(self._flags & S.FLAG_DONE) == 0] = np.nan
        return out

    def beta(self) -> np.ndarray:
        """(F,) float32 temporal attention; NaN for frames without a result."""
        out = self._beta.copy()
        out[(self._flags & S.FLAG_DONE) == 0] = np.nan
        return out

    @_h5_errors
    def track_rows(self) -> np.ndarray:
        """(N, 7) float64 [frame, id, x1, y1, x2, y2, score]: every committed track row, frame order."""
        end = self._end
        n = int(self._track_offsets[end])
        if n == 0:
            return np.zeros((0, 7), np.float64)
        tracks = self._datasets()[S.TRACKS][:n]
        validate.check_track_rows(self._cache.path, self.name, tracks)
        counts = np.diff(self._track_offsets[:end + 1])
        frames = np.repeat(np.arange(end, dtype=np.float64), counts)
        return np.column_stack([frames, tracks[:, 5], tracks[:, 0], tracks[:, 1], tracks[:, 2], tracks[:, 3],
                                tracks[:, 4]]).astype(np.float64)

    @_h5_errors
    def track_action_probs_rows(self) -> np.ndarray:
        """(N, K) float32 per-track action probabilities aligned with ``track_rows()`` (NaN rows: none)."""
        n = int(self._track_offsets[self._end])
        if n == 0:
            return np.zeros((0, self._num_classes), np.float32)
        return self._datasets()[S.TRACK_ACTION_PROBS][:n]

    # ---- identity (schema v2) -------------------------------------------------------------------
    @property
    def identity_missing_reason(self) -> str | None:
        """Why features built on re-ID embeddings cannot use this run (v1 run, or a model without a re-ID
        head); None when ``track_embedding_rows()`` returns embeddings."""
        return self._identity_reason

    @property
    def embedding_dim(self) -> int:
        """E of ``track_embedding_rows()`` (0 when the run stores no embeddings)."""
        ds = self._datasets()
        return int(ds[S.TRACK_EMBEDDINGS].shape[1]) if S.TRACK_EMBEDDINGS in ds else 0

    @_h5_errors
    def track_margin_rows(self) -> np.ndarray | None:
        """(N,) float32 association margins aligned with ``track_rows()`` (NaN: new track / no match);
        None for a schema-v1 run."""
        ds = self._datasets()
        if S.TRACK_MARGINS not in ds:
            return None
        n = int(self._track_offsets[self._end])
        return ds[S.TRACK_MARGINS][:n] if n else np.zeros(0, np.float32)

    @_h5_errors
    def track_embedding_rows(self) -> np.ndarray | None:
        """(N, E) float16 re-ID embeddings aligned with ``track_rows()`` (NaN rows for frames without them);
        None when the run stores none (see ``identity_missing_reason``)."""
        ds = self._datasets()
        if S.TRACK_EMBEDDINGS not in ds:
            return None
        emb = ds[S.TRACK_EMBEDDINGS]
        n = int(self._track_offsets[self._end])
        if n == 0:
            return np.zeros((0, emb.shape[1]), np.float16)
        out = emb[:n]
        counts = np.diff(self._track_offsets[:self._end + 1])
        without = np.repeat((self._flags[:self._end] & S.FLAG_HAS_TRACK_EMBEDDINGS) == 0, counts)
        out[without] = np.nan
        return out

    def damaged_frames(self) -> np.ndarray:
        """Indices of the committed frames whose pixels the decoder concealed damage in (FLAG_DAMAGED)."""
        return np.flatnonzero(self._flags[:self._end] & S.FLAG_DAMAGED)

    @_h5_errors
    def resumes(self) -> np.ndarray:
        """(N, 2) float64 [unix time, frame] of every time the run was resumed (none: (0, 2))."""
        history = self._cache.h5[S.RUNS_GROUP][self.name].get(S.RESUMES)
        if history is None:
            return np.zeros((0, 2), np.float64)
        if history.ndim != 2 or history.shape[1] != 2 or history.shape[0] > 10_000_000:
            raise CacheCorruptError(f"{self._cache.path}: run {self.name!r}: {S.RESUMES} has shape {history.shape}")
        if self._cache.swmr_read:
            history.refresh()
        return np.asarray(history[()], np.float64)

    def __repr__(self) -> str:
        return f"RunReader({self.name!r}, {self._completed}/{self._num_frames} frames)"
