"""`stv infer`: run a model over a video (or a collection of videos) into HDF5 result caches."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="VIDEO",
                        help="a video file or MOT sequence folder; with --out-dir: folders, videos or .txt lists")
    parser.add_argument("--model", default="demo", help="checkpoint path, or 'demo' for the bundled model")
    parser.add_argument("--out", type=Path, help="results .h5 of a single video (default: beside the video)")
    parser.add_argument("--out-dir", type=Path, help="process a collection: one cache per video in this folder")
    parser.add_argument("--run", dest="run_name", help="run name inside the cache (default: the model's name)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    parser.add_argument("--window", type=int, help="frames per model window (default: the model's clip length)")
    parser.add_argument("--stride", type=int, help="frames between windows (bidirectional models)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: every core but one)")
    parser.add_argument("--batch-size", type=int, help="windows per forward pass (bidirectional models; 8 on CUDA)")
    parser.add_argument("--score-threshold", type=float,
                        help="detection score threshold (0.3; a resumed run keeps the one it was made with)")
    parser.add_argument("--mot-out", type=Path, help="also write the run's tracks as MOT results (single video)")
    parser.add_argument("--checkpoint-seconds", type=float, default=2.0,
                        help="make results durable at least this often (2.0); a killed run resumes from there")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import logging

    from engine.pipeline.control import InferenceCancelled

    logging.basicConfig(level=logging.INFO, format="stv infer: %(message)s")
    _set_threads(args.threads)

    try:
        if args.out_dir is not None:
            return _run_collection(args)
        if len(args.inputs) != 1:
            print("stv infer: give one video, or use --out-dir for many", file=sys.stderr)
            return 2
        return _run_single(args)
    except InferenceCancelled:
        print("stv infer: cancelled; progress so far is saved and will resume", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:
        print(f"stv infer: {exc}", file=sys.stderr)
        return 1


def _set_threads(threads: int | None) -> None:
    import torch

    from engine.pipeline.stream import default_cpu_threads

    torch.set_num_threads(threads or default_cpu_threads())


class _ProgressBar:
    """The progress callback: a tqdm bar made at the first report, so a run with nothing left to do
    shows none (not a stuck empty bar), and one rate, the pipeline's frames/s (tqdm's own rate would
    count the frames a resumed run skipped as just done)."""

    FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"

    def __init__(self, args: argparse.Namespace, description: str):
        self.quiet = args.quiet
        self.description = description
        self.bar = None
        self.reports = 0

    def __call__(self, progress) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=progress.total, initial=progress.done, unit="frame", desc=self.description,
                            disable=self.quiet, dynamic_ncols=True, bar_format=self.FORMAT)
        self.reports += 1
        self.bar.total = progress.total
        self.bar.n = progress.done
        self.bar.set_postfix_str(f"{progress.fps:.1f} frames/s", refresh=False)
        self.bar.refresh()

    def __enter__(self) -> "_ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_single(args: argparse.Namespace) -> int:
    from engine.train.provenance import synthetic_domain_warning
    from engine.pipeline import default_cache_path, infer_video

    from engine.io.paths import require_output_file

    video = Path(args.inputs[0])
    out = args.out or default_cache_path(video)
    require_output_file(out, "results cache (--out)")  # a FIFO or device would block or never end
    if args.mot_out is not None:
        require_output_file(args.mot_out, "--mot-out results")
    notice = synthetic_domain_warning(args.model, video)  # said once, before the run
    if notice:
        print(f"stv infer: warning: {notice}", file=sys.stderr)
    with _ProgressBar(args, video.name) as progress:
        name = infer_video(video, model=args.model, cache_path=out, run_name=args.run_name, device=args.device,
                           window=args.window, stride=args.stride, batch_size=args.batch_size, progress=progress,
                           score_threshold=args.score_threshold, checkpoint_seconds=args.checkpoint_seconds)
    if progress.reports:
        print(f"run {name!r} written to {out}")
    else:
        print(f"run {name!r} in {out} is already complete: nothing to do")
    if args.mot_out is not None:
        count = export_mot(out, name, args.mot_out)
        print(f"{count} track rows written to {args.mot_out}")
    return 0


def export_mot(cache_path: Path, run_name: str, mot_path: Path) -> int:
    """Write a run's tracks as MOTChallenge results (1-based frames and pixels): the rows and text
    ``stv export --run`` writes (the cache's float32 as shortest decimals, 340.829 not 340.82899475097656)."""
    from engine.cache import ResultsCache
    from engine.io.export import run_results_records
    from engine.io.mot import write_mot

    with ResultsCache.open(cache_path, mode="r") as cache:
        records = run_results_records(cache.run(run_name))
    write_mot(mot_path, records)
    return len(records)


def _run_collection(args: argparse.Namespace) -> int:
    from engine.pipeline.collection import RankInfo, infer_collection, list_videos

    if args.out is not None or args.mot_out is not None:
        print("stv infer: --out and --mot-out are for a single video; with --out-dir each video gets "
              "<out-dir>/<video file name>.stv.h5", file=sys.stderr)
        return 2
    rank = RankInfo.from_env()
    videos = list_videos(args.inputs)
    share = len(videos[rank.rank::rank.world_size])
    print(f"rank {rank.rank}/{rank.world_size}: {share} of {len(videos)} videos")

    def report(video: Path, status: str) -> None:
        print(f"[rank {rank.rank}] {video.name}: {status}", flush=True)

    outcomes = infer_collection(videos, out_dir=args.out_dir, model=args.model, rank=rank, device=args.device,
                                run_name=args.run_name, on_video=report, window=args.window, stride=args.stride,
                                batch_size=args.batch_size,
                                score_threshold=args.score_threshold,
                                checkpoint_seconds=args.checkpoint_seconds)
    failed = [video for video, status in outcomes if status.startswith("error")]
    return 1 if failed else 0
