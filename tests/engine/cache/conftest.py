from __future__ import annotations

import pytest

from engine.cache import ResultsCache

FP = "size=1000:sha256=abc"
CLASSES = ["walk", "run", "jump", "sit", "stand", "wave"]


def make_cache(path, num_frames: int = 50) -> ResultsCache:
    return ResultsCache.create(path, video_fingerprint=FP, video_path="/videos/clip.mp4", num_frames=num_frames,
                               fps=23.976, width=640, height=360)


def new_run(cache: ResultsCache, name: str = "tiny", **overrides):
    kwargs = dict(model_config={"name": "tiny", "clip_len": 8, "input_size": [224, 384]},
                  checkpoint_sha256="ab" * 32, class_names=CLASSES, params={"window": 8, "stride": 8},
                  alpha_shape=(28, 48))
    kwargs.update(overrides)
    return cache.create_run(name, **kwargs)


@pytest.fixture
def cache_path(tmp_path):
    return tmp_path / "clip.stv.h5"
