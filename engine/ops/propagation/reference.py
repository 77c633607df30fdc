"""The propagation recurrence written as directly as possible: the specification, executable.

    h[:, c, t, i, j] = sum_k w[:, c // (C//G), k, t, i, j] * hp[:, c, i + di_k, j + dj_k] + lam * x

``hp`` is the state of the previous step processed (t-1, or t+1 when ``reverse``), ``h0`` (zeros if
None) before the first; (di_k, dj_k) run over [-r..r] x [-r..r] row-major with r = K // 2, and
neighbours outside the frame contribute 0. Slow (a Python loop over T and over the K*K offsets); it
exists to be read and to check the fast backends against. Inputs are assumed validated (see dispatch).
"""
from __future__ import annotations

import torch


def stencil_offsets(kernel_size: int) -> list[tuple[int, int]]:
    """[(di_0, dj_0), ...] for k = 0 .. K*K-1, row-major over [-r..r] x [-r..r]."""
    r = kernel_size // 2
    return [(di, dj) for di in range(-r, r + 1) for dj in range(-r, r + 1)]


def shifted(plane: torch.Tensor, di: int, dj: int) -> torch.Tensor:
    """out[..., i, j] = plane[..., i + di, j + dj], or 0 where that is outside the frame."""
    height, width = plane.shape[-2:]
    out = torch.zeros_like(plane)
    rows_out = slice(max(0, -di), min(height, height - di))
    cols_out = slice(max(0, -dj), min(width, width - dj))
    rows_in = slice(max(0, di), min(height, height + di))
    cols_in = slice(max(0, dj), min(width, width + dj))
    out[..., rows_out, cols_out] = plane[..., rows_in, cols_in]
    return out


def propagate_reference(x: torch.Tensor, w: torch.Tensor, lam: torch.Tensor, *,
                        h0: torch.Tensor | None = None, reverse: bool = False
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """x, lam (B, C, T, H, W); w (B, G, K*K, T, H, W); h0 (B, C, H, W) or None -> (h, h_last).

    Computed in float32 (float64 for float64 inputs), the outputs cast to x's dtype.
    """
    out_dtype = x.dtype
    compute = torch.float64 if out_dtype == torch.float64 else torch.float32
    x, w, lam = x.to(compute), w.to(compute), lam.to(compute)
    h0 = None if h0 is None else h0.to(compute)
    batch, channels, steps, height, width = x.shape
    groups, taps = w.shape[1], w.shape[2]
    kernel_size = int(round(taps ** 0.5))
    channels_per_group = channels // groups

    previous = torch.zeros_like(x[:, :, 0]) if h0 is None else h0
    outputs: list[torch.Tensor | None] = [None] * steps
    for t in (reversed(range(steps)) if reverse else range(steps)):
        current = lam[:, :, t] * x[:, :, t]
        for k, (di, dj) in enumerate(stencil_offsets(kernel_size)):
            # gate of group g applies to channels g*C/G .. (g+1)*C/G - 1
            gate = w[:, :, k, t].repeat_interleave(channels_per_group, dim=1)
            current = current + gate * shifted(previous, di, dj)
        outputs[t] = current
        previous = current
    return torch.stack(outputs, dim=2).to(out_dtype), previous.to(out_dtype)
