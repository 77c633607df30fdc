"""Where training clips come from: a saved TrainingClips file, a synthetic benchmark, UCF-101/HMDB-51.

``load_training_clips`` builds the in-memory ``TrainingClips`` once (rank 0 when distributed, the
others wait and read the cache file it writes into the run folder).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

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


def open_dataset(data: str | Path, *, config: Any, split: str, windows_per_clip: int,
                 max_clips: int | None) -> tuple[Any, list[str]]:
    """A data set of clip_len-frame windows and its class names, for a synthetic folder or a UCF/HMDB tree."""
    from engine.data.clips import open_clip_dataset

    return open_clip_dataset(data, clip_len=config.clip_len, split=split, windows_per_clip=windows_per_clip,
                             max_clips=max_clips)


def load_training_clips(data: str | Path, *, config: Any, out: Path, ctx: DistributedContext,
                        windows_per_clip: int = 1, max_clips: int | None = None, progress: bool = False,
                        say: Callable[[str], None] = print) -> TrainingClips:
    data = Path(data)
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
