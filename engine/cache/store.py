"""ResultsCache: one HDF5 file per video holding named runs and label sets (schema in schema.py).

The HDF5 file is held in one of three states, so it is open for writing only while it must be:
- "read": read-only, without HDF5 file locking, so a viewer never blocks a writer in another process.
  A file being written (or left by a killed writer) is read in SWMR-read mode. An idle mode "a" cache
  is in this state too, so killing an idle process leaves a cleanly closed file.
- "write": normal read-write, only for the milliseconds a structural change takes (new run, label set);
  flushed and closed at once.
- "swmr": SWMR writing while any RunWriter is open; an OS file lock (engine/cache/liveness.py)
  tells other processes a writer is alive. A structural change requested meanwhile checkpoints the writers, switches to
  "write" for the change, then back to "swmr".
"""
from __future__ import annotations

import os
import re
import threading
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
from engine.cache.records import VideoInfo
from engine.cache.liveness import hold_writer_lock, release_writer_lock, writer_alive
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


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise CacheError(f"{path}: no such results cache")
    if path.is_dir():
        raise CacheError(f"{path}: is a directory, not a results cache")
    from engine.io.paths import PathKindError, require_regular_file

    try:
        require_regular_file(path, "results cache")  # HDF5 would block forever opening a FIFO
    except PathKindError as exc:
        raise CacheError(str(exc)) from None


def _open_read(path: Path) -> tuple[h5py.File, bool]:
    """Open read-only; returns (file, in_swmr_read). Errors become CacheErrors naming the file."""
    _check_exists(path)
    try:
        try:
            return h5py.File(path, "r", libver="latest", locking=False), False
        except OSError as exc:
            if "already open for write" not in str(exc):
                raise
        try:  # a live SWMR writer, or one that was killed
            return h5py.File(path, "r", libver="latest", locking=False, swmr=True), True
        except OSError:
            pass
        # Left flagged by a process killed in normal write mode (its last flush is on disk).
        try:
            repair_after_crash(path)
        except PermissionError:
            raise CacheCorruptError(f"{path}: left open by a writer that died; no permission to repair it "
                                    f"(h5clear -s fixes it)") from None
        return h5py.File(path, "r", libver="latest", locking=False), False
    except CacheError:
        raise
    except (OSError, ValueError, RuntimeError) as exc:
        raise CacheCorruptError(f"{path}: not a readable HDF5 results cache ({exc})") from None


def _repair_if_abandoned(path: Path) -> bool:
    """Repair a file a killed writer left flagged "open for writing" when no writer is alive and we
    may write it, so that every tool (plain h5py, h5dump) opens it again, not only SWMR readers.
    True when it was repaired; anything else (a live writer, no permission, damage) leaves it as is
    for the open that follows to read or report."""
    try:
        if status_flags(path) and os.access(path, os.W_OK) and not writer_alive(path):
            return repair_after_crash(path)
    except (CacheError, OSError):
        pass
    return False


def _open_write(path: Path) -> h5py.File:
    """Open read-write (normal mode), repairing what a killed writer left. CacheBusyError while alive."""
    _check_exists(path)
    try:
        if status_flags(path):
            repair_after_crash(path)
        try:
            return h5py.File(path, "r+", libver="latest")
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise CacheBusyError(f"{path}: another process has this cache open for writing") from None
            raise
    except CacheError:
        raise
    except PermissionError as exc:
        raise CacheError(f"{path}: not writable ({exc})") from None
    except (OSError, ValueError, RuntimeError) as exc:
        raise CacheCorruptError(f"{path}: not a readable HDF5 results cache ({exc})") from None


class ResultsCache:
    """One results cache file. Use ``ResultsCache.create`` / ``ResultsCache.open``; a context manager."""

    def __init__(self, path: Path, file: h5py.File, *, mode: str, swmr_read: bool):
        self._path = path
        self._file = file
        self._mode = mode
        self._swmr_read = swmr_read
        self._state = "read"
        self._lock_fd: int | None = None
        self._writers: dict[str, "RunWriter"] = {}
        self._closing = False
        self.repaired_on_open = False  # open() cleared what a killed writer left (see _repair_if_abandoned)
        # One lock per cache: the viewer reads frames on its thread while a worker writes through the
        # same file, and a structural change swaps the h5py File underneath both.
        self.lock = threading.RLock()
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
        if mode == "a":
            _check_exists(path)
            if not os.access(path, os.W_OK):
                raise CacheError(f"{path}: not writable (open it with mode='r')")
            if status_flags(path):
                try:
                    repair_after_crash(path)  # CacheBusyError while its writer lives
                except CacheCorruptError:
                    pass  # let the HDF5 open below name the damage
        _check_exists(path)
        repaired = _repair_if_abandoned(path)
        file, swmr_read = _open_read(path)
        try:
            cache = cls(path, file, mode=mode, swmr_read=swmr_read)
        except BaseException:
            file.close()
            raise
        cache.repaired_on_open = repaired
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
            from engine.cache.validate import check_header  # sizes checked before anyone allocates by them

            check_header(self._path, num_frames=a["num_frames"], fps=a["fps"], width=a["width"], height=a["height"])
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
    def is_reading(self) -> bool:
        """True while the file is held read-only (always in mode "r"; in mode "a" when no writer is open)."""
        return self._state == "read"

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
                   params: dict, alpha_shape: tuple[int, int], embedding_dim: int = 0) -> "RunWriter":
        """Add a run and return its writer. ValueError if a run of that name exists.
        embedding_dim: width E of the re-ID embeddings the run will store per track row (0: none)."""
        from engine.cache.writer import RunWriter, create_run_group

        check_name(name, "run")
        if name in self.run_names:
            raise ValueError(f"{self._path}: run {name!r} already exists (use open_run_writer to resume it)")
        with self._structure() as f:
            create_run_group(f, name, num_frames=self.video.num_frames, model_config=model_config,
                             checkpoint_sha256=checkpoint_sha256, class_names=class_names, params=params,
                             alpha_shape=alpha_shape, created=utc_now(), embedding_dim=embedding_dim)
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
        with self.lock:
            self._switch("swmr")
            try:
                writer = writer_cls(self, name)
            except BaseException:
                if not self._writers:
                    self._switch("read")
                raise
            self._writers[name] = writer
            return writer

    def _detach_writer(self, name: str) -> None:
        with self.lock:
            self._writers.pop(name, None)
            if not self._writers and self._file is not None and not self._closing:
                self._switch("read")  # closes the SWMR file cleanly: a later kill leaves nothing to repair

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
        from engine.cache.label_store import staged_label_set

        with self._structure() as f, staged_label_set(f, name) as g:
            kwargs = {}
            if len(rows):
                kwargs = dict(chunks=(min(len(rows), 4096), S.LABEL_WIDTH), compression=S.COMPRESSION,
                              compression_opts=S.COMPRESSION_LEVEL, shuffle=True)
            g.create_dataset(S.LABEL_ROWS, data=rows, **kwargs)
            g.attrs["source_run"] = source_run or ""
            g.attrs["note"] = str(note)
            g.attrs["created"] = utc_now()

    def load_label_set(self, name: str) -> np.ndarray:
        """Rows (N, 7) float64 [frame, id, x1, y1, x2, y2, score] of label set ``name`` (a format-2 set,
        see label_store.py, gives its boxes with score 1). The full set: label_store.read_label_set."""
        from engine.cache.label_store import legacy_rows

        if name not in self.label_set_names:
            raise KeyError(f"{self._path}: no label set named {name!r} (label sets: {self.label_set_names})")
        try:
            with self.lock:
                return legacy_rows(self, name)
        except (OSError, KeyError, RuntimeError) as exc:
            raise CacheCorruptError(f"{self._path}: cannot read label set {name!r} ({exc})") from None

    def label_set_info(self, name: str) -> dict:
        """source_run, note, created and the row (box) count of a label set."""
        from engine.cache.label_store import label_set_size

        g = self.h5[S.LABEL_SETS_GROUP][name]
        return {"name": name, "source_run": str(g.attrs.get("source_run", "")) or None,
                "note": str(g.attrs.get("note", "")), "created": str(g.attrs.get("created", "")),
                "rows": label_set_size(self, name)}

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
        """The file in normal write mode for creating objects; flushed at the end."""
        self._require_writable()
        with self.lock:
            if self._state == "swmr":
                for writer in self._writers.values():
                    writer.checkpoint()
            self._switch("write")
            try:
                yield self._file
            finally:
                self._file.flush()
                self._switch("swmr" if self._writers else "read")

    def _switch(self, state: str) -> None:
        """Move the open file to state "read", "write" or "swmr" (see the module docstring)."""
        if state == self._state:
            return
        if state != "read":
            self._require_writable()
        if not (self._state == "write" and state == "swmr"):
            self._file.close()
            self._file = None
            self._release_lock()
            if state == "read":
                self._file, self._swmr_read = _open_read(self._path)
            else:
                self._file, self._swmr_read = _open_write(self._path), False
        if state == "swmr":
            self._file.flush()
            self._file.swmr_mode = True
            # HDF5 drops its own lock once SWMR writing starts; this one tells other processes we live.
            self._lock_fd = hold_writer_lock(self._path)
        self._state = state
        self.generation += 1

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            fd, self._lock_fd = self._lock_fd, None
            release_writer_lock(fd)

    def abandon_after_write_failure(self) -> None:
        """Give up writing after a failed write (disk full, file too large, I/O error), keeping the
        process alive: HDF5 can then neither flush nor close the handle, and its exit-time cleanup
        would crash the process (SIGSEGV). The handle's descriptor is pointed at /dev/null so it
        closes cleanly while the file on disk keeps its last commit; the cache is then reopened
        read-only (or left closed when even that fails). Writers of this cache are dropped."""
        with self.lock:
            file, self._file = self._file, None
            self._writers.clear()
            if file is not None:
                try:
                    fd = file.id.get_vfd_handle()
                    null = os.open(os.devnull, os.O_RDWR)
                    try:
                        os.dup2(null, fd)
                    finally:
                        os.close(null)
                except (OSError, RuntimeError, ValueError, TypeError):
                    pass
                try:
                    file.close()
                except (OSError, RuntimeError, ValueError):
                    pass
            self._release_lock()
            self._state = "read"
            self.generation += 1
            try:
                self._file, self._swmr_read = _open_read(self._path)
            except CacheError:
                self._file = None

    def refresh(self) -> None:
        """Re-open the file to see runs, label sets and frames another process added (when reading)."""
        with self.lock:
            if self._file is not None and self._state == "read":
                self._file.close()
                self._file = None
                _repair_if_abandoned(self._path)  # its writer may have been killed since
                self._file, self._swmr_read = _open_read(self._path)
                self.generation += 1

    def close(self) -> None:
        """Checkpoint and close open writers, then the file. Idempotent."""
        with self.lock:
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
