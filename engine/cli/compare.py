"""`stv compare`: the comparison table of two runs or label sets of one cache, headless.

With ``--labels NAME`` each item is scored against that label set (the numbers ``stv eval`` gives on the
exported files); without it the table holds the two items' agreement (A scored with B as the reference).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

COLUMNS = (("MOTA", 100), ("IDF1", 100), ("HOTA", 100), ("FP", 1), ("FN", 1), ("IDSW", 1))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cache", type=Path, help="the video's results cache (.stv.h5)")
    parser.add_argument("--a", required=True, metavar="RUN_OR_LABELS",
                        help="a run or label set of the cache (prefix run: or labels: when a name is both)")
    parser.add_argument("--b", required=True, metavar="RUN_OR_LABELS", help="the other item, as --a")
    parser.add_argument("--labels", metavar="NAME", default=None,
                        help="label set to score both items against (default: the items' agreement)")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list, one object per compared item, with stv eval's keys (fractions)")


class _Item:
    def __init__(self, *, name: str, kind: str, records, table, probs):
        self.name, self.kind, self.records, self.table, self.probs = name, kind, records, table, probs


def _resolve(cache, spec: str) -> tuple[str, str]:
    for prefix, kind in (("run:", "run"), ("labels:", "labels")):
        if spec.startswith(prefix):
            return kind, spec[len(prefix):]
    in_runs, in_labels = spec in cache.run_names, spec in cache.label_set_names
    if in_runs and in_labels:
        raise ValueError(f"{spec!r} is both a run and a label set of {cache.path}: write run:{spec} or labels:{spec}")
    if in_runs:
        return "run", spec
    if in_labels:
        return "labels", spec
    raise ValueError(f"{cache.path}: no run or label set named {spec!r} (runs: {cache.run_names}; "
                     f"label sets: {cache.label_set_names})")


def _load(cache, spec: str) -> _Item:
    from engine.compare import TrackTable
    from engine.io.export import label_set_results_records, load_current_label_set, run_results_records

    kind, name = _resolve(cache, spec)
    if kind == "run":
        if name not in cache.run_names:
            raise ValueError(f"{cache.path}: no run named {name!r} (runs: {cache.run_names})")
        reader = cache.run(name)
        return _Item(name=name, kind="run", records=run_results_records(reader),
                     table=TrackTable.from_rows(reader.track_rows()), probs=reader.action_probs())
    if name not in cache.label_set_names:
        raise ValueError(f"{cache.path}: no label set named {name!r} (label sets: {cache.label_set_names})")
    labels = load_current_label_set(cache, name)
    return _Item(name=name, kind="labels", records=label_set_results_records(labels),
                 table=TrackTable.from_label_set(labels), probs=None)


def build_table(cache_path: Path, a: str, b: str, labels: str | None) -> list[dict]:
    """The table's rows (what --json prints)."""
    from engine.cache import ResultsCache
    from engine.compare.table import agreement_table, labelled_table
    from engine.io.export import label_set_gt_records, load_current_label_set

    with ResultsCache.open(cache_path) as cache:
        num_frames = cache.video.num_frames
        item_a, item_b = _load(cache, a), _load(cache, b)
        if labels is not None:
            if labels not in cache.label_set_names:
                raise ValueError(f"{cache.path}: no label set named {labels!r} (label sets: {cache.label_set_names})")
            gt = label_set_gt_records(load_current_label_set(cache, labels))
            rows = labelled_table([(item_a.name, item_a.records), (item_b.name, item_b.records)], gt,
                                  num_frames=num_frames)
            for row, item in zip(rows, (item_a, item_b)):
                row["kind"], row["labels"] = item.kind, labels
            return rows
        rows = agreement_table((item_a.name, item_a.table), (item_b.name, item_b.table), num_frames=num_frames,
                               probs_a=item_a.probs, probs_b=item_b.probs)
        for row in rows:
            row["labels"] = None
        return rows


def run(args: argparse.Namespace) -> int:
    from engine.cache.errors import CacheError
    from engine.io.mot import MOTFormatError

    try:
        rows = build_table(args.cache, args.a, args.b, args.labels)
    except (CacheError, MOTFormatError, OSError, ValueError, KeyError) as exc:
        print(f"stv compare: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(rows, sort_keys=True, default=_plain))
        return 0
    width = max(12, *(len(r["name"]) for r in rows))
    extra = ("top-1",) if args.labels else ("boxes", "actions")
    print(f"{'item':<{width}} " + " ".join(f"{c:>7}" for c, _ in COLUMNS) + " " + " ".join(f"{c:>7}" for c in extra))
    for r in rows:
        cells = [f"{r[c] * 100:7.2f}" if scale == 100 else f"{int(r[c]):7d}" for c, scale in COLUMNS]
        keys = ("top1",) if args.labels else ("box_agreement", "action_agreement")
        cells += [f"{'-':>7}" if r.get(k) is None else f"{r[k] * 100:7.2f}" for k in keys]
        print(f"{r['name']:<{width}} " + " ".join(cells))
    if args.labels:
        print(f"(against label set {args.labels!r}; MOTA/IDF1/HOTA/top-1 in %, as stv eval on the exported files; "
              "top-1 needs action labels, which label sets do not carry yet)")
    else:
        print("(no label set: A scored with B as the reference; boxes = share of boxes both have at IoU >= 0.5, "
              "actions = share of frames whose top action agrees, in %)")
    return 0


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
