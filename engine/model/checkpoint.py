"""Inference checkpoints of the unified model: weights + JSON config + class names, no pickled code.

File layout (one ``torch.save`` of plain containers, loaded with ``torch.load(weights_only=True)``):

    {"format": "stviewer-model", "version": 1,
     "config": "<ModelConfig.to_dict() as JSON>", "class_names": "<JSON list>", "extra": "<JSON object>",
     "state_dict": {name: tensor, ...}}

``load_checkpoint`` rebuilds the model from the stored config and loads the weights strictly; any
difference (missing / unexpected keys, shape mismatches) is reported with the file's path.

Nothing in the file is trusted before it is checked (a crafted file must not cost more than its own
size): the zip archive's central directory first (stored, not compressed, entries whose sizes add up
to the file: no zip bomb is ever inflated), then the tensors are memory-mapped, not read; the config
is checked against sane ranges (``check_config_ranges``) and the tensor shapes against those of the
model the config describes, built on the "meta" device (no memory); only then is the model built and
the weights copied in, and non-finite weights are refused.
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

# What a sane config of this model family can hold: far above any real model, far below what would
# exhaust memory (width 64 ResNet-50 is > 6 GB of weights; input 100000 px is a 30 GB frame).
CONFIG_RANGES: dict[str, tuple[float, float]] = {
    "width": (1 / 64, 4.0), "feature_channels": (1, 2048), "temporal_channels": (1, 2048),
    "head_channels": (1, 2048), "embed_dim": (1, 2048), "num_classes": (1, 100_000), "clip_len": (1, 1024),
    "kernel_size": (1, 15), "groups": (1, 2048),
}
MAX_INPUT_SIDE = 4096
MAX_ARCHIVE_ENTRIES = 100_000
MAX_PICKLE_BYTES = 64 << 20


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


def check_archive(path: Path, *, error: type[Exception] = ValueError, what: str = "model checkpoint") -> None:
    """Refuse, from the zip central directory alone, an archive torch.load would have to inflate or
    that declares more bytes than the file holds (``torch.save`` stores its entries uncompressed)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise error(f"{path}: not a readable {what}: not a torch weights file, or a truncated one "
                    f"(no zip archive: {type(exc).__name__})") from None
    if len(entries) > MAX_ARCHIVE_ENTRIES:
        raise error(f"{path}: not a readable {what}: {len(entries)} archive entries")
    size = path.stat().st_size
    declared = 0
    for entry in entries:
        if entry.compress_type != zipfile.ZIP_STORED:
            raise error(f"{path}: not a readable {what}: entry {entry.filename!r} is compressed "
                        f"({entry.compress_size} -> {entry.file_size} bytes); torch.save never compresses, "
                        f"so it is refused without being inflated")
        if entry.filename.endswith(".pkl") and entry.file_size > MAX_PICKLE_BYTES:
            raise error(f"{path}: not a readable {what}: its pickle declares {entry.file_size} bytes")
        declared += entry.file_size
    if declared > size:
        raise error(f"{path}: not a readable {what}: its entries declare {declared} bytes, the file has {size}")


def safe_torch_load(path: str | Path, *, error: type[Exception] = ValueError, what: str = "model checkpoint"):
    """``torch.load`` of plain containers and tensors only (``weights_only=True``, memory-mapped on the
    CPU), after ``check_archive``. Failures raise ``error`` naming the file; torch's advice to retry with
    ``weights_only=False`` (i.e. to run pickled code) is never passed on."""
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: {what} not found")
    if not path.is_file():
        raise error(f"{path}: not a regular file (a {what} is one)")
    check_archive(path, error=error, what=what)
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError,
            AttributeError, TypeError, KeyError, IndexError, MemoryError) as exc:
        raise error(f"{path}: not a readable {what}: {describe_load_failure(exc)}") from None


def describe_load_failure(exc: BaseException) -> str:
    """Why torch.load refused a file, in words: torch's own text suggests retrying with
    ``weights_only=False`` (i.e. running pickled code), which must never be passed on."""
    if "Unsupported global" in str(exc) or "weights_only" in str(exc):
        return "it holds something other than plain weights, which is refused without being run"
    if isinstance(exc, (zipfile.BadZipFile, EOFError)) or "zip" in str(exc).lower():
        return "not a torch weights file, or a truncated one"
    return f"not a torch weights file ({type(exc).__name__})"


def check_config_ranges(config: dict[str, Any], *, where: str) -> None:
    """CheckpointError unless every size in a stored config lies in ``CONFIG_RANGES`` (checked before
    anything is built from it)."""
    if not isinstance(config, dict):
        raise CheckpointError(f"{where}: the model config is not a JSON object")
    for key, (low, high) in CONFIG_RANGES.items():
        if key not in config:
            continue
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise CheckpointError(f"{where}: model config {key}={value!r} is outside [{low:g}, {high:g}]")
    size = config.get("input_size")
    if size is not None:
        if (not isinstance(size, (list, tuple)) or len(size) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and 32 <= v <= MAX_INPUT_SIDE for v in size)):
            raise CheckpointError(f"{where}: model config input_size={size!r} must be two integers in "
                                  f"[32, {MAX_INPUT_SIDE}]")


# ResNet encoder parameters at width 1.0 (measured: resnet18 11.18M, resnet34 21.28M, resnet50 23.51M);
# at width w there are about w**2 times as many
_ENCODER_PARAMETERS = {"resnet18": 11.1e6, "resnet34": 21.2e6, "resnet50": 23.4e6}


def minimum_weight_bytes(config: ModelConfig) -> int:
    """A lower bound of the bytes of weights a model of ``config`` has (2 bytes per parameter, the
    encoder's share slightly under-estimated, plus the temporal input and action layers), computed
    without building it: a checkpoint holding less cannot be that model."""
    encoder = 0.9 * _ENCODER_PARAMETERS.get(config.backbone, 0.0) * config.width ** 2
    D, C, H = config.feature_channels, config.temporal_channels, config.head_channels
    other = (9 * D * D            # the FPN's 3x3 smoothing convolution
             + D * C              # the temporal module's input projection
             + 5 * 9 * C * H      # the tracking head's five 3x3 convolutions
             + H * (config.embed_dim + config.num_classes)
             + C * config.num_classes)  # the action classifier
    return int(2 * (encoder + other))


def _read(path: Path, map_location: str | torch.device) -> dict[str, Any]:
    payload = safe_torch_load(path, error=CheckpointError)
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
        raw_config = json.loads(payload["config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: malformed checkpoint metadata ({exc})") from None
    check_config_ranges(raw_config, where=str(path))  # before anything is built from it
    try:
        stored = ModelConfig.from_dict(raw_config)
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
    held = sum(t.numel() * t.element_size() for t in state_dict.values())
    needed = minimum_weight_bytes(wanted)
    # the file's own config is not trusted: a model far larger than the weights held would be built
    # (allocated) before they could be compared (a config the caller asked for is built as asked)
    if config is None and needed > held:
        raise CheckpointError(f"{path}: model config {wanted.name!r} ({wanted.backbone} at width {wanted.width:g}) "
                              f"needs at least {needed >> 20} MB of weights, the checkpoint holds {held >> 20} MB")
    # built once, on the CPU: the meta device would route every weight initialiser through torch's
    # reference decompositions, whose first import alone took ~2 s of every first model load
    model = UnifiedModel(wanted)
    expected = model.state_dict()
    problem = describe_mismatch(expected, state_dict)
    if problem:
        raise CheckpointError(f"{path}: checkpoint (config {stored.name!r}) does not fit model config "
                              f"{wanted.name!r}: {problem}")
    for name, tensor in state_dict.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{path}: weight {name!r} holds NaN or infinite values; the model would "
                                  f"only produce NaN")
    model.load_state_dict(state_dict, strict=True)
    model.to(map_location).eval()
    meta = {"config": stored.to_dict(), "class_names": [str(n) for n in class_names], "extra": extra,
            "sha256": sha256_of(path), "path": str(path), "random_init": False}
    return model, meta
