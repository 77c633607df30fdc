"""Stream a video through the model window by window, then the tracker: a FrameResult per frame.

Windows are ``clip_len`` frames long. A causal model carries its temporal state from one window to
the next, so windows do not overlap and every frame is computed once; for a bidirectional model the
windows overlap by ``clip_len - stride`` frames and each window reports only its newest ``stride``
frames, which therefore see ``clip_len - stride`` frames of past context.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from engine.pipeline.control import CancelToken, Progress
from engine.pipeline.frames import PrefetchedFrames
from engine.results import FrameResult


def default_cpu_threads() -> int:
    """Torch intra-op threads for inference: every core but one.

    The frame reader decodes on its own thread (FFmpeg releases the GIL), and in the viewer the UI thread
    needs a core too; torch's default of every core oversubscribes them, and spinning OpenMP workers then
    slow each small op down by an order of magnitude on a 2-core machine.
    """
    import os

    return max(1, (os.cpu_count() or 2) - 1)


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return torch.device(device)


class _Windower:
    """Groups (index, frame) pairs into windows and says which frames of each window are new."""

    def __init__(self, *, clip_len: int, stride: int) -> None:
        if not 1 <= stride <= clip_len:
            raise ValueError(f"stride must be in [1, clip_len={clip_len}], got {stride}")
        self.clip_len = clip_len
        self.stride = stride

    def windows(self, frames: Iterator[tuple[int, np.ndarray]]) -> Iterator[tuple[list[int], list[np.ndarray], int]]:
        """Yield (indices, frames, first_new) where frames[first_new:] are reported for the first time."""
        indices: list[int] = []
        images: list[np.ndarray] = []
        first = True
        for index, image in frames:
            indices.append(index)
            images.append(image)
            if len(images) == self.clip_len:
                yield list(indices), list(images), 0 if first else self.clip_len - self.stride
                first = False
                keep = self.clip_len - self.stride
                indices = indices[len(indices) - keep:] if keep else []
                images = images[len(images) - keep:] if keep else []
        already_reported = 0 if first else self.clip_len - self.stride
        if len(images) > already_reported:
            yield indices, images, already_reported


class InferenceStream:
    """Turns frames of one video into FrameResults. One instance per video (it owns the tracker).

    model        a UnifiedModel (engine.model) in eval mode on ``device``.
    frame_size   (height, width) of the video's frames: boxes are mapped back to it.
    tracker      an engine.tracking.ByteTracker (fresh per video).
    clip_len     frames per window (default: the model's clip_len).
    batch_size   windows per forward pass. Only a bidirectional model can batch (a causal one needs the
                 previous window's state first); default 8 on CUDA, 1 on CPU (where the encoder already
                 sees clip_len frames at once and larger batches only add latency).
    """

    def __init__(self, *, model: Any, device: torch.device, frame_size: tuple[int, int], tracker: Any,
                 clip_len: int | None = None, stride: int | None = None, batch_size: int | None = None,
                 score_threshold: float = 0.3, max_detections: int = 100) -> None:
        config = model.config
        self.model = model
        self.device = device
        self.clip_len = int(clip_len or config.clip_len)
        self.input_size = tuple(int(v) for v in config.input_size)
        self.causal = bool(getattr(config, "causal", False))
        if stride is None:
            stride = self.clip_len
        if self.causal and stride != self.clip_len:
            raise ValueError(f"a causal model carries its state: stride must equal clip_len ({self.clip_len})")
        self.windower = _Windower(clip_len=self.clip_len, stride=stride)
        if batch_size is None:
            batch_size = 8 if device.type == "cuda" and not self.causal else 1
        if batch_size < 1 or (self.causal and batch_size != 1):
            raise ValueError(f"batch_size must be >= 1 (and 1 for a causal model), got {batch_size}")
        self.batch_size = batch_size
        frame_h, frame_w = frame_size
        self.scale = np.array([frame_w / self.input_size[1], frame_h / self.input_size[0]] * 2, dtype=np.float32)
        self.frame_size = (frame_h, frame_w)
        self.tracker = tracker
        self.score_threshold = score_threshold
        self.max_detections = max_detections
        self._state = None
        self._last_track_actions: dict[int, np.ndarray] = {}

    @torch.inference_mode()
    def _forward(self, clips: list[list[np.ndarray]]):
        """clips: windows of equal length -> (output, detections[b][t])."""
        batch = torch.from_numpy(np.stack([np.stack(images) for images in clips])).to(self.device, non_blocking=True)
        batch = batch.permute(0, 1, 4, 2, 3).float().div_(255.0)  # (B, T, 3, H, W)
        if self.causal:
            output = self.model(batch, state=self._state)
            self._state = output.state
        else:
            output = self.model(batch)
        detections = self.model.decode(output, score_threshold=self.score_threshold,
                                       max_detections=self.max_detections)
        return output, detections

    def process_windows(self, windows: list[tuple[list[int], list[np.ndarray], int]]) -> list[FrameResult]:
        """Run the model on windows of equal length (one batch), then the tracker frame by frame in order."""
        output, detections = self._forward([images for _, images, _ in windows])
        action_probs = torch.softmax(output.action_logits.float(), dim=-1).cpu().numpy()
        alpha = output.alpha.float().cpu().numpy().astype(np.float16)
        beta = output.beta.float().cpu().numpy()
        results = []
        for b, (indices, _, first_new) in enumerate(windows):
            for t in range(first_new, len(indices)):
                results.append(self._frame_result(indices[t], detections[b][t], action_probs[b], alpha[b, t],
                                                  float(beta[b, t])))
        return results

    def _batches(self, frames: Iterator[tuple[int, np.ndarray]]):
        """Group windows into batches of ``batch_size`` windows of equal length."""
        pending: list = []
        for window in self.windower.windows(frames):
            if pending and len(window[0]) != len(pending[0][0]):
                yield pending
                pending = []
            pending.append(window)
            if len(pending) == self.batch_size:
                yield pending
                pending = []
        if pending:
            yield pending

    def _frame_result(self, index: int, dets: Any, action_probs: np.ndarray, alpha: np.ndarray,
                      beta: float) -> FrameResult:
        boxes = np.asarray(dets.boxes, dtype=np.float32).reshape(-1, 4) * self.scale
        h, w = self.frame_size
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, w)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, h)
        scores = np.asarray(dets.scores, dtype=np.float32).reshape(-1, 1)
        det_rows = np.concatenate([boxes, scores], axis=1)
        embeddings = getattr(dets, "embeddings", None)
        embeddings = None if embeddings is None else np.asarray(embeddings, dtype=np.float32)
        tracked = self.tracker.update(det_rows, embeddings=embeddings)
        tracks = tracked[:, :6].astype(np.float32, copy=True)
        det_actions = getattr(dets, "action_probs", None)
        track_actions = None
        if det_actions is not None and len(action_probs):
            det_actions = np.asarray(det_actions, dtype=np.float32)
            track_actions = np.empty((len(tracks), len(action_probs)), dtype=np.float32)
            seen: dict[int, np.ndarray] = {}
            for row, (track_id, det_index) in enumerate(zip(tracks[:, 5].astype(int), tracked[:, 6].astype(int))):
                if det_index >= 0:
                    probs = det_actions[det_index]
                else:  # coasting: keep what the track showed last
                    probs = self._last_track_actions.get(track_id, action_probs)
                track_actions[row] = probs
                seen[track_id] = probs
            self._last_track_actions = seen  # only live tracks: memory stays flat
        return FrameResult(frame_index=index, tracks=tracks, action_probs=action_probs, alpha=alpha,
                           beta=beta, track_action_probs=track_actions, detections=det_rows)

    def run(self, source: Any, *, start: int = 0, total: int | None = None,
            progress: Callable[[Progress], None] | None = None,
            cancel: CancelToken | None = None) -> Iterator[FrameResult]:
        """Yield a FrameResult for each frame of ``source`` from ``start`` on, in order."""
        total = len(source) if total is None else total
        began = time.perf_counter()
        done = start
        with PrefetchedFrames(source, start=start, input_size=self.input_size,
                              depth=2 * self.clip_len * self.batch_size) as frames:
            for windows in self._batches(iter(frames)):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                for result in self.process_windows(windows):
                    yield result
                done = windows[-1][0][-1] + 1
                if progress is not None:
                    elapsed = max(time.perf_counter() - began, 1e-9)
                    progress(Progress(done=done, total=total, fps=(done - start) / elapsed))
