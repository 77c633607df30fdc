"""Issue 12 §1: `stv infer` killed at random frames resumes to exactly the uninterrupted result."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np

from engine.cache import ResultsCache
from engine.cache import schema as S

from hostile_inputs import bidirectional_checkpoint, causal_checkpoint, hostile_clip  # noqa: F401 (fixtures)

DRIVER = Path(__file__).with_name("hostile_kill_driver.py")
COMPARED = (S.COMMIT, S.FRAME_FLAGS, S.BETA, S.ACTION_PROBS, S.ALPHA, S.TRACK_OFFSETS, S.TRACKS,
            S.TRACK_ACTION_PROBS, S.DETECTION_OFFSETS, S.DETECTIONS)


def _run_driver(tmp_path, *, video, model, frames, kills, args=(), seed=None):
    seed = random.randrange(1 << 30) if seed is None else seed
    plan = {"video": str(video), "model": str(model), "cache": str(tmp_path / "killed.h5"),
            "reference": str(tmp_path / "reference.h5"), "seed": seed, "frames": frames, "kills": kills,
            "args": ["--checkpoint-seconds", "0", "--run", "r", *args]}
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(plan))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(DRIVER), str(plan_path)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, f"seed {seed}: {done.stderr[-3000:]}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return Path(plan["cache"]), Path(plan["reference"]), report, seed, done.stderr


def _committed_rows(f: h5py.File, key: str) -> np.ndarray:
    commit = f["runs/r/commit"][()]
    rows = {S.TRACKS: commit[1], S.TRACK_ACTION_PROBS: commit[1], S.DETECTIONS: commit[2]}
    data = f[f"runs/r/{key}"]
    return data[:rows[key]] if key in rows else data[()]


def _assert_identical(killed: Path, reference: Path, context: str) -> None:
    with h5py.File(killed, "r") as a, h5py.File(reference, "r") as b:
        for key in COMPARED:
            x, y = _committed_rows(a, key), _committed_rows(b, key)
            assert x.dtype == y.dtype and x.shape == y.shape, f"{context}: {key} {x.shape} vs {y.shape}"
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f"{context}: {key} differs"


def test_ten_kills_in_a_row_at_random_frames_resume_bit_identical(causal_checkpoint, hostile_clip, tmp_path):
    """A causal model (state carried window to window): one torn checkpoint (killed between the
    snapshot of frame 8 and its commit record), then 10 SIGKILLs in a row on the same cache, each at
    a random frame after the previous resume point; then the run completes: every dataset equals a
    run never killed."""
    frames = 56
    kills = [["commit", 3]] + ["random-write"] * 10
    killed, reference, report, seed, log = _run_driver(
        tmp_path, video=hostile_clip(frames), model=causal_checkpoint, frames=frames, kills=kills)
    resumed_at = [point for _, point in report["kills"]]
    assert resumed_at[0] == 4, "the torn checkpoint at frame 8 falls back to the snapshot of frame 4"
    assert resumed_at == sorted(resumed_at) and resumed_at[-1] > 4, f"seed {seed}: {report}"
    assert any(kill[0] == "write" and kill[1] % 4 for kill, _ in report["kills"]), \
        f"seed {seed}: some kill must land between checkpoints"
    _assert_identical(killed, reference, f"seed {seed}, kills {report['kills']}")
    with ResultsCache.open(killed) as cache:
        history = cache.run("r").resumes()
    assert len(history) == len(kills), "every resume is recorded"
    assert np.all(np.diff(history[:, 0]) >= 0) and abs(history[-1, 0] - time.time()) < 600
    assert "resuming run 'r'" in log


def test_bidirectional_model_resumes_on_its_window_grid(bidirectional_checkpoint, hostile_clip, tmp_path):
    """Overlapping windows (stride 2 of 4): a resume re-reads the context frames before the resume
    point but reports none of them again."""
    frames = 30
    killed, reference, report, seed, _ = _run_driver(
        tmp_path, video=hostile_clip(frames), model=bidirectional_checkpoint, frames=frames,
        kills=["random-write"] * 3, args=["--stride", "2"])
    _assert_identical(killed, reference, f"seed {seed}, kills {report['kills']}")


WRITER_CRASH = textwrap.dedent("""
    import os, sys
    from engine.cache import ResultsCache
    from engine.cache.synthetic import synthetic_frame
    cache = ResultsCache.create(sys.argv[1], video_fingerprint="f", video_path="v", num_frames=200, fps=25,
                                width=64, height=48)
    writer = cache.create_run("r", model_config={}, checkpoint_sha256="", class_names=list("abcdef"),
                              params={}, alpha_shape=(28, 48))
    for k in range(10):
        writer.write(synthetic_frame(k))
    writer.checkpoint()
    for k in range(10, 100):
        writer.write(synthetic_frame(k))   # 64-frame blocks reach the datasets, flags included
    writer._write_pending()
    cache.h5.flush()
    os._exit(0)                             # dies without a commit
""")


def test_writer_resume_trusts_only_the_commit_record(tmp_path):
    path = tmp_path / "c.h5"
    subprocess.run([sys.executable, "-c", WRITER_CRASH, str(path)], check=True, timeout=60)
    with h5py.File(path, "r", swmr=True) as f:  # the crash left done flags far past the commit
        assert (f["runs/r/frame_flags"][:100] & S.FLAG_DONE).all()
    with ResultsCache.open(path, mode="a") as cache:
        assert cache.run("r").completed_frames == 10
        writer = cache.open_run_writer("r")
        assert writer.completed_frames == 10 and writer.next_frame == 10
        writer.close()
        assert cache.run("r").completed_frames == 10
    with h5py.File(path, "r") as f:
        assert not f["runs/r/frame_flags"][10:].any(), "the dead writer's flags past the commit are cleared"
