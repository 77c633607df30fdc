"""Losses of the unified model: values on hand-made cases, masks, and gradients."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from engine.train.losses import (LossWeights, compute_losses, focal_heatmap_loss, gather_at, masked_l1,
                                 reid_loss, track_action_loss)


def test_focal_loss_matches_centernet_formula_on_one_centre():
    target = torch.tensor([[1.0, 0.5], [0.0, 0.0]])
    logits = torch.tensor([[2.0, -1.0], [0.5, -3.0]])
    p = torch.sigmoid(logits)
    pos = -math.log(p[0, 0]) * (1 - p[0, 0]) ** 2
    neg = -sum(math.log(1 - p[i, j]) * p[i, j] ** 2 * (1 - target[i, j]) ** 4
               for i, j in [(0, 1), (1, 0), (1, 1)])
    got = focal_heatmap_loss(logits, target)
    assert got.item() == pytest.approx(float(pos + neg), rel=1e-5)


def test_focal_loss_is_small_for_a_confident_correct_prediction_and_stable_in_half():
    target = torch.zeros(1, 2, 1, 8, 8)
    target[0, :, 0, 3, 4] = 1.0
    good = torch.full_like(target, -12.0)
    good[target == 1] = 12.0
    assert focal_heatmap_loss(good, target).item() < 1e-6
    bad = -good
    assert focal_heatmap_loss(bad, target).item() > 10
    assert torch.isfinite(focal_heatmap_loss(bad.half(), target.half()))


def test_focal_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="differ"):
        focal_heatmap_loss(torch.zeros(1, 4), torch.zeros(1, 5))


def test_gather_at_picks_the_flat_cell():
    feature = torch.arange(2 * 1 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 1, 3, 4, 5)
    index = torch.tensor([[[0, 7]], [[19, 6]]])
    got = gather_at(feature, index)
    assert got.shape == (2, 1, 2, 3)
    assert torch.equal(got[0, 0, 1], feature[0, 0, :, 1, 2])
    assert torch.equal(got[1, 0, 0], feature[1, 0, :, 3, 4])


def test_masked_l1_ignores_empty_slots():
    pred = torch.tensor([[[[1.0, 2.0], [100.0, 100.0]]]])
    target = torch.tensor([[[[2.0, 4.0], [0.0, 0.0]]]])
    mask = torch.tensor([[[True, False]]])
    assert masked_l1(pred, target, mask).item() == pytest.approx(1.5)


def test_reid_loss_prefers_separated_identities_and_remaps_per_sample():
    ids = torch.tensor([[[0, 1], [0, 1]], [[0, 1], [0, 1]]])  # (B=2, T=2, M=2): 4 batch identities
    mask = torch.ones_like(ids, dtype=torch.bool)
    separated = torch.zeros(2, 2, 2, 4)
    for b in range(2):
        for m in range(2):
            separated[b, :, m, 2 * b + m] = 1.0
    mixed = torch.ones(2, 2, 2, 4)
    assert reid_loss(separated, ids, mask).item() < reid_loss(mixed, ids, mask).item()
    # a single identity in the batch carries no signal
    one = reid_loss(separated[:1, :, :1], ids[:1, :, :1], mask[:1, :, :1])
    assert one.item() == 0.0


def test_track_action_loss_uses_only_labelled_actors():
    logits = torch.zeros(1, 1, 2, 3, requires_grad=True)
    labels = torch.tensor([[[2, -1]]])
    mask = torch.tensor([[[True, True]]])
    loss = track_action_loss(logits, labels, mask)
    assert loss.item() == pytest.approx(math.log(3))
    loss.backward()
    assert logits.grad[0, 0, 1].abs().sum() == 0
    assert logits.grad[0, 0, 0].abs().sum() > 0


def test_compute_losses_weights_the_parts_and_backpropagates():
    b, t, k, h, w, e = 2, 3, 4, 6, 6, 8
    torch.manual_seed(0)
    out = SimpleNamespace(
        action_logits=torch.randn(b, k, requires_grad=True),
        heatmap_logits=torch.randn(b, t, 1, h, w, requires_grad=True),
        box_size=torch.randn(b, t, 2, h, w, requires_grad=True),
        offset=torch.randn(b, t, 2, h, w, requires_grad=True),
        embedding=torch.randn(b, t, e, h, w, requires_grad=True),
        action_map_logits=torch.randn(b, t, k, h, w, requires_grad=True),
    )
    heatmap = torch.zeros(b, t, 1, h, w)
    heatmap[:, :, 0, 2, 3] = 1.0
    heatmap[:, :, 0, 4, 1] = 1.0
    batch = {
        "label": torch.tensor([1, 3]),
        "heatmap": heatmap,
        "index": torch.tensor([2 * w + 3, 4 * w + 1]).expand(b, t, 2).clone(),
        "mask": torch.ones(b, t, 2, dtype=torch.bool),
        "size": torch.rand(b, t, 2, 2) * 20,
        "offset": torch.rand(b, t, 2, 2),
        "ids": torch.tensor([0, 1]).expand(b, t, 2).clone(),
        "actor_labels": torch.tensor([1, 2]).expand(b, t, 2).clone(),
    }
    weights = LossWeights()
    total, parts = compute_losses(out, batch, weights=weights)
    assert set(parts) == {"action", "heatmap", "size", "offset", "reid", "track_action"}
    expected = sum(getattr(weights, name) * value for name, value in parts.items())
    assert total.item() == pytest.approx(expected, rel=1e-5)
    total.backward()
    for name in ("action_logits", "heatmap_logits", "box_size", "offset", "embedding", "action_map_logits"):
        assert getattr(out, name).grad.abs().sum() > 0, name
    action_only, parts = compute_losses(out, {"label": batch["label"]})
    assert set(parts) == {"action"}
    with pytest.raises(ValueError, match="label"):
        compute_losses(out, {"label": torch.tensor([1])})


def test_reid_identities_are_keyed_by_source_clip_not_batch_row():
    """Two windows of one clip are the same identities: never pushed apart as negatives."""
    ids = torch.tensor([[[0, 1]], [[0, 1]]])  # (B=2, T=1, M=2)
    mask = torch.ones_like(ids, dtype=torch.bool)
    emb = torch.zeros(2, 1, 2, 4)
    emb[:, 0, 0, 0] = 1.0  # track 0 looks the same in both windows, so does track 1
    emb[:, 0, 1, 1] = 1.0
    same_clip = reid_loss(emb, ids, mask, source=torch.tensor([5, 5]), margin=0.0)
    other_clips = reid_loss(emb, ids, mask, source=torch.tensor([5, 6]), margin=0.0)
    # as 2 identities each at its own prototype vs 4 identities whose prototypes coincide in pairs
    assert same_clip.item() < 1e-3 < other_clips.item()
    assert other_clips.item() == pytest.approx(math.log(1 + math.exp(0.0)), rel=1e-3)


def test_reid_margin_asks_for_more_than_classification():
    ids = torch.tensor([[[0, 1]]])
    mask = torch.ones_like(ids, dtype=torch.bool)
    emb = torch.tensor([[[[1.0, 0.0], [0.6, 0.8]]]])  # cosine 0.6 between the two identities
    plain = reid_loss(emb, ids, mask, margin=0.0, scale=16.0).item()
    margin = reid_loss(emb, ids, mask, margin=0.3, scale=16.0).item()
    assert plain == pytest.approx(math.log(1 + math.exp(-16 * 0.4)), rel=1e-4)
    assert margin == pytest.approx(math.log(1 + math.exp(-16 * 0.1)), rel=1e-4)
