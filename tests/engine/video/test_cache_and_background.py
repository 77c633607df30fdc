"""Byte-bounded frame cache, read-ahead on sequential access, background index and proxies."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from engine.video import open_video
from engine.video.frame_cache import FrameCache
from engine.video.synthetic import write_clip


def test_frame_cache_is_lru_bounded_by_bytes():
    frame = lambda v: np.full((10, 10, 3), v, np.uint8)  # 300 bytes each  # noqa: E731
    cache = FrameCache(1000)
    for k in range(3):
        assert cache.put(k, frame(k))
    assert cache.nbytes == 900 and len(cache) == 3
    assert cache.get(0) is not None  # 0 is now most recent
    cache.put(3, frame(3))  # evicts the least recently used: 1
    assert 1 not in cache and {0, 2, 3} <= {k for k in range(4) if k in cache}
    assert cache.nbytes <= 1000
    assert not cache.put(9, np.zeros(2000, np.uint8))  # larger than the whole budget
    assert not cache.has_room(300) and not cache.put(4, frame(4), evict=False)
    assert not cache.get(0).flags.writeable  # cached frames cannot be altered by callers
    assert FrameCache.from_megabytes(1.5).max_bytes == 1572864
    with pytest.raises(ValueError):
        FrameCache(-1)


def test_cache_never_exceeds_its_budget(encoded_clips):
    path = encoded_clips["x264_bframes_23976.mp4"]
    with open_video(path, cache_mb=1.0, readahead=False) as src:  # 320x240x3 = 225 KiB: 4 frames
        for k in range(0, len(src), 3):
            src[k]
            assert src.cache.nbytes <= src.cache.max_bytes
        assert len(src.cache) == 4


def test_sequential_reads_start_read_ahead_and_stay_exact(encoded_clips, reference_decode):
    path = encoded_clips["x264_bframes_single_key.mp4"]
    ref = reference_decode(path)
    with open_video(path, cache_mb=64, readahead_frames=16) as src:
        assert not src._readahead.running  # random access alone does not start it
        src[40]
        assert not src._readahead.running
        for k in range(10):
            assert np.array_equal(src[k], ref[k])
        assert src._readahead.running
        assert src._readahead.wait_for(20, timeout=10) or 20 in src.cache
        ahead = [k for k in range(10, 27) if k in src.cache]
        assert len(ahead) >= 8, f"read-ahead cached only {ahead}"
        for k in ahead:
            assert np.array_equal(src.cache.get(k), ref[k])
        for k in range(10, len(ref)):
            assert np.array_equal(src[k], ref[k])
        assert src._readahead.error is None
    assert not src._readahead.running  # close() joined the worker


def test_background_index_fills_the_exact_cache_when_the_video_fits(encoded_clips, reference_decode):
    path = encoded_clips["x264_pts_offset.mkv"]
    ref = reference_decode(path)
    with open_video(path, cache_mb=64, readahead=False) as src:
        indexer = src.start_background_index()
        assert src.start_background_index() is indexer  # idempotent
        assert src.wait_background_index(timeout=30)
        assert indexer.problem is None and indexer.verified_count == len(src)
        assert indexer.exact_only and len(src.cache) == len(src)
        for k in (7, 0, len(src) - 1):
            assert np.array_equal(src.get_display_frame(k), ref[k])
            assert np.array_equal(src[k], ref[k])


def test_background_proxies_when_the_video_does_not_fit(tmp_path, reference_decode):
    path = write_clip(tmp_path / "wide.mp4", frames=40, width=480, height=272, gop=40, b_frames=2)
    ref = reference_decode(path)
    with open_video(path, cache_mb=1.0, readahead=False) as src:  # 2 exact frames fit
        indexer = src.start_background_index(proxy_mb=0.5, proxy_max_size=320)
        assert src.wait_background_index(timeout=30)
        assert indexer.problem is None and indexer.verified_count == 40
        assert not indexer.exact_only
        proxies = indexer.proxies
        assert proxies.count == 40 and proxies.nbytes <= proxies.budget_bytes
        w, h = proxies.size
        assert w <= 320 and abs(w / h - 480 / 272) < 0.05
        k = 33
        assert k not in src.cache
        shown = src.get_display_frame(k)
        assert shown.shape == (h, w, 3) and shown.dtype == np.uint8
        # a lossy proxy, but of the right frame: closer to frame k than to its neighbours
        import cv2

        small = [cv2.resize(ref[j], (w, h), interpolation=cv2.INTER_AREA).astype(int) for j in (k - 1, k, k + 1)]
        errors = [np.abs(shown.astype(int) - s).mean() for s in small]
        assert errors[1] < 6 and errors[1] < min(errors[0], errors[2])
        assert np.array_equal(src[k], ref[k])  # src[k] stays exact and full size
        assert src.get_display_frame(k, max_size=100).shape[1] == 100


def test_background_index_stops_on_close(tmp_path):
    path = write_clip(tmp_path / "long.mp4", frames=150, width=320, height=240, gop=1000, b_frames=0)
    src = open_video(path, cache_mb=0.5, readahead=False)
    src.start_background_index(proxy_mb=8)
    src.close()  # must join the worker promptly, even mid-way
    assert src.background.finished.is_set()
    assert not [t for t in threading.enumerate() if t.name.startswith("video-")]


def test_clone_shares_the_index_and_reads_in_parallel(encoded_clips, reference_decode):
    path = encoded_clips["x264_bframes_23976.mp4"]
    ref = reference_decode(path)
    with open_video(path) as src, src.clone() as other:
        assert other.index is src.index
        errors = []

        def read(source, ks):
            try:
                for k in ks:
                    if not np.array_equal(source[k], ref[k]):
                        errors.append(k)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        # two threads on one source (locked) and one on the clone
        threads = [threading.Thread(target=read, args=(s, ks)) for s, ks in
                   ((src, range(0, 70, 3)), (src, range(69, 0, -5)), (other, range(70)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors


def test_fingerprint_is_cheap_and_content_based(encoded_clips, tmp_path):
    path = encoded_clips["x264_bframes_23976.mp4"]
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(path.read_bytes())
    with open_video(path) as a, open_video(copy) as b:
        assert a.fingerprint() == b.fingerprint()
        assert a.fingerprint().split(":")[1] == str(path.stat().st_size)
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0xFF  # a byte in a sampled region (the tail)
    copy.write_bytes(bytes(data))
    from engine.video.fingerprint import file_fingerprint

    assert file_fingerprint(copy) != file_fingerprint(path)


def test_background_index_detects_an_index_claiming_too_many_frames(encoded_clips):
    """An index that promises a frame the decoder never outputs is caught, and reading it fails clearly."""
    from dataclasses import replace

    from engine.video import VideoError
    from engine.video.file_source import FileVideoSource

    path = encoded_clips["x264_pts_offset.mkv"]
    with open_video(path) as good:
        index = good.index
    bogus = replace(index, pts=np.append(index.pts, index.pts[-1] + 40))
    with FileVideoSource(path, cache_mb=0, readahead=False, _index=bogus) as src:
        assert len(src) == len(index) + 1
        indexer = src.start_background_index(proxy_mb=4)
        assert src.wait_background_index(timeout=30)
        assert indexer.verified_count == len(index)
        assert "packet index has" in indexer.problem
        with pytest.raises(VideoError, match="cannot be decoded"):
            src[len(index)]
        assert np.array_equal(src[len(index) - 1], src[-2])
