"""infer_video: one video -> one HDF5 cache run, resumable after a crash.

A run is checkpointed every few seconds. On resume the model and tracker are warmed up on the
frames just before the last saved one (so the causal state and the tracks are re-established),
and the warmed-up tracks are matched by IoU to the saved tracks of that frame so track IDs
continue across the interruption.
"""
from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from engine.pipeline.control import CancelToken, Progress
from engine.results import FrameResult

DEFAULT_CHECKPOINT_SECONDS = 2.0
log = logging.getLogger("engine.pipeline")
WARMUP_WINDOWS = 2


def default_cache_path(video: str | Path) -> Path:
    """Where the results cache of ``video`` lives by default: beside it, ``<name>.stv.h5``
    (``<folder>/stv_results.h5`` for a MOT image-sequence folder)."""
    video = Path(video)
    if video.is_dir():
        return video / "stv_results.h5"
    return video.with_name(video.name + ".stv.h5")


def default_run_name(model_meta: dict) -> str:
    if model_meta.get("spec") == "demo":
        return "demo" if not model_meta.get("random_init") else "demo-random-init"
    stem = Path(str(model_meta.get("path", "model"))).stem
    return f"{stem}-{str(model_meta.get('sha256', ''))[:8]}".rstrip("-")


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of (N, 4) and (M, 4) [x1, y1, x2, y2] boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).clip(0).prod(axis=1)
    area_b = (b[:, 2:] - b[:, :2]).clip(0).prod(axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


class TrackIdMap:
    """Maps the live tracker's IDs to the run's IDs: identity for a fresh run; on resume, warmed-up
    tracks take the saved IDs they overlap, and new tracks count on from the largest saved ID."""

    def __init__(self, *, next_id: int = 1) -> None:
        self._map: dict[int, int] = {}
        self._next_id = next_id
        self.identity = next_id == 1

    def align(self, *, live: np.ndarray, saved: np.ndarray, min_iou: float = 0.5) -> None:
        """live, saved: (N, 6) tracks of the same frame; adopt saved IDs for overlapping live tracks."""
        if len(live) == 0 or len(saved) == 0:
            return
        iou = _box_iou(live[:, :4], saved[:, :4])
        rows, cols = linear_sum_assignment(-iou)
        for r, c in zip(rows, cols):
            if iou[r, c] >= min_iou:
                self._map[int(live[r, 5])] = int(saved[c, 5])

    def apply(self, tracks: np.ndarray) -> np.ndarray:
        if self.identity:
            return tracks
        out = tracks.copy()
        for row in range(len(out)):
            live_id = int(out[row, 5])
            if live_id not in self._map:
                self._map[live_id] = self._next_id
                self._next_id += 1
            out[row, 5] = self._map[live_id]
        return out


def _load(model: Any, device: str):
    import torch

    from engine.model import load_model
    from engine.pipeline.stream import resolve_device

    torch_device = resolve_device(device)
    if isinstance(model, (str, Path)):
        spec = str(model)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            net, meta = load_model(spec, device=str(torch_device))
        for w in caught:
            warnings.warn(w.message, stacklevel=3)
        meta = dict(meta)
        meta.setdefault("spec", spec)
        meta.setdefault("path", spec)
    else:
        net, meta = model
        meta = dict(meta)
    net.eval().to(torch_device)
    return net, meta, torch_device


def infer_video(video: str | Path, *, model: Any = "demo", cache_path: str | Path | None = None,
                run_name: str | None = None, device: str = "auto", window: int | None = None,
                stride: int | None = None, batch_size: int | None = None,
                progress: Callable[[Progress], None] | None = None,
                cancel: CancelToken | None = None, on_frame: Callable[[FrameResult], None] | None = None,
                tracker_kwargs: dict | None = None, score_threshold: float = 0.3,
                checkpoint_seconds: float = DEFAULT_CHECKPOINT_SECONDS) -> str:
    """Run ``model`` over ``video`` into its results cache and return the run's name.

    model       "demo", a checkpoint path, or an already loaded ``(model, meta)`` pair.
    cache_path  defaults to ``default_cache_path(video)``.
    run_name    defaults to the model's name (``default_run_name``). A complete run of that name is
                returned at once; an incomplete one is resumed from its last checkpoint.
    window      frames per model window (default: the model's clip_len).
    stride      frames between window starts (bidirectional models only; default: window).
    batch_size  windows per forward pass (bidirectional models; default 8 on CUDA, 1 on CPU).
    progress    called after every window with Progress(done, total, fps).
    cancel      checked before every window; raises InferenceCancelled (what was written stays).
    on_frame    called with each FrameResult once it is written (on this thread).
    """
    from engine.cache import ResultsCache
    from engine.pipeline.stream import InferenceStream
    from engine.tracking import ByteTracker
    from engine.video import open_video

    video = Path(video)
    cache_path = Path(cache_path) if cache_path is not None else default_cache_path(video)
    with open_video(video) as source:
        total = len(source)
        # an existing cache must belong to this video: say so before spending time on the model
        cache = (ResultsCache.open(cache_path, mode="a", video_fingerprint=source.fingerprint(), video_path=str(video))
                 if cache_path.exists() else None)
        try:
            net, meta, torch_device = _load(model, device)
        except BaseException:
            if cache is not None:
                cache.close()
            raise
        name = run_name or default_run_name(meta)
        if cache is None:
            cache = ResultsCache.create(cache_path, video_fingerprint=source.fingerprint(), video_path=str(video),
                                        num_frames=total, fps=float(source.fps), width=int(source.width),
                                        height=int(source.height))
        with cache:
            clip_len = int(window or net.config.clip_len)
            if name in cache.run_names:
                reader = cache.run(name)
                saved_sha = reader.info.checkpoint_sha256
                if saved_sha != meta.get("sha256", ""):
                    raise ValueError(f"{cache_path}: run {name!r} was made by checkpoint {saved_sha[:12]}, "
                                     f"not {str(meta.get('sha256', ''))[:12]}; choose another --run name")
                if reader.completed_frames >= total:
                    return name
                writer = cache.open_run_writer(name)
                start = int(writer.completed_frames)
                saved_rows = reader.track_rows()
                next_id = int(saved_rows[:, 1].max()) + 1 if len(saved_rows) else 1
                saved_last = reader.frame(start - 1) if start > 0 else None
                log.info("resuming run %r of %s at frame %d of %d", name, cache_path, start, total)
            else:
                h, w = (int(v) for v in net.config.input_size)
                stride_cells = int(getattr(net.config, "stride", 8))
                writer = cache.create_run(
                    name, model_config=meta.get("config", {}), checkpoint_sha256=str(meta.get("sha256", "")),
                    class_names=list(meta.get("class_names", [])),
                    params={"window": clip_len, "stride": stride or clip_len, "score_threshold": score_threshold,
                            "tracker": tracker_kwargs or {}, "device": str(torch_device),
                            "random_init": bool(meta.get("random_init", False))},
                    alpha_shape=(h // stride_cells, w // stride_cells))
                start, next_id, saved_last = 0, 1, None
            try:
                warm_start = max(0, start - WARMUP_WINDOWS * clip_len)
                stream = InferenceStream(model=net, device=torch_device, clip_len=clip_len,
                                         frame_size=(int(source.height), int(source.width)),
                                         tracker=ByteTracker(**(tracker_kwargs or {})), stride=stride,
                                         batch_size=batch_size,
                                         score_threshold=score_threshold)
                ids = TrackIdMap(next_id=next_id)
                last_checkpoint = time.monotonic()
                for result in stream.run(source, start=warm_start, total=total, progress=progress, cancel=cancel):
                    if result.frame_index < start:
                        if result.frame_index == start - 1 and saved_last is not None:
                            ids.align(live=result.tracks, saved=saved_last.tracks)
                        continue
                    result.tracks = ids.apply(result.tracks)
                    writer.write(result)
                    if on_frame is not None:
                        on_frame(result)
                    if time.monotonic() - last_checkpoint >= checkpoint_seconds:
                        writer.checkpoint()
                        last_checkpoint = time.monotonic()
            finally:
                writer.checkpoint()
                writer.close()
    return name

