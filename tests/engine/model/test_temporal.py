"""The temporal module wires normalize_gates and propagate as documented (forward + backward, merged)."""
from __future__ import annotations

import pytest
import torch

from engine.model.temporal import TemporalPropagation
from engine.ops import normalize_gates, propagate


def _by_hand(module: TemporalPropagation, features: torch.Tensor, state=None) -> torch.Tensor:
    b, t, d, h, w = features.shape
    frames = features.reshape(b * t, d, h, w)

    def per_frame(conv):
        y = conv(frames)
        return y.reshape(b, t, -1, h, w).permute(0, 2, 1, 3, 4)   # (B, C, T, h, w)

    x = per_frame(module.input)
    hidden = []
    for index, reverse in enumerate([False, True][:len(module.directions)]):
        gates = per_frame(module.gate_logits[index]).reshape(b, module.groups, -1, t, h, w)
        wts, lam = normalize_gates(gates, per_frame(module.lam_logits[index]))
        hidden.append(propagate(x, wts, lam, h0=None if reverse else state, reverse=reverse,
                                backend="reference")[0])
    merged = module.merge(torch.cat(hidden, 1).permute(0, 2, 1, 3, 4).reshape(b * t, -1, h, w))
    return x.permute(0, 2, 1, 3, 4) + merged.reshape(b, t, -1, h, w)


@pytest.mark.parametrize("causal", [False, True])
def test_module_equals_the_documented_composition(causal):
    torch.manual_seed(0)
    module = TemporalPropagation(6, 8, kernel_size=3, groups=4, causal=causal, backend="torch").double()
    features = torch.randn(2, 5, 6, 4, 7, dtype=torch.float64)
    state = torch.randn(2, 8, 4, 7, dtype=torch.float64) if causal else None
    with torch.no_grad():
        g, new_state = module(features, state=state)
        expected = _by_hand(module, features, state)
    torch.testing.assert_close(g, expected)
    assert g.shape == (2, 5, 8, 4, 7)
    assert (new_state is None) == (not causal)


def test_long_sequences_stay_bounded():
    torch.manual_seed(1)
    module = TemporalPropagation(4, 4, kernel_size=3, groups=2, causal=True)
    features = torch.randn(1, 300, 4, 5, 5)
    with torch.no_grad():
        g, state = module(features)
        x = module.input(features.reshape(300, 4, 5, 5))
    # GSPN's stability condition (normalize_gates): the state is a sub-convex mix of inputs
    assert torch.isfinite(g).all() and float(state.abs().max()) <= float(x.abs().max()) + 1e-5
