"""Training windows decoded on the fly, one fresh random window and augmentation per clip and epoch.

Real data sets do not fit in memory (UCF-101 split 1 at the paper's 16 x 224 x 224 input is ~20 GB
of uint8), so ``StreamingClips`` keeps only the index (paths, labels, frame counts read lazily) and
each item is decoded when the DataLoader asks for it, in its worker processes (``--workers N``):

    item i of epoch e  = window + ClipAugment (random resized crop, horizontal flip with its boxes
                         transformed exactly, colour jitter) drawn from numpy.random.default_rng(
                         [seed, e, i]) by engine.data.clips, then the tracking targets encoded with the
                         model's own conventions (engine.model.targets).

The randomness depends on (seed, epoch, index) only, never on which worker decodes the item or on a
global RNG, so the DistributedSampler's order + ``set_epoch`` make a resumed run see exactly the
windows an uninterrupted one would (exact resume with any number of workers).

Items are the batch dict of engine.train.losses: "clip" (T, 3, H, W) float in [0, 1], "label" ()
int64 (-1: the data set has no action labels, e.g. MOT17: the action loss is masked), "source" ()
int64 (the clip's index: re-ID identities are (source, track id)) and, for tracking data sets, the
encoded targets (heatmap, index, mask, size, offset, ids[, actor_labels]).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

NO_ACTION_LABEL = -1
NO_ACTION_CLASSES = ("(no action labels)",)  # the single placeholder class of a tracking-only model


class StreamingClips(torch.utils.data.Dataset):
    """A train-mode ``engine.data.clips`` window dataset + target encoding, as training items."""

    def __init__(self, windows: Any, *, class_names: list[str], encode: Any | None, dataset_name: str) -> None:
        if getattr(windows, "mode", "train") != "train":
            raise ValueError("StreamingClips needs a train-mode window dataset (random windows)")
        self.windows = windows
        self.encode = encode if getattr(windows, "has_tracking", False) else None
        self.has_action_labels = bool(class_names)
        self.class_names = list(class_names) if class_names else list(NO_ACTION_CLASSES)
        self.dataset_name = dataset_name
        self.num_videos = int(windows.num_sources)
        self.hflip = False  # the loop's flag for cached clips; ClipAugment flips here already

    @property
    def has_tracking(self) -> bool:
        return self.encode is not None

    def set_epoch(self, epoch: int) -> None:
        """New windows and augmentation each epoch (call before iterating: workers copy the dataset then)."""
        self.windows.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = self.windows[index]
        label = int(item["label"]) if self.has_action_labels else NO_ACTION_LABEL
        out = {"clip": item["clip"], "label": torch.tensor(label, dtype=torch.int64),
               "source": torch.tensor(index // self.windows.windows_per_clip, dtype=torch.int64)}
        if self.encode is not None:
            boxes = [np.asarray(b, np.float32).reshape(-1, 4) for b in item["boxes"]]
            ids = [np.asarray(v, np.int64).reshape(-1) for v in item["ids"]]
            actor = item.get("actor_labels")
            actor = None if actor is None else [np.asarray(v, np.int64).reshape(-1) for v in actor]
            out.update(self.encode(boxes=boxes, ids=ids, actor_labels=actor))
        return out


def open_streaming_clips(data: str | Path, *, config: Any, fold: int, seed: int, max_clips: int | None,
                         windows_per_clip: int = 1, augment: bool = True) -> StreamingClips:
    """StreamingClips over a synthetic benchmark, a UCF-101 / HMDB-51 tree (split ``fold``) or MOT sequences,
    at the model's clip length and input size, ``windows_per_clip`` random windows per clip and epoch.
    An MOT sequence is hundreds of frames: it gives at least (its length / clip_len) windows per epoch."""
    from engine.data.clips import ClipAugment, detect_layout, open_clip_dataset
    from engine.train.datasets import make_encoder

    layout = detect_layout(data)
    if layout == "mot":
        from engine.data.mot17 import load_mot17

        shortest = min(seq.seq_length for seq in load_mot17(data, split="train"))
        windows_per_clip = max(windows_per_clip, shortest // config.clip_len)
    windows, class_names = open_clip_dataset(data, clip_len=config.clip_len, split="train",
                                             windows_per_clip=windows_per_clip, max_clips=max_clips,
                                             input_size=tuple(config.input_size),
                                             augment=ClipAugment() if augment else None, fold=fold, seed=seed)
    encode = make_encoder(config) if windows.has_tracking else None
    name = {"mot": "mot17"}.get(layout, layout)
    return StreamingClips(windows, class_names=class_names, encode=encode, dataset_name=name)
