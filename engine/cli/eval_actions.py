"""`stv eval-actions CKPT|demo DATA [--json]`: action top-1/top-5 and confusion matrix of a checkpoint.

DATA is a folder written by `stv make-synthetic` (its clips, one window each) or a UCF-101/HMDB-51
tree (its test split --split N, decoded video by video). --protocol 10x3 is the standard test
protocol: 10 windows x 3 crops per video, softmax averaged. With --json one JSON object: top1, top5
(fractions), confusion (rows = true class), class_names, num_clips (and protocol, views_per_clip).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a checkpoint written by stv train, or 'demo' (the bundled demo model)")
    parser.add_argument("data", help="stv make-synthetic folder or a UCF-101/HMDB-51 tree")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--max-clips", type=int, default=None, help="evaluate at most N clips")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto (default cpu)")
    parser.add_argument("--batch-size", type=int, default=8, help="clips per forward pass (default 8)")
    parser.add_argument("--protocol", choices=("center", "10x3"), default="center",
                        help="center: one middle window per video (default); 10x3: the standard test protocol, "
                             "10 windows x 3 crops per video, softmax averaged")
    parser.add_argument("--split", type=int, default=1, choices=(1, 2, 3),
                        help="UCF-101/HMDB-51 official test split (default 1)")


def format_report(result: dict) -> str:
    names = result["class_names"]
    width = max([len(n) for n in names] + [4])
    # each column as wide as its class name (and its largest count), so the names head their columns
    cols = [max(len(name), 3, *(len(str(row[j])) for row in result["confusion"])) for j, name in enumerate(names)]
    views = f", {result['views_per_clip']} views each ({result['protocol']})" if "protocol" in result else ""
    lines = [f"top-1 {100 * result['top1']:.1f}%   top-5 {100 * result['top5']:.1f}%   ({result['num_clips']} clips{views})",
             "confusion matrix (rows = true class, columns = predicted):",
             " " * (width + 1) + " ".join(f"{name:>{w}}" for name, w in zip(names, cols))]
    for name, row in zip(names, result["confusion"]):
        lines.append(f"{name:>{width}} " + " ".join(f"{v:>{w}d}" for v, w in zip(row, cols)))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from engine.model import load_model
    from engine.train.distributed import resolve_device
    from engine.data.synthetic import is_benchmark
    from engine.train.evaluate import evaluate_actions, evaluate_actions_streamed, load_eval_set

    try:
        device = resolve_device(args.device)
        model, meta = load_model(args.checkpoint, device=str(device))
        if args.protocol == "center" and (is_benchmark(args.data) or Path(args.data).is_file()):
            clips = load_eval_set(args.data, config=model.config, class_names=list(meta["class_names"]),
                                  max_clips=args.max_clips)
            result = evaluate_actions(model, clips, device=device, batch_size=args.batch_size)
        else:  # decoded video by video: a real test split does not fit in memory
            result = evaluate_actions_streamed(model, args.data, class_names=list(meta["class_names"]),
                                               protocol=args.protocol, fold=args.split, max_clips=args.max_clips,
                                               device=device, batch_size=args.batch_size)
    except (ValueError, OSError) as exc:
        print(f"stv eval-actions: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result) if args.json else format_report(result))
    return 0
