"""Progress bars (rank 0 only) and the per-epoch log line."""
from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO


def progress_bar(iterable: Iterable[Any], *, enabled: bool, total: int | None = None, desc: str = "") -> Any:
    """A tqdm bar over ``iterable`` when ``enabled`` (rank 0, interactive), else the iterable itself."""
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True, file=sys.stderr)


def format_epoch_line(stats: dict[str, float]) -> str:
    """One line per epoch: loss and its parts, accuracy, throughput, learning rate."""
    parts = [f"epoch {int(stats['epoch'])}/{int(stats['epochs'])}", f"loss {stats['loss']:.4f}"]
    for name in ("action", "heatmap", "size", "offset", "reid", "track_action"):
        if name in stats:
            parts.append(f"{name} {stats[name]:.4f}")
    parts.append(f"acc {100.0 * stats['accuracy']:.1f}%")
    if "val_top1" in stats:
        parts.append(f"val top1 {100.0 * stats['val_top1']:.1f}%")
    parts.append(f"{stats['clips_per_s']:.1f} clips/s")
    parts.append(f"lr {stats['lr']:.2e}")
    parts.append(f"{stats['seconds']:.0f}s")
    return " | ".join(parts)


def log_line(line: str, *, stream: TextIO | None = None, log_file: Any = None) -> None:
    print(line, file=stream or sys.stderr, flush=True)
    if log_file is not None:
        log_file.write(line + "\n")
        log_file.flush()
