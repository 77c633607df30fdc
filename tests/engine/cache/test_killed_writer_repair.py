"""A cache left by a killed writer: `stv show` / any open repairs it when no writer is alive, so plain
h5py opens it again; `stv repair` does it explicitly; a live writer is never touched; the liveness lock
works without fcntl (the Windows branch, with a stand-in msvcrt)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from engine.cache import ResultsCache
from engine.cache.liveness import writer_alive
from engine.cache.recovery import status_flags
from engine.cli.main import main as stv

HELPER = Path(__file__).parent / "kill_writer.py"


def _start_writer(path: Path, frames: int = 100_000) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, str(HELPER), str(path), str(frames), "10"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:  # past the first checkpoint: frames are committed, the file is flagged
        if line.startswith("ckpt"):
            return proc
    raise AssertionError(f"the writer ended early: {proc.stderr.read()}")


def _killed_cache(tmp_path: Path) -> Path:
    path = tmp_path / "killed.stv.h5"
    proc = _start_writer(path)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert status_flags(path) != 0 and not writer_alive(path)
    with pytest.raises(OSError):  # what a user of plain h5py met before
        h5py.File(path, "r")
    return path


def test_stv_show_repairs_a_killed_cache_so_plain_h5py_opens_it(tmp_path, capsys):
    path = _killed_cache(tmp_path)
    assert stv(["show", str(path)]) == 0
    assert "repaired: a killed writer had left it open" in capsys.readouterr().out
    assert status_flags(path) == 0
    with h5py.File(path, "r") as f:  # no "file is already open for write"
        assert "kill_writer" not in f.filename and len(f["runs"]) == 1
    with ResultsCache.open(path, mode="r") as cache:
        assert cache.run("tiny").completed_frames >= 10 and not cache.repaired_on_open


def test_a_live_writer_is_left_alone_and_repair_refuses(tmp_path, capsys):
    path = tmp_path / "live.stv.h5"
    proc = _start_writer(path)
    try:
        assert writer_alive(path)
        assert stv(["show", str(path)]) == 0
        out = capsys.readouterr().out
        assert "a writer is active" in out and "repaired" not in out
        assert status_flags(path) != 0  # still the writer's
        assert stv(["repair", str(path)]) == 1
        assert "still running" in capsys.readouterr().err
        assert proc.poll() is None  # and it keeps writing
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert stv(["repair", str(path)]) == 0
    out = capsys.readouterr().out
    assert "repaired" in out and "run tiny:" in out and "`stv infer` resumes it" in out
    with h5py.File(path, "r"):
        pass
    assert stv(["repair", str(path)]) == 0
    assert "nothing to repair" in capsys.readouterr().out
    assert stv(["repair", str(tmp_path / "missing.h5")]) == 1


WINDOWS_PROBE = r"""
import os, sys, types
sys.modules["fcntl"] = None  # as on Windows: `import fcntl` raises ImportError
held = {}
fake = types.ModuleType("msvcrt")
fake.LK_NBLCK, fake.LK_UNLCK = 2, 0
def locking(fd, mode, nbytes):
    key = (os.fstat(fd).st_ino, os.lseek(fd, 0, os.SEEK_CUR))
    assert key[1] == 1 << 40 and nbytes == 1
    if mode == fake.LK_NBLCK:
        if key in held:
            raise PermissionError(13, "locked")  # what msvcrt raises for a byte another handle locked
        held[key] = fd
    else:
        del held[key]
fake.locking = locking
sys.modules["msvcrt"] = fake
from engine.cache import ResultsCache  # importable without fcntl
from engine.cache import liveness
assert liveness.fcntl is None
path = sys.argv[1]
open(path, "wb").write(b"x" * 10)
assert not liveness.writer_alive(path)
fd = liveness.hold_writer_lock(path)
assert fd is not None and liveness.writer_alive(path)
liveness.release_writer_lock(fd)
assert not liveness.writer_alive(path)
print("ok")
"""


def test_engine_cache_imports_and_reports_liveness_without_fcntl(tmp_path):
    done = subprocess.run([sys.executable, "-c", WINDOWS_PROBE, str(tmp_path / "f.h5")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
