"""stv train / stv eval-actions end to end on a tiny synthetic benchmark, and the window decoding."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.cli.main import main
from engine.config import get_config
from engine.data.synthetic import read_benchmark, write_benchmark
from engine.io.mot import read_gt
from engine.train.datasets import build_synthetic_clips, window_starts

from train_helpers import TINY_OVERRIDES

SIZE = {"input_size": [64, 96]}


@pytest.fixture(scope="module")
def tiny_benchmark(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    write_benchmark(root, clips=4, seed=11, num_frames=10, size=(90, 120))
    return root


def test_window_starts_spread_over_the_clip():
    assert window_starts(64, 8, 1) == [28]
    assert window_starts(64, 8, 3) == [0, 28, 56]
    assert window_starts(8, 8, 4) == [0]


def test_synthetic_windows_carry_the_ground_truth(tiny_benchmark):
    config = get_config("tiny", **{**TINY_OVERRIDES, **SIZE})
    clips = build_synthetic_clips(tiny_benchmark, config=config, windows_per_clip=2, max_clips=None)
    bench = read_benchmark(tiny_benchmark)
    assert clips.frames.shape == (8, 4, 3, 64, 96) and clips.frames.dtype == torch.uint8
    assert clips.labels.tolist() == [c.label_index for c in bench.clips for _ in range(2)]
    assert clips.class_names == list(bench.class_names)
    # window 1 of clip 0 starts at frame 6: its objects are the gt rows of frames 6..9, scaled to 64x96
    gt = read_gt(bench.clips[0].gt)
    frames = gt.frame_indices()
    for t in range(4):
        rows = frames == 6 + t
        assert int(clips.targets["mask"][1, t].sum()) == int(rows.sum())
        expected = np.sort(gt.boxes_xyxy()[rows][:, 2] - gt.boxes_xyxy()[rows][:, 0]) * 96 / 120
        got = np.sort(clips.targets["size"][1, t][clips.targets["mask"][1, t]][:, 0].numpy())
        np.testing.assert_allclose(got, expected, rtol=1e-4)
        assert set(clips.targets["ids"][1, t][clips.targets["mask"][1, t]].tolist()) == set(gt.ids[rows].tolist())
    assert (clips.targets["actor_labels"][clips.targets["mask"]] >= 0).all()


def test_stv_train_then_eval_actions(tiny_benchmark, tmp_path, capsys):
    out = tmp_path / "run"
    sets = [a for k, v in {**TINY_OVERRIDES, **SIZE}.items() for a in ("--set", f"{k}={json.dumps(v)}")]
    code = main(["train", "--data", str(tiny_benchmark), "--out", str(out), "--epochs", "1", "--batch-size", "2",
                 "--lr", "1e-3", "--device", "cpu", "--no-progress", *sets])
    assert code == 0, capsys.readouterr().err
    assert (out / "model.pt").is_file() and (out / "train_state.pt").is_file() and (out / "train_clips.pt").is_file()
    log = (out / "train_log.txt").read_text()
    assert "epoch 1/1" in log and "clips/s" in log
    capsys.readouterr()
    assert main(["eval-actions", str(out / "model.pt"), str(tiny_benchmark), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0.0 <= result["top1"] <= result["top5"] <= 1.0
    assert result["num_clips"] == 4
    assert np.asarray(result["confusion"]).shape == (6, 6) and np.asarray(result["confusion"]).sum() == 4
    assert main(["eval-actions", str(out / "model.pt"), str(tiny_benchmark)]) == 0
    assert "top-1" in capsys.readouterr().out


def test_stv_train_reports_bad_data_in_one_line(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "missing" in err and err.count("\n") == 1


def test_tracking_evaluation_and_score_calibration(tiny_benchmark):
    from engine.data.synthetic import read_benchmark
    from engine.model import build_model
    from engine.train.calibrate import calibrate_scores, heatmap_bias
    from engine.train.tracking_eval import evaluate_tracking

    torch.manual_seed(0)
    model = build_model(get_config("tiny", **{**TINY_OVERRIDES, **SIZE}, num_classes=6)).eval()
    sequences = [c.folder for c in read_benchmark(tiny_benchmark).clips[:2]]
    summary = evaluate_tracking(model, sequences)
    gt_rows = sum(len(read_gt(c / "gt" / "gt.txt")) for c in sequences)
    assert 0.9 * gt_rows <= summary["TP"] + summary["FN"] <= gt_rows  # all gt scored (a few may be preprocessed out)
    assert summary["MOTA"] <= 1.0
    before = heatmap_bias(model).detach().clone()
    best, table = calibrate_scores(model, sequences, shifts=(0.0, 4.0))
    assert set(table) == {0.0, 4.0} and table[best] == max(table.values())
    torch.testing.assert_close(heatmap_bias(model).detach(), before + best)
