"""Where training clips come from: a saved TrainingClips file, a synthetic benchmark, UCF-101/HMDB-51.

``load_training_clips`` builds the in-memory ``TrainingClips`` once (rank 0 when distributed, the
others wait and read the cache file it writes into the run folder).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from engine.train.data import TrainingClips, build_training_clips
from engine.train.distributed import DistributedContext, barrier

MAX_OBJECTS = 32  # object slots per frame in the tracking targets


def make_encoder(config: Any) -> Callable[..., dict]:
    """encode(boxes=, ids=, actor_labels=) with the model's own target conventions."""
    from engine.model.targets import encode_targets

    def encode(*, boxes, ids, actor_labels):
        return encode_targets(boxes, ids, input_size=tuple(config.input_size), stride=config.stride,
                              max_objects=MAX_OBJECTS, actor_labels_per_frame=actor_labels)

    return encode


def window_starts(num_frames: int, clip_len: int, count: int) -> list[int]:
    """``count`` window starts spread evenly over a clip (one window: the middle one)."""
    last = max(num_frames - clip_len, 0)
    if count <= 1:
        return [last // 2]
    return sorted({int(round(v)) for v in np.linspace(0, last, count)})


def build_synthetic_clips(root: str | Path, *, config: Any, windows_per_clip: int, max_clips: int | None,
                          tracking: bool = True, progress: Callable[[int, int], None] | None = None) -> TrainingClips:
    """Windows of a `stv make-synthetic` folder, decoded once per video and resized exactly as
    ``stv infer`` resizes frames (engine.pipeline.frames.resize_for_model), with tracking targets
    from gt/gt.txt and per-actor action labels from labels.json."""
    from engine.data.synthetic import read_benchmark, read_clip_labels
    from engine.io.mot import read_gt
    from engine.pipeline.frames import resize_for_model
    from engine.video import open_video

    bench = read_benchmark(root)
    entries = list(bench.clips[:max_clips] if max_clips else bench.clips)
    if not entries:
        raise ValueError(f"{root}: the benchmark has no clips")
    in_h, in_w = config.input_size
    t_len = config.clip_len
    encode = make_encoder(config) if tracking else None
    frames_out: list[np.ndarray] = []
    labels: list[int] = []
    targets: dict[str, list[torch.Tensor]] = {}
    for k, entry in enumerate(entries):
        with open_video(entry.video) as source:
            frame_h, frame_w = source.height, source.width
            frames = np.stack([resize_for_model(f, input_size=(in_h, in_w)) for f in source.iter_frames()])
        num_frames = len(frames)
        if num_frames < t_len:
            raise ValueError(f"{entry.video}: {num_frames} frames, fewer than the model's clip_len {t_len}")
        per_frame_boxes: list[np.ndarray] = [np.zeros((0, 4), np.float32)] * num_frames
        per_frame_ids: list[np.ndarray] = [np.zeros(0, np.int64)] * num_frames
        per_frame_actions: list[np.ndarray] = [np.zeros(0, np.int64)] * num_frames
        if encode is not None:
            gt = read_gt(entry.gt, seq_length=num_frames)
            actors = read_clip_labels(entry.labels)["actors"]
            frame_index = gt.frame_indices()
            boxes = gt.boxes_xyxy().astype(np.float32) * np.array(
                [in_w / frame_w, in_h / frame_h] * 2, np.float32)
            ids = gt.ids
            for t in range(num_frames):
                rows = frame_index == t
                per_frame_boxes[t] = boxes[rows]
                per_frame_ids[t] = ids[rows]
                per_frame_actions[t] = np.array([bench.class_names.index(actors[int(i)]) if int(i) in actors else -1
                                                 for i in ids[rows]], np.int64)
        for start in window_starts(num_frames, t_len, windows_per_clip):
            window = slice(start, start + t_len)
            frames_out.append(frames[window].transpose(0, 3, 1, 2))
            labels.append(entry.label_index)
            if encode is not None:
                encoded = encode(boxes=per_frame_boxes[window], ids=per_frame_ids[window],
                                 actor_labels=per_frame_actions[window])
                encoded["heatmap"] = encoded["heatmap"].to(torch.float16)
                encoded["source"] = torch.tensor(k, dtype=torch.int64)  # re-ID identities are (clip, track id)
                for name, value in encoded.items():
                    targets.setdefault(name, []).append(value)
        if progress is not None:
            progress(k + 1, len(entries))
    return TrainingClips(frames=torch.from_numpy(np.ascontiguousarray(np.stack(frames_out))),
                         labels=torch.tensor(labels, dtype=torch.int64),
                         targets={name: torch.stack(values) for name, values in targets.items()},
                         class_names=list(bench.class_names))


def open_dataset(data: str | Path, *, config: Any, split: str, windows_per_clip: int,
                 max_clips: int | None) -> tuple[Any, list[str]]:
    """A data set of clip_len-frame windows and its class names, for a synthetic folder or a UCF/HMDB tree."""
    from engine.data.clips import open_clip_dataset

    return open_clip_dataset(data, clip_len=config.clip_len, split=split, windows_per_clip=windows_per_clip,
                             max_clips=max_clips)


def load_training_clips(data: str | Path, *, config: Any, out: Path, ctx: DistributedContext,
                        windows_per_clip: int = 1, max_clips: int | None = None, progress: bool = False,
                        say: Callable[[str], None] = print, stream: bool | None = None, fold: int = 1,
                        seed: int = 0) -> Any:
    """The training data set of ``data``: StreamingClips (decoded on the fly) for UCF-101 / HMDB-51 /
    MOT trees, or when ``stream`` is True; else the in-memory TrainingClips (a saved file, or a
    synthetic benchmark decoded once and cached in ``out``)."""
    data = Path(data)
    if stream is None:
        from engine.data.synthetic import is_benchmark

        stream = data.is_dir() and not is_benchmark(data)
    if stream:
        if not data.is_dir():
            raise FileNotFoundError(f"{data}: no such data folder (only a data folder can be streamed)")
        from engine.train.streaming import open_streaming_clips

        clips = open_streaming_clips(data, config=config, fold=fold, seed=seed, max_clips=max_clips,
                                     windows_per_clip=windows_per_clip)
        say(f"streaming {len(clips)} training clips from {data} ({clips.dataset_name}, split {fold}): "
            f"a random window and augmentation per clip and epoch")
        return clips
    if data.is_file():  # an already built TrainingClips file
        clips = TrainingClips.load(data, key=None)
        if clips is None:
            raise ValueError(f"{data}: not a training clips file (expected a folder or a saved TrainingClips)")
        _check_size(clips, config, data)
        return clips
    if not data.is_dir():
        raise FileNotFoundError(f"{data}: no such data folder")
    key = {"data": str(data.resolve()), "clip_len": config.clip_len, "input_size": list(config.input_size),
           "windows_per_clip": windows_per_clip, "max_clips": max_clips, "max_objects": MAX_OBJECTS}
    cache = Path(out) / "train_clips.pt"
    clips = TrainingClips.load(cache, key=key) if not ctx.is_main else None
    if ctx.is_main:
        clips = TrainingClips.load(cache, key=key)
        if clips is None and (data / "index.json").is_file():
            say(f"decoding the synthetic benchmark {data} (cached in {cache})")
            clips = build_synthetic_clips(data, config=config, windows_per_clip=windows_per_clip,
                                          max_clips=max_clips)
            clips.save(cache, key=key)
        if clips is None:
            dataset, class_names = open_dataset(data, config=config, split="train",
                                                windows_per_clip=windows_per_clip, max_clips=max_clips)
            say(f"decoding {len(dataset)} training windows from {data} (cached in {cache})")
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=len(dataset), desc="decoding", leave=False)

            def step(done: int, total: int) -> None:
                if bar is not None:
                    bar.update(1)

            encode = make_encoder(config) if getattr(dataset, "has_tracking", True) else None
            clips = build_training_clips(dataset, input_size=config.input_size, class_names=class_names,
                                         encode=encode, progress=step)
            if bar is not None:
                bar.close()
            clips.save(cache, key=key)
        barrier(ctx)
    else:
        barrier(ctx)
        clips = TrainingClips.load(cache, key=key)
        if clips is None:
            raise OSError(f"{cache}: rank {ctx.rank} could not read the clips rank 0 wrote")
    return clips


def _check_size(clips: TrainingClips, config: Any, path: Path) -> None:
    t, _, h, w = clips.frames.shape[1:]
    if (h, w) != tuple(config.input_size):
        raise ValueError(f"{path}: clips are {h}x{w} but the model's input size is "
                         f"{config.input_size[0]}x{config.input_size[1]}")


def describe_training_data(data: str | Path, clips: Any) -> list[dict[str, Any]]:
    """What a model was trained on, for the checkpoint's ``trained_on`` (engine.model.provenance):
    [{"name": "synthetic" | "ucf101" | "hmdb51" | "mot17" | "clips-file" | folder name,
      "synthetic": bool, "path": str, "windows": N training windows, "videos": number of videos}]."""
    from engine.data.synthetic import is_benchmark

    data = Path(data)
    windows = int(len(clips))
    sources = clips.targets.get("source") if isinstance(getattr(clips, "targets", None), dict) else None
    videos = int(len(torch.unique(sources))) if sources is not None else getattr(clips, "num_videos", None)
    if data.is_dir() and is_benchmark(data):  # streamed or cached
        name, synthetic = "synthetic", True
    elif data.is_file():
        name, synthetic = "clips-file", bool(getattr(clips, "synthetic", False))
    else:
        name = str(getattr(clips, "dataset_name", "") or data.name)
        synthetic = False
    return [{"name": name, "synthetic": synthetic, "path": str(data.resolve()), "windows": windows,
             "videos": videos}]

