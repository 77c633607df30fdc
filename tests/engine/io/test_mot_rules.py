"""stv validate-mot: every rule of engine.io.mot_rules on a damaged file names the file, the line and the rule."""
from __future__ import annotations

import pytest

from engine.cli.main import main
from engine.io.mot_validate import validate_mot_path

GOOD_GT = "1,1,10,20,30,40,1,1,0.5\n2,1,11,20,30,40,1,1,1\n2,2,60,20,30,40,0,7,1\n"
GOOD_RESULTS = "1,1,10,20,30,40,0.9,-1,-1,-1\n2,1,11,20,30,40,0.8,-1,-1,-1\n"
SEQINFO = "[Sequence]\nname=SEQ\nimDir=img1\nframeRate=25\nseqLength=5\nimWidth=640\nimHeight=480\nimExt=.jpg\n"


def sequence(tmp_path, gt_text=GOOD_GT, seqinfo=SEQINFO):
    folder = tmp_path / "SEQ"
    (folder / "gt").mkdir(parents=True)
    (folder / "seqinfo.ini").write_text(seqinfo)
    (folder / "gt" / "gt.txt").write_text(gt_text)
    return folder


def test_good_sequence_and_results_pass(tmp_path, capsys):
    folder = sequence(tmp_path)
    assert main(["validate-mot", str(folder)]) == 0
    assert capsys.readouterr().out.strip() == "OK: 2 file(s) checked, 0 error(s), 0 warning(s)"
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "SEQ.txt").write_text(GOOD_RESULTS)
    assert main(["validate-mot", str(tmp_path / "res")]) == 0


# (kind, text: line 3 is the damaged one after two good lines, rule, message fragment)
DAMAGED = [
    ("gt", "1,3,10,20,30,40,1\n", "columns", "7 columns, expected at least 8"),
    ("gt", "1,3,10,20,30,40,1,1\n", "columns", "but line 1 has 9"),
    ("gt", "1,3,10,20,3O,40,1,1,1\n", "number", "column 5 is not a number: '3O'"),
    ("gt", "1,3,10,20,30,nan,1,1,1\n", "number", "NaN/inf"),
    ("gt", "0,3,10,20,30,40,1,1,1\n", "frame", "frame 0 < 1"),
    ("gt", "6,3,10,20,30,40,1,1,1\n", "frame", "frame 6 is beyond seqLength 5"),
    ("gt", "1.0,3,10,20,30,40,1,1,1\n", "frame", "frame written as '1.0'"),
    ("gt", "01,3,10,20,30,40,1,1,1\n", "frame", "frame written as '01'"),
    ("gt", "1,3.5,10,20,30,40,1,1,1\n", "id", "id 3.5 is not an integer"),
    ("gt", "1,-2,10,20,30,40,1,1,1\n", "id", "negative id -2"),
    ("gt", "1,1e20,10,20,30,40,1,1,1\n", "id", "not exactly representable"),
    ("gt", "2,2,10,20,30,40,1,1,1\n", "duplicate-id", "duplicate (frame 2, id 2), first on line 3"),  # on line 4
    ("gt", "1,3,10,20,30,40,1,0,1\n", "gt-class", "class 0 is not a MOTChallenge class"),
    ("gt", "1,3,10,20,30,40,1,14,1\n", "gt-class", "class 14"),
    ("results", "1,3,10,20,30,40,0.9,2,-1,-1\n", "results-class", "column 8 is 2"),
    ("results", "1,3,10,20,30,40\n", "columns", "6 columns, expected at least 7"),
]


@pytest.mark.parametrize("kind,bad_line,rule,fragment", DAMAGED)
def test_each_rule_names_file_line_and_rule(tmp_path, capsys, kind, bad_line, rule, fragment):
    good = GOOD_GT if kind == "gt" else GOOD_RESULTS
    lines = good.splitlines(keepends=True)
    text = lines[0] + lines[1] + bad_line + "".join(lines[2:])
    if kind == "gt":
        target = sequence(tmp_path, gt_text=text)
        path = target / "gt" / "gt.txt"
    else:
        target = path = tmp_path / "SEQ.txt"
        path.write_text(text)
    assert main(["validate-mot", str(target)]) == 1
    out = capsys.readouterr().out
    error_line = f"{path}:{4 if rule == 'duplicate-id' else 3}: error [{rule}]"  # a duplicate: its second line
    assert error_line in out and fragment in out, out
    assert out.count(" error [") == 1, out  # only the damaged line


def test_warning_for_zero_size_box_does_not_fail(tmp_path, capsys):
    folder = sequence(tmp_path, gt_text=GOOD_GT + "3,1,1,1,0,40,1,1,1\n")
    assert main(["validate-mot", str(folder)]) == 0
    assert "gt.txt:4: warning [box] non-positive box size" in capsys.readouterr().out


@pytest.mark.parametrize("seqinfo,fragment", [
    ("[sequence]\nname=SEQ\nseqLength=5\n", "no [Sequence] section"),
    ("[Sequence]\nname=SEQ\nseqLength=five\n", "seqLength 'five' is not an integer"),
    ("[Sequence]\nname=SEQ\nseqLength=5\nseqLength=6\n", "configparser"),
    ("[Sequence]\nname=SEQ\nseqLength=1000000000000\n", "outside 1.."),
])
def test_seqinfo_as_trackeval_reads_it(tmp_path, capsys, seqinfo, fragment):
    folder = sequence(tmp_path, seqinfo=seqinfo)
    assert main(["validate-mot", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "seqinfo.ini" in out and "[seqinfo]" in out and fragment in out


def test_mot15_semantics_skip_the_class_rule(tmp_path, capsys):
    mot15 = "1,1,10,20,30,40,1,-1,-1,-1\n2,1,11,20,30,40,1,-1,-1,-1\n"
    assert main(["validate-mot", str(sequence(tmp_path, gt_text=mot15))]) == 0
    capsys.readouterr()
    assert main(["validate-mot", str(tmp_path / "SEQ"), "--semantics", "mot16"]) == 1
    assert "[gt-class] class -1" in capsys.readouterr().out


def test_report_is_bounded_but_counts_everything(tmp_path, capsys):
    text = "".join(f"{f},1,10,20,30,40,1,99,1\n" for f in range(1, 5001))
    (tmp_path / "gt.txt").write_text(text)
    report = validate_mot_path(tmp_path / "gt.txt", limit=3)
    assert report.log.errors == 5000 and len(report.log.kept) == 3
    assert main(["validate-mot", str(tmp_path / "gt.txt"), "--max-report", "3"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 5 and out[3] == "... and 4997 more (showing the first 3)"
    assert out[4] == "FAILED: 1 file(s) checked, 5000 error(s), 0 warning(s)"


def test_trackeval_layout_problems(tmp_path, capsys):
    root = tmp_path / "gt" / "mot_challenge"
    (root / "seqmaps").mkdir(parents=True)
    (root / "seqmaps" / "STV-train.txt").write_text("name\nSEQ\nMISSING\n")
    sequence(root / "STV-train")
    tracker = tmp_path / "trackers" / "mot_challenge" / "STV-train" / "mine" / "data"
    tracker.mkdir(parents=True)
    (tracker / "SEQ.txt").write_text("9,1,10,20,30,40,0.9,-1,-1,-1\n")
    assert main(["validate-mot", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "sequence 'MISSING' has no folder" in out
    assert f"{tracker / 'SEQ.txt'}:1: error [frame] frame 9 is beyond seqLength 5" in out


def test_missing_and_binary_files(tmp_path, capsys):
    assert main(["validate-mot", str(tmp_path / "nope.txt")]) == 1
    assert "no such file or folder" in capsys.readouterr().out
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00garbage")
    assert main(["validate-mot", str(tmp_path / "bin.txt")]) == 1
    assert "[text] not UTF-8 text" in capsys.readouterr().out
