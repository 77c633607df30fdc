"""Cache schema v2 (per-row re-ID embeddings and association margins) and reading schema-v1 files as they are."""
from __future__ import annotations

import dataclasses
import hashlib

import h5py
import numpy as np
import pytest

from engine.cache import ResultsCache
from engine.cache import schema as S
from engine.cache.synthetic import synthetic_frame

FP = "size=1:sha256=v1"
CLASSES = ["walk", "run", "jump"]
E = 8


def new_cache(path, num_frames=12):
    return ResultsCache.create(path, video_fingerprint=FP, video_path="/v.mp4", num_frames=num_frames, fps=25.0,
                               width=640, height=360)


def run_kwargs(**overrides):
    kwargs = dict(model_config={"name": "tiny"}, checkpoint_sha256="ab" * 32, class_names=CLASSES,
                  params={"window": 4}, alpha_shape=(6, 8))
    kwargs.update(overrides)
    return kwargs


def identity_frame(k, *, with_embeddings=True):
    base = synthetic_frame(k, num_classes=len(CLASSES), alpha_shape=(6, 8))
    n = len(base.tracks)
    rng = np.random.default_rng(100 + k)
    emb = rng.normal(size=(n, E)).astype(np.float16) if with_embeddings else None
    margins = rng.random(n).astype(np.float32)
    if n:
        margins[0] = np.nan  # a new track
    return dataclasses.replace(base, track_embeddings=emb, track_margins=margins)


def write_v1_cache(path, *, num_frames=12, run="old"):
    """A cache exactly as schema-v1 code wrote it (no embedding_dim, no track_margins/track_embeddings)."""
    frames = [synthetic_frame(k, num_classes=len(CLASSES), alpha_shape=(6, 8), with_detections=True)
              for k in range(num_frames)]
    K, F = len(CLASSES), num_frames
    tracks = np.concatenate([f.tracks for f in frames])
    taps = np.concatenate([f.track_action_probs for f in frames])
    dets = np.concatenate([f.detections for f in frames])
    with h5py.File(path, "w", libver="latest") as f:
        f.attrs.update({"format": S.FORMAT_NAME, "schema_version": np.int64(1), "created": "2026-01-01T00:00:00+00:00",
                        "video_path": "/v.mp4", "video_fingerprint": FP, "num_frames": np.int64(F),
                        "fps": np.float64(25.0), "width": np.int64(640), "height": np.int64(360)})
        f.create_group(S.LABEL_SETS_GROUP)
        g = f.create_group(S.RUNS_GROUP).create_group(run)
        g.attrs.update({"model_config": '{"name": "old"}', "checkpoint_sha256": "", "class_names": '["walk", "run", "jump"]',
                        "params": "{}", "alpha_shape": np.array([6, 8], np.int64), "created": "2026-01-01T00:00:00+00:00"})
        flags = np.full(F, S.FLAG_DONE | S.FLAG_HAS_ALPHA | S.FLAG_HAS_TRACK_ACTION_PROBS | S.FLAG_HAS_DETECTIONS, np.uint8)
        g["commit"] = np.array([F, len(tracks), len(dets)], np.int64)
        g["frame_flags"] = flags
        g["beta"] = np.array([f.beta for f in frames], np.float32)
        g["action_probs"] = np.stack([f.action_probs for f in frames])
        g["alpha"] = np.stack([f.alpha for f in frames]).astype(np.float16)
        g["track_offsets"] = np.concatenate([[0], np.cumsum([len(f.tracks) for f in frames])]).astype(np.int64)
        g["detection_offsets"] = np.concatenate([[0], np.cumsum([len(f.detections) for f in frames])]).astype(np.int64)
        g.create_dataset("tracks", data=tracks, maxshape=(None, 6), chunks=(256, 6))
        g.create_dataset("track_action_probs", data=taps, maxshape=(None, K), chunks=(256, K))
        g.create_dataset("detections", data=dets, maxshape=(None, 5), chunks=(256, 5))
    return frames


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_v2_run_round_trips_embeddings_and_margins(tmp_path):
    path = tmp_path / "c.stv.h5"
    written = [identity_frame(k, with_embeddings=k != 3) for k in range(12)]
    with new_cache(path) as cache:
        with cache.create_run("new", embedding_dim=E, **run_kwargs()) as writer:
            for r in written:
                writer.write(r)
    with ResultsCache.open(path) as cache:
        assert cache.schema_version == 2
        reader = cache.run("new")
        assert reader.identity_missing_reason is None and reader.embedding_dim == E
        for r in written:
            got = reader.frame(r.frame_index)
            np.testing.assert_array_equal(got.track_margins, r.track_margins)
            if r.track_embeddings is None:
                assert got.track_embeddings is None
            else:
                np.testing.assert_array_equal(got.track_embeddings, r.track_embeddings)
        margins, emb = reader.track_margin_rows(), reader.track_embedding_rows()
        assert margins.dtype == np.float32 and emb.dtype == np.float16
        assert len(margins) == len(emb) == len(reader.track_rows())
        np.testing.assert_array_equal(margins, np.concatenate([r.track_margins for r in written]))
        offsets = np.cumsum([0] + [len(r.tracks) for r in written])
        assert np.isnan(emb[offsets[3]:offsets[4]]).all()  # frame 3 had none: NaN, not zeros
        np.testing.assert_array_equal(emb[offsets[4]:offsets[5]], written[4].track_embeddings)


def test_v2_run_of_a_model_without_reid_head(tmp_path):
    path = tmp_path / "c.stv.h5"
    with new_cache(path) as cache:
        with cache.create_run("noemb", **run_kwargs()) as writer:
            writer.write(identity_frame(0, with_embeddings=False))
        reader = cache.run("noemb")
        assert "no re-ID embedding head" in reader.identity_missing_reason
        assert reader.track_embedding_rows() is None and reader.embedding_dim == 0
        assert len(reader.track_margin_rows()) == len(reader.track_rows())


def test_embedding_width_is_checked(tmp_path):
    with new_cache(tmp_path / "c.stv.h5") as cache:
        with cache.create_run("new", embedding_dim=E + 1, **run_kwargs()) as writer:
            with pytest.raises(ValueError, match=r"track_embeddings must be \(N, 9\)"):
                writer.write(identity_frame(0))
    with pytest.raises(ValueError, match="track_margins must be"):
        dataclasses.replace(identity_frame(1), track_margins=np.zeros(99, np.float32))


def test_v1_file_reads_as_it_is_with_a_reason(tmp_path):
    path = tmp_path / "old.stv.h5"
    frames = write_v1_cache(path)
    before = digest(path)
    with ResultsCache.open(path) as cache:
        assert cache.schema_version == 1
        reader = cache.run("old")
        assert reader.completed_frames == 12
        assert "schema version 1" in reader.identity_missing_reason
        assert reader.track_margin_rows() is None and reader.track_embedding_rows() is None
        got = reader.frame(5)
        np.testing.assert_array_equal(got.tracks, frames[5].tracks)
        assert got.track_margins is None and got.track_embeddings is None
        assert len(reader.track_rows()) == sum(len(f.tracks) for f in frames)
    assert digest(path) == before  # reading never rewrites a v1 file


def test_v2_run_added_to_a_v1_file_raises_its_version_and_keeps_the_old_run(tmp_path):
    path = tmp_path / "old.stv.h5"
    frames = write_v1_cache(path)
    with ResultsCache.open(path, mode="a", video_fingerprint=FP) as cache:
        with cache.create_run("new", embedding_dim=E, **run_kwargs()) as writer:
            writer.write(identity_frame(0))
    with ResultsCache.open(path) as cache:
        assert cache.schema_version == 2
        assert cache.run("new").identity_missing_reason is None
        old = cache.run("old")
        assert "schema version 1" in old.identity_missing_reason
        np.testing.assert_array_equal(old.frame(11).tracks, frames[11].tracks)


def test_v1_run_resumed_by_v2_code_stays_v1(tmp_path):
    path = tmp_path / "old.stv.h5"
    write_v1_cache(path)
    with h5py.File(path, "r+") as f:  # pretend the v1 writer died after frame 7
        g = f["runs/old"]
        commit = g["commit"][()]
        commit[0] = 8
        commit[1] = g["track_offsets"][8]
        commit[2] = g["detection_offsets"][8]
        g["commit"][...] = commit
    with ResultsCache.open(path, mode="a") as cache:
        with cache.open_run_writer("old") as writer:
            assert writer.completed_frames == 8
            for k in range(8, 12):
                writer.write(identity_frame(k))  # identity data a v1 run cannot hold is dropped
    with ResultsCache.open(path) as cache:
        reader = cache.run("old")
        assert reader.completed_frames == 12
        assert reader.track_margin_rows() is None
        np.testing.assert_array_equal(reader.frame(10).tracks, identity_frame(10).tracks)


def test_identity_datasets_shorter_than_the_committed_rows_are_reported(tmp_path):
    from engine.cache.errors import CacheCorruptError

    path = tmp_path / "c.stv.h5"
    with new_cache(path) as cache:
        with cache.create_run("new", embedding_dim=E, **run_kwargs()) as writer:
            for k in range(4):
                writer.write(identity_frame(k))
    with h5py.File(path, "r+") as f:
        f["runs/new/track_margins"].resize((2,))
    with ResultsCache.open(path) as cache:
        with pytest.raises(CacheCorruptError, match="c.stv.h5.*new"):
            cache.run("new")
