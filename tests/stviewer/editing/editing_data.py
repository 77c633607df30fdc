"""Helpers shared by the editing tests: the viewer tests' conftest under a name of its own, and hashes of
every run in a cache (to prove editing never touches them)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import h5py
import numpy as np
from viewer_support import viewer_conftest  # noqa: F401 (re-exported to the tests)




def run_digests(cache_path: Path) -> dict[str, str]:
    """sha256 of every dataset and attribute under /runs (bit-identical check)."""
    out: dict[str, str] = {}
    with h5py.File(cache_path, "r", locking=False, swmr=True) as f:
        runs = f.get("runs")
        if runs is None:
            return out

        def visit(name, obj):
            h = hashlib.sha256()
            for key in sorted(obj.attrs):
                h.update(key.encode())
                h.update(np.asarray(obj.attrs[key]).tobytes())
            if isinstance(obj, h5py.Dataset):
                data = obj[()]
                h.update(str(data.dtype).encode() + str(data.shape).encode())
                h.update(np.ascontiguousarray(data).tobytes())
            out[name] = h.hexdigest()

        runs.visititems(visit)
    return out
