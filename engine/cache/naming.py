"""The one rule for naming results caches (single runs, collections and the viewer all import it).

A cache keeps its video's full file name, so ``a.mp4`` and ``a.avi`` never share one:
- beside a video file: ``<dir>/a.mp4.stv.h5``;
- beside a MOT image-sequence folder: inside it, ``<folder>/stv_results.h5``;
- in a collection's ``--out-dir``: ``<out>/a.mp4.stv.h5`` for a file, ``<out>/<folder name>.stv.h5`` for
  a sequence folder. Two inputs that would still get one name (same file name in two folders) are
  refused before any work starts.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

CACHE_SUFFIX = ".stv.h5"
SEQUENCE_CACHE_NAME = "stv_results.h5"  # inside a MOT image-sequence folder


def cache_file_name(video: str | Path) -> str:
    """``a.mp4.stv.h5`` for a video file, ``<name>.stv.h5`` for a sequence folder."""
    return Path(video).name + CACHE_SUFFIX


def default_cache_path(video: str | Path) -> Path:
    """Where the results cache of ``video`` lives by default: beside a file, inside a sequence folder."""
    video = Path(video)
    if video.is_dir():
        return video / SEQUENCE_CACHE_NAME
    return video.with_name(cache_file_name(video))


def cache_path_in(out_dir: str | Path, video: str | Path) -> Path:
    """The cache of ``video`` in a collection's output folder."""
    return Path(out_dir) / cache_file_name(video)


def check_unique_cache_names(videos: Iterable[str | Path]) -> None:
    """ValueError naming the inputs when two videos of one collection would share a cache file."""
    seen: dict[str, Path] = {}
    for video in videos:
        video = Path(video)
        name = cache_file_name(video)
        if name in seen and seen[name] != video:
            raise ValueError(f"{seen[name]} and {video} would both be cached as {name} in one --out-dir: "
                             f"rename one, or run them into different output folders")
        seen[name] = video
