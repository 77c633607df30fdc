"""One cache-naming rule: single runs, collections and the viewer agree, and a.mp4 / a.avi never collide."""
from __future__ import annotations

import pytest

from engine.cache.naming import cache_path_in, check_unique_cache_names, default_cache_path


def test_single_runs_collections_and_the_viewer_use_one_rule(tmp_path):
    from engine.pipeline import default_cache_path as pipeline_default
    from engine.pipeline import collection
    from stviewer.cache_location import beside_video

    a_mp4, a_avi = tmp_path / "a.mp4", tmp_path / "a.avi"
    for video in (a_mp4, a_avi):
        video.write_bytes(b"x")
    seq = tmp_path / "SEQ-01"
    seq.mkdir()
    assert default_cache_path(a_mp4) == tmp_path / "a.mp4.stv.h5"
    assert default_cache_path(seq) == seq / "stv_results.h5"
    assert pipeline_default is default_cache_path and beside_video is default_cache_path
    assert collection.cache_path_in is cache_path_in
    out = tmp_path / "out"
    assert cache_path_in(out, a_mp4) == out / "a.mp4.stv.h5"
    assert cache_path_in(out, a_avi) == out / "a.avi.stv.h5"  # a.mp4 and a.avi no longer collide
    assert cache_path_in(out, seq) == out / "SEQ-01.stv.h5"
    assert cache_path_in(out, a_mp4).name == default_cache_path(a_mp4).name  # the same name in both places


def test_a_collection_whose_videos_share_a_file_name_is_refused_before_any_work(tmp_path):
    one, two = tmp_path / "one" / "a.mp4", tmp_path / "two" / "a.mp4"
    check_unique_cache_names([one, tmp_path / "a.avi"])
    with pytest.raises(ValueError, match=r"one/a.mp4 and .*two/a.mp4 would both be cached as a.mp4.stv.h5"):
        check_unique_cache_names([one, two])


def test_infer_collection_refuses_colliding_names(tmp_path):
    from engine.pipeline.collection import RankInfo, infer_collection

    one, two = tmp_path / "one" / "a.mp4", tmp_path / "two" / "a.mp4"
    with pytest.raises(ValueError, match="would both be cached"):
        infer_collection([one, two], out_dir=tmp_path / "out", model=None, rank=RankInfo(0, 1, 0))
    assert not (tmp_path / "out").exists()
