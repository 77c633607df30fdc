"""`stv show RESULTS.h5`: describe a results cache (video, runs, coverage, label sets, size)."""
from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import datetime, timezone
from pathlib import Path

_CONFIG_KEYS = ("name", "backbone", "width_multiplier", "clip_len", "input_size", "num_classes", "kernel_size",
                "groups", "hierarchical_attention")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cache", type=Path, help="an HDF5 results cache (.h5; opening one a killed writer left "
                                                 "repairs it when no writer is alive)")
    parser.add_argument("--json", action="store_true", help="print a JSON description instead of text")


def describe(path: Path) -> dict:
    """Everything `stv show` prints, as plain data."""
    from engine.cache import ResultsCache

    with ResultsCache.open(path, mode="r") as cache:
        video = cache.video
        runs = []
        for name in cache.run_names:
            run = cache.run(name)
            info = run.info
            runs.append({"name": name, "completed_frames": info.completed_frames,
                         "frames_with_results": run.frames_with_results, "num_frames": info.num_frames,
                         "complete": info.complete, "model_config": info.model_config,
                         "checkpoint_sha256": info.checkpoint_sha256, "class_names": info.class_names,
                         "params": info.params, "alpha_shape": list(info.alpha_shape), "created": info.created,
                         "track_rows": int(len(run.track_rows())),
                         "damaged_frames": int(len(run.damaged_frames())),
                         "resumes": _resume_history(run.resumes())})
        label_sets = [cache.label_set_info(name) for name in cache.label_set_names]
        size = cache.file_size()
        covered = sum(r["frames_with_results"] for r in runs)
        return {"file": str(path), "size_bytes": size, "schema_version": cache.schema_version,
                "being_written": cache.swmr_read, "repaired": cache.repaired_on_open,
                "video": {"path": video.path, "fingerprint": video.fingerprint, "num_frames": video.num_frames,
                          "fps": video.fps, "width": video.width, "height": video.height},
                "runs": runs, "label_sets": label_sets, "frames_stored": covered,
                "bytes_per_frame": (size / covered) if covered else None}


def _resume_history(history) -> list[dict]:
    """[{time, frame}] from the run's (N, 2) resume record; values a crafted file made non-finite stay
    None rather than breaking the description (JSON has no NaN)."""
    def finite(x: float):
        return float(x) if math.isfinite(x) else None
    return [{"time": finite(t), "frame": int(k) if math.isfinite(k) else None} for t, k in history]


def _config_summary(config: dict) -> str:
    parts = [f"{k}={config[k]}" for k in _CONFIG_KEYS if k in config]
    if not parts:
        parts = [f"{k}={v}" for k, v in list(config.items())[:6]]
    return ", ".join(parts) if parts else "(no config)"


_RESUMES_SHOWN = 5  # a run killed many times lists only its latest resumes in text (--json has all)


def _utc(unix_time: float) -> str:
    """A resume time as readable UTC (a crafted time out of range prints as the raw number)."""
    if unix_time is None:
        return "an unknown time"
    try:
        return datetime.fromtimestamp(unix_time, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"t={unix_time!r}"


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GB"


def format_text(d: dict) -> str:
    v = d["video"]
    lines = [f"{d['file']}  (results cache, schema v{d['schema_version']}"
             + (", a writer is active" if d["being_written"] else "")
             + (", repaired: a killed writer had left it open" if d.get("repaired") else "") + ")",
             f"video   {v['path']}",
             f"        {v['width']}x{v['height']}, {v['fps']:.3f} fps, {v['num_frames']} frames, "
             f"fingerprint {v['fingerprint']}",
             f"runs ({len(d['runs'])})"]
    for r in d["runs"]:
        pct = 100.0 * r["completed_frames"] / r["num_frames"] if r["num_frames"] else 0.0
        state = "complete" if r["complete"] else "incomplete"
        lines.append(f"  {r['name']}: {r['completed_frames']}/{r['num_frames']} frames ({pct:.0f}%), {state}")
        if r["frames_with_results"] != r["completed_frames"]:
            lines.append(f"      {r['frames_with_results']} frames with results in all (gaps after frame "
                         f"{r['completed_frames']})")
        lines.append(f"      model       {_config_summary(r['model_config'])}")
        lines.append(f"      checkpoint  sha256 {r['checkpoint_sha256'] or '(none)'}")
        names = r["class_names"]
        shown = ", ".join(names[:12]) + (f", ... (+{len(names) - 12})" if len(names) > 12 else "")
        lines.append(f"      classes     {len(names)}: {shown}")
        if r["params"]:
            lines.append(f"      params      {json.dumps(r['params'], sort_keys=True)}")
        lines.append(f"      alpha       {r['alpha_shape'][0]}x{r['alpha_shape'][1]}, "
                     f"{r['track_rows']} track rows, created {r['created']}")
        if r["damaged_frames"]:
            lines.append(f"      damaged     {r['damaged_frames']} frames decoded with the decoder's concealment")
        if r["resumes"]:
            shown = ", ".join(f"frame {'?' if e['frame'] is None else e['frame']} at {_utc(e['time'])}"
                              for e in r["resumes"][-_RESUMES_SHOWN:])
            more = f" (last {_RESUMES_SHOWN})" if len(r["resumes"]) > _RESUMES_SHOWN else ""
            lines.append(f"      resumed     {len(r['resumes'])} times{more}: {shown}")
    lines.append(f"label sets ({len(d['label_sets'])})")
    for s in d["label_sets"]:
        src = f" from run {s['source_run']}" if s["source_run"] else ""
        note = f"  \"{s['note']}\"" if s["note"] else ""
        lines.append(f"  {s['name']}: {s['rows']} rows{src}, saved {s['created']}{note}")
    per = f", {d['bytes_per_frame']:.0f} bytes/frame ({d['frames_stored']} frames stored over all runs)" \
        if d["bytes_per_frame"] else ""
    lines.append(f"size    {_size(d['size_bytes'])}{per}")
    return "\n".join(lines)


def not_a_cache(path: Path) -> str | None:
    """Why ``path`` is not a results cache when it is plainly something else (a video, a folder, not
    HDF5), naming where its cache would be; None when it may be one (the cache code says the rest)."""
    import h5py

    from engine.cache.naming import default_cache_path
    from engine.pipeline.collection import VIDEO_SUFFIXES

    if not path.exists() or (path.is_file() and h5py.is_hdf5(path)):
        return None
    if path.is_dir() or path.suffix.lower() in VIDEO_SUFFIXES:
        cache = default_cache_path(path)
        what = "a folder (a MOT sequence?)" if path.is_dir() else "a video"
        where = (f"its results cache is {cache}: run `stv show {cache}`" if cache.exists()
                 else f"its results cache would be {cache}, which does not exist yet: `stv infer {path}` writes it")
        return f"{path} is {what}, not a results cache; {where}"
    return f"{path} is not an HDF5 results cache (no HDF5 signature); `stv show` reads the .h5 files stv infer writes"


def run(args: argparse.Namespace) -> int:
    from engine.cache import CacheError

    problem = not_a_cache(args.cache)
    if problem is not None:
        print(f"stv show: {problem}", file=sys.stderr)
        return 1
    try:
        d = describe(args.cache)
    except CacheError as exc:
        print(f"stv show: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(d, indent=2) if args.json else format_text(d))
    return 0
