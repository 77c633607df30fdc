"""frames/s of the tracker alone (ByteTracker.update) on the shared MOT detections, one core."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

DEFAULT_DET = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mot" / "TUD-Stadtmitte" / "det.txt"
TARGET_FPS = 4000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--det", type=Path, default=DEFAULT_DET, help=f"MOT det.txt (default {DEFAULT_DET})")
    parser.add_argument("--passes", type=int, default=30, help="times the whole sequence is tracked (default 30)")


def _one_core() -> str:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    note = "threads=1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        note += f", pinned to CPU {cpu}"
    return note


def run(args: argparse.Namespace) -> int:
    note = _one_core()
    import numpy as np

    from engine.io import MOTFormatError, detections_by_frame, read_detections
    from engine.tracking import ByteTracker

    try:
        records = read_detections(args.det)
    except (MOTFormatError, OSError) as exc:
        print(f"stv bench tracker: {exc}", file=sys.stderr)
        return 1
    frames = detections_by_frame(records, records.max_frame())
    tracker = ByteTracker()
    for dets in frames:  # warm-up pass
        tracker.update(dets)
    per_pass = []
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    for _ in range(args.passes):
        tracker.reset()
        start = time.perf_counter()
        for dets in frames:
            tracker.update(dets)
        per_pass.append(time.perf_counter() - start)
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    n = len(frames) * args.passes
    best = len(frames) / min(per_pass)
    print(f"tracker bench: {args.det.parent.name} {len(frames)} frames, {len(records)} detections "
          f"({len(records) / len(frames):.1f}/frame), {args.passes} passes, {note}")
    print(f"  fps (wall, all passes):  {n / wall:8.0f}")
    print(f"  fps (wall, best pass):   {best:8.0f}")
    print(f"  fps (CPU time):          {n / cpu:8.0f}   target >= {TARGET_FPS}")
    print(f"  us/frame (median pass):  {1e6 * float(np.median(per_pass)) / len(frames):8.1f}")
    if hasattr(os, "getloadavg"):
        print(f"  load average: {os.getloadavg()[0]:.2f} (wall figures shrink when other processes share the core)")
    return 0
