"""ID-switch and fragment events equal CLEAR's IDSW and Frag (the numbers `stv eval` prints)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.compare import TrackTable, id_switches, identity_events
from engine.io import read_gt, read_results
from engine.metrics import evaluate_sequence

FIXTURES = Path(__file__).parents[1] / "metrics" / "fixtures"


def table(rows):
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 7)
    return TrackTable.from_rows(rows)


def box_rows(frame, ident, x, score=1.0, w=10.0):
    return [frame, ident, x, 0.0, x + w, 20.0, score]


def test_planted_switch_is_listed_with_both_ids():
    # label 7 walks right; the run calls it 1 for frames 0-4, then 2 from frame 5
    labels = table([box_rows(f, 7, 5.0 * f) for f in range(10)])
    run = table([box_rows(f, 1 if f < 5 else 2, 5.0 * f) for f in range(10)])
    rows = id_switches(run, labels, num_frames=10)
    assert rows.tolist() == [[5, 7, 1, 2]]
    metrics = evaluate_sequence(labels.as_mot_gt(), run.as_mot_results(), num_timesteps=10).summary()
    assert metrics["IDSW"] == 1


def test_fragment_events_after_a_gap():
    # a second object keeps the run non-empty in the gap: TrackEval's CLEAR leaves its state untouched by
    # frames without any run box, so only a gap among other boxes fragments a track
    labels = table([box_rows(f, 3, 0.0) for f in range(12)] + [box_rows(f, 9, 100.0) for f in range(12)])
    run = table([box_rows(f, 4, 0.0) for f in range(12) if not 4 <= f < 7] + [box_rows(f, 5, 100.0) for f in range(12)])
    events = identity_events(run, labels, num_frames=12)
    assert events.num_switches == 0
    assert events.fragment_frame.tolist() == [7]
    assert events.fragment_label_id.tolist() == [3] and events.fragment_id.tolist() == [4]


def random_scene(rng, num_frames=40, num_objects=6, swap_rate=0.05, drop_rate=0.1):
    label_rows, run_rows = [], []
    pos = rng.uniform(0, 200, size=(num_objects, 2))
    vel = rng.normal(0, 3, size=(num_objects, 2))
    run_id = np.arange(num_objects) + 100
    next_id = 200
    for f in range(num_frames):
        pos += vel
        for o in range(num_objects):  # identity changes happen between frames
            if rng.random() < swap_rate:
                run_id[o] = next_id
                next_id += 1
            if rng.random() < 0.05:  # two objects trade ids
                other = rng.integers(num_objects)
                run_id[o], run_id[other] = run_id[other], run_id[o]
        for o in range(num_objects):
            x, y = pos[o]
            label_rows.append([f, o, x, y, x + 20, y + 40, 1.0])
            if rng.random() > drop_rate:
                j = rng.normal(0, 2, size=4)
                run_rows.append([f, run_id[o], x + j[0], y + j[1], x + 20 + j[2], y + 40 + j[3], 0.9])
    return table(label_rows), table(run_rows)


@pytest.mark.parametrize("seed", range(6))
def test_random_scenes_events_equal_idsw_and_frag(seed):
    labels, run = random_scene(np.random.default_rng(seed))
    events = identity_events(run, labels, num_frames=40)
    metrics = evaluate_sequence(labels.as_mot_gt(), run.as_mot_results(), num_timesteps=40).summary()
    assert events.num_switches == metrics["IDSW"]
    assert events.num_fragments == metrics["Frag"]
    assert metrics["IDSW"] > 0 and metrics["Frag"] > 0  # the scene really exercises both
    assert np.all(np.diff(events.frame) >= 0)
    assert np.all(events.previous_id != events.new_id)


@pytest.mark.parametrize("tracker", ["gt_swaps", "gt_jitter", "det_ids"])
def test_real_sequence_events_equal_idsw(tud_stadtmitte, tracker):
    gt = read_gt(tud_stadtmitte / "gt.txt")
    pred = read_results(FIXTURES / f"{tracker}.txt")
    length = int(max(gt.max_frame(), pred.max_frame()))
    keep = gt.confidences != 0  # MOT15: flag-0 gt rows are ignored by evaluation
    labels = TrackTable(frames=gt.frame_indices()[keep], ids=gt.ids[keep], boxes=gt.boxes_xyxy()[keep],
                        scores=gt.confidences[keep])
    run = TrackTable(frames=pred.frame_indices(), ids=pred.ids, boxes=pred.boxes_xyxy(), scores=pred.confidences)
    expected = evaluate_sequence(gt, pred, num_timesteps=length).summary()
    events = identity_events(run, labels, num_frames=length)
    assert events.num_switches == expected["IDSW"]
    assert events.num_fragments == expected["Frag"]


def test_bad_rows_are_refused():
    with pytest.raises(ValueError, match="rows must be"):
        TrackTable.from_rows(np.zeros((3, 6)))
    with pytest.raises(ValueError, match="two boxes with id 1 in frame 0"):
        table([box_rows(0, 1, 0.0), box_rows(0, 1, 5.0)])
    with pytest.raises(ValueError, match="finite"):
        table([[0, 1, np.nan, 0, 1, 1, 1]])
    labels = table([box_rows(5, 1, 0.0)])
    with pytest.raises(ValueError, match="beyond"):
        id_switches(labels, labels, num_frames=3)
