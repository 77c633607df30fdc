"""Issue 12 §3: a cache pairs with its video by a sampled fingerprint; content changed between the
samples (75 KB zeroed) must not make `stv infer` return the stale run as complete."""
from __future__ import annotations

import os
import shutil

import pytest

from engine.cli.main import main as stv
from engine.video import open_video
from engine.video.fingerprint import SAMPLE_BYTES, SAMPLES

from hostile_inputs import causal_checkpoint, hostile_clip  # noqa: F401 (fixtures)


def _padded(clip, path, size=3 << 20):
    """The clip followed by an MP4 'free' box: still the same video, but big enough (> 1 MiB) for
    the fingerprint to sample it instead of hashing it whole."""
    data = clip.read_bytes()
    pad = size - len(data)
    path.write_bytes(data + pad.to_bytes(4, "big") + b"free" + bytes(pad - 8))
    return path


def _zero_between_samples(path, length=75 * 1024):
    size = path.stat().st_size
    step = (size - SAMPLE_BYTES) // (SAMPLES - 1)
    start = (SAMPLES - 2) * step + SAMPLE_BYTES + 1000  # after sample 14, before sample 15
    assert start + length < (SAMPLES - 1) * step, "the zeroed range must lie between two samples"
    with open(path, "r+b") as handle:
        handle.seek(start)
        handle.write(bytes([0x5A]) * length)  # any bytes that differ; the padding held zeros


def test_content_changed_between_sampled_blocks_is_not_paired(causal_checkpoint, hostile_clip, tmp_path, capsys):
    video = _padded(hostile_clip(16), tmp_path / "v.mp4")
    out = tmp_path / "r.h5"
    args = ["infer", str(video), "--model", str(causal_checkpoint), "--out", str(out), "--device", "cpu", "--quiet"]
    assert stv(args) == 0
    with open_video(video) as src:
        before = src.fingerprint()
    _zero_between_samples(video)
    with open_video(video) as src:
        assert src.fingerprint() == before, "the sampled fingerprint cannot see the change"
    capsys.readouterr()
    assert stv(args) == 1
    err = capsys.readouterr().err
    assert "was made from other content" in err and "different bytes" in err


def test_a_copied_video_still_pairs_with_its_cache(causal_checkpoint, hostile_clip, tmp_path, capsys):
    """A copy has a new mtime but the same bytes: the full hash confirms it, the run stays complete."""
    video = hostile_clip(16)
    out = tmp_path / "r.h5"
    assert stv(["infer", str(video), "--model", str(causal_checkpoint), "--out", str(out), "--device", "cpu",
                "--quiet"]) == 0
    copy = tmp_path / "copy.mp4"
    shutil.copyfile(video, copy)
    os.utime(copy, ns=(1, 1))
    capsys.readouterr()
    assert stv(["infer", str(copy), "--model", str(causal_checkpoint), "--out", str(out), "--device", "cpu",
                "--quiet"]) == 0
    assert "already complete" in capsys.readouterr().out
