"""Inference checkpoints of the unified model: weights + JSON config + class names, no pickled code.

File layout (one ``torch.save`` of plain containers, loaded with ``torch.load(weights_only=True)``):

    {"format": "stviewer-model", "version": 1,
     "config": "<ModelConfig.to_dict() as JSON>", "class_names": "<JSON list>", "extra": "<JSON object>",
     "state_dict": {name: tensor, ...}}

``load_checkpoint`` rebuilds the model from the stored config and loads the weights strictly; any
difference (missing / unexpected keys, shape mismatches) is reported with the file's path.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from engine.config import ModelConfig, get_config
from engine.model.unified import UnifiedModel

FORMAT = "stviewer-model"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that is missing, foreign, corrupt or does not match the model."""


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint(path: str | Path, model: UnifiedModel, *, class_names: list[str] | tuple[str, ...],
                    extra: dict[str, Any] | None = None) -> Path:
    """Write ``model``'s weights, config and ``class_names`` (one per action class) to ``path`` atomically.

    ``extra``: JSON-serialisable notes (training settings, metrics, ...), returned as meta["extra"].
    """
    path = Path(path)
    class_names = [str(name) for name in class_names]
    if len(class_names) != model.config.num_classes:
        raise ValueError(f"{len(class_names)} class names for a model with {model.config.num_classes} classes")
    try:
        extra_json = json.dumps(extra or {})
    except TypeError as exc:
        raise ValueError(f"extra must be JSON-serialisable: {exc}") from None
    state_dict = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "version": VERSION, "config": json.dumps(model.config.to_dict()),
               "class_names": json.dumps(class_names), "extra": extra_json, "state_dict": state_dict}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def _read(path: Path, map_location: str | torch.device) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError,
            AttributeError, TypeError, KeyError, IndexError) as exc:
        # torch's own text suggests weights_only=False (i.e. running pickled code): never pass that on
        if "Unsupported global" in str(exc):  # a pickled class or function: code we will not run
            reason = "it holds something other than plain weights, which is refused without being run"
        elif isinstance(exc, (zipfile.BadZipFile, EOFError)) or "zip" in str(exc).lower():
            reason = "not a torch weights file, or a truncated one"
        else:
            reason = f"not a torch weights file ({type(exc).__name__})"
        raise CheckpointError(f"{path}: not a readable model checkpoint: {reason}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a stviewer model checkpoint (no format marker {FORMAT!r}; "
                              "a training state or a bare state_dict is not an inference checkpoint)")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {payload.get('version')!r}, this code reads {VERSION}")
    for key in ("config", "class_names", "extra", "state_dict"):
        if key not in payload:
            raise CheckpointError(f"{path}: checkpoint lacks {key!r}")
    return payload


def describe_mismatch(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor], *, limit: int = 5) -> str:
    """'' when the key sets and shapes agree, else a summary naming the first ``limit`` of each difference."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    shapes = [f"{k} {tuple(found[k].shape)} != {tuple(expected[k].shape)}" for k in sorted(set(expected) & set(found))
              if tuple(found[k].shape) != tuple(expected[k].shape)]
    parts = []
    for label, items in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes)):
        if items:
            more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
            parts.append(f"{len(items)} {label}: {', '.join(items[:limit])}{more}")
    return "; ".join(parts)


def load_checkpoint(path: str | Path, *, map_location: str | torch.device = "cpu",
                    config: str | ModelConfig | None = None) -> tuple[UnifiedModel, dict[str, Any]]:
    """Load a checkpoint written by ``save_checkpoint`` -> (model in eval mode, meta).

    meta: {"config": dict, "class_names": list[str], "extra": dict, "sha256": hex of the file,
    "path": str, "random_init": False}. ``config`` (a preset name or ModelConfig) builds that model
    instead of the stored one: a checkpoint for another config then fails, naming what differs.
    Never unpickles code (``weights_only=True``); any unreadable or foreign file raises CheckpointError.
    """
    path = Path(path)
    payload = _read(path, map_location)
    try:
        stored = ModelConfig.from_dict(json.loads(payload["config"]))
        class_names = json.loads(payload["class_names"])
        extra = json.loads(payload["extra"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: malformed checkpoint metadata ({exc})") from None
    if not isinstance(class_names, list) or len(class_names) != stored.num_classes:
        raise CheckpointError(f"{path}: class_names do not match the config's {stored.num_classes} classes")
    if config is None:
        wanted = stored
    elif isinstance(config, str):
        wanted = get_config(config, num_classes=stored.num_classes)
    else:
        wanted = config
    state_dict = payload["state_dict"]
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointError(f"{path}: state_dict is not a mapping of tensors")
    model = UnifiedModel(wanted)
    problem = describe_mismatch(model.state_dict(), state_dict)
    if problem:
        raise CheckpointError(f"{path}: checkpoint (config {stored.name!r}) does not fit model config "
                              f"{wanted.name!r}: {problem}")
    model.load_state_dict(state_dict, strict=True)
    model.to(map_location).eval()
    meta = {"config": stored.to_dict(), "class_names": [str(n) for n in class_names], "extra": extra,
            "sha256": sha256_of(path), "path": str(path), "random_init": False}
    return model, meta
