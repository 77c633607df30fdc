"""The tracker reports, per output row, its association margin and re-ID embedding (stored by cache schema v2)."""
from __future__ import annotations

import numpy as np

from engine.tracking import ByteTracker
from engine.tracking.matching import assign, assignment_margins


def test_assignment_margins_measure_the_gap_to_the_nearest_alternative():
    cost = np.array([[0.1, 0.6], [0.65, 0.2]])
    rows, cols, _, _ = assign(cost, 0.7)
    np.testing.assert_allclose(assignment_margins(cost, rows, cols, 0.7), [0.5, 0.4])
    # a lone pair is measured against the gate; forbidden (inf) alternatives count as the gate
    np.testing.assert_allclose(assignment_margins(np.array([[0.3]]), [0], [0], 0.7), [0.4])
    cost = np.array([[0.1, np.inf]])
    np.testing.assert_allclose(assignment_margins(cost, [0], [0], 0.7), [0.6])


def box(x, y=0.0, score=0.9):
    return [x, y, x + 20.0, y + 40.0, score]


def test_margins_are_small_where_two_tracks_meet_and_nan_for_new_tracks():
    tracker = ByteTracker()
    margins_far, margins_near = [], []
    for f in range(12):
        gap = 200.0 if f < 6 else 2.0  # two people walk far apart, then side by side
        out = tracker.update(np.array([box(100.0), box(100.0 + gap)]))
        if f == 0:
            assert np.isnan(tracker.last_margins).all()  # born this frame: nothing to compare with
            assert tracker.last_embeddings is None
        elif f in (3, 4, 5):
            margins_far.extend(tracker.last_margins)
        elif f >= 8:
            margins_near.extend(tracker.last_margins)
        assert tracker.last_margins.shape == (len(out),)
    assert min(margins_far) > 0.5
    assert max(margins_near) < 0.3


def test_embeddings_follow_the_matched_detection():
    tracker = ByteTracker()
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(2, 4))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    for f in range(3):
        out = tracker.update(np.array([box(10.0 + f), box(300.0 + f)]), embeddings=emb[::-1] if f == 2 else emb)
    dets = out[:, 6].astype(int)
    expected = (emb[::-1])[dets]
    np.testing.assert_allclose(tracker.last_embeddings, expected, atol=1e-6)
