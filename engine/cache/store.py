"""ResultsCache: one HDF5 file per video holding named runs and label sets (schema in schema.py).

File modes and who holds what:
- mode "r": opened without HDF5 file locking, so a viewer never blocks a writer in another process.
  A file being written (or left by a killed writer) is opened in SWMR-read mode.
- mode "a": opened for writing. Structural changes (new runs, label sets) are made with the file in
  normal mode and flushed at once; while any RunWriter is open the file is in SWMR-write mode and a
  shared ``flock`` tells other processes a writer is alive. A structural change requested while
  writing checkpoints the writers, reopens the file in normal mode for the change, and resumes SWMR.
"""
from __future__ import annotations

import fcntl
import os
import re
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import h5py
import numpy as np

from engine.cache import schema as S
from engine.cache.errors import (CacheBusyError, CacheCorruptError, CacheError, CacheMismatchError,
                                 CacheVersionError)
from engine.cache.jsonattrs import to_json
from engine.cache.records import VideoInfo
from engine.cache.recovery import repair_after_crash, status_flags

if TYPE_CHECKING:
    from engine.cache.reader import RunReader
    from engine.cache.writer import RunWriter

_NAME = re.compile(r"^[^/.][^/]{0,199}$")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{what} name must be 1-200 characters, no '/', not starting with '.': {name!r}")
    return name


def _open_h5(path: Path, mode: str) -> tuple[h5py.File, bool]:
    """Open ``path`` with h5py; returns (file, opened_in_swmr_read). Errors become CacheErrors."""
    if not path.exists():
        raise CacheError(f"{path}: no such results cache")
    if path.is_dir():
        raise CacheError(f"{path}: is a directory, not a results cache")
    try:
        if mode == "r":
            try:
                return h5py.File(path, "r", libver="latest", locking=False), False
            except OSError as exc:
                if "already open for write" not in str(exc):
                    raise
            try:
                return h5py.File(path, "r", libver="latest", locking=False, swmr=True), True
            except OSError:
                raise CacheCorruptError(
                    f"{path}: left open by a writer that died outside SWMR writing; "
                    f"open it for appending (mode='a') to repair it") from None
        if status_flags(path):
            repair_after_crash(path)
        try:
            return h5py.File(path, "r+", libver="latest"), False
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise CacheBusyError(f"{path}: another process has this cache open for writing") from None
            raise
    except CacheError:
        raise
    except (OSError, ValueError, RuntimeError) as exc:
        raise CacheCorruptError(f"{path}: not a readable HDF5 results cache ({exc})") from None


class ResultsCache:
    """One results cache file. Use ``ResultsCache.create`` / ``ResultsCache.open``; a context manager."""

    def __init__(self, path: Path, file: h5py.File, *, mode: str, swmr_read: bool):
        self._path = path
        self._file = file
        self._mode = mode
        self._swmr_read = swmr_read
        self._swmr_writing = False
        self._lock_fd: int | None = None
        self._writers: dict[str, "RunWriter"] = {}
        self._closing = False
        # Bumped whenever self._file is replaced: readers/writers re-fetch their dataset handles.
        self.generation = 0
        self._video = self._read_header()

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, *, video_fingerprint: str, video_path: str, num_frames: int,
               fps: float, width: int, height: int) -> "ResultsCache":
        """Create the cache of a video (atomically: written beside, then renamed into place), or open
        the existing one for appending if its fingerprint matches (CacheMismatchError otherwise)."""
        path = Path(path)
        if not isinstance(video_fingerprint, str) or not video_fingerprint:
            raise ValueError("video_fingerprint must be a non-empty string")
        num_frames, width, height = int(num_frames), int(width), int(height)
        if num_frames <= 0 or width <= 0 or height <= 0 or not float(fps) > 0:
            raise ValueError(f"num_frames, fps, width and height must be > 0, got "
                             f"{num_frames}, {fps}, {width}, {height}")
        if path.exists():
            return cls.open(path, mode="a", video_fingerprint=video_fingerprint, video_path=str(video_path))
        path.parent.mkdir(parents=True, exist_ok=True)
        # h5py creates it (so the umask applies); the random name keeps concurrent creators apart
        tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            with h5py.File(tmp, "w", libver="latest") as f:
                a = f.attrs
                a["format"] = S.FORMAT_NAME
                a["schema_version"] = np.int64(S.SCHEMA_VERSION)
                a["created"] = utc_now()
                a["video_path"] = str(video_path)
                a["video_fingerprint"] = video_fingerprint
                a["num_frames"] = np.int64(num_frames)
                a["fps"] = np.float64(fps)
                a["width"] = np.int64(width)
                a["height"] = np.int64(height)
                f.create_group(S.RUNS_GROUP)
                f.create_group(S.LABEL_SETS_GROUP)
            try:
                os.link(tmp, path)  # never clobbers a cache another process created meanwhile
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
        return cls.open(path, mode="a", video_fingerprint=video_fingerprint, video_path=str(video_path))

    @classmethod
    def open(cls, path: str | os.PathLike, *, mode: str = "r", video_fingerprint: str | None = None,
             video_path: str | None = None) -> "ResultsCache":
        """Open an existing cache. With ``video_fingerprint``, refuse (CacheMismatchError) a cache made
        for another video; ``video_path`` only improves that message. mode "a" repairs a file left by
        a killed writer (CacheBusyError while that writer is still alive)."""
        if mode not in ("r", "a"):
            raise ValueError(f"mode must be 'r' or 'a', got {mode!r}")
        path = Path(path)
        file, swmr_read = _open_h5(path, mode)
        try:
            cache = cls(path, file, mode=mode, swmr_read=swmr_read)
        except BaseException:
            file.close()
            raise
        if video_fingerprint is not None and video_fingerprint != cache.video.fingerprint:
            cache.close()
            other = f"{video_path} " if video_path else ""
            raise CacheMismatchError(
                f"{path} is the cache of {cache.video.path} (fingerprint {cache.video.fingerprint}), "
                f"not of video {other}(fingerprint {video_fingerprint})")
        return cache

    def _read_header(self) -> VideoInfo:
        try:
            a = self._file.attrs
            fmt = a.get("format")
            if isinstance(fmt, bytes):
                fmt = fmt.decode()
            if fmt != S.FORMAT_NAME:
                raise CacheCorruptError(f"{self._path}: an HDF5 file but not a stviewer results cache "
                                        f"(no format={S.FORMAT_NAME!r} attribute)")
            version = int(a["schema_version"])
            if version > S.SCHEMA_VERSION or version < 1:
                raise CacheVersionError(f"{self._path}: schema version {version}, this code reads "
                                        f"versions 1..{S.SCHEMA_VERSION}; upgrade stviewer")
            return VideoInfo(path=str(a["video_path"]), fingerprint=str(a["video_fingerprint"]),
                             num_frames=int(a["num_frames"]), fps=float(a["fps"]), width=int(a["width"]),
                             height=int(a["height"]))
        except CacheError:
            raise
        except (KeyError, OSError, ValueError, TypeError) as exc:
            raise CacheCorruptError(f"{self._path}: damaged results cache header ({exc})") from None

    # ---- properties --------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self._path

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def video(self) -> VideoInfo:
        return self._video

    @property
    def h5(self) -> h5py.File:
        """The open h5py file (for this package's readers and writers)."""
        if self._file is None:
            raise CacheError(f"{self._path}: cache is closed")
        return self._file

    @property
    def schema_version(self) -> int:
        return int(self.h5.attrs["schema_version"])

    @property
    def swmr_read(self) -> bool:
        return self._swmr_read

    def _names(self, group: str) -> list[str]:
        try:
            g = self.h5.get(group)
            return sorted(n for n in g.keys() if not n.startswith(".")) if g is not None else []
        except (OSError, KeyError, RuntimeError) as exc:
            raise CacheCorruptError(f"{self._path}: cannot list {group} ({exc})") from None

    @property
    def run_names(self) -> list[str]:
        return self._names(S.RUNS_GROUP)

    @property
    def label_set_names(self) -> list[str]:
        return self._names(S.LABEL_SETS_GROUP)

    # ---- runs ----------------------------------------------------------------------------
    def create_run(self, name: str, *, model_config: dict, checkpoint_sha256: str, class_names: list[str],
                   params: dict, alpha_shape: tuple[int, int]) -> "RunWriter":
        """Add a run and return its writer. ValueError if a run of that name exists."""
        from engine.cache.writer import RunWriter, create_run_group

        check_name(name, "run")
        if name in self.run_names:
            raise ValueError(f"{self._path}: run {name!r} already exists (use open_run_writer to resume it)")
        with self._structure() as f:
            create_run_group(f, name, num_frames=self.video.num_frames, model_config=model_config,
                             checkpoint_sha256=checkpoint_sha256, class_names=class_names, params=params,
                             alpha_shape=alpha_shape, created=utc_now())
        return self._attach_writer(RunWriter, name)

    def open_run_writer(self, name: str) -> "RunWriter":
        """Resume writing an existing run; ``writer.completed_frames`` is where to continue."""
        from engine.cache.writer import RunWriter

        if name not in self.run_names:
            raise KeyError(f"{self._path}: no run named {name!r} (runs: {self.run_names})")
        if name in self._writers:
            raise CacheBusyError(f"{self._path}: run {name!r} already has an open writer")
        self._require_writable()
        return self._attach_writer(RunWriter, name)

    def _attach_writer(self, writer_cls, name: str) -> "RunWriter":
        if not self._swmr_writing:
            self._start_swmr_write()
        writer = writer_cls(self, name)
        self._writers[name] = writer
        return writer

    def _detach_writer(self, name: str) -> None:
        self._writers.pop(name, None)
        if not self._writers and self._swmr_writing and self._file is not None and not self._closing:
            self._reopen_normal()  # leaves SWMR so the file closes clean even if we die later

    def run(self, name: str) -> "RunReader":
        """A reader of run ``name`` (KeyError if absent)."""
        from engine.cache.reader import RunReader

        if name not in self.run_names:
            raise KeyError(f"{self._path}: no run named {name!r} (runs: {self.run_names})")
        return RunReader(self, name)

    # ---- label sets ------------------------------------------------------------------------
    def save_label_set(self, name: str, rows: np.ndarray, *, source_run: str | None = None,
                       note: str = "") -> None:
        """Store (or replace) label set ``name``: rows (N, 7) [frame, id, x1, y1, x2, y2, score]."""
        check_name(name, "label set")
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != S.LABEL_WIDTH:
            raise ValueError(f"label set rows must be (N, {S.LABEL_WIDTH}) [frame, id, x1, y1, x2, y2, score], "
                             f"got {rows.shape}")
        if not np.isfinite(rows).all():
            raise ValueError("label set rows must be finite")
        if len(rows) and (rows[:, 0].min() < 0 or rows[:, 0].max() >= self.video.num_frames):
            raise ValueError(f"label set frames must be in [0, {self.video.num_frames})")
        with self._structure() as f:
            sets = f.require_group(S.LABEL_SETS_GROUP)
            staging = f".staging-{name}"
            if staging in sets:
                del sets[staging]
            g = sets.create_group(staging)
            kwargs = {}
            if len(rows):
                kwargs = dict(chunks=(min(len(rows), 4096), S.LABEL_WIDTH), compression=S.COMPRESSION,
                              compression_opts=S.COMPRESSION_LEVEL, shuffle=True)
            g.create_dataset(S.LABEL_ROWS, data=rows, **kwargs)
            g.attrs["source_run"] = source_run or ""
            g.attrs["note"] = str(note)
            g.attrs["created"] = utc_now()
            f.flush()
            if name in sets:
                del sets[name]
            sets.move(staging, name)

    def load_label_set(self, name: str) -> np.ndarray:
        """Rows (N, 7) float64 [frame, id, x1, y1, x2, y2, score] of label set ``name``."""
        if name not in self.label_set_names:
            raise KeyError(f"{self._path}: no label set named {name!r} (label sets: {self.label_set_names})")
        try:
            return np.asarray(self.h5[S.LABEL_SETS_GROUP][name][S.LABEL_ROWS][()], dtype=np.float64)
        except (OSError, KeyError, RuntimeError) as exc:
            raise CacheCorruptError(f"{self._path}: cannot read label set {name!r} ({exc})") from None

    def label_set_info(self, name: str) -> dict:
        """source_run, note, created and the row count of a label set."""
        g = self.h5[S.LABEL_SETS_GROUP][name]
        return {"name": name, "source_run": str(g.attrs.get("source_run", "")) or None,
                "note": str(g.attrs.get("note", "")), "created": str(g.attrs.get("created", "")),
                "rows": int(g[S.LABEL_ROWS].shape[0])}

    def delete_label_set(self, name: str) -> None:
        if name not in self.label_set_names:
            raise KeyError(f"{self._path}: no label set named {name!r}")
        with self._structure() as f:
            del f[S.LABEL_SETS_GROUP][name]

    # ---- file-mode machinery -----------------------------------------------------------
    def _require_writable(self) -> None:
        if self._mode != "a":
            raise CacheError(f"{self._path}: opened read-only (mode='r')")
        if self._file is None:
            raise CacheError(f"{self._path}: cache is closed")

    @contextmanager
    def _structure(self) -> Iterator[h5py.File]:
        """The file in normal (non-SWMR) mode for creating objects; flushed at the end."""
        self._require_writable()
        resume_swmr = self._swmr_writing
        if resume_swmr:
            for writer in self._writers.values():
                writer.checkpoint()
            self._reopen_normal()
        try:
            yield self._file
        finally:
            self._file.flush()
            if resume_swmr:
                self._start_swmr_write()

    def _start_swmr_write(self) -> None:
        self._file.flush()
        self._file.swmr_mode = True
        self._swmr_writing = True
        # HDF5 drops its own lock once SWMR writing starts; this one tells other processes we live.
        fd = os.open(self._path, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_SH)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            fd, self._lock_fd = self._lock_fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _reopen_normal(self) -> None:
        self._file.close()
        self._release_lock()
        self._swmr_writing = False
        self._file, self._swmr_read = _open_h5(self._path, self._mode)
        self.generation += 1

    def refresh(self) -> None:
        """Re-open the file to see runs and label sets another process added (mode 'r')."""
        if self._mode == "r" and self._file is not None:
            self._file.close()
            self._file, self._swmr_read = _open_h5(self._path, "r")
            self.generation += 1

    def close(self) -> None:
        """Checkpoint and close open writers, then the file. Idempotent."""
        if self._file is None:
            return
        self._closing = True
        try:
            for writer in list(self._writers.values()):
                writer.close()
        finally:
            if self._file is not None:
                self._file.close()
                self._file = None
            self._release_lock()

    @property
    def closed(self) -> bool:
        return self._file is None

    def __enter__(self) -> "ResultsCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultsCache({str(self._path)!r}, mode={self._mode!r})"

    def file_size(self) -> int:
        return self._path.stat().st_size
