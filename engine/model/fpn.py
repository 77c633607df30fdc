"""Feature pyramid fusion of C3, C4, C5 to one stride-8 map (Lin et al., "Feature Pyramid Networks", 2017).

Lateral 1x1 convolutions bring each stage to ``channels``; the top-down path upsamples (nearest) and
adds, coarse to fine; a 3x3 convolution (+ BN, ReLU) smooths the finest level P3, which is the output.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.model.backbone import conv_bn


class FPN(nn.Module):
    """(C3, C4, C5) at strides 8/16/32 -> (N, channels, H/8, W/8)."""

    def __init__(self, in_channels: tuple[int, int, int], channels: int) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(c, channels, kernel_size=1) for c in in_channels)
        self.smooth = nn.Sequential(nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False),
                                    nn.BatchNorm2d(channels), nn.ReLU(inplace=True))

    def forward(self, features: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> torch.Tensor:
        c3, c4, c5 = features
        p = self.lateral[2](c5)
        p = self.lateral[1](c4) + F.interpolate(p, size=c4.shape[-2:], mode="nearest")
        p = self.lateral[0](c3) + F.interpolate(p, size=c3.shape[-2:], mode="nearest")
        return self.smooth[2](conv_bn(self.smooth[0], self.smooth[1], p))
