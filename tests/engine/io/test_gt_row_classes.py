"""MOT gt whose tracks change class (distractor 8 while an actor is mostly outside the frame, class 1
otherwise; what our synthetic generator and MOT17 write) imports through ``stv import`` and exports through
``stv export`` text-identical: every row keeps its own class."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.assets import DEMO_CLIP, DEMO_CLIP_GT, asset_path
from engine.cache import ResultsCache
from engine.cli.main import main
from engine.io.export import load_current_label_set


def round_trip(tmp_path: Path, gt: Path, video: Path, tag: str) -> str:
    cache = tmp_path / f"{tag}.stv.h5"
    out = tmp_path / f"out-{tag}"
    assert main(["import", str(cache), "--gt", str(gt), "--labels", "gt", "--video", str(video)]) == 0
    assert main(["export", str(cache), "--labels", "gt", "--out", str(out), "--name", "SEQ"]) == 0
    return (out / "SEQ" / "gt" / "gt.txt").read_text()


def classes_per_track(text: str) -> dict[int, set[int]]:
    rows = np.array([[float(v) for v in line.split(",")] for line in text.splitlines()])
    return {int(t): set(rows[rows[:, 1] == t, 7].astype(int).tolist()) for t in np.unique(rows[:, 1])}


def test_demo_clip_gt_with_a_distractor_stretch_round_trips_text_identical(tmp_path, capsys):
    gt = asset_path(DEMO_CLIP_GT) / "gt.txt"
    source = gt.read_text()
    assert classes_per_track(source)[4] == {1, 8}  # the case that used to be refused
    assert round_trip(tmp_path, gt, asset_path(DEMO_CLIP), "demo") == source
    with ResultsCache.open(tmp_path / "demo.stv.h5") as cache:
        track = load_current_label_set(cache, "gt").track(4)
    assert track.class_id == 1 and set(track.classes.tolist()) == {1, 8}


def test_make_synthetic_gt_round_trips_text_identical(tmp_path, capsys):
    out = tmp_path / "syn"
    assert main(["make-synthetic", str(out), "--clips", "6", "--frames", "48", "--size", "90x160", "--seed", "0",
                 "--quiet"]) == 0
    changing = 0
    for clip in sorted((out / "clips").iterdir()):
        gt = clip / "gt" / "gt.txt"
        source = gt.read_text()
        changing += any(len(c) > 1 for c in classes_per_track(source).values())
        assert round_trip(tmp_path, gt, clip / "video.mp4", clip.name) == source, clip.name
    assert changing >= 1, "no generated clip has a track that changes class: the test would prove nothing"


def test_the_row_class_reaches_the_exported_rows_scored_by_evaluation(tmp_path, capsys):
    """--as-results writes only scored rows (class 1, consider 1): a distractor stretch is left out row by row."""
    gt = asset_path(DEMO_CLIP_GT) / "gt.txt"
    cache = tmp_path / "demo.stv.h5"
    assert main(["import", str(cache), "--gt", str(gt), "--labels", "gt", "--video",
                 str(asset_path(DEMO_CLIP))]) == 0
    assert main(["export", str(cache), "--labels", "gt", "--as-results", "--out", str(tmp_path / "res"),
                 "--name", "SEQ"]) == 0
    source = np.array([[float(v) for v in line.split(",")] for line in gt.read_text().splitlines()])
    res = np.array([[float(v) for v in line.split(",")] for line in (tmp_path / "res" / "SEQ.txt").read_text()
                    .splitlines()])
    scored = source[(source[:, 6] != 0) & (source[:, 7] == 1)]
    np.testing.assert_array_equal(res[:, :6], scored[:, :6])
    assert len(res) < len(source)


@pytest.mark.parametrize("text,fragment", [
    ("1,3,1,1,5,5,1,1,1\n2,3,1,1,5,5,1,0,1\n", "gt.txt:2: class 0"),
])
def test_a_class_below_one_is_still_refused(tmp_path, capsys, text, fragment):
    gt = tmp_path / "gt.txt"
    gt.write_text(text)
    cache = tmp_path / "c.stv.h5"
    ResultsCache.create(cache, video_fingerprint="fp", video_path=str(tmp_path / "v.mp4"), num_frames=10, fps=25.0,
                        width=64, height=64).close()
    assert main(["import", str(cache), "--gt", str(gt), "--labels", "x"]) == 1
    assert fragment in capsys.readouterr().err
