"""A small random-initialised model checkpoint and short clips for pipeline tests."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory):
    """A tiny-config model at a small input size, saved as a real checkpoint file."""
    torch = pytest.importorskip("torch")
    from engine.model import build_model, save_checkpoint

    torch.manual_seed(0)
    model = build_model("tiny", num_classes=3, input_size=(64, 96), clip_len=4).eval()
    with torch.no_grad():  # confident centres, so an untrained model still yields tracks to test with
        model.tracking_head.heatmap[2].bias.fill_(4.0)
    path = tmp_path_factory.mktemp("model") / "small.pt"
    save_checkpoint(path, model, class_names=["walk", "run", "wave"])
    return path


@pytest.fixture(scope="session")
def clip_factory(tmp_path_factory):
    from engine.video.synthetic import write_clip

    folder = tmp_path_factory.mktemp("clips")

    def make(name: str = "clip.mp4", *, frames: int = 30, width: int = 160, height: int = 96):
        path = folder / f"{frames}f_{width}x{height}_{name}"  # one file per shape: never a stale length
        if not path.exists():
            write_clip(path, frames=frames, width=width, height=height, gop=12, b_frames=2)
        return path

    return make
