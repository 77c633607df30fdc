"""SIGKILL the writer at random moments, then check what survives and that resuming completes it."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.cache import ResultsCache
from engine.cache.recovery import status_flags
from engine.cache.synthetic import assert_same_result

sys.path.insert(0, str(Path(__file__).parent))
from kill_writer import FINGERPRINT, LABELS, RUN, frame_for  # noqa: E402

HELPER = Path(__file__).parent / "kill_writer.py"
NUM_FRAMES = 6000
CHECKPOINT_EVERY = 25


def _start_writer(path: Path) -> tuple[subprocess.Popen, int]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, str(HELPER), str(path), str(NUM_FRAMES), str(CHECKPOINT_EVERY)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline().split()
    assert line[:1] == ["start"], (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, int(line[1])


def _last_checkpoint(lines: list[str]) -> int:
    done = [int(x.split()[1]) for x in lines if x.startswith("ckpt")]
    return max(done) if done else 0


def _verify_prefix(path: Path, expected: dict, at_least: int, labels: set[str] = frozenset()) -> int:
    """Open read-only, check every committed frame equals what was written; returns completed."""
    with ResultsCache.open(path, mode="r", video_fingerprint=FINGERPRINT) as cache:
        run = cache.run(RUN)
        completed = run.completed_frames
        assert completed >= at_least, f"lost checkpointed frames: {completed} < {at_least}"
        for k in range(completed):
            if k not in expected:
                expected[k] = frame_for(k)
            assert_same_result(run.frame(k), expected[k])
        if completed < NUM_FRAMES:
            assert run.frame(completed) is None
        rows = run.track_rows()
        assert len(rows) == sum(len(expected[k].tracks) for k in range(completed))
        assert labels <= set(cache.label_set_names), "a saved label set was lost"
        for name in cache.label_set_names:
            np.testing.assert_array_equal(cache.load_label_set(name), LABELS)
        return completed


@pytest.mark.slow
def test_sigkill_at_random_moments_keeps_checkpointed_frames_and_resumes(tmp_path):
    path = tmp_path / "results.h5"
    rng = random.Random(1234)
    expected: dict = {}
    completed = 0
    kills = 0
    label_sets = 0
    saved: set[str] = set()
    for delay in [0.0, 0.05, 0.15, 0.3, 0.5]:
        proc, start = _start_writer(path)
        assert start == completed  # resumes exactly where the last checkpoint left it
        if kills == 0:
            # a live writer's file opens for reading (SWMR) and shows progress
            with ResultsCache.open(path, mode="r") as cache:
                assert cache.run_names == [RUN]
        time.sleep(delay + rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        if proc.returncode != -signal.SIGKILL:
            break  # it finished first (slow kill); the final check covers it
        kills += 1
        lines = out.splitlines()
        checkpointed = max(_last_checkpoint(lines), start)
        saved |= {x.split()[1] for x in lines if x.startswith("saved")}
        assert status_flags(path) != 0  # killed mid-write: the superblock still says "open"
        completed = _verify_prefix(path, expected, checkpointed, saved)
        assert completed < NUM_FRAMES
        # repair for writing and add a label set between kills; the next writer must not lose it
        with ResultsCache.open(path, mode="a", video_fingerprint=FINGERPRINT) as cache:
            cache.save_label_set(f"fix{label_sets}", LABELS, source_run=RUN, note="between kills")
            label_sets += 1
    assert kills >= 3, f"only {kills} kills landed mid-write"
    proc, start = _start_writer(path)
    assert start == completed
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.splitlines()[-1] == "done"
    assert status_flags(path) == 0
    saved |= {x.split()[1] for x in out.splitlines() if x.startswith("saved")}
    final = _verify_prefix(path, expected, NUM_FRAMES, saved)
    assert final == NUM_FRAMES
    with ResultsCache.open(path, mode="r") as cache:
        assert cache.run(RUN).info.complete
        assert {f"fix{i}" for i in range(label_sets)} | saved == set(cache.label_set_names)
    assert len(saved) >= NUM_FRAMES // 700 - 1
