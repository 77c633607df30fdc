"""Where a video's results cache lives: beside the video, else in the user's cache folder."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from engine.cache.naming import CACHE_SUFFIX
from engine.cache.naming import default_cache_path as beside_video  # the engine's rule, beside the video


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
