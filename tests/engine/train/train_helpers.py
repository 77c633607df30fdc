"""Tiny training data for the loop tests: moving squares whose motion direction is the class."""
from __future__ import annotations

import numpy as np
import torch

from engine.model.targets import encode_targets
from engine.train.data import TrainingClips

TINY_OVERRIDES = {"input_size": [64, 64], "clip_len": 4, "width": 0.125, "feature_channels": 16,
                  "temporal_channels": 16, "groups": 4, "head_channels": 8, "embed_dim": 8}


def tiny_clips(n: int = 8, *, t: int = 4, size: int = 64, classes: int = 3, seed: int = 0) -> TrainingClips:
    rng = np.random.default_rng(seed)
    frames = np.zeros((n, t, 3, size, size), np.uint8)
    labels = np.arange(n) % classes
    heat, rest = [], []
    targets: dict[str, list[torch.Tensor]] = {}
    for i in range(n):
        frames[i] = rng.integers(0, 60, (t, 3, size, size), dtype=np.uint8)
        x, y = rng.integers(8, 40, 2)
        dx, dy = [(3, 0), (0, 3), (-3, -3)][labels[i]]
        boxes, ids = [], []
        for k in range(t):
            x1, y1 = x + dx * k, y + dy * k
            frames[i, k, :, y1:y1 + 14, x1:x1 + 10] = 230
            boxes.append(np.array([[x1, y1, x1 + 10, y1 + 14]], np.float32))
            ids.append(np.array([1]))
        encoded = encode_targets(boxes, ids, input_size=(size, size), max_objects=4,
                                 actor_labels_per_frame=[np.array([labels[i]])] * t)
        for name, value in encoded.items():
            targets.setdefault(name, []).append(value)
    return TrainingClips(frames=torch.from_numpy(frames), labels=torch.from_numpy(labels),
                         targets={k: torch.stack(v) for k, v in targets.items()},
                         class_names=[f"c{j}" for j in range(classes)])
