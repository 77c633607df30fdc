"""What a model was trained on, and the plain warning when a synthetic-only model meets real footage.

`stv train` records ``trained_on`` in the checkpoint's JSON extra: one entry per data set,
{"name", "synthetic", "path", "windows", "videos"} (engine.train.datasets.describe_training_data).
The bundled demo model is trained on `stv make-synthetic` figures only: on real video it boxes
fences and wheels with confident action labels, which a user must not mistake for a real model's
output. ``synthetic_domain_warning`` says so, for `stv infer` and the viewer to print once.

A video is "from the synthetic generator" when it sits in a `stv make-synthetic` clip folder (its
labels.json beside it, index.json of format "stviewer-synthetic" two levels up) or is the bundled
demo clip. Checkpoints written before ``trained_on`` existed count as synthetic-only when their class
names are exactly the generator's actions. Importing this module imports neither torch nor Qt (the
viewer imports it at start; the checkpoint is read only when a warning is asked for).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def checkpoint_notes(model: str | Path, *, demo_checkpoint: str | Path | None = None) -> dict[str, Any]:
    """{"class_names": [...], "extra": {...}} of a checkpoint ("demo" or a path), read without building the
    model (the tensors stay memory-mapped). ValueError naming the file when it is not a checkpoint."""
    from engine.assets import demo_model_path
    from engine.model.checkpoint import CheckpointError, safe_torch_load

    path = Path(demo_checkpoint or demo_model_path()) if str(model) == "demo" else Path(model)
    payload = safe_torch_load(path, error=CheckpointError)
    try:
        return {"class_names": json.loads(payload["class_names"]), "extra": json.loads(payload.get("extra") or "{}")}
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not a stviewer model checkpoint ({type(exc).__name__})") from None


def trained_only_on_synthetic(notes: dict[str, Any]) -> bool:
    """True when every data set in ``trained_on`` is synthetic (or, without ``trained_on``, the class names
    are exactly the synthetic generator's actions)."""
    from engine.data.actors import ACTIONS

    trained_on = (notes.get("extra") or {}).get("trained_on")
    if isinstance(trained_on, list) and trained_on:
        return all(isinstance(entry, dict) and entry.get("synthetic") is True for entry in trained_on)
    return list(notes.get("class_names") or []) == list(ACTIONS)


def _same_bytes(a: Path, b: Path, chunk: int = 1 << 20) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            block = fa.read(chunk)
            if block != fb.read(chunk):
                return False
            if not block:
                return True


def is_synthetic_video(video: str | Path) -> bool:
    """True for a `stv make-synthetic` clip's video or the bundled demo clip."""
    from engine.assets import demo_clip_path
    from engine.data.synthetic import FORMAT

    video = Path(video)
    try:
        demo = demo_clip_path()
        if video.resolve() == demo.resolve():
            return True
        # a copy of the demo clip (a user's first experiment) is still synthetic: same size, same bytes
        if video.is_file() and video.stat().st_size == demo.stat().st_size and _same_bytes(video, demo):
            return True
    except (OSError, RuntimeError):
        pass
    index = video.parent.parent.parent / "index.json"
    if not (video.parent / "labels.json").is_file() or not index.is_file():
        return False
    try:
        with open(index, encoding="utf-8") as handle:
            head = handle.read(4096)  # "format" is the first key; never read a huge file whole
        return f'"format": "{FORMAT}"' in head
    except (OSError, UnicodeDecodeError):
        return False


def synthetic_domain_warning(model: str | Path, video: str | Path, *,
                             demo_checkpoint: str | Path | None = None) -> str | None:
    """The warning to show when ``model`` was trained only on synthetic clips and ``video`` is not one; else None
    (also None when the checkpoint cannot be read: loading it reports that properly)."""
    try:
        notes = checkpoint_notes(model, demo_checkpoint=demo_checkpoint)
    except (ValueError, OSError):
        return None
    if not trained_only_on_synthetic(notes) or is_synthetic_video(video):
        return None
    name = "the demo model" if str(model) == "demo" else f"model {Path(model).name}"
    sizes = [f"{e.get('videos') or e.get('windows')} clips" for e in (notes["extra"].get("trained_on") or [])
             if isinstance(e, dict) and (e.get("videos") or e.get("windows"))]
    what = f" ({', '.join(sizes)} from stv make-synthetic)" if sizes else ""
    return (f"{name} was trained only on synthetic figures{what}; {Path(video).name} is not from the synthetic "
            f"generator, so its boxes, identities and actions here are not meaningful (train on real data: "
            f"stv train --data UCF-101, HMDB-51 or MOT17)")


@dataclass
class DomainNotices:
    """Says each (model, video) warning once: the viewer re-runs models on the same video often."""

    said: set[tuple[str, str]] = field(default_factory=set)

    def warning(self, model: str | Path, video: str | Path, *, demo_checkpoint: str | Path | None = None) -> str | None:
        key = (str(model), str(Path(video).resolve()))
        if key in self.said:
            return None
        self.said.add(key)
        return synthetic_domain_warning(model, video, demo_checkpoint=demo_checkpoint)
