"""The review queue finds planted switches, fragments, two-identity tracks and false positives on constructed
runs, and its proposals are label edits that apply and undo."""
from __future__ import annotations

import numpy as np
import pytest

from engine.compare.review import Proposal, ReviewSettings, apply_proposals, review_queue
from engine.labels import LabelSet

E = 16


def identity_vectors(seed=0, n=6):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, E))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class Builder:
    """Rows, margins and embeddings of a constructed run (embeddings: an identity's vector plus noise)."""

    def __init__(self, seed=1):
        self.rng = np.random.default_rng(seed)
        self.ids = identity_vectors(seed)
        self.rows, self.margins, self.emb = [], [], []

    def track(self, track_id, frames, identity, x0, vx, *, y=50.0, score=0.9, margins=None, identity_from=None):
        for k, f in enumerate(frames):
            x = x0 + vx * k
            self.rows.append([f, track_id, x, y, x + 30, y + 80, score])
            who = identity if identity_from is None or f < identity_from[0] else identity_from[1]
            e = self.ids[who] + self.rng.normal(0, 0.05, E)
            self.emb.append(e / np.linalg.norm(e))
            self.margins.append(np.nan if k == 0 else (margins(f) if margins else 0.6))

    def queue(self, num_frames=80, **kwargs):
        return review_queue(np.array(self.rows), num_frames=num_frames, margins=np.array(self.margins),
                            embeddings=np.array(self.emb), **kwargs)


def item_for(queue, kind, track_id, frame, tolerance=3):
    for rank, it in enumerate(queue.items):
        if it.kind == kind and track_id in it.track_ids and abs(it.frame - frame) <= tolerance:
            return rank, it
    return None, None


def test_planted_switch_is_ranked_first_and_clean_tracks_stay_quiet():
    b = Builder()
    # track 1 follows identity 0 until frame 40, then (a tracker switch) identity 1, with a near-tie margin there
    b.track(1, range(0, 80), 0, 10, 2, margins=lambda f: 0.02 if f == 40 else 0.6, identity_from=(40, 1))
    b.track(2, range(0, 80), 2, 300, -1, y=200)
    q = b.queue()
    rank, it = item_for(q, "switch", 1, 40)
    assert rank == 0 and "association margin 0.02" in it.reason and "embedding jump" in it.reason
    assert not [i for i in q.items if 2 in i.track_ids]


def test_planted_fragment_gets_a_merge_proposal():
    b = Builder()
    b.track(1, range(0, 30), 0, 10, 3)
    b.track(5, range(36, 80), 0, 10 + 3 * 36, 3)  # same identity, continues where 1 was heading
    b.track(2, range(0, 80), 3, 400, 0, y=250)
    q = b.queue()
    rank, it = item_for(q, "merge", 5, 36)
    assert rank == 0
    assert it.track_ids == (1, 5)
    assert it.proposal == Proposal("merge_tracks", {"keep_id": 1, "other_id": 5})


def test_a_fragment_of_another_identity_is_not_proposed_for_merging():
    b = Builder()
    b.track(1, range(0, 30), 0, 10, 3)
    b.track(5, range(36, 80), 4, 10 + 3 * 36, 3)  # where 1 was heading, but someone else
    q = b.queue()
    rank, it = item_for(q, "merge", 5, 36)
    assert it is None or it.score < 0.6


def test_two_identity_track_gets_a_split_at_the_best_frame():
    b = Builder()
    b.track(3, range(0, 60), 1, 100, 0.5, identity_from=(33, 4))  # no margin signal: appearance only
    q = b.queue(num_frames=60)
    found = [it for it in q.items if 3 in it.track_ids and it.kind in ("split", "switch")]
    assert len(found) == 1 and abs(found[0].frame - 33) <= 1  # one look at the place, not one per detector
    proposal = found[0].proposal
    assert proposal.edit == "split_track" and abs(proposal.arguments["frame"] - 33) <= 1
    assert "looks like two identities" in found[0].reason


def test_tracks_taking_turns_on_one_object_get_a_merge_at_each_hand_over():
    b = Builder()
    # one person; the tracker alternates between tracks 1 and 2 in blocks (each coasts while the other holds it)
    for k, (lo, hi) in enumerate(((0, 10), (10, 20), (20, 30), (30, 40))):
        b.track(1 + k % 2, range(lo, hi), 0, 10 + 2 * lo, 2)
    b.track(3, range(0, 40), 3, 400, 0, y=250)
    q = b.queue(num_frames=40)
    handovers = sorted(it.frame for it in q.items if it.kind == "merge" and set(it.track_ids) == {1, 2})
    assert handovers == [10, 20, 30]
    assert all(it.proposal.edit == "merge_tracks" for it in q.items if it.kind == "merge")
    assert not [it for it in q.items if 3 in it.track_ids]


def test_short_low_score_track_is_a_delete_proposal():
    b = Builder()
    b.track(1, range(0, 80), 0, 10, 1)
    b.track(9, range(20, 24), 5, 500, 0, y=300, score=0.35)
    q = b.queue()
    rank, it = item_for(q, "false_positive", 9, 20)
    assert it is not None and it.proposal == Proposal("delete_track", {"track_id": 9})


def test_action_flicker_is_listed_without_a_proposal():
    b = Builder()
    b.track(1, range(0, 40), 0, 10, 1)
    probs = np.tile([0.8, 0.2], (40, 1))
    probs[10:30:2] = [0.2, 0.8]
    q = review_queue(np.array(b.rows), num_frames=40, margins=np.array(b.margins), embeddings=np.array(b.emb),
                     track_action_probs=probs)
    flicker = [it for it in q.items if it.kind == "action_flicker"]
    assert flicker and flicker[0].proposal is None and flicker[0].track_ids == (1,)


def test_without_identity_data_the_queue_says_why_and_still_merges_by_motion():
    b = Builder()
    b.track(1, range(0, 30), 0, 10, 3)
    b.track(5, range(33, 80), 0, 10 + 3 * 33, 3)
    q = review_queue(np.array(b.rows), num_frames=80)
    assert any("no re-ID embeddings" in n for n in q.notes) and any("no association margins" in n for n in q.notes)
    assert item_for(q, "merge", 5, 33)[1] is not None


def test_proposals_apply_through_label_edits_and_undo():
    b = Builder()
    b.track(1, range(0, 30), 0, 10, 3)
    b.track(5, range(36, 80), 0, 10 + 3 * 36, 3)
    b.track(9, range(50, 53), 5, 500, 0, y=300, score=0.3)
    q = b.queue()
    labels = LabelSet.from_run(np.array(b.rows), name="fix", num_frames=80, width=640, height=480)
    original = labels.copy()
    merge = item_for(q, "merge", 5, 36)[1]
    change = merge.proposal.change(labels)
    assert labels.equals(original)  # computing a proposal's change leaves the set alone
    change.apply(labels)
    assert 5 not in labels and len(labels.track(1)) == 30 + 44
    change.revert(labels)
    assert labels.equals(original)
    applied, skipped = apply_proposals(labels, q.items, limit=20)
    assert applied >= 2 and 9 not in labels and 5 not in labels


def test_relinked_switch_proposal_is_one_undoable_change():
    labels = LabelSet.from_run(np.array([[f, 1, f, 0, f + 10, 10, 1] for f in range(10)]
                                        + [[f, 2, 50, 0, 60, 10, 1] for f in range(10, 20)]),
                               name="x", num_frames=20, width=100, height=100)
    before = labels.copy()
    p = Proposal("split_track", {"track_id": 1, "frame": 6, "new_id": 2**31 - 2},
                 then=(("merge_tracks", {"keep_id": 2, "other_id": 2**31 - 2}),))
    change = p.change(labels)
    assert labels.equals(before)
    change.apply(labels)
    assert labels.track(1).last == 5 and labels.track(2).first == 6 and 2**31 - 2 not in labels
    change.revert(labels)
    assert labels.equals(before)
    with pytest.raises(ValueError, match="unknown label edit"):
        Proposal("os.system", {}).change(labels)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match=r"rows must be \(N, 7\)"):
        review_queue(np.zeros((3, 6)), num_frames=5)
    with pytest.raises(ValueError, match="margins must have 2 rows"):
        review_queue(np.zeros((2, 7)), num_frames=5, margins=np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        review_queue(np.full((1, 7), np.nan), num_frames=5)
    assert len(review_queue(np.zeros((0, 7)), num_frames=5, settings=ReviewSettings())) == 0


def test_a_schema_v1_run_gets_a_queue_with_the_reason(tmp_path):
    from engine.cache import ResultsCache

    from test_schema_v2 import FP, write_v1_cache

    path = tmp_path / "old.stv.h5"
    write_v1_cache(path)
    with ResultsCache.open(path, video_fingerprint=FP) as cache:
        from engine.compare.review import review_run

        queue = review_run(cache.run("old"))
    assert any("schema version 1" in note for note in queue.notes)
    assert all(it.kind not in ("split",) for it in queue.items)  # no embeddings: no two-identity check
