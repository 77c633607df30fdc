"""Tracking evaluation of a model on MOT-style sequences, through the same path as `stv infer`.

Each sequence (a folder holding a video and gt/gt.txt, as `stv make-synthetic` writes) is streamed
through ``engine.pipeline.stream.InferenceStream`` (model windows -> decode -> ByteTracker, exactly
what ``stv infer`` caches) and scored with ``engine.metrics`` (what ``stv eval`` prints).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

VIDEO_NAMES = ("video.mp4", "video.avi", "video.mkv")


def find_video(sequence: Path) -> Path:
    for name in VIDEO_NAMES:
        if (sequence / name).is_file():
            return sequence / name
    if (sequence / "img1").is_dir():
        return sequence
    raise FileNotFoundError(f"{sequence}: no video file ({', '.join(VIDEO_NAMES)}) or img1/ folder")


def track_video(model: Any, video: Path, *, device: str | torch.device = "cpu", score_threshold: float = 0.3,
                tracker_kwargs: dict | None = None) -> tuple[Any, int]:
    """MOT results records of ``model`` on ``video`` and its frame count."""
    from engine.io.mot import results_to_records
    from engine.pipeline.stream import InferenceStream
    from engine.tracking import ByteTracker
    from engine.video import open_video

    frames, ids, boxes, scores = [], [], [], []
    was_training = model.training
    model.eval()
    try:
        with open_video(video) as source:
            stream = InferenceStream(model=model, device=torch.device(device), frame_size=(source.height, source.width),
                                     tracker=ByteTracker(**(tracker_kwargs or {})), score_threshold=score_threshold)
            for result in stream.run(source):
                tracks = result.tracks
                frames.append(np.full(len(tracks), result.frame_index, np.int64))
                ids.append(tracks[:, 5].astype(np.int64))
                boxes.append(tracks[:, :4])
                scores.append(tracks[:, 4])
            num_frames = len(source)
    finally:
        model.train(was_training)
    records = results_to_records(np.concatenate(frames), np.concatenate(ids), np.concatenate(boxes),
                                 np.concatenate(scores))
    return records, num_frames


def evaluate_tracking(model: Any, sequences: list[Path], *, device: str | torch.device = "cpu",
                      score_threshold: float = 0.3, tracker_kwargs: dict | None = None) -> dict[str, float]:
    """Combined CLEAR/Identity/HOTA summary (MOTA, IDF1, HOTA, ...) over ``sequences``."""
    from engine.io.mot import read_gt
    from engine.metrics import combine_sequences, evaluate_sequence

    per_sequence = []
    for sequence in sequences:
        sequence = Path(sequence)
        records, num_frames = track_video(model, find_video(sequence), device=device,
                                          score_threshold=score_threshold, tracker_kwargs=tracker_kwargs)
        gt = read_gt(sequence / "gt" / "gt.txt", seq_length=num_frames)
        per_sequence.append(evaluate_sequence(gt, records, num_timesteps=num_frames))
    return combine_sequences(per_sequence).summary()
