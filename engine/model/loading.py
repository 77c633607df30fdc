"""``load_model(spec)``: the one entry point the pipeline and the viewer use to get a model."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch

from engine.model.checkpoint import load_checkpoint
from engine.model.unified import UnifiedModel, build_model

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_CHECKPOINT = REPO_ROOT / "assets" / "demo_model.pt"
# what the random stand-in for the demo model predicts (the demo data set's classes are not known here)
RANDOM_DEMO_CLASSES = 6


def load_model(spec: str | Path, *, device: str | torch.device = "cpu",
               demo_path: str | Path | None = None) -> tuple[UnifiedModel, dict[str, Any]]:
    """(model in eval mode on ``device``, meta) for ``spec``: "demo" or a checkpoint path.

    "demo" loads ``assets/demo_model.pt`` (``demo_path`` overrides, for tests); while that file does
    not exist it falls back to a randomly initialised tiny model, with meta["random_init"] = True and a
    ``UserWarning`` saying so. meta as in ``load_checkpoint`` (config, class_names, extra, sha256, path).
    """
    if str(spec) == "demo":
        path = Path(demo_path) if demo_path is not None else DEMO_CHECKPOINT
        if path.is_file():
            return load_checkpoint(path, map_location=device)
        warnings.warn(f"demo model {path} not found: using a randomly initialised tiny model "
                      "(its detections and actions are meaningless)", UserWarning, stacklevel=2)
        with torch.random.fork_rng(devices=[]):  # the same random model every time, global RNG untouched
            torch.manual_seed(0)
            model = build_model("tiny", num_classes=RANDOM_DEMO_CLASSES)
        model.to(device).eval()
        meta = {"config": model.config.to_dict(),
                "class_names": [f"class {i}" for i in range(RANDOM_DEMO_CLASSES)], "extra": {},
                "sha256": "random-init", "path": "demo (random init)", "random_init": True}
        return model, meta
    return load_checkpoint(Path(spec), map_location=device)
