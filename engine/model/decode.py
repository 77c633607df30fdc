"""Tracking-head outputs -> per-frame ``Detections`` (CenterNet decoding; conventions in engine.model.heads).

Peaks of the sigmoid heatmap are kept where they equal their 3x3 max-pool (CenterNet's NMS), the
``max_detections`` best per frame are taken, and those scoring at least ``score_threshold`` become
boxes: centre = (cell + offset) * stride, size = box_size at that cell, all in input pixels.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from engine.model.outputs import Detections, ModelOutput


@torch.no_grad()
def decode_detections(output: ModelOutput, *, stride: int, score_threshold: float = 0.1,
                      max_detections: int = 100) -> list[list[Detections]]:
    """Detections indexed [b][t] for an output whose maps are (B, T, ., h, w); input size = (h, w) * stride."""
    if max_detections < 1:
        raise ValueError(f"max_detections must be >= 1, got {max_detections}")
    heat_logits = output.heatmap_logits
    if heat_logits.ndim != 5 or heat_logits.shape[2] != 1:
        raise ValueError(f"heatmap_logits must be (B, T, 1, h, w), got {tuple(heat_logits.shape)}")
    b, t, _, h, w = heat_logits.shape
    heat = torch.sigmoid(heat_logits.float()).reshape(b * t, 1, h, w)
    peaks = heat * (F.max_pool2d(heat, kernel_size=3, stride=1, padding=1) == heat)
    k = min(max_detections, h * w)
    scores, index = peaks.reshape(b * t, h * w).topk(k, dim=1)             # (BT, k)

    def gather(feature: torch.Tensor) -> torch.Tensor:                      # (B,T,C,h,w) -> (BT, k, C)
        flat = feature.float().reshape(b * t, feature.shape[2], h * w)
        return flat.gather(2, index.unsqueeze(1).expand(-1, flat.shape[1], -1)).transpose(1, 2)

    size = gather(output.box_size)
    offset = gather(output.offset)
    cx = ((index % w).float() + offset[..., 0]) * stride
    cy = (torch.div(index, w, rounding_mode="floor").float() + offset[..., 1]) * stride
    half_w, half_h = size[..., 0] / 2, size[..., 1] / 2
    boxes = torch.stack([(cx - half_w).clamp(0, w * stride), (cy - half_h).clamp(0, h * stride),
                         (cx + half_w).clamp(0, w * stride), (cy + half_h).clamp(0, h * stride)], dim=-1)
    embeddings = gather(output.embedding)
    action_probs = torch.softmax(gather(output.action_map_logits), dim=-1)
    # one transfer to the CPU for the whole batch
    scores_np, boxes_np, emb_np, act_np = (x.cpu().numpy().astype(np.float32, copy=False)
                                           for x in (scores, boxes, embeddings, action_probs))
    results: list[list[Detections]] = []
    for bi in range(b):
        row = []
        for ti in range(t):
            i = bi * t + ti
            keep = scores_np[i] >= score_threshold
            row.append(Detections(boxes=np.ascontiguousarray(boxes_np[i][keep]), scores=scores_np[i][keep].copy(),
                                  embeddings=np.ascontiguousarray(emb_np[i][keep]),
                                  action_probs=np.ascontiguousarray(act_np[i][keep])))
        results.append(row)
    return results
