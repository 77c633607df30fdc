"""The streaming inference pipeline: video -> model windows -> decoder -> tracker -> FrameResults -> cache.

``infer_video`` is what the CLI and the viewer's worker call; ``InferenceStream`` is the cache-free core.
"""
from engine.pipeline.control import CancelToken, InferenceCancelled, Progress
from engine.pipeline.runner import default_cache_path, infer_video

__all__ = ["CancelToken", "InferenceCancelled", "Progress", "default_cache_path", "infer_video"]
