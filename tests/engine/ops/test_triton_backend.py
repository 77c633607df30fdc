"""The Triton backend against the reference: outputs and the gradients of x, w, lam and h0, per dtype.

On a machine without CUDA these run in Triton's CPU interpreter (tests/conftest.py sets
TRITON_INTERPRET=1), which is slow: shapes are small but odd (H*W not a multiple of any block) and
some cases force a small spatial block so the kernels' loop over blocks is exercised too.
"""
from __future__ import annotations

import os

import pytest
import torch

from engine.ops import propagate

from .helpers import make_inputs

pytest.importorskip("triton", reason="triton is not installed (pip install triton)")
if not torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("no CUDA and TRITON_INTERPRET is not 1", allow_module_level=True)

from engine.ops.propagation.function import propagate_triton  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def outputs_and_grads(fn, inputs, seed=3, use_h=True, use_last=True):
    """(h, h_last, d x, d w, d lam, d h0) of a random linear loss; None for inputs without grad."""
    h, h_last = fn(*inputs)
    gen = torch.Generator().manual_seed(seed)
    loss = h.new_zeros((), dtype=torch.float32)
    if use_h:
        loss = loss + (h.float() * torch.randn(h.shape, generator=gen).to(h.device)).sum()
    if use_last:
        loss = loss + (h_last.float() * torch.randn(h_last.shape, generator=gen).to(h.device)).sum()
    wanted = [t for t in inputs if t is not None and t.requires_grad]
    grads = iter(torch.autograd.grad(loss, wanted))
    return [h, h_last] + [next(grads) if t is not None and t.requires_grad else None for t in inputs]


def check_against_reference(inputs, *, reverse, tol, block_size=None, **loss_kwargs):
    """Triton on ``inputs`` vs the reference in float64 on the same (already rounded) values."""
    def triton_fn(x, w, lam, h0):
        return propagate_triton(x, w, lam, h0=h0, reverse=reverse, block_size=block_size)

    def reference_fn(x, w, lam, h0):
        return propagate(x, w, lam, h0=h0, reverse=reverse, backend="reference")

    got = outputs_and_grads(triton_fn, inputs, **loss_kwargs)
    exact = [None if t is None else t.detach().double().requires_grad_(t.requires_grad) for t in inputs]
    want = outputs_and_grads(reference_fn, exact, **loss_kwargs)
    names = ["h", "h_last", "dx", "dw", "dlam", "dh0"]
    for name, g, r in zip(names, got, want):
        assert (g is None) == (r is None), name
        if g is None:
            continue
        assert g.dtype == inputs[0].dtype, f"{name} has dtype {g.dtype}"
        assert g.shape == r.shape, name
        scale = max(1.0, r.abs().max().item())
        torch.testing.assert_close(g.double().cpu(), r.cpu(), rtol=tol, atol=tol * scale, msg=lambda m: f"{name}: {m}")


def inputs_on_device(requires_grad=True, **kwargs):
    tensors = make_inputs(**kwargs)
    return tuple(None if t is None else t.to(DEVICE).requires_grad_(requires_grad) for t in tensors)


CASES = {  # name: (make_inputs kwargs, reverse, block_size)
    "k3-groups2-h0": (dict(batch=2, channels=4, groups=2, steps=3, height=5, width=7), False, None),
    "k3-groups=C-reverse-blocks16": (dict(channels=4, groups=4, steps=4, height=7, width=5), True, 16),
    "k5-one-group-no-h0-blocks16": (dict(channels=2, groups=1, kernel_size=5, steps=2, height=5, width=7,
                                         with_h0=False), False, 16),
    "k1-groups=C-reverse-no-h0": (dict(batch=2, channels=3, groups=3, kernel_size=1, steps=3, height=5, width=7,
                                       with_h0=False), True, None),
    "single-step": (dict(channels=2, groups=2, steps=1, height=5, width=7), False, None),
    "single-step-reverse": (dict(channels=2, groups=1, steps=1, height=3, width=3), True, None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_triton_float32_matches_reference(case):
    kwargs, reverse, block_size = CASES[case]
    check_against_reference(inputs_on_device(**kwargs), reverse=reverse, tol=1e-5, block_size=block_size)


@pytest.mark.parametrize("dtype,tol", [(torch.float16, 2e-3), (torch.bfloat16, 1.6e-2)])
@pytest.mark.parametrize("reverse,steps", [(False, 3), (True, 4)])  # odd and even T: both ping-pong slots
def test_triton_low_precision_matches_fp32_reference_on_rounded_inputs(dtype, tol, reverse, steps):
    inputs = inputs_on_device(batch=1, channels=4, groups=2, steps=steps, height=5, width=7, dtype=dtype)
    check_against_reference(inputs, reverse=reverse, tol=tol, block_size=16)


def test_triton_gradients_when_only_h_last_or_only_h_is_used():
    inputs = inputs_on_device(channels=2, groups=1, steps=3, height=5, width=3)
    check_against_reference(inputs, reverse=False, tol=1e-5, use_h=False)
    check_against_reference(inputs, reverse=True, tol=1e-5, use_last=False)


def test_triton_without_gate_or_h0_gradients_and_non_contiguous_inputs():
    x, w, lam, h0 = make_inputs(channels=4, groups=2, steps=3, height=5, width=7)
    # x arrives as a transposed view; w and h0 need no gradient (the dw kernel is skipped)
    x = x.transpose(3, 4).contiguous().transpose(3, 4).to(DEVICE).requires_grad_()
    assert not x.is_contiguous()
    lam = lam.to(DEVICE).requires_grad_()
    check_against_reference((x, w.to(DEVICE), lam, h0.to(DEVICE)), reverse=False, tol=1e-5)


def test_propagate_dispatches_triton_backend_by_name():
    x, w, lam, h0 = inputs_on_device(requires_grad=False, channels=2, groups=2, steps=2, height=3, width=5)
    h, h_last = propagate(x, w, lam, h0=h0, backend="triton")
    h_ref, last_ref = propagate(x, w, lam, h0=h0, backend="reference")
    torch.testing.assert_close(h, h_ref)
    torch.testing.assert_close(h_last, last_ref)


def test_triton_stays_bounded_over_many_steps_with_normalized_gates():
    from engine.ops import normalize_gates
    gen = torch.Generator().manual_seed(5)
    steps = 60
    w, lam = normalize_gates(3 * torch.randn(1, 2, 9, steps, 3, 4, generator=gen),
                             3 * torch.randn(1, 2, steps, 3, 4, generator=gen))
    x = torch.randn(1, 2, steps, 3, 4, generator=gen)
    args = [t.to(DEVICE).half() for t in (x, w, lam)]
    h, h_last = propagate_triton(*args)
    assert h.abs().max() <= args[0].abs().max() * (1 + 2e-3)
    h_ref, _ = propagate(*(t.float() for t in args), backend="torch")
    torch.testing.assert_close(h.float(), h_ref, rtol=2e-3, atol=2e-3)
    torch.testing.assert_close(h_last, h[:, :, -1])


def test_triton_on_cpu_tensors_needs_the_interpreter(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    x, w, lam, h0 = make_inputs(steps=1)
    with pytest.raises(ValueError, match="needs CUDA tensors"):
        propagate(x, w, lam, h0=h0, backend="triton")
