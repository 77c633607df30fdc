"""Where a video's results cache lives: beside the video, else in the user's cache folder."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

CACHE_SUFFIX = ".stv.h5"
SEQUENCE_CACHE_NAME = "stv_results.h5"  # inside a MOT image-sequence folder


def beside_video(video: str | Path) -> Path:
    """``<dir>/<name>.stv.h5`` for a file, ``<folder>/stv_results.h5`` for a sequence folder
    (the same convention as ``engine.pipeline.default_cache_path``)."""
    video = Path(video)
    if video.is_dir():
        return video / SEQUENCE_CACHE_NAME
    return video.with_name(video.name + CACHE_SUFFIX)


def user_cache_dir() -> Path:
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return Path(base or Path.home() / ".cache" / "stviewer") / "results"


def cache_path_for(video: str | Path) -> Path:
    """The cache path for ``video``: an existing cache wins; else beside the video when that folder is
    writable, else ``<user cache dir>/<name>-<hash of the absolute path>.stv.h5``."""
    video = Path(video).resolve()
    beside = beside_video(video)
    digest = hashlib.sha1(str(video).encode()).hexdigest()[:10]
    fallback = user_cache_dir() / f"{video.name}-{digest}{CACHE_SUFFIX}"
    if beside.exists():
        return beside
    if fallback.exists():
        return fallback
    if os.access(beside.parent, os.W_OK):
        return beside
    return fallback
