"""`stv show` and `stv bench cache`."""
from __future__ import annotations

import json

import numpy as np

from engine.cache.synthetic import synthetic_frame
from engine.cli.main import main

from conftest import CLASSES, FP, make_cache, new_run


def _cache_with_partial_run(path):
    with make_cache(path, num_frames=40) as cache:
        with new_run(cache, "demo") as writer:
            for k in range(17):
                writer.write(synthetic_frame(k))
        with new_run(cache, "paper") as writer:
            for k in range(40):
                writer.write(synthetic_frame(k))
        cache.save_label_set("corrected", np.ones((3, 7)), source_run="demo", note="two id swaps")


def test_show_text(cache_path, capsys):
    _cache_with_partial_run(cache_path)
    assert main(["show", str(cache_path)]) == 0
    out = capsys.readouterr().out
    assert "/videos/clip.mp4" in out and "640x360" in out and "23.976 fps" in out and FP in out
    assert "demo: 17/40 frames (42%), incomplete" in out
    assert "paper: 40/40 frames (100%), complete" in out
    assert "sha256 " + "ab" * 32 in out and ", ".join(CLASSES) in out and "clip_len=8" in out
    assert "corrected: 3 rows from run demo" in out and "two id swaps" in out
    assert "bytes/frame" in out


def test_show_json(cache_path, capsys):
    _cache_with_partial_run(cache_path)
    assert main(["show", str(cache_path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    runs = {r["name"]: r for r in d["runs"]}
    assert runs["demo"]["completed_frames"] == 17 and not runs["demo"]["complete"]
    assert runs["paper"]["complete"] and runs["paper"]["class_names"] == CLASSES
    assert d["video"]["num_frames"] == 40 and d["label_sets"][0]["rows"] == 3
    assert d["bytes_per_frame"] == d["size_bytes"] / 57


def test_show_bad_file_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.h5"
    bad.write_text("hello")
    assert main(["show", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("stv show:") and str(bad) in err and "\n" not in err


def test_bench_cache_prints_figures(capsys):
    assert main(["bench", "cache", "--frames", "120", "--reads", "50"]) == 0
    out = capsys.readouterr().out
    for key in ("frames/s", "bytes/frame", "p50", "p95"):
        assert key in out
