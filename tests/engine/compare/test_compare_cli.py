"""`stv compare`: the table equals `stv eval` on the files `stv export` writes; the agreement table without labels."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cache import ResultsCache
from engine.cli.main import main
from engine.labels import LabelSet
from engine.labels.journal import save
from engine.results import FrameResult

NUM_FRAMES = 30
CLASSES = ["walk", "run"]


def run_frames(rng, labels, *, id_offset, switch_at=None, drop=0.1, jitter=1.5):
    frames = []
    for f in range(NUM_FRAMES):
        rows = labels[labels[:, 0] == f]
        keep = rng.random(len(rows)) > drop
        boxes = rows[keep, 2:6] + rng.normal(0, jitter, (int(keep.sum()), 4))
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        ids = rows[keep, 1] + id_offset
        if switch_at is not None and f >= switch_at:
            ids = np.where(ids == 1 + id_offset, 77, ids)
        tracks = np.column_stack([boxes, rng.uniform(0.5, 1, len(ids)), ids]).astype(np.float32)
        probs = np.array([0.7, 0.3] if f < 20 else [0.3, 0.7], np.float32)
        frames.append(FrameResult(frame_index=f, tracks=tracks, action_probs=probs))
    return frames


@pytest.fixture
def cache_path(tmp_path):
    rng = np.random.default_rng(3)
    label_rows = []
    for f in range(NUM_FRAMES):
        for o in range(4):
            x, y = 40.0 * o + 1.3 * f, 20.0 + 0.7 * o * f
            label_rows.append([f, o + 1, x, y, x + 25.5, y + 61.25, 1.0])
    labels = np.array(label_rows)
    path = tmp_path / "clip.mp4.stv.h5"
    with ResultsCache.create(path, video_fingerprint="fp", video_path=str(tmp_path / "clip.mp4"),
                             num_frames=NUM_FRAMES, fps=25.0, width=320, height=240) as cache:
        for name, kwargs in (("model-a", dict(id_offset=0, switch_at=12)), ("model-b", dict(id_offset=10))):
            with cache.create_run(name, model_config={}, checkpoint_sha256="", class_names=CLASSES, params={},
                                  alpha_shape=(2, 2)) as writer:
                for frame in run_frames(rng, labels, **kwargs):
                    writer.write(frame)
        save(cache, LabelSet.from_run(labels, name="gt", num_frames=NUM_FRAMES, width=320, height=240))
    return path


def stv_json(capsys, *argv):
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_table_equals_stv_eval_on_exported_files(cache_path, tmp_path, capsys):
    table = stv_json(capsys, "compare", str(cache_path), "--a", "model-a", "--b", "model-b", "--labels", "gt", "--json")
    assert [row["name"] for row in table] == ["model-a", "model-b"]
    out = tmp_path / "export"
    assert main(["export", str(cache_path), "--labels", "gt", "--out", str(out), "--name", "SEQ"]) == 0
    for row in table:
        assert main(["export", str(cache_path), "--run", row["name"], "--out", str(out / row["name"]),
                     "--name", "SEQ"]) == 0
        expected = stv_json(capsys, "eval", "--gt", str(out / "SEQ" / "gt" / "gt.txt"),
                            "--pred", str(out / row["name"] / "SEQ.txt"), "--json")
        for key in ("MOTA", "IDF1", "HOTA", "FP", "FN", "IDSW", "MOTP", "IDTP", "AssA"):
            assert row[key] == expected[key], (row["name"], key)
    assert table[0]["IDSW"] >= 1  # model-a's planted switch
    assert table[0]["IDF1"] < table[1]["IDF1"]


def test_label_set_as_an_item_and_agreement_without_labels(cache_path, capsys):
    table = stv_json(capsys, "compare", str(cache_path), "--a", "gt", "--b", "model-b", "--labels", "gt", "--json")
    assert table[0]["kind"] == "labels" and table[0]["IDF1"] == 1.0 and table[0]["FP"] == 0
    agreement = stv_json(capsys, "compare", str(cache_path), "--a", "model-a", "--b", "model-b", "--json")
    assert len(agreement) == 1
    row = agreement[0]
    assert row["reference"] == "model-b" and 0.5 < row["box_agreement"] < 1.0
    assert row["action_agreement"] == 1.0  # the same clip-level actions in every frame
    assert set(("MOTA", "IDF1", "HOTA", "FP", "FN", "IDSW")) <= set(row)
    capsys.readouterr()
    assert main(["compare", str(cache_path), "--a", "model-a", "--b", "model-b", "--labels", "gt"]) == 0
    text = capsys.readouterr().out
    assert "model-a" in text and "IDF1" in text


def test_unknown_names_are_reported(cache_path, capsys):
    capsys.readouterr()
    assert main(["compare", str(cache_path), "--a", "nope", "--b", "model-b"]) == 1
    assert "no run or label set named 'nope'" in capsys.readouterr().err
    assert main(["compare", str(cache_path), "--a", "model-a", "--b", "model-b", "--labels", "missing"]) == 1
    assert "no label set named 'missing'" in capsys.readouterr().err


def test_a_name_that_is_both_a_run_and_a_label_set_needs_a_prefix(cache_path, capsys):
    with ResultsCache.open(cache_path, mode="a") as cache:
        save(cache, LabelSet.from_run(cache.run("model-b"), name="model-a"))
    capsys.readouterr()
    assert main(["compare", str(cache_path), "--a", "model-a", "--b", "model-b"]) == 1
    assert "both a run and a label set" in capsys.readouterr().err
    table = stv_json(capsys, "compare", str(cache_path), "--a", "labels:model-a", "--b", "run:model-b",
                     "--labels", "gt", "--json")
    assert table[0]["kind"] == "labels" and table[1]["kind"] == "run"
    assert table[0]["IDF1"] == table[1]["IDF1"]  # the label set is model-b's tracks
