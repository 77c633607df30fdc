"""Issue 12 §2: a full disk while writing results is a clear error (exit 1, or the viewer's error
dialog), never a crash in HDF5's cleanup; the cache stays readable at its last commit and resumes."""
from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

from engine.cache import ResultsCache

from hostile_inputs import bidirectional_checkpoint, causal_checkpoint, hostile_clip  # noqa: F401 (fixtures)

LIMIT = 220_000  # bytes: the cache's header, room for a run and its first frames fit; the whole run does not


def _limit_file_size(limit: int):
    def apply() -> None:  # in the child: EFBIG from write() instead of the SIGXFSZ signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def _infer(video, model, out, *, limit: int | None = None):
    cmd = [sys.executable, "-m", "engine.cli.main", "infer", str(video), "--model", str(model), "--out", str(out),
           "--device", "cpu", "--quiet", "--threads", "1", "--checkpoint-seconds", "0", "--run", "r"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                          preexec_fn=_limit_file_size(limit) if limit else None)


def _resume_in_process(video, model, out, caplog) -> str:
    """The resume once space is back (in this process: no second interpreter start)."""
    from engine.cli.main import main as stv

    with caplog.at_level("INFO", logger="engine.pipeline"):
        code = stv(["infer", str(video), "--model", str(model), "--out", str(out), "--device", "cpu", "--quiet",
                    "--threads", "1", "--checkpoint-seconds", "0", "--run", "r"])
    assert code == 0
    return caplog.text


def _completed(path) -> int:
    with ResultsCache.open(path) as cache:
        return cache.run("r").completed_frames


def test_file_size_limit_during_stv_infer_exits_1_then_resumes(causal_checkpoint, hostile_clip, tmp_path, caplog):
    video, out = hostile_clip(160), tmp_path / "r.h5"
    # no room even for the cache's structure: refused before HDF5 writes anything (a structural step
    # failing half-way used to leave a truncated file that could not even be opened again)
    early = _infer(video, causal_checkpoint, out, limit=20_000)
    assert early.returncode == 1 and "would grow past the size" in early.stderr, early.stderr
    assert "Traceback" not in early.stderr and not out.exists()
    failed = _infer(video, causal_checkpoint, out, limit=LIMIT)
    assert failed.returncode == 1, f"exit {failed.returncode} (139/135 = HDF5 cleanup crashed): {failed.stderr[-2000:]}"
    assert "cannot write run 'r'" in failed.stderr and "past the size" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr
    kept = _completed(out)
    assert 0 < kept < 160 and f"frames 0..{kept - 1} are saved" in failed.stderr
    assert f"at frame {kept} of 160" in _resume_in_process(video, causal_checkpoint, out, caplog)
    assert _completed(out) == 160


def _mount_tmpfs(where) -> bool:
    if shutil.which("mount") is None or os.geteuid() != 0:
        return False
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], capture_output=True)
    return done.returncode == 0


def test_full_tmpfs_during_stv_infer_exits_1(causal_checkpoint, hostile_clip, tmp_path, caplog):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk):
        pytest.skip("cannot mount a tmpfs here (needs root in a namespace that allows it); "
                    "test_file_size_limit_during_stv_infer_exits_1_then_resumes covers the same path")
    try:
        video = disk / "clip.mp4"
        shutil.copy(hostile_clip(160), video)
        room = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * max(0, room - 220_000))  # nearly full
        failed = _infer(video, causal_checkpoint, disk / "r.h5")
        assert failed.returncode == 1, f"exit {failed.returncode}: {failed.stderr[-2000:]}"
        assert "the disk is full" in failed.stderr and "Traceback" not in failed.stderr, failed.stderr
        kept = _completed(disk / "r.h5")
        (disk / "filler").unlink()
        assert f"at frame {kept} of 160" in _resume_in_process(video, causal_checkpoint, disk / "r.h5", caplog)
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


VIEWER_WORKER = textwrap.dedent("""
    import sys
    from stviewer.workers import InferenceWorker
    from engine.cache import ResultsCache
    video, model, out = sys.argv[1:4]
    worker = InferenceWorker(video, model=model, cache_path=out, run_name="r", device="cpu")
    reasons = []
    worker.failed.connect(reasons.append)
    worker.run()                        # what the viewer's worker thread runs
    assert len(reasons) == 1, reasons   # the session turns this into the "Model run failed" dialog
    print("REASON", reasons[0])
    with ResultsCache.open(out) as cache:   # the process carries on, reading what was saved
        print("KEPT", cache.run("r").completed_frames)
""")


def test_file_size_limit_during_the_viewers_run_is_reported_and_the_process_lives(
        causal_checkpoint, hostile_clip, tmp_path):
    out = tmp_path / "r.h5"
    done = subprocess.run([sys.executable, "-c", VIEWER_WORKER, str(hostile_clip(160)), str(causal_checkpoint), str(out)],
                          capture_output=True, text=True, timeout=180, preexec_fn=_limit_file_size(LIMIT),
                          env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert "REASON" in done.stdout and "cannot write run 'r'" in done.stdout, done.stdout
    kept = int(done.stdout.split("KEPT")[1])
    assert kept == _completed(out)  # readable at its last commit (the viewer checkpoints every 2 s)
