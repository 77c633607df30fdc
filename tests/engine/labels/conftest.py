from __future__ import annotations

import pytest
from labels_helpers import model_set


@pytest.fixture
def labels():
    """Three model tracks: 3 (frames 0..59), 5 (30..89), 9 (70..119) over 120 frames."""
    return model_set()
