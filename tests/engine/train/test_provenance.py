"""trained_on in checkpoints, and the once-only warning for a synthetic-only model on real footage."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from engine.cli.main import main
from engine.data.synthetic import write_benchmark
from engine.model import build_model, save_checkpoint
from engine.train.provenance import (DomainNotices, is_synthetic_video, synthetic_domain_warning,
                                     trained_only_on_synthetic)

from train_helpers import TINY_OVERRIDES


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    write_benchmark(root, clips=2, seed=5, num_frames=6, size=(64, 96))
    return root


def checkpoint(path, *, trained_on, classes=("a", "b")):
    torch.manual_seed(0)
    model = build_model("tiny", **TINY_OVERRIDES, num_classes=len(classes))
    extra = {} if trained_on is None else {"trained_on": trained_on}
    return save_checkpoint(path, model, class_names=list(classes), extra=extra)


def test_stv_train_records_what_it_trained_on(bench, tmp_path, capsys):
    sets = [a for k, v in TINY_OVERRIDES.items() for a in ("--set", f"{k}={json.dumps(v)}")]
    out = tmp_path / "run"
    assert main(["train", "--data", str(bench), "--out", str(out), "--epochs", "1", "--batch-size", "2",
                 "--device", "cpu", "--no-progress", *sets]) == 0, capsys.readouterr().err
    from engine.model import load_checkpoint

    _, meta = load_checkpoint(out / "model.pt")
    assert meta["extra"]["trained_on"] == [{"name": "synthetic", "synthetic": True, "path": str(bench.resolve()),
                                            "windows": 2, "videos": 2}]


def test_the_warning_names_real_footage_only(bench, tmp_path):
    synthetic_model = checkpoint(tmp_path / "syn.pt", trained_on=[{"name": "synthetic", "synthetic": True,
                                                                    "videos": 600, "windows": 1200}])
    real_model = checkpoint(tmp_path / "real.pt", trained_on=[{"name": "ucf101", "synthetic": False, "videos": 9537}])
    real_video = tmp_path / "street.mp4"
    real_video.write_bytes(b"not looked at")
    clip_video = bench / "clips" / sorted(p.name for p in (bench / "clips").iterdir())[0] / "video.mp4"
    assert is_synthetic_video(clip_video) and not is_synthetic_video(real_video)
    warning = synthetic_domain_warning(synthetic_model, real_video)
    assert "trained only on synthetic figures (600 clips" in warning and "street.mp4" in warning
    assert synthetic_domain_warning(synthetic_model, clip_video) is None
    assert synthetic_domain_warning(real_model, real_video) is None
    assert synthetic_domain_warning(tmp_path / "missing.pt", real_video) is None  # loading reports that
    notices = DomainNotices()
    assert notices.warning(synthetic_model, real_video) == warning
    assert notices.warning(synthetic_model, real_video) is None  # once


def test_checkpoints_without_trained_on_fall_back_to_the_generator_class_names(tmp_path):
    from engine.data.actors import ACTIONS

    assert trained_only_on_synthetic({"class_names": list(ACTIONS), "extra": {}})
    assert not trained_only_on_synthetic({"class_names": ["walk"], "extra": {}})
    assert not trained_only_on_synthetic({"class_names": list(ACTIONS),
                                          "extra": {"trained_on": [{"synthetic": True}, {"synthetic": False}]}})


def test_the_bundled_demo_clip_counts_as_synthetic():
    from engine.assets import demo_clip_path

    if not demo_clip_path().is_file():
        pytest.skip("the bundled demo clip is absent")
    assert is_synthetic_video(demo_clip_path())


def test_a_copy_of_the_demo_clip_counts_as_synthetic_and_a_lookalike_does_not(tmp_path):
    import shutil

    from engine.assets import demo_clip_path

    if not demo_clip_path().is_file():
        pytest.skip("the bundled demo clip is absent")
    copy = tmp_path / "my_first_video.mp4"
    shutil.copyfile(demo_clip_path(), copy)
    assert is_synthetic_video(copy)
    lookalike = tmp_path / "lookalike.mp4"
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte differs
    lookalike.write_bytes(bytes(data))
    assert not is_synthetic_video(lookalike)


def test_stv_infer_prints_the_warning_once_for_real_footage(tmp_path):
    """Through the CLI: a synthetic-only checkpoint on a video not from the generator."""
    import cv2
    import numpy as np

    model = checkpoint(tmp_path / "syn.pt", trained_on=[{"name": "synthetic", "synthetic": True, "videos": 3}],
                       classes=("a",))
    video = tmp_path / "real.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (64, 64))
    for k in range(4):
        writer.write(np.full((64, 64, 3), 30 * k, np.uint8))
    writer.release()
    proc = subprocess.run([sys.executable, "-m", "engine.cli.main", "infer", str(video), "--model", str(model),
                           "--out", str(tmp_path / "out.h5"), "--device", "cpu"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.count("trained only on synthetic figures") == 1
