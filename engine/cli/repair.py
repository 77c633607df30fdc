"""`stv repair CACHE`: make a results cache left by a killed writer openable by every HDF5 tool again.

A writer killed mid-run leaves the file flagged "open for writing": SWMR readers (stviewer, `stv show`)
read it, but plain h5py and h5dump refuse it until it is repaired (the "h5clear -s" step, done in
Python by engine.cache.recovery). Opening it with stviewer or `stv show` repairs it too when no writer
is alive; this command does it explicitly and says what it found. Frames written after the last
checkpoint are not results yet: `stv infer` resumes the run from its last checkpoint.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cache", type=Path, help="the results cache (.h5) to repair")


def run(args: argparse.Namespace) -> int:
    from engine.cache import CacheBusyError, CacheError, ResultsCache
    from engine.cache.liveness import writer_alive
    from engine.cache.recovery import repair_after_crash, status_flags

    path: Path = args.cache
    try:
        if not path.is_file():
            raise CacheError(f"{path}: no such results cache")
        if not status_flags(path):
            print(f"{path}: closed cleanly, nothing to repair")
            return 0
        if writer_alive(path):
            raise CacheBusyError(f"{path}: a writer is still running on this cache; stop it (or let it finish) "
                                 f"first")
        repair_after_crash(path)
        with ResultsCache.open(path, mode="r") as cache:
            runs = [(name, cache.run(name).info) for name in cache.run_names]
    except (CacheError, OSError) as exc:
        print(f"stv repair: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: repaired (cleared the 'open for writing' flags a killed writer left)")
    for name, info in runs:
        state = "complete" if info.complete else "incomplete: `stv infer` resumes it from there"
        print(f"  run {name}: {info.completed_frames}/{info.num_frames} frames committed, {state}")
    return 0
