"""Hierarchical attention, exactly the paper's equations 3-5 (§3.4), on the temporal output G.

    alpha[t, i, j] = softmax over (i, j) of (W_s · G[t, :, i, j] + b_s)            (3)
    beta[t]        = softmax over t of (W_t · GlobalPool(G[t]) + b_t)               (4)
    R              = sum_t beta[t] sum_{i,j} alpha[t, i, j] G[t, :, i, j]            (5)

W_s is a 1x1 convolution C -> 1 (a linear map of each location's feature vector), GlobalPool is the
spatial mean, W_t a linear map C -> 1. With ``enabled=False`` (the paper's ablation) there are no
parameters and alpha = 1/(h w), beta = 1/T, so R is the plain mean over time and space.
"""
from __future__ import annotations

import torch
from torch import nn


class HierarchicalAttention(nn.Module):
    def __init__(self, channels: int, *, enabled: bool = True) -> None:
        super().__init__()
        self.enabled = enabled
        if enabled:
            self.spatial = nn.Conv2d(channels, 1, kernel_size=1)   # W_s, b_s
            self.temporal = nn.Linear(channels, 1)                  # W_t, b_t

    def forward(self, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """G (B, T, C, h, w) -> (R (B, C), alpha (B, T, h, w), beta (B, T))."""
        if g.ndim != 5:
            raise ValueError(f"G must be (B, T, C, h, w), got shape {tuple(g.shape)}")
        b, t, c, h, w = g.shape
        if self.enabled:
            logits = self.spatial(g.reshape(b * t, c, h, w)).reshape(b, t, h * w)
            alpha = torch.softmax(logits.float(), dim=-1).to(g.dtype).reshape(b, t, h, w)
            pooled = g.mean(dim=(3, 4))                                     # GlobalPool(G_t): (B, T, C)
            beta = torch.softmax(self.temporal(pooled).squeeze(-1).float(), dim=-1).to(g.dtype)
        else:
            alpha = g.new_full((b, t, h, w), 1.0 / (h * w))
            beta = g.new_full((b, t), 1.0 / t)
        per_frame = torch.einsum("btchw,bthw->btc", g, alpha)              # sum_ij alpha G
        r = torch.einsum("btc,bt->bc", per_frame, beta)                     # sum_t beta (...)
        return r, alpha, beta
