"""Which cached run the viewer shows (and resumes) for the chosen model: checkpoint hashes, not names."""
from __future__ import annotations

import hashlib

import pytest

from conftest import CLIP_FRAMES, FakeInfer, write_cache
from stviewer.model_identity import file_sha256, fresh_run_name, model_identity

# what caches written by older versions call a run of their random stand-in for a missing demo model
RANDOM_INIT_RUN_NAME, RANDOM_INIT_SHA256 = "demo-random-init", "random-init"


@pytest.fixture
def demo_file(tmp_path):
    path = tmp_path / "assets" / "demo_model.pt"
    path.parent.mkdir()
    path.write_bytes(b"trained demo weights")
    return path


def make_session(*, demo_checkpoint, fake):
    from stviewer.session import Session
    from stviewer.state import ViewerState

    return Session(ViewerState(), infer_fn=fake, auto_infer=False, threaded=False, demo_checkpoint=demo_checkpoint)


def test_identity_hashes_like_the_checkpoint_loader(demo_file, tmp_path):
    from engine.pipeline.runner import default_run_name

    sha = hashlib.sha256(demo_file.read_bytes()).hexdigest()
    assert file_sha256(demo_file) == sha
    assert model_identity("demo", demo_checkpoint=demo_file) == (
        type(model_identity("demo", demo_checkpoint=demo_file))("demo", sha))
    # a missing demo model has no identity (running it fails saying so), like a missing checkpoint
    assert model_identity("demo", demo_checkpoint=tmp_path / "missing.pt") is None
    # the names the pipeline gives its runs
    assert default_run_name({"spec": "demo", "sha256": sha}) == "demo"
    ckpt = model_identity(demo_file)  # a checkpoint given by path
    assert ckpt.run_name == default_run_name({"path": str(demo_file), "sha256": sha}) and ckpt.sha256 == sha
    assert model_identity(tmp_path / "missing.pt") is None
    assert fresh_run_name(ckpt, ["other"]) is None
    assert fresh_run_name(ckpt, [ckpt.run_name]) == f"{ckpt.run_name}-{sha[:8]}"


def test_leftover_random_init_run_is_never_the_demo_run(clip, tmp_path, demo_file):
    write_cache(clip, run_name=RANDOM_INIT_RUN_NAME, checkpoint_sha256=RANDOM_INIT_SHA256)
    fake = FakeInfer()
    session = make_session(demo_checkpoint=tmp_path / "no_model.pt", fake=fake)
    assert session.open_path(clip)
    assert session.state.run is None  # not even while the demo model is missing
    session.close()

    # the trained demo model exists now: the random-init results are not its results
    sha = file_sha256(demo_file)
    fake = FakeInfer(checkpoint_sha256=sha)
    session = make_session(demo_checkpoint=demo_file, fake=fake)
    assert session.open_path(clip)
    assert session.state.run is None
    session.start_inference()
    assert fake.run_names == [None]  # the pipeline's own name for the demo model's run
    assert session.last_worker_outcome == "succeeded"
    assert session.state.run.name == "demo" and session.state.run.has_result.all()
    session.close()
    session = make_session(demo_checkpoint=demo_file, fake=fake)
    assert session.open_path(clip)
    assert session.state.run.name == "demo"  # and from now on it is the one shown
    session.close()


def test_partial_random_init_run_is_not_resumed_with_the_demo_model(clip, demo_file):
    write_cache(clip, run_name=RANDOM_INIT_RUN_NAME, checkpoint_sha256=RANDOM_INIT_SHA256, frames=10)
    fake = FakeInfer(checkpoint_sha256=file_sha256(demo_file))
    session = make_session(demo_checkpoint=demo_file, fake=fake)
    assert session.open_path(clip)
    assert session.state.run is None
    # even when the user shows the random-init run, running the demo model starts its own run
    session.select_run(RANDOM_INIT_RUN_NAME)
    assert session.state.run.name == RANDOM_INIT_RUN_NAME
    session.start_inference()
    assert fake.run_names == [None]
    assert session.state.run.name == "demo" and session.state.run.frames_done == CLIP_FRAMES
    session.close()


def test_run_of_an_older_demo_model_gets_a_new_name(clip, demo_file):
    write_cache(clip, run_name="demo", checkpoint_sha256="0" * 64, frames=10)
    sha = file_sha256(demo_file)
    fake = FakeInfer(checkpoint_sha256=sha)
    session = make_session(demo_checkpoint=demo_file, fake=fake)
    assert session.open_path(clip)
    assert session.state.run is None
    session.start_inference()
    assert fake.run_names == [f"demo-{sha[:8]}"]  # "demo" would fail the pipeline's checkpoint check
    assert session.state.run.name == f"demo-{sha[:8]}" and session.state.run.has_result.all()
    session.close()


def test_checkpoint_path_model_matches_its_run_by_hash(clip, demo_file, tmp_path):
    ckpt = tmp_path / "mine.pt"
    ckpt.write_bytes(b"other weights")
    write_cache(clip, run_name="anything", checkpoint_sha256=file_sha256(ckpt))
    fake = FakeInfer()
    session = make_session(demo_checkpoint=demo_file, fake=fake)
    session.model = ckpt
    assert session.open_path(clip)
    assert session.state.run.name == "anything" and fake.calls == 0
    session.set_model("demo")  # no run of the demo model in the cache: it runs, not shows "anything"
    assert fake.calls == 1 and session.state.run.name != "anything"
    session.close()
