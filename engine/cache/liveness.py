"""Whether a results cache still has a live writer: an OS file lock that dies with its process.

A live RunWriter's process holds a lock on the cache file (HDF5 drops its own lock once SWMR writing
starts); the operating system releases it when that process ends, even by SIGKILL, so "no lock" means
"no writer alive" and a file still flagged "open for writing" was left by a dead one (see recovery.py).

- POSIX: ``flock`` (advisory; shared by the writer, probed with a non-blocking exclusive request).
- Windows: ``msvcrt.locking`` on one byte far beyond any real end of file. Windows byte-range locks are
  mandatory and exclusive, so the byte is one no reader ever touches; one process holds it for all of
  its writers (one ResultsCache holds one lock).
"""
from __future__ import annotations

import os

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

# Windows: the locked byte, at 1 TiB: far past the end of any results cache (about 1.5 KB per frame), so no
# read or write of the file ever meets it (SQLite locks bytes past its data the same way)
WINDOWS_LOCK_OFFSET = 1 << 40


def _open(path: str | os.PathLike) -> int:
    return os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))


def hold_writer_lock(path: str | os.PathLike) -> int | None:
    """Take the writer's lock on ``path``; returns the descriptor to pass to ``release_writer_lock``, or
    None on a filesystem without locks (liveness then goes unreported)."""
    fd = _open(path)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
        else:
            os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        os.close(fd)
        return None
    return fd


def release_writer_lock(fd: int) -> None:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        else:
            os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    finally:
        os.close(fd)


def writer_alive(path: str | os.PathLike) -> bool:
    """True while some process holds the writer's lock (or HDF5's own write lock) on ``path``."""
    fd = _open(path)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            except OSError:  # no flock on this filesystem: cannot tell, assume the writer is gone
                return False
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return True
        os.lseek(fd, WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return False
    finally:
        os.close(fd)
