"""Plain descriptions of a cache's video and of one run (what ``stv show`` and the viewer list)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VideoInfo:
    """The video a cache belongs to. ``fingerprint`` is ``VideoSource.fingerprint()``."""

    path: str
    fingerprint: str
    num_frames: int
    fps: float
    width: int
    height: int


@dataclass(frozen=True)
class RunInfo:
    """One run: the model, its checkpoint, its classes and parameters, and how far it got.

    completed_frames counts contiguous frames from 0 with a durable result; complete is True when
    that equals the video's frame count.
    """

    name: str
    model_config: dict
    checkpoint_sha256: str
    class_names: list[str]
    params: dict
    alpha_shape: tuple[int, int]
    created: str
    complete: bool
    completed_frames: int = 0
    num_frames: int = 0
