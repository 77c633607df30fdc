"""The vectorised torch backend against the reference: outputs and every gradient, per dtype."""
from __future__ import annotations

import pytest
import torch

from engine.ops import propagate

from .helpers import make_inputs

SHAPES = [  # (batch, channels, steps, height, width, kernel_size, groups, reverse, with_h0)
    (2, 4, 4, 5, 7, 3, 2, False, True),
    (1, 4, 1, 7, 5, 3, 4, True, False),
    (2, 6, 3, 6, 9, 5, 1, True, True),
    (1, 3, 5, 4, 4, 1, 3, False, False),
    (1, 2, 3, 2, 3, 5, 2, False, True),  # kernel wider than the frame
]


def grads(fn, inputs, h_weight, last_weight):
    h, h_last = fn(*inputs)
    loss = (h.float() * h_weight).sum() + (h_last.float() * last_weight).sum()
    present = [t for t in inputs if t is not None]
    return (h, h_last), torch.autograd.grad(loss, present)


@pytest.mark.parametrize("shape", SHAPES)
def test_torch_matches_reference_float64(shape):
    *dims, reverse, with_h0 = shape
    batch, channels, steps, height, width, kernel_size, groups = dims
    inputs = make_inputs(batch=batch, channels=channels, steps=steps, height=height, width=width,
                         kernel_size=kernel_size, groups=groups, dtype=torch.float64, with_h0=with_h0,
                         requires_grad=True)
    gen = torch.Generator().manual_seed(1)
    h_weight = torch.randn(inputs[0].shape, generator=gen)
    last_weight = torch.randn(inputs[0][:, :, 0].shape, generator=gen)

    def run(backend):
        return lambda x, w, lam, h0: propagate(x, w, lam, h0=h0, reverse=reverse, backend=backend)

    (h, last), g = grads(run("torch"), inputs, h_weight, last_weight)
    (h_ref, last_ref), g_ref = grads(run("reference"), inputs, h_weight, last_weight)
    torch.testing.assert_close(h, h_ref)
    torch.testing.assert_close(last, last_ref)
    for got, want in zip(g, g_ref):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float16, 2e-3), (torch.bfloat16, 1.6e-2)])
def test_torch_low_precision_matches_fp32_reference_on_the_same_rounded_inputs(dtype, tol):
    x, w, lam, h0 = make_inputs(batch=2, channels=4, steps=4, height=5, width=7, groups=2, dtype=dtype)
    h, h_last = propagate(x, w, lam, h0=h0, reverse=True, backend="torch")
    assert h.dtype == dtype and h_last.dtype == dtype
    h_ref, last_ref = propagate(*(t.float() for t in (x, w, lam)), h0=h0.float(), reverse=True,
                                backend="reference")
    torch.testing.assert_close(h.float(), h_ref, rtol=tol, atol=tol)
    torch.testing.assert_close(h_last.float(), last_ref, rtol=tol, atol=tol)


def test_auto_on_cpu_is_the_torch_backend():
    x, w, lam, h0 = make_inputs()
    h, last = propagate(x, w, lam, h0=h0)
    h_torch, last_torch = propagate(x, w, lam, h0=h0, backend="torch")
    assert torch.equal(h, h_torch) and torch.equal(last, last_torch)
