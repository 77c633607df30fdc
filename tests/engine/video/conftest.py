"""Clips encoded on the spot with awkward structure, and a sequential reference decode."""
from __future__ import annotations

import threading
from fractions import Fraction

import av
import numpy as np
import pytest

from engine.video.synthetic import write_clip

# name -> write_clip keyword arguments
CLIPS = {
    # B-frames (pyramid) and one keyframe for the whole clip
    "x264_bframes_single_key.mp4": dict(frames=90, gop=1000, b_frames=3),
    # B-frames, keyframe every 16, 23.976 fps
    "x264_bframes_23976.mp4": dict(frames=70, gop=16, b_frames=3, fps=Fraction(24000, 1001)),
    # matroska keeps a first pts far from 0
    "x264_pts_offset.mkv": dict(frames=50, gop=12, b_frames=2, pts_offset=5000),
    # variable frame rate: irregular timestamps in ms
    "x264_vfr.mkv": dict(frames=48, gop=10, b_frames=2, time_base=Fraction(1, 1000),
                         timestamps=[int(k * 40 + (k % 3) * 13 + (k // 7) * 5) for k in range(48)]),
    # MPEG-4 part 2 with B-frames in AVI
    "mpeg4_bframes.avi": dict(frames=60, codec="mpeg4", gop=25, b_frames=2),
}


def reference_frames(path) -> list[np.ndarray]:
    """Frame k of a plain sequential decode, straight from PyAV (independent of engine.video)."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def pytest_generate_tests(metafunc):
    if "clip_name" in metafunc.fixturenames:
        metafunc.parametrize("clip_name", sorted(CLIPS))


@pytest.fixture(scope="session")
def clip_specs() -> dict:
    return CLIPS


@pytest.fixture(scope="session")
def reference_decode():
    return reference_frames


@pytest.fixture(scope="session")
def encoded_clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {name: write_clip(folder / name, **kwargs) for name, kwargs in CLIPS.items()}


@pytest.fixture(autouse=True)
def no_leftover_threads():
    yield
    leftovers = [t.name for t in threading.enumerate() if t.name.startswith("video-")]
    assert not leftovers, f"threads left running after the test: {leftovers}"
