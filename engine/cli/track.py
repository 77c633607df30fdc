"""`stv track`: run the ByteTrack-style tracker on MOT detections and write MOT results."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--det", required=True, type=Path, help="MOT det.txt (7 or more columns)")
    parser.add_argument("--out", required=True, type=Path,
                        help="results file to write (MOT, 10 columns; computed boxes at 1e-3 px)")
    parser.add_argument("--seqinfo", type=Path, default=None,
                        help="seqinfo.ini (default: found beside the det file or one folder up; "
                             "without one, the sequence ends at the last detection's frame)")
    parser.add_argument("--interpolate-gaps", type=int, default=20, metavar="N",
                        help="offline: linearly interpolate track gaps of up to N missing frames (default 20; 0 = off)")
    parser.add_argument("--no-backfill", action="store_true",
                        help="do not output a track's frames from before it was confirmed")
    group = parser.add_argument_group("tracker (see engine.tracking.ByteTracker)")
    group.add_argument("--high-threshold", type=float, default=0.6,
                       help="detections at or above: first association, may start tracks (0.6)")
    group.add_argument("--low-threshold", type=float, default=0.1,
                       help="detections below are ignored; between low and high: second association only (0.1)")
    group.add_argument("--new-track-threshold", type=float, default=0.7, help="minimum score to start a track (0.7)")
    group.add_argument("--match-threshold", type=float, default=0.7, help="max 1 - IoU in the first association")
    group.add_argument("--confirm-hits", type=int, default=2,
                       help="matched frames before a new track is confirmed and written (2)")
    group.add_argument("--max-lost-frames", type=int, default=30,
                       help="frames a lost track is kept for re-identification (30)")


def run(args: argparse.Namespace) -> int:
    from engine.io import MOTFormatError, find_seqinfo, read_detections, read_seqinfo, require_output_file, write_mot
    from engine.io.mot_tracking import track_mot_detections, tracks_to_results
    from engine.tracking import ByteTracker

    try:
        require_output_file(args.out, "--out results file")
        seqinfo_path = args.seqinfo or find_seqinfo(args.det)
        seq_length = read_seqinfo(seqinfo_path).seq_length if seqinfo_path else None
        detections = read_detections(args.det, seq_length=seq_length)
        num_frames = seq_length if seq_length is not None else detections.max_frame()
        tracker = ByteTracker(
            high_threshold=args.high_threshold,
            low_threshold=args.low_threshold,
            new_track_threshold=args.new_track_threshold,
            match_threshold=args.match_threshold,
            confirm_hits=args.confirm_hits,
            max_lost_frames=args.max_lost_frames,
        )
        if args.interpolate_gaps < 0:
            raise ValueError("--interpolate-gaps must be >= 0")
        frames, ids, boxes, scores = track_mot_detections(
            detections, num_frames=num_frames, tracker=tracker,
            interpolate_gaps_up_to=args.interpolate_gaps, backfill_tentative=not args.no_backfill)
        write_mot(args.out, tracks_to_results(frames, ids, boxes, scores))
    except (MOTFormatError, OSError, ValueError) as exc:
        print(f"stv track: {exc}", file=sys.stderr)
        return 1
    print(f"{num_frames} frames, {len(detections)} detections -> {len(frames)} boxes in "
          f"{len(set(ids.tolist()))} tracks: {args.out}")
    return 0
