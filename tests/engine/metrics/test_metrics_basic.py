"""Metric sanity on hand-made sequences, and the `stv eval` command line."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli.main import main
from engine.io import MOTRecords
from engine.metrics import combine_sequences, evaluate_sequence


def records(rows, kind):
    rows = np.array(rows, dtype=np.float64)
    if kind == "gt":
        out = np.ones((len(rows), 9))
        out[:, :6] = rows[:, :6]
    else:
        out = np.full((len(rows), 10), -1.0)
        out[:, :6] = rows[:, :6]
        out[:, 6] = 1.0
    return MOTRecords(values=out, kind=kind)


def two_people(frames=10):
    return [[f, i, 10 + 100 * i + 2 * f, 20, 30, 60] for f in range(1, frames + 1) for i in (1, 2)]


def test_perfect_tracking():
    gt = records(two_people(), "gt")
    m = evaluate_sequence(gt, records(two_people(), "results")).summary()
    assert m["MOTA"] == 1.0 and m["IDF1"] == 1.0 and m["MOTP"] == pytest.approx(1.0)
    assert m["HOTA"] == pytest.approx(1.0) and m["LocA"] == pytest.approx(1.0)
    assert (m["FP"], m["FN"], m["IDSW"], m["MT"], m["ML"]) == (0, 0, 0, 2, 0)


def test_identity_swap_counts_once_per_switch():
    pred = two_people()
    for row in pred:
        if row[0] > 5:
            row[1] = 3 - row[1]  # ids swap after frame 5
    m = evaluate_sequence(records(two_people(), "gt"), records(pred, "results")).summary()
    assert m["IDSW"] == 2 and m["FP"] == 0 and m["FN"] == 0
    assert m["MOTA"] == pytest.approx(1 - 2 / 20)
    assert m["IDF1"] == pytest.approx(0.5)


def test_empty_prediction_and_empty_gt():
    gt = records(two_people(), "gt")
    empty = MOTRecords(values=np.zeros((0, 10)), kind="results")
    m = evaluate_sequence(gt, empty, num_timesteps=10).summary()
    assert (m["FN"], m["FP"], m["MOTA"], m["IDF1"], m["HOTA"], m["ML"]) == (20, 0, 0.0, 0.0, 0.0, 2)
    m = evaluate_sequence(MOTRecords(values=np.zeros((0, 9)), kind="gt"), records(two_people(), "results")).summary()
    assert m["FP"] == 20 and m["FN"] == 0


def test_combined_sums_counts():
    a = evaluate_sequence(records(two_people(), "gt"), records(two_people()[:10], "results"))
    b = evaluate_sequence(records(two_people(4), "gt"), records(two_people(4), "results"))
    c = combine_sequences([a, b]).summary()
    assert c["FN"] == a.summary()["FN"] + b.summary()["FN"]
    assert c["CLR_TP"] == 18
    with pytest.raises(ValueError):
        combine_sequences([])


def test_semantics_checks():
    gt15 = MOTRecords(values=np.c_[np.array(two_people(), float), np.ones(20), -np.ones((20, 3))], kind="gt")
    with pytest.raises(ValueError, match="9-column"):
        evaluate_sequence(gt15, records(two_people(), "results"), gt_semantics="mot16")
    with pytest.raises(ValueError):
        evaluate_sequence(gt15, records(two_people(), "results"), num_timesteps=3)
    gt16 = records(two_people(), "gt")
    gt16.values[0, 7] = 42
    with pytest.raises(ValueError, match="42"):
        evaluate_sequence(gt16, records(two_people(), "results"))
    evaluate_sequence(gt16, records(two_people(), "results"), remove_distractor_matches=False)


# ----------------------------------------------------------------------------- stv eval


@pytest.fixture
def files(tmp_path):
    gt = tmp_path / "seq" / "gt" / "gt.txt"
    gt.parent.mkdir(parents=True)
    gt.write_text("".join(",".join(str(v) for v in row) + ",1,1,1\n" for row in two_people()))
    pred = tmp_path / "pred.txt"
    pred.write_text("".join(",".join(str(v) for v in row) + ",1,-1,-1,-1\n" for row in two_people()[:-2]))
    return gt, pred


def test_stv_eval_json_and_table(files, capsys):
    gt, pred = files
    assert main(["eval", "--gt", str(gt), "--pred", str(pred), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("MOTA", "MOTP", "IDF1", "HOTA", "FP", "FN", "IDSW", "IDP", "IDR", "DetA", "AssA", "LocA", "MT", "Frag"):
        assert key in out
    assert out["FN"] == 2 and out["MOTA"] == pytest.approx(0.9) and 0 < out["MOTP"] <= 1
    assert list(out["per_sequence"]) == ["seq"]
    assert main(["eval", "--gt", str(gt), "--pred", str(pred), "--gt", str(gt), "--pred", str(gt.parent.parent.parent / "pred.txt")]) == 0
    table = capsys.readouterr().out
    assert "COMBINED" in table and "MOTA" in table and "90.00" in table


def test_stv_eval_uses_seqinfo_bounds(files, capsys):
    gt, pred = files
    (gt.parent.parent / "seqinfo.ini").write_text("[Sequence]\nname=SEQ-1\nseqLength=5\n")
    assert main(["eval", "--gt", str(gt), "--pred", str(pred)]) == 1
    err = capsys.readouterr().err
    assert "gt.txt:11" in err and "beyond seqLength 5" in err


def test_stv_eval_reports_malformed_file(files, tmp_path, capsys):
    gt, _ = files
    bad = tmp_path / "bad.txt"
    bad.write_text("1,1,10,20,30,40,1,-1,-1,-1\n1,2,10,20,x,40,1,-1,-1,-1\n")
    assert main(["eval", "--gt", str(gt), "--pred", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("stv eval:") and f"{bad}:2" in err and "not a number" in err
    assert main(["eval", "--gt", str(gt), "--pred", str(tmp_path / "nope.txt")]) == 1
    assert main(["eval", "--gt", str(gt), "--pred", str(bad), "--pred", str(bad)]) == 2


def test_stv_track_reports_malformed_file(tmp_path, capsys):
    bad = tmp_path / "det.txt"
    bad.write_text("1,-1,10,20,30,40\n")  # 6 columns: detections need >= 7
    assert main(["track", "--det", str(bad), "--out", str(tmp_path / "r.txt")]) == 1
    assert f"{bad}:1" in capsys.readouterr().err
    assert not (tmp_path / "r.txt").exists()
