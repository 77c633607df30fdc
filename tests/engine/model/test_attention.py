"""Hierarchical attention is exactly eqs 3-5, and its ablation is mean pooling."""
from __future__ import annotations

import torch

from engine.model.attention import HierarchicalAttention


def test_alpha_beta_normalised_and_r_by_hand():
    torch.manual_seed(0)
    b, t, c, h, w = 2, 3, 5, 4, 6
    attn = HierarchicalAttention(c)
    g = torch.randn(b, t, c, h, w, dtype=torch.float64)
    attn.double()
    with torch.no_grad():
        r, alpha, beta = attn(g)
    assert alpha.shape == (b, t, h, w) and beta.shape == (b, t) and r.shape == (b, c)
    assert torch.allclose(alpha.sum(dim=(2, 3)), torch.ones(b, t, dtype=torch.float64))
    assert torch.allclose(beta.sum(dim=1), torch.ones(b, dtype=torch.float64))
    ws, bs = attn.spatial.weight.detach().view(c), attn.spatial.bias.item()
    wt, bt = attn.temporal.weight.detach().view(c), attn.temporal.bias.item()
    for bi in range(b):
        temporal_logits = []
        per_frame = []
        for ti in range(t):
            gt = g[bi, ti]                                       # (C, h, w)
            s = [[float(ws @ gt[:, i, j]) + bs for j in range(w)] for i in range(h)]
            s = torch.tensor(s, dtype=torch.float64)
            a = torch.exp(s) / torch.exp(s).sum()                # eq. 3, softmax over (i, j)
            assert torch.allclose(alpha[bi, ti], a)
            per_frame.append(sum(a[i, j] * gt[:, i, j] for i in range(h) for j in range(w)))
            temporal_logits.append(float(wt @ gt.mean(dim=(1, 2))) + bt)
        z = torch.tensor(temporal_logits, dtype=torch.float64)
        be = torch.exp(z) / torch.exp(z).sum()                   # eq. 4
        assert torch.allclose(beta[bi], be)
        expected = sum(be[ti] * per_frame[ti] for ti in range(t))  # eq. 5
        assert torch.allclose(r[bi], expected)


def test_ablation_is_mean_pooling_without_parameters():
    attn = HierarchicalAttention(5, enabled=False)
    assert not list(attn.parameters())
    g = torch.randn(2, 3, 5, 4, 6)
    r, alpha, beta = attn(g)
    assert torch.allclose(alpha, torch.full_like(alpha, 1 / 24))
    assert torch.allclose(beta, torch.full_like(beta, 1 / 3))
    assert torch.allclose(r, g.mean(dim=(1, 3, 4)), atol=1e-6)
