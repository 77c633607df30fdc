"""Round trips, metadata, runs, label sets, pairing and resume of the results cache."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from engine.cache import (CacheBusyError, CacheError, CacheMismatchError, ResultsCache, RunInfo, VideoInfo)
from engine.cache.synthetic import assert_same_result, synthetic_frame
from engine.results import FrameResult

from conftest import CLASSES, FP, make_cache, new_run


def test_round_trip_every_field_and_metadata(cache_path):
    frames = [synthetic_frame(k, with_detections=True) for k in range(50)]
    frames[3].alpha = None
    frames[4].track_action_probs = None
    frames[5] = FrameResult(frame_index=5, tracks=np.zeros((0, 6)), action_probs=frames[5].action_probs,
                            alpha=None, beta=0.5)
    with make_cache(cache_path) as cache:
        assert cache.video == VideoInfo(path="/videos/clip.mp4", fingerprint=FP, num_frames=50, fps=23.976,
                                        width=640, height=360)
        with new_run(cache) as writer:
            for r in frames:
                writer.write(r)
    with ResultsCache.open(cache_path, video_fingerprint=FP) as cache:
        assert cache.run_names == ["tiny"]
        run = cache.run("tiny")
        for k, r in enumerate(frames):
            assert_same_result(run.frame(k), r)
        assert run.frame(5).tracks.shape == (0, 6) and run.frame(5).detections is None
        info = run.info
        assert isinstance(info, RunInfo)
        assert (info.name, info.checkpoint_sha256, info.class_names) == ("tiny", "ab" * 32, CLASSES)
        assert info.model_config["input_size"] == [224, 384] and info.params == {"window": 8, "stride": 8}
        assert info.alpha_shape == (28, 48) and info.complete and info.completed_frames == 50
        # plain data only: configs are JSON strings
        attrs = cache.h5["runs/tiny"].attrs
        assert json.loads(attrs["class_names"]) == CLASSES


def test_gaps_missing_frames_and_whole_run_arrays(cache_path):
    with make_cache(cache_path, num_frames=20) as cache:
        writer = new_run(cache)
        for k in [0, 1, 2, 5, 6, 9]:
            writer.write(synthetic_frame(k))
        with pytest.raises(ValueError, match="out of order"):
            writer.write(synthetic_frame(4))
        with pytest.raises(ValueError, match="action_probs"):
            writer.write(FrameResult(frame_index=10, tracks=np.zeros((0, 6)), action_probs=np.ones(3)))
        with pytest.raises(ValueError, match="alpha"):
            writer.write(FrameResult(frame_index=10, tracks=np.zeros((0, 6)), action_probs=np.ones(6),
                                     alpha=np.zeros((5, 5))))
        writer.close()
        run = cache.run("tiny")
        assert run.completed_frames == 3 and run.frames_with_results == 6
        assert [run.has_frame(k) for k in range(11)] == [k in (0, 1, 2, 5, 6, 9) for k in range(11)]
        assert run.frame(3) is None and run.frame(19) is None
        assert_same_result(run.frame(5), synthetic_frame(5))
        assert_same_result(run.frame(9), synthetic_frame(9))
        with pytest.raises(IndexError):
            run.frame(20)
        probs, beta = run.action_probs(), run.beta()
        assert probs.shape == (20, 6) and probs.dtype == np.float32 and beta.shape == (20,)
        assert np.isnan(probs[[3, 4, 7, 8, 10]]).all() and np.isnan(beta[[3, 4, 10]]).all()
        np.testing.assert_array_equal(probs[6], synthetic_frame(6).action_probs)
        rows = run.track_rows()
        expected = np.concatenate([
            np.column_stack([np.full(len(f.tracks), k), f.tracks[:, 5], f.tracks[:, :5]])
            for k in (0, 1, 2, 5, 6, 9) for f in [synthetic_frame(k)]])
        np.testing.assert_allclose(rows, expected)
        assert not run.info.complete


def test_resume_continues_at_first_missing_frame(cache_path):
    with make_cache(cache_path, num_frames=30) as cache:
        writer = new_run(cache)
        for k in [0, 1, 2, 3, 7]:
            writer.write(synthetic_frame(k))
        writer.close()
        with pytest.raises(ValueError, match="exists"):
            new_run(cache)
    with ResultsCache.open(cache_path, mode="a", video_fingerprint=FP) as cache:
        writer = cache.open_run_writer("tiny")
        assert writer.completed_frames == 4  # frame 7 (after a gap) is rewritten on resume
        for k in range(4, 30):
            writer.write(synthetic_frame(k))
        writer.close()
        run = cache.run("tiny")
        assert run.info.complete
        for k in range(30):
            assert_same_result(run.frame(k), synthetic_frame(k))


def test_several_runs_and_label_sets(cache_path):
    labels = np.array([[0, 1, 1.5, 2, 30, 40, 1], [3, 2, 5, 6, 70, 80, 0.5]])
    with make_cache(cache_path, num_frames=10) as cache:
        for name in ("tiny", "paper"):
            with new_run(cache, name, alpha_shape=(14, 24) if name == "paper" else (28, 48)) as w:
                for k in range(10):
                    w.write(synthetic_frame(k, alpha_shape=(14, 24) if name == "paper" else (28, 48)))
        cache.save_label_set("gt", labels, source_run="tiny", note="fixed ids")
        cache.save_label_set("gt", labels[:1])  # replace
        cache.save_label_set("other", np.zeros((0, 7)))
        with pytest.raises(ValueError):
            cache.save_label_set("bad", np.zeros((3, 6)))
        with pytest.raises(ValueError):
            cache.save_label_set("a/b", labels)
    with ResultsCache.open(cache_path) as cache:
        assert cache.run_names == ["paper", "tiny"]
        assert cache.run("paper").frame(3).alpha.shape == (14, 24)
        assert cache.label_set_names == ["gt", "other"]
        np.testing.assert_array_equal(cache.load_label_set("gt"), labels[:1])
        assert cache.load_label_set("other").shape == (0, 7)
        assert cache.label_set_info("gt")["source_run"] is None
        with pytest.raises(CacheError, match="read-only"):
            cache.save_label_set("x", labels)
        with pytest.raises(KeyError):
            cache.run("nope")
    with ResultsCache.open(cache_path, mode="a") as cache:
        cache.delete_label_set("other")
        assert cache.label_set_names == ["gt"]


def test_label_set_saved_while_a_run_is_being_written(cache_path):
    """In one process (the viewer's worker writes, the user saves corrections) both survive."""
    with make_cache(cache_path, num_frames=40) as cache:
        writer = new_run(cache)
        for k in range(20):
            writer.write(synthetic_frame(k))
        cache.save_label_set("edits", np.ones((2, 7)), source_run="tiny")
        for k in range(20, 40):
            writer.write(synthetic_frame(k))
        writer.close()
    with ResultsCache.open(cache_path) as cache:
        run = cache.run("tiny")
        assert run.info.complete
        assert_same_result(run.frame(30), synthetic_frame(30))
        np.testing.assert_array_equal(cache.load_label_set("edits"), np.ones((2, 7)))


def test_refuses_another_video(cache_path):
    make_cache(cache_path).close()
    with pytest.raises(CacheMismatchError) as info:
        ResultsCache.open(cache_path, video_fingerprint="size=9:sha256=other", video_path="/videos/other.mp4")
    message = str(info.value)
    assert str(cache_path) in message and "/videos/clip.mp4" in message and "/videos/other.mp4" in message
    with pytest.raises(CacheMismatchError):
        ResultsCache.create(cache_path, video_fingerprint="x", video_path="other.mp4", num_frames=5, fps=25,
                            width=64, height=64)
    with ResultsCache.create(cache_path, video_fingerprint=FP, video_path="clip.mp4", num_frames=50, fps=25,
                             width=64, height=64) as cache:
        assert cache.mode == "a" and cache.video.width == 640  # reopened, not recreated


def test_params_must_be_plain_data(cache_path):
    with make_cache(cache_path) as cache:
        with pytest.raises(ValueError, match="plain"):
            new_run(cache, params={"f": object()})
        new_run(cache, params={"n": np.int64(3), "a": np.arange(2)}).close()
        assert cache.run("tiny").info.params == {"n": 3, "a": [0, 1]}


WRITER = """
import sys, time
from engine.cache import ResultsCache
from engine.cache.synthetic import synthetic_frame
c = ResultsCache.create(sys.argv[1], video_fingerprint="fp", video_path="v", num_frames=400, fps=25, width=640,
                        height=360)
w = c.create_run("live", model_config={}, checkpoint_sha256="", class_names=list("abcdef"), params={},
                 alpha_shape=(28, 48))
for k in range(100):
    w.write(synthetic_frame(k))
w.checkpoint()
print("ready", flush=True)
sys.stdin.readline()
for k in range(100, 400):
    w.write(synthetic_frame(k))
w.checkpoint()
print("more", flush=True)
sys.stdin.readline()
c.close()
"""


def test_reader_in_another_process_follows_a_live_writer(cache_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(cache_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        with ResultsCache.open(cache_path, mode="r") as cache:
            assert cache.swmr_read
            run = cache.run("live")
            assert run.completed_frames == 100 and run.frame(150) is None
            with pytest.raises(CacheBusyError):
                ResultsCache.open(cache_path, mode="a")  # a live writer is never "repaired"
            proc.stdin.write("go\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "more"
            run.refresh()
            assert run.completed_frames == 400
            assert_same_result(run.frame(350), synthetic_frame(350))
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()


def test_size_per_frame_at_tiny_config(cache_path):
    """≤ 4 KB per frame per run: alpha 28x48 float16, ~5 tracks, K=6 (smooth maps, like real ones)."""
    F = 600
    with make_cache(cache_path, num_frames=F) as cache:
        with new_run(cache) as writer:
            for k in range(F):
                writer.write(synthetic_frame(k))
                if k % 100 == 99:
                    writer.checkpoint()
    assert cache_path.stat().st_size / F <= 4096


def test_engine_cache_does_not_import_torch():
    probe = ("import sys, engine.cache, engine.cli.show, engine.cli.bench_cache; "
             "print(','.join(m for m in ('torch', 'PySide6', 'triton') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
