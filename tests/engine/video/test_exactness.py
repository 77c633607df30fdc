"""src[k] is identical to frame k of a sequential decode, for every k, on awkward streams."""
from __future__ import annotations

import random
from fractions import Fraction

import av
import numpy as np
import pytest

from engine.video import open_video


def assert_same(actual: np.ndarray, expected: np.ndarray, k: int) -> None:
    assert actual.dtype == np.uint8 and actual.shape == expected.shape and actual.flags.c_contiguous
    assert np.array_equal(actual, expected), f"frame {k} differs from the sequential decode"


def test_every_frame_in_random_order_matches_sequential_decode(encoded_clips, clip_specs, reference_decode, clip_name):
    name = clip_name
    path = encoded_clips[name]
    ref = reference_decode(path)
    assert len(ref) == clip_specs[name]["frames"]
    # all frames differ, so an off-by-one cannot hide
    assert all(not np.array_equal(a, b) for a, b in zip(ref, ref[1:]))
    order = list(range(len(ref)))
    random.Random(name).shuffle(order)
    with open_video(path, cache_mb=0, readahead=False) as src:
        assert len(src) == len(ref)
        assert (src.height, src.width) == ref[0].shape[:2]
        for k in order:
            assert_same(src[k], ref[k], k)
        for k in reversed(range(len(ref))):  # backwards: a seek for every frame
            assert_same(src[k], ref[k], k)
        for k in range(len(ref)):  # forwards: continues decoding without seeking
            assert_same(src[k], ref[k], k)
        # every frame came from the fast path (keyframe seek / continue), never the slow fallback
        assert src._decoder.restarts == 0
        # and every seek landed on the keyframe it asked for (no needless extra GOP decoded)
        assert src._decoder.early_landings == 0


def test_iter_frames_matches_sequential_decode(encoded_clips, reference_decode, clip_name):
    name = clip_name
    ref = reference_decode(encoded_clips[name])
    with open_video(encoded_clips[name]) as src:
        frames = list(src.iter_frames())
        assert len(frames) == len(ref)
        for k, frame in enumerate(frames):
            assert_same(frame, ref[k], k)
        start, stop = len(ref) // 2 + 1, len(ref) - 3
        part = list(src.iter_frames(start, stop))
        assert len(part) == stop - start
        for i, frame in enumerate(part):
            assert_same(frame, ref[start + i], start + i)


def test_metadata_fps_is_the_rational_rate(encoded_clips):
    with open_video(encoded_clips["x264_bframes_23976.mp4"]) as src:
        assert src.fps == pytest.approx(24000 / 1001, abs=1e-9)
        assert src.fps != 24.0
        assert (src.width, src.height) == (320, 240)
    with open_video(encoded_clips["x264_bframes_single_key.mp4"]) as src:
        assert src.fps == 25.0
        assert list(src.keyframes) == [0]  # really a single keyframe (long GOP)


def test_first_pts_not_zero_and_variable_frame_rate_times(encoded_clips, clip_specs):
    with open_video(encoded_clips["x264_pts_offset.mkv"]) as src:
        assert src.index.pts[0] > 0  # the stream does start late
        assert src.frame_time(0) == 0.0
        assert src.frame_time(10) == pytest.approx(10 / 25)
    stamps = clip_specs["x264_vfr.mkv"]["timestamps"]
    with open_video(encoded_clips["x264_vfr.mkv"]) as src:
        assert [round(src.frame_time(k) * 1000) for k in range(len(src))] == stamps


def test_negative_indices_and_out_of_range(encoded_clips, reference_decode):
    path = encoded_clips["x264_pts_offset.mkv"]
    ref = reference_decode(path)
    with open_video(path) as src:
        n = len(src)
        assert_same(src[-1], ref[-1], n - 1)
        assert_same(src[-n], ref[0], 0)
        assert_same(src[np.int64(3)], ref[3], 3)
        for bad in (n, n + 5, -n - 1):
            with pytest.raises(IndexError):
                src[bad]
        with pytest.raises(TypeError):
            src[1.5]


def test_returned_frames_are_independent_copies(encoded_clips):
    with open_video(encoded_clips["x264_pts_offset.mkv"]) as src:
        a = src[4]
        a[:] = 0  # must not corrupt the cache
        assert src[4].any()


def test_shared_bikes_random_frames_match_sequential_decode(bikes_mp4, reference_decode):
    ref = reference_decode(bikes_mp4)
    with open_video(bikes_mp4, cache_mb=0, readahead=False) as src:
        assert len(src) == len(ref) == 250
        assert src.fps == 25.0 and (src.width, src.height) == (640, 272)
        rng = random.Random(1)
        for k in rng.sample(range(len(ref)), 60) + [0, len(ref) - 1]:
            assert_same(src[k], ref[k], k)
        assert src._decoder.restarts == 0 and src._decoder.early_landings == 0


def test_shared_carphone_every_frame_matches_sequential_decode(carphone_mp4, reference_decode):
    ref = reference_decode(carphone_mp4)
    with open_video(carphone_mp4, cache_mb=0, readahead=False) as src:
        assert len(src) == len(ref)
        assert src.fps == pytest.approx(30000 / 1001)
        order = list(range(len(ref)))
        random.Random(2).shuffle(order)
        for k in order:
            assert_same(src[k], ref[k], k)
        assert src._decoder.restarts == 0 and src._decoder.early_landings == 0


def test_seek_skips_nonreference_frames_but_stays_exact(encoded_clips, reference_decode):
    """The NONREF shortcut must actually skip work (else the cost claim is empty)."""
    path = encoded_clips["x264_bframes_single_key.mp4"]
    ref = reference_decode(path)
    with open_video(path, cache_mb=0, readahead=False) as src:
        k = len(ref) - 1
        assert_same(src[k], ref[k], k)
        decoded = src._decoder.frames_decoded
        assert decoded < len(ref), f"decoded {decoded} frames to reach frame {k}"
