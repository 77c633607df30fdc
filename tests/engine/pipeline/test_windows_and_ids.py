"""Window scheduling and track-ID continuity on resume (no model needed)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.runner import default_cache_path
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


@pytest.mark.parametrize("clip_len,stride", [(8, 8), (8, 3)])
@pytest.mark.parametrize("n", [9, 20, 23])
def test_a_windower_resumed_on_the_grid_yields_the_same_windows(clip_len, stride, n):
    """Resuming at a window boundary s re-reads the overlap before s and reports from s on: the same
    windows, with the same frames reported, as the uninterrupted schedule."""
    w = _Windower(clip_len=clip_len, stride=stride)
    full = [(idx, first) for idx, _, first in w.windows(_frames(n))]
    for k in range(1, len(full)):
        s = full[k - 1][0][-1] + 1  # boundary after window k-1
        read_from = s - w.overlap
        resumed = [(idx, first) for idx, _, first in
                   w.windows(((i, f) for i, f in _frames(n) if i >= read_from), reported=s - read_from)]
        assert resumed == full[k:]


def test_default_cache_path(tmp_path):
    assert default_cache_path(tmp_path / "a.mp4") == tmp_path / "a.mp4.stv.h5"
    assert default_cache_path(tmp_path) == tmp_path / "stv_results.h5"
