"""`stv eval-actions CKPT|demo DATA [--json]`: action top-1/top-5 and confusion matrix of a checkpoint.

DATA is a folder written by `stv make-synthetic` (its clips, one window each) or a UCF-101/HMDB-51
tree (its test split). With --json one JSON object: top1, top5 (fractions), confusion (rows = true
class), class_names, num_clips.
"""
from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a checkpoint written by stv train, or 'demo' (the bundled demo model)")
    parser.add_argument("data", help="stv make-synthetic folder or a UCF-101/HMDB-51 tree")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--max-clips", type=int, default=None, help="evaluate at most N clips")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto (default cpu)")
    parser.add_argument("--batch-size", type=int, default=8, help="clips per forward pass (default 8)")


def format_report(result: dict) -> str:
    names = result["class_names"]
    width = max([len(n) for n in names] + [4])
    # each column as wide as its class name (and its largest count), so the names head their columns
    cols = [max(len(name), 3, *(len(str(row[j])) for row in result["confusion"])) for j, name in enumerate(names)]
    lines = [f"top-1 {100 * result['top1']:.1f}%   top-5 {100 * result['top5']:.1f}%   ({result['num_clips']} clips)",
             "confusion matrix (rows = true class, columns = predicted):",
             " " * (width + 1) + " ".join(f"{name:>{w}}" for name, w in zip(names, cols))]
    for name, row in zip(names, result["confusion"]):
        lines.append(f"{name:>{width}} " + " ".join(f"{v:>{w}d}" for v, w in zip(row, cols)))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from engine.model import load_model
    from engine.train.distributed import resolve_device
    from engine.train.evaluate import evaluate_actions, load_eval_set

    try:
        device = resolve_device(args.device)
        model, meta = load_model(args.checkpoint, device=str(device))
        clips = load_eval_set(args.data, config=model.config, class_names=list(meta["class_names"]),
                              max_clips=args.max_clips)
        result = evaluate_actions(model, clips, device=device, batch_size=args.batch_size)
    except (ValueError, OSError) as exc:
        print(f"stv eval-actions: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result) if args.json else format_report(result))
    return 0
