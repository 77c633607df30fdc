"""`stv review-eval DATA [--model CKPT] [--json]`: how much of a run's actual identity errors the review queue finds.

Runs the model (default: the demo model) on every clip of the synthetic benchmark DATA (as
``stv make-synthetic`` writes it), builds each run's review queue without looking at the gt, and prints the
share of the run's actual ID switches and fragmentations (against the gt) that the top 10 / 20 / 50 items of
that clip's queue cover, pooled over clips, and IDF1 before and after accepting the top-20 proposals
blindly. Definitions: engine/compare/review_eval.py.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

KEYS = ("switch_coverage_top10", "switch_coverage_top20", "switch_coverage_top50", "fragment_coverage_top20",
        "idf1_before", "idf1_after_top20")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, help="a synthetic benchmark folder (stv make-synthetic OUT)")
    parser.add_argument("--model", default="demo", help="checkpoint path or 'demo' (default)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="keep the runs' caches here (default: a temporary folder, removed afterwards)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (fractions)")


def run(args: argparse.Namespace) -> int:
    from engine.cache.errors import CacheError
    from engine.compare.review_eval import evaluate_benchmark
    from engine.data.synthetic import SyntheticFormatError
    from engine.io.mot import MOTFormatError

    if not args.data.is_dir():
        print(f"stv review-eval: {args.data}: no such folder", file=sys.stderr)
        return 1
    try:
        with tempfile.TemporaryDirectory(prefix="stv-review-eval-") as tmp:
            workdir = args.cache_dir or Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            summary, clips = evaluate_benchmark(args.data, model=args.model, device=args.device, workdir=workdir)
    except (SyntheticFormatError, MOTFormatError, CacheError, OSError, ValueError) as exc:
        print(f"stv review-eval: {exc}", file=sys.stderr)
        return 1
    summary["model"] = str(args.model)
    summary["model_sha256"] = _sha256(args.model)
    if args.json:
        print(json.dumps(summary, sort_keys=True))
        return 0
    print(f"{summary['clips']} clips, model {args.model} (sha256 {summary['model_sha256'][:12]}): "
          f"{summary['switches']} ID switches, {summary['fragments']} fragmentations against the gt; "
          f"{summary['queue_items']} queue items")
    for key in KEYS:
        value = summary[key]
        line = f"  {key:<26} {'-' if value is None else f'{value:.3f}'}"
        reference = summary.get(f"random_{key}")
        if reference is not None:
            line += f"   (a random queue of the same length: {reference:.3f})"
        print(line)
    print(f"  ({summary['proposals_applied']} proposals accepted, {summary['proposals_skipped']} no longer applied)")
    return 0


def _sha256(model: str) -> str:
    import hashlib

    if model == "demo":
        from engine.assets import demo_model_path

        path = demo_model_path()
    else:
        path = Path(model)
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""
