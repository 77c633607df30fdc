"""Refuse paths that are not what a command expects, before anything opens or blocks on them.

A FIFO given as ``--det``/``--gt``/a cache/``--out`` used to hang forever (``open`` of a FIFO waits
for a writer; writing to one waits for a reader), and a device file such as ``/dev/zero`` reads
forever. Every input file therefore goes through :func:`require_regular_file` (or is read with
:func:`read_regular_text`, which opens non-blocking and checks what it opened, so a path swapped
for a FIFO between the check and the open is still refused), and every output file through
:func:`require_output_file`.

Errors are :class:`PathKindError` (an ``OSError``, like "no such file"), whose message names the
path, what the command wanted it for, and what it is instead.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["FileTooLargeError", "PathKindError", "describe_kind", "read_regular_text", "require_directory",
           "require_output_file", "require_regular_file"]


class PathKindError(OSError):
    """A path that exists (or is missing) but is not the kind of file the command needs."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class FileTooLargeError(PathKindError):
    """A regular file larger than what the reader accepts (``limit`` bytes)."""

    def __init__(self, message: str, limit: int):
        super().__init__(message)
        self.limit = limit


def describe_kind(mode: int) -> str:
    """'a FIFO (named pipe)', 'a directory', ... for an ``st_mode``."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _mode(path: Path, what: str, missing: str) -> int:
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        raise PathKindError(f"{path}: {what}: {missing}") from None
    except OSError as exc:
        raise PathKindError(f"{path}: {what}: cannot be accessed ({exc.strerror or exc})") from None


def require_regular_file(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a Path if it is an existing regular file (symlinks followed), else PathKindError.

    ``what`` says what the command wanted it for, e.g. ``"--det detections"`` or ``"results cache"``.
    """
    path = Path(path)
    mode = _mode(path, what, "no such file")
    if not stat.S_ISREG(mode):
        raise PathKindError(f"{path}: {what} must be a regular file, but this is {describe_kind(mode)}")
    return path


def require_directory(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a Path if it is an existing directory, else PathKindError."""
    path = Path(path)
    mode = _mode(path, what, "no such directory")
    if not stat.S_ISDIR(mode):
        raise PathKindError(f"{path}: {what} must be a directory, but this is {describe_kind(mode)}")
    return path


def require_output_file(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a Path if a regular file may be written there: it does not exist yet or is a
    regular file (replaced), and its folder exists. A FIFO, device or directory is refused."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise PathKindError(f"{path}: {what}: cannot be accessed ({exc.strerror or exc})") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise PathKindError(f"{path}: {what} must be a regular file to write, but this is {describe_kind(mode)}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise PathKindError(f"{path}: {what}: folder {parent} does not exist")
    return path


def read_regular_text(path: str | os.PathLike, what: str, *, max_bytes: int | None = None) -> str:
    """The UTF-8 text of a regular file. Opened non-blocking and checked with ``fstat`` on the open
    descriptor, so a FIFO never blocks. ``max_bytes`` bounds what is read (PathKindError beyond).
    ``UnicodeDecodeError`` propagates for binary content (callers name the file)."""
    path = require_regular_file(path, what)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise PathKindError(f"{path}: {what}: cannot be opened ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise PathKindError(f"{path}: {what} must be a regular file, but this is {describe_kind(info.st_mode)}")
        if max_bytes is not None and info.st_size > max_bytes:
            raise FileTooLargeError(f"{path}: {what} is {info.st_size} bytes, more than the {max_bytes} bytes "
                                    "allowed", max_bytes)
        data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise FileTooLargeError(f"{path}: {what} is more than the {max_bytes} bytes allowed", max_bytes)
    return data.decode("utf-8")
