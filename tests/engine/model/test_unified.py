"""UnifiedModel: output shapes and invariants, input checks, causal windowing, decode, build_model."""
from __future__ import annotations

import pytest
import torch

from engine.config import get_config
from engine.model import Detections, ModelOutput, UnifiedModel, build_model

SMALL = dict(input_size=(64, 96), clip_len=4, num_classes=5)


@pytest.fixture(scope="module")
def bidirectional() -> UnifiedModel:
    torch.manual_seed(0)
    return build_model("tiny", causal=False, **SMALL).eval()


@pytest.fixture(scope="module")
def causal() -> UnifiedModel:
    torch.manual_seed(1)
    return build_model("tiny", causal=True, **SMALL).eval()


def test_forward_shapes_and_normalisations(bidirectional):
    clip = torch.rand(2, 4, 3, 64, 96)
    with torch.no_grad():
        out = bidirectional(clip)
    assert isinstance(out, ModelOutput)
    h, w, e = 8, 12, bidirectional.config.embed_dim
    assert out.action_logits.shape == (2, 5)
    assert out.alpha.shape == (2, 4, h, w) and out.beta.shape == (2, 4)
    assert torch.allclose(out.alpha.sum(dim=(2, 3)), torch.ones(2, 4), atol=1e-5)
    assert torch.allclose(out.beta.sum(dim=1), torch.ones(2), atol=1e-5)
    assert out.heatmap_logits.shape == (2, 4, 1, h, w)
    assert out.box_size.shape == (2, 4, 2, h, w) and bool((out.box_size > 0).all())
    assert out.offset.shape == (2, 4, 2, h, w) and bool(((out.offset > 0) & (out.offset < 1)).all())
    assert out.embedding.shape == (2, 4, e, h, w)
    assert torch.allclose(out.embedding.norm(dim=2), torch.ones(2, 4, h, w), atol=1e-4)
    assert out.action_map_logits.shape == (2, 4, 5, h, w)
    assert out.state is None
    # CenterNet's prior: the heatmap starts around sigmoid(-2.19) = 0.1
    assert 0.02 < float(torch.sigmoid(out.heatmap_logits).mean()) < 0.3
    # any T works (the last window of a video is shorter)
    with torch.no_grad():
        assert bidirectional(clip[:1, :1]).alpha.shape == (1, 1, h, w)


def test_frames_interact_through_time_both_ways(bidirectional):
    clip = torch.rand(1, 4, 3, 64, 96)
    changed = clip.clone()
    changed[:, 3] = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        a, b = bidirectional(clip), bidirectional(changed)
    # frame 0's outputs depend on frame 3 (backward direction), the clip logits too
    assert not torch.allclose(a.heatmap_logits[:, 0], b.heatmap_logits[:, 0])


@pytest.mark.parametrize("bad, message", [
    (torch.rand(4, 3, 64, 96), r"\(B, T, 3, H, W\)"), (torch.rand(1, 4, 1, 64, 96), r"\(B, T, 3, H, W\)"),
    (torch.rand(1, 4, 3, 60, 96), "multiples of 32"), (torch.zeros(1, 4, 3, 64, 96, dtype=torch.uint8), "float"),
])
def test_bad_input_shapes_raise_value_error(bidirectional, bad, message):
    with pytest.raises(ValueError, match=message):
        bidirectional(bad)


def test_state_is_refused_by_bidirectional_model(bidirectional):
    with pytest.raises(ValueError, match="causal"):
        bidirectional(torch.rand(1, 2, 3, 64, 96), state=torch.zeros(1, 64, 8, 12))


def test_causal_windows_with_carried_state_equal_one_pass(causal):
    torch.manual_seed(2)
    video = torch.rand(1, 12, 3, 64, 96)
    with torch.no_grad():
        whole = causal(video)
        state = None
        pieces = []
        for start in range(0, 12, 4):
            out = causal(video[:, start:start + 4], state=state)
            state = out.state
            pieces.append(out)
    assert state.shape == (1, causal.config.temporal_channels, 8, 12)
    for name in ("heatmap_logits", "box_size", "offset", "embedding", "action_map_logits"):
        windowed = torch.cat([getattr(p, name) for p in pieces], dim=1)
        torch.testing.assert_close(windowed, getattr(whole, name), atol=1e-5, rtol=1e-5, msg=name)
    # spatial attention is per frame too
    torch.testing.assert_close(torch.cat([p.alpha for p in pieces], dim=1), whole.alpha, atol=1e-5, rtol=1e-5)
    # the state matters: without it the second window differs
    with torch.no_grad():
        fresh = causal(video[:, 4:8])
    assert not torch.allclose(fresh.heatmap_logits, pieces[1].heatmap_logits, atol=1e-5)
    with pytest.raises(ValueError, match="state"):
        causal(video[:, :4], state=torch.zeros(1, 3, 8, 12))


def test_causal_model_ignores_the_future(causal):
    clip = torch.rand(1, 4, 3, 64, 96)
    changed = clip.clone()
    changed[:, 3] = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        a, b = causal(clip), causal(changed)
    torch.testing.assert_close(a.heatmap_logits[:, :3], b.heatmap_logits[:, :3])


def test_decode_returns_detections_per_frame(bidirectional):
    with torch.no_grad():
        out = bidirectional(torch.rand(2, 3, 3, 64, 96))
    dets = bidirectional.decode(out, score_threshold=0.0, max_detections=7)
    assert len(dets) == 2 and all(len(row) == 3 for row in dets)
    d = dets[1][2]
    assert isinstance(d, Detections) and len(d) == 7
    assert d.boxes.shape == (7, 4) and d.embeddings.shape == (7, bidirectional.config.embed_dim)
    assert d.action_probs.shape == (7, 5)
    assert (d.boxes[:, 0] >= 0).all() and (d.boxes[:, 2] <= 96).all() and (d.boxes[:, 3] <= 64).all()
    assert (d.boxes[:, 2] >= d.boxes[:, 0]).all()
    assert list(d.scores) == sorted(d.scores, reverse=True)


def test_ablation_and_gradients_flow():
    torch.manual_seed(3)
    model = build_model("tiny", hierarchical_attention=False, causal=False, **SMALL)
    assert not any(k.startswith("attention.") for k in model.state_dict())
    out = model(torch.rand(2, 4, 3, 64, 96))
    assert torch.allclose(out.alpha, torch.full_like(out.alpha, 1 / 96))
    loss = out.action_logits.sum() + out.heatmap_logits.sum() + out.box_size.mean() + out.embedding.sum()
    loss.backward()
    for name in ("encoder.conv1.weight", "encoder.spatial_attention.layer3.conv.weight", "fpn.smooth.0.weight",
                 "temporal.gate_logits.0.weight", "temporal.lam_logits.1.weight"):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and float(grad.abs().sum()) > 0, name


def test_build_model_accepts_config_and_overrides():
    config = get_config("tiny", **SMALL)
    model = build_model(config, num_classes=3, embed_dim=8)
    assert model.config.num_classes == 3 and model.config.embed_dim == 8
    assert model.config.input_size == (64, 96)
    with pytest.raises(ValueError, match="unknown"):
        build_model("tiny", colour=True)


def test_paper_config_builds_with_documented_shapes():
    model = build_model("paper", num_classes=101)
    assert model.encoder.stage_channels == (256, 512, 1024, 2048)
    assert model.fpn.lateral[2].in_channels == 2048 and model.fpn.smooth[0].out_channels == 256
    assert model.temporal.gate_logits[0].out_channels == 32 * 9
    assert model.temporal.directions == ("forward", "backward")
    assert model.action_head.fc.out_features == 101


def test_paper_architecture_runs_on_a_small_input():
    # the full paper shape (T=16, 224x224, ResNet-50) takes too long on 2 CPU cores for CI;
    # the same architecture on a small input proves the wiring (channels, groups, both directions)
    torch.manual_seed(4)
    model = build_model("paper", num_classes=4, input_size=(64, 64)).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 2, 3, 64, 64))
    assert out.action_logits.shape == (1, 4) and out.embedding.shape == (1, 2, 128, 8, 8)
    assert out.alpha.shape == (1, 2, 8, 8) and out.state is None
