"""Viewer: display time per frame with all overlays at 720p, seek-to-display latency, cold start.

`stv bench viewer` generates its own 1280×720 clip and a synthetic results cache (8 tracks, α maps,
detections), drives the real window offscreen, and prints medians / p95s. Targets: ≤ 16 ms per
displayed frame, seek-to-display p95 ≤ 50 ms, first frame ≤ 1.5 s after launch. At scale
(``--frames 100000 --tracks 5000``: 1M label boxes, timeline lanes and keyframe marks) the clip is 320×180,
encoded ultrafast (about a minute), and a 2,000-frame window is played (``--play``).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


# A 100k-frame 720p clip takes most of an hour to encode on a small machine; the 720p display cost is
# measured by the default run, so long clips default to a small size and the fastest encoder preset.
LARGE_CLIP_FRAMES = 10_000
SMALL_SIZE = "320x180"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=240, help="length of the generated clip (default 240)")
    parser.add_argument("--size", default=None,
                        help=f"clip size WxH (default 1280x720; {SMALL_SIZE} above {LARGE_CLIP_FRAMES:,} frames, "
                             "where the run measures labels and timeline at scale, not decoding)")
    parser.add_argument("--play", type=int, default=2000,
                        help="sequential frames to time from a random start (default 2000; 0: the whole clip)")
    parser.add_argument("--seeks", type=int, default=60, help="random seeks to time (default 60)")
    parser.add_argument("--cold-starts", type=int, default=3, help="launches to time (default 3)")
    parser.add_argument("--workdir", help="keep the clip and cache here (default: a temporary folder)")
    parser.add_argument("--tracks", type=int, default=0,
                        help="also show a label set being edited: this many tracks, about 200 boxes each "
                             "(5000 -> 1M boxes), with keyframes every 25 frames (default 0: none)")


def _make_inputs(folder: Path, *, frames: int, width: int, height: int) -> tuple[Path, Path]:
    from engine.cache import ResultsCache
    from engine.cache.synthetic import synthetic_frame
    from engine.video import open_video
    from engine.video.synthetic import write_clip

    from stviewer.cache_location import beside_video

    clip = folder / f"bench_{width}x{height}_{frames}.mp4"
    if not clip.exists():
        fast = {"preset": "ultrafast"} if frames > LARGE_CLIP_FRAMES else None
        write_clip(clip, frames=frames, width=width, height=height, fps=25, gop=50, b_frames=2, options=fast)
    cache_path = beside_video(clip)
    if not cache_path.exists():
        with open_video(clip) as video:
            fingerprint, n = video.fingerprint(), len(video)
        with ResultsCache.create(cache_path, video_fingerprint=fingerprint, video_path=str(clip), num_frames=n,
                                 fps=25, width=width, height=height) as cache:
            with cache.create_run("demo", model_config={"name": "bench"}, checkpoint_sha256="", params={},
                                  class_names=["walk", "run", "jump", "wave", "sit", "stand"],
                                  alpha_shape=(height // 8 // 3, width // 8 // 3)) as writer:
                for k in range(n):
                    writer.write(synthetic_frame(k, width=width, height=height, num_tracks=8,
                                                 alpha_shape=(height // 24, width // 24), with_detections=True))
    return clip, cache_path


def synthetic_label_set(*, num_frames: int, num_tracks: int, width: int, height: int, span: int = 200):
    """A label set of ``num_tracks`` tracks, each ``span`` frames long at a random start, MODEL boxes with a
    keyframe every 25 frames (what a long corrected run looks like), built column-wise in one go."""
    from engine.labels import BoxKind, LabelSet
    from engine.labels.model import ROW_WIDTH

    rng = np.random.default_rng(0)
    span = min(span, num_frames)
    starts = rng.integers(0, num_frames - span + 1, size=num_tracks)
    frames = (starts[:, None] + np.arange(span)[None, :]).reshape(-1)
    ids = np.repeat(np.arange(1, num_tracks + 1), span)
    x = rng.uniform(0, width - 60, size=num_tracks)[:, None] + np.linspace(0, 40, span)[None, :]
    y = rng.uniform(0, height - 120, size=num_tracks)[:, None] + np.zeros(span)[None, :]
    table = np.zeros((len(frames), ROW_WIDTH))
    table[:, 0], table[:, 1] = frames, ids
    table[:, 2], table[:, 3] = x.reshape(-1), y.reshape(-1)
    table[:, 4], table[:, 5] = table[:, 2] + 40, table[:, 3] + 90
    table[:, 6] = np.where(np.tile(np.arange(span) % 25 == 0, num_tracks), BoxKind.KEYFRAME, BoxKind.MODEL)
    table[:, 7] = table[:, 8] = table[:, 9] = 1.0
    return LabelSet.from_rows(table, name="bench", num_frames=num_frames, width=width, height=height)


def _percentiles(values_s: list[float]) -> tuple[float, float]:
    a = np.asarray(values_s) * 1000.0
    return float(np.median(a)), float(np.percentile(a, 95))


def _cold_start(clip: Path, runs: int) -> tuple[float, bool]:
    times, torch_loaded = [], False
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run([sys.executable, "-m", "stviewer.app", "--first-frame-report", str(clip)],
                             capture_output=True, text=True, env=env, timeout=120)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("first_frame_wall=")), None)
        if line is None:
            raise RuntimeError(f"viewer did not report its first frame: {out.stderr.strip()[-500:]}")
        fields = dict(kv.split("=") for kv in line.split())
        times.append(float(fields["first_frame_wall"]) - t0)
        torch_loaded |= fields["torch_loaded"] == "True"
    return float(np.median(times)), torch_loaded


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from stviewer.app import make_app, parse_size

    try:
        size = args.size or ("1280x720" if args.frames <= LARGE_CLIP_FRAMES else SMALL_SIZE)
        width, height = parse_size(size)
    except ValueError as exc:
        print(f"stv bench viewer: {exc}", file=sys.stderr)
        return 2
    tmp = None
    if args.workdir:
        folder = Path(args.workdir)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="stv-bench-viewer-")
        folder = Path(tmp.name)
    try:
        t0 = time.perf_counter()
        clip, _cache = _make_inputs(folder, frames=args.frames, width=width, height=height)
        print(f"stv bench viewer: {width}x{height} clip of {args.frames} frames + synthetic cache "
              f"(8 tracks, α maps, detections) in {time.perf_counter() - t0:.1f} s")
        app = make_app()
        from stviewer.main_window import MainWindow

        window = MainWindow(auto_infer=False)
        errors = []
        window.error_reporter = lambda title, msg: errors.append(f"{title}: {msg}")
        window.resize(1600, 1000)
        window.show()
        if not window.open_path(clip) or errors:
            print(f"stv bench viewer: cannot open the clip: {errors}", file=sys.stderr)
            return 1
        state, view = window.state, window.video_view
        if args.tracks > 0:
            t1 = time.perf_counter()
            labels = synthetic_label_set(num_frames=len(state.video), num_tracks=args.tracks, width=width,
                                         height=height)
            window.editing.ask_close = lambda _count: "discard"
            window.editing.editor.set_labels(labels)  # edited, not saved: the journal is not part of the figure
            print(f"  label set shown: {len(labels)} tracks, {labels.num_boxes:,} boxes "
                  f"(built in {time.perf_counter() - t1:.1f} s); timeline lanes + keyframe marks on")
        assert all(state.overlays.values()), "all overlays on"
        state.set_frame(0)
        view.render_now()
        app.processEvents()

        cpu: list[float] = []

        def show(k: int) -> float:
            t, c = time.perf_counter(), time.thread_time()
            state.set_frame(k)
            view.render_now()
            app.processEvents()  # paints the view, the timeline's playhead and the action panel
            cpu.append(time.thread_time() - c)
            return time.perf_counter() - t

        n = len(state.video)
        rng = np.random.default_rng(0)
        cold = [show(int(k)) for k in rng.integers(0, n, size=args.seeks)]
        c50, c95 = _percentiles(cold)
        indexed = state.video.wait_background_index(timeout=300)
        cpu.clear()
        play = n if args.play <= 0 else min(args.play, n)
        first = int(rng.integers(0, n - play + 1))
        display = [show(k) for k in range(first, first + play)]  # sequential, as during playback
        d50, d95 = _percentiles(display)
        u50, _ = _percentiles(cpu)
        warm = [show(int(k)) for k in rng.integers(0, n, size=args.seeks)]
        w50, w95 = _percentiles(warm)
        window.close()
        start_s, torch_loaded = _cold_start(clip, args.cold_starts)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"  display per frame, all overlays, {play} sequential frames: median {d50:.1f} ms, p95 {d95:.1f} ms "
              f"(target median <= 16 ms); UI-thread CPU median {u50:.1f} ms "
              f"[load average {load:.1f} on {os.cpu_count()} CPUs]")
        print(f"  seek-to-display while indexing:            median {c50:.1f} ms, p95 {c95:.1f} ms")
        print(f"  seek-to-display after background index:    median {w50:.1f} ms, p95 {w95:.1f} ms "
              f"(target p95 <= 50 ms){'' if indexed else '  [index not finished]'}")
        print(f"  cold start to first frame (median of {args.cold_starts}): {start_s:.2f} s "
              f"(target <= 1.5 s; torch imported before it: {'yes' if torch_loaded else 'no'})")
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()
