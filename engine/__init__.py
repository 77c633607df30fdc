"""engine: the unified spatial-temporal model and everything around it, without Qt.

The public names are loaded lazily so that ``import engine`` stays cheap (the viewer shows
its first frame before torch is imported) and pulls in neither Qt, pyqtgraph nor triton.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "FrameResult": "engine.results",
    "ResultsCache": "engine.cache",
    "open_video": "engine.video",
    "propagate": "engine.ops",
    "build_model": "engine.model", "load_checkpoint": "engine.model", "save_checkpoint": "engine.model",
    "load_model": "engine.model",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
