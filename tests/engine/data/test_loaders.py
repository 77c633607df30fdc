"""UCF-101 / HMDB-51 / MOT17 loaders over tiny fake trees, and their errors."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.frames import FrameReadError, count_frames, read_video_frames
from engine.data.hmdb51 import load_hmdb51
from engine.data.mot17 import MOTLayoutError, load_mot17
from engine.data.splits import SplitFileError
from engine.data.ucf101 import load_ucf101, read_class_index


def test_ucf101_train_and_test_lists(ucf_tree):
    train, classes = load_ucf101(ucf_tree, split="train")
    test, _ = load_ucf101(ucf_tree, split="test")
    assert classes == ["ApplyEyeMakeup", "HandstandPushups", "YoYo"]
    assert len(train) == 6 and len(test) == 3
    assert [s.label for s in test] == [0, 1, 2]
    assert all(s.path.is_file() and s.class_name == classes[s.label] for s in train + test)
    # the official lists spell a class differently from its folder; matched case-insensitively
    assert any("HandStandPushups" in s.path.name and s.label == 1 for s in train)


def test_ucf101_errors_name_file_and_line(ucf_tree):
    lists = ucf_tree.parent / "ucfTrainTestlist"
    with pytest.raises(SplitFileError, match=r"trainlist02\.txt: no such file"):
        load_ucf101(ucf_tree, split="train", fold=2)
    (lists / "trainlist01.txt").write_text("YoYo/v_YoYo_g02_c01.avi 3\nYoYo/v_YoYo_g08_c01.avi 1\n")
    with pytest.raises(SplitFileError, match=r"trainlist01\.txt:2: label 1 does not match"):
        load_ucf101(ucf_tree, split="train")
    (lists / "trainlist01.txt").write_text("YoYo/v_YoYo_g02_c01.avi\n")
    with pytest.raises(SplitFileError, match=r"trainlist01\.txt:1: expected"):
        load_ucf101(ucf_tree, split="train")
    (lists / "testlist01.txt").write_text("Juggling/v_Juggling_g01_c01.avi\n")
    with pytest.raises(SplitFileError, match=r"testlist01\.txt:1: class 'Juggling' is not in classInd"):
        load_ucf101(ucf_tree, split="test")
    (lists / "testlist01.txt").write_text("YoYo/v_YoYo_g05_c01.avi\n")
    with pytest.raises(SplitFileError, match=r"testlist01\.txt:1: video .* not found"):
        load_ucf101(ucf_tree, split="test")
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\nYoYo\n")
    with pytest.raises(SplitFileError, match=r"classInd\.txt:2: expected"):
        read_class_index(lists / "classInd.txt")
    (lists / "classInd.txt").write_text("1 A\n3 B\n")
    with pytest.raises(SplitFileError, match="without gaps"):
        read_class_index(lists / "classInd.txt")
    (lists / "classInd.txt").unlink()
    with pytest.raises(SplitFileError, match=r"classInd\.txt: no such file"):
        load_ucf101(ucf_tree)


def test_hmdb51_split_tags(hmdb_tree):
    train, classes = load_hmdb51(hmdb_tree, split="train")
    test, _ = load_hmdb51(hmdb_tree, split="test")
    assert classes == ["brush_hair", "cartwheel"]
    assert sorted(s.path.name for s in train if s.label == 0) == ["brush_hair_video_0.avi", "brush_hair_video_1.avi"]
    assert [s.path.name for s in test] == ["brush_hair_video_2.avi", "cartwheel_video_2.avi"]
    assert [s.label for s in test] == [0, 1]


def test_hmdb51_errors_name_file_and_line(hmdb_tree, tmp_path):
    splits = tmp_path / "testTrainMulti_7030_splits"
    (splits / "cartwheel_test_split1.txt").write_text("cartwheel_video_0.avi 1\nb.avi train\n")
    with pytest.raises(SplitFileError, match=r"cartwheel_test_split1\.txt:2: expected '<video> 0\|1\|2'"):
        load_hmdb51(hmdb_tree)
    (splits / "cartwheel_test_split1.txt").write_text("missing.avi 1\n")
    with pytest.raises(SplitFileError, match=r"cartwheel_test_split1\.txt:1: video 'missing.avi' not found"):
        load_hmdb51(hmdb_tree)
    (splits / "cartwheel_test_split1.txt").unlink()
    with pytest.raises(SplitFileError, match=r"cartwheel_test_split1\.txt: no such file"):
        load_hmdb51(hmdb_tree)
    with pytest.raises(SplitFileError, match="no split files"):
        load_hmdb51(hmdb_tree, fold=3)


def test_mot17_sequences(mot_tree):
    (seq,) = load_mot17(mot_tree, split="train", detector="FRCNN")
    assert seq.name == "MOT17-02-FRCNN" and seq.seq_length == 10 and (seq.width, seq.height) == (80, 60)
    assert seq.image_path(0).name == "000001.jpg" and seq.gt is not None and seq.det is None
    with pytest.raises(MOTLayoutError, match="detector 'DPM'"):
        load_mot17(mot_tree, detector="DPM")
    (seq.folder / "seqinfo.ini").unlink()
    with pytest.raises(MOTLayoutError, match="no sequence folders"):
        load_mot17(mot_tree)


def test_read_video_frames_gets_the_asked_frames(ucf_tree):
    video = next(ucf_tree.rglob("*.avi"))
    assert count_frames(video) == 12
    frames = read_video_frames(video, [3, 0, 11, 3, 40])
    assert frames.shape == (5, 48, 64, 3) and frames.dtype == np.uint8
    levels = frames.reshape(5, -1).mean(1) / 10
    assert np.allclose(levels, [3, 0, 11, 3, 11], atol=0.3)  # past the end repeats the last frame
    with pytest.raises(FrameReadError, match="nope.avi"):
        read_video_frames(video.with_name("nope.avi"), [0])
    broken = video.with_name("broken.avi")
    broken.write_bytes(b"not a video at all" * 10)
    with pytest.raises(FrameReadError, match="broken.avi"):
        read_video_frames(broken, [0])
