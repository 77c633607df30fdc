"""Frame-exact video sources: video files (PyAV) and MOTChallenge image-sequence folders.

    with open_video("clip.mp4") as src:
        len(src), src.fps, src.width, src.height
        frame = src[k]                 # (H, W, 3) uint8 RGB, exactly frame k of a sequential decode
        for frame in src.iter_frames(start, stop): ...

No torch import here (the viewer shows its first frame before torch is loaded).
"""
from __future__ import annotations

from pathlib import Path

from engine.video.source import VideoError, VideoSource

__all__ = ["open_video", "VideoSource", "VideoError"]


def open_video(path: str | Path, **options) -> VideoSource:
    """Open a video file or a MOTChallenge sequence folder.

    Options for files: ``cache_mb`` (decoded-frame LRU budget, default 256), ``readahead``
    (default True), ``readahead_frames``, ``allow_images`` (a single image as a one-frame video; refused
    by default). For folders: ``fps`` (needed without seqinfo.ini), ``cache_mb``; a MOT sequence folder
    with gt/ or det/ but no images opens as a grey canvas (``BlankSequenceSource``, ``has_pixels``
    False). Raises VideoError (an OSError) naming the path and the problem.
    """
    path = Path(path)
    if path.is_dir():
        from engine.video.blank_sequence import BlankSequenceSource, is_pixel_less_sequence
        from engine.video.image_sequence import ImageSequenceSource

        if is_pixel_less_sequence(path):  # gt/det shared without img1/: a grey canvas to inspect boxes on
            return BlankSequenceSource(path)
        return ImageSequenceSource(path, **options)
    from engine.video.file_source import FileVideoSource

    return FileVideoSource(path, **options)
