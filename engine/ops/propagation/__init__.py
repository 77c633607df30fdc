"""Spatial-temporal propagation: h_t = sum_k w_k,t * shift_k(h_{t-1}) + lam_t * x_t.

Files: ``reference.py`` (the spec as a readable loop), ``torch_impl.py`` (vectorised torch, autograd
native), ``triton_kernel.py`` + ``function.py`` (CUDA kernel, one launch for all T, custom autograd),
``dispatch.py`` (the public ``propagate``: validation + backend choice), ``gates.py`` (logits -> weights).
"""
from __future__ import annotations

from engine.ops.propagation.dispatch import BACKENDS, propagate
from engine.ops.propagation.gates import normalize_gates

__all__ = ["BACKENDS", "normalize_gates", "propagate"]
