"""infer_video end to end: real video, real (random-init) model, real tracker, real cache."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from engine.cache import ResultsCache
from engine.cli.main import main as stv
from engine.pipeline import CancelToken, InferenceCancelled, infer_video


def test_infer_video_writes_every_frame_and_reopens_complete(small_checkpoint, clip_factory, tmp_path):
    video = clip_factory(frames=30)
    out = tmp_path / "r.h5"
    seen, progress = [], []
    name = infer_video(video, model=small_checkpoint, cache_path=out, device="cpu",
                       on_frame=lambda r: seen.append(r.frame_index), progress=progress.append)
    assert seen == list(range(30))
    assert progress[-1].done == 30 and progress[-1].total == 30 and progress[-1].fps > 0
    with ResultsCache.open(out) as cache:
        reader = cache.run(name)
        assert reader.completed_frames == 30
        assert reader.info.class_names == ["walk", "run", "wave"]
        frame = reader.frame(17)
        assert frame.alpha.shape == (8, 12)
        np.testing.assert_allclose(frame.alpha.astype(np.float32).sum(), 1.0, atol=1e-2)
        assert frame.action_probs.shape == (3,)
        beta = reader.beta()
        assert beta.shape == (30,) and np.all(beta > 0)
    # a second call finds the run complete and returns at once without touching it
    again = []
    assert infer_video(video, model=small_checkpoint, cache_path=out, device="cpu", on_frame=again.append) == name
    assert again == []


def test_boxes_are_in_frame_pixels(small_checkpoint, clip_factory, tmp_path):
    video = clip_factory(frames=12)
    out = tmp_path / "r.h5"
    results = []
    infer_video(video, model=small_checkpoint, cache_path=out, device="cpu", on_frame=results.append,
                score_threshold=0.0)
    dets = np.concatenate([r.detections for r in results if r.detections is not None and len(r.detections)])
    assert len(dets) > 0, "a zero threshold must let detections through"
    assert dets[:, [0, 2]].min() >= 0 and dets[:, [0, 2]].max() <= 160
    assert dets[:, [1, 3]].min() >= 0 and dets[:, [1, 3]].max() <= 96
    assert dets[:, 2].max() > 96, "boxes must be scaled from the 96-wide input to the 160-wide frame"


def test_cancel_stops_within_one_window_and_keeps_what_was_written(small_checkpoint, clip_factory, tmp_path):
    video = clip_factory(frames=30)
    out = tmp_path / "r.h5"
    token = CancelToken()
    seen = []

    def on_frame(result):
        seen.append(result.frame_index)
        if result.frame_index == 5:
            token.cancel()

    with pytest.raises(InferenceCancelled):
        infer_video(video, model=small_checkpoint, cache_path=out, device="cpu", cancel=token, on_frame=on_frame)
    assert seen == list(range(8)), "the window in flight (frames 4-7 at clip_len 4) finishes, no more"
    # resuming continues after the saved frames
    rest = []
    infer_video(video, model=small_checkpoint, cache_path=out, device="cpu", on_frame=lambda r: rest.append(r.frame_index))
    assert rest == list(range(8, 30))


def test_resume_keeps_track_ids_consistent(small_checkpoint, clip_factory, tmp_path):
    video = clip_factory(frames=30)
    full = tmp_path / "full.h5"
    name = infer_video(video, model=small_checkpoint, cache_path=full, device="cpu", score_threshold=0.0)
    part = tmp_path / "part.h5"
    token = CancelToken()
    with pytest.raises(InferenceCancelled):
        infer_video(video, model=small_checkpoint, cache_path=part, device="cpu", cancel=token, score_threshold=0.0,
                    on_frame=lambda r: token.cancel() if r.frame_index == 13 else None)
    infer_video(video, model=small_checkpoint, cache_path=part, device="cpu", score_threshold=0.0)
    with ResultsCache.open(full) as a, ResultsCache.open(part) as b:
        ra, rb = a.run(name), b.run(name)
        for k in range(16):  # frames saved before the interruption are identical
            np.testing.assert_array_equal(ra.frame(k).tracks, rb.frame(k).tracks)
        assert rb.completed_frames == 30


def test_mismatched_video_is_refused(small_checkpoint, clip_factory, tmp_path):
    out = tmp_path / "r.h5"
    infer_video(clip_factory("a.mp4", frames=8), model=small_checkpoint, cache_path=out, device="cpu")
    with pytest.raises(OSError, match="r.h5") as caught:
        infer_video(clip_factory("b.mp4", frames=9), model=small_checkpoint, cache_path=out, device="cpu")
    assert "b.mp4" in str(caught.value), "the message names the video that does not match"


def test_cli_infer_show_and_mot_export(small_checkpoint, clip_factory, tmp_path, capsys):
    video = clip_factory(frames=12)
    out, mot = tmp_path / "r.h5", tmp_path / "res.txt"
    assert stv(["infer", str(video), "--model", str(small_checkpoint), "--out", str(out), "--mot-out", str(mot),
                "--quiet", "--score-threshold", "0.0", "--device", "cpu"]) == 0
    capsys.readouterr()
    assert stv(["show", str(out), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert "runs" in shown
    lines = mot.read_text().splitlines()
    assert lines and all(len(line.split(",")) == 10 for line in lines)
    assert min(int(line.split(",")[0]) for line in lines) >= 1  # MOT frames are 1-based


def test_cli_infer_bad_video_is_a_clear_error(small_checkpoint, tmp_path, capsys):
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    assert stv(["infer", str(bad), "--model", str(small_checkpoint), "--out", str(tmp_path / "r.h5"), "--quiet"]) == 1
    assert "bad.mp4" in capsys.readouterr().err


@pytest.mark.slow
def test_sigkill_then_stv_infer_resumes_instead_of_restarting(small_checkpoint, clip_factory, tmp_path):
    video = clip_factory("long.mp4", frames=160)
    out = tmp_path / "r.h5"
    cmd = [sys.executable, "-m", "engine.cli.main", "infer", str(video), "--model", str(small_checkpoint),
           "--out", str(out), "--quiet", "--device", "cpu", "--checkpoint-seconds", "0", "--run", "r"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    committed = 0
    while time.monotonic() < deadline and committed < 40:
        time.sleep(0.2)
        if out.exists():
            try:
                with ResultsCache.open(out) as cache:
                    committed = cache.run("r").completed_frames if "r" in cache.run_names else 0
            except OSError:
                pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 40 <= committed < 160, f"kill came at {committed} committed frames"
    with ResultsCache.open(out) as cache:
        kept = cache.run("r").completed_frames
        assert kept >= committed
        before = [cache.run("r").frame(k) for k in range(kept)]
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"at frame {kept} of 160" in resumed.stderr, resumed.stderr
    with ResultsCache.open(out) as cache:
        reader = cache.run("r")
        assert reader.completed_frames == 160
        for k in range(kept):
            np.testing.assert_array_equal(reader.frame(k).tracks, before[k].tracks)
            np.testing.assert_array_equal(reader.frame(k).action_probs, before[k].action_probs)


def test_bidirectional_model_batches_windows_with_the_same_results(clip_factory, tmp_path):
    import torch

    from engine.model import build_model

    torch.manual_seed(1)
    net = build_model("tiny", num_classes=3, input_size=(64, 96), clip_len=4, causal=False).eval()
    with torch.no_grad():
        net.tracking_head.heatmap[2].bias.fill_(4.0)
    model = (net, {"config": {}, "class_names": ["a", "b", "c"], "sha256": "bidir"})
    video = clip_factory("bidir.mp4", frames=23)
    runs = {}
    for batch in (1, 3):
        got = []
        infer_video(video, model=model, cache_path=tmp_path / f"b{batch}.h5", device="cpu", stride=2,
                    batch_size=batch, on_frame=got.append)
        runs[batch] = got
    assert [r.frame_index for r in runs[3]] == list(range(23))
    for a, b in zip(runs[1], runs[3]):
        np.testing.assert_allclose(a.action_probs, b.action_probs, atol=1e-5)
        np.testing.assert_allclose(a.alpha.astype(np.float32), b.alpha.astype(np.float32), atol=1e-3)
        np.testing.assert_allclose(a.tracks, b.tracks, atol=1e-2)
