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

from engine.pipeline.control import CancelToken, NonFiniteOutputError, Progress
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

    @property
    def overlap(self) -> int:
        """Frames each window shares with the previous one (its past context)."""
        return self.clip_len - self.stride

    def windows(self, frames: Iterator[tuple[int, np.ndarray]], *, reported: int = 0
                ) -> Iterator[tuple[list[int], list[np.ndarray], int]]:
        """Yield (indices, frames, first_new) where frames[first_new:] are reported for the first time.

        reported: how many of the first frames were reported before (a resumed stream re-reads the
        ``overlap`` frames of context of the window it continues with)."""
        indices: list[int] = []
        images: list[np.ndarray] = []
        keep = self.overlap
        for index, image in frames:
            indices.append(index)
            images.append(image)
            if len(images) == self.clip_len:
                yield list(indices), list(images), reported
                reported = keep
                indices = indices[len(indices) - keep:] if keep else []
                images = images[len(images) - keep:] if keep else []
        if len(images) > reported:
            yield indices, images, reported


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
        # frames [0, resume_frame) are done: the first frame ``run`` reports (set by ``restore``)
        self.resume_frame = 0
        # first frame not yet processed once every result yielded so far is consumed: the state is
        # then exactly that of an uninterrupted run at this frame (``snapshot`` is valid); None while
        # a batch is half through the tracker
        self.boundary: int | None = 0

    # ---- exact resume --------------------------------------------------------------------------
    def snapshot(self) -> dict[str, np.ndarray]:
        """Everything later frames depend on, valid once the results up to ``boundary`` are consumed:
        the window grid, a causal model's carried state, the tracker and the per-track actions."""
        if self.boundary is None:
            raise ValueError("a batch failed half-way: the stream's state matches no frame")
        out = {"stream": np.array([self.boundary, self.clip_len, self.windower.stride], np.int64)}
        if self._state is not None:
            out["model_state"] = self._state.detach().cpu().numpy()
        out.update({f"tracker.{k}": v for k, v in self.tracker.snapshot().items()})
        ids = np.array(sorted(self._last_track_actions), np.int64)
        out["track_action_ids"] = ids
        if len(ids):
            out["track_action_probs"] = np.stack([self._last_track_actions[int(i)] for i in ids])
        return out

    def restore(self, snapshot: dict[str, np.ndarray]) -> None:
        """Continue from a ``snapshot`` of a stream over the same video with the same model and window
        grid (ValueError otherwise); ``run`` then starts at ``resume_frame``."""
        try:
            frame, clip_len, stride = (int(v) for v in np.asarray(snapshot["stream"]).reshape(3))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"not a stream snapshot ({exc})") from None
        if (clip_len, stride) != (self.clip_len, self.windower.stride):
            raise ValueError(f"the run was made with window {clip_len} and stride {stride}, not "
                             f"{self.clip_len} and {self.windower.stride}")
        state = snapshot.get("model_state")
        if self.causal != (state is not None or frame == 0):
            raise ValueError("the snapshot's carried state does not match the model (causal or not)")
        self.tracker.restore({k[len("tracker."):]: v for k, v in snapshot.items() if k.startswith("tracker.")})
        ids = np.asarray(snapshot.get("track_action_ids", np.zeros(0, np.int64))).reshape(-1)
        probs = snapshot.get("track_action_probs")
        if len(ids) and (probs is None or np.shape(probs)[0] != len(ids)):
            raise ValueError("snapshot's per-track actions disagree with their IDs")
        self._last_track_actions = {int(i): np.asarray(probs[row], np.float32) for row, i in enumerate(ids)}
        self._state = None if state is None else torch.from_numpy(np.array(state)).to(self.device)
        self.resume_frame = self.boundary = frame

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
        self.boundary = None  # until the whole batch is through the tracker, no snapshot is valid
        output, detections = self._forward([images for _, images, _ in windows])
        action_probs = torch.softmax(output.action_logits.float(), dim=-1).cpu().numpy()
        alpha = output.alpha.float().cpu().numpy().astype(np.float16)
        beta = output.beta.float().cpu().numpy()
        if not (np.isfinite(action_probs).all() and np.isfinite(beta).all() and np.isfinite(alpha).all()):
            raise NonFiniteOutputError(
                f"the model's outputs are not finite (NaN or inf) in frames {windows[0][0][0]}.."
                f"{windows[-1][0][-1]}: its weights or inputs are broken; results stop here")
        results = []
        for b, (indices, _, first_new) in enumerate(windows):
            for t in range(first_new, len(indices)):
                results.append(self._frame_result(indices[t], detections[b][t], action_probs[b], alpha[b, t],
                                                  float(beta[b, t])))
        self.boundary = windows[-1][0][-1] + 1
        return results

    def _batches(self, frames: Iterator[tuple[int, np.ndarray]], *, reported: int = 0):
        """Group windows into batches of ``batch_size`` windows of equal length."""
        pending: list = []
        for window in self.windower.windows(frames, reported=reported):
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
        if not np.isfinite(det_rows).all():
            raise NonFiniteOutputError(f"the model's detections are not finite (NaN or inf) in frame {index}: "
                                       f"its weights or inputs are broken; results stop here")
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
        identity = getattr(self.tracker, "last_embeddings", None)  # schema v2: what the tracker knew per row
        return FrameResult(frame_index=index, tracks=tracks, action_probs=action_probs, alpha=alpha,
                           beta=beta, track_action_probs=track_actions, detections=det_rows,
                           track_embeddings=None if identity is None else identity.astype(np.float16),
                           track_margins=getattr(self.tracker, "last_margins", None))

    def run(self, source: Any, *, start: int | None = None, total: int | None = None,
            progress: Callable[[Progress], None] | None = None,
            cancel: CancelToken | None = None) -> Iterator[FrameResult]:
        """Yield a FrameResult for each frame of ``source`` from ``start`` on, in order.

        start defaults to ``resume_frame`` (0 unless ``restore``d); after a restore it must be that
        frame, and the window before it is re-read for its ``overlap`` frames of context."""
        start = self.resume_frame if start is None else int(start)
        if start != self.resume_frame:
            raise ValueError(f"this stream continues at frame {self.resume_frame}, not {start} "
                             f"(restore a snapshot taken at frame {start} first)")
        total = len(source) if total is None else total
        began = time.perf_counter()
        done = start
        read_from = max(0, start - self.windower.overlap)
        with PrefetchedFrames(source, start=read_from, input_size=self.input_size,
                              depth=2 * self.clip_len * self.batch_size) as frames:
            for windows in self._batches(iter(frames), reported=start - read_from):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                for result in self.process_windows(windows):
                    yield result
                done = windows[-1][0][-1] + 1
                if progress is not None:
                    elapsed = max(time.perf_counter() - began, 1e-9)
                    progress(Progress(done=done, total=total, fps=(done - start) / elapsed))
