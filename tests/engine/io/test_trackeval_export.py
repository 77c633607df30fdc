"""The official TrackEval evaluates `stv export`'s TrackEval layout unchanged, and gives the app's numbers.

fixtures/trackeval_on_export.json was recorded by running TrackEval 1.3.0 (a throwaway virtual
environment, never a dependency of this project) on the layout :func:`build_export` writes:

    python tests/engine/io/test_trackeval_export.py /tmp/stv_te          # writes the layout
    python3 -m venv /tmp/te && /tmp/te/bin/pip install trackeval numpy scipy
    /tmp/te/bin/python tests/engine/io/fixtures/trackeval_on_export.py /tmp/stv_te STV train \\
        > tests/engine/io/fixtures/trackeval_on_export.json

The test rebuilds the layout, checks its bytes are the ones TrackEval read (sha256), and that
``engine.metrics.run_eval.evaluate_run_against_labels`` (the app's panel) equals TrackEval's numbers.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "trackeval_on_export.json"
NUM_FRAMES, WIDTH, HEIGHT = 60, 640, 360


def _label_set(name: str):
    """Five pedestrians walking (some ignored frames, one half-visible), a static person (distractor
    class 7) and a car (class 3), from a fixed seed."""
    from engine.labels import LabelSet
    from engine.labels.model import ROW_WIDTH

    rng = np.random.default_rng(2026)
    rows = []
    for tid, (first, last) in zip((3, 8, 21, 40, 1001), ((0, 59), (5, 45), (10, 59), (0, 30), (25, 59))):
        x, y = rng.uniform(20, 500), rng.uniform(20, 200)
        vx = rng.uniform(-2.5, 2.5)
        for k in range(first, last + 1):
            row = np.zeros(ROW_WIDTH)
            row[:6] = [k, tid, x + vx * k, y, x + vx * k + 40.5, y + 101.25]
            row[6], row[7], row[8], row[9] = 2, 0.5 if tid == 21 else 1.0, 0 if (tid == 8 and k % 13 == 0) else 1, 1
            rows.append(row)
    for tid, cls, box in ((60, 7, [560.0, 200.0, 590.0, 300.0]), (61, 3, [300.0, 250.0, 420.0, 330.0])):
        for k in range(NUM_FRAMES):
            rows.append(np.r_[k, tid, box, 2, 1.0, 1, cls, 0])
    return LabelSet.from_rows(np.array(rows), name=name, num_frames=NUM_FRAMES, width=WIDTH, height=HEIGHT)


def _write_run(cache, labels) -> None:
    """A model-like run: jittered float32 boxes, a missed stretch, an id switch, false positives, a box
    on the static person (removed by TrackEval's distractor preprocessing) and one on the car (an FP)."""
    from engine.results import FrameResult

    rng = np.random.default_rng(7)
    rows = labels.to_rows()
    writer = cache.create_run("model", model_config={}, checkpoint_sha256="", class_names=["x"], params={},
                              alpha_shape=(1, 1))
    with writer:
        for k in range(NUM_FRAMES):
            here = rows[rows[:, 0] == k]
            keep = ~((here[:, 1] == 21) & (k >= 30) & (k < 38))  # missed
            here = here[keep]
            ids = here[:, 1].copy()
            ids[(ids == 3) & (k >= 33)] = 77  # id switch
            boxes = here[:, 2:6] + rng.normal(0, 2.0, (len(here), 4))
            tracks = np.column_stack([boxes, rng.uniform(0.3, 1.0, len(here)), ids])
            if k % 7 == 0:
                tracks = np.vstack([tracks, [600.0, 10.0, 630.0, 80.0, 0.35, 500 + k]])
            writer.write(FrameResult(frame_index=k, tracks=tracks.astype(np.float32),
                                     action_probs=np.ones(1, np.float32), beta=0.0))


def build_export(out: Path, work: Path):
    """Cache with label set 'gt' and run 'model' under ``work``; TrackEval layout under ``out``.
    Returns (cache path, the in-app metrics of model vs gt, of gt-as-results vs gt)."""
    from engine.cache import ResultsCache
    from engine.cli.main import main
    from engine.io.export import label_set_results_records, load_current_label_set
    from engine.labels import journal as J
    from engine.metrics.run_eval import evaluate_run_against_labels

    path = work / "walk.mp4.stv.h5"
    with ResultsCache.create(path, video_fingerprint="walk", video_path=str(work / "walk.mp4"),
                             num_frames=NUM_FRAMES, fps=30.0, width=WIDTH, height=HEIGHT) as cache:
        labels = _label_set("gt")
        J.save(cache, labels)
        _write_run(cache, labels)
        labels = load_current_label_set(cache, "gt")
        in_app = {"model": evaluate_run_against_labels(cache.run("model"), labels).summary(),
                  "gt": evaluate_run_against_labels(label_set_results_records(labels), labels).summary()}
    common = ["--out", str(out), "--layout", "trackeval", "--benchmark", "STV", "--split", "train"]
    for args in (["--labels", "gt"], ["--run", "model"], ["--labels", "gt", "--as-results"]):
        if main(["export", str(path), *args, *common]) != 0:
            raise RuntimeError(f"export {args} failed")
    return path, in_app


def digests(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_trackeval_reads_the_export_and_equals_the_app(tmp_path):
    reference = json.loads(FIXTURE.read_text())
    out = tmp_path / "data"
    _, in_app = build_export(out, tmp_path)
    assert digests(out) == reference["files"]  # the very bytes TrackEval evaluated
    assert reference["trackeval_version"] == "1.3.0" and reference["messages"] == {}  # no errors
    te = reference["results"]
    assert te["gt"]["walk"]["MOTA"] == 1.0 and te["gt"]["walk"]["IDF1"] == 1.0  # gt against itself
    for tracker in ("model", "gt"):
        theirs = te[tracker]["walk"]
        ours = in_app[tracker]
        for key, value in theirs.items():
            assert ours[key] == pytest.approx(value, abs=1e-12, rel=0), (tracker, key)
    assert te["model"]["walk"]["IDSW"] >= 1 and te["model"]["walk"]["FP"] > 0


if __name__ == "__main__":  # write the layout TrackEval is run on (see the module docstring)
    import tempfile

    target = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as work:
        build_export(target, Path(work))
    print(json.dumps(digests(target), indent=1))
