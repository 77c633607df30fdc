"""FairMOT's IoU fallback: the appearance gate may not cut a live track whose box still overlaps."""
from __future__ import annotations

import numpy as np

from engine.tracking import ByteTracker

BOX = np.array([[100.0, 100.0, 140.0, 200.0, 0.9]])
E1 = np.array([[1.0, 0.0, 0.0]])
E2 = np.array([[0.0, 1.0, 0.0]])  # cosine distance 1 to E1: far beyond the appearance gate


def test_a_live_track_keeps_its_overlapping_detection_when_the_embedding_jumps():
    tracker = ByteTracker()
    first = tracker.update(BOX, embeddings=E1)
    second = tracker.update(BOX + [2, 0, 2, 0, 0], embeddings=E2)
    assert first[:, 5].tolist() == second[:, 5].tolist() == [1.0]
    assert len(tracker) == 1


def test_a_lost_track_is_not_reidentified_against_its_appearance():
    tracker = ByteTracker()
    tracker.update(BOX, embeddings=E1)
    tracker.update(np.zeros((0, 5)), embeddings=np.zeros((0, 3)))  # track 1 is lost
    out = tracker.update(BOX, embeddings=E2)
    assert 1.0 not in out[:, 5]  # a stranger at the lost track's place starts a new (tentative) track
    assert tracker.track_states()[1] == "lost"


def test_a_distant_detection_still_starts_a_new_track():
    tracker = ByteTracker()
    tracker.update(BOX, embeddings=E1)
    tracker.update(BOX + [300, 0, 300, 0, 0], embeddings=E2)
    assert sorted(tracker.track_states()) == [1, 2]


def test_a_live_track_keeps_its_detection_before_a_lost_track_is_reidentified():
    """Without this order a lost track and the live track of the same person took its detection in turns."""
    tracker = ByteTracker()
    tracker.update(BOX, embeddings=E1)                                    # track 1
    tracker.update(np.zeros((0, 5)), embeddings=np.zeros((0, 3)))          # track 1 lost
    tracker.update(BOX, embeddings=E2)                                    # a stranger's look: track 2 starts
    assert tracker.update(BOX, embeddings=E2)[:, 5].tolist() == [2.0]     # ... and is confirmed
    # the old look again: the live, overlapping track 2 keeps it; lost track 1 stays lost
    assert tracker.update(BOX, embeddings=E1)[:, 5].tolist() == [2.0]
    assert tracker.track_states()[1] == "lost"
