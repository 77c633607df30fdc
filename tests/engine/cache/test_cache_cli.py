"""`stv show` and `stv bench cache`."""
from __future__ import annotations

import dataclasses
import json
import time

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


def _cache_with_damaged_resumed_run(path):
    """Run "demo": frames 3 and 7 concealed by the decoder; resumed twice (at frames 5 and 9)."""
    with make_cache(path, num_frames=12) as cache:
        with new_run(cache, "demo") as writer:
            for k in range(5):
                writer.write(dataclasses.replace(synthetic_frame(k), damaged=k == 3))
        for start, stop in ((5, 9), (9, 12)):
            with cache.open_run_writer("demo") as writer:
                writer.record_resume(start)
                for k in range(start, stop):
                    writer.write(dataclasses.replace(synthetic_frame(k), damaged=k == 7))


def test_show_damaged_frames_and_resume_history(cache_path, capsys):
    before = time.time()
    _cache_with_damaged_resumed_run(cache_path)
    assert main(["show", str(cache_path), "--json"]) == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["damaged_frames"] == 2
    assert [e["frame"] for e in run["resumes"]] == [5, 9]
    assert all(before - 1 <= e["time"] <= time.time() + 1 for e in run["resumes"])
    assert main(["show", str(cache_path)]) == 0
    out = capsys.readouterr().out
    assert "damaged     2 frames decoded with the decoder's concealment" in out
    assert "resumed     2 times: frame 5 at " in out and ", frame 9 at " in out and " UTC" in out


def test_show_clean_run_says_nothing_of_damage_or_resumes(cache_path, capsys):
    _cache_with_partial_run(cache_path)
    assert main(["show", str(cache_path)]) == 0
    out = capsys.readouterr().out
    assert "damaged " not in out and "resumed " not in out
    assert main(["show", str(cache_path), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert all(r["damaged_frames"] == 0 and r["resumes"] == [] for r in runs)


def test_show_survives_a_crafted_resume_history(cache_path, capsys):
    """NaN and out-of-range numbers in the resume record print as unknown, never crash or emit NaN JSON."""
    import h5py

    _cache_with_damaged_resumed_run(cache_path)
    with h5py.File(cache_path, "r+") as f:
        f["runs/demo/resumes"][0] = (np.nan, np.inf)
        f["runs/demo/resumes"][1] = (1e300, 3e18)
    assert main(["show", str(cache_path), "--json"]) == 0
    out = capsys.readouterr().out
    assert "NaN" not in out and "Infinity" not in out
    assert json.loads(out)["runs"][0]["resumes"][0] == {"time": None, "frame": None}
    assert main(["show", str(cache_path)]) == 0
    assert "resumed     2 times: frame ? at an unknown time, frame 3000000000000000000 at t=1e+300" \
        in capsys.readouterr().out
