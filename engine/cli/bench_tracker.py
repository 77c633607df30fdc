"""frames/s of the tracker alone (ByteTracker.update) on MOT detections (TUD-Stadtmitte if found), one core.

Input: ``--det FILE``; else the shared data's TUD-Stadtmitte det.txt when this is a source checkout
with ../shared beside it; else a generated sequence (seeded, the same every time) of moving,
crossing, flickering boxes with false positives, so the benchmark runs on any install.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

SHARED_DET = Path("data") / "mot" / "TUD-Stadtmitte" / "det.txt"  # inside a ../shared folder
TARGET_FPS = 4000


def shared_det() -> Path | None:
    """TUD-Stadtmitte's det.txt in ../shared (beside the source checkout, or beside the working folder)."""
    checkout = Path(__file__).resolve().parents[2]
    for shared in (checkout.parent / "shared", Path.cwd().parent / "shared", Path.cwd() / "shared"):
        if (shared / SHARED_DET).is_file():
            return shared / SHARED_DET
    return None


def generated_sequence(*, frames: int = 600, objects: int = 12, seed: int = 0) -> list[np.ndarray]:
    """Per frame (N, 5) float64 [x1, y1, x2, y2, score]: ``objects`` pedestrians-sized boxes at constant
    velocity bouncing in a 1920x1080 frame (so they cross), jittered, 10 % missed, 15 % low-score, plus
    about one false positive a frame. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    size = rng.uniform([40, 100], [90, 240], (objects, 2))
    pos = rng.uniform([0, 0], [1920, 1080], (objects, 2)) - size
    vel = rng.uniform(-6, 6, (objects, 2))
    out = []
    for _ in range(frames):
        pos += vel
        bounce = (pos < 0) | (pos + size > [1920, 1080])
        vel[bounce] *= -1
        pos = np.clip(pos, 0, np.array([1920, 1080]) - size)
        seen = rng.random(objects) > 0.10
        xy = pos[seen] + rng.normal(0, 2, (int(seen.sum()), 2))
        score = np.where(rng.random(int(seen.sum())) < 0.15, rng.uniform(0.1, 0.5), rng.uniform(0.6, 0.99))
        dets = np.column_stack([xy, xy + size[seen], score])
        if rng.random() < 0.8:  # a false positive
            fp_xy = rng.uniform([0, 0], [1800, 900])
            dets = np.vstack([dets, [*fp_xy, *(fp_xy + [60, 150]), rng.uniform(0.1, 0.7)]])
        out.append(dets)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--det", type=Path, default=None,
                        help="MOT det.txt (default: ../shared's TUD-Stadtmitte det.txt when present, else a "
                             "generated sequence of 600 frames with 12 moving objects)")
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
    from engine.io import MOTFormatError, detections_by_frame, read_detections
    from engine.tracking import ByteTracker

    det = args.det if args.det is not None else shared_det()
    if det is None:
        frames = generated_sequence()
        name, num_dets = "generated sequence (no --det, no ../shared/data: seeded, 12 objects)", sum(map(len, frames))
    else:
        try:
            records = read_detections(det)
            frames = detections_by_frame(records, records.max_frame())
        except (MOTFormatError, OSError, ValueError) as exc:
            print(f"stv bench tracker: {exc}", file=sys.stderr)
            return 1
        name, num_dets = det.parent.name, len(records)
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
    print(f"tracker bench: {name} {len(frames)} frames, {num_dets} detections "
          f"({num_dets / len(frames):.1f}/frame), {args.passes} passes, {note}")
    print(f"  fps (wall, all passes):  {n / wall:8.0f}")
    print(f"  fps (wall, best pass):   {best:8.0f}")
    print(f"  fps (CPU time):          {n / cpu:8.0f}   target >= {TARGET_FPS}")
    print(f"  us/frame (median pass):  {1e6 * float(np.median(per_pass)) / len(frames):8.1f}")
    if hasattr(os, "getloadavg"):
        print(f"  load average: {os.getloadavg()[0]:.2f} (wall figures shrink when other processes share the core)")
    return 0
