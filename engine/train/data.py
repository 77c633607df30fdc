"""Training clips cached in memory at the model's input size, with their tracking targets encoded once.

Decoding video and encoding CenterNet targets every step would dominate a CPU training run, so
the windows a data set yields are decoded, resized to the model's input size and stored as uint8
once (and written to a cache file beside the run, so a resume or a second run skips it). Each item
is then a cheap uint8 -> float conversion.

A data set item (engine.data.clips contract): {"clip": (T, 3, H, W) float in [0, 1], "label": int,
"boxes": list of T arrays (N_t, 4) [x1, y1, x2, y2] in the clip's pixels, "ids": list of T (N_t,),
optional "actor_labels": list of T (N_t,)}. Items without "boxes" give action-only training.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

CACHE_FORMAT = "stviewer-train-clips"
CACHE_VERSION = 1


class TrainingClips(torch.utils.data.Dataset):
    """uint8 frames (N, T, 3, H, W), labels (N,), targets {name: (N, ...)} and class names."""

    def __init__(self, *, frames: torch.Tensor, labels: torch.Tensor, targets: dict[str, torch.Tensor],
                 class_names: Sequence[str]) -> None:
        if frames.dtype != torch.uint8 or frames.ndim != 5 or frames.shape[2] != 3:
            raise ValueError(f"frames must be uint8 (N, T, 3, H, W), got {frames.dtype} {tuple(frames.shape)}")
        n = frames.shape[0]
        if labels.shape != (n,):
            raise ValueError(f"labels must be ({n},), got {tuple(labels.shape)}")
        for name, value in targets.items():
            if value.shape[0] != n:
                raise ValueError(f"target {name!r} has {value.shape[0]} rows for {n} clips")
        self.frames = frames
        self.labels = labels.long()
        self.targets = dict(targets)
        self.class_names = list(class_names)
        self.hflip = False  # training augmentation: mirror half of the items (set by the loop)

    @property
    def has_tracking(self) -> bool:
        return "heatmap" in self.targets

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        item = {"clip": self.frames[i].float().div_(255.0), "label": self.labels[i]}
        for name, value in self.targets.items():
            item[name] = value[i].float() if value.dtype == torch.float16 else value[i]
        if self.hflip and bool(torch.rand(()) < 0.5):  # global torch RNG: part of the resumable state
            item = hflip_item(item)
        return item

    def save(self, path: str | Path, *, key: dict[str, Any] | None = None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save({"format": CACHE_FORMAT, "version": CACHE_VERSION, "key": key, "frames": self.frames,
                    "labels": self.labels, "targets": self.targets, "class_names": self.class_names}, tmp)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path, *, key: dict[str, Any] | None) -> "TrainingClips | None":
        """The cached clips at ``path`` if they were built with the same ``key`` (None: any), else None."""
        path = Path(path)
        if not path.is_file():
            return None
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001 - an unreadable cache is rebuilt
            return None
        if blob.get("format") != CACHE_FORMAT or blob.get("version") != CACHE_VERSION or (
                key is not None and blob.get("key") != key):
            return None
        return cls(frames=blob["frames"], labels=blob["labels"], targets=blob["targets"],
                   class_names=blob["class_names"])


def hflip_item(item: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Mirror a clip and its targets left-right (actions are mirror-symmetric).

    A centre at c cells maps to w - c: its cell j to w - 1 - j and its x offset f to 1 - f (exact
    for every non-integer c); sizes, ids and labels are unchanged.
    """
    out = dict(item)
    out["clip"] = item["clip"].flip(-1)
    if "heatmap" in item:
        w = item["heatmap"].shape[-1]
        out["heatmap"] = item["heatmap"].flip(-1)
        row, col = item["index"] // w, item["index"] % w
        mask = item["mask"].bool()
        out["index"] = torch.where(mask, row * w + (w - 1 - col), item["index"])
        offset = item["offset"].clone()
        offset[..., 0] = torch.where(mask, (1.0 - offset[..., 0]).clamp(0.0, 1.0 - 1e-6), offset[..., 0])
        out["offset"] = offset
    return out


def resize_clip(clip: torch.Tensor, input_size: tuple[int, int]) -> torch.Tensor:
    """(T, 3, H, W) float [0, 1] -> (T, 3, h, w) uint8 at ``input_size`` (h, w)."""
    if clip.ndim != 4 or clip.shape[1] != 3:
        raise ValueError(f"clip must be (T, 3, H, W), got {tuple(clip.shape)}")
    clip = clip.float()
    if tuple(clip.shape[-2:]) != tuple(input_size):
        clip = F.interpolate(clip, size=tuple(input_size), mode="bilinear", align_corners=False, antialias=True)
    return clip.mul(255.0).round_().clamp_(0, 255).to(torch.uint8)


def scale_boxes(boxes: Sequence[Any], *, from_size: tuple[int, int], to_size: tuple[int, int]) -> list[np.ndarray]:
    """Per-frame (N_t, 4) boxes from a (H, W) frame to an (h, w) frame."""
    sy = to_size[0] / from_size[0]
    sx = to_size[1] / from_size[1]
    factor = np.array([sx, sy, sx, sy], dtype=np.float32)
    return [np.asarray(b, dtype=np.float32).reshape(-1, 4) * factor for b in boxes]


def build_training_clips(dataset: Any, *, input_size: tuple[int, int], class_names: Sequence[str],
                         encode: Callable[..., dict[str, torch.Tensor]] | None,
                         progress: Callable[[int, int], None] | None = None) -> TrainingClips:
    """Decode every item of ``dataset`` once into a TrainingClips.

    encode   ``encode(boxes=..., ids=..., actor_labels=...)`` -> per-window target tensors (leading
             dimension T), given per-frame numpy arrays in input pixels; None for action-only data.
    """
    frames: list[torch.Tensor] = []
    labels: list[int] = []
    targets: dict[str, list[torch.Tensor]] = {}
    n = len(dataset)
    for i in range(n):
        item = dataset[i]
        clip = torch.as_tensor(item["clip"])
        frames.append(resize_clip(clip, input_size))
        labels.append(int(item["label"]))
        if encode is not None and item.get("boxes") is not None:
            boxes = scale_boxes(item["boxes"], from_size=tuple(clip.shape[-2:]), to_size=tuple(input_size))
            ids = [np.asarray(v, dtype=np.int64).reshape(-1) for v in item["ids"]]
            actor = item.get("actor_labels")
            actor = None if actor is None else [np.asarray(v, dtype=np.int64).reshape(-1) for v in actor]
            encoded = encode(boxes=boxes, ids=ids, actor_labels=actor)
            for name, value in encoded.items():
                value = torch.as_tensor(value)
                if name == "heatmap":
                    value = value.to(torch.float16)  # halves the cache; exact at the 1.0 peaks
                targets.setdefault(name, []).append(value)
        if progress is not None:
            progress(i + 1, n)
    if targets and any(len(v) != n for v in targets.values()):
        raise ValueError("some data set items have tracking boxes and others do not")
    return TrainingClips(frames=torch.stack(frames), labels=torch.tensor(labels, dtype=torch.int64),
                         targets={name: torch.stack(values) for name, values in targets.items()},
                         class_names=class_names)
