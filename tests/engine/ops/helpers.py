"""Random inputs for the propagation tests."""
from __future__ import annotations

import torch


def make_inputs(*, batch=1, channels=4, steps=3, height=5, width=7, kernel_size=3, groups=2,
                dtype=torch.float32, with_h0=True, seed=0, requires_grad=False):
    """x, w, lam, h0 with magnitudes that keep h O(1) (w roughly normalised), on the CPU."""
    gen = torch.Generator().manual_seed(seed)
    taps = kernel_size * kernel_size
    x = torch.randn(batch, channels, steps, height, width, generator=gen, dtype=torch.float64)
    w = torch.randn(batch, groups, taps, steps, height, width, generator=gen, dtype=torch.float64) / taps
    lam = torch.rand(batch, channels, steps, height, width, generator=gen, dtype=torch.float64)
    h0 = torch.randn(batch, channels, height, width, generator=gen, dtype=torch.float64) if with_h0 else None
    tensors = [t if t is None else t.to(dtype).requires_grad_(requires_grad) for t in (x, w, lam, h0)]
    return tuple(tensors)
