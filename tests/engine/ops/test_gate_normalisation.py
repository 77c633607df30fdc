"""normalize_gates renormalises over the taps inside the frame (GSPN), so border pixels do not leak."""
from __future__ import annotations

import pytest
import torch

from engine.ops import normalize_gates, propagate
from engine.ops.propagation.reference import stencil_offsets


def normalize_gates_loop(gate_logits: torch.Tensor, lam_logits: torch.Tensor):
    """The documented formula pixel by pixel: softmax over the in-frame taps, times 1 - the group's max lam."""
    batch, groups, taps, steps, height, width = gate_logits.shape
    per_group = lam_logits.shape[1] // groups
    lam = torch.sigmoid(lam_logits)
    w = torch.zeros_like(gate_logits)
    offsets = stencil_offsets(int(round(taps ** 0.5)))
    for b in range(batch):
        for g in range(groups):
            for t in range(steps):
                for i in range(height):
                    for j in range(width):
                        inside = [k for k, (di, dj) in enumerate(offsets)
                                  if 0 <= i + di < height and 0 <= j + dj < width]
                        weights = torch.softmax(gate_logits[b, g, inside, t, i, j], dim=0)
                        keep = 1 - lam[b, g * per_group:(g + 1) * per_group, t, i, j].max()
                        w[b, g, inside, t, i, j] = weights * keep
    return w, lam


@pytest.mark.parametrize("kernel_size,height,width", [(3, 4, 5), (5, 3, 6), (1, 2, 2), (3, 1, 1)])
def test_matches_the_pixel_by_pixel_formula(kernel_size, height, width):
    gen = torch.Generator().manual_seed(0)
    gate_logits = 3 * torch.randn(2, 2, kernel_size ** 2, 2, height, width, generator=gen, dtype=torch.float64)
    lam_logits = 3 * torch.randn(2, 4, 2, height, width, generator=gen, dtype=torch.float64)
    w, lam = normalize_gates(gate_logits, lam_logits)
    w_loop, lam_loop = normalize_gates_loop(gate_logits, lam_logits)
    torch.testing.assert_close(w, w_loop)
    torch.testing.assert_close(lam, lam_loop)


def test_taps_outside_the_frame_get_exactly_zero_weight_and_zero_gradient():
    gen = torch.Generator().manual_seed(1)
    gate_logits = torch.randn(1, 1, 9, 1, 3, 4, generator=gen, requires_grad=True)
    w, lam = normalize_gates(gate_logits, torch.randn(1, 1, 1, 3, 4, generator=gen))
    # top-left pixel: only taps (0,0), (0,1), (1,0), (1,1) of the 3x3 stencil (k = 4, 5, 7, 8) exist
    corner = w[0, 0, :, 0, 0, 0]
    assert (corner[[0, 1, 2, 3, 6]] == 0).all()
    torch.testing.assert_close(corner.sum() + lam[0, 0, 0, 0, 0], torch.tensor(1.0))
    (w * torch.randn(w.shape, generator=gen)).sum().backward()
    assert torch.isfinite(gate_logits.grad).all()
    assert (gate_logits.grad[0, 0, [0, 1, 2, 3, 6], 0, 0, 0] == 0).all()


@pytest.mark.parametrize("backend", ["reference", "torch"])
def test_a_constant_signal_stays_constant_at_the_border(backend):
    """Per-group lam makes every update an exact convex combination: x = h0 = c gives h = c at every
    pixel and step. With the softmax over all K*K taps the border pixels would give the zero padding
    outside the frame part of their weight and decay towards 0."""
    gen = torch.Generator().manual_seed(2)
    steps, height, width = 40, 4, 5
    w, lam = normalize_gates(3 * torch.randn(1, 2, 9, steps, height, width, generator=gen, dtype=torch.float64),
                             3 * torch.randn(1, 2, steps, height, width, generator=gen, dtype=torch.float64))
    x = torch.full((1, 2, steps, height, width), 0.7, dtype=torch.float64)
    h, h_last = propagate(x, w, lam, h0=x[:, :, 0], backend=backend)
    torch.testing.assert_close(h, x)
    torch.testing.assert_close(h_last, x[:, :, 0])


def test_rejects_a_tap_count_that_is_not_an_odd_square():
    with pytest.raises(ValueError, match="K\\*K for an odd K"):
        normalize_gates(torch.zeros(1, 1, 4, 1, 2, 2), torch.zeros(1, 1, 1, 2, 2))
