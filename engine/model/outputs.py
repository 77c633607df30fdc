"""Typed results of the unified model: ``ModelOutput`` (forward) and ``Detections`` (decode)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class ModelOutput:
    """What ``UnifiedModel.forward`` returns for a clip (B, T, 3, H, W); h, w = H/8, W/8; K classes.

    action_logits      (B, K)        clip action logits from R (eq. 5); per window in causal mode
    alpha              (B, T, h, w)  spatial attention (eq. 3), sums to 1 over (h, w)
    beta               (B, T)        temporal attention (eq. 4), sums to 1 over T
    heatmap_logits     (B, T, 1, h, w)  centre heatmap logits (see engine.model.heads for conventions)
    box_size           (B, T, 2, h, w)  box (w, h) in input pixels
    offset             (B, T, 2, h, w)  sub-cell centre offset in cells, in (0, 1)
    embedding          (B, T, E, h, w)  L2-normalised re-ID embedding
    action_map_logits  (B, T, K, h, w)  per-location action logits (per-track actions)
    state              (B, C, h, w) temporal state after the last frame (causal models), else None:
                       pass it as ``state=`` with the next window to continue the video.
    """

    action_logits: torch.Tensor
    alpha: torch.Tensor
    beta: torch.Tensor
    heatmap_logits: torch.Tensor
    box_size: torch.Tensor
    offset: torch.Tensor
    embedding: torch.Tensor
    action_map_logits: torch.Tensor
    state: torch.Tensor | None = None


@dataclass
class Detections:
    """Detections of one frame (numpy, on the CPU), best score first.

    boxes          (N, 4) float32 [x1, y1, x2, y2] in INPUT pixels (the model's input size)
    scores         (N,)   float32 centre heatmap probability
    embeddings     (N, E) float32 L2-normalised re-ID embeddings
    action_probs   (N, K) float32 softmax of the action map at each centre
    """

    boxes: np.ndarray
    scores: np.ndarray
    embeddings: np.ndarray
    action_probs: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)
