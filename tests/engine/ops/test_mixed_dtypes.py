"""propagate takes the dtype mix autocast produces: x and lam in float16/bfloat16 (convolutions), w in
float32 (autocast runs softmax in float32 on CUDA), h0 in float32 (a carried state). Every backend
computes the state in float32 and returns h, h_last in x's dtype and each gradient in its input's dtype.
"""
from __future__ import annotations

import os

import pytest
import torch

from engine.ops import propagate

from .helpers import make_inputs

BACKENDS = ["reference", "torch"]
try:
    import triton  # noqa: F401

    if torch.cuda.is_available() or os.environ.get("TRITON_INTERPRET") == "1":
        BACKENDS.append("triton")
except ImportError:
    pass
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def mixed_inputs(low: torch.dtype, *, with_h0: bool, seed: int = 0):
    x, w, lam, h0 = make_inputs(batch=1, channels=4, groups=2, steps=3, height=5, width=7, seed=seed,
                                dtype=torch.float64, with_h0=with_h0)
    dtypes = (low, torch.float32, low, torch.float32)
    return tuple(None if t is None else t.to(dtype).to(DEVICE).requires_grad_()
                 for t, dtype in zip((x, w, lam, h0), dtypes))


def outputs_and_grads(backend, inputs, reverse):
    x, w, lam, h0 = inputs
    h, h_last = propagate(x, w, lam, h0=h0, reverse=reverse, backend=backend)
    gen = torch.Generator().manual_seed(7)
    loss = ((h.double() * torch.randn(h.shape, generator=gen, dtype=torch.float64).to(h.device)).sum()
            + (h_last.double() * torch.randn(h_last.shape, generator=gen, dtype=torch.float64).to(h.device)).sum())
    present = [t for t in inputs if t is not None]
    return [h, h_last], list(torch.autograd.grad(loss, present))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("low,tol", [(torch.float16, 3e-3), (torch.bfloat16, 2e-2)])
@pytest.mark.parametrize("reverse,with_h0", [(False, True), (True, False)])
def test_low_precision_x_lam_with_float32_gates_match_float64(backend, low, tol, reverse, with_h0):
    inputs = mixed_inputs(low, with_h0=with_h0)
    (h, h_last), grads = outputs_and_grads(backend, inputs, reverse)
    exact = [None if t is None else t.detach().double().requires_grad_() for t in inputs]
    (h_ref, last_ref), grads_ref = outputs_and_grads("reference", exact, reverse)
    assert h.dtype == low and h_last.dtype == low
    present = [t for t in inputs if t is not None]
    for name, tensor, got, want in zip("x w lam h0".split(), present, grads, grads_ref):
        assert got.dtype == tensor.dtype, f"d{name} has dtype {got.dtype}, its input {tensor.dtype}"
        scale = max(1.0, want.abs().max().item())
        torch.testing.assert_close(got.double().cpu(), want.cpu(), rtol=tol, atol=tol * scale,
                                   msg=lambda m: f"d{name}: {m}")
    for got, want in ((h, h_ref), (h_last, last_ref)):
        torch.testing.assert_close(got.double().cpu(), want.detach().cpu(), rtol=tol, atol=tol)


def test_float64_cannot_be_mixed_with_lower_precision():
    x, w, lam, h0 = make_inputs(dtype=torch.float64)
    with pytest.raises(ValueError, match="w has dtype float64 but x, lam, h0 do not"):
        propagate(x.float(), w, lam.float(), h0=h0.float(), backend="torch")
