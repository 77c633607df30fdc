"""The public ``propagate``: checks the contract at the boundary, then hands over to a backend."""
from __future__ import annotations

import importlib.util

import torch

from engine.ops.propagation.reference import propagate_reference
from engine.ops.propagation.torch_impl import propagate_torch

BACKENDS = ("auto", "reference", "torch", "triton")
TRITON_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
FLOAT_DTYPES = TRITON_DTYPES + (torch.float64,)


def triton_available() -> bool:
    """True when triton can be imported (checked without importing it)."""
    return importlib.util.find_spec("triton") is not None


def propagate(x: torch.Tensor, w: torch.Tensor, lam: torch.Tensor, *, h0: torch.Tensor | None = None,
              reverse: bool = False, backend: str = "auto") -> tuple[torch.Tensor, torch.Tensor]:
    """Spatial-temporal propagation over T steps; returns (h (B, C, T, H, W), h_last (B, C, H, W)).

        h[:, c, t, i, j] = sum_k w[:, c // (C//G), k, t, i, j] * hp[:, c, i + di_k, j + dj_k] + lam * x

    x, lam: (B, C, T, H, W); w: (B, G, K*K, T, H, W) with G dividing C and K odd; h0: (B, C, H, W) or
    None (zeros). hp is the previous step's h (t-1, or t+1 when ``reverse``), h0 before the first step;
    (di_k, dj_k) run row-major over [-r..r]^2, r = K//2; out-of-frame neighbours contribute 0.
    h_last is the state after the last step processed (t = T-1, or t = 0 when ``reverse``).
    All tensors are on one device. Dtypes: all float64, or any mix of float16/bfloat16/float32 (what
    autocast produces: x and lam from a convolution in float16/bfloat16, w from a softmax that autocast
    runs in float32, a float32 carried h0). The state and the accumulation are float32 (float64 for
    float64 inputs) whatever the input dtypes; h and h_last have x's dtype and each gradient its
    input's dtype. The weights are used as given: see ``normalize_gates`` for weights that keep h
    bounded for any T.

    backend: "reference" (readable loop), "torch" (vectorised), "triton" (CUDA tensors, fp32/fp16/bf16,
    one kernel launch for all T, fp32 accumulation), "auto" (triton for CUDA tensors when triton is
    installed and the dtype is supported, else torch). Raises ValueError naming the problem.
    """
    check_inputs(x, w, lam, h0)
    if backend not in BACKENDS:
        raise ValueError(f"propagate: unknown backend {backend!r}; choose one of {BACKENDS}")
    if backend == "auto":
        use_triton = x.is_cuda and x.dtype in TRITON_DTYPES and triton_available()
        backend = "triton" if use_triton else "torch"
    if backend == "reference":
        return propagate_reference(x, w, lam, h0=h0, reverse=reverse)
    if backend == "torch":
        return propagate_torch(x, w, lam, h0=h0, reverse=reverse)
    if x.dtype not in TRITON_DTYPES:  # the dtype check above makes w, lam and h0 low precision or fp32 too
        raise ValueError(f"propagate: the triton backend takes float32/float16/bfloat16, got {x.dtype}")
    if not triton_available():
        raise ValueError("propagate: backend='triton' needs the triton package (pip install triton)")
    from engine.ops.propagation.function import propagate_triton
    return propagate_triton(x, w, lam, h0=h0, reverse=reverse)


def check_inputs(x: torch.Tensor, w: torch.Tensor, lam: torch.Tensor, h0: torch.Tensor | None) -> None:
    """ValueError unless the shapes, dtypes and devices follow the ``propagate`` contract."""
    named = {"x": x, "w": w, "lam": lam} if h0 is None else {"x": x, "w": w, "lam": lam, "h0": h0}
    for name, tensor in named.items():
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"propagate: {name} must be a torch.Tensor, got {type(tensor).__name__}")
    if x.ndim != 5:
        raise ValueError(f"propagate: x must be (B, C, T, H, W), got shape {tuple(x.shape)}")
    batch, channels, steps, height, width = x.shape
    if min(x.shape) < 1:
        raise ValueError(f"propagate: x (B, C, T, H, W) = {tuple(x.shape)} has an empty dimension")
    if lam.shape != x.shape:
        raise ValueError(f"propagate: lam must have x's shape {tuple(x.shape)}, got {tuple(lam.shape)}")
    if w.ndim != 6:
        raise ValueError(f"propagate: w must be (B, G, K*K, T, H, W), got shape {tuple(w.shape)}")
    groups, taps = w.shape[1], w.shape[2]
    if w.shape[0] != batch or tuple(w.shape[3:]) != (steps, height, width):
        raise ValueError(f"propagate: w (B, G, K*K, T, H, W) = {tuple(w.shape)} does not match "
                         f"x (B, C, T, H, W) = {tuple(x.shape)} in B, T, H or W")
    if groups < 1 or channels % groups:
        raise ValueError(f"propagate: w's group count G={groups} must divide x's channel count C={channels}")
    kernel_size = int(round(taps ** 0.5))
    if kernel_size * kernel_size != taps or kernel_size % 2 == 0:
        raise ValueError(f"propagate: w's third dimension must be K*K for an odd K, got {taps}")
    if h0 is not None and tuple(h0.shape) != (batch, channels, height, width):
        raise ValueError(f"propagate: h0 must be (B, C, H, W) = {(batch, channels, height, width)}, "
                         f"got {tuple(h0.shape)}")
    for name, tensor in named.items():
        if tensor.dtype not in FLOAT_DTYPES:
            raise ValueError(f"propagate: {name} must be float16/bfloat16/float32/float64, got {tensor.dtype}")
    wide = [name for name, tensor in named.items() if tensor.dtype == torch.float64]
    if wide and len(wide) != len(named):
        raise ValueError(f"propagate: {', '.join(wide)} has dtype float64 but "
                         f"{', '.join(n for n in named if n not in wide)} do not; float64 inputs must all be "
                         f"float64 (float16/bfloat16/float32 may be mixed)")
    for name, tensor in named.items():
        if tensor.device != x.device:
            raise ValueError(f"propagate: {name} is on {tensor.device} but x is on {x.device}; "
                             f"all inputs must be on one device")
