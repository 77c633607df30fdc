"""Small generated inputs for the hostile-input tests (imported by each test file, not a conftest, so
that no two `conftest` modules compete when several test folders run together)."""
from __future__ import annotations

import pytest


def _checkpoint(folder, *, causal: bool, clip_len: int = 4):
    import torch

    from engine.model import build_model, save_checkpoint

    torch.manual_seed(0)
    model = build_model("tiny", num_classes=3, input_size=(64, 96), clip_len=clip_len, causal=causal).eval()
    with torch.no_grad():  # confident centres, so an untrained model still yields tracks to test with
        model.tracking_head.heatmap[2].bias.fill_(4.0)
    path = folder / f"{'causal' if causal else 'bidir'}.pt"
    save_checkpoint(path, model, class_names=["walk", "run", "wave"])
    return path


@pytest.fixture(scope="session")
def causal_checkpoint(tmp_path_factory):
    return _checkpoint(tmp_path_factory.mktemp("model"), causal=True)


@pytest.fixture(scope="session")
def bidirectional_checkpoint(tmp_path_factory):
    return _checkpoint(tmp_path_factory.mktemp("model"), causal=False)


@pytest.fixture(scope="session")
def hostile_clip(tmp_path_factory):
    """clip(frames=...) -> a small H.264 clip with B-frames (cached per length)."""
    from engine.video.synthetic import write_clip

    folder = tmp_path_factory.mktemp("clips")

    def make(frames: int = 48, *, width: int = 160, height: int = 96):
        path = folder / f"{frames}f_{width}x{height}.mp4"
        if not path.exists():
            write_clip(path, frames=frames, width=width, height=height, gop=12, b_frames=2)
        return path

    return make
