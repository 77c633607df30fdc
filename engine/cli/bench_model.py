"""model: frames/s and peak memory of the unified model alone (no video decoding), inference and a training step.

    stv bench model --config paper --device cuda --dtype bfloat16 [--batch 8] [--window 16] [--size 224 224]

Random clips of --batch x --window frames at the config's input size (or --size) go through the
model under torch.autocast(--dtype) (float32: no autocast): "infer" is a forward pass in inference
mode, "train" a forward + backward + Adam step (float16 with loss scaling, as stv train). frames/s =
batch * window / median seconds. Peak memory: torch.cuda.max_memory_allocated on CUDA; on the CPU
the process's peak RSS (which includes the interpreter and torch, ~0.3-0.5 GB).
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time

DTYPES = ("float32", "bfloat16", "float16")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="tiny", help="model preset: tiny or paper (default tiny)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where to run (default: cuda when available, else cpu)")
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="autocast dtype (default float32: none)")
    parser.add_argument("--batch", type=int, default=None,
                        help="clips per step (default: 8 on CUDA, 1 on the CPU)")
    parser.add_argument("--window", type=int, default=None, help="frames per clip (default: the config's clip_len)")
    parser.add_argument("--size", type=int, nargs=2, default=None, metavar=("H", "W"),
                        help="input size (default: the config's input_size)")
    parser.add_argument("--repeat", type=int, default=5, help="timed steps per mode, median reported (default 5)")
    parser.add_argument("--mode", choices=("both", "infer", "train"), default="both", help="what to time (default both)")
    parser.add_argument("--num-classes", type=int, default=101, help="action classes (default 101, UCF-101)")


def peak_memory_text(device) -> str:
    import torch

    if device.type == "cuda":
        return f"{torch.cuda.max_memory_allocated(device) / 2**30:.2f} GB allocated (peak)"
    try:
        import resource

        return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB RSS (process peak)"
    except ImportError:  # not on this platform
        return "n/a"


def run(args: argparse.Namespace) -> int:
    import torch

    from engine.model import build_model

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        print("stv bench model: --device cuda but torch sees no CUDA device", file=sys.stderr)
        return 2
    device = torch.device(device)
    if args.repeat < 1 or (args.batch is not None and args.batch < 1) or (args.window is not None and args.window < 1):
        print("stv bench model: --repeat, --batch and --window must be >= 1", file=sys.stderr)
        return 2
    overrides = {"num_classes": args.num_classes}
    if args.size:
        overrides["input_size"] = tuple(args.size)
    try:
        model = build_model(args.config, **overrides).to(device)
    except ValueError as exc:
        print(f"stv bench model: {exc}", file=sys.stderr)
        return 2
    config = model.config
    batch = args.batch or (8 if device.type == "cuda" else 1)
    window = args.window or config.clip_len
    height, width = config.input_size
    dtype = getattr(torch, args.dtype)
    clip = torch.rand(batch, window, 3, height, width, device=device)
    def autocast():
        return torch.autocast(device.type, dtype=dtype) if dtype != torch.float32 else contextlib.nullcontext()

    params = sum(p.numel() for p in model.parameters())
    print(f"model {config.name}: {params / 1e6:.1f} M parameters, input {height}x{width}, batch {batch} x {window} "
          f"frames, {args.dtype} on {device}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""))

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def timed(step) -> float:
        step()  # warm-up (kernel compilation, allocator)
        sync()
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            step()
            sync()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def infer() -> None:
        with torch.inference_mode(), autocast():
            model(clip)

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16 and device.type == "cuda")

    def train_step() -> None:
        with autocast():
            out = model(clip)
            loss = out.action_logits.float().logsumexp(1).mean() + out.heatmap_logits.float().mean()
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    modes = {"infer": (model.eval, infer), "train": (model.train, train_step)}
    for name, (prepare, step) in modes.items():
        if args.mode not in ("both", name):
            continue
        prepare()
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        seconds = timed(step)
        print(f"  {name:5s}: {batch * window / seconds:9.1f} frames/s  ({1000 * seconds:8.1f} ms per step)   "
              f"peak memory {peak_memory_text(device)}")
    return 0
