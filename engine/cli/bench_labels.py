"""labels: label-set load, per-edit, per-frame query, autosave (journal append) and full save times.

Builds synthetic label sets from model tracks (default 10k boxes = 50 tracks x 200 frames over 1,000
frames, and 1M boxes = 5,000 tracks x 200 frames over 100,000 frames), then times each operation the
editor performs. Targets (issue 9): one edit <= 16 ms and one autosave <= 50 ms whatever the size; the
per-frame query must be far below a 16 ms frame.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

SIZES = {"10k": (50, 200, 1_000), "100k": (500, 200, 10_000), "1M": (5_000, 200, 100_000)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default="10k,1M",
                        help=f"comma-separated sizes among {', '.join(SIZES)} (default 10k,1M)")
    parser.add_argument("--edits", type=int, default=100, help="timed edits per operation (default 100)")
    parser.add_argument("--queries", type=int, default=5000, help="timed frame_boxes(k) calls (default 5000)")
    parser.add_argument("--dir", type=Path, help="folder for the cache and journal (default: a temporary "
                                                 "folder; pass the disk the videos live on to time its fsync)")


def synthetic_run_rows(num_tracks: int, length: int, num_frames: int, seed: int = 0):
    """(N, 7) run rows [frame, id, x1, y1, x2, y2, score]: tracks of ``length`` frames spread evenly over
    the video, walking with a slow drift (what a tracker outputs)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    starts = np.linspace(0, num_frames - length, num_tracks).astype(np.int64)
    k = np.arange(length)
    parts = []
    for i, s in enumerate(starts.tolist()):
        x = rng.uniform(0, 1800) + rng.uniform(-2, 2) * k
        y = rng.uniform(0, 900) + rng.uniform(-1, 1) * k
        w, h = rng.uniform(30, 90), rng.uniform(80, 220)
        parts.append(np.column_stack([s + k, np.full(length, i + 1), x, y, x + w, y + h, np.full(length, 0.9)]))
    return np.concatenate(parts)


def _stats(ms) -> str:
    import numpy as np

    ms = np.asarray(ms)
    return f"median {np.median(ms):7.3f}  p95 {np.percentile(ms, 95):7.3f}  max {ms.max():7.3f} ms"


def _bench_size(label: str, num_tracks: int, length: int, num_frames: int, args, folder: Path) -> None:
    import numpy as np

    from engine.cache import ResultsCache
    from engine.labels import edits as E
    from engine.labels.journal import LabelJournal, journal_path_for, load, save
    from engine.labels.model import LabelSet

    rng = np.random.default_rng(1)
    rows = synthetic_run_rows(num_tracks, length, num_frames)
    t0 = time.perf_counter()
    ls = LabelSet.from_run(rows, name="bench", num_frames=num_frames, width=1920, height=1080, source_run="bench")
    t_build = time.perf_counter() - t0
    print(f"\n[{label}] {ls.num_boxes:,} boxes, {len(ls):,} tracks, {num_frames:,} frames")
    print(f"build from run rows  {t_build * 1e3:9.1f} ms")

    cache_path = folder / f"bench-{label}.stv.h5"
    for p in (cache_path, journal_path_for(cache_path)):
        p.unlink(missing_ok=True)
    with ResultsCache.create(cache_path, video_fingerprint=f"bench-{label}", video_path="synthetic",
                             num_frames=num_frames, fps=25.0, width=1920, height=1080) as cache, \
            LabelJournal.open(journal_path_for(cache_path)) as journal:
        t0 = time.perf_counter()
        journal.enqueue_snapshot(ls)
        journal.flush()
        t_snap = time.perf_counter() - t0
        t0 = time.perf_counter()
        save(cache, ls, journal)
        t_first_save = time.perf_counter() - t0
        t0 = time.perf_counter()
        loaded = load(cache, "bench", journal)
        t_load = time.perf_counter() - t0
        assert loaded.equals(ls)
        print(f"journal snapshot     {t_snap * 1e3:9.1f} ms  (a new set's first autosave, once)")
        print(f"load from cache      {t_load * 1e3:9.1f} ms")

        # per-frame query
        ks = rng.integers(0, num_frames, args.queries)
        times = []
        for k in ks.tolist():
            s = time.perf_counter()
            ls.frame_boxes(k)
            times.append((time.perf_counter() - s) * 1e3)
        alive = np.mean([len(ls.frame_boxes(int(k))) for k in ks[:200]])
        print(f"frame_boxes(k)       {_stats(times)}  ({alive:.1f} boxes/frame)")

        ids = ls.track_ids()

        def timed(name: str, make, undo: bool) -> None:
            """Time make() (the pure edit) + apply; record it in the journal (timed separately);
            undo (untimed) when the edit would otherwise exhaust the set."""
            edit_ms, save_ms = [], []
            for _ in range(args.edits):
                s = time.perf_counter()
                change = make()
                change.apply(ls)
                edit_ms.append((time.perf_counter() - s) * 1e3)
                s = time.perf_counter()
                journal.record(ls.name, change)
                save_ms.append((time.perf_counter() - s) * 1e3)
                if undo:
                    change.revert(ls)
                    journal.record(ls.name, change, action="undo")
            print(f"edit {name:<16}{_stats(edit_ms)}")
            autosave.extend(save_ms)

        autosave: list[float] = []

        def random_model_box():
            tid = int(rng.choice(ids))
            t = ls.track(tid)
            i = int(rng.integers(0, len(t)))
            box = t.boxes[i] + rng.uniform(-5, 5, 4)
            box[2:] = np.maximum(box[2:], box[:2] + 1)
            return E.set_box(ls, track_id=tid, frame=int(t.frames[i]), box=box)

        def random_merge():
            a, b = (int(v) for v in rng.choice(ids, 2, replace=False))
            return E.merge_tracks(ls, keep_id=a, other_id=b)

        def random_split():
            tid = int(rng.choice(ids))
            t = ls.track(tid)
            return E.split_track(ls, track_id=tid, frame=int(t.frames[len(t) // 2]))

        def random_change_id():
            tid = int(rng.choice(ids))
            return E.change_id(ls, track_id=tid, new_id=int(ids[-1]) + 1 + int(rng.integers(0, 1000)))

        timed("set_box (blend)", random_model_box, undo=False)
        timed("merge", random_merge, undo=True)
        timed("split", random_split, undo=True)
        timed("change_id", random_change_id, undo=True)
        print(f"autosave (1 edit)    {_stats(autosave)}  (journal append, fsync; target <= 50 ms)")

        journal.flush()
        t0 = time.perf_counter()
        save(cache, ls, journal)
        t_save = time.perf_counter() - t0
        print(f"full save            {t_save * 1e3:9.1f} ms  (compaction into the cache, verified; first save "
              f"{t_first_save * 1e3:.1f} ms)")
        print(f"sizes                cache {cache_path.stat().st_size / 1e6:.1f} MB, journal after save "
              f"{journal_path_for(cache_path).stat().st_size / 1e3:.0f} kB")


def run(args: argparse.Namespace) -> int:
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        print(f"stv bench labels: unknown size(s) {unknown}; choose among {list(SIZES)}")
        return 2
    print("stv bench labels: targets one edit <= 16 ms, one autosave <= 50 ms at any size")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for s in sizes:
            _bench_size(s, *SIZES[s], args, Path(tmp))
    return 0
