"""Many videos: one cache each, complete ones skipped, split between torchrun ranks."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from engine.cache import ResultsCache
from engine.pipeline.collection import list_videos


def test_list_videos_expands_folders_and_lists(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "b.avi").write_bytes(b"x")
    (tmp_path / "notes.md").write_text("x")
    seq = tmp_path / "SEQ-01"
    seq.mkdir()
    (seq / "seqinfo.ini").write_text("[Sequence]\n")
    listing = tmp_path / "list.txt"
    listing.write_text("a.mp4\n# comment\n\nb.avi\n")
    assert list_videos([tmp_path]) == sorted([tmp_path / "a.mp4", tmp_path / "b.avi", seq])
    assert list_videos([listing]) == [tmp_path / "a.mp4", tmp_path / "b.avi"]
    listing.write_text("missing.mp4\n")
    with pytest.raises(FileNotFoundError, match="list.txt:1"):
        list_videos([listing])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_torchrun_ranks_split_four_clips(small_checkpoint, clip_factory, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for i in range(4):
        (folder / f"clip{i}.mp4").write_bytes(clip_factory(f"c{i}.mp4", frames=8 + i).read_bytes())
    out = tmp_path / "out"

    def launch():
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr",
               "127.0.0.1", "--master-port", str(_free_port()), "-m", "engine.cli.main", "infer", str(folder),
               "--model", str(small_checkpoint), "--out-dir", str(out), "--quiet", "--device", "cpu"]
        env = dict(os.environ, OMP_NUM_THREADS="1")
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)

    done = launch()
    assert done.returncode == 0, done.stdout + done.stderr
    log = done.stdout
    assert "rank 0/2: 2 of 4 videos" in log and "rank 1/2: 2 of 4 videos" in log
    assert log.count(": done") == 4
    for i in range(4):
        with ResultsCache.open(out / f"clip{i}.mp4.stv.h5") as cache:  # the file name + .stv.h5
            (name,) = cache.run_names
            assert cache.run(name).completed_frames == 8 + i
    # a second launch skips everything that is complete
    again = launch()
    assert again.returncode == 0 and again.stdout.count(": skipped") == 4, again.stdout + again.stderr
