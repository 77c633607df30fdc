"""Plain data <-> JSON string attributes (configs, class names, params). Never pickles."""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not plain data")


def to_json(value: Any, *, what: str) -> str:
    """JSON text of ``value`` (dicts, lists, numbers, strings, numpy scalars/arrays, paths)."""
    try:
        return json.dumps(value, default=_plain, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be plain JSON-serialisable data: {exc}") from None


def from_json(text: Any, *, what: str) -> Any:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text)
