"""loader: streamed training clips/s with 1 and 2 workers, and stv train's first step and peak RSS on a UCF-101-sized index.

    stv bench loader [--data UCF-101] [--config tiny] [--batches 20] [--workers 1 2] [--no-train]

Without --data it writes a UCF-101-sized tree (101 classes, 25 groups, 13,320 clips, the 3 official
splits) of tiny generated clips into a temporary folder, every index entry a hard link to one short
video, so the index has real UCF-101's size while the disk holds one file. The loader alone is
timed (engine.train.streaming: decode, random window, ClipAugment, target encoding), then real
`stv train --max-steps 1` processes whose peak memory (PSS of the process and its DataLoader workers,
so pages the forked workers share are counted once; sampled from /proc) and time to the first step
are printed: on the whole index and on 32 of its clips, so the index's own cost is the difference
(the rest is the model's activations, which grow with --batch-size and the config's input).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=None, help="a UCF-101/HMDB-51/MOT17 tree (default: a generated UCF-101-sized one)")
    parser.add_argument("--config", default="tiny", help="model preset whose clip length and input size are used")
    parser.add_argument("--batch-size", type=int, default=16, help="clips per batch (default 16, the paper's)")
    parser.add_argument("--batches", type=int, default=20, help="batches timed per worker count (default 20)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--frames", type=int, default=40, help="frames per generated clip (default 40)")
    parser.add_argument("--no-train", action="store_true", help="skip the stv train first-step / RSS run")


def process_tree_rss(root_pid: int) -> int:
    """Sum of the proportional set sizes (bytes; VmRSS where smaps_rollup is unreadable) of ``root_pid``
    and its descendants, from /proc (0 where there is no /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            status = Path("/proc", entry, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry)] = int(fields.get("PPid", "0").strip() or 0)
        value = fields.get("VmRSS", "0 kB").split()
        rss[int(entry)] = int(value[0]) * 1024 if value else 0
        try:
            for line in Path("/proc", entry, "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    rss[int(entry)] = int(line.split()[1]) * 1024
                    break
        except OSError:
            pass
    total = 0
    for pid in rss:
        p = pid
        while p and p != root_pid:
            p = parents.get(p, 0)
        if p == root_pid:
            total += rss[pid]
    return total


def timed_loader(data: Path, *, config, workers: int, batch_size: int, batches: int) -> tuple[float, float]:
    """(seconds to the first batch, clips/s over the following batches) of the streaming loader."""
    import torch

    from engine.train.streaming import open_streaming_clips

    clips = open_streaming_clips(data, config=config, fold=1, seed=0, max_clips=None)
    clips.set_epoch(0)
    sampler = torch.utils.data.RandomSampler(clips, generator=torch.Generator().manual_seed(0))
    loader = torch.utils.data.DataLoader(clips, batch_size=batch_size, sampler=sampler, num_workers=workers,
                                         drop_last=True)
    start = time.perf_counter()
    iterator = iter(loader)
    next(iterator)
    first = time.perf_counter() - start
    start = time.perf_counter()
    done = 0
    for _ in range(batches):
        batch = next(iterator)
        done += batch["clip"].shape[0]
    del iterator
    return first, done / (time.perf_counter() - start)


def train_first_step(data: Path, *, config: str, batch_size: int, workers: int,
                     max_clips: int | None = None) -> tuple[int, float, int]:
    """(exit code, seconds from launch to the end of the first step, peak PSS bytes of the process tree)."""
    with tempfile.TemporaryDirectory(prefix="stv-bench-train-") as out:
        cmd = [sys.executable, "-m", "engine.cli.main", "train", "--data", str(data), "--config", config,
               "--out", out, "--epochs", "1", "--max-steps", "1", "--batch-size", str(batch_size),
               "--workers", str(workers), "--device", "cpu", "--no-progress"]
        if max_clips is not None:
            cmd += ["--max-clips", str(max_clips)]
        peak = 0
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, process_tree_rss(proc.pid))
                stop.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        first_step = float("nan")
        for line in proc.stdout:
            if "first step done" in line and first_step != first_step:
                first_step = time.perf_counter() - start
        code = proc.wait()
        stop.set()
        sampler.join()
    return code, first_step, peak


def run(args: argparse.Namespace) -> int:
    from engine.config import get_config
    from engine.data.tiny_trees import UCF_CLASSES, UCF_CLIPS, UCF_GROUPS, write_ucf101_tree

    if args.batches < 1 or args.batch_size < 1 or min(args.workers) < 0:
        print("stv bench loader: --batches and --batch-size must be >= 1, --workers >= 0", file=sys.stderr)
        return 2
    config = get_config(args.config)
    with tempfile.TemporaryDirectory(prefix="stv-bench-loader-") as tmp:
        if args.data:
            data = Path(args.data)
        else:
            began = time.perf_counter()
            data = write_ucf101_tree(tmp, classes=UCF_CLASSES, groups=UCF_GROUPS, total_clips=UCF_CLIPS,
                                     frames=args.frames, size=(120, 160), shared_video=True)
            print(f"generated a UCF-101-sized tree: {UCF_CLIPS} clips of {args.frames} frames at 160x120, "
                  f"{UCF_CLASSES} classes, 3 splits, in {time.perf_counter() - began:.1f}s")
        print(f"loader: {args.config} windows ({config.clip_len} frames at {config.input_size[0]}x{config.input_size[1]}),"
              f" batch {args.batch_size}, decode + random window + ClipAugment + targets")
        for workers in args.workers:
            first, rate = timed_loader(data, config=config, workers=workers, batch_size=args.batch_size,
                                       batches=args.batches)
            print(f"  workers {workers}: {rate:7.1f} clips/s   (first batch after {first:.2f}s)")
        if not args.no_train:
            workers = max(args.workers)
            for label, max_clips in (("the whole index", None), ("32 clips of it", 32)):
                code, first_step, peak = train_first_step(data, config=args.config, batch_size=args.batch_size,
                                                          workers=workers, max_clips=max_clips)
                if code != 0:
                    print(f"stv bench loader: the stv train run failed (exit {code})", file=sys.stderr)
                    return 1
                peak_text = f"{peak / 2**30:.2f} GB" if peak else "n/a (no /proc)"
                print(f"stv train --config {args.config} --batch-size {args.batch_size} --workers {workers} on "
                      f"{label}: first step {first_step:.1f}s after launch, peak memory {peak_text} "
                      f"(PSS, process + workers)")
    return 0
