"""End-to-end inference throughput: decode + model + tracker + cache write, and peak memory."""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", nargs="?", type=Path, help="clip to run (default: a generated one)")
    parser.add_argument("--config", default="tiny", help="model config when --model is not given (tiny, paper)")
    parser.add_argument("--model", help="checkpoint path or 'demo' (default: randomly initialised --config)")
    parser.add_argument("--frames", type=int, default=400, help="frames of the generated clip (400)")
    parser.add_argument("--size", default="640x360", help="WxH of the generated clip (640x360)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: every core but one, as stv infer)")


def make_clip(path: Path, *, frames: int, width: int, height: int, fps: float = 25.0) -> Path:
    """A clip with a few moving, textured blobs on a textured background (deterministic)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), (0, 0), 3)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"cannot write {path} with OpenCV's mp4v encoder")
    starts = rng.uniform(0.1, 0.9, (4, 2)) * (width, height)
    speeds = rng.uniform(-3, 3, (4, 2))
    for t in range(frames):
        frame = background.copy()
        for k in range(4):
            x, y = (starts[k] + speeds[k] * t) % (width, height)
            cv2.rectangle(frame, (int(x), int(y)), (int(x) + width // 12, int(y) + height // 4),
                          (60 * k % 255, 200, 255 - 50 * k), -1)
        writer.write(frame)
    writer.release()
    return path


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(args: argparse.Namespace) -> int:
    import torch

    from engine.model import build_model
    from engine.pipeline import infer_video
    from engine.pipeline.stream import default_cpu_threads, resolve_device

    torch.set_num_threads(args.threads or default_cpu_threads())
    width, height = (int(v) for v in args.size.lower().split("x"))
    device = resolve_device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        video = args.video or make_clip(Path(tmp) / "bench.mp4", frames=args.frames, width=width, height=height)
        if args.model:
            model = args.model
            label = args.model
        else:
            net = build_model(args.config, num_classes=6).eval().to(device)
            model = (net, {"config": {}, "class_names": [f"class{i}" for i in range(6)], "sha256": "random",
                           "random_init": True})
            label = f"{args.config} (random init)"
        rss_before = _peak_rss_mb()
        last = {}

        def progress(p) -> None:
            last["p"] = p

        began = time.perf_counter()
        infer_video(video, model=model, cache_path=Path(tmp) / "bench.h5", run_name="bench", device=str(device),
                    progress=progress, checkpoint_seconds=2.0)
        elapsed = time.perf_counter() - began
        frames = last["p"].done if "p" in last else 0
        print(f"model        {label} on {device}, torch threads {torch.get_num_threads()}")
        print(f"clip         {video} ({frames} frames)")
        print(f"end-to-end   {frames / elapsed:.1f} frames/s (decode + model + tracker + cache write), "
              f"{elapsed:.2f} s total incl. opening and model start-up")
        if "p" in last:
            print(f"steady       {last['p'].fps:.1f} frames/s as the pipeline measured it (after start-up)")
        print(f"peak RSS     {_peak_rss_mb():.0f} MB (before the run: {rss_before:.0f} MB)")
    return 0
