"""video decoding: sequential fps, cold and warm random-seek latency (stv bench video [FILE]).

Without FILE (or with --make-test-clip OUT.mp4) it encodes a 720p H.264 clip whose only
keyframe is frame 0, the worst case for seeking, so the benchmark runs anywhere.
Figures: sequential decode fps (decode + RGB conversion), cold random-seek latency p50/p95 next
to the physical floor (frames the decoder must decode since the previous keyframe x per-frame
decode time), OpenCV's CAP_PROP_POS_FRAMES seek for comparison (latency and how many of its
frames are wrong), and warm seeks after background indexing: get_display_frame (what a viewer
shows while scrubbing; exact when cached, else a JPEG proxy) and src[k] (always exact).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", help="video file (default: generate a 720p single-keyframe clip)")
    parser.add_argument("--make-test-clip", metavar="OUT.mp4", help="write the 720p single-keyframe test clip here")
    parser.add_argument("--frames", type=int, default=300, help="length of the generated clip (default 300)")
    parser.add_argument("--b-frames", type=int, default=3, help="B-frames in the generated clip (default 3)")
    parser.add_argument("--seeks", type=int, default=40, help="random seeks per measurement (default 40)")
    parser.add_argument("--cache-mb", type=float, default=256.0, help="decoded-frame cache (default 256)")
    parser.add_argument("--proxy-mb", type=float, default=256.0, help="display-proxy budget (default 256)")
    parser.add_argument("--no-opencv", action="store_true", help="skip the CAP_PROP_POS_FRAMES comparison")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random seek positions (default 0)")


def make_test_clip(path: Path, *, frames: int, b_frames: int) -> Path:
    from engine.video.synthetic import write_clip

    t = time.perf_counter()
    write_clip(path, frames=frames, width=1280, height=720, fps=25, gop=frames + 1, b_frames=b_frames)
    print(f"wrote {path}: 1280x720 H.264, {frames} frames, one keyframe, {b_frames} B-frames "
          f"({time.perf_counter() - t:.1f} s)")
    return path


def _pct(values, q):
    import numpy as np

    return float(np.percentile(np.asarray(values) * 1000.0, q))


def _ms(values) -> str:
    return f"p50 {_pct(values, 50):7.1f} ms   p95 {_pct(values, 95):7.1f} ms"


def run(args: argparse.Namespace) -> int:
    from engine.video import VideoError

    with tempfile.TemporaryDirectory(prefix="stv-bench-video-") as tmp:
        path = Path(args.file) if args.file else None
        if args.make_test_clip or path is None:
            out = Path(args.make_test_clip) if args.make_test_clip else Path(tmp) / "test_720p_single_key.mp4"
            make_test_clip(out, frames=args.frames, b_frames=args.b_frames)
            if path is None:
                path = out
        try:
            return _bench(path, args)
        except VideoError as exc:
            print(f"stv bench video: {exc}", file=sys.stderr)
            return 1


def _bench(path: Path, args) -> int:
    import av

    from engine.video import open_video
    from engine.video.decoder import to_rgb

    rng = random.Random(args.seed)
    src = open_video(path, cache_mb=0, readahead=False)
    n = len(src)
    keys = src.keyframes
    print(f"{path}: {src.codec_name} {src.width}x{src.height}, {n} frames, {src.fps:.6g} fps, "
          f"{len(keys)} keyframes (longest GOP {src.index.max_gop})")

    # 1. sequential: decode + RGB, frame threading (the inference path)
    t = time.perf_counter()
    count = sum(1 for _ in src.iter_frames())
    seq = time.perf_counter() - t
    print(f"sequential decode (iter_frames, RGB)   : {count / seq:7.1f} fps")
    # per-frame decode cost as the seeking decoder pays it (no frame threading, no RGB)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        kept, decoded = [], 0
        t = time.perf_counter()
        for f in container.decode(stream):  # frames are not kept: buffers get reused as in a seek
            decoded += 1
            if len(kept) < 10:
                kept.append(f)
        t_decode = (time.perf_counter() - t) / decoded
        to_rgb(kept[0])  # the first conversion sets up swscale: not part of the per-frame cost
        costs = []
        for f in kept:  # median: robust to the other processes sharing the CPU
            t = time.perf_counter()
            to_rgb(f)
            costs.append(time.perf_counter() - t)
        t_rgb = sorted(costs)[len(costs) // 2]
        del kept
    print(f"per-frame decode (single thread)       : {t_decode * 1000:7.2f} ms   (+ RGB conversion {t_rgb * 1000:.2f} ms)")

    # 2. cold random seeks: no cache, no read-ahead, decoder state carries over as in real use
    ks = [rng.randrange(n) for _ in range(args.seeks)]
    measured, floors, keyframe_floors = [], [], []
    for k in ks:
        pos = src._decoder._pos
        key = int(keys[src.index.keyframe_at_or_before(k)])
        from_key = k - key + 1
        needed = k - pos if (pos is not None and key - 1 <= pos < k) else from_key
        t = time.perf_counter()
        src[k]
        measured.append(time.perf_counter() - t)
        floors.append(needed * t_decode + t_rgb)
        keyframe_floors.append(from_key * t_decode + t_rgb)
    print(f"cold seek  src[k] (exact)              : {_ms(measured)}")
    print(f"  floor (frames to decode x decode time): {_ms(floors)}   (from keyframe, ignoring decoder position: {_ms(keyframe_floors)})")
    ratio = sorted(m / f for m, f in zip(measured, floors))[len(floors) // 2]
    print(f"  median measured/floor                 : {ratio:7.2f}   (< 1: non-reference frames skipped)")
    src.close()

    # 3. OpenCV for comparison
    if not args.no_opencv:
        _bench_opencv(path, ks[: min(len(ks), 15)])

    # 4. warm: background index, then seeks
    src = open_video(path, cache_mb=args.cache_mb, readahead=False)
    t = time.perf_counter()
    indexer = src.start_background_index(proxy_mb=args.proxy_mb)
    src.wait_background_index()
    took = time.perf_counter() - t
    proxies = indexer.proxies
    detail = ("whole video in the exact cache" if indexer.exact_only else
              f"{proxies.count} JPEG proxies {proxies.size[0]}x{proxies.size[1]} "
              f"({proxies.nbytes / 2**20:.0f} MB)")
    print(f"background index                        : {took:7.2f} s   ({len(src.cache)} exact frames cached "
          f"({src.cache.nbytes / 2**20:.0f} MB), {detail}; verified {indexer.verified_count}/{n} frames"
          f"{'' if indexer.problem is None else '; PROBLEM: ' + indexer.problem})")
    ks = [rng.randrange(n) for _ in range(args.seeks)]
    display = []
    for k in ks:
        t = time.perf_counter()
        src.get_display_frame(k)
        display.append(time.perf_counter() - t)
    exact = []
    for k in ks[: max(10, len(ks) // 2)]:
        t = time.perf_counter()
        src[k]
        exact.append(time.perf_counter() - t)
    met = "met" if _pct(display, 95) <= 40 else "NOT met"
    print(f"warm seek  get_display_frame(k)        : {_ms(display)}   (target p95 <= 40 ms: {met})")
    print(f"warm seek  src[k] (exact)              : {_ms(exact)}")
    src.close()
    return 0


def _bench_opencv(path: Path, ks: list[int]) -> None:
    import cv2
    import numpy as np

    from engine.video import open_video

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        print("opencv POS_FRAMES seek                  : cannot open")
        return
    times, wrong = [], 0
    with open_video(path, cache_mb=0, readahead=False) as src:
        for k in ks:
            t = time.perf_counter()
            cap.set(cv2.CAP_PROP_POS_FRAMES, k)
            ok, bgr = cap.read()
            times.append(time.perf_counter() - t)
            if not ok:
                wrong += 1
                continue
            # compare loosely (OpenCV converts YUV->RGB slightly differently): right frame or not
            err = np.abs(bgr[:, :, ::-1].astype(np.int16) - src[k].astype(np.int16)).mean()
            if err > 3.0:
                wrong += 1
    cap.release()
    print(f"opencv CAP_PROP_POS_FRAMES seek        : {_ms(times)}   ({wrong}/{len(ks)} frames wrong)")
