"""The one place that finds the bundled demo files (model, clip and the clip's ground truth).

The top-level ``assets/`` folder of the source tree is installed as the package ``stv_assets``
(pyproject.toml's ``package-dir``), so an editable install, ``pip install .`` and a wheel all find
the same files through ``importlib.resources``; nothing else builds a path to them. A missing file is
a ``MissingAssetError`` that says what to do, never a silent substitute.
"""
from __future__ import annotations

import importlib.resources
from pathlib import Path

ASSETS_PACKAGE = "stv_assets"
DEMO_MODEL = "demo_model.pt"
DEMO_MODEL_NOATTN = "demo_model_noattn.pt"
DEMO_CLIP = "demo_clip.mp4"
DEMO_CLIP_GT = "demo_clip_gt"  # folder: gt.txt, seqinfo.ini, labels.json


class MissingAssetError(FileNotFoundError):
    """A bundled demo file is not where the installed package says it is."""


def assets_dir() -> Path:
    """The installed ``stv_assets`` folder (a real directory: the files are opened by path)."""
    try:
        root = importlib.resources.files(ASSETS_PACKAGE)
    except ModuleNotFoundError:
        raise MissingAssetError(
            f"the package {ASSETS_PACKAGE!r} (stviewer's demo model and clip) is not installed: "
            f"reinstall stviewer (`pip install -e .` in a source checkout, or `pip install stviewer`)") from None
    if not isinstance(root, Path):  # e.g. imported from a zip: h5py, PyAV and torch want real files
        raise MissingAssetError(f"{ASSETS_PACKAGE} is not a folder on disk ({root}); install stviewer unzipped")
    return root


def asset_path(name: str) -> Path:
    """Where bundled file ``name`` is; the path may not exist (see ``require_asset``)."""
    return assets_dir() / name


def require_asset(name: str, *, what: str = "file") -> Path:
    """The path of bundled file ``name``; MissingAssetError naming it and the fix when it is absent."""
    path = asset_path(name)
    if not path.exists():
        raise MissingAssetError(f"the bundled {what} {path} is missing: this stviewer install lacks its demo "
                                f"assets; reinstall stviewer, or pass your own file instead")
    return path


def demo_model_path() -> Path:
    """The demo checkpoint's path (may not exist: ``engine.load_model("demo")`` then says so)."""
    return asset_path(DEMO_MODEL)


def demo_clip_path() -> Path:
    """The demo clip's path (may not exist)."""
    return asset_path(DEMO_CLIP)
