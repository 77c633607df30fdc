"""The two task heads: clip action classification from R, and a per-frame CenterNet/FairMOT tracking head.

Tracking head conventions (``engine.model.targets.encode_targets`` encodes exactly these, and
``engine.model.decode.decode_detections`` inverts them; training and decoding cannot disagree):

* Grid. The head runs on each frame's temporal feature G_t, an (h, w) grid with ``stride`` = 8 input
  pixels per cell: h = H / 8, w = W / 8 for an (H, W) input. Input pixel coordinates are continuous,
  0-based, x2/y2 exclusive; cell (i, j) covers input pixels [j*8, (j+1)*8) x [i*8, (i+1)*8).
* Centre. An object with box [x1, y1, x2, y2] (input pixels) has centre c = ((x1+x2)/2, (y1+y2)/2);
  in cells c / stride; its centre cell is floor(c / stride) (clamped to the grid) and it is trained only there.
* ``heatmap_logits`` (B, T, 1, h, w): one "actor/person" class. Target: per object a Gaussian
  exp(-((x-cx)^2+(y-cy)^2) / (2 sigma^2)) around the integer centre cell, sigma = (2r+1)/6 with
  r = CenterNet's ``gaussian_radius((box_h/stride, box_w/stride), min_overlap=0.7)`` floored, min 0,
  combined over objects by element-wise max; exactly 1 at each centre cell. Loss: CenterNet's focal
  loss. The final conv's bias starts at -2.19 = -log((1-0.1)/0.1) (CenterNet's prior, p = 0.1).
* ``box_size`` (B, T, 2, h, w): the box (width, height) in INPUT pixels, = stride * exp(s) of the raw
  output s (clamped to [-6, 6], i.e. 0.02 .. 3227 px; starts near 8 px). Target: x2-x1, y2-y1.
* ``offset`` (B, T, 2, h, w): sub-cell centre (dx, dy) in cells, = sigmoid(raw), in (0, 1).
  Target: c / stride - floor(c / stride).
* ``embedding`` (B, T, E, h, w): re-ID embedding, L2-normalised over E (FairMOT's identity branch).
* ``action_map_logits`` (B, T, K, h, w): action logits per location, read at a track's centre cell
  to give per-track actions.

Each tracking output is a 3x3 conv (``head_channels``) + ReLU + 1x1 conv on G_t, as in CenterNet.
"""
from __future__ import annotations

import math

import torch
from torch import nn

HEATMAP_PRIOR = 0.1
HEATMAP_BIAS = -math.log((1.0 - HEATMAP_PRIOR) / HEATMAP_PRIOR)   # -2.197
SIZE_LOG_CLAMP = 6.0


def _head(cin: int, hidden: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, hidden, kernel_size=3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(hidden, cout, kernel_size=1))


class ActionHead(nn.Module):
    """R (B, C) -> action logits (B, K): dropout then a linear layer."""

    def __init__(self, channels: int, num_classes: int, *, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(r))


class TrackingHead(nn.Module):
    """G (B, T, C, h, w) -> dict of the per-frame tracking outputs described in the module docstring."""

    def __init__(self, channels: int, *, hidden: int, embed_dim: int, num_classes: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.heatmap = _head(channels, hidden, 1)
        self.box_size = _head(channels, hidden, 2)
        self.offset = _head(channels, hidden, 2)
        self.embedding = _head(channels, hidden, embed_dim)
        self.action_map = _head(channels, hidden, num_classes)
        nn.init.constant_(self.heatmap[-1].bias, HEATMAP_BIAS)
        for head in (self.box_size, self.offset):
            nn.init.normal_(head[-1].weight, std=1e-3)
            nn.init.zeros_(head[-1].bias)

    def forward(self, g: torch.Tensor) -> dict[str, torch.Tensor]:
        b, t, c, h, w = g.shape
        x = g.reshape(b * t, c, h, w)

        def shaped(y: torch.Tensor) -> torch.Tensor:
            return y.reshape(b, t, y.shape[1], h, w)

        size_log = self.box_size(x).float().clamp(-SIZE_LOG_CLAMP, SIZE_LOG_CLAMP)
        return {
            "heatmap_logits": shaped(self.heatmap(x)),
            "box_size": shaped((self.stride * torch.exp(size_log)).to(x.dtype)),
            "offset": shaped(torch.sigmoid(self.offset(x))),
            "embedding": shaped(nn.functional.normalize(self.embedding(x), dim=1)),
            "action_map_logits": shaped(self.action_map(x)),
        }
