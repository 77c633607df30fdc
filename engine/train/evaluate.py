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
