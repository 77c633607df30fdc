"""Many videos: one cache per video, complete ones skipped, split between torchrun ranks.

Under ``torchrun`` (one process per GPU, one or many nodes) every rank reads RANK / WORLD_SIZE /
LOCAL_RANK from the environment and takes every WORLD_SIZE-th video of the sorted collection, so
no rank needs to talk to another: that is how a user goes past one machine.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.cache.naming import cache_path_in, check_unique_cache_names

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"})


@dataclass(frozen=True)
class RankInfo:
    rank: int
    world_size: int
    local_rank: int

    @classmethod
    def from_env(cls) -> "RankInfo":
        return cls(rank=int(os.environ.get("RANK", 0)), world_size=int(os.environ.get("WORLD_SIZE", 1)),
                   local_rank=int(os.environ.get("LOCAL_RANK", 0)))


def list_videos(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand folders (video files and MOT sequence folders inside them) and list files (.txt: one
    path per line) into a sorted, de-duplicated list of videos."""
    found: set[Path] = set()
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            if (path / "seqinfo.ini").exists():
                found.add(path)
                continue
            for child in sorted(path.iterdir()):
                if child.is_dir() and (child / "seqinfo.ini").exists():
                    found.add(child)
                elif child.is_file() and child.suffix.lower() in VIDEO_SUFFIXES:
                    found.add(child)
        elif path.suffix.lower() == ".txt":
            for line_number, line in enumerate(path.read_text().splitlines(), start=1):
                line = line.strip()
                if line and not line.startswith("#"):
                    entry = Path(line) if Path(line).is_absolute() else path.parent / line
                    if not entry.exists():
                        raise FileNotFoundError(f"{path}:{line_number}: no such video {entry}")
                    found.add(entry)
        elif path.exists():
            found.add(path)
        else:
            raise FileNotFoundError(f"no such video or folder: {path}")
    return sorted(found)


def infer_collection(videos: list[Path], *, out_dir: str | Path, model: Any, rank: RankInfo,
                     device: str = "auto", run_name: str | None = None,
                     on_video: Callable[[Path, str], None] | None = None, **infer_kwargs: Any) -> list[tuple[Path, str]]:
    """Run every video of this rank's share; returns [(video, "done" | "skipped" | "error: ...")]."""
    from engine.pipeline.runner import _load, default_run_name, infer_video

    out_dir = Path(out_dir)
    check_unique_cache_names(videos)  # every rank refuses the same collection, before any work
    out_dir.mkdir(parents=True, exist_ok=True)
    mine = videos[rank.rank::rank.world_size]
    if device == "auto":
        import torch

        device = f"cuda:{rank.local_rank}" if torch.cuda.is_available() else "cpu"
    loaded = model if isinstance(model, tuple) else _load(model, device)[:2]
    name = run_name or default_run_name(loaded[1])
    outcomes = []
    for video in mine:
        cache_path = cache_path_in(out_dir, video)
        if _is_complete(cache_path, name):
            status = "skipped"
        else:
            try:
                infer_video(video, model=loaded, cache_path=cache_path, run_name=name, device=device, **infer_kwargs)
                status = "done"
            except (OSError, ValueError) as exc:  # one bad video must not stop the others
                status = f"error: {exc}"
        outcomes.append((video, status))
        if on_video is not None:
            on_video(video, status)
    return outcomes


def _is_complete(cache_path: Path, run_name: str) -> bool:
    from engine.cache import CacheError, ResultsCache

    if not cache_path.exists():
        return False
    try:
        with ResultsCache.open(cache_path, mode="r") as cache:
            if run_name not in cache.run_names:
                return False
            reader = cache.run(run_name)
            return reader.completed_frames >= cache.video.num_frames
    except CacheError:
        return False
