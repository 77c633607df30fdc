"""The viewer re-verifies in the background that a run's video still has the content it was made from."""
from __future__ import annotations

import os

from conftest import CLASS_NAMES, frame_result
from engine.cache import ResultsCache
from engine.pipeline.pairing import PARAM_KEY, content_record
from engine.video import open_video
from stviewer.model_identity import model_identity


def _write_cache_with_record(video, *, edit_record=None) -> None:
    """A cache whose run records the video's content; ``edit_record`` alters that record first (the
    way a video edited between the fingerprint's sampled blocks looks to the check)."""
    with open_video(video) as v:
        fp, n, (w, h) = v.fingerprint(), len(v), (v.width, v.height)
        record = content_record(v)
    if edit_record is not None:
        edit_record(record)
    with ResultsCache.create(video.with_name(video.name + ".stv.h5"), video_fingerprint=fp, video_path=str(video),
                             num_frames=n, fps=25, width=w, height=h) as cache:
        with cache.create_run("demo", model_config={"name": "fake"}, checkpoint_sha256=model_identity("demo").sha256,
                              params={PARAM_KEY: record}, class_names=CLASS_NAMES, alpha_shape=(28, 48)) as writer:
            for k in range(n):
                writer.write(frame_result(k))


def _edited_between_samples(record: dict) -> None:
    record["mtime_ns"] -= 1_000_000_000
    record["blake2b"] = "0" * 40


def test_video_changed_since_the_run_warns_in_the_status_bar(make_window, qtbot, clip):
    _write_cache_with_record(clip, edit_record=_edited_between_samples)
    w = make_window()
    assert w.open_path(clip)
    assert w.state.run is not None and w.state.run.name == "demo"  # the run is still shown
    check = w.pairing_check
    qtbot.waitUntil(lambda: check.label.isVisible(), timeout=5000)
    assert check.wait(5)
    assert check.label.text() == "⚠ video changed since run demo was made"
    assert "the video was changed after the run was made" in check.label.toolTip()
    assert str(clip) in check.label.toolTip()


def test_unchanged_or_copied_video_gives_no_warning(make_window, qtbot, clip):
    _write_cache_with_record(clip)
    st = os.stat(clip)
    os.utime(clip, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # a copy or a touch: same bytes
    w = make_window()
    check = w.pairing_check
    verdicts = []
    check.finished.connect(lambda key, reason: verdicts.append((key, reason)))
    assert w.open_path(clip)
    qtbot.waitUntil(lambda: bool(verdicts), timeout=5000)
    assert verdicts == [((str(w.session.cache_path), "demo"), "")]
    assert not check.label.isVisible() and check.label.text() == ""


def test_no_run_no_check(make_window, clip):
    w = make_window()
    w.pairing_check.threaded = False
    verdicts = []
    w.pairing_check.finished.connect(lambda key, reason: verdicts.append(reason))
    assert w.open_path(clip)
    assert w.state.run is None and verdicts == [] and not w.pairing_check.label.isVisible()


def test_synchronous_check_of_a_changed_video(make_window, clip):
    _write_cache_with_record(clip, edit_record=_edited_between_samples)
    w = make_window()
    w.pairing_check.threaded = False
    assert w.open_path(clip)
    assert w.pairing_check.label.isVisible()
    assert w.statusBar().currentMessage().startswith("The video changed since run demo was made")
