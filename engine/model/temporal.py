"""Temporal modelling module (paper §3.3, eq. 2): GSPN-style spatial propagation through time.

From the per-frame features F (B, T, D, h, w), 1x1 convolutions predict, per frame and location,

    x        (B, C, T, h, w)          the propagated signal
    gates    (B, G, K*K, T, h, w)     per direction: how much each of the KxK neighbours of the
                                      previous step's state flows into this one (G channel groups)
    lambda   (B, C, T, h, w)          per direction: how much of x enters the state

normalised by ``engine.ops.normalize_gates`` (GSPN's row-stochastic condition: a softmax over the
neighbours inside the frame, so border pixels do not leak into the zero padding; then scaled so the
gates and lambda form a convex combination: the recurrence stays bounded for any T). Then
``engine.ops.propagate`` runs h_t = sum_k w_k * h_{t-1}(neighbour k) + lambda * x_t forward in time
and, unless causal, backward too; the directions are merged by a 1x1 convolution and added to x:

    G = x + Merge([h_forward, h_backward])           (B, T, C, h, w)

Everything except the propagation is per frame, so in causal mode (forward only) a video processed in
non-overlapping windows, each starting from the previous window's ``h_last``, gives the same G as
one pass over the whole video.
"""
from __future__ import annotations

import torch
from torch import nn

LAMBDA_BIAS_INIT = -2.0


class TemporalPropagation(nn.Module):
    """F (B, T, D, h, w), state (B, C, h, w) or None -> (G (B, T, C, h, w), state or None)."""

    def __init__(self, in_channels: int, channels: int, *, kernel_size: int, groups: int, causal: bool,
                 backend: str = "auto") -> None:
        super().__init__()
        if channels % groups:
            raise ValueError(f"groups ({groups}) must divide channels ({channels})")
        self.channels = channels
        self.kernel_size = kernel_size
        self.groups = groups
        self.causal = causal
        self.backend = backend
        self.directions = ("forward",) if causal else ("forward", "backward")
        self.input = nn.Conv2d(in_channels, channels, kernel_size=1)
        # one predictor per direction, indexed like ``directions`` (0 = forward in time, 1 = backward)
        self.gate_logits = nn.ModuleList(
            nn.Conv2d(in_channels, groups * kernel_size * kernel_size, kernel_size=1) for _ in self.directions)
        self.lam_logits = nn.ModuleList(nn.Conv2d(in_channels, channels, kernel_size=1) for _ in self.directions)
        self.merge = nn.Conv2d(len(self.directions) * channels, channels, kernel_size=1)
        for conv in self.lam_logits:
            # lambda starts near sigmoid(-2) = 0.12: the state keeps most of its past (long memory)
            nn.init.constant_(conv.bias, LAMBDA_BIAS_INIT)

    def forward(self, features: torch.Tensor, *, state: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if features.ndim != 5:
            raise ValueError(f"features must be (B, T, D, h, w), got shape {tuple(features.shape)}")
        b, t, d, h, w = features.shape
        if state is not None:
            if not self.causal:
                raise ValueError("state is only carried by a causal model (config causal=True)")
            if tuple(state.shape) != (b, self.channels, h, w):
                raise ValueError(f"state must be (B, C, h, w) = {(b, self.channels, h, w)}, "
                                 f"got {tuple(state.shape)}")
        from engine import ops  # the propagation op (its triton backend is itself imported lazily)

        frames = features.reshape(b * t, d, h, w)
        kk = self.kernel_size * self.kernel_size

        def to_bcthw(y: torch.Tensor) -> torch.Tensor:   # (B*T, C, h, w) -> (B, C, T, h, w)
            return y.reshape(b, t, y.shape[1], h, w).transpose(1, 2)

        x = to_bcthw(self.input(frames))
        outputs = []
        new_state = None
        for index, direction in enumerate(self.directions):
            gate_logits = to_bcthw(self.gate_logits[index](frames)).reshape(b, self.groups, kk, t, h, w)
            lam_logits = to_bcthw(self.lam_logits[index](frames))
            gates, lam = ops.normalize_gates(gate_logits, lam_logits)
            reverse = direction == "backward"
            hidden, h_last = ops.propagate(x, gates, lam, h0=state if not reverse else None, reverse=reverse,
                                           backend=self.backend)
            outputs.append(hidden)
            if not reverse:
                new_state = h_last
        merged = torch.cat(outputs, dim=1).transpose(1, 2).reshape(b * t, -1, h, w)
        g = x.transpose(1, 2).reshape(b * t, self.channels, h, w) + self.merge(merged)
        return g.reshape(b, t, self.channels, h, w), (new_state if self.causal else None)
