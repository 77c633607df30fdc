"""The schema docstring documents every group, dataset and attribute a real cache contains."""
from __future__ import annotations

import h5py
import numpy as np

from engine.cache import schema
from engine.cache.synthetic import synthetic_frame

from conftest import make_cache, new_run


def test_every_name_in_a_cache_is_documented(cache_path):
    with make_cache(cache_path, num_frames=5) as cache:
        with new_run(cache) as writer:
            for k in range(5):
                writer.write(synthetic_frame(k, with_detections=True))
        cache.save_label_set("gt", np.zeros((1, 7)), source_run="tiny")
    doc = schema.__doc__
    names = set()
    with h5py.File(cache_path, "r") as f:
        names.update(f.attrs)

        def visit(name, obj):
            names.add(name.rsplit("/", 1)[-1])
            names.update(obj.attrs)
            if isinstance(obj, h5py.Dataset):
                assert obj.dtype.kind in "fiu", f"{name}: only plain numeric arrays, got {obj.dtype}"

        f.visititems(visit)
    names -= {"tiny", "gt"}  # user-chosen names
    undocumented = sorted(n for n in names if n not in doc)
    assert not undocumented, f"schema.py does not document: {undocumented}"
    assert f"version {schema.SCHEMA_VERSION}" in doc
