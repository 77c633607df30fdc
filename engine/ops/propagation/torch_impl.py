"""Vectorised torch propagation: one zero-padded copy of the state per step, K*K shifted views of it.

Only the loop over T remains in Python; autograd differentiates it natively (it saves the padded
state per step, i.e. about one extra copy of h). fp16/bf16 inputs are computed in fp32 (state and
accumulation, like the Triton kernel) and the outputs cast back to the input dtype.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.ops.propagation.reference import stencil_offsets


def propagate_torch(x: torch.Tensor, w: torch.Tensor, lam: torch.Tensor, *,
                    h0: torch.Tensor | None = None, reverse: bool = False
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Same contract as ``propagate_reference`` (inputs assumed validated)."""
    out_dtype = x.dtype
    compute = torch.float32 if out_dtype in (torch.float16, torch.bfloat16) else out_dtype
    x, w, lam = x.to(compute), w.to(compute), lam.to(compute)

    batch, channels, steps, height, width = x.shape
    groups, taps = w.shape[1], w.shape[2]
    kernel_size = int(round(taps ** 0.5))
    r = kernel_size // 2
    offsets = stencil_offsets(kernel_size)
    # group view: (B, G, C/G, ...) state against (B, G, 1, ...) gates broadcasts without copies
    grouped = (batch, groups, channels // groups, height, width)

    # unbind once: indexing x[:, :, t] per step would make autograd build a zero tensor of x's full
    # size for every step in the backward pass (T * K*K of them for w); unbind's backward is one stack
    inputs = (lam * x).unbind(2)
    gates = [per_step.unbind(2) for per_step in w.unbind(3)]  # gates[t][k]: (B, G, H, W)

    previous = x.new_zeros(grouped) if h0 is None else h0.to(compute).reshape(grouped)
    outputs: list[torch.Tensor | None] = [None] * steps
    for t in (reversed(range(steps)) if reverse else range(steps)):
        padded = F.pad(previous, (r, r, r, r)) if r else previous
        current = inputs[t].reshape(grouped)
        for k, (di, dj) in enumerate(offsets):
            neighbour = padded[..., r + di:r + di + height, r + dj:r + dj + width]
            current = current + gates[t][k].unsqueeze(2) * neighbour
        outputs[t] = current.reshape(batch, channels, height, width)
        previous = current
    h = torch.stack(outputs, dim=2)
    h_last = previous.reshape(batch, channels, height, width)
    return h.to(out_dtype), h_last.to(out_dtype)
