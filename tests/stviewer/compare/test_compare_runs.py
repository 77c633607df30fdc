"""Missing runs are computed by the background worker one after the other and cached as named runs;
the command line opens a comparison and renders it."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from compare_data import jobs_end, viewer_conftest, write_pair  # noqa: F401 (jobs_end: autouse fixture)
from engine.cache import ResultsCache
from stviewer.model_identity import model_identity


class NamingInfer:
    """The viewer tests' fake pipeline, naming its runs as the real pipeline does (the model's default
    run name) and recording how many runs were in flight at once."""

    def __init__(self, *, delay_s: float = 0.002):
        self.fake = viewer_conftest().FakeInfer(delay_s=delay_s)
        self.models: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, video, *, model, run_name=None, **kwargs):
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self.models.append(str(model))
            return self.fake(video, model=model, run_name=run_name or model_identity(model).run_name, **kwargs)
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture
def checkpoints(tmp_path):
    """Two distinct 'checkpoint' files (the fake pipeline never loads them; their sha256 names the runs)."""
    paths = []
    for name in ("model_a.pt", "model_b.pt"):
        path = tmp_path / name
        path.write_bytes(name.encode() * 100)
        paths.append(path)
    return paths


def test_missing_runs_are_computed_one_after_the_other(make_window, qtbot, clip, checkpoints, errors):
    infer = NamingInfer()
    a, b = checkpoints
    w = make_window(infer_fn=infer, model=a)
    assert w.open_path(clip)
    ui = w.compare_ui
    assert ui.compare(str(a), str(b))
    qtbot.waitUntil(lambda: ui.session.comparison is not None, timeout=20000)
    assert not errors
    assert infer.models == [str(a), str(b)] and infer.max_in_flight == 1
    names = {model_identity(a).run_name, model_identity(b).run_name}
    assert {ui.session.run_a.name, ui.session.run_b.name} == names
    assert ui.session.run_a.has_result.all() and ui.session.run_b.has_result.all()
    assert str(w.session.model) == str(a)  # the window's model again, showing its run
    assert w.state.run is not None and w.state.run.name == model_identity(a).run_name
    assert len(ui.session.comparison.disagreement_frames) == 0  # the fake's results do not depend on the model
    cache_path = w.session.cache_path
    w.close()
    with ResultsCache.open(cache_path) as cache:
        assert names <= set(cache.run_names)  # cached as named runs


def test_second_comparison_uses_the_cached_runs(make_window, qtbot, clip, checkpoints):
    infer = NamingInfer()
    a, b = checkpoints
    w = make_window(infer_fn=infer, model=a)
    w.open_path(clip)
    w.compare_ui.compare(str(a), str(b))
    qtbot.waitUntil(lambda: w.compare_ui.session.comparison is not None, timeout=20000)
    assert len(infer.models) == 2
    comparison = w.compare_ui.session.comparison
    assert len(comparison.disagreement_frames) == 0
    w.compare_ui.session.stop()
    w.compare_ui.compare(str(b), str(a))
    qtbot.waitUntil(lambda: w.compare_ui.session.comparison is not None, timeout=20000)
    assert len(infer.models) == 2  # nothing computed again


def test_comparing_a_source_with_itself_is_refused(make_window, clip, errors):
    write_pair(clip)
    w = make_window()
    w.open_path(clip)
    assert not w.compare_ui.compare("run:A", "run:A")
    assert errors and "same" in errors[-1][1]
    assert not w.compare_ui.session.active


def test_unknown_run_is_reported(make_window, clip, errors):
    write_pair(clip)
    w = make_window()
    w.session.threaded = False
    w.open_path(clip)
    w.compare_ui.compare("run:A", "run:nope")
    assert errors and "nope" in errors[-1][1]
    assert not w.compare_ui.session.active and w.compare_ui.stack.currentWidget() is w.video_view


def test_command_line_screenshot_of_a_comparison(clip, tmp_path):
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    write_pair(clip)
    out = tmp_path / "compare.png"
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-m", "stviewer.app", str(clip), "--compare", "run:A", "run:B",
                           "--compare-labels", "gt", "--compare-mode", "overlay", "--screenshot", str(out),
                           "--frame", "12", "--size", "1024x640"], capture_output=True, text=True, timeout=120,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1024, 640)
    bad = subprocess.run([sys.executable, "-m", "stviewer.app", str(clip), "--compare", "run:A", "run:B",
                          "labels:gt", "--screenshot", str(out)], capture_output=True, text=True, timeout=120, env=env)
    assert bad.returncode == 2 and "one or two sources" in bad.stderr


def test_a_failed_run_ends_the_comparison_with_its_reason(make_window, qtbot, clip, checkpoints, errors):
    a, b = checkpoints
    good = NamingInfer()
    bad = viewer_conftest().FakeInfer(fail_at=5)

    def infer(video, *, model, run_name=None, **kwargs):
        if str(model) == str(b):
            return bad(video, model=model, run_name=run_name or model_identity(model).run_name, **kwargs)
        return good(video, model=model, run_name=run_name, **kwargs)

    w = make_window(infer_fn=infer, model=a)
    w.open_path(clip)
    ui = w.compare_ui
    assert ui.compare(str(a), str(b))
    qtbot.waitUntil(lambda: not ui.session.active, timeout=20000)
    assert errors and any("model_b.pt" in message and "failed" in message for _title, message in errors)
    assert ui.stack.currentWidget() is w.video_view and ui.session.comparison is None
    assert good.models == [str(a)] and bad.calls == 1  # A computed, then B tried once


def test_compare_arguments(checkpoints):
    import argparse

    from stviewer.compare.cli import add_compare_arguments, compare_specs
    from stviewer.compare.sources import SourceSpec

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="demo")
    add_compare_arguments(parser)
    a, b = checkpoints
    args = parser.parse_args(["--model", str(a), "--compare", str(b)])
    assert compare_specs(args) == (SourceSpec("model", str(a)), SourceSpec("model", str(b)))
    args = parser.parse_args(["--compare", "run:x", "labels:gt", "--compare-mode", "overlay"])
    assert compare_specs(args) == (SourceSpec("run", "x"), SourceSpec("labels", "gt"))
    assert args.compare_mode == "overlay"
    with pytest.raises(ValueError, match="not a checkpoint file"):
        compare_specs(parser.parse_args(["--compare", "no/such.pt"]))
    with pytest.raises(ValueError, match="needs a name"):
        SourceSpec.parse("run:")


def test_dialog_offers_runs_label_sets_and_checkpoints(make_window, clip, checkpoints):
    from stviewer.compare.dialog import CompareDialog
    from stviewer.compare.sources import SourceSpec

    write_pair(clip)
    w = make_window()
    w.open_path(clip)
    dialog = CompareDialog(w.session, parent=w)
    offered = [dialog.combo_a.itemData(i) for i in range(dialog.combo_a.count())]
    assert offered == [SourceSpec("run", "A"), SourceSpec("run", "B"), SourceSpec("labels", "gt"),
                       SourceSpec("model", "demo")]
    assert "checkpoint sha-a" in dialog.combo_a.itemText(0)
    dialog.add_checkpoint(dialog.combo_b, str(checkpoints[1]))
    dialog.labels_combo.setCurrentIndex(dialog.labels_combo.findData("gt"))
    assert dialog.selection() == (SourceSpec("run", "A"), SourceSpec("model", str(checkpoints[1])), "gt")
    dialog.close()
