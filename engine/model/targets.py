"""Training targets of the tracking head, encoded with exactly the conventions of engine.model.heads.

``encode_targets`` turns one clip's boxes into the tensors ``engine.train.losses`` reads (per clip;
batching pads M and stacks). ``decode_detections`` (engine.model.decode) inverts it: encoding boxes and
decoding the targets as if they were predictions gives the boxes back (tested).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch


def gaussian_radius(height: float, width: float, *, min_overlap: float = 0.7) -> float:
    """CenterNet's radius (in cells) within which a corner shift keeps IoU >= ``min_overlap``.

    The three cases of CenterNet's ``gaussian_radius`` (Zhou et al. 2019, code in
    ``src/lib/utils/image.py``); box height/width in cells.
    """
    a1 = 1.0
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1 ** 2 - 4 * a1 * c1)) / 2
    a2 = 4.0
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + math.sqrt(b2 ** 2 - 4 * a2 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + math.sqrt(b3 ** 2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def draw_gaussian(heatmap: np.ndarray, center: tuple[int, int], radius: int) -> None:
    """Element-wise max of ``heatmap`` (h, w) with a Gaussian of sigma (2r+1)/6 peaking at 1 on ``center`` (x, y)."""
    diameter = 2 * radius + 1
    sigma = diameter / 6.0
    ys, xs = np.ogrid[-radius:radius + 1, -radius:radius + 1]
    gaussian = np.exp(-(xs * xs + ys * ys) / (2 * sigma * sigma))
    x, y = center
    h, w = heatmap.shape
    left, right = min(x, radius), min(w - x, radius + 1)
    top, bottom = min(y, radius), min(h - y, radius + 1)
    patch = heatmap[y - top:y + bottom, x - left:x + right]
    np.maximum(patch, gaussian[radius - top:radius + bottom, radius - left:radius + right], out=patch)


def encode_targets(boxes_per_frame: Sequence[np.ndarray], ids_per_frame: Sequence[np.ndarray] | None = None, *,
                   input_size: tuple[int, int], stride: int = 8, max_objects: int | None = None,
                   actor_labels_per_frame: Sequence[np.ndarray] | None = None) -> dict[str, torch.Tensor]:
    """Targets of one clip of T frames for the tracking head.

    boxes_per_frame        T arrays (N_t, 4) [x1, y1, x2, y2] in INPUT pixels (0-based, x2/y2 exclusive).
                           Boxes are clipped to the input; those left with no area are dropped.
    ids_per_frame          T arrays (N_t,) int track identity (None: all -1).
    actor_labels_per_frame T arrays (N_t,) int action class of each box, -1 unknown (None: key absent).
    input_size             (H, W) of the model input, multiples of ``stride``.
    max_objects            M, the object slots per frame (default: the most boxes in any frame, at least 1);
                           extra boxes beyond M are dropped.

    Returns (h, w = H/stride, W/stride):
        heatmap (T, 1, h, w) float32, index (T, M) int64 (flat cell y*w + x), mask (T, M) bool,
        size (T, M, 2) float32 (w, h input pixels), offset (T, M, 2) float32 (cells, in [0, 1)),
        ids (T, M) int64 (-1 none) and, if given, actor_labels (T, M) int64 (-1 unknown).
    """
    in_h, in_w = (int(v) for v in input_size)
    if in_h % stride or in_w % stride:
        raise ValueError(f"input_size {input_size} must be multiples of stride {stride}")
    h, w = in_h // stride, in_w // stride
    t_len = len(boxes_per_frame)
    frames = []
    for t, boxes in enumerate(boxes_per_frame):
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) if len(boxes) else np.zeros((0, 4))
        n = len(boxes)
        ids = np.full(n, -1, np.int64) if ids_per_frame is None else np.asarray(ids_per_frame[t], np.int64).reshape(-1)
        labels = (np.full(n, -1, np.int64) if actor_labels_per_frame is None
                  else np.asarray(actor_labels_per_frame[t], np.int64).reshape(-1))
        if len(ids) != n or len(labels) != n:
            raise ValueError(f"frame {t}: {n} boxes but {len(ids)} ids and {len(labels)} actor labels")
        boxes = boxes.copy()
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, in_w)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, in_h)
        keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        frames.append((boxes[keep], ids[keep], labels[keep]))
    m = max_objects if max_objects is not None else max([1] + [len(f[0]) for f in frames])
    heatmap = np.zeros((t_len, 1, h, w), np.float32)
    index = np.zeros((t_len, m), np.int64)
    mask = np.zeros((t_len, m), bool)
    size = np.zeros((t_len, m, 2), np.float32)
    offset = np.zeros((t_len, m, 2), np.float32)
    ids_out = np.full((t_len, m), -1, np.int64)
    labels_out = np.full((t_len, m), -1, np.int64)
    for t, (boxes, ids, labels) in enumerate(frames):
        for k, (x1, y1, x2, y2) in enumerate(boxes[:m]):
            cx, cy = (x1 + x2) / 2 / stride, (y1 + y2) / 2 / stride
            ix, iy = min(int(math.floor(cx)), w - 1), min(int(math.floor(cy)), h - 1)
            radius = max(0, int(gaussian_radius((y2 - y1) / stride, (x2 - x1) / stride)))
            draw_gaussian(heatmap[t, 0], (ix, iy), radius)
            index[t, k] = iy * w + ix
            mask[t, k] = True
            size[t, k] = (x2 - x1, y2 - y1)
            # a centre on the far edge (clipped box) gets offset 1 - eps so decode stays in the input
            offset[t, k] = (min(cx - ix, 1 - 1e-6), min(cy - iy, 1 - 1e-6))
            ids_out[t, k] = ids[k]
            labels_out[t, k] = labels[k]
    out = {
        "heatmap": torch.from_numpy(heatmap), "index": torch.from_numpy(index), "mask": torch.from_numpy(mask),
        "size": torch.from_numpy(size), "offset": torch.from_numpy(offset), "ids": torch.from_numpy(ids_out),
    }
    if actor_labels_per_frame is not None:
        out["actor_labels"] = torch.from_numpy(labels_out)
    return out
