"""Per-frame matching, box statuses, action disagreement, IDF1 shares and disagreement navigation."""
from __future__ import annotations

import numpy as np
import pytest

from engine.compare import TrackTable
from engine.compare.diff import (AGREE, ONLY_A, ONLY_B, box_diff, compare, idf1_shares, next_event, previous_event,
                                 top_action_disagreement)
from engine.compare.matching import match_boxes, match_tables
from engine.metrics import evaluate_sequence
from engine.tracking.matching import assign, iou_matrix


def table(rows):
    return TrackTable.from_rows(np.asarray(rows, np.float64).reshape(-1, 7))


def test_constructed_pair_with_known_differences():
    # frame 0: both see objects 1 and 2; frame 1: A misses object 2, B has an extra box far away;
    # frame 2: A's box of object 1 is shifted so far that IoU < 0.5
    a = table([[0, 1, 0, 0, 10, 10, 1], [0, 2, 50, 0, 60, 10, 1],
               [1, 1, 0, 0, 10, 10, 1],
               [2, 1, 6, 0, 16, 10, 1]])
    b = table([[0, 7, 1, 0, 11, 10, 1], [0, 8, 50, 1, 60, 11, 1],
               [1, 7, 0, 0, 10, 10, 1], [1, 8, 50, 0, 60, 10, 1], [1, 9, 200, 200, 220, 220, 1],
               [2, 7, 0, 0, 10, 10, 1]])
    d = box_diff(a, b, num_frames=4)
    assert d.agree.tolist() == [2, 1, 0, 0]
    assert d.only_a.tolist() == [0, 0, 1, 0]
    assert d.only_b.tolist() == [0, 2, 1, 0]
    assert d.status_a.tolist() == [AGREE, AGREE, AGREE, ONLY_A]
    assert d.status_b.tolist() == [AGREE, AGREE, AGREE, ONLY_B, ONLY_B, ONLY_B]
    assert d.partner_a.tolist() == [0, 1, 2, -1]


def test_contested_frame_uses_the_hungarian_optimum():
    # A0 overlaps B0 and B1 above 0.5; A1 overlaps only B0: greedy A0-B0 would leave A1 alone
    a = table([[0, 1, 0, 0, 10, 10, 1], [0, 2, 0, 0, 9, 10, 1]])
    b = table([[0, 5, 0, 0, 9.5, 10, 1], [0, 6, 1, 0, 10, 10, 1]])
    m = match_tables(a, b, num_frames=1)
    assert m.num_matches == 2
    assert m.partner_a.tolist() == [1, 0]


@pytest.mark.parametrize("seed", range(4))
def test_whole_run_matching_equals_per_frame_hungarian(seed):
    rng = np.random.default_rng(seed)
    rows_a, rows_b = [], []
    for f in range(60):
        centers = rng.uniform(0, 60, size=(rng.integers(0, 7), 2))  # crowded: many contested frames
        for i, (x, y) in enumerate(centers):
            rows_a.append([f, i, x, y, x + 20, y + 20, 1])
            if rng.random() < 0.8:
                j = rng.normal(0, 3, 4)
                rows_b.append([f, i + 100, x + j[0], y + j[1], x + 20 + j[2], y + 20 + j[3], 1])
    a, b = table(rows_a), table(rows_b)
    m = match_tables(a, b, num_frames=60)
    for f in range(60):
        ra, rb = np.flatnonzero(a.frames == f), np.flatnonzero(b.frames == f)
        iou = iou_matrix(a.boxes[ra], b.boxes[rb])
        rows, cols, _, _ = assign(np.where(iou >= 0.5, 1 - iou, np.inf), 1.0)
        ours = m.partner_a[ra]
        assert np.count_nonzero(ours >= 0) == len(rows)
        got = sum(iou[i, np.flatnonzero(rb == p)[0]] for i, p in enumerate(ours) if p >= 0)
        assert got == pytest.approx(iou[rows, cols].sum())


def test_match_boxes_threshold_and_empty():
    rows, cols, ious = match_boxes(np.zeros((0, 4)), np.array([[0, 0, 1, 1.0]]))
    assert rows.size == cols.size == ious.size == 0
    rows, cols, ious = match_boxes(np.array([[0, 0, 10, 10.0]]), np.array([[5, 0, 15, 10.0]]))  # IoU 1/3
    assert rows.size == 0


def test_top_action_disagreement():
    pa = np.array([[0.9, 0.1], [0.2, 0.8], [np.nan, np.nan], [0.6, 0.4]])
    pb = np.array([[0.7, 0.3], [0.9, 0.1], [0.5, 0.5], [0.4, 0.6]])
    assert top_action_disagreement(pa, pb).tolist() == [False, True, False, True]
    assert not top_action_disagreement(pa, np.zeros((4, 0))).any()
    with pytest.raises(ValueError, match="class lists"):
        top_action_disagreement(pa, np.zeros((4, 3)))


def scene(rng, frames=50, objects=5):
    labels, a, b = [], [], []
    pos = rng.uniform(0, 300, (objects, 2))
    vel = rng.normal(0, 2, (objects, 2))
    ida, idb = np.arange(objects) + 10, np.arange(objects) + 50
    for f in range(frames):
        pos += vel
        if f == 20:
            ida[0] = 99  # A switches object 0's identity
        if f == 35:
            idb[[1, 2]] = idb[[2, 1]]  # B swaps two identities
        for o, (x, y) in enumerate(pos):
            labels.append([f, o + 1, x, y, x + 20, y + 40, 1])
            if rng.random() < 0.9:
                a.append([f, ida[o], x + rng.normal(0, 1), y, x + 20, y + 40, 0.9])
            if rng.random() < 0.9:
                b.append([f, idb[o], x, y + rng.normal(0, 1), x + 20, y + 40, 0.9])
    return table(labels), table(a), table(b)


@pytest.mark.parametrize("seed", range(3))
def test_idf1_shares_sum_to_the_idf1_difference(seed):
    labels, a, b = scene(np.random.default_rng(seed))
    share = idf1_shares(a, b, labels, num_frames=50)
    idf1 = [evaluate_sequence(labels.as_mot_gt(), x.as_mot_results(), num_timesteps=50).summary()["IDF1"]
            for x in (a, b)]
    assert share.sum() == pytest.approx(idf1[0] - idf1[1], abs=1e-12)
    assert share.shape == (50,)


def test_comparison_lists_switches_and_navigates_disagreements():
    labels, a, b = scene(np.random.default_rng(7))
    probs_a = np.tile([0.8, 0.2], (50, 1))
    probs_b = probs_a.copy()
    probs_b[40:43] = [0.1, 0.9]
    c = compare(a, b, num_frames=50, labels=labels, probs_a=probs_a, probs_b=probs_b, names=("A", "B"))
    assert 20 in c.switches_a[:, 0].tolist()
    assert 35 in c.switches_b[:, 0].tolist()
    assert c.frames_of("action").tolist() == [40, 41, 42]
    frames = c.disagreement_frames
    assert np.all(np.diff(frames) > 0)
    assert c.next_disagreement(36, "action") == 40
    assert c.previous_disagreement(40, "switch") == 35
    assert c.next_disagreement(int(frames[-1])) is None
    assert c.previous_disagreement(int(frames[0])) is None
    unlabelled = compare(a, b, num_frames=50)
    assert np.isnan(unlabelled.idf1_share).all() and len(unlabelled.switches_a) == 0


def test_next_previous_event():
    frames = np.array([3, 8, 8, 20])
    assert next_event(frames, 0) == 3 and next_event(frames, 8) == 20 and next_event(frames, 20) is None
    assert previous_event(frames, 8) == 3 and previous_event(frames, 3) is None and previous_event(frames, 99) == 20
