"""engine.io.mot: reading, lossless writing, the 1-based <-> 0-based mapping and strict validation."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from engine.io import (
    MOTFormatError,
    MOTRecords,
    SeqInfo,
    detections_by_frame,
    find_seqinfo,
    internal_to_mot,
    mot_to_internal,
    read_detections,
    read_gt,
    read_mot,
    read_results,
    read_seqinfo,
    write_mot,
    write_results,
    write_seqinfo,
)

GT_LINE = "1,1,10,20,30,40,1,1,1"
DET_LINE = "1,-1,10,20,30,40,0.9,-1,-1,-1"


def write(tmp_path, text, name="file.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- real files


def test_reads_tud_stadtmitte(tud_stadtmitte):
    gt = read_gt(tud_stadtmitte / "gt.txt")
    det = read_detections(tud_stadtmitte / "det.txt")
    assert (len(gt), gt.num_columns, gt.max_frame()) == (1156, 10, 179)
    assert (len(det), det.num_columns, det.max_frame()) == (951, 10, 179)
    assert gt.classes is None  # MOT15 layout: no classes
    assert len(np.unique(gt.ids)) == 10
    assert np.all(det.ids == -1)
    # first det line: 1,-1,340.829,79.4999,87.662,244.25,0.998128
    assert det.frame_indices()[0] == 0
    np.testing.assert_allclose(det.boxes_xyxy()[0], [339.829, 78.4999, 339.829 + 87.662, 78.4999 + 244.25])


def test_round_trip_of_real_file_is_byte_exact_in_values(tud_stadtmitte, tmp_path):
    det = read_detections(tud_stadtmitte / "det.txt")
    write_mot(tmp_path / "det.txt", det)
    again = read_detections(tmp_path / "det.txt")
    assert np.array_equal(again.values, det.values)


# ----------------------------------------------------------------------------- conventions


def test_one_based_file_maps_to_zero_based_pixels():
    frames, xyxy = mot_to_internal(np.array([1, 5]), np.array([[1.0, 1.0, 10.0, 20.0], [5.5, 2.0, 3.0, 4.0]]))
    assert frames.tolist() == [0, 4]
    np.testing.assert_array_equal(xyxy, [[0, 0, 10, 20], [4.5, 1, 7.5, 5]])
    back_frames, ltwh = internal_to_mot(frames, xyxy)
    assert back_frames.tolist() == [1, 5]
    np.testing.assert_allclose(ltwh, [[1, 1, 10, 20], [5.5, 2, 3, 4]])


def test_writing_never_truncates_floats(tmp_path):
    values = np.array([
        [1, 1, 1 / 3, 2 / 3, 123456.78901234567, 1e-7 + 1, 0.1 + 0.2, -1, -1, -1],
        [2, 7, 1e15 + 0.5, 3.141592653589793, 2.718281828459045, 1.0000000000000002, 1e-300, 1.5, 2.25, 3],
    ])
    records = MOTRecords(values=values, kind="results")
    write_mot(tmp_path / "r.txt", records)
    again = read_results(tmp_path / "r.txt")
    assert np.array_equal(again.values, values)  # bit-exact
    # and the guard is meaningful: 6 significant digits would not round-trip
    assert float("%.6g" % values[0, 2]) != values[0, 2]
    assert "1.0000000000000002" in (tmp_path / "r.txt").read_text()


def test_write_results_from_engine_arrays(tmp_path):
    boxes = np.array([[0.0, 0.0, 10.0, 20.0], [100.25, 50.5, 130.75, 120.0]])
    write_results(tmp_path / "r.txt", frame_indices=np.array([3, 0]), track_ids=np.array([2, 1]),
                  boxes_xyxy=boxes, scores=np.array([0.5, 0.9]))
    lines = (tmp_path / "r.txt").read_text().splitlines()
    assert lines[0] == "1,1,101.25,51.5,30.5,69.5,0.9,-1,-1,-1"  # sorted by frame; 1-based
    assert lines[1] == "4,2,1,1,10,20,0.5,-1,-1,-1"
    again = read_results(tmp_path / "r.txt")
    np.testing.assert_allclose(again.boxes_xyxy(), boxes[::-1], atol=1e-12)
    with pytest.raises(ValueError, match="boxes_xyxy"):
        write_results(tmp_path / "x.txt", frame_indices=np.array([0]), track_ids=np.array([1]),
                      boxes_xyxy=np.zeros((2, 4)), scores=np.array([1.0]))


@pytest.mark.parametrize("line", ["1,1,10,20,30,40,1,1,1", "1, 1, 10, 20, 30, 40, 1, 1, 1",
                                  "1 ,1 , 10,20 ,30,40,1,1,1", "1 1 10 20 30 40 1 1 1", "1,1,10,20,30,40,1,1,1\r"])
def test_delimiters_commas_with_or_without_spaces(tmp_path, line):
    gt = read_gt(write(tmp_path, line + "\n\n"))  # blank lines are skipped
    assert gt.values.tolist() == [[1, 1, 10, 20, 30, 40, 1, 1, 1]]


def test_mot16_gt_classes_and_visibility(tmp_path):
    gt = read_gt(write(tmp_path, "1,1,10,20,30,40,0,7,0.25\n"))
    assert gt.classes.tolist() == [7]
    assert gt.visibility.tolist() == [0.25]
    assert gt.confidences.tolist() == [0]


def test_detections_by_frame(tmp_path):
    det = read_detections(write(tmp_path, "2,-1,1,1,2,2,0.5,-1,-1,-1\n1,-1,3,3,4,4,0.9,-1,-1,-1\n2,-1,5,5,1,1,0.7,-1,-1,-1\n"))
    frames = detections_by_frame(det, 3)
    assert [f.shape for f in frames] == [(1, 5), (2, 5), (0, 5)]
    np.testing.assert_array_equal(frames[0], [[2, 2, 6, 6, 0.9]])
    np.testing.assert_array_equal(frames[1][:, 4], [0.5, 0.7])  # file order kept within a frame
    with pytest.raises(ValueError):
        detections_by_frame(det, 1)


def test_empty_file_gives_no_records(tmp_path):
    assert len(read_results(write(tmp_path, ""))) == 0
    assert read_results(write(tmp_path, "")).values.shape == (0, 10)


# ----------------------------------------------------------------------------- malformed files


MALFORMED = [
    # (kind, text, bad line, message fragment)
    ("gt", "1,1,10,20,30,40,1\n", 1, "7 columns, expected at least 8"),
    ("det", "1,-1,10,20,30,40\n", 1, "6 columns, expected at least 7"),
    ("results", "1,1,10,20,30,40\n", 1, "6 columns, expected at least 7"),
    ("gt", GT_LINE + "\n1,2,10,20,30,40,1,-1,-1,-1\n", 2, "but line 1 has 9"),
    ("gt", GT_LINE + "\n2,2,abc,20,30,40,1,1,1\n", 2, "column 3 is not a number"),
    ("gt", "1,1,10,20,30,40,1,1,,\n", 1, "column 9 is not a number"),
    ("gt", "1,1,10,20,nan,40,1,1,1\n", 1, "NaN"),
    ("gt", "1,1,10,20,30,inf,1,1,1\n", 1, "NaN/inf"),
    ("gt", "0,1,10,20,30,40,1,1,1\n", 1, "frame 0 < 1"),
    ("gt", "1.5,1,10,20,30,40,1,1,1\n", 1, "not an integer"),
    ("gt", "1,1.5,10,20,30,40,1,1,1\n", 1, "id 1.5 is not an integer"),
    ("gt", "1,-3,10,20,30,40,1,1,1\n", 1, "negative id"),
    ("gt", GT_LINE + "\n2,1,10,20,30,40,1,1,1\n1,1,11,20,30,40,1,1,1\n", 3, "duplicate (frame 1, id 1), first on line 1"),
    ("results", "3,4,1,1,5,5,1,-1,-1,-1\n3,4,9,9,5,5,1,-1,-1,-1\n", 2, "duplicate (frame 3, id 4)"),
    ("gt", "1,1,10,20,30,40,1,14,1\n", 1, "class 14 is not a MOTChallenge class"),
    ("results", "1,1,10,20,30,40,0.9,2\n", 1, "column 8 is 2"),
    ("det", "1,-1,10,20,-30,40,0.9,-1,-1,-1\n", 1, "negative box size"),
    ("gt", "1e18,1,10,20,30,40,1,1,1\n", 1, "is absurd"),
    ("results", "1,1e20,10,20,30,40,1,-1,-1,-1\n", 1, "not exactly representable"),
    ("results", "1,4503599627370496.3,10,20,30,40,1\n", 1, "float64 holds exactly"),
]


@pytest.mark.parametrize("kind,text,line,fragment", MALFORMED)
def test_malformed_lines_name_file_and_line(tmp_path, kind, text, line, fragment):
    path = write(tmp_path, text, name=f"{kind}.txt")
    with pytest.raises(MOTFormatError) as info:
        read_mot(path, kind=kind)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.path == str(path) and error.line == line
    assert fragment in str(error)
    assert f"{path}:{line}" in str(error)


def test_frame_beyond_seq_length(tmp_path):
    path = write(tmp_path, GT_LINE + "\n6,1,10,20,30,40,1,1,1\n")
    assert len(read_gt(path, seq_length=6)) == 2
    with pytest.raises(MOTFormatError, match=r":2: frame 6 is beyond seqLength 5"):
        read_gt(path, seq_length=5)


@pytest.mark.parametrize("columns", [7, 8, 9, 10, 11])
def test_results_with_seven_or_more_columns_are_accepted(tmp_path, columns):
    """TrackEval reads results with >= 7 columns (confidence in column 7, class in 8 when present)."""
    line = ",".join(["1", "3", "10.5", "20", "30", "40", "0.75", "1", "-1", "-1", "-1"][:columns])
    records = read_results(write(tmp_path, line + "\n"))
    assert records.num_columns == columns and records.ids.tolist() == [3]
    assert records.confidences.tolist() == [0.75]


def test_zero_size_boxes_are_accepted_in_gt_and_results(tmp_path):
    """TrackEval scores them with IoU 0; only the validator warns."""
    assert len(read_gt(write(tmp_path, "1,1,10,20,0,40,1,1,1\n"))) == 1
    assert len(read_results(write(tmp_path, "1,1,10,20,30,-4,1,-1,-1,-1\n"))) == 1


def test_ids_beyond_two_to_the_32_are_not_false_duplicates(tmp_path):
    """Packing (frame, id) into one int64 made id 2**32+k collide with frame+1 / id k."""
    text = f"1,{2**32 + 5},1,1,5,5,1,-1,-1,-1\n2,5,1,1,5,5,1,-1,-1,-1\n1,5,1,1,5,5,1,-1,-1,-1\n"
    assert read_results(write(tmp_path, text)).ids.tolist() == [2**32 + 5, 5, 5]


def test_trailing_comma_is_dropped_as_trackeval_does(tmp_path):
    assert read_gt(write(tmp_path, GT_LINE + ",\n")).values.tolist() == [[1, 1, 10, 20, 30, 40, 1, 1, 1]]


def test_duplicate_detections_are_allowed(tmp_path):
    """det.txt rows all carry id -1, so (frame, id) repeats by design."""
    assert len(read_detections(write(tmp_path, DET_LINE + "\n" + DET_LINE + "\n"))) == 2


def test_binary_and_missing_files(tmp_path):
    path = tmp_path / "bin.txt"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(MOTFormatError, match="not a text file"):
        read_gt(path)
    with pytest.raises(OSError):
        read_gt(tmp_path / "missing.txt")


def test_bad_kind():
    with pytest.raises(ValueError, match="kind"):
        read_mot("x", kind="tracks")


# ----------------------------------------------------------------------------- seqinfo.ini


def test_seqinfo_round_trip_and_discovery(tmp_path):
    info = SeqInfo(name="MOT17-02", seq_length=600, frame_rate=29.97, im_width=1920, im_height=1080)
    (tmp_path / "seq" / "gt").mkdir(parents=True)
    write_seqinfo(tmp_path / "seq" / "seqinfo.ini", info)
    assert read_seqinfo(tmp_path / "seq" / "seqinfo.ini") == info
    assert "frameRate=29.97" in (tmp_path / "seq" / "seqinfo.ini").read_text()
    assert find_seqinfo(tmp_path / "seq" / "gt" / "gt.txt") == (tmp_path / "seq" / "seqinfo.ini").resolve()
    assert find_seqinfo(tmp_path / "other.txt") is None


def test_seqinfo_official_layout(tmp_path):
    text = ("[Sequence]\nname=MOT16-04\nimDir=img1\nframeRate=30\nseqLength=1050\n"
            "imWidth=1920\nimHeight=1080\nimExt=.jpg\n")
    info = read_seqinfo(write(tmp_path, text, "seqinfo.ini"))
    assert (info.name, info.seq_length, info.frame_rate, info.im_width, info.im_ext) == ("MOT16-04", 1050, 30.0, 1920, ".jpg")
    assert isinstance(info.frame_rate, float)


@pytest.mark.parametrize("text,line,fragment", [
    ("[Sequence]\nname=a\nseqLength=ten\n", 3, "seqLength must be int"),
    ("[Sequence]\nname=a\nseqLength=0\n", 3, "must be positive"),
    ("[Sequence]\nname=a\nseqLength=5\nframeRate=-1\n", 4, "must be positive"),
    ("[Sequence]\nname=a\nseqLength=5\nframeRate=nan\n", 4, "frameRate"),
    ("[Sequence]\nname=a\nseqLength\n", 3, "expected key=value"),
    ("[Sequence]\nname=a\n", None, "no seqlength"),
    ("[Other]\nname=a\nseqLength=4\n", None, "no name"),
])
def test_malformed_seqinfo(tmp_path, text, line, fragment):
    path = write(tmp_path, text, "seqinfo.ini")
    with pytest.raises(MOTFormatError) as info:
        read_seqinfo(path)
    assert info.value.line == line and info.value.path == str(path)
    assert fragment in str(info.value)


def test_io_metrics_tracking_do_not_import_torch():
    probe = ("import sys, engine.io, engine.metrics, engine.tracking; "
             "print(','.join(m for m in ('torch', 'cv2', 'h5py') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
