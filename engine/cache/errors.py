"""Errors of the results cache. Every message names the file it is about."""
from __future__ import annotations


class CacheError(OSError):
    """Base class: a results cache could not be opened, read or written."""


class CacheCorruptError(CacheError):
    """The file is not a readable results cache: truncated, damaged, foreign, or not HDF5 at all."""


class CacheMismatchError(CacheError):
    """The cache belongs to another video (its fingerprint differs)."""


class CacheVersionError(CacheError):
    """The cache was written with a schema version this code cannot read."""


class CacheBusyError(CacheError):
    """Another live process is writing the cache."""


class CacheWriteError(CacheError):
    """Writing failed (disk full, file too large, I/O error); the file keeps its last commit."""
