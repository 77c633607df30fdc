"""The reference backend against the formula written out pixel by pixel, and gradcheck."""
from __future__ import annotations

import itertools

import pytest
import torch

from engine.ops import propagate

from .helpers import make_inputs


def brute_force(x, w, lam, h0, reverse):
    """The issue's formula with one scalar per loop iteration."""
    batch, channels, steps, height, width = x.shape
    groups, taps = w.shape[1], w.shape[2]
    k_size = int(round(taps ** 0.5))
    r = k_size // 2
    h = torch.zeros_like(x)
    order = list(range(steps))[::-1] if reverse else list(range(steps))
    for b, c in itertools.product(range(batch), range(channels)):
        g = c // (channels // groups)
        previous = torch.zeros(height, width, dtype=x.dtype) if h0 is None else h0[b, c]
        for t in order:
            for i, j in itertools.product(range(height), range(width)):
                total = lam[b, c, t, i, j] * x[b, c, t, i, j]
                for k, (di, dj) in enumerate(itertools.product(range(-r, r + 1), repeat=2)):
                    if 0 <= i + di < height and 0 <= j + dj < width:
                        total = total + w[b, g, k, t, i, j] * previous[i + di, j + dj]
                h[b, c, t, i, j] = total
            previous = h[b, c, t]
    return h, h[:, :, order[-1]]


@pytest.mark.parametrize("kernel_size,groups,reverse,with_h0", [
    (3, 1, False, True), (3, 2, True, False), (1, 2, False, True), (5, 2, True, True)])
def test_reference_matches_the_formula_pixel_by_pixel(kernel_size, groups, reverse, with_h0):
    x, w, lam, h0 = make_inputs(batch=2, channels=2, steps=3, height=3, width=4, kernel_size=kernel_size,
                                groups=groups, dtype=torch.float64, with_h0=with_h0)
    h, h_last = propagate(x, w, lam, h0=h0, reverse=reverse, backend="reference")
    expected_h, expected_last = brute_force(x, w, lam, h0, reverse)
    torch.testing.assert_close(h, expected_h)
    torch.testing.assert_close(h_last, expected_last)
    assert torch.equal(h_last, h[:, :, 0 if reverse else -1])


def test_reference_first_step_is_lam_x_without_h0():
    x, w, lam, _ = make_inputs(steps=1, with_h0=False, dtype=torch.float64)
    h, h_last = propagate(x, w, lam, backend="reference")
    torch.testing.assert_close(h[:, :, 0], lam[:, :, 0] * x[:, :, 0])
    torch.testing.assert_close(h_last, h[:, :, 0])


@pytest.mark.parametrize("reverse", [False, True])
def test_reference_gradcheck_float64(reverse):
    inputs = make_inputs(batch=1, channels=2, steps=3, height=3, width=4, groups=1, dtype=torch.float64,
                         requires_grad=True)

    def fn(x, w, lam, h0):
        return propagate(x, w, lam, h0=h0, reverse=reverse, backend="reference")

    assert torch.autograd.gradcheck(fn, inputs)
