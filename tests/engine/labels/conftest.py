from __future__ import annotations

import pytest
from labels_helpers import CACHE_FP, NUM_FRAMES, model_set

from engine.cache import ResultsCache


@pytest.fixture
def cache_path(tmp_path):
    """An empty results cache of a NUM_FRAMES-frame 640x360 video (fingerprint CACHE_FP)."""
    path = tmp_path / "clip.stv.h5"
    ResultsCache.create(path, video_fingerprint=CACHE_FP, video_path="/v.mp4", num_frames=NUM_FRAMES, fps=25.0,
                        width=640, height=360).close()
    return path


@pytest.fixture
def labels():
    """Three model tracks: 3 (frames 0..59), 5 (30..89), 9 (70..119) over 120 frames."""
    return model_set()
