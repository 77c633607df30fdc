"""`stv train` end to end through the CLI on tiny trees in the official layouts: UCF-101 and HMDB-51
(splits 1-3, streamed by DataLoader workers, exact resume), MOT17 (no action labels), an ImageNet
backbone state_dict file, and two gloo ranks under torchrun."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.cli.main import main
from engine.data.tiny_trees import write_hmdb51_tree, write_mot17_tree, write_ucf101_tree

from train_helpers import TINY_OVERRIDES

REPO = Path(__file__).resolve().parents[3]
SETS = [a for k, v in TINY_OVERRIDES.items() for a in ("--set", f"{k}={json.dumps(v)}")]


def train(data: Path, out: Path, *extra: str) -> int:
    return main(["train", "--data", str(data), "--out", str(out), "--epochs", "1", "--batch-size", "2",
                 "--device", "cpu", "--no-progress", *SETS, *extra])


def trained_on(run: Path) -> dict:
    from engine.model import load_checkpoint

    _, meta = load_checkpoint(run / "model.pt")
    (entry,) = meta["extra"]["trained_on"]
    return entry


@pytest.fixture(scope="module")
def ucf(tmp_path_factory) -> Path:
    return write_ucf101_tree(tmp_path_factory.mktemp("ucf"), classes=2, groups=3, clips_per_class=3)


def test_ucf101_each_split_streams_its_own_train_list(ucf, tmp_path, capsys):
    for split in (1, 3):
        out = tmp_path / f"split{split}"
        assert train(ucf, out, "--split", str(split)) == 0, capsys.readouterr().err
        listed = (ucf.parent / "ucfTrainTestlist" / f"trainlist{split:02d}.txt").read_text().split()
        entry = trained_on(out)
        assert entry["name"] == "ucf101" and not entry["synthetic"]
        assert entry["windows"] == entry["videos"] == len(listed) // 2 == 4
        assert "streaming 4 training clips" in (out / "train_log.txt").read_text()
        assert not (out / "train_clips.pt").exists()  # nothing decoded into a cache


def test_streamed_training_resumes_exactly_with_two_workers(ucf, tmp_path, capsys):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    args = ["--workers", "2", "--lr", "1e-3"]
    assert main(["train", "--data", str(ucf), "--out", str(straight), "--epochs", "2", "--batch-size", "2",
                 "--device", "cpu", "--no-progress", *SETS, *args]) == 0, capsys.readouterr().err
    assert train(ucf, resumed, *args) == 0
    assert main(["train", "--data", str(ucf), "--out", str(resumed), "--epochs", "2", "--batch-size", "2",
                 "--device", "cpu", "--no-progress", "--resume", *SETS, *args]) == 0
    a = torch.load(straight / "train_state.pt", weights_only=True)["model"]
    b = torch.load(resumed / "train_state.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_hmdb51_split_3(tmp_path, capsys):
    root = write_hmdb51_tree(tmp_path, classes=2, videos_per_class=3)
    assert train(root, tmp_path / "run", "--split", "3") == 0, capsys.readouterr().err
    entry = trained_on(tmp_path / "run")
    assert entry["name"] == "hmdb51" and entry["windows"] == 4  # videos 0 and 1 of each class (2 is test)


def test_mot17_trains_the_tracking_head_with_the_action_loss_masked(tmp_path, capsys):
    root = write_mot17_tree(tmp_path, frames=12)
    out = tmp_path / "run"
    assert train(root, out) == 0, capsys.readouterr().err
    from engine.model import load_checkpoint

    _, meta = load_checkpoint(out / "model.pt")
    assert meta["class_names"] == ["(no action labels)"]
    history = json.loads((out / "history.json").read_text())
    assert history[0]["action"] == 0.0 and history[0]["heatmap"] > 0
    assert trained_on(out)["name"] == "mot17" and trained_on(out)["windows"] == 3  # 12 frames / clip_len 4


def test_backbone_weights_from_a_torchvision_state_dict_file(ucf, tmp_path, capsys):
    from engine.model import build_model, get_config

    config = get_config("tiny", **TINY_OVERRIDES, num_classes=2)
    torch.manual_seed(123)
    encoder = build_model(config).encoder.state_dict()
    imagenet = {k: v for k, v in encoder.items() if not k.startswith("spatial_attention.")}
    imagenet["fc.weight"], imagenet["fc.bias"] = torch.zeros(1000, 8), torch.zeros(1000)
    path = tmp_path / "resnet18.pth"
    torch.save(imagenet, path)
    out = tmp_path / "run"
    assert train(ucf, out, "--backbone-weights", str(path), "--lr", "0") == 0, capsys.readouterr().err
    assert f"encoder from {path}" in (out / "train_log.txt").read_text()
    state = torch.load(out / "train_state.pt", weights_only=True)["model"]
    conv = "encoder.conv1.weight"
    assert torch.equal(state[conv], imagenet["conv1.weight"])  # lr 0: the loaded weights, untouched
    # a state_dict of another architecture is refused with the file's name
    torch.save({"conv1.weight": torch.zeros(3, 3)}, path)
    assert train(ucf, tmp_path / "bad", "--backbone-weights", str(path)) == 1
    assert str(path) in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun is not on PATH")
def test_torchrun_two_gloo_ranks_on_cpu(ucf, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(["torchrun", "--standalone", "--nproc-per-node", "2", "-m", "engine.cli.main", "train",
                           "--data", str(ucf), "--out", str(out), "--epochs", "1", "--batch-size", "2",
                           "--device", "cpu", "--no-progress", "--workers", "1", *SETS],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = (out / "train_log.txt").read_text()
    assert "batch 2 over 2 rank(s)" in log
    assert trained_on(out)["windows"] == 4


def test_eval_actions_with_the_10_clip_3_crop_protocol(ucf, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(ucf, out, "--split", "2") == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["eval-actions", str(out / "model.pt"), str(ucf), "--protocol", "10x3", "--split", "2",
                 "--json"]) == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    tested = (ucf.parent / "ucfTrainTestlist" / "testlist02.txt").read_text().split()
    assert result["num_clips"] == len(tested) == 2 and result["views_per_clip"] == 30
    assert result["class_names"] == ["Class000", "Class001"]
    assert main(["eval-actions", str(out / "model.pt"), str(ucf), "--split", "2"]) == 0
    report = capsys.readouterr().out
    assert "1 views each (center)" in report and "Class000" in report.splitlines()[2]


def test_three_crops_cover_the_long_side():
    import numpy as np

    from engine.train.evaluate import three_crops

    frames = np.zeros((2, 60, 160, 3), np.uint8)
    frames[:, :, :10] = 255   # left edge
    frames[:, :, -10:] = 128  # right edge
    left, centre, right = three_crops(frames, (64, 64))
    assert left.shape == centre.shape == right.shape == (2, 64, 64, 3)
    assert left[0, :, 0].min() == 255 and right[0, :, -1].max() == 128
    assert centre[0, :, [0, -1]].max() == 0


def test_init_weights_fine_tunes_a_checkpoint_of_the_same_model(ucf, tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    assert train(ucf, first, "--lr", "1e-3") == 0, capsys.readouterr().err
    assert train(ucf, second, "--init-weights", str(first / "model.pt"), "--lr", "0") == 0, capsys.readouterr().err
    a = torch.load(first / "train_state.pt", weights_only=True)["model"]
    b = torch.load(second / "train_state.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a if a[k].is_floating_point() and "running" not in k)
    # another config is refused, naming the file and the difference
    code = main(["train", "--data", str(ucf), "--out", str(tmp_path / "bad"), "--epochs", "1", "--batch-size", "2",
                 "--device", "cpu", "--no-progress", *SETS, "--set", "embed_dim=4",
                 "--init-weights", str(first / "model.pt")])
    assert code == 1
    err = capsys.readouterr().err
    assert "model.pt" in err and "embed_dim" in err


def test_mot17_train_then_infer_and_eval_through_the_cli(tmp_path, capsys):
    """MOT17's paper protocol on a tiny tree: stv train, stv infer --mot-out on the sequence, stv eval."""
    root = write_mot17_tree(tmp_path, frames=12)
    run = tmp_path / "run"
    assert train(root, run) == 0, capsys.readouterr().err
    sequence = root / "train" / "MOT17-02-FRCNN"
    pred = tmp_path / "pred.txt"
    assert main(["infer", str(sequence), "--model", str(run / "model.pt"), "--out", str(tmp_path / "x.h5"),
                 "--mot-out", str(pred), "--device", "cpu"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["eval", "--gt", str(sequence / "gt" / "gt.txt"), "--pred", str(pred), "--json"]) == 0
    assert "MOTA" in capsys.readouterr().out


def test_a_synthetic_benchmark_streams_with_stream(tmp_path, capsys):
    from engine.data.synthetic import write_benchmark

    root = tmp_path / "synthetic"
    write_benchmark(root, clips=2, seed=4, num_frames=8, size=(64, 96))
    out = tmp_path / "run"
    assert train(root, out, "--stream", "--workers", "1") == 0, capsys.readouterr().err
    assert not (out / "train_clips.pt").exists()
    history = json.loads((out / "history.json").read_text())
    assert history[0]["reid"] > 0 and history[0]["track_action"] > 0  # actor labels and identities streamed
    assert trained_on(out)["synthetic"] and trained_on(out)["videos"] == 2
