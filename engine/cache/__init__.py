"""The HDF5 results cache: one file per video, named runs and label sets (schema: engine.cache.schema).

No torch here: the viewer reads caches without it.
"""
from __future__ import annotations

from engine.cache.errors import (CacheBusyError, CacheCorruptError, CacheError, CacheMismatchError,
                                 CacheVersionError)
from engine.cache.reader import RunReader
from engine.cache.records import RunInfo, VideoInfo
from engine.cache.schema import SCHEMA_VERSION
from engine.cache.store import ResultsCache
from engine.cache.writer import RunWriter

__all__ = ["CacheBusyError", "CacheCorruptError", "CacheError", "CacheMismatchError", "CacheVersionError",
           "ResultsCache", "RunInfo", "RunReader", "RunWriter", "SCHEMA_VERSION", "VideoInfo"]
