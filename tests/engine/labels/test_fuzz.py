"""Random edit sequences: every edit undoes exactly, and the set stays consistent (re-deriving any track
from its keyframes changes nothing; interpolated boxes lie between keyframes; markers hold no box)."""
from __future__ import annotations

import numpy as np
import pytest
from labels_helpers import check_undo, model_set

from engine.labels import edits as E
from engine.labels.interpolate import rederive
from engine.labels.model import BoxKind


def consistent(ls) -> None:
    for t in ls.tracks():
        again = rederive(t)
        assert np.array_equal(again.frames, t.frames), f"track {t.track_id}: rows would change"
        np.testing.assert_allclose(again.boxes, t.boxes, atol=1e-6, err_msg=f"track {t.track_id}")
        assert np.array_equal(again.classes, t.classes), f"track {t.track_id}: row classes would change"
        assert not t.single_class or len(np.unique(t.classes)) == 1
        kf = t.keyframes()
        for f in t.frames[t.kinds == BoxKind.INTERPOLATED].tolist():
            left, right = kf[kf < f], kf[kf > f]
            assert len(left) and len(right), f"track {t.track_id}: interpolated frame {f} not between keyframes"
            assert not ((t.outside > left[-1]) & (t.outside < right[0])).any()
        assert not np.isin(t.outside, t.frames).any()
    for k in (0, 31, 59, 60, 61, 89, 119):  # the per-frame index follows every edit
        expect = [t.track_id for t in ls.tracks() if t.row(k) is not None]
        assert ls.frame_boxes(k).ids.tolist() == expect
        assert ls.frame_boxes(k).classes.tolist() == [int(t.classes[t.row(k)]) for t in ls.tracks()
                                                      if t.row(k) is not None]


def rows_of(ls, ids) -> dict[int, list]:
    """frame -> sorted list of boxes + [row class] of the given tracks (which ID holds a box does not
    matter; its class travels with it)."""
    out: dict[int, list] = {}
    for tid in ids:
        if tid in ls:
            t = ls.track(tid)
            for f, b, c in zip(t.frames.tolist(), t.boxes.tolist(), t.classes.tolist()):
                out.setdefault(f, []).append(b + [c])
    return {f: sorted(v) for f, v in out.items()}


def boxes_stay(before, after, change) -> None:
    """Split / swap / merge / change ID re-label boxes; they never move one (a merge may drop the
    overlapping ones)."""
    old, new = rows_of(before, change.track_ids), rows_of(after, change.track_ids)
    if change.description.startswith(("Split", "Swap")):
        assert old.keys() == new.keys()
    for f, boxes in new.items():
        for b in boxes:
            assert any(np.allclose(b, o, atol=1e-6) for o in old[f]), f"{change.description}: frame {f} box moved"


def random_edit(ls, rng):
    ids = ls.track_ids()
    tid = int(rng.choice(ids))
    t = ls.track(tid)
    f = int(rng.choice(t.frames))
    other = int(rng.choice(ids))
    x = float(rng.uniform(0, 500))
    box = [x, 10.0, x + float(rng.uniform(5, 60)), 90.0]
    k = int(rng.integers(0, ls.num_frames))
    choice = rng.integers(0, 16)
    return [
        lambda: E.set_box(ls, track_id=tid, frame=f, box=box),
        lambda: E.add_box(ls, track_id=tid, frame=k, box=box),
        lambda: E.new_track(ls, frame=k, box=box),
        lambda: E.set_keyframe(ls, track_id=tid, frame=f, keyframe=bool(rng.integers(0, 2))),
        lambda: E.delete_box(ls, track_id=tid, frame=f),
        lambda: E.delete_frames(ls, track_id=tid, first=f, last=min(f + int(rng.integers(0, 20)), ls.num_frames - 1)),
        lambda: E.mark_outside(ls, track_id=tid, frame=f),
        lambda: E.clear_outside(ls, track_id=tid, frame=int(rng.choice(t.outside)) if len(t.outside) else 0),
        lambda: E.merge_tracks(ls, keep_id=tid, other_id=other),
        lambda: E.split_track(ls, track_id=tid, frame=f),
        lambda: E.swap_ids(ls, id_a=tid, id_b=other, frame=k),
        lambda: E.change_id(ls, track_id=tid, new_id=other, swap=bool(rng.integers(0, 2))),
        lambda: E.set_class(ls, track_id=tid, class_id=int(rng.integers(1, 14))),
        lambda: E.set_visibility(ls, track_id=tid, visibility=float(rng.uniform(0, 1)), first=f),
        lambda: E.set_consider(ls, track_id=tid, consider=bool(rng.integers(0, 2)), last=f),
        lambda: E.set_class(ls, track_id=tid, class_id=int(rng.integers(1, 4)), first=f,
                            last=min(f + int(rng.integers(0, 15)), ls.num_frames - 1)),
    ][choice]()


@pytest.mark.parametrize("seed", range(8))
def test_random_edits_undo_exactly_and_stay_consistent(seed):
    rng = np.random.default_rng(seed)
    ls = model_set()
    applied = []
    states = [ls.copy()]
    refused = 0
    for _ in range(150):
        try:
            change = random_edit(ls, rng)
        except ValueError:
            refused += 1
            continue
        before = ls.copy()
        check_undo(ls, change)
        consistent(ls)
        if change.description.startswith(("Split", "Swap", "Merge", "Change ID")):
            boxes_stay(before, ls, change)
        applied.append(change)
        states.append(ls.copy())
    assert len(applied) > 60, f"only {len(applied)} edits applied ({refused} refused)"
    # undo everything, in order, back to the start
    for change, state in zip(reversed(applied), reversed(states[:-1])):
        change.revert(ls)
        assert ls.equals(state)
