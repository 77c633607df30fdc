"""`stv validate-mot`: check MOTChallenge files against TrackEval's rules, naming file, line and rule."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, metavar="DIR_OR_FILE",
                        help="gt.txt / det.txt / results .txt / seqinfo.ini, a sequence folder (seqinfo.ini + "
                             "gt/gt.txt), a TrackEval layout (seqmaps/ + BENCH-SPLIT/) or a folder of results")
    parser.add_argument("--kind", choices=("gt", "det", "results"), default=None,
                        help="what a file (or the .txt files of a folder) holds (default: gt.txt = gt, det.txt = "
                             "det, anything else = results)")
    parser.add_argument("--semantics", choices=("auto", "mot15", "mot16"), default="auto",
                        help="gt classes: mot16 requires classes 1..13 in column 8; mot15 has none; auto: "
                             "10-column gt is MOT15 (TrackEval layouts: BENCHMARK MOT15 or not)")
    parser.add_argument("--max-report", type=int, default=50, metavar="N",
                        help="print the first N violations (all are counted; default 50)")


def run(args: argparse.Namespace) -> int:
    from engine.io.mot_validate import validate_mot_path

    if args.max_report < 1:
        print("stv validate-mot: --max-report must be >= 1", file=sys.stderr)
        return 2
    report = validate_mot_path(args.path, kind=args.kind, limit=args.max_report, semantics=args.semantics)
    for line in report.lines():
        print(line)
    print(report.summary())
    return 0 if report.ok else 1
