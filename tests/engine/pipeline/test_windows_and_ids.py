"""Window scheduling and track-ID continuity on resume (no model needed)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.runner import TrackIdMap, default_cache_path
from engine.pipeline.stream import _Windower


def _frames(n):
    return ((i, np.full((2, 2, 3), i, np.uint8)) for i in range(n))


def _reported(windower, n):
    out = []
    for indices, images, first_new in windower.windows(_frames(n)):
        assert [int(im[0, 0, 0]) for im in images] == indices
        out.extend(indices[first_new:])
    return out


@pytest.mark.parametrize("n", [1, 7, 8, 9, 16, 23])
def test_non_overlapping_windows_report_every_frame_once(n):
    w = _Windower(clip_len=8, stride=8)
    windows = list(w.windows(_frames(n)))
    assert all(len(idx) <= 8 for idx, _, _ in windows)
    assert _reported(w, n) == list(range(n))


@pytest.mark.parametrize("n", [3, 8, 11, 20])
def test_overlapping_windows_report_each_frame_once_with_context(n):
    w = _Windower(clip_len=8, stride=3)
    assert _reported(w, n) == list(range(n))
    windows = list(w.windows(_frames(n)))
    for indices, _, first_new in windows[1:]:
        assert first_new == 5 and len(indices) <= 8


def test_windower_rejects_bad_stride():
    with pytest.raises(ValueError, match="stride"):
        _Windower(clip_len=8, stride=9)


def test_track_id_map_identity_for_fresh_runs():
    ids = TrackIdMap()
    tracks = np.array([[0, 0, 10, 10, 0.9, 3]], np.float32)
    assert ids.apply(tracks) is tracks


def test_track_id_map_adopts_saved_ids_and_counts_on():
    ids = TrackIdMap(next_id=8)
    saved = np.array([[0, 0, 10, 10, 0.9, 5], [50, 50, 60, 60, 0.9, 7]], np.float32)
    live = np.array([[51, 50, 61, 60, 0.8, 1], [1, 0, 11, 10, 0.8, 2], [200, 200, 210, 210, 0.8, 3]], np.float32)
    ids.align(live=live, saved=saved)
    out = ids.apply(live)
    assert out[:, 5].tolist() == [7, 5, 8]
    # stable afterwards, and a brand-new live track gets the next id
    later = np.array([[0, 0, 1, 1, 0.5, 3], [0, 0, 1, 1, 0.5, 9]], np.float32)
    assert ids.apply(later)[:, 5].tolist() == [8, 9]


def test_default_cache_path(tmp_path):
    assert default_cache_path(tmp_path / "a.mp4") == tmp_path / "a.mp4.stv.h5"
    assert default_cache_path(tmp_path) == tmp_path / "stv_results.h5"
