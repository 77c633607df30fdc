"""The streaming inference pipeline: video -> model windows -> decoder -> tracker -> FrameResults -> cache.

``infer_video`` is what the CLI and the viewer's worker call; ``InferenceStream`` is the cache-free core.
Only ``control`` (CancelToken, Progress) is imported eagerly: the viewer needs it before torch and scipy load.
"""
from __future__ import annotations

import importlib
from typing import Any

from engine.pipeline.control import CancelToken, InferenceCancelled, Progress

_LAZY = {"infer_video": "engine.pipeline.runner", "default_cache_path": "engine.pipeline.runner"}

__all__ = ["CancelToken", "InferenceCancelled", "Progress", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'engine.pipeline' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
