"""stv export / stv import through the command line: MOT gt + seqinfo.ini, TrackEval layout, results,
lossless round trips (ids never renumbered), and the in-app metrics equal to `stv eval` of the files."""
from __future__ import annotations

import json
import os
import threading

import numpy as np
import pytest

from engine.cache import ResultsCache
from engine.cli.main import main
from engine.io import read_gt, read_results, read_seqinfo
from engine.io.export import load_current_label_set
from engine.labels import BoxKind, LabelSet
from engine.labels import edits as E
from engine.labels import journal as J
from engine.metrics.run_eval import evaluate_run_against_labels
from engine.results import FrameResult

NUM_FRAMES, FPS, WIDTH, HEIGHT = 40, 29.97, 640, 360


def make_cache(tmp_path, name="clip.mp4") -> ResultsCache:
    return ResultsCache.create(tmp_path / f"{name}.stv.h5", video_fingerprint="fp-" + name, video_path=str(tmp_path / name),
                               num_frames=NUM_FRAMES, fps=FPS, width=WIDTH, height=HEIGHT)


def edited_label_set() -> LabelSet:
    """Two tracks with ids a tool would renumber (7 and 1000000): keyframes, interpolation, an outside
    stretch, an ignored and a half-visible box, a distractor class, and coordinates with many decimals."""
    ls = LabelSet.empty(name="fixed", num_frames=NUM_FRAMES, width=WIDTH, height=HEIGHT)
    steps = [
        lambda: E.new_track(ls, frame=2, box=[10.25, 20.5, 50.125, 120.0], track_id=7),
        lambda: E.add_box(ls, track_id=7, frame=10, box=[30.1, 22.7, 70.3, 123.9]),   # frames 3..9 interpolated
        lambda: E.mark_outside(ls, track_id=7, frame=11),                             # 11..13 not written
        lambda: E.add_box(ls, track_id=7, frame=14, box=[1 / 3, 2 / 3, 100.0, 200.0]),
        lambda: E.new_track(ls, frame=0, box=[300.0, 40.0, 340.5, 140.25], track_id=1_000_000, class_id=7),
        lambda: E.add_box(ls, track_id=1_000_000, frame=5, box=[310.0, 41.0, 350.5, 141.25]),
        lambda: E.set_visibility(ls, track_id=1_000_000, visibility=0.25, first=1, last=3),
        lambda: E.set_consider(ls, track_id=7, consider=False, first=4, last=4),
    ]
    for step in steps:  # each edit is computed on the state the previous one left
        step().apply(ls)
    return ls


@pytest.fixture
def cache_with_labels(tmp_path):
    cache = make_cache(tmp_path)
    ls = edited_label_set()
    with cache:
        J.save(cache, ls)
    return tmp_path / "clip.mp4.stv.h5", ls


def test_gt_export_is_motchallenge_and_reimports_identically(cache_with_labels, tmp_path, capsys):
    path, ls = cache_with_labels
    out = tmp_path / "out"
    assert main(["export", str(path), "--labels", "fixed", "--out", str(out)]) == 0
    assert "validated" in capsys.readouterr().out
    info = read_seqinfo(out / "clip" / "seqinfo.ini")
    assert (info.name, info.seq_length, info.frame_rate, info.im_width, info.im_height, info.im_dir, info.im_ext) == \
        ("clip", NUM_FRAMES, FPS, WIDTH, HEIGHT, "img1", ".jpg")
    gt = read_gt(out / "clip" / "gt" / "gt.txt")
    assert gt.num_columns == 9
    frames_of_7 = gt.frames[gt.ids == 7].tolist()
    assert frames_of_7 == [3, 4, 5, 6, 7, 8, 9, 10, 11, 15]  # 1-based; interpolated written, outside not
    assert set(gt.ids.tolist()) == {7, 1_000_000}  # never renumbered
    first = gt.values[(gt.ids == 7) & (gt.frames == 3)][0]
    assert first[2:6].tolist() == [11.25, 21.5, 39.875, 99.5]  # 1-based left/top, width/height
    text = (out / "clip" / "gt" / "gt.txt").read_text()
    assert "15,7,1.3333333333333333,1.6666666666666665,99.66666666666667,199.33333333333334,1,1,1" in text  # lossless
    assert "\n1,1000000,301,41,40.5,100.25,1,7,1\n" in "\n" + text  # short decimals where they are exact

    # import back: same boxes (bit-exact), ids, classes, visibility, consider flags
    assert main(["import", str(path), "--gt", str(out / "clip" / "gt" / "gt.txt"), "--labels", "again"]) == 0
    with ResultsCache.open(path) as cache:
        back = load_current_label_set(cache, "again")
    a, b = ls.to_rows(), back.to_rows()
    assert a.shape == b.shape
    np.testing.assert_array_equal(a[:, [0, 1, 7, 8, 9]], b[:, [0, 1, 7, 8, 9]])  # frame id vis consider class
    np.testing.assert_allclose(b[:, 2:6], a[:, 2:6], rtol=0, atol=1e-12)  # the brief asks 1e-6
    # bit-exact except where the 1-based shift cannot carry every bit (x1 = 1/3: 1/3 + 1 rounds)
    assert np.mean(b[:, 2:6] == a[:, 2:6]) > 0.8
    assert (b[:, 6] == BoxKind.MODEL).all()  # imported rows blend corrections like model rows
    assert main(["export", str(path), "--labels", "again", "--out", str(tmp_path / "out2")]) == 0
    assert (tmp_path / "out2" / "clip" / "gt" / "gt.txt").read_text() == text  # text-identical second trip


def test_exported_gt_scores_itself_perfectly_and_run_metrics_equal_stv_eval(cache_with_labels, tmp_path, capsys):
    path, ls = cache_with_labels
    out = tmp_path / "out"
    assert main(["export", str(path), "--labels", "fixed", "--out", str(out)]) == 0
    assert main(["export", str(path), "--labels", "fixed", "--as-results", "--out", str(out)]) == 0
    gt_file = out / "clip" / "gt" / "gt.txt"
    capsys.readouterr()
    assert main(["eval", "--gt", str(gt_file), "--pred", str(out / "clip.txt"), "--json"]) == 0
    self_score = json.loads(capsys.readouterr().out)
    assert self_score["MOTA"] == 1.0 and self_score["IDF1"] == 1.0 and self_score["HOTA"] == pytest.approx(1.0)

    # a run: the labels offset by 1.3 px, an id switch of track 7 at frame 6, a false positive, float32 boxes
    rows = ls.to_rows()
    with ResultsCache.open(path, mode="a") as cache:
        writer = cache.create_run("model", model_config={}, checkpoint_sha256="", class_names=["a", "b"], params={},
                                  alpha_shape=(2, 2))
        with writer:
            for k in range(NUM_FRAMES):
                here = rows[rows[:, 0] == k]
                ids = np.where((here[:, 1] == 7) & (k >= 6), 99, here[:, 1])
                tracks = np.column_stack([here[:, 2:6] + 1.3, np.full(len(here), 0.9), ids])
                if k == 20:
                    tracks = np.vstack([tracks, [500.0, 10.0, 540.0, 90.0, 0.4, 5.0]])
                writer.write(FrameResult(frame_index=k, tracks=tracks.astype(np.float32),
                                         action_probs=np.array([0.5, 0.5], np.float32), beta=0.1))
        in_app = evaluate_run_against_labels(cache.run("model"), load_current_label_set(cache, "fixed")).summary()
    assert main(["export", str(path), "--run", "model", "--out", str(tmp_path / "runs")]) == 0
    capsys.readouterr()
    assert main(["eval", "--gt", str(gt_file), "--pred", str(tmp_path / "runs" / "clip.txt"), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert in_app["IDSW"] > 0 and 0 < in_app["MOTA"] < 1
    for key in ("MOTA", "IDF1", "HOTA", "FP", "FN", "IDSW", "MOTP", "AssA", "DetA"):
        assert cli[key] == in_app[key], key  # exactly, not approximately


def test_trackeval_layout(cache_with_labels, tmp_path, capsys):
    path, _ = cache_with_labels
    other = make_cache(tmp_path, "second.mp4")
    with other:
        J.save(other, LabelSet.from_rows(edited_label_set().to_rows(), name="fixed", num_frames=NUM_FRAMES,
                                         width=WIDTH, height=HEIGHT))
    out = tmp_path / "data"
    common = ["--out", str(out), "--layout", "trackeval", "--benchmark", "STV", "--split", "train"]
    assert main(["export", str(path), "--labels", "fixed", *common]) == 0
    assert main(["export", str(tmp_path / "second.mp4.stv.h5"), "--labels", "fixed", *common]) == 0
    assert main(["export", str(path), "--labels", "fixed", "--as-results", *common]) == 0
    gt_root = out / "gt" / "mot_challenge"
    # TrackEval's defaults: GT_FOLDER/BENCH-SPLIT/SEQ/{gt/gt.txt,seqinfo.ini}, GT_FOLDER/seqmaps/BENCH-SPLIT.txt
    for seq in ("clip", "second"):
        assert (gt_root / "STV-train" / seq / "gt" / "gt.txt").is_file()
        assert (gt_root / "STV-train" / seq / "seqinfo.ini").is_file()
    assert (gt_root / "seqmaps" / "STV-train.txt").read_text() == "name\nclip\nsecond\n"
    assert (out / "trackers" / "mot_challenge" / "STV-train" / "fixed" / "data" / "clip.txt").is_file()
    capsys.readouterr()
    assert main(["validate-mot", str(out)]) == 1  # TrackEval would stop: tracker 'fixed' lacks sequence 'second'
    assert "tracker 'fixed' has no results for 'second'" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "second.mp4.stv.h5"), "--labels", "fixed", "--as-results", *common]) == 0
    capsys.readouterr()
    assert main(["validate-mot", str(out)]) == 0
    assert "OK: 7 file(s)" in capsys.readouterr().out
    assert main(["export", str(path), "--labels", "fixed", "--out", str(out), "--layout", "trackeval"]) == 2


def test_results_with_7_to_10_columns_import_as_a_run_and_export_text_identically(tmp_path, capsys):
    make_cache(tmp_path).close()
    path = tmp_path / "clip.mp4.stv.h5"
    lines = ["1,1,340.829,79.5,87.662,244.25,0.998128", "1,2,570.789,80.835,68.211,203.59,0.5",
             "3,2,571.5,81,68.25,203.5,0.25"]
    for columns in (7, 8, 9, 10):
        extra = ["1", "-1", "-1"][:columns - 7]
        res = tmp_path / f"res{columns}.txt"
        res.write_text("".join(",".join([line, *extra]) + "\n" for line in lines))
        assert main(["import", str(path), "--results", str(res), "--run", f"r{columns}"]) == 0
        assert main(["export", str(path), "--run", f"r{columns}", "--out", str(tmp_path / f"o{columns}")]) == 0
        written = (tmp_path / f"o{columns}" / "clip.txt").read_text().splitlines()
        assert written == [line + ",-1,-1,-1" for line in lines]  # float32 in the cache, text unchanged
    with ResultsCache.open(path) as cache:
        reader = cache.run("r7")
        assert reader.info.complete and reader.frame(1).tracks.shape == (0, 6)


def test_det_import_tracks_into_a_run(tmp_path, capsys):
    make_cache(tmp_path).close()
    det = tmp_path / "det.txt"
    det.write_text("".join(f"{f},-1,{100 + 3 * f},50,40,90,0.95,-1,-1,-1\n{f},-1,{400 - 2 * f},60,40,90,0.9,-1,-1,-1\n"
                           for f in range(1, 31)))
    path = tmp_path / "clip.mp4.stv.h5"
    assert main(["import", str(path), "--det", str(det), "--run", "public"]) == 0
    with ResultsCache.open(path) as cache:
        rows = cache.run("public").track_rows()
        assert sorted(set(rows[:, 1].tolist())) == [1, 2] and len(rows) == 60
        assert cache.run("public").frame(0).detections.shape == (2, 5)


@pytest.mark.parametrize("args,text,fragment", [
    (["--results", "res.txt", "--run", "x"], "1,16777217,1,1,5,5,1\n", "res.txt:1: id 16777217 outside 0..16777216"),
    (["--results", "res.txt", "--run", "x"], "41,1,1,1,5,5,1\n", "res.txt:1: frame 41 is beyond the video's 40"),
    (["--gt", "gt.txt", "--labels", "x"], "1,0,1,1,5,5,1,1,1\n", "gt.txt:1: id 0 outside 1..2147483647"),
    (["--gt", "gt.txt", "--labels", "x"], "1,3,1,1,5,5,1,1,1\n2,3,1,1,5,5,1,-2,1\n", "gt.txt:2: class -2"),
    (["--gt", "gt.txt", "--labels", "x"], "1,3,1,1,5,5,1,1,1.5\n", "gt.txt:1: visibility 1.5"),
    (["--gt", "gt.txt", "--labels", "x"], "1,3,1,1,5,5,1,14,1\n", "gt.txt:1: class 14 is not a MOTChallenge class"),
])
def test_import_refusals_name_file_and_line(tmp_path, capsys, args, text, fragment):
    make_cache(tmp_path).close()
    (tmp_path / args[1]).write_text(text)
    args = [args[0], str(tmp_path / args[1]), *args[2:]]
    assert main(["import", str(tmp_path / "clip.mp4.stv.h5"), *args]) == 1
    assert fragment in capsys.readouterr().err
    with ResultsCache.open(tmp_path / "clip.mp4.stv.h5") as cache:
        assert cache.run_names == [] and cache.label_set_names == []  # nothing written


def test_names_in_use_are_refused_and_nothing_is_overwritten(cache_with_labels, tmp_path, capsys):
    path, _ = cache_with_labels
    gt = tmp_path / "gt.txt"
    gt.write_text("1,3,1,1,5,5,1,1,1\n")
    assert main(["import", str(path), "--gt", str(gt), "--labels", "fixed"]) == 1
    assert "exists" in capsys.readouterr().err
    with ResultsCache.open(path) as cache:
        assert load_current_label_set(cache, "fixed").equals(edited_label_set())


def test_export_refuses_a_class_trackeval_refuses(tmp_path, capsys):
    ls = edited_label_set()
    E.set_class(ls, track_id=7, class_id=20).apply(ls)
    with make_cache(tmp_path) as cache:
        J.save(cache, ls)
    out = tmp_path / "out"
    assert main(["export", str(tmp_path / "clip.mp4.stv.h5"), "--labels", "fixed", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "gt.txt:" in err and "[gt-class]" in err and "class 20" in err
    assert not (out / "clip" / "gt" / "gt.txt").exists()  # checked before anything is written


def test_cache_is_created_for_a_video(tmp_path, capsys, bikes_mp4):
    gt = tmp_path / "gt.txt"
    gt.write_text("1,3,10,10,50,80,1,1,0.5\n2,3,12,10,50,80,1,1,0.75\n")
    path = tmp_path / "new.stv.h5"
    assert main(["import", str(path), "--gt", str(gt), "--labels", "gt"]) == 1
    assert "give --video" in capsys.readouterr().err
    assert main(["import", str(path), "--gt", str(gt), "--labels", "gt", "--video", str(bikes_mp4)]) == 0
    with ResultsCache.open(path) as cache:
        assert cache.video.num_frames == 250 and cache.label_set_names == ["gt"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_fifos_are_refused_for_every_path_without_blocking(cache_with_labels, tmp_path, capsys):
    path, _ = cache_with_labels
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)

    def unblock():  # a regression that opens the FIFO would hang: open the other end so it fails instead
        for flags in (os.O_WRONLY | os.O_NONBLOCK, os.O_RDONLY | os.O_NONBLOCK):
            try:
                os.close(os.open(fifo, flags))
            except OSError:
                pass

    watchdog = threading.Timer(30.0, unblock)
    watchdog.daemon = True
    watchdog.start()
    calls = [
        ["import", str(path), "--gt", str(fifo), "--labels", "x"],
        ["import", str(path), "--results", str(fifo), "--run", "x"],
        ["import", str(path), "--det", str(fifo), "--run", "x"],
        ["import", str(fifo), "--results", str(fifo), "--run", "x"],
        ["export", str(fifo), "--labels", "fixed", "--out", str(tmp_path / "o")],
        ["eval", "--gt", str(fifo), "--pred", str(fifo)],
        ["track", "--det", str(fifo), "--out", str(tmp_path / "r.txt")],
        ["track", "--det", str(tmp_path / "det.txt"), "--out", str(fifo)],
        ["validate-mot", str(fifo)],
    ]
    (tmp_path / "det.txt").write_text("1,-1,1,1,5,5,0.9,-1,-1,-1\n")
    try:
        for call in calls:
            assert main(call) == 1, call
            captured = capsys.readouterr()
            assert "FIFO" in captured.err + captured.out, call
    finally:
        watchdog.cancel()
    out_fifo = tmp_path / "outdir"
    out_fifo.mkdir()
    os.mkfifo(out_fifo / "clip.txt")
    assert main(["export", str(path), "--labels", "fixed", "--as-results", "--out", str(out_fifo)]) == 1
    assert "FIFO" in capsys.readouterr().err


def test_sequence_folder_import_gt_as_labels_and_det_tracked(tmp_path, capsys):
    make_cache(tmp_path).close()
    seq = tmp_path / "SEQ"
    (seq / "gt").mkdir(parents=True)
    (seq / "det").mkdir()
    (seq / "gt" / "gt.txt").write_text("".join(f"{f},4,{100 + 3 * f},50,40,90,1,1,1\n" for f in range(1, 31)))
    (seq / "det" / "det.txt").write_text("".join(f"{f},-1,{100 + 3 * f},50,40,90,0.95,-1,-1,-1\n" for f in range(1, 31)))
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=SEQ\nseqLength=41\n")
    path = tmp_path / "clip.mp4.stv.h5"
    assert main(["import", str(path), "--sequence", str(seq)]) == 1  # 41 frames: another sequence
    assert "seqLength 41 but the cache's video has 40 frames" in capsys.readouterr().err
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=SEQ\nseqLength=40\n")
    assert main(["import", str(path), "--sequence", str(seq)]) == 0
    out = capsys.readouterr().out
    assert "label set 'gt'" in out and "run 'public-detections'" in out
    with ResultsCache.open(path) as cache:
        assert load_current_label_set(cache, "gt").track_ids().tolist() == [4]
        labels = load_current_label_set(cache, "gt")
        assert evaluate_run_against_labels(cache.run("public-detections"), labels).summary()["MOTA"] > 0.9
    assert main(["import", str(path), "--sequence", str(seq)]) == 0  # again: nothing is overwritten
    assert capsys.readouterr().out.count("exists already") == 2


def test_sequence_name_from_the_video_or_given(tmp_path, capsys):
    with make_cache(tmp_path, "my clip (1).mp4") as cache:
        J.save(cache, edited_label_set())
    path = tmp_path / "my clip (1).mp4.stv.h5"
    assert main(["export", str(path), "--labels", "fixed", "--out", str(tmp_path / "o")]) == 1
    assert "give --name" in capsys.readouterr().err
    assert main(["export", str(path), "--labels", "fixed", "--out", str(tmp_path / "o"), "--name", "MYCLIP-01"]) == 0
    assert read_seqinfo(tmp_path / "o" / "MYCLIP-01" / "seqinfo.ini").name == "MYCLIP-01"


def test_incomplete_run_export_warns(tmp_path, capsys):
    with make_cache(tmp_path) as cache:
        writer = cache.create_run("half", model_config={}, checkpoint_sha256="", class_names=["a"], params={},
                                  alpha_shape=(1, 1))
        with writer:
            for k in range(10):
                writer.write(FrameResult(frame_index=k, tracks=np.array([[1, 2, 30, 40, 0.5, 3]], np.float32),
                                         action_probs=np.ones(1, np.float32), beta=0.0))
    assert main(["export", str(tmp_path / "clip.mp4.stv.h5"), "--run", "half", "--out", str(tmp_path / "o")]) == 0
    assert "incomplete (10 of 40 frames)" in capsys.readouterr().err
    assert len(read_results(tmp_path / "o" / "clip.txt")) == 10
