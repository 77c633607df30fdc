"""With normalised gates the recurrence stays bounded for long sequences."""
from __future__ import annotations

import torch

from engine.ops import normalize_gates, propagate


def test_convex_combination_keeps_h_within_max_abs_x_for_2000_steps():
    batch, channels, steps, height, width, taps = 1, 2, 2000, 4, 5, 9
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, channels, steps, height, width, generator=gen)
    lam = torch.rand(batch, channels, steps, height, width, generator=gen) * 0.2
    # G = C, softmax over k scaled so that sum_k w = 1 - lam exactly
    logits = 3 * torch.randn(batch, channels, taps, steps, height, width, generator=gen)
    w = torch.softmax(logits, dim=2) * (1 - lam).unsqueeze(2)
    torch.testing.assert_close(w.sum(2) + lam, torch.ones_like(lam))
    h, h_last = propagate(x, w, lam, backend="torch")
    bound = x.abs().max()
    assert h.abs().max() <= bound * (1 + 1e-5)
    assert torch.isfinite(h).all()
    # and the state does not die out: the input keeps feeding it
    assert h[:, :, -100:].abs().mean() > 0.01


def test_normalize_gates_gives_bounded_weights_for_grouped_gates():
    batch, groups, channels, taps, steps, height, width = 2, 2, 6, 9, 3, 4, 5
    gen = torch.Generator().manual_seed(0)
    gate_logits = 5 * torch.randn(batch, groups, taps, steps, height, width, generator=gen)
    lam_logits = 5 * torch.randn(batch, channels, steps, height, width, generator=gen)
    w, lam = normalize_gates(gate_logits, lam_logits)
    assert w.shape == gate_logits.shape and lam.shape == lam_logits.shape
    assert (w >= 0).all() and (lam > 0).all() and (lam < 1).all()
    per_channel_total = w.sum(2).repeat_interleave(channels // groups, dim=1) + lam
    assert (per_channel_total <= 1 + 1e-6).all()
    # the channel with the largest lam in each group gets an exact convex combination
    largest = per_channel_total.reshape(batch, groups, channels // groups, steps, height, width).amax(2)
    torch.testing.assert_close(largest, torch.ones_like(largest))


def test_normalize_gates_with_per_group_lam_is_an_exact_convex_combination():
    gen = torch.Generator().manual_seed(0)
    gate_logits = torch.randn(1, 3, 9, 2, 4, 4, generator=gen)
    lam_logits = torch.randn(1, 3, 2, 4, 4, generator=gen)
    w, lam = normalize_gates(gate_logits, lam_logits)
    torch.testing.assert_close(w.sum(2) + lam, torch.ones_like(lam))


def test_normalized_gates_keep_a_long_grouped_sequence_bounded():
    batch, groups, channels, steps, height, width = 1, 2, 4, 500, 3, 5
    gen = torch.Generator().manual_seed(1)
    w, lam = normalize_gates(4 * torch.randn(batch, groups, 9, steps, height, width, generator=gen),
                             4 * torch.randn(batch, channels, steps, height, width, generator=gen))
    x = torch.randn(batch, channels, steps, height, width, generator=gen)
    h0 = torch.rand(batch, channels, height, width, generator=gen) * 2 - 1
    h, _ = propagate(x, w, lam, h0=h0, backend="torch")
    assert h.abs().max() <= max(x.abs().max(), h0.abs().max()) * (1 + 1e-5)


def test_normalize_gates_rejects_mismatched_shapes():
    import pytest
    with pytest.raises(ValueError, match="must divide"):
        normalize_gates(torch.zeros(1, 3, 9, 2, 4, 4), torch.zeros(1, 4, 2, 4, 4))
    with pytest.raises(ValueError, match="disagree"):
        normalize_gates(torch.zeros(1, 2, 9, 2, 4, 4), torch.zeros(1, 4, 3, 4, 4))
