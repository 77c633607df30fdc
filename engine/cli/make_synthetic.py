"""`stv make-synthetic OUT --clips N --seed S`: write the synthetic action + tracking benchmark.

    stv make-synthetic data/synth [--clips 10] [--seed 0] [--frames 64] [--size 360x640] [--fps 25] [--workers 2]
                                 [--preview]

Layout and label rule: engine/data/synthetic.py. Same arguments -> identical ground truth and labels.
"""
from __future__ import annotations

import argparse
import sys


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like HEIGHTxWIDTH, e.g. 360x640, got {text!r}") from None
    if h < 32 or w < 32:
        raise argparse.ArgumentTypeError(f"size must be at least 32x32, got {text!r}")
    return h, w


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="output folder (created; existing clips with the same names are overwritten)")
    parser.add_argument("--clips", type=int, default=10, help="number of clips (default 10)")
    parser.add_argument("--seed", type=int, default=0,
                        help="benchmark seed (>= 0, default 0); clip i uses seed*100003+i")
    parser.add_argument("--frames", type=int, default=64, help="frames per clip (default 64)")
    parser.add_argument("--size", type=_size, default=(360, 640), help="HEIGHTxWIDTH (default 360x640)")
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate written to the videos (default 25)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--preview", action="store_true",
                        help="also write OUT/actions.png: every action's motion program, 8 frames each")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    if args.clips < 1 or args.seed < 0 or args.frames < 1 or args.workers < 1 or args.fps <= 0:
        print("stv make-synthetic: --clips, --frames and --workers must be >= 1, --seed >= 0, --fps > 0",
              file=sys.stderr)
        return 2
    import time

    from engine.data.synthetic import write_benchmark

    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=args.clips, desc="clips", unit="clip")

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    start = time.perf_counter()
    try:
        index = write_benchmark(args.out, clips=args.clips, seed=args.seed, num_frames=args.frames, size=args.size,
                                fps=args.fps, workers=args.workers, progress=progress)
    except OSError as exc:
        print(f"stv make-synthetic: {exc}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - start
    if args.preview:
        import cv2

        from engine.data.synthetic import render_action_sheet

        cv2.imwrite(str(index.parent / "actions.png"), cv2.cvtColor(render_action_sheet(), cv2.COLOR_RGB2BGR))
    print(f"wrote {args.clips} clips ({args.frames} frames, {args.size[0]}x{args.size[1]}) to {index.parent} "
          f"in {elapsed:.1f} s ({elapsed / args.clips:.2f} s/clip)")
    return 0
