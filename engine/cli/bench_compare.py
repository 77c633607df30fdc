"""Comparison engine speed: whole-run box matching, diff, ID-switch events, IDF1 shares and the review queue.

    stv bench compare [--frames 10000] [--objects 10]

Two runs and a label set of ``--frames`` frames with ``--objects`` people walking (runs jittered, with
dropped boxes and identity switches), so the figures reflect a long real comparison, not an empty one.
"""
from __future__ import annotations

import argparse
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=10000, help="frames (default 10000)")
    parser.add_argument("--objects", type=int, default=10, help="people per frame (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the generated scene (default 0)")


def scene(frames: int, objects: int, seed: int):
    import numpy as np

    from engine.compare import TrackTable

    rng = np.random.default_rng(seed)
    f = np.repeat(np.arange(frames), objects)
    o = np.tile(np.arange(objects), frames)
    x = (o * 90.0 + 40 * np.sin(f / 50.0 + o)) % 1800
    y = 200 + 30 * np.cos(f / 70.0 + o)
    boxes = np.column_stack([x, y, x + 40, y + 100])
    labels = TrackTable(frames=f, ids=o + 1, boxes=boxes, scores=np.ones(len(f)))

    def run(offset: int, switch_every: int) -> TrackTable:
        keep = rng.random(len(f)) > 0.05
        ids = o + 1 + offset + 1000 * (f // switch_every)  # a new identity every switch_every frames
        jitter = rng.normal(0, 2.0, boxes.shape)
        return TrackTable(frames=f[keep], ids=ids[keep], boxes=(boxes + jitter)[keep], scores=np.full(keep.sum(), 0.9))

    return labels, run(0, 400), run(100, 700)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from engine.compare import box_diff, identity_events, idf1_shares, match_tables
    from engine.compare.review import review_queue

    if args.frames < 1 or args.objects < 1:
        print("stv bench compare: --frames and --objects must be >= 1")
        return 2
    labels, a, b = scene(args.frames, args.objects, args.seed)
    F = args.frames
    print(f"{F} frames, {args.objects} objects: labels {len(labels)} boxes, A {len(a)}, B {len(b)}")
    for name, call in (("match_tables (A vs B)", lambda: match_tables(a, b, num_frames=F)),
                       ("box_diff (A vs B)", lambda: box_diff(a, b, num_frames=F)),
                       ("identity_events (A vs labels)", lambda: identity_events(a, labels, num_frames=F)),
                       ("idf1_shares (A, B vs labels)", lambda: idf1_shares(a, b, labels, num_frames=F))):
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        print(f"  {name:<32} {elapsed * 1000:9.1f} ms  ({F / elapsed:,.0f} frames/s)")
    rng = np.random.default_rng(args.seed)
    emb = rng.normal(size=(len(a), 32)).astype(np.float16)
    margins = rng.uniform(0, 1, len(a)).astype(np.float32)
    start = time.perf_counter()
    queue = review_queue(a.rows(), num_frames=F, margins=margins, embeddings=emb)
    elapsed = time.perf_counter() - start
    print(f"  {'review_queue (A)':<32} {elapsed * 1000:9.1f} ms  ({F / elapsed:,.0f} frames/s, {len(queue)} items)")
    return 0
