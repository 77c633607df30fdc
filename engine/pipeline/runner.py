"""infer_video: one video -> one HDF5 cache run, resumable after a crash with exactly the result of
an uninterrupted run.

A run is checkpointed every few seconds, always at the end of a batch of windows (the window grid of
the model), together with a snapshot of everything later frames depend on: a causal model's carried
state, the tracker's tracks, Kalman states and ID counter, the per-track actions
(``InferenceStream.snapshot``). A resume restores that snapshot and continues on the same grid, so
frame flags, action probabilities, alpha, beta and tracks are bit-identical to a run never stopped.
(Re-running a warm-up stretch before the resume point cannot be exact: the causal state and the
tracker depend on every earlier frame.)
"""
from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.cache.naming import default_cache_path  # noqa: F401  (re-exported: engine.pipeline.default_cache_path)
from engine.pipeline.control import CancelToken, Progress
from engine.results import FrameResult

DEFAULT_CHECKPOINT_SECONDS = 2.0
log = logging.getLogger("engine.pipeline")


def default_run_name(model_meta: dict) -> str:
    if model_meta.get("spec") == "demo":
        return "demo" if not model_meta.get("random_init") else "demo-random-init"
    stem = Path(str(model_meta.get("path", "model"))).stem
    return f"{stem}-{str(model_meta.get('sha256', ''))[:8]}".rstrip("-")


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
                tracker_kwargs: dict | None = None, score_threshold: float | None = None,
                checkpoint_seconds: float = DEFAULT_CHECKPOINT_SECONDS) -> str:
    """Run ``model`` over ``video`` into its results cache and return the run's name.

    model       "demo", a checkpoint path, or an already loaded ``(model, meta)`` pair.
    cache_path  defaults to ``default_cache_path(video)``.
    run_name    defaults to the model's name (``default_run_name``). A complete run of that name is
                returned at once; an incomplete one is resumed from its last checkpoint, with the
                settings it was made with (window, stride, batch size, thresholds, tracker): asking
                for other ones is a ValueError.
    window      frames per model window (default: the model's clip_len).
    stride      frames between window starts (bidirectional models only; default: window).
    batch_size  windows per forward pass (bidirectional models; default 8 on CUDA, 1 on CPU).
    score_threshold  detection score threshold (default 0.3).
    progress    called after every window with Progress(done, total, fps).
    cancel      checked before every window; raises InferenceCancelled (what was written stays).
    on_frame    called with each FrameResult once it is written (on this thread).
    """
    from engine.cache import ResultsCache
    from engine.cache.writer import add_resume_datasets_to, ensure_room, structural_write_failures
    from engine.pipeline.pairing import PARAM_KEY, check_unchanged, content_record
    from engine.pipeline.stream import InferenceStream
    from engine.tracking import ByteTracker
    from engine.video import VideoError, open_video

    video = Path(video)
    cache_path = Path(cache_path) if cache_path is not None else default_cache_path(video)
    with open_video(video) as source:
        if not getattr(source, "has_pixels", True):
            raise VideoError(video, "a MOT sequence without images (no img1/): there are no pixels to run the "
                                    "model on; its gt/det can be viewed, edited and exported as they are")
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
            ensure_room(cache_path)
            with structural_write_failures(cache_path, None, "create the results cache"):
                cache = ResultsCache.create(cache_path, video_fingerprint=source.fingerprint(),
                                            video_path=str(video), num_frames=total, fps=float(source.fps),
                                            width=int(source.width), height=int(source.height))
        with cache:
            requested = {"window": window, "stride": stride, "score_threshold": score_threshold,
                         "tracker": tracker_kwargs, "batch_size": batch_size}
            if name in cache.run_names:
                reader = cache.run(name)
                saved_sha = reader.info.checkpoint_sha256
                if saved_sha != meta.get("sha256", ""):
                    raise ValueError(f"{cache_path}: run {name!r} was made by checkpoint {saved_sha[:12]}, "
                                     f"not {str(meta.get('sha256', ''))[:12]}; choose another --run name")
                check_unchanged(reader.info.params.get(PARAM_KEY), source, cache_path=cache_path, run=name)
                if reader.completed_frames >= total:
                    return name
                settings = _resume_settings(reader.info.params, requested, cache_path=cache_path, name=name)
                ensure_room(cache_path)
                with structural_write_failures(cache_path, cache, f"resume run {name!r}"):
                    add_resume_datasets_to(cache, name)
                    writer = cache.open_run_writer(name)
            else:
                clip_len = int(window or net.config.clip_len)
                settings = {"window": clip_len, "stride": int(stride or clip_len),
                            "score_threshold": 0.3 if score_threshold is None else float(score_threshold),
                            "tracker": dict(tracker_kwargs or {}), "batch_size": batch_size}
                h, w = (int(v) for v in net.config.input_size)
                stride_cells = int(getattr(net.config, "stride", 8))
                ensure_room(cache_path)
                with structural_write_failures(cache_path, cache, f"add run {name!r}"):
                    writer = cache.create_run(
                        name, model_config=meta.get("config", {}), checkpoint_sha256=str(meta.get("sha256", "")),
                        class_names=list(meta.get("class_names", [])),
                        params={**settings, "device": str(torch_device), PARAM_KEY: content_record(source),
                                "random_init": bool(meta.get("random_init", False))},
                        alpha_shape=(h // stride_cells, w // stride_cells),
                        embedding_dim=int(getattr(net.config, "embed_dim", 0)))
            stream = None
            try:
                stream = InferenceStream(model=net, device=torch_device, clip_len=settings["window"],
                                         frame_size=(int(source.height), int(source.width)),
                                         tracker=ByteTracker(**settings["tracker"]), stride=settings["stride"],
                                         batch_size=settings["batch_size"],
                                         score_threshold=settings["score_threshold"])
                _restore(stream, writer, cache_path=cache_path, name=name, total=total)
                last_checkpoint = time.monotonic()
                for result in stream.run(source, total=total, progress=progress, cancel=cancel):
                    result.damaged = source.is_damaged(result.frame_index)
                    writer.write(result)
                    if on_frame is not None:
                        on_frame(result)
                    # only at the end of a batch is the stream's state that of an uninterrupted run
                    if (result.frame_index + 1 == stream.boundary
                            and time.monotonic() - last_checkpoint >= checkpoint_seconds):
                        writer.checkpoint(resume_state=stream.snapshot())
                        last_checkpoint = time.monotonic()
            finally:
                # a cancel (or a failure between batches) leaves the stream on the grid: keep its state
                at_boundary = stream is not None and stream.boundary == writer.completed_frames > 0
                writer.close(resume_state=stream.snapshot() if at_boundary else None)
        _report_damage(source, cache_path)
    return name


def _report_damage(source, cache_path: Path) -> None:
    damaged = source.damaged_frames
    if damaged:
        shown = ", ".join(str(k) for k in damaged[:20]) + (", ..." if len(damaged) > 20 else "")
        log.warning("%s: %d damaged frame(s) were decoded with the decoder's concealment and are marked "
                    "damaged in %s (frames %s)", source.path, len(damaged), cache_path.name, shown)


def _resume_settings(saved: dict, requested: dict, *, cache_path: Path, name: str) -> dict:
    """The settings a resumed run continues with: the ones it was made with. A different explicit
    request is refused, since half a run with other settings would be neither."""
    defaults = {"window": None, "stride": None, "score_threshold": 0.3, "tracker": {}, "batch_size": None}
    settings = {}
    for key, default in defaults.items():
        value = saved.get(key, default)
        if key == "tracker":
            value = dict(value or {})
        wanted = requested[key]
        if key == "tracker" and wanted is not None:
            wanted = dict(wanted)
        if wanted is not None and value is not None and wanted != value:
            raise ValueError(f"{cache_path}: run {name!r} was made with {key} {value!r}; resume it with the "
                             f"same, or choose another --run name for {key} {wanted!r}")
        settings[key] = value if value is not None else wanted
    if settings["window"] is None:
        raise ValueError(f"{cache_path}: run {name!r} does not record its window; cannot resume it")
    settings["stride"] = settings["stride"] or settings["window"]
    return settings


def _restore(stream, writer, *, cache_path: Path, name: str, total: int) -> None:
    """Put ``stream`` where the resumed ``writer`` continues (nothing to do for a fresh run)."""
    done = writer.completed_frames
    point = writer.resume_point
    if done == 0 and point is None:
        return
    if point is not None:
        try:
            stream.restore(point.state)
        except ValueError as exc:
            log.warning("%s: run %r: its resume snapshot does not fit (%s); restarting from frame 0",
                        cache_path, name, exc)
            point = None
    else:
        log.warning("%s: run %r has no resume snapshot; restarting from frame 0 for an exact result",
                    cache_path, name)
    frame = point.frame if point is not None else 0
    if frame < done:
        writer.rewind(frame)
    writer.record_resume(frame)
    log.info("resuming run %r of %s at frame %d of %d", name, cache_path, frame, total)
