"""Evaluation data follow the rows present: empty frames change nothing, whatever the frame numbers."""
from __future__ import annotations

import numpy as np

from engine.io import MOTRecords
from engine.metrics import build_sequence_data, evaluate_sequence


def sequence(frames, kind, id_offset=0, jitter=0.0, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for rank, frame in enumerate(frames):
        for person in (1, 2, 3):
            if kind == "results" and (rank + person) % 5 == 0:
                continue  # misses
            pid = person + id_offset + (10 if kind == "results" and person == 2 and rank > 6 else 0)  # a switch
            box = [20 + 60 * person + rank, 30, 40, 80] + rng.normal(0, jitter, 4)
            rows.append([frame, pid, *box, 1, 1, 1] if kind == "gt" else [frame, pid, *box, 0.9, -1, -1, -1])
    return MOTRecords(values=np.array(rows, dtype=np.float64), kind=kind)


def test_spread_out_frames_score_like_consecutive_ones():
    dense = list(range(1, 16))
    spread = [1, 2, 3, 1000, 1001, 50_000, 50_001, 50_002, 10**6, 10**7, 10**8, 10**8 + 1, 10**9 - 1, 10**9,
              2 * 10**9]
    a = evaluate_sequence(sequence(dense, "gt"), sequence(dense, "results", jitter=2.0), num_timesteps=15).summary()
    b = evaluate_sequence(sequence(spread, "gt"), sequence(spread, "results", jitter=2.0)).summary()
    assert a.pop("CLR_Frames") == 15 and b.pop("CLR_Frames") == 2 * 10**9
    assert a == b and a["IDSW"] >= 1 and a["FN"] > 0


def test_only_frames_with_rows_get_entries():
    gt = sequence([5, 9], "gt")
    pred = sequence([9, 12], "results")
    data = build_sequence_data(gt, pred, num_timesteps=10**9)
    assert data.frames.tolist() == [5, 9, 12] and data.num_timesteps == 10**9
    assert [len(x) for x in data.gt_ids] == [3, 3, 0]
    assert [len(x) for x in data.tracker_ids] == [0, 3, 3]
