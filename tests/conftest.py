"""Shared test set-up: headless Qt, Triton's CPU interpreter, and the ../shared data."""
from __future__ import annotations

import os
from pathlib import Path

# Both must be set before Qt / triton are first imported.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def _shared(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (a fresh clone has no ../shared)")
    return path


@pytest.fixture
def shared_data():
    """Return a function mapping a path under ../shared/data to a Path, skipping when absent."""
    return _shared


@pytest.fixture(scope="session")
def tud_stadtmitte() -> Path:
    return _shared("mot/TUD-Stadtmitte")


@pytest.fixture(scope="session")
def bikes_mp4() -> Path:
    return _shared("video/bikes.mp4")


@pytest.fixture(scope="session")
def carphone_mp4() -> Path:
    return _shared("video/carphone_pristine.mp4")
