"""The Triton propagation as a torch.autograd.Function (forward and backward are Triton kernels)."""
from __future__ import annotations

import os

import torch
from torch.autograd.function import once_differentiable

from engine.ops.propagation import triton_kernel


class TritonPropagation(torch.autograd.Function):
    """apply(x, w, lam, h0 or None, reverse, block_size or None) -> (h, h_last). Saves x, w, lam, h."""

    @staticmethod
    def forward(ctx, x, w, lam, h0, reverse, block_size):
        x, w, lam = x.contiguous(), w.contiguous(), lam.contiguous()
        batch, channels, _, height, width = x.shape
        h0_f32 = (torch.zeros(batch, channels, height, width, device=x.device, dtype=torch.float32)
                  if h0 is None else h0.to(torch.float32).contiguous())
        h, h_last = triton_kernel.forward(x, w, lam, h0_f32, reverse=reverse, block_size=block_size)
        ctx.save_for_backward(x, w, lam, h0_f32, h)
        ctx.reverse = reverse
        ctx.block_size = block_size
        ctx.h0_dtype = None if h0 is None else h0.dtype
        return h, h_last

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_h, grad_last):
        x, w, lam, h0_f32, h = ctx.saved_tensors
        grad_h = torch.zeros_like(h) if grad_h is None else grad_h.to(h.dtype).contiguous()
        grad_last = (torch.zeros_like(h[:, :, 0]) if grad_last is None
                     else grad_last.to(h.dtype).contiguous())
        dx, dw, dlam, dh0 = triton_kernel.backward(x, w, lam, h0_f32, h, grad_h, grad_last, reverse=ctx.reverse,
                                                   need_w=ctx.needs_input_grad[1], block_size=ctx.block_size)
        dh0 = None if ctx.h0_dtype is None or not ctx.needs_input_grad[3] else dh0.to(ctx.h0_dtype)
        return dx, dw, dlam, dh0, None, None


def propagate_triton(x: torch.Tensor, w: torch.Tensor, lam: torch.Tensor, *, h0: torch.Tensor | None = None,
                     reverse: bool = False, block_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Triton backend (inputs validated by ``propagate``). CUDA tensors, or CPU ones under TRITON_INTERPRET=1.

    ``block_size`` (a power of two) overrides the spatial block, for tests that need several blocks.
    """
    if not x.is_cuda and os.environ.get("TRITON_INTERPRET") != "1":
        raise ValueError(f"propagate: the triton backend needs CUDA tensors, got {x.device} "
                         f"(or set TRITON_INTERPRET=1 for Triton's slow CPU interpreter)")
    return TritonPropagation.apply(x, w, lam, h0, bool(reverse), block_size)
