"""Action evaluation of a model on held-out clips: top-1 / top-5 accuracy and the confusion matrix."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.train.data import TrainingClips


def load_eval_set(data: str | Path, *, config: Any, class_names: list[str] | None = None,
                  max_clips: int | None = None, progress: bool = False) -> TrainingClips:
    """One clip_len-frame window per test clip of ``data`` (a synthetic folder or a UCF/HMDB tree),
    decoded at the model's input size. ``class_names`` (the model's) must match the data set's."""
    from engine.train.data import build_training_clips
    from engine.train.datasets import build_synthetic_clips, open_dataset

    data = Path(data)
    if data.is_file():
        clips = TrainingClips.load(data, key=None)
        if clips is None:
            raise ValueError(f"{data}: not a training clips file")
    elif (data / "index.json").is_file():
        clips = build_synthetic_clips(data, config=config, windows_per_clip=1, max_clips=max_clips, tracking=False)
    else:
        dataset, names = open_dataset(data, config=config, split="test", windows_per_clip=1, max_clips=max_clips)
        clips = build_training_clips(dataset, input_size=config.input_size, class_names=names, encode=None)
    if class_names is not None and list(clips.class_names) != list(class_names):
        raise ValueError(f"{data}: classes {clips.class_names} differ from the model's {list(class_names)}")
    return clips


@torch.inference_mode()
def predict_actions(model: torch.nn.Module, clips: TrainingClips, *, device: torch.device | str = "cpu",
                    batch_size: int = 8) -> np.ndarray:
    """(N, K) softmax probabilities, one row per clip window."""
    was_training = model.training
    model.eval()
    probs = []
    try:
        for start in range(0, len(clips), batch_size):
            frames = clips.frames[start:start + batch_size].to(device).float().div_(255.0)
            logits = model(frames).action_logits.float()
            probs.append(torch.softmax(logits, dim=-1).cpu().numpy())
    finally:
        model.train(was_training)
    k = int(getattr(getattr(model, "config", None), "num_classes", 0))
    return np.concatenate(probs) if probs else np.zeros((0, k), np.float32)


def evaluate_actions(model: torch.nn.Module, clips: TrainingClips, *, device: torch.device | str = "cpu",
                     batch_size: int = 8) -> dict[str, Any]:
    """{"top1", "top5" (fractions), "confusion" (K x K list, rows true), "class_names", "num_clips"}."""
    from engine.metrics import confusion_matrix, top_k_accuracy

    probs = predict_actions(model, clips, device=device, batch_size=batch_size)
    labels = clips.labels.numpy()
    k = probs.shape[1]
    return {
        "top1": top_k_accuracy(probs, labels, k=1),
        "top5": top_k_accuracy(probs, labels, k=min(5, k)),
        "confusion": confusion_matrix(labels, probs.argmax(1), num_classes=k).tolist(),
        "class_names": list(clips.class_names),
        "num_clips": int(len(labels)),
    }


PROTOCOLS = ("center", "10x3")


def three_crops(frames: np.ndarray, input_size: tuple[int, int]) -> list[np.ndarray]:
    """(T, H, W, 3) uint8 -> 3 views (T, h, w, 3): the frame scaled to cover (h, w), then the first,
    middle and last (h, w) crops along the axis that overflows (the standard 3-crop test views)."""
    import cv2

    h, w = int(input_size[0]), int(input_size[1])
    src_h, src_w = frames.shape[1:3]
    scale = max(h / src_h, w / src_w)
    new_h, new_w = max(h, int(round(src_h * scale))), max(w, int(round(src_w * scale)))
    scaled = np.stack([cv2.resize(f, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
                       for f in frames])
    views = []
    for where in (0.0, 0.5, 1.0):
        y0 = int(round((new_h - h) * where))
        x0 = int(round((new_w - w) * where))
        views.append(np.ascontiguousarray(scaled[:, y0:y0 + h, x0:x0 + w]))
    return views


@torch.inference_mode()
def evaluate_actions_streamed(model: torch.nn.Module, data: str | Path, *, class_names: list[str] | None = None,
                              protocol: str = "center", fold: int = 1, max_clips: int | None = None,
                              device: torch.device | str = "cpu", batch_size: int = 8) -> dict[str, Any]:
    """evaluate_actions' dict over the test split of ``data`` (split ``fold``), decoded video by video
    (bounded memory whatever the data set's size), plus "protocol" and "views_per_clip".

    protocol "center": one window from the middle of each video, the whole frame resized to the input;
             "10x3":   the standard test protocol: 10 windows evenly spaced over the video x 3 crops
                       (first / centre / last along the long side of the frame scaled to cover the
                       input), softmax averaged over the 30 views of a video.
    """
    from engine.data.clips import open_clip_dataset
    from engine.metrics import confusion_matrix, top_k_accuracy

    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    config = model.config
    windows_per_video = 10 if protocol == "10x3" else 1
    dataset, names = open_clip_dataset(data, clip_len=config.clip_len, split="test", windows_per_clip=windows_per_video,
                                       max_clips=max_clips, input_size=None, fold=fold)
    if class_names is not None and list(names) != list(class_names):
        raise ValueError(f"{data}: classes {names} differ from the model's {list(class_names)}")
    was_training = model.training
    model.eval()
    probs, labels = [], []
    try:
        for video in range(len(dataset) // windows_per_video):
            views = []
            label = None
            for k in range(windows_per_video):
                item = dataset[video * windows_per_video + k]
                label = int(item["label"])
                frames = item["clip"].mul(255.0).round_().to(torch.uint8).permute(0, 2, 3, 1).numpy()
                if protocol == "10x3":
                    views.extend(three_crops(frames, config.input_size))
                else:
                    from engine.train.data import resize_clip

                    views.append(resize_clip(item["clip"], config.input_size).permute(0, 2, 3, 1).numpy())
            video_probs = []
            for start in range(0, len(views), batch_size):
                batch = torch.from_numpy(np.stack(views[start:start + batch_size])).to(device)
                batch = batch.permute(0, 1, 4, 2, 3).float().div_(255.0)
                video_probs.append(torch.softmax(model(batch).action_logits.float(), dim=-1).cpu())
            probs.append(torch.cat(video_probs).mean(0).numpy())
            labels.append(label)
    finally:
        model.train(was_training)
    k = int(config.num_classes)
    probs_array = np.stack(probs) if probs else np.zeros((0, k), np.float32)
    label_array = np.asarray(labels, np.int64)
    return {
        "top1": top_k_accuracy(probs_array, label_array, k=1),
        "top5": top_k_accuracy(probs_array, label_array, k=min(5, k)),
        "confusion": confusion_matrix(label_array, probs_array.argmax(1), num_classes=k).tolist(),
        "class_names": list(names), "num_clips": int(len(label_array)), "protocol": protocol,
        "views_per_clip": windows_per_video * (3 if protocol == "10x3" else 1),
    }
