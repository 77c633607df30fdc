"""Issue 12 §3: a results cache's attributes and dataset shapes are checked before anything is
allocated or trusted; every violation is a CacheCorruptError naming the file (and `stv show` exits 1)."""
from __future__ import annotations

import resource

import h5py
import numpy as np
import pytest

from engine.cache import CacheCorruptError, ResultsCache
from engine.cache import schema as S
from engine.cache.synthetic import synthetic_frame

F = 20


@pytest.fixture
def cache_path(tmp_path):
    path = tmp_path / "c.h5"
    with ResultsCache.create(path, video_fingerprint="f", video_path="v.mp4", num_frames=F, fps=25, width=640,
                             height=360) as cache:
        writer = cache.create_run("r", model_config={}, checkpoint_sha256="", class_names=list("abcdef"),
                                  params={}, alpha_shape=(28, 48))
        for k in range(F):
            writer.write(synthetic_frame(k, with_detections=True))
        writer.close()
    return path


def _replace(path, key, data=None, **kwargs):
    with h5py.File(path, "r+") as f:
        g = f["runs/r"]
        del g[key]
        if data is not None:
            g.create_dataset(key, data=data, **kwargs)
        else:
            g.create_dataset(key, **kwargs)


def _read_everything(path):
    with ResultsCache.open(path) as cache:
        reader = cache.run("r")
        for k in range(F):
            reader.frame(k)
        reader.track_rows()


def _refused(path, match):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CacheCorruptError, match=match) as info:
        _read_everything(path)
    assert str(path) in str(info.value)
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 256, "bounded memory"


def test_the_untampered_cache_reads(cache_path):
    _read_everything(cache_path)


def test_num_frames_of_two_billion_is_refused_before_allocating(cache_path):
    with h5py.File(cache_path, "r+") as f:
        f.attrs["num_frames"] = np.int64(2_000_000_000)
    with pytest.raises(CacheCorruptError, match="num_frames=2000000000 is not an integer in"):
        ResultsCache.open(cache_path)


def test_a_consistent_but_huge_run_is_refused_by_its_memory_need(tmp_path):
    """30M frames x 6 classes, every dataset shaped to match (sparse: the file stays tiny)."""
    path = tmp_path / "huge.h5"
    n = 30_000_000
    with ResultsCache.create(path, video_fingerprint="f", video_path="v", num_frames=n, fps=25, width=64,
                             height=48) as cache:
        cache.create_run("r", model_config={}, checkpoint_sha256="", class_names=list("abcdef"), params={},
                         alpha_shape=(2, 2)).close()
    assert path.stat().st_size < 1 << 20
    with pytest.raises(CacheCorruptError, match="would need [0-9]+ MB in memory"):
        with ResultsCache.open(path) as cache:
            cache.run("r")


def test_alpha_shape_of_60000_squared_is_refused(cache_path):
    with h5py.File(cache_path, "r+") as f:
        f["runs/r"].attrs["alpha_shape"] = np.array([60000, 60000], np.int64)
    _refused(cache_path, r"alpha_shape \(60000, 60000\) is not \(h, w\)")


@pytest.mark.parametrize("tamper,match", [
    (lambda o: o.__setitem__(5, -3), "track_offsets decrease, are negative or run past"),
    (lambda o: o.__setitem__(slice(7, None), 10**12), "track_offsets decrease, are negative or run past"),
    (lambda o: o.__setitem__(9, o[8] + 50) if o[10] < o[8] + 50 else o.__setitem__(9, o[10] + 1),
     "track_offsets decrease, are negative or run past"),
    (lambda o: o.__setitem__(0, 2), "track_offsets do not start at row 0"),
])
def test_bad_track_offsets_are_refused(cache_path, tamper, match):
    with h5py.File(cache_path, "r+") as f:
        offsets = f["runs/r/track_offsets"][()]
        tamper(offsets)
        f["runs/r/track_offsets"][...] = offsets
    _refused(cache_path, match)


def test_a_three_column_tracks_dataset_is_refused(cache_path):
    _replace(cache_path, S.TRACKS, data=np.zeros((200, 3), np.float32), maxshape=(None, 3))
    _refused(cache_path, r"dataset 'tracks' has shape \(200, 3\), the schema says \('R', 6\)")


def test_class_names_as_one_string_are_refused(cache_path):
    with h5py.File(cache_path, "r+") as f:
        f["runs/r"].attrs["class_names"] = '"abcdef"'
    _refused(cache_path, "class_names is a JSON str, not a list")


def test_two_class_names_for_six_probabilities_are_refused(cache_path):
    with h5py.File(cache_path, "r+") as f:
        f["runs/r"].attrs["class_names"] = '["a", "b"]'
    _refused(cache_path, r"dataset 'action_probs' has shape \(20, 6\), the schema says \(20, 2\)")


def test_external_raw_storage_is_refused(cache_path, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n" * 10)
    _replace(cache_path, S.TRACKS, shape=(4, 6), dtype="f4", external=[(str(secret), 0, 96)])
    _refused(cache_path, "dataset 'tracks' stores its data in external files")


def test_virtual_datasets_are_refused(cache_path, tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("x", data=np.zeros((400, 6), np.float32))
    layout = h5py.VirtualLayout(shape=(400, 6), dtype="f4")
    layout[:] = h5py.VirtualSource(str(other), "x", shape=(400, 6))
    with h5py.File(cache_path, "r+") as f:
        del f["runs/r/tracks"]
        f["runs/r"].create_virtual_dataset("tracks", layout)
    _refused(cache_path, "dataset 'tracks' is a virtual dataset")


def test_nan_beta_on_a_done_frame_is_refused(cache_path):
    with h5py.File(cache_path, "r+") as f:
        f["runs/r/beta"][3] = np.nan
    _refused(cache_path, "frame 3 is marked done but its beta or action probabilities are NaN")


@pytest.mark.parametrize("bad_id", [np.nan, 1e20, 2.0**32 + 1, -1.0, 7.5])
def test_nan_huge_or_fractional_track_ids_are_refused(cache_path, bad_id):
    with h5py.File(cache_path, "r+") as f:
        offsets = f["runs/r/track_offsets"][()]
        row = int(offsets[4])
        assert offsets[5] > row, "frame 4 has tracks"
        f["runs/r/tracks"][row, 5] = bad_id
    _refused(cache_path, "frame 4 has a track with NaN/infinite values or an ID that is not an integer")


def test_stv_show_of_a_tampered_cache_exits_1_with_the_file_named(cache_path, capsys):
    from engine.cli.main import main as stv

    with h5py.File(cache_path, "r+") as f:
        f["runs/r"].attrs["alpha_shape"] = np.array([60000, 60000], np.int64)
    assert stv(["show", str(cache_path)]) == 1
    err = capsys.readouterr().err
    assert str(cache_path) in err and "alpha_shape" in err and "Traceback" not in err


@pytest.mark.parametrize("blob", [
    (1 << 62).to_bytes(8, "little") + bytes(56),              # declares 4 EiB
    (24).to_bytes(8, "little") + bytes(32) + bytes(24),       # checksum does not match
])
def test_a_crafted_resume_snapshot_is_ignored_not_trusted(cache_path, blob):
    with h5py.File(cache_path, "r+") as f:
        slots = f["runs/r/resume_state"]
        slots.resize(len(blob), axis=1)
        slots[0] = np.frombuffer(blob, np.uint8)
        slots[1] = np.frombuffer(blob, np.uint8)
    with ResultsCache.open(cache_path, mode="a") as cache:
        writer = cache.open_run_writer("r")
        assert writer.resume_point is None  # the pipeline then restarts from frame 0, exactly
        writer.close()


def test_a_compressed_npz_inside_a_valid_checksum_is_refused():
    """Even a snapshot with a correct checksum must not inflate: npz members must be stored."""
    import hashlib
    import io

    from engine.cache.resume_state import HEADER, decode

    buffer = io.BytesIO()
    np.savez_compressed(buffer, commit=np.array([0, 0, 0], np.int64), **{"s.x": np.zeros(1 << 20)})
    payload = buffer.getvalue()
    blob = len(payload).to_bytes(8, "little") + hashlib.sha256(payload).digest() + payload
    assert len(blob) > HEADER and decode(np.frombuffer(blob, np.uint8)) is None
