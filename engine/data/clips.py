"""Clip sampling and augmentation as torch Datasets over the synthetic benchmark, UCF-101, HMDB-51, MOT17.

Every item is a dict::

    clip          (T, 3, H, W) float32 in [0, 1] (torch)
    label         int action class (-1 for MOT17, which has no actions)
    boxes         tracking data sets only: list of T (N_t, 4) float32 numpy [x1, y1, x2, y2] in the
                  returned clip's pixels (0-based, x2/y2 exclusive)
    ids           list of T (N_t,) int64 track ids
    actor_labels  synthetic only: list of T (N_t,) int64 action class of each box
    source        str, the video / sequence path;  start  int, the window's first frame

Temporal sampling: a window is ``clip_len`` frames ``stride`` apart. ``mode="train"`` draws a
random start per item (from ``numpy.random.default_rng([seed, epoch, index])``: deterministic,
varied by ``set_epoch``); ``mode="test"`` takes ``windows_per_clip`` evenly spaced windows (one:
the centre window). Windows longer than the video repeat its last frame.

Spatial: ``input_size`` (H, W) resizes every frame (boxes scaled with them); ``augment`` (a
:class:`ClipAugment`, or True for its defaults) applies one random resized crop, horizontal flip
(boxes flipped too) and colour jitter to the whole window.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from engine.data.frames import count_frames, read_image_frames, read_video_frames
from engine.data.splits import VideoSample

Boxes = list[np.ndarray]


# --------------------------------------------------------------------------- temporal sampling

def window_starts(num_frames: int, *, span: int, mode: str, windows: int = 1,
                  rng: np.random.Generator | None = None) -> list[int]:
    """First frames of the windows of ``span`` frames: ``windows`` evenly spaced (test) or one random (train)."""
    if num_frames < 1 or span < 1:
        raise ValueError(f"num_frames and span must be >= 1, got {num_frames}, {span}")
    last = max(0, num_frames - span)
    if mode == "train":
        if rng is None:
            raise ValueError("mode='train' needs an rng")
        return [int(rng.integers(0, last + 1))]
    if mode != "test":
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    if windows == 1:
        return [last // 2]
    return [int(round(v)) for v in np.linspace(0, last, windows)]


def window_indices(start: int, *, clip_len: int, stride: int, num_frames: int) -> np.ndarray:
    """(clip_len,) int64 frame indices, clamped to the last frame."""
    return np.minimum(start + stride * np.arange(clip_len, dtype=np.int64), num_frames - 1)


# --------------------------------------------------------------------------- spatial

def _scale_boxes(boxes: Boxes, sx: float, sy: float) -> Boxes:
    factor = np.array([sx, sy, sx, sy], np.float32)
    return [np.asarray(b, np.float32).reshape(-1, 4) * factor for b in boxes]


def resize_frames(frames: np.ndarray, size: tuple[int, int], boxes: Boxes | None = None) -> tuple[np.ndarray, Boxes | None]:
    """(T, H, W, 3) uint8 -> (T, h, w, 3) at ``size`` (h, w), boxes scaled alike."""
    h, w = int(size[0]), int(size[1])
    src_h, src_w = frames.shape[1:3]
    if (src_h, src_w) == (h, w):
        return frames, boxes
    interpolation = cv2.INTER_AREA if h < src_h else cv2.INTER_LINEAR
    out = np.stack([cv2.resize(f, (w, h), interpolation=interpolation) for f in frames])
    if boxes is not None:
        boxes = _scale_boxes(boxes, w / src_w, h / src_h)
    return out, boxes


def _clip_boxes(boxes: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Clip to the frame; keep those with >= 2 px each way. Returns (kept boxes, kept mask)."""
    out = boxes.copy()
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, width)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, height)
    keep = ((out[:, 2] - out[:, 0]) >= 2) & ((out[:, 3] - out[:, 1]) >= 2)
    return out[keep], keep


@dataclass(frozen=True)
class ClipAugment:
    """One random resized crop + horizontal flip + colour jitter, the same for every frame of a window.

    scale        range of the crop's area as a fraction of the frame's
    ratio        range of the crop's aspect ratio relative to the frame's (1 = same shape)
    brightness, contrast, saturation   jitter factors drawn from [1 - v, 1 + v]
    """

    scale: tuple[float, float] = (0.6, 1.0)
    ratio: tuple[float, float] = (0.8, 1.25)
    flip_probability: float = 0.5
    brightness: float = 0.25
    contrast: float = 0.25
    saturation: float = 0.25

    def __call__(self, frames: np.ndarray, *, rng: np.random.Generator, boxes: Boxes | None = None,
                 keep: list[np.ndarray] | None = None, output_size: tuple[int, int] | None = None
                 ) -> tuple[np.ndarray, Boxes | None, list[np.ndarray] | None]:
        """frames (T, H, W, 3) uint8 -> (frames at ``output_size`` or the input size, boxes, kept-row masks).

        ``keep`` (returned when boxes are given): per frame, which input rows survived the crop, so
        callers can filter ids / labels alike.
        """
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
        t, h, w, _ = frames.shape
        out_h, out_w = output_size if output_size is not None else (h, w)
        area = rng.uniform(*self.scale) * h * w
        ratio = math.exp(rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]))) * (w / h)
        cw = int(round(min(w, math.sqrt(area * ratio))))
        ch = int(round(min(h, math.sqrt(area / ratio))))
        x0 = int(rng.integers(0, w - cw + 1))
        y0 = int(rng.integers(0, h - ch + 1))
        flip = rng.random() < self.flip_probability
        b = rng.uniform(1 - self.brightness, 1 + self.brightness)
        c = rng.uniform(1 - self.contrast, 1 + self.contrast)
        s = rng.uniform(1 - self.saturation, 1 + self.saturation)

        crops = frames[:, y0:y0 + ch, x0:x0 + cw]
        interpolation = cv2.INTER_AREA if out_h < ch else cv2.INTER_LINEAR
        out = np.stack([cv2.resize(f, (out_w, out_h), interpolation=interpolation) for f in crops]).astype(np.float32)
        if flip:
            out = out[:, :, ::-1]
        grey = out @ np.array([0.299, 0.587, 0.114], np.float32)
        out = out * b
        out = (out - grey.mean() * b) * c + grey.mean() * b
        grey = out @ np.array([0.299, 0.587, 0.114], np.float32)
        out = grey[..., None] + (out - grey[..., None]) * s
        out = np.ascontiguousarray(np.clip(out, 0, 255).round().astype(np.uint8))

        if boxes is None:
            return out, None, None
        sx, sy = out_w / cw, out_h / ch
        new_boxes, kept = [], []
        for frame_boxes in boxes:
            fb = np.asarray(frame_boxes, np.float32).reshape(-1, 4) - np.array([x0, y0, x0, y0], np.float32)
            fb = fb * np.array([sx, sy, sx, sy], np.float32)
            if flip:
                fb = np.stack([out_w - fb[:, 2], fb[:, 1], out_w - fb[:, 0], fb[:, 3]], axis=1)
            fb, k = _clip_boxes(fb, out_w, out_h)
            new_boxes.append(fb.astype(np.float32))
            kept.append(k)
        return out, new_boxes, kept


def _to_tensor(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (T, 3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div_(255.0)


def _resolve_augment(augment: ClipAugment | bool | None) -> ClipAugment | None:
    if augment is True:
        return ClipAugment()
    if augment in (False, None):
        return None
    if not isinstance(augment, ClipAugment):
        raise ValueError(f"augment must be a ClipAugment or a bool, got {type(augment).__name__}")
    return augment


class _WindowDataset(torch.utils.data.Dataset):
    """Shared windowing: ``windows_per_clip`` items per source (test) or one random window per item (train)."""

    has_tracking = False

    def __init__(self, *, num_sources: int, clip_len: int, stride: int, mode: str, windows_per_clip: int,
                 input_size: tuple[int, int] | None, augment: ClipAugment | bool | None, seed: int) -> None:
        if clip_len < 1 or stride < 1 or windows_per_clip < 1:
            raise ValueError(f"clip_len, stride and windows_per_clip must be >= 1, got {clip_len}, {stride}, "
                             f"{windows_per_clip}")
        if mode not in ("train", "test"):
            raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
        if input_size is not None and (len(input_size) != 2 or min(input_size) < 1):
            raise ValueError(f"input_size must be (H, W), got {input_size!r}")
        self.num_sources = num_sources
        self.clip_len = clip_len
        self.stride = stride
        self.mode = mode
        self.windows_per_clip = windows_per_clip
        self.input_size = None if input_size is None else (int(input_size[0]), int(input_size[1]))
        self.augment = _resolve_augment(augment)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Vary the random windows / augmentation per epoch (train mode)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_sources * self.windows_per_clip

    def _window(self, index: int, num_frames: int) -> tuple[int, np.ndarray, np.random.Generator]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} windows")
        rng = np.random.default_rng([self.seed, self.epoch, index])
        span = (self.clip_len - 1) * self.stride + 1
        source, k = divmod(index, self.windows_per_clip)
        if self.mode == "train":
            start = window_starts(num_frames, span=span, mode="train", rng=rng)[0]
        else:
            start = window_starts(num_frames, span=span, mode="test", windows=self.windows_per_clip)[k]
        return source, window_indices(start, clip_len=self.clip_len, stride=self.stride, num_frames=num_frames), rng

    def _spatial(self, frames: np.ndarray, rng: np.random.Generator, boxes: Boxes | None
                 ) -> tuple[np.ndarray, Boxes | None, list[np.ndarray] | None]:
        if self.augment is not None:
            return self.augment(frames, rng=rng, boxes=boxes, output_size=self.input_size)
        kept = None if boxes is None else [np.ones(len(b), bool) for b in boxes]
        if self.input_size is not None:
            frames, boxes = resize_frames(frames, self.input_size, boxes)
        return frames, boxes, kept


# --------------------------------------------------------------------------- action videos (UCF-101, HMDB-51)

class VideoClipDataset(_WindowDataset):
    """Action-only windows from labelled videos (UCF-101, HMDB-51)."""

    def __init__(self, samples: Sequence[VideoSample], *, class_names: Sequence[str], clip_len: int = 8,
                 stride: int = 1, mode: str = "train", windows_per_clip: int = 1,
                 input_size: tuple[int, int] | None = None, augment: ClipAugment | bool | None = None,
                 seed: int = 0) -> None:
        super().__init__(num_sources=len(samples), clip_len=clip_len, stride=stride, mode=mode,
                         windows_per_clip=windows_per_clip, input_size=input_size, augment=augment, seed=seed)
        self.samples = list(samples)
        self.class_names = list(class_names)
        self._lengths: dict[int, int] = {}

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} windows")
        source = index // self.windows_per_clip
        sample = self.samples[source]
        if source not in self._lengths:
            self._lengths[source] = count_frames(sample.path)
        _, indices, rng = self._window(index, self._lengths[source])
        frames = read_video_frames(sample.path, indices)
        frames, _, _ = self._spatial(frames, rng, None)
        return {"clip": _to_tensor(frames), "label": int(sample.label), "source": str(sample.path),
                "start": int(indices[0])}


# --------------------------------------------------------------------------- synthetic benchmark

class SyntheticClipDataset(_WindowDataset):
    """Windows of a `stv make-synthetic` benchmark with clip labels and tracking targets.

    Boxes are the ground truth's counted rows (flag 1); "don't care" rows (figures mostly outside
    the frame) are left out of the targets.
    """

    has_tracking = True

    def __init__(self, root: str | os.PathLike, *, clip_len: int = 8, stride: int = 1, mode: str = "train",
                 windows_per_clip: int = 1, input_size: tuple[int, int] | None = None,
                 augment: ClipAugment | bool | None = None, seed: int = 0, max_clips: int | None = None) -> None:
        from engine.data.synthetic import read_benchmark

        self.benchmark = read_benchmark(root)
        clips = list(self.benchmark.clips)
        if max_clips is not None:
            clips = clips[:max_clips]
        if not clips:
            raise ValueError(f"{Path(root) / 'index.json'}: lists no clips")
        super().__init__(num_sources=len(clips), clip_len=clip_len, stride=stride, mode=mode,
                         windows_per_clip=windows_per_clip, input_size=input_size, augment=augment, seed=seed)
        self.clips = clips
        self.class_names = list(self.benchmark.class_names)
        self._targets: dict[int, tuple[int, dict[int, tuple[np.ndarray, np.ndarray]], dict[int, int]]] = {}

    def _load_targets(self, source: int):
        from engine.data.synthetic import read_clip_labels
        from engine.io.mot import read_gt, read_seqinfo

        if source not in self._targets:
            clip = self.clips[source]
            num_frames = read_seqinfo(clip.folder / "seqinfo.ini").seq_length
            gt = read_gt(clip.gt, seq_length=num_frames)
            labels = read_clip_labels(clip.labels)
            counted = gt.confidences != 0
            frames = gt.frame_indices()[counted]
            boxes = gt.boxes_xyxy()[counted].astype(np.float32)
            ids = gt.ids[counted]
            per_frame = {}
            for t in range(num_frames):
                rows = frames == t
                per_frame[t] = (boxes[rows], ids[rows])
            actor_label = {tid: labels["class_names"].index(a) for tid, a in labels["actors"].items()}
            self._targets[source] = (num_frames, per_frame, actor_label)
        return self._targets[source]

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} windows")
        source = index // self.windows_per_clip
        num_frames, per_frame, actor_label = self._load_targets(source)
        _, indices, rng = self._window(index, num_frames)
        clip = self.clips[source]
        frames = read_video_frames(clip.video, indices)
        boxes = [per_frame[int(t)][0] for t in indices]
        ids = [per_frame[int(t)][1] for t in indices]
        frames, boxes, kept = self._spatial(frames, rng, boxes)
        ids = [i[k] for i, k in zip(ids, kept)]
        actor_labels = [np.array([actor_label.get(int(v), -1) for v in i], np.int64) for i in ids]
        return {"clip": _to_tensor(frames), "label": clip.label_index, "boxes": boxes,
                "ids": [np.asarray(i, np.int64) for i in ids], "actor_labels": actor_labels,
                "source": str(clip.folder), "start": int(indices[0])}


# --------------------------------------------------------------------------- MOT17

class MOTClipDataset(_WindowDataset):
    """Tracking windows of MOT sequences (image folders): pedestrian boxes (class 1, flag 1); label -1."""

    has_tracking = True

    def __init__(self, sequences: Sequence[Any], *, clip_len: int = 8, stride: int = 1, mode: str = "train",
                 windows_per_clip: int = 1, input_size: tuple[int, int] | None = None,
                 augment: ClipAugment | bool | None = None, seed: int = 0) -> None:
        super().__init__(num_sources=len(sequences), clip_len=clip_len, stride=stride, mode=mode,
                         windows_per_clip=windows_per_clip, input_size=input_size, augment=augment, seed=seed)
        self.sequences = list(sequences)
        self.class_names: list[str] = []
        self._targets: dict[int, dict[int, tuple[np.ndarray, np.ndarray]]] = {}

    def _load_targets(self, source: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        from engine.io.mot import PEDESTRIAN_CLASS, read_gt

        if source not in self._targets:
            seq = self.sequences[source]
            if seq.gt is None:
                raise ValueError(f"{seq.folder / 'gt' / 'gt.txt'}: no such file (tracking targets need it)")
            gt = read_gt(seq.gt, seq_length=seq.seq_length)
            counted = gt.confidences != 0
            if gt.classes is not None:
                counted &= gt.classes == PEDESTRIAN_CLASS
            frames = gt.frame_indices()[counted]
            boxes = gt.boxes_xyxy()[counted].astype(np.float32)
            ids = gt.ids[counted]
            self._targets[source] = {t: (boxes[frames == t], ids[frames == t]) for t in np.unique(frames).tolist()}
        return self._targets[source]

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} windows")
        source = index // self.windows_per_clip
        seq = self.sequences[source]
        per_frame = self._load_targets(source)
        _, indices, rng = self._window(index, seq.seq_length)
        frames = read_image_frames([seq.image_path(int(t)) for t in indices])
        empty = (np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
        boxes = [per_frame.get(int(t), empty)[0] for t in indices]
        ids = [per_frame.get(int(t), empty)[1] for t in indices]
        frames, boxes, kept = self._spatial(frames, rng, boxes)
        ids = [np.asarray(i[k], np.int64) for i, k in zip(ids, kept)]
        return {"clip": _to_tensor(frames), "label": -1, "boxes": boxes, "ids": ids,
                "source": str(seq.folder), "start": int(indices[0])}


# --------------------------------------------------------------------------- one entry point

MOT17_DETECTORS = ("-DPM", "-FRCNN", "-SDP")


def one_per_sequence(sequences: Sequence[Any]) -> list[Any]:
    """MOT17 ships every sequence three times, once per public detector (MOT17-02-DPM, -FRCNN, -SDP), with
    the same images and ground truth: keep the first of each, so training does not see each one thrice."""
    seen: set[str] = set()
    kept = []
    for seq in sequences:
        base = seq.name
        for suffix in MOT17_DETECTORS:
            if base.upper().endswith(suffix):
                base = base[: -len(suffix)]
                break
        if base not in seen:
            seen.add(base)
            kept.append(seq)
    return kept


def detect_layout(data: str | os.PathLike) -> str:
    """'synthetic', 'ucf101', 'hmdb51' or 'mot' for a data folder; ValueError naming it otherwise."""
    from engine.data import hmdb51, mot17, synthetic, ucf101

    data = Path(data)
    if not data.is_dir():
        raise FileNotFoundError(f"{data}: no such data folder")
    if synthetic.is_benchmark(data):
        return "synthetic"
    if ucf101.looks_like_ucf101(data):
        return "ucf101"
    if hmdb51.looks_like_hmdb51(data):
        return "hmdb51"
    if mot17.looks_like_mot(data):
        return "mot"
    raise ValueError(f"{data}: not a `stv make-synthetic` folder (index.json), a UCF-101 tree (ucfTrainTestlist/"
                     "classInd.txt), an HMDB-51 tree (*_test_split1.txt) or MOT sequences (seqinfo.ini)")


def open_clip_dataset(data: str | os.PathLike, *, clip_len: int, split: str = "train", windows_per_clip: int = 1,
                      max_clips: int | None = None, stride: int = 1, input_size: tuple[int, int] | None = None,
                      augment: ClipAugment | bool | None = None, fold: int = 1, seed: int = 0
                      ) -> tuple[_WindowDataset, list[str]]:
    """(dataset, class names) for any supported folder.

    split   "train" samples random windows (mode train), anything else evenly spaced ones (mode test).
            For UCF-101/HMDB-51 it also picks the official list ("train" or "test", split ``fold``);
            a synthetic benchmark has no internal split (held-out data = another folder from new seeds).
    augment off by default (training code that caches decoded windows wants them clean).
    """
    if split not in ("train", "test", "val", "all"):
        raise ValueError(f"split must be train, test, val or all, got {split!r}")
    mode = "train" if split == "train" else "test"
    layout = detect_layout(data)
    common = dict(clip_len=clip_len, stride=stride, mode=mode, windows_per_clip=windows_per_clip,
                  input_size=input_size, augment=augment, seed=seed)
    if layout == "synthetic":
        dataset = SyntheticClipDataset(data, max_clips=max_clips, **common)
        return dataset, list(dataset.class_names)
    if layout == "mot":
        from engine.data.mot17 import load_mot17

        sequences = one_per_sequence(load_mot17(data, split="train"))  # MOT's test sequences have no gt
        return MOTClipDataset(sequences[:max_clips] if max_clips else sequences, **common), []
    list_split = "test" if split in ("test", "val") else "train"
    if layout == "ucf101":
        from engine.data.ucf101 import load_ucf101

        samples, class_names = load_ucf101(data, split=list_split, fold=fold)
    else:
        from engine.data.hmdb51 import load_hmdb51

        samples, class_names = load_hmdb51(data, split=list_split, fold=fold)
    if max_clips is not None:
        # a class-spread subset: every k-th video rather than the first classes only
        step = max(1, len(samples) // max_clips)
        samples = samples[::step][:max_clips]
    return VideoClipDataset(samples, class_names=class_names, **common), class_names
