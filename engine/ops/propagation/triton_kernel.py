"""Triton kernels for the propagation recurrence; the only module that imports triton (lazily).

Layout: every tensor is contiguous; x, lam, h, dx, dlam and the fp32 adjoint buffer are planes of
H*W pixels indexed (b, c, t); w and dw are planes indexed (b, g, k, t).

forward  one program per (b, c) plane loops over all T steps (a single launch). Step t needs the
         previous step's state at neighbouring pixels that other threads computed, so the state goes
         through global memory, with a block-wide barrier between steps: h itself for fp32 inputs,
         else an fp32 ping-pong buffer (2 planes per (b, c)) so the carried state is never rounded.
         One program owns the whole plane for all T, so there is no inter-program synchronisation;
         planes larger than BLOCK are covered by a loop over spatial blocks inside the step. fp32
         accumulation; h is stored in the input dtype.
backward (1) adjoint recurrence, one program per (b, c) plane, reverse processing order, one launch:
             g_t = dL/dh_t + sum_k w_k,t'[p - d_k] * g_t'[p - d_k]   (t' the step processed after t;
             the transposed stencil: a gather with flipped offsets), stored in fp32; dx = g * lam,
             dlam = g * x, and dh0 = the adjoint carried past the first step.
         (2) dw[b, g, k, t, p] = sum_{c in g} g_t[c, p] * hp[c, p + d_k]: fully parallel, one program
             per (b, g, t) for all K*K taps, reduces the C/G channels of the group in fp32 in-kernel (no
             atomics, deterministic). hp is the saved h of the previous step (h0 at the first step).
Loads in the step loops must not be software-pipelined across the barrier: launch with num_stages=1.
"""
from __future__ import annotations

import functools
from types import SimpleNamespace

import torch


@functools.lru_cache(maxsize=None)
def kernels() -> SimpleNamespace:
    """Compile-on-demand kernels (imports triton on first call)."""
    import triton
    import triton.language as tl

    @triton.jit
    def forward_kernel(x_ptr, w_ptr, lam_ptr, h0_ptr, h_ptr, state_ptr,
                       C, T, H, W, HW, CPG, G,
                       REVERSE: tl.constexpr, K: tl.constexpr, R: tl.constexpr, BLOCK: tl.constexpr,
                       STATE_IN_H: tl.constexpr):
        plane = tl.program_id(0).to(tl.int64)  # b * C + c
        b = plane // C
        group = (plane % C) // CPG
        plane_base = plane * T * HW
        gate_base = (b * G + group) * (K * K) * T * HW
        state_base = plane * 2 * HW
        offs = tl.arange(0, BLOCK)
        for s in range(0, T):
            t = s + REVERSE * (T - 1 - 2 * s)
            # the previous state: h0 at the first step; then h itself when it is fp32, else the fp32
            # ping-pong buffer (so low-precision outputs do not round the carried state)
            if STATE_IN_H:
                stored_previous = h_ptr + plane_base + (t - 1 + 2 * REVERSE) * HW
            else:
                stored_previous = state_ptr + state_base + ((s + 1) % 2) * HW
            read_slot = tl.where(s == 0, h0_ptr + plane * HW, stored_previous)
            write_slot = state_ptr + state_base + (s % 2) * HW
            for start in range(0, HW, BLOCK):
                p = start + offs
                inside = p < HW
                i = p // W
                j = p % W
                x = tl.load(x_ptr + plane_base + t * HW + p, mask=inside, other=0.0).to(tl.float32)
                lam = tl.load(lam_ptr + plane_base + t * HW + p, mask=inside, other=0.0).to(tl.float32)
                acc = lam * x
                for k in tl.static_range(K * K):
                    di = k // K - R
                    dj = k % K - R
                    ok = inside & (i + di >= 0) & (i + di < H) & (j + dj >= 0) & (j + dj < W)
                    previous = tl.load(read_slot + p + (di * W + dj), mask=ok, other=0.0)
                    gate = tl.load(w_ptr + gate_base + (k * T + t) * HW + p, mask=inside, other=0.0)
                    acc += gate.to(tl.float32) * previous
                if not STATE_IN_H:
                    tl.store(write_slot + p, acc, mask=inside)
                tl.store(h_ptr + plane_base + t * HW + p, acc.to(h_ptr.dtype.element_ty), mask=inside)
            tl.debug_barrier()  # step t's state is complete before step t+1 reads neighbours

    @triton.jit
    def backward_state_kernel(w_ptr, x_ptr, lam_ptr, grad_h_ptr, grad_last_ptr,
                              adjoint_ptr, dx_ptr, dlam_ptr, dh0_ptr,
                              C, T, H, W, HW, CPG, G,
                              REVERSE: tl.constexpr, K: tl.constexpr, R: tl.constexpr, BLOCK: tl.constexpr):
        plane = tl.program_id(0).to(tl.int64)
        b = plane // C
        group = (plane % C) // CPG
        plane_base = plane * T * HW
        gate_base = (b * G + group) * (K * K) * T * HW
        last_base = plane * HW
        offs = tl.arange(0, BLOCK)
        for n in range(0, T):
            s = T - 1 - n                                   # processing step, last one first
            t = s + REVERSE * (T - 1 - 2 * s)
            t_next = t + 1 - 2 * REVERSE                    # the step processed after t (n > 0 only)
            has_next = n > 0
            for start in range(0, HW, BLOCK):
                p = start + offs
                inside = p < HW
                i = p // W
                j = p % W
                adjoint = tl.load(grad_h_ptr + plane_base + t * HW + p, mask=inside, other=0.0).to(tl.float32)
                adjoint += tl.load(grad_last_ptr + last_base + p, mask=inside & (n == 0), other=0.0).to(tl.float32)
                for k in tl.static_range(K * K):
                    di = k // K - R
                    dj = k % K - R
                    # pixel p fed pixel q = p - d_k of the next step through tap k
                    ok = has_next & inside & (i - di >= 0) & (i - di < H) & (j - dj >= 0) & (j - dj < W)
                    q = p - (di * W + dj)
                    gate = tl.load(w_ptr + gate_base + (k * T + t_next) * HW + q, mask=ok, other=0.0)
                    later = tl.load(adjoint_ptr + plane_base + t_next * HW + q, mask=ok, other=0.0)
                    adjoint += gate.to(tl.float32) * later
                tl.store(adjoint_ptr + plane_base + t * HW + p, adjoint, mask=inside)
                x = tl.load(x_ptr + plane_base + t * HW + p, mask=inside, other=0.0).to(tl.float32)
                lam = tl.load(lam_ptr + plane_base + t * HW + p, mask=inside, other=0.0).to(tl.float32)
                tl.store(dx_ptr + plane_base + t * HW + p, (adjoint * lam).to(dx_ptr.dtype.element_ty), mask=inside)
                tl.store(dlam_ptr + plane_base + t * HW + p, (adjoint * x).to(dlam_ptr.dtype.element_ty),
                         mask=inside)
            tl.debug_barrier()  # g_t complete before the step before it gathers from it
        t_first = REVERSE * (T - 1)
        for start in range(0, HW, BLOCK):
            p = start + offs
            inside = p < HW
            i = p // W
            j = p % W
            carried = tl.zeros([BLOCK], dtype=tl.float32)
            for k in tl.static_range(K * K):
                di = k // K - R
                dj = k % K - R
                ok = inside & (i - di >= 0) & (i - di < H) & (j - dj >= 0) & (j - dj < W)
                q = p - (di * W + dj)
                gate = tl.load(w_ptr + gate_base + (k * T + t_first) * HW + q, mask=ok, other=0.0)
                later = tl.load(adjoint_ptr + plane_base + t_first * HW + q, mask=ok, other=0.0)
                carried += gate.to(tl.float32) * later
            tl.store(dh0_ptr + last_base + p, carried, mask=inside)

    @triton.jit
    def backward_gates_kernel(adjoint_ptr, h_ptr, h0_ptr, dw_ptr,
                              C, T, H, W, HW, CPG, G,
                              REVERSE: tl.constexpr, K: tl.constexpr, R: tl.constexpr, BLOCK: tl.constexpr):
        # one program per (b, g, t): all K*K taps, so the group's adjoint and h planes come from DRAM
        # once and the other taps re-read them from cache
        row = tl.program_id(0).to(tl.int64)  # (b * G + g) * T + t
        t = row % T
        bg = row // T
        b = bg // G
        group = bg % G
        t_first = REVERSE * (T - 1)
        t_previous = t - 1 + 2 * REVERSE
        offs = tl.arange(0, BLOCK)
        # block-shaped flags (the interpreter mishandles scalar & block masks)
        first_step = (tl.zeros([BLOCK], dtype=tl.int64) + t) == t_first
        later_step = (tl.zeros([BLOCK], dtype=tl.int64) + t) != t_first
        for start in range(0, HW, BLOCK):
            p = start + offs
            inside = p < HW
            i = p // W
            j = p % W
            for k in tl.static_range(K * K):
                di = k // K - R
                dj = k % K - R
                ok = inside & (i + di >= 0) & (i + di < H) & (j + dj >= 0) & (j + dj < W)
                q = p + (di * W + dj)
                acc = tl.zeros([BLOCK], dtype=tl.float32)
                for member in range(0, CPG):
                    plane = b * C + group * CPG + member
                    adjoint = tl.load(adjoint_ptr + (plane * T + t) * HW + p, mask=inside, other=0.0)
                    from_h = tl.load(h_ptr + (plane * T + t_previous) * HW + q, mask=ok & later_step, other=0.0)
                    from_h0 = tl.load(h0_ptr + plane * HW + q, mask=ok & first_step, other=0.0)
                    acc += adjoint * (from_h.to(tl.float32) + from_h0)
                tl.store(dw_ptr + ((bg * (K * K) + k) * T + t) * HW + p, acc.to(dw_ptr.dtype.element_ty),
                         mask=inside)

    return SimpleNamespace(triton=triton, forward=forward_kernel, backward_state=backward_state_kernel,
                           backward_gates=backward_gates_kernel)


def launch_config(plane_pixels: int, block_size: int | None) -> tuple[int, int]:
    """(BLOCK, num_warps) for programs that sweep one H*W plane."""
    if block_size is None:
        block_size = 1 << max(5, (plane_pixels - 1).bit_length())
        block_size = min(block_size, 1024)
    num_warps = max(1, min(8, block_size // 128))
    return block_size, num_warps


def _geometry(x: torch.Tensor, w: torch.Tensor) -> dict:
    batch, channels, steps, height, width = x.shape
    groups, taps = w.shape[1], w.shape[2]
    kernel_size = int(round(taps ** 0.5))
    return dict(C=channels, T=steps, H=height, W=width, HW=height * width, CPG=channels // groups, G=groups,
                K=kernel_size, R=kernel_size // 2)


def _device_guard(tensor: torch.Tensor):
    return torch.cuda.device(tensor.device) if tensor.is_cuda else _NullContext()


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def forward(x: torch.Tensor, w: torch.Tensor, lam: torch.Tensor, h0_f32: torch.Tensor, *, reverse: bool,
            block_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Contiguous x, w, lam (one dtype) and fp32 h0 (B, C, H, W) -> (h, h_last) in x's dtype."""
    k = kernels()
    geo = _geometry(x, w)
    batch, channels = x.shape[:2]
    h = torch.empty_like(x)
    state_in_h = x.dtype == torch.float32
    # fp32: the state is h itself; otherwise an fp32 ping-pong pair of planes per (b, c)
    state = h if state_in_h else torch.empty(batch * channels, 2, geo["HW"], device=x.device, dtype=torch.float32)
    block, warps = launch_config(geo["HW"], block_size)
    with _device_guard(x):
        k.forward[(batch * channels,)](x, w, lam, h0_f32, h, state, **geo, REVERSE=int(reverse), BLOCK=block,
                                       STATE_IN_H=state_in_h, num_warps=warps, num_stages=1)
    if state_in_h:
        h_last = h[:, :, 0 if reverse else -1].contiguous()
    else:
        last_slot = (geo["T"] - 1) % 2
        h_last = state[:, last_slot].reshape(batch, channels, geo["H"], geo["W"]).to(x.dtype).contiguous()
    return h, h_last


def backward(x: torch.Tensor, w: torch.Tensor, lam: torch.Tensor, h0_f32: torch.Tensor, h: torch.Tensor,
             grad_h: torch.Tensor, grad_last: torch.Tensor, *, reverse: bool, need_w: bool = True,
             block_size: int | None = None):
    """Gradients (dx, dw or None, dlam, dh0 fp32) of the forward above; all inputs contiguous."""
    k = kernels()
    geo = _geometry(x, w)
    batch, channels = x.shape[:2]
    adjoint = torch.empty(x.shape, device=x.device, dtype=torch.float32)
    dx = torch.empty_like(x)
    dlam = torch.empty_like(lam)
    dh0 = torch.empty(batch, channels, geo["H"], geo["W"], device=x.device, dtype=torch.float32)
    block, warps = launch_config(geo["HW"], block_size)
    with _device_guard(x):
        k.backward_state[(batch * channels,)](w, x, lam, grad_h, grad_last, adjoint, dx, dlam, dh0, **geo,
                                              REVERSE=int(reverse), BLOCK=block, num_warps=warps, num_stages=1)
        dw = None
        if need_w:
            dw = torch.empty_like(w)
            rows = w.shape[0] * w.shape[1] * geo["T"]
            k.backward_gates[(rows,)](adjoint, h, h0_f32, dw, **geo, REVERSE=int(reverse), BLOCK=block,
                                      num_warps=warps, num_stages=1)
    return dx, dw, dlam, dh0


def compile_for_gpu(*, dtype: str = "fp32", kernel_size: int = 3, reverse: bool = False, block: int = 1024,
                    arch: int = 90, num_warps: int = 8) -> dict[str, str]:
    """Compile the three kernels for an NVIDIA GPU of compute capability ``arch`` without needing one.

    Returns {kernel name: PTX}. Lets a machine without CUDA check that the kernels (tested there only
    in the interpreter, which accepts more than the compiler) really compile. Call it in a process
    where TRITON_INTERPRET is unset, since ``kernels()`` is built once per process.
    """
    from triton import compile as triton_compile
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    k = kernels()
    element = "*" + dtype
    sizes = {n: "i32" for n in ("C", "T", "H", "W", "HW", "CPG", "G")}
    constants = {"REVERSE": int(reverse), "K": kernel_size, "R": kernel_size // 2, "BLOCK": block}
    constexpr = {n: "constexpr" for n in constants}
    signatures = {
        "forward": (k.forward, dict(x_ptr=element, w_ptr=element, lam_ptr=element, h0_ptr="*fp32",
                                    h_ptr=element, state_ptr="*fp32", STATE_IN_H="constexpr")),
        "backward_state": (k.backward_state, dict(w_ptr=element, x_ptr=element, lam_ptr=element,
                                                  grad_h_ptr=element, grad_last_ptr=element, adjoint_ptr="*fp32",
                                                  dx_ptr=element, dlam_ptr=element, dh0_ptr="*fp32")),
        "backward_gates": (k.backward_gates, dict(adjoint_ptr="*fp32", h_ptr=element, h0_ptr="*fp32",
                                                  dw_ptr=element)),
    }
    ptx = {}
    for name, (fn, pointers) in signatures.items():
        values = dict(constants, STATE_IN_H=dtype == "fp32") if name == "forward" else constants
        source = ASTSource(fn, {**pointers, **sizes, **constexpr}, values)
        compiled = triton_compile(source, target=GPUTarget("cuda", arch, 32),
                                  options=dict(num_warps=num_warps, num_stages=1))
        ptx[name] = compiled.asm["ptx"]
    return ptx
