"""The vectorised metrics give TrackEval's per-frame loops' results (engine.metrics.reference) on hostile
random sequences: crowded frames with competing matches, exact ties (integer boxes, duplicated boxes),
degenerate boxes, frames with one side only, distractor and ignored gt, identity switches.

Counts, CLEAR, DetA and LocA are bit-identical; the association scores (AssA, AssRe, AssPr, so HOTA and
OWTA) sum their per-pair terms over the overlapping pairs instead of the dense id x id matrix, which only
changes the last bits (asserted within 1e-12, far inside the 1e-9 kept with TrackEval itself).
"""
from __future__ import annotations

import numpy as np
import pytest

from engine.io import MOTRecords
from engine.metrics import build_sequence_data
from engine.metrics.clear import clear_frame_matches, clear_metrics, id_switch_events
from engine.metrics.hota import hota_metrics
from engine.metrics.identity import identity_assignment, identity_metrics
from engine.metrics.reference import (clear_frame_matches_loops, clear_loops, hota_loops, identity_loops,
                                      sequence_data_loops)

ASSOCIATION = ("AssA", "AssRe", "AssPr", "HOTA", "OWTA", "HOTA(0)", "HOTALocA(0)")


def random_sequence(seed: int, *, frames: int = 30, people: int = 8):
    """(gt 9-column, results 10-column) MOTRecords of people walking in a small crowded area."""
    rng = np.random.default_rng(seed)
    integer = seed % 2 == 0  # integer pixels: exact ties in IoU and in the Hungarian's scores
    gt_rows, pred_rows = [], []
    start = rng.uniform(0, 200, (people, 2))
    velocity = rng.uniform(-3, 3, (people, 2))
    size = rng.uniform(20, 60, (people, 2))
    classes = rng.choice([1, 1, 1, 1, 2, 7, 8, 12, 3], people)
    for f in range(1, frames + 1):
        if rng.random() < 0.1:
            continue  # a frame without rows
        for p in range(people):
            if rng.random() < 0.15:
                continue
            box = np.concatenate([start[p] + velocity[p] * f, size[p]])
            if integer:
                box = np.round(box)
            if rng.random() < 0.03:
                box[2] = 0  # degenerate
            flag = 0 if rng.random() < 0.05 else 1
            if rng.random() < 0.9:
                gt_rows.append([f, p + 1, *box, flag, classes[p], 1.0])
            if rng.random() < 0.85:  # the tracker's view: jittered, identities swapped now and then
                noisy = box + (np.round(rng.normal(0, 4, 4)) if integer else rng.normal(0, 4, 4))
                noisy[2:] = np.maximum(noisy[2:], 1)
                tid = p + 1 + 100 * (f > frames // 2 and p % 3 == 0) + 200 * (f > frames // 3 and p % 4 == 1)
                pred_rows.append([f, tid, *noisy, 0.9, -1, -1, -1])
                if rng.random() < 0.05:  # the same box reported twice under another id
                    pred_rows.append([f, 500 + p, *noisy, 0.5, -1, -1, -1])
        for k in range(rng.integers(0, 3)):  # false positives
            fp = np.concatenate([rng.uniform(0, 250, 2), rng.uniform(10, 50, 2)])
            pred_rows.append([f, 1000 + 10 * f + k, *(np.round(fp) if integer else fp), 0.3, -1, -1, -1])
    gt = MOTRecords(values=np.array(gt_rows, np.float64).reshape(-1, 9), kind="gt")
    pred = MOTRecords(values=np.array(pred_rows, np.float64).reshape(-1, 10), kind="results")
    return gt, pred


def assert_same_data(a, b):
    assert np.array_equal(a.frames, b.frames)
    assert (a.num_gt_ids, a.num_tracker_ids, a.num_gt_dets, a.num_tracker_dets) == \
           (b.num_gt_ids, b.num_tracker_ids, b.num_gt_dets, b.num_tracker_dets)
    for x, y in zip(a.gt_ids, b.gt_ids, strict=True):
        assert np.array_equal(x, y)
    for x, y in zip(a.tracker_ids, b.tracker_ids, strict=True):
        assert np.array_equal(x, y)
    for x, y in zip(a.similarity_scores, b.similarity_scores, strict=True):
        assert x.shape == y.shape and np.array_equal(x, y)


def assert_same_metrics(ours: dict, loops: dict, *, close: tuple[str, ...] = ()):
    assert ours.keys() == loops.keys()
    for key, expected in loops.items():
        got, expected = np.asarray(ours[key], float), np.asarray(expected, float)
        if key in close:
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12, err_msg=key)
        else:
            assert np.array_equal(got, expected), f"{key}: {got} != {expected}"


@pytest.mark.parametrize("semantics", ["mot16", "mot15"])
@pytest.mark.parametrize("seed", range(12))
def test_vectorised_metrics_equal_the_loops(seed, semantics):
    gt, pred = random_sequence(seed)
    data = build_sequence_data(gt, pred, gt_semantics=semantics)
    assert_same_data(data, sequence_data_loops(gt, pred, gt_semantics=semantics))
    assert_same_metrics(hota_metrics(data), hota_loops(data), close=ASSOCIATION)
    for threshold in (0.5, 0.3, 0.0):
        assert_same_metrics(clear_metrics(data, threshold=threshold), clear_loops(data, threshold=threshold))
        for ours, loops in zip(clear_frame_matches(data, threshold=threshold),
                               clear_frame_matches_loops(data, threshold=threshold), strict=True):
            for field in ("frame", "rows", "cols", "previous_tracker_id", "switched", "resumed"):
                assert np.array_equal(getattr(ours, field), getattr(loops, field), equal_nan=True), field
        events = id_switch_events(data, threshold=threshold)
        assert len(events) == clear_metrics(data, threshold=threshold)["IDSW"]
        loops_id, _ = identity_loops(data, threshold)
        ours_id = identity_metrics(data, threshold=threshold)
        assert {k: ours_id[k] for k in loops_id} == loops_id
        # the assignment returned scores its IDTP (another equally good one may be chosen)
        assigned = identity_assignment(data, threshold=threshold)
        idtp = sum(int(np.count_nonzero((s >= threshold) & (assigned[g][:, None] == r[None, :])))
                   for g, r, s in zip(data.gt_ids, data.tracker_ids, data.similarity_scores) if len(g) and len(r))
        assert idtp == ours_id["IDTP"]


def test_the_random_sequences_exercise_the_hard_cases():
    """The generator really makes competing matches, switches, fragments and distractor removals."""
    totals = {"contested": 0, "IDSW": 0, "Frag": 0, "removed": 0}
    for seed in range(12):
        gt, pred = random_sequence(seed)
        data = build_sequence_data(gt, pred, gt_semantics="mot16")
        totals["contested"] += sum(int(((s >= 0.5).sum(0) > 1).any() or ((s >= 0.5).sum(1) > 1).any())
                                   for s in data.similarity_scores if s.size)
        clear = clear_metrics(data)
        totals["IDSW"] += clear["IDSW"]
        totals["Frag"] += clear["Frag"]
        no_removal = build_sequence_data(gt, pred, gt_semantics="mot16", remove_distractor_matches=False)
        totals["removed"] += no_removal.num_tracker_dets - data.num_tracker_dets
    assert all(v > 5 for v in totals.values()), totals


def test_an_id_twice_in_one_frame_is_refused():
    gt, pred = random_sequence(1)
    values = np.concatenate([pred.values, pred.values[:1]])
    with pytest.raises(ValueError, match="twice in frame"):
        build_sequence_data(gt, MOTRecords(values=values, kind="results"))


def test_sequence_data_without_blocks_stacks_them_from_its_lists():
    """SequenceData made from per-frame lists alone (no frame_blocks) scores the same."""
    from dataclasses import replace

    gt, pred = random_sequence(3)
    data = build_sequence_data(gt, pred)
    bare = replace(data, frame_blocks=None)
    assert_same_metrics(hota_metrics(bare), hota_metrics(data))
    assert_same_metrics(clear_metrics(bare), clear_metrics(data))
    assert identity_metrics(bare) == identity_metrics(data)
    for blk in bare.blocks():
        for b, t in enumerate(blk.timesteps.tolist()):
            assert np.array_equal(blk.similarity[b], data.similarity_scores[t])
            assert np.array_equal(blk.gt_ids[b], data.gt_ids[t])
