"""`stv import`: MOT gt -> label set, MOT results -> run, a sequence's det.txt tracked -> run.

The cache is created for the video when it does not exist (give --video). Files are checked before the
cache is touched; refusals name the file, the line and the rule (engine.io.mot_import)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cache", type=Path, metavar="RESULTS.h5", help="the video's results cache")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--gt", type=Path, metavar="gt.txt", help="MOT ground truth to import as a label set")
    source.add_argument("--results", type=Path, metavar="res.txt",
                        help="MOT results (7 or more columns) to import as a run")
    source.add_argument("--det", type=Path, metavar="det.txt",
                        help="MOT detections to track with the built-in tracker into a run")
    source.add_argument("--sequence", type=Path, metavar="SEQ",
                        help="a MOT sequence folder: gt/gt.txt -> label set (--labels, default 'gt') and det/det.txt "
                             "tracked -> run (--run, default 'public-detections'); its seqinfo.ini must match")
    parser.add_argument("--labels", metavar="NAME", help="label set to create (with --gt or --sequence)")
    parser.add_argument("--run", metavar="NAME", help="run to create (with --results, --det or --sequence)")
    parser.add_argument("--video", type=Path, default=None,
                        help="the video (file or MOT sequence folder): creates the cache if missing, else checks "
                             "that the cache belongs to it")
    parser.add_argument("--semantics", choices=("auto", "mot15", "mot16"), default="auto",
                        help="gt classes (auto: 10-column gt is MOT15, without classes)")
    parser.add_argument("--interpolate-gaps", type=int, default=20, metavar="N",
                        help="with --det: interpolate track gaps of up to N frames (default 20; 0 = off)")


def run(args: argparse.Namespace) -> int:
    from engine.cache import CacheError
    from engine.io import MOTFormatError, read_detections, read_gt, read_results

    if args.gt is not None and (args.labels is None or args.run is not None):
        print("stv import: --gt imports a label set: give --labels NAME (and no --run)", file=sys.stderr)
        return 2
    if (args.results is not None or args.det is not None) and (args.run is None or args.labels is not None):
        print("stv import: --results/--det import a run: give --run NAME (and no --labels)", file=sys.stderr)
        return 2
    if args.interpolate_gaps < 0:
        print("stv import: --interpolate-gaps must be >= 0", file=sys.stderr)
        return 2
    try:
        from engine.io.mot_import import open_or_create_cache

        if args.sequence is not None:
            return _import_sequence(args)
        # read and check the file first: a bad file never creates or touches a cache
        if args.gt is not None:
            records = read_gt(args.gt, semantics=args.semantics)
        elif args.results is not None:
            records = read_results(args.results)
        else:
            records = read_detections(args.det)
        with open_or_create_cache(args.cache, video=args.video) as cache:
            message = _import(cache, records, args)
    except (MOTFormatError, CacheError, KeyError, OSError, ValueError) as exc:
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"stv import: {text}", file=sys.stderr)
        return 1
    print(message)
    return 0


def _import_sequence(args) -> int:
    from engine.io.mot_import import import_sequence_folder, open_or_create_cache
    from engine.io.paths import require_directory

    require_directory(args.sequence, "--sequence folder")
    with open_or_create_cache(args.cache, video=args.video) as cache:
        lines = import_sequence_folder(cache, args.sequence, labels_name=args.labels or "gt",
                                       run_name=args.run or "public-detections", semantics=args.semantics)
    for line in lines:
        print(line)
    return 0


def _import(cache, records, args) -> str:
    from engine.io.mot_import import import_detections_run, import_results_run, label_set_from_gt

    num_frames = int(cache.video.num_frames)
    if args.gt is not None:
        from engine.labels import journal as J

        name = args.labels
        journal = J.journal_path_for(cache.path)
        taken = name in cache.label_set_names
        if not taken and journal.is_file():
            log = J.LabelJournal.open(journal, video_fingerprint=cache.video.fingerprint)
            try:
                taken = name in log.label_set_names()
            finally:
                log.close()
        if taken:
            raise ValueError(f"{cache.path}: a label set named {name!r} exists; choose another --labels name "
                             "(nothing saved is overwritten)")
        label_set = label_set_from_gt(records, name=name, num_frames=num_frames, width=cache.video.width,
                                      height=cache.video.height)
        J.save(cache, label_set)
        return (f"{args.gt}: {label_set.num_boxes} boxes in {len(label_set)} tracks -> label set {name!r} "
                f"of {cache.path}")
    if args.run in cache.run_names:
        raise ValueError(f"{cache.path}: a run named {args.run!r} exists; choose another --run name")
    if args.results is not None:
        rows = import_results_run(cache, records, name=args.run)
        return f"{args.results}: {rows} boxes -> run {args.run!r} of {cache.path}"
    from engine.tracking import ByteTracker

    rows = import_detections_run(cache, records, name=args.run, tracker=ByteTracker(),
                                 interpolate_gaps_up_to=args.interpolate_gaps)
    return f"{args.det}: {len(records)} detections tracked -> {rows} boxes in run {args.run!r} of {cache.path}"
