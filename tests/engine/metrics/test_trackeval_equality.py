"""engine.metrics equals the official TrackEval on real files (fixture from tools/trackeval_reference.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.io import read_gt, read_results
from engine.metrics import combine_sequences, evaluate_sequence

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "trackeval_reference.json").read_text())
CORE = ("MOTA", "MOTP", "IDF1", "IDP", "IDR", "HOTA", "DetA", "AssA", "LocA", "CLR_FP", "CLR_FN", "IDSW",
        "Frag", "MT", "PT", "ML", "CLR_TP", "IDTP", "IDFP", "IDFN", "DetRe", "DetPr", "AssRe", "AssPr", "MODA",
        "sMOTA", "HOTA(0)", "LocA(0)", "OWTA", "MTR", "PTR", "MLR", "CLR_Re", "CLR_Pr", "CLR_F1", "MOTAL")


def assert_matches(ours: dict, reference: dict, label: str) -> None:
    compared = 0
    for key, expected in reference.items():
        if key not in ours:
            continue
        compared += 1
        assert ours[key] == pytest.approx(expected, abs=1e-3), f"{label}: {key} ours {ours[key]} TrackEval {expected}"
        # the port is exact, not merely close
        assert abs(ours[key] - expected) < 1e-9, f"{label}: {key} ours {ours[key]} TrackEval {expected}"
    missing = [k for k in CORE if k not in reference or k not in ours]
    assert not missing, f"{label}: not compared: {missing}"
    assert compared >= len(CORE)


def test_fixture_records_trackeval_version():
    assert REFERENCE["trackeval_version"]
    assert {"MOT15", "MOT17"} <= set(REFERENCE["benchmarks"])


@pytest.mark.parametrize("tracker", sorted(REFERENCE["benchmarks"]["MOT15"]))
def test_mot15_semantics_equal_trackeval(tud_stadtmitte, tracker):
    gt = read_gt(tud_stadtmitte / "gt.txt")
    pred = read_results(FIXTURES / f"{tracker}.txt")
    length = REFERENCE["seq_lengths"]["TUD-Stadtmitte"]
    ours = evaluate_sequence(gt, pred, num_timesteps=length).summary()
    assert_matches(ours, REFERENCE["benchmarks"]["MOT15"][tracker]["TUD-Stadtmitte"], tracker)


def test_mot17_semantics_and_combination_equal_trackeval():
    """9-column gt with flag-0 rows, distractor classes (2, 7, 12) and an occluder class; two sequences."""
    reference = REFERENCE["benchmarks"]["MOT17"]["jitter"]
    per_seq = []
    for suffix, seq in (("A", "SYN-A"), ("B", "SYN-B")):
        gt = read_gt(FIXTURES / f"mot17_gt_{suffix}.txt")
        pred = read_results(FIXTURES / f"mot17_pred_{suffix}.txt")
        metrics = evaluate_sequence(gt, pred, num_timesteps=REFERENCE["seq_lengths"][seq])
        assert_matches(metrics.summary(), reference[seq], seq)
        per_seq.append(metrics)
    assert_matches(combine_sequences(per_seq).summary(), reference["COMBINED_SEQ"], "combined")


def test_mot17_distractor_removal_matters():
    """Without the distractor preprocessing the numbers differ (so the option is really exercised)."""
    gt = read_gt(FIXTURES / "mot17_gt_A.txt")
    pred = read_results(FIXTURES / "mot17_pred_A.txt")
    with_pre = evaluate_sequence(gt, pred).summary()
    without = evaluate_sequence(gt, pred, remove_distractor_matches=False).summary()
    assert without["CLR_FP"] > with_pre["CLR_FP"]
    # MOT15 semantics on the same file keep every class as ground truth
    as_mot15 = evaluate_sequence(gt, pred, gt_semantics="mot15").summary()
    assert as_mot15["CLR_TP"] > with_pre["CLR_TP"]
    reference = REFERENCE["benchmarks"]["MOT17"]["jitter"]["SYN-A"]
    assert with_pre["MOTA"] == pytest.approx(reference["MOTA"], abs=1e-9)
    assert not np.isclose(without["MOTA"], reference["MOTA"], atol=1e-3)
