"""encode_targets and decode_detections use the same conventions: encoding then decoding gives the boxes back."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.model.decode import decode_detections
from engine.model.outputs import ModelOutput
from engine.model.targets import draw_gaussian, encode_targets, gaussian_radius

INPUT = (64, 96)  # (H, W) -> grid (8, 12) at stride 8


def _as_output(targets: dict[str, torch.Tensor], *, embed_dim: int = 4, classes: int = 3) -> ModelOutput:
    """Turn targets of one clip into the model output that predicts them perfectly (B = 1)."""
    heat = targets["heatmap"].clamp(1e-6, 1 - 1e-6)
    t, _, h, w = heat.shape
    size = torch.zeros(t, 2, h * w)
    offset = torch.zeros(t, 2, h * w)
    actions = torch.zeros(t, classes, h * w)
    for ti in range(t):
        for k in np.flatnonzero(targets["mask"][ti].numpy()):
            cell = int(targets["index"][ti, k])
            size[ti, :, cell] = targets["size"][ti, k]
            offset[ti, :, cell] = targets["offset"][ti, k]
            actions[ti, int(targets["actor_labels"][ti, k]), cell] = 10.0
    embedding = torch.nn.functional.normalize(torch.randn(1, t, embed_dim, h, w), dim=2)
    return ModelOutput(action_logits=torch.zeros(1, classes), alpha=torch.full((1, t, h, w), 1 / (h * w)),
                       beta=torch.full((1, t), 1 / t), heatmap_logits=torch.logit(heat).unsqueeze(0),
                       box_size=size.view(1, t, 2, h, w), offset=offset.view(1, t, 2, h, w),
                       embedding=embedding, action_map_logits=actions.view(1, t, classes, h, w))


def test_encode_layout():
    boxes = [np.array([[10.0, 20.0, 30.0, 52.0], [60.0, 0.0, 90.0, 30.0]]), np.zeros((0, 4))]
    out = encode_targets(boxes, [np.array([3, 5]), np.zeros(0)], input_size=INPUT, stride=8)
    assert out["heatmap"].shape == (2, 1, 8, 12) and out["index"].shape == (2, 2)
    assert out["mask"].tolist() == [[True, True], [False, False]]
    # box 0: centre (20, 36) px -> (2.5, 4.5) cells -> cell (x=2, y=4), offset (0.5, 0.5)
    assert int(out["index"][0, 0]) == 4 * 12 + 2
    assert out["offset"][0, 0].tolist() == [0.5, 0.5]
    assert out["size"][0, 0].tolist() == [20.0, 32.0]
    assert out["ids"][0].tolist() == [3, 5] and out["ids"][1].tolist() == [-1, -1]
    assert float(out["heatmap"][0, 0, 4, 2]) == 1.0 and float(out["heatmap"][0, 0, 1, 9]) == 1.0
    assert float(out["heatmap"][1].max()) == 0.0
    assert "actor_labels" not in out
    assert int(gaussian_radius(32 / 8, 20 / 8)) == 0      # small box: a single hot cell
    assert float(out["heatmap"][0, 0, 4, 3]) == 0.0
    r = int(gaussian_radius(30 / 8, 30 / 8))             # box 1: radius 1, sigma 0.5, centre cell (9, 1)
    assert r == 1
    sigma = (2 * r + 1) / 6
    assert float(out["heatmap"][0, 0, 1, 10]) == pytest.approx(np.exp(-1 / (2 * sigma ** 2)), rel=1e-6)
    assert float(out["heatmap"][0, 0, 1, 11]) == 0.0


def test_boxes_are_clipped_and_slots_capped():
    boxes = [np.array([[-10.0, -10.0, 10.0, 10.0], [200.0, 10.0, 300.0, 20.0], [0, 0, 8, 8], [8, 8, 16, 16]])]
    out = encode_targets(boxes, None, input_size=INPUT, max_objects=2)
    assert out["mask"].tolist() == [[True, True]]      # the box outside the input is dropped; 3rd capped
    assert out["size"][0, 0].tolist() == [10.0, 10.0]  # clipped to [0, 10]
    with pytest.raises(ValueError, match="multiples"):
        encode_targets(boxes, None, input_size=(60, 96))
    with pytest.raises(ValueError, match="ids"):
        encode_targets(boxes, [np.zeros(2)], input_size=INPUT)


def test_encode_decode_round_trip():
    rng = np.random.default_rng(0)
    boxes_per_frame, labels_per_frame = [], []
    for _ in range(3):
        cells = rng.choice(8 * 12, size=4, replace=False)
        centres = np.stack([(cells % 12 + rng.uniform(0.05, 0.95, 4)) * 8, (cells // 12 + rng.uniform(0.05, 0.95, 4)) * 8], 1)
        sizes = rng.uniform(4, 30, (4, 2))
        boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], 1)
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, 96)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, 64)
        boxes_per_frame.append(boxes)
        labels_per_frame.append(rng.integers(0, 3, 4))
    targets = encode_targets(boxes_per_frame, [np.arange(4)] * 3, input_size=INPUT, stride=8,
                             actor_labels_per_frame=labels_per_frame)
    output = _as_output(targets)
    decoded = decode_detections(output, stride=8, score_threshold=0.99, max_detections=10)
    assert len(decoded) == 1 and len(decoded[0]) == 3
    for t, dets in enumerate(decoded[0]):
        assert len(dets) == 4
        assert dets.boxes.dtype == np.float32 and dets.embeddings.shape == (4, 4)
        order = [int(np.argmin(np.abs(boxes_per_frame[t] - box).sum(1))) for box in dets.boxes]
        assert sorted(order) == [0, 1, 2, 3]
        np.testing.assert_allclose(dets.boxes, boxes_per_frame[t][order], atol=1e-3)
        np.testing.assert_array_equal(dets.action_probs.argmax(1), labels_per_frame[t][order])
        np.testing.assert_allclose(np.linalg.norm(dets.embeddings, axis=1), 1.0, rtol=1e-5)


def test_decode_nms_threshold_and_top_k():
    heat = np.zeros((8, 12), np.float32)
    draw_gaussian(heat, (3, 3), 2)
    draw_gaussian(heat, (9, 5), 1)
    logits = torch.logit(torch.from_numpy(heat).clamp(1e-6, 1 - 1e-6)).view(1, 1, 1, 8, 12)
    logits[0, 0, 0, 5, 9] = 0.0  # second peak scores 0.5
    zeros = torch.zeros(1, 1, 2, 8, 12)
    output = ModelOutput(action_logits=torch.zeros(1, 2), alpha=torch.zeros(1, 1, 8, 12), beta=torch.ones(1, 1),
                         heatmap_logits=logits, box_size=zeros + 8, offset=zeros + 0.5,
                         embedding=torch.ones(1, 1, 1, 8, 12), action_map_logits=torch.zeros(1, 1, 2, 8, 12))
    dets = decode_detections(output, stride=8, score_threshold=0.1)[0][0]
    assert len(dets) == 2  # the Gaussians' shoulders are suppressed by the 3x3 max-pool
    np.testing.assert_allclose(dets.scores, [1.0, 0.5], atol=1e-5)
    np.testing.assert_allclose(dets.boxes[0], [24, 24, 32, 32])
    assert len(decode_detections(output, stride=8, score_threshold=0.6)[0][0]) == 1
    assert len(decode_detections(output, stride=8, score_threshold=0.1, max_detections=1)[0][0]) == 1
    with pytest.raises(ValueError, match="heatmap_logits"):
        decode_detections(ModelOutput(**{**output.__dict__, "heatmap_logits": logits[0]}), stride=8)
