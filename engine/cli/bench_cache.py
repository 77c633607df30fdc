"""cache: write fps, bytes/frame and frame(k) read latency of the HDF5 results cache."""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=2000, help="frames in the synthetic run (default 2000)")
    parser.add_argument("--reads", type=int, default=2000, help="random frame(k) reads to time (default 2000)")
    parser.add_argument("--tracks", type=int, default=5, help="tracks per frame, about (default 5)")
    parser.add_argument("--classes", type=int, default=6, help="action classes K (default 6)")
    parser.add_argument("--alpha", default="28x48", help="alpha map HxW (default 28x48, the tiny config)")
    parser.add_argument("--detections", action="store_true", help="also store raw detections (~8 per frame)")
    parser.add_argument("--checkpoint-every", type=int, default=250, help="frames between checkpoints")
    parser.add_argument("--out", type=Path, help="write the cache here (default: a temporary file)")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from engine.cache import ResultsCache
    from engine.cache.synthetic import synthetic_frame

    h, w = (int(v) for v in args.alpha.lower().split("x"))
    F = int(args.frames)
    frames = [synthetic_frame(k, num_classes=args.classes, alpha_shape=(h, w), num_tracks=args.tracks,
                              with_detections=args.detections) for k in range(F)]
    mean_tracks = float(np.mean([len(f.tracks) for f in frames]))
    with tempfile.TemporaryDirectory() as tmp:
        path = args.out or Path(tmp) / "bench.stv.h5"
        if path.exists():
            path.unlink()
        t0 = time.perf_counter()
        with ResultsCache.create(path, video_fingerprint="bench", video_path="synthetic", num_frames=F, fps=25.0,
                                 width=640, height=360) as cache:
            writer = cache.create_run("bench", model_config={"name": "tiny"}, checkpoint_sha256="0" * 64,
                                      class_names=[f"class{i}" for i in range(args.classes)], params={},
                                      alpha_shape=(h, w))
            t1 = time.perf_counter()
            for k, frame in enumerate(frames):
                writer.write(frame)
                if (k + 1) % args.checkpoint_every == 0:
                    writer.checkpoint()
            writer.close()
            t2 = time.perf_counter()
        size = path.stat().st_size
        print(f"stv bench cache: {F} frames, alpha {h}x{w} float16, {mean_tracks:.1f} tracks/frame, K={args.classes}"
              f"{', with detections' if args.detections else ''}, checkpoint every {args.checkpoint_every} frames")
        print(f"write        {F / (t2 - t1):8.0f} frames/s  ({t2 - t1:.3f} s; create + run setup {t1 - t0:.3f} s)")
        print(f"size         {size / F:8.0f} bytes/frame  ({size / 1e6:.2f} MB; target <= 4096)")
        with ResultsCache.open(path, mode="r") as cache:
            t3 = time.perf_counter()
            reader = cache.run("bench")
            t4 = time.perf_counter()
            rng = np.random.default_rng(0)
            times = np.empty(args.reads)
            for i, k in enumerate(rng.integers(0, F, args.reads)):
                s = time.perf_counter()
                reader.frame(int(k))
                times[i] = time.perf_counter() - s
            s = time.perf_counter()
            for k in range(F):
                reader.frame(k)
            seq = time.perf_counter() - s
            s = time.perf_counter()
            rows = reader.track_rows()
            t_rows = time.perf_counter() - s
        ms = times * 1e3
        print(f"open run     {(t4 - t3) * 1e3:8.2f} ms")
        print(f"frame(k)     p50 {np.percentile(ms, 50):.3f} ms  p95 {np.percentile(ms, 95):.3f} ms  "
              f"max {ms.max():.3f} ms  ({args.reads} random k; target p95 <= 1 ms)")
        print(f"sequential   {F / seq:8.0f} frames/s")
        print(f"track_rows   {t_rows * 1e3:8.2f} ms for {len(rows)} rows")
    return 0
