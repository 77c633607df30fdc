"""`stv eval`: MOTChallenge metrics (CLEAR, Identity, HOTA) equal to TrackEval's."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

TABLE = (("HOTA", "HOTA", 100), ("DetA", "DetA", 100), ("AssA", "AssA", 100), ("LocA", "LocA", 100),
         ("MOTA", "MOTA", 100), ("MOTP", "MOTP", 100), ("IDF1", "IDF1", 100), ("IDP", "IDP", 100),
         ("IDR", "IDR", 100), ("FP", "FP", 1), ("FN", "FN", 1), ("IDSW", "IDSW", 1), ("Frag", "Frag", 1),
         ("MT", "MT", 1), ("PT", "PT", 1), ("ML", "ML", 1))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gt", required=True, type=Path, action="append",
                        help="gt.txt (repeat --gt/--pred for several sequences: per-sequence + combined)")
    parser.add_argument("--pred", required=True, type=Path, action="append",
                        help="tracker results (MOT, 7 or more columns as TrackEval accepts)")
    parser.add_argument("--seqinfo", type=Path, action="append", default=None,
                        help="seqinfo.ini per sequence (default: beside gt.txt or one folder up; without one "
                             "the sequence ends at the last frame of either file)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (fractions; MOTP is mean IoU) instead of a table")
    parser.add_argument("--gt-semantics", choices=("auto", "mot15", "mot16"), default="auto",
                        help="auto: 9-column gt = MOT16/17/20 (class 1 only, flag 0 ignored, distractor matches "
                             "removed), 10-column gt = MOT15 (flag 0 ignored only)")
    parser.add_argument("--strict", action="store_true",
                        help="refuse (exit 1) when results and gt look like different sequences (frame ranges or "
                             "seqinfo.ini disagree) instead of warning")
    parser.add_argument("--keep-distractor-matches", action="store_true",
                        help="MOT16+: do not remove predictions matched to distractor gt (TrackEval DO_PREPROC off)")


def run(args: argparse.Namespace) -> int:
    from engine.io import MOTFormatError, find_seqinfo, read_gt, read_results, read_seqinfo
    from engine.io.sequence_match import sequence_mismatches
    from engine.metrics import combine_sequences, evaluate_sequence

    if len(args.gt) != len(args.pred):
        print("stv eval: give as many --pred as --gt", file=sys.stderr)
        return 2
    if args.seqinfo is not None and len(args.seqinfo) != len(args.gt):
        print("stv eval: give one --seqinfo per --gt", file=sys.stderr)
        return 2
    names, per_sequence = [], []
    try:
        for k, (gt_path, pred_path) in enumerate(zip(args.gt, args.pred)):
            seqinfo_path = args.seqinfo[k] if args.seqinfo else find_seqinfo(gt_path)
            info = read_seqinfo(seqinfo_path) if seqinfo_path else None
            seq_length = info.seq_length if info else None
            # TrackEval checks gt classes only when it removes distractor matches
            read_semantics = "mot15" if args.keep_distractor_matches else args.gt_semantics
            gt = read_gt(gt_path, seq_length=seq_length, semantics=read_semantics)
            pred = read_results(pred_path, seq_length=seq_length)
            pred_seqinfo = find_seqinfo(pred_path)
            pred_info = (read_seqinfo(pred_seqinfo) if pred_seqinfo is not None
                         and (seqinfo_path is None or pred_seqinfo.resolve() != Path(seqinfo_path).resolve()) else None)
            reasons = sequence_mismatches(gt, pred, gt_info=info, pred_info=pred_info)
            if reasons:
                verdict = "refused (--strict)" if args.strict else "warning"
                print(f"stv eval: {verdict}: {pred_path} and {gt_path} look like different sequences: "
                      + "; ".join(reasons), file=sys.stderr)
                if args.strict:
                    return 1
            per_sequence.append(evaluate_sequence(
                gt, pred, num_timesteps=seq_length, gt_semantics=args.gt_semantics,
                remove_distractor_matches=not args.keep_distractor_matches,
            ))
            names.append(info.name if info else _sequence_name(gt_path))
    except (MOTFormatError, OSError, ValueError) as exc:
        print(f"stv eval: {exc}", file=sys.stderr)
        return 1
    combined = combine_sequences(per_sequence).summary()
    if args.json:
        out = dict(combined)
        out["per_sequence"] = {name: m.summary() for name, m in zip(names, per_sequence)}
        print(json.dumps(out, sort_keys=True))
        return 0
    rows = [(name, m.summary()) for name, m in zip(names, per_sequence)]
    if len(rows) > 1:
        rows.append(("COMBINED", combined))
    width = max(10, *(len(name) for name, _ in rows))
    print(f"{'sequence':<{width}} " + " ".join(f"{label:>6}" for label, _, _ in TABLE))
    for name, summary in rows:
        cells = []
        for _, key, scale in TABLE:
            value = summary[key]
            cells.append(f"{value * 100:6.2f}" if scale == 100 else f"{int(value):6d}")
        print(f"{name:<{width}} " + " ".join(cells))
    print("(HOTA..IDR in %, HOTA/DetA/AssA/LocA averaged over IoU 0.05..0.95; CLEAR and Identity at IoU 0.5)")
    return 0


def _sequence_name(gt_path: Path) -> str:
    gt_path = gt_path.resolve()
    # MOT layout SEQ/gt/gt.txt -> SEQ; a flat SEQ/gt.txt -> SEQ
    return gt_path.parent.parent.name if gt_path.parent.name == "gt" else gt_path.parent.name
