"""Saving (quit prompt, failed save and retry), export → validate → re-import, MOT imports, a MOT sequence
folder's gt opened as a label set, and the metrics panel (recomputed after edits, ID switches jump)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.cache import ResultsCache
from engine.io.export import load_current_label_set


@pytest.fixture
def editing(make_window, cached_clip, errors):
    window = make_window()
    assert window.open_path(cached_clip)
    window.editing.metrics.threaded = False
    window.editing.ask_close = lambda count: "discard"  # tests that quit say what they answer
    window.editing.label_panel.new_from_run_action.trigger()
    assert window.editing.editor.labels is not None, errors
    return window


def move_one(window, tid: int = 1, frame: int = 5, dx: float = 7.0) -> None:
    t = window.editing.editor.labels.track(tid)
    assert window.editing.editor.set_box(track_id=tid, frame=frame, box=t.boxes[t.row(frame)] + [dx, 0, dx, 0])


def test_quit_prompt_cancel_keeps_window_save_writes_the_cache(editing, cached_clip):
    w = editing
    ed = w.editing
    move_one(w)
    answers = []
    ed.ask_close = lambda count: answers.append(count) or "cancel"
    w.close()
    assert answers and w.isVisible(), "Cancel keeps the window open"
    edited = ed.editor.labels.copy()
    ed.ask_close = lambda count: "save"
    w.close()
    assert not w.isVisible()
    with ResultsCache.open(cached_clip.with_name(cached_clip.name + ".stv.h5")) as cache:
        assert edited.name in cache.label_set_names
        saved = load_current_label_set(cache, edited.name)
    assert saved.equals(edited)


def test_quit_discard_drops_the_edits_since_the_last_save(editing, cached_clip):
    w = editing
    ed = w.editing
    assert ed.autosave.save()
    saved = ed.editor.labels.copy()
    move_one(w)
    ed.autosave.flush()
    assert ed.autosave.has_unsaved()
    ed.ask_close = lambda count: "discard"
    w.close()
    with ResultsCache.open(cached_clip.with_name(cached_clip.name + ".stv.h5")) as cache:
        assert load_current_label_set(cache, saved.name).equals(saved)


def unwritable_folder(tmp_path: Path) -> tuple[Path, callable]:
    """A folder where writes fail: read-only for a normal user; for root (who ignores permissions) a
    tiny tmpfs filled up. Returns the folder and a function that makes it writable again."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        return folder, None
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("running as root without permission to mount a tmpfs: no way to make a write fail")
    return folder, lambda: subprocess.run(["umount", "-l", str(folder)], check=False)


def test_failed_save_shows_error_keeps_edits_and_retries(make_window, clip_master, tmp_path, errors):
    folder, cleanup = unwritable_folder(tmp_path)
    try:
        clip = folder / "clip.mp4"
        shutil.copy(clip_master, clip)
        from editing_data import viewer_conftest

        viewer_conftest().write_cache(clip)
        w = make_window()
        assert w.open_path(clip)
        ed = w.editing
        ed.metrics.threaded = False
        ed.ask_close = lambda count: "discard"
        # the disk fills up (or the folder turns read-only) after the cache was made
        if cleanup is None:
            os.chmod(folder, 0o555)
        else:
            filler = folder / "filler"
            with open(filler, "wb") as f:
                try:
                    f.write(b"\0" * (8 << 20))
                except OSError:
                    pass
        ed.label_panel.new_from_run_action.trigger()
        move_one(w)
        ed.autosave.flush()
        assert errors and "Autosave failed" in errors[0][0], errors
        assert len(errors) == 1, "one dialog per failure streak, not one per retry"
        assert ed.autosave.failing and "NOT SAVED" in ed.label_panel.save_state.text()
        assert ed.autosave.retry_timer.isActive()
        edited = ed.editor.labels.copy()
        assert not ed.autosave.save()
        assert ed.editor.labels.equals(edited), "the edits stay in memory"
        # space comes back: the retry saves everything
        if cleanup is None:
            os.chmod(folder, 0o755)
        else:
            filler.unlink()
        ed.autosave._retry()
        assert ed.autosave.failing is None and not ed.autosave.has_unsaved()
        with ResultsCache.open(clip.with_name(clip.name + ".stv.h5")) as cache:
            assert load_current_label_set(cache, edited.name).equals(edited)
        w.close()
    finally:
        if cleanup is not None:
            cleanup()


def test_export_validate_reimport_round_trip(editing, tmp_path):
    from engine.io.mot_validate import validate_mot_path

    w = editing
    ed = w.editing
    move_one(w)
    ed.editor.toggle_outside(track_id=2, frame=30)
    ed.editor.set_consider(track_id=3, consider=False)
    ed.editor.set_class(track_id=4, class_id=7)
    seq = ed.export_mot(tmp_path / "out")
    assert seq is not None and (seq / "gt" / "gt.txt").is_file() and (seq / "seqinfo.ini").is_file()
    assert validate_mot_path(seq, limit=5).ok
    original = ed.editor.labels.copy()
    assert ed.import_mot("gt", seq / "gt" / "gt.txt", name="reimported")
    back = ed.editor.labels
    assert back.name == "reimported"
    for t in original.tracks():
        r = back.track(t.track_id)
        np.testing.assert_array_equal(r.frames, t.frames)
        np.testing.assert_allclose(r.boxes, t.boxes, atol=1e-6)
        assert r.class_id == t.class_id
        np.testing.assert_array_equal(r.consider, t.consider)
        np.testing.assert_array_equal(r.visibility, t.visibility)
    assert set(back.track_ids().tolist()) == set(original.track_ids().tolist())


def test_import_results_and_detections_as_runs(editing, tmp_path):
    w = editing
    ed = w.editing
    results = tmp_path / "other.txt"
    results.write_text("1,5,10,20,30,40,0.9,-1,-1,-1\n2,5,12,20,30,40,0.8,-1,-1,-1\n")
    assert ed.import_mot("results", results)
    assert "other" in w.session.cache.run_names and w.state.run.name == "other"
    det = tmp_path / "det.txt"
    det.write_text("".join(f"{k},-1,{10 + k},20,30,60,0.95,-1,-1,-1\n" for k in range(1, 21)))
    assert ed.import_mot("det", det)
    assert "det-tracked" in w.session.cache.run_names
    assert len(w.state.run.track_rows()) > 0


def test_mot_sequence_folder_opens_its_gt_as_a_label_set(make_window, clip_master, tmp_path, errors):
    """A MOT folder with img1 frames and gt/gt.txt: the gt becomes label set "gt" on opening."""
    import cv2

    from engine.video import open_video

    seq = tmp_path / "SEQ-01"
    (seq / "img1").mkdir(parents=True)
    (seq / "gt").mkdir()
    with open_video(clip_master) as video:
        for k in range(8):
            cv2.imwrite(str(seq / "img1" / f"{k + 1:06d}.jpg"), np.ascontiguousarray(video[k][:, :, ::-1]))
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=SEQ-01\nimDir=img1\nframeRate=25\nseqLength=8\n"
                                     "imWidth=320\nimHeight=240\nimExt=.jpg\n")
    (seq / "gt" / "gt.txt").write_text("".join(f"{k},3,{10 + k},20,30,60,1,1,0.75\n" for k in range(1, 9)))
    w = make_window()
    w.editing.ask_close = lambda count: "discard"
    assert w.open_path(seq), errors
    ed = w.editing
    assert ed.editor.name == "gt", errors
    t = ed.editor.labels.track(3)
    assert len(t) == 8 and np.all(t.visibility == 0.75)


def test_metrics_recomputed_after_edits_and_switch_click_jumps(editing, qtbot):
    w = editing
    ed = w.editing
    panel = ed.metrics_panel
    assert panel.pair() == ("demo", ed.editor.name)
    ed.request_metrics(now=True)
    assert panel.value_labels["MOTA"].text() == "1.000" and panel.value_labels["IDSW"].text() == "0"
    # relabel: from frame 20 on, labels 1 and 2 swap -> the run (unchanged) now switches IDs against them
    assert ed.editor.swap_ids(id_a=1, id_b=2, frame=20)
    outcome = ed.metrics.wait()
    assert outcome.summary["IDSW"] == 2 and panel.value_labels["IDSW"].text() == "2"
    assert len(panel.switches()) == 2 and set(panel.switches()[:, 0].tolist()) == {20}
    w.state.set_frame(0)
    panel.switch_table.cellClicked.emit(0, 0)
    assert w.state.frame == 20 and w.state.selected_track in (1, 2)
    # the panel's numbers are stv eval's on the exported files
    from engine.io.export import SequenceMeta, run_results_records
    from engine.metrics.run_eval import evaluate_run_against_labels

    expected = evaluate_run_against_labels(w.session.cache.run("demo"), ed.editor.labels).summary()
    assert expected["MOTA"] == pytest.approx(outcome.summary["MOTA"]) and expected["IDSW"] == 2
    assert SequenceMeta and run_results_records  # the export path the numbers are defined by


def test_metrics_in_a_worker_thread_end_with_the_window(editing, qtbot):
    w = editing
    ed = w.editing
    ed.metrics.threaded = True
    move_one(w)
    move_one(w, frame=6)
    assert ed.metrics.is_busy()
    outcome = ed.metrics.wait()
    assert outcome is not None and outcome.error is None and outcome.summary["FP"] >= 0
