"""Truncated, damaged, foreign and non-HDF5 files give a CacheError naming the file, never a crash."""
from __future__ import annotations

import h5py
import numpy as np
import pytest

from engine.cache import CacheCorruptError, CacheError, CacheVersionError, ResultsCache
from engine.cache.recovery import lookup3, repair_after_crash
from engine.cache.synthetic import synthetic_frame

from conftest import make_cache, new_run


def _full_cache(path, num_frames=120):
    with make_cache(path, num_frames=num_frames) as cache:
        with new_run(cache) as writer:
            for k in range(num_frames):
                writer.write(synthetic_frame(k, with_detections=True))
        cache.save_label_set("gt", np.ones((4, 7)))
    return path.read_bytes()


def _read_everything(path):
    with ResultsCache.open(path) as cache:
        for name in cache.run_names:
            run = cache.run(name)
            for k in range(run.num_frames):
                run.frame(k)
            run.track_rows()
        for name in cache.label_set_names:
            cache.load_label_set(name)


def _expect_cache_error(path, cls=CacheError):
    with pytest.raises(cls) as info:
        _read_everything(path)
    assert str(path) in str(info.value)
    return info.value


def test_text_file_named_h5(tmp_path):
    path = tmp_path / "notes.h5"
    path.write_text("frame,id,x\n1,2,3\n")
    _expect_cache_error(path, CacheCorruptError)
    with pytest.raises(CacheCorruptError):
        ResultsCache.open(path, mode="a")


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    _expect_cache_error(empty, CacheCorruptError)
    with pytest.raises(CacheError, match="no such"):
        ResultsCache.open(tmp_path / "missing.h5")
    with pytest.raises(CacheError, match="directory"):
        ResultsCache.open(tmp_path)


def test_foreign_hdf5_file(tmp_path):
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f["data"] = np.arange(10)
    err = _expect_cache_error(path, CacheCorruptError)
    assert "not a stviewer results cache" in str(err)
    with pytest.raises(CacheCorruptError):  # create() never clobbers someone else's file
        ResultsCache.create(path, video_fingerprint="x", video_path="v", num_frames=3, fps=25, width=8, height=8)


def test_newer_schema_version(tmp_path):
    path = tmp_path / "future.h5"
    make_cache(path).close()
    with h5py.File(path, "a") as f:
        f.attrs["schema_version"] = 99
    _expect_cache_error(path, CacheVersionError)


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.6, 0.9, 0.999])
def test_truncated_file(tmp_path, fraction):
    good = _full_cache(tmp_path / "good.h5")
    path = tmp_path / "truncated.h5"
    path.write_bytes(good[:int(len(good) * fraction)])
    _expect_cache_error(path)


def test_garbage_overwrites(tmp_path):
    good = _full_cache(tmp_path / "good.h5")
    rng = np.random.default_rng(0)
    for i, start in enumerate([0, 48, len(good) // 3, len(good) // 2, len(good) - 4000]):
        data = bytearray(good)
        data[start:start + 2048] = rng.integers(0, 256, 2048, dtype=np.uint8).tobytes()
        path = tmp_path / f"damaged{i}.h5"
        path.write_bytes(bytes(data))
        try:
            _read_everything(path)  # damage in unused space may go unnoticed; that is fine
        except CacheError as exc:
            assert str(path) in str(exc)


def test_damaged_run_attributes(tmp_path):
    path = tmp_path / "attrs.h5"
    _full_cache(path, num_frames=10)
    with h5py.File(path, "a") as f:
        f["runs/tiny"].attrs["class_names"] = "{not json"
        del f["runs/tiny/commit"]
    with ResultsCache.open(path) as cache:
        with pytest.raises(CacheCorruptError, match="tiny"):
            cache.run("tiny")


def test_lookup3_known_vectors():
    # from Bob Jenkins' lookup3.c driver5()
    assert lookup3(b"") == 0xDEADBEEF
    assert lookup3(b"", 0xDEADBEEF) == 0xBD5B7DDE
    assert lookup3(b"Four score and seven years ago") == 0x17770551
    assert lookup3(b"Four score and seven years ago", 1) == 0xCD628161


def test_repair_refuses_a_damaged_superblock(tmp_path):
    path = tmp_path / "sb.h5"
    make_cache(path).close()
    data = bytearray(path.read_bytes())
    data[11] = 5      # "open for writing" ...
    data[20] ^= 0xFF  # ... and a wrong checksum
    path.write_bytes(bytes(data))
    with pytest.raises(CacheCorruptError, match="checksum"):
        repair_after_crash(path)
