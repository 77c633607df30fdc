"""kernel: forward and forward+backward time of each engine.ops.propagate backend (paper + small shape)."""
from __future__ import annotations

import argparse
import time

# (B, C, T, H, W, K, G)
PAPER_SHAPE = (8, 256, 16, 28, 28, 3, 32)
SMALL_SHAPE = (2, 32, 8, 14, 14, 3, 8)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where to run (default: cuda when available, else cpu)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timed runs per measurement, median reported (default 5; on the CPU the paper "
                             "shape uses a fifth of them, at least 1)")
    parser.add_argument("--shape", choices=("both", "small", "paper"), default="both",
                        help="which shapes to time (default both)")
    parser.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default="float32",
                        help="input dtype (default float32)")


def run(args: argparse.Namespace) -> int:
    import sys

    import torch

    from engine.ops import normalize_gates, propagate
    from engine.ops.propagation.dispatch import triton_available

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        print("stv bench kernel: --device cuda but torch sees no CUDA device", file=sys.stderr)
        return 2
    if args.repeat < 1:
        print("stv bench kernel: --repeat must be >= 1", file=sys.stderr)
        return 2
    dtype = getattr(torch, args.dtype)
    if device == "cpu" and dtype != torch.float32:
        print("stv bench kernel: low-precision timing is only meaningful on cuda; use --dtype float32 on cpu",
              file=sys.stderr)
        return 2

    if device != "cuda":
        triton_note = "unavailable (needs a CUDA device)"
    elif not triton_available():
        triton_note = "unavailable (triton not installed: pip install triton)"
    else:
        triton_note = "available"
    where = torch.cuda.get_device_name() if device == "cuda" else f"{torch.get_num_threads()} CPU threads"
    print(f"stv bench kernel: device {device} ({where}), torch {torch.__version__}, dtype {args.dtype}, "
          f"triton: {triton_note}")

    def synchronize() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    def timed(fn, repeat: int) -> float:
        """Median seconds of ``fn`` after one warm-up call (compilation, allocator)."""
        fn()
        samples = []
        for _ in range(repeat):
            if device == "cuda":
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                torch.cuda.synchronize()
                samples.append(start.elapsed_time(end) / 1e3)
            else:
                t0 = time.perf_counter()
                fn()
                samples.append(time.perf_counter() - t0)
        samples.sort()
        return samples[len(samples) // 2]

    shapes = [("small", SMALL_SHAPE), ("paper", PAPER_SHAPE)]
    for label, shape in (s for s in shapes if args.shape in ("both", s[0])):
        batch, channels, steps, height, width, kernel_size, groups = shape
        gen = torch.Generator().manual_seed(0)
        w, lam = normalize_gates(torch.randn(batch, groups, kernel_size ** 2, steps, height, width, generator=gen),
                                 torch.randn(batch, channels, steps, height, width, generator=gen))
        x = torch.randn(batch, channels, steps, height, width, generator=gen)
        h0 = torch.randn(batch, channels, height, width, generator=gen)
        x, w, lam, h0 = (t.to(device=device, dtype=dtype) for t in (x, w, lam, h0))
        grad_h, grad_last = torch.randn_like(x), torch.randn_like(h0)
        leaves = [t.clone().requires_grad_() for t in (x, w, lam, h0)]
        repeat = args.repeat if (label == "small" or device == "cuda") else max(1, args.repeat // 5)

        backends = ["reference", "torch", "triton"]
        if label == "paper" and device == "cpu":
            backends.remove("reference")  # minutes per call; the small shape shows it
        print(f"\n{label} shape: B={batch} C={channels} T={steps} H={height} W={width} K={kernel_size} "
              f"G={groups}  (median of {repeat})")
        print(f"  {'backend':10s} {'forward ms':>12s} {'fwd+bwd ms':>12s}")
        times: dict[str, tuple[float, float]] = {}
        for backend in backends:
            if backend == "triton" and triton_note != "available":
                print(f"  {backend:10s} {triton_note}")
                continue

            def forward(backend=backend):
                with torch.no_grad():
                    propagate(x, w, lam, h0=h0, backend=backend)
                synchronize()

            def forward_backward(backend=backend):
                h, h_last = propagate(*leaves[:3], h0=leaves[3], backend=backend)
                torch.autograd.grad((h, h_last), leaves, (grad_h, grad_last))
                synchronize()

            times[backend] = (timed(forward, repeat), timed(forward_backward, repeat))
            print(f"  {backend:10s} {times[backend][0] * 1e3:12.3f} {times[backend][1] * 1e3:12.3f}")

        if "triton" in times:
            forward_bytes, total_bytes = traffic_bytes(x, w)
            fwd, both = times["triton"]
            print(f"  triton memory bandwidth: forward {forward_bytes / fwd / 1e9:.0f} GB/s, "
                  f"fwd+bwd {total_bytes / both / 1e9:.0f} GB/s  (compulsory traffic {forward_bytes / 1e6:.0f} MB "
                  f"forward, {total_bytes / 1e6:.0f} MB fwd+bwd)")
            print(f"  triton speed-up vs torch: forward {times['torch'][0] / fwd:.1f}x, "
                  f"fwd+bwd {times['torch'][1] / both:.1f}x  (target >= 20x fwd+bwd on an H100-class GPU)")
    return 0


def traffic_bytes(x, w) -> tuple[int, int]:
    """(forward, forward + backward) bytes the Triton kernels must move at least: each tensor once.

    forward: read x, lam, w, h0 (fp32); write h, h_last, and for fp16/bf16 the fp32 state (one plane
    per step; fp32 inputs carry the state in h itself).
    backward, adjoint kernel: read w, x, lam, dL/dh, dL/dh_last; write the fp32 adjoint, dx, dlam, dh0.
    backward, dw kernel: read the adjoint, h, h0; write dw. (Re-reads of neighbours and of a group's
    planes by each of its K*K gates are not counted: they mostly hit the caches.)
    """
    item = x.element_size()
    volume = x.numel()
    gates = w.numel()
    plane = volume // x.shape[2]
    state = 0 if item == 4 else 4 * volume
    forward = item * (3 * volume + gates + plane) + 4 * plane + state
    adjoint = item * (3 * volume + gates + plane) + 4 * volume + item * 2 * volume + 4 * plane
    gate_grads = 4 * volume + item * volume + 4 * plane + item * gates
    return forward, forward + adjoint + gate_grads
