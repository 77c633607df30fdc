"""Training state checkpoints (resume), separate from the model's inference checkpoint.

``train_state.pt`` holds everything ``--resume`` needs to continue exactly as if never stopped:
model weights, optimiser, LR scheduler, AMP grad scaler, the number of finished epochs, the
Python / NumPy / torch (CPU and CUDA) RNG states, and the run's settings (so a resume with other
settings is refused). It holds only tensors and plain containers, so it loads with
``torch.load(weights_only=True)``: no code is unpickled.
"""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

FORMAT = "stviewer-train-state"
VERSION = 1


class TrainStateError(ValueError):
    """A training state file that is missing, foreign, corrupt or for other settings."""


def capture_rng_state() -> dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": _to_plain(random.getstate()),
        "numpy": {"kind": str(kind), "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    random.setstate(_to_tuple(state["python"]))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = state["cuda"]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)


def _to_plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    return value


def _to_tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_to_tuple(v) for v in value)
    return value


def save_train_state(path: str | Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                     scheduler: Any, scaler: Any, epoch: int, settings: dict[str, Any],
                     history: list[dict[str, float]] | None = None) -> None:
    """Write the state after ``epoch`` finished epochs, atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": FORMAT,
        "version": VERSION,
        "epoch": int(epoch),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else {},
        "rng": capture_rng_state(),
        "settings": settings,
        "history": list(history or []),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_train_state(path: str | Path, *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise TrainStateError(f"{path}: no training state to resume from")
    from engine.model.checkpoint import check_archive, describe_load_failure

    check_archive(path, error=TrainStateError, what="training state")  # no zip bomb is inflated
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        # never pass on torch's hint to retry with weights_only=False (it would run pickled code)
        raise TrainStateError(f"{path}: not a readable training state: {describe_load_failure(exc)}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise TrainStateError(f"{path}: not a stviewer training state")
    if state.get("version") != VERSION:
        raise TrainStateError(f"{path}: training state version {state.get('version')} (expected {VERSION})")
    return state


def check_settings_match(path: str | Path, saved: dict[str, Any], current: dict[str, Any],
                         keys: tuple[str, ...]) -> None:
    """Refuse a resume whose settings that shape the run differ from the saved ones."""
    diffs = [f"{k}: saved {saved.get(k)!r}, now {current.get(k)!r}" for k in keys if saved.get(k) != current.get(k)]
    if diffs:
        raise TrainStateError(f"{path}: cannot resume with different settings ({'; '.join(diffs)})")
