"""The command line: --screenshot, argument errors, and `stv bench viewer` registration."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from conftest import CLIP_FRAMES, FakeInfer, KNOWN_FRAME, KNOWN_ID
from engine.cache import ResultsCache
from stviewer.app import build_parser, main, parse_size


def test_screenshot_of_cached_results(qtbot, cached_clip, tmp_path):
    out = tmp_path / "shot.png"
    assert main(["--screenshot", str(out), "--frame", str(KNOWN_FRAME), "--size", "1200x800",
                 str(cached_clip)]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)
    pixels = np.array([[image.pixelColor(x, y).lightness() for x in range(0, 1200, 40)] for y in range(0, 800, 40)])
    assert pixels.std() > 10  # not a blank window


def test_screenshot_runs_the_model_when_needed(qtbot, clip, tmp_path, monkeypatch):
    fake = FakeInfer(delay_s=0.04)  # 1.6 s for the clip: stopping after frame 5 leaves most undone
    import stviewer.session as session_module

    original = session_module.Session.__init__

    def with_fake(self, *args, **kwargs):
        kwargs["infer_fn"] = fake
        original(self, *args, **kwargs)

    monkeypatch.setattr(session_module.Session, "__init__", with_fake)
    out = tmp_path / "shot.png"
    assert main(["--screenshot", str(out), "--frame", "5", "--size", "1000x700", str(clip)]) == 0
    assert out.exists() and fake.calls == 1
    cache_path = clip.with_name(clip.name + ".stv.h5")
    with ResultsCache.open(cache_path) as cache:
        assert 5 < cache.run("demo").completed_frames < CLIP_FRAMES  # stopped once frame 5 had results
    # --whole-run: the picture shows a finished run (and the run resumes to the end)
    assert main(["--screenshot", str(out), "--frame", "5", "--whole-run", str(clip)]) == 0
    with ResultsCache.open(cache_path) as cache:
        assert cache.run("demo").completed_frames == CLIP_FRAMES


def test_screenshot_failures_are_reported(qtbot, cached_clip, tmp_path, capsys):
    out = tmp_path / "shot.png"
    assert main(["--screenshot", str(out), "--frame", "999", str(cached_clip)]) == 1
    assert "outside" in capsys.readouterr().err
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    assert main(["--screenshot", str(out), str(bad)]) == 1
    assert str(bad) in capsys.readouterr().err
    assert main(["--screenshot", str(out), str(tmp_path / "missing.mp4")]) == 2
    assert main(["--screenshot", str(out), "--size", "big", str(cached_clip)]) == 2
    assert not out.exists()


def test_arguments():
    args = build_parser().parse_args(["video.mp4", "--model", "ckpt.pt"])
    assert args.path == "video.mp4" and args.model == "ckpt.pt" and args.screenshot is None
    assert parse_size("640x480") == (640, 480)
    with pytest.raises(ValueError):
        parse_size("10x10")


def test_bench_viewer_is_registered():
    import argparse

    from engine.cli import bench

    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["viewer", "--frames", "10"])
    assert args.frames == 10 and args._bench.__module__ == "stviewer.bench"


def test_no_path_opens_the_bundled_demo_clip(qtbot, tmp_path, monkeypatch, capsys):
    import stviewer.app as app_module
    import stviewer.session as session_module

    assert app_module.demo_clip_path().is_file(), "assets/demo_clip.mp4 is bundled"

    def never(*args, **kwargs):
        raise AssertionError("the model must not run in this test")

    original = session_module.Session.__init__

    def without_model(self, *args, **kwargs):
        kwargs.update(infer_fn=never, auto_infer=False)
        original(self, *args, **kwargs)

    opened = {}

    def record(window, out, *, frame, timeout_s, **_):
        opened.update(path=window.session.video_path, frames=window.state.num_frames)
        return None

    monkeypatch.setattr(session_module.Session, "__init__", without_model)
    monkeypatch.setattr(app_module, "take_screenshot", record)
    assert main(["--screenshot", str(tmp_path / "shot.png")]) == 0
    assert opened["path"] == app_module.demo_clip_path() and opened["frames"] > 0
    # without the clip: a clear message instead of an empty window
    monkeypatch.setattr(app_module, "demo_clip_path", lambda: tmp_path / "assets" / "demo_clip.mp4")
    assert main([]) == 2
    assert "lacks its bundled demo clip" in capsys.readouterr().err


def test_screenshot_selects_a_track(qtbot, cached_clip, tmp_path, monkeypatch, capsys):
    import stviewer.app as app_module

    selected = []
    original = app_module.take_screenshot

    def spy(window, *args, **kwargs):
        reason = original(window, *args, **kwargs)
        selected.append(window.state.selected_track)
        return reason

    monkeypatch.setattr(app_module, "take_screenshot", spy)
    out = tmp_path / "shot.png"
    for track, expected in ((str(KNOWN_ID), KNOWN_ID), ("auto", KNOWN_ID)):  # the only track on KNOWN_FRAME
        assert main(["--screenshot", str(out), "--frame", str(KNOWN_FRAME), "--track", track,
                     str(cached_clip)]) == 0
        assert selected[-1] == expected
    assert main(["--screenshot", str(out), "--frame", str(KNOWN_FRAME), "--track", "99999", str(cached_clip)]) == 1
    assert "--track 99999" in capsys.readouterr().err
    assert main(["--screenshot", str(out), "--track", "x", str(cached_clip)]) == 2
