"""``load_model(spec)``: the one entry point the pipeline and the viewer use to get a model."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine.assets import MissingAssetError, demo_model_path
from engine.model.checkpoint import load_checkpoint
from engine.model.unified import UnifiedModel


def load_model(spec: str | Path, *, device: str | torch.device = "cpu",
               demo_path: str | Path | None = None) -> tuple[UnifiedModel, dict[str, Any]]:
    """(model in eval mode on ``device``, meta) for ``spec``: "demo" or a checkpoint path.

    "demo" loads the bundled demo model (``engine.assets.demo_model_path()``; ``demo_path`` overrides,
    for tests). A missing demo model raises ``MissingAssetError`` (a FileNotFoundError) saying so: a
    random stand-in would produce meaningless results that look like the demo's. meta as in
    ``load_checkpoint`` (config, class_names, extra, sha256, path).
    """
    if str(spec) == "demo":
        path = Path(demo_path) if demo_path is not None else demo_model_path()
        if not path.is_file():
            raise MissingAssetError(f"the demo model {path} is missing: this stviewer install lacks its "
                                    f"bundled assets; reinstall stviewer, or pass a checkpoint (--model CKPT)")
        return load_checkpoint(path, map_location=device)
    return load_checkpoint(Path(spec), map_location=device)
