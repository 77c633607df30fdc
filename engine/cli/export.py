"""`stv export`: a label set as MOTChallenge gt (+ seqinfo.ini, TrackEval layout), or a run / label set
as a MOT results file. Every export is validated against TrackEval's rules (engine.io.mot_validate)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cache", type=Path, metavar="RESULTS.h5", help="the video's results cache")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--labels", metavar="NAME", help="label set to write as gt: OUT/SEQ/gt/gt.txt + seqinfo.ini")
    what.add_argument("--run", metavar="NAME", help="run to write as a 10-column results file OUT/SEQ.txt")
    parser.add_argument("--as-results", action="store_true",
                        help="with --labels: write the label set as a results file (OUT/SEQ.txt) instead of gt: the "
                             "rows TrackEval scores (class 1, consider flag set), as a perfect tracker would report")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder (created)")
    parser.add_argument("--name", default=None, metavar="SEQ",
                        help="sequence name (default: the video's file name without extension, or its seqinfo name)")
    parser.add_argument("--layout", choices=("plain", "trackeval"), default="plain",
                        help="trackeval: OUT/gt/mot_challenge/BENCH-SPLIT/SEQ/ + seqmaps/BENCH-SPLIT.txt for gt, "
                             "OUT/trackers/mot_challenge/BENCH-SPLIT/RUN/data/SEQ.txt for results")
    parser.add_argument("--benchmark", default=None, help="TrackEval BENCHMARK (with --layout trackeval), e.g. MOT17")
    parser.add_argument("--split", default=None, help="TrackEval SPLIT_TO_EVAL (with --layout trackeval), e.g. train")


def run(args: argparse.Namespace) -> int:
    from engine.cache import CacheError
    from engine.io import MOTFormatError, require_regular_file
    from engine.io.export import (SequenceMeta, export_label_set_gt, export_results, label_set_results_records,
                                  load_current_label_set, run_results_records)

    if args.layout == "trackeval" and not (args.benchmark and args.split):
        print("stv export: --layout trackeval needs --benchmark and --split", file=sys.stderr)
        return 2
    if args.layout == "plain" and (args.benchmark or args.split):
        print("stv export: --benchmark/--split only apply with --layout trackeval", file=sys.stderr)
        return 2
    try:
        from engine.cache import ResultsCache

        require_regular_file(args.cache, "results cache")
        with ResultsCache.open(args.cache, mode="r") as cache:
            meta = SequenceMeta.of_cache(cache, name=args.name)
            trackeval = dict(layout=args.layout, benchmark=args.benchmark, split=args.split)
            if args.run is not None:
                reader = cache.run(args.run)
                if not reader.info.complete:
                    print(f"stv export: warning: run {args.run!r} is incomplete ({reader.completed_frames} of "
                          f"{reader.num_frames} frames): only its committed frames are written", file=sys.stderr)
                records = run_results_records(reader)
                result = export_results(records, args.out, meta=meta, tracker=args.run, **trackeval)
            else:
                label_set = load_current_label_set(cache, args.labels)
                if args.as_results:
                    result = export_results(label_set_results_records(label_set), args.out, meta=meta,
                                            tracker=args.labels, **trackeval)
                else:
                    result = export_label_set_gt(label_set, args.out, meta=meta, **trackeval)
    except (MOTFormatError, CacheError, KeyError, OSError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"stv export: {message}", file=sys.stderr)
        return 1
    what = f"run {args.run!r}" if args.run is not None else f"label set {args.labels!r}"
    print(f"{what}: {result.rows} boxes of sequence {meta.name} ({meta.num_frames} frames) -> "
          + ", ".join(str(p) for p in result.written) + " (validated against TrackEval's rules)")
    return 0
