"""Small label sets and undo checks for the engine.labels tests (generated, a few hundred boxes at most)."""
from __future__ import annotations

import numpy as np

from engine.labels.edits import Change
from engine.labels.model import LabelSet

NUM_FRAMES = 120
WIDTH, HEIGHT = 640, 360
CACHE_FP = "size=1:sha256=store"  # video fingerprint of the ``cache_path`` fixture's cache (conftest.py)


def run_rows(track_specs) -> np.ndarray:
    """(N, 7) run rows [frame, id, x1, y1, x2, y2, score] for specs (id, first, last, x0, dx per frame)."""
    rows = []
    for tid, first, last, x0, dx in track_specs:
        for k in range(first, last + 1):
            x = x0 + dx * (k - first)
            rows.append([k, tid, x, 50.0, x + 40.0, 150.0, 0.9])
    return np.array(rows, dtype=np.float64)


def model_set(name: str = "gt") -> LabelSet:
    """Three model tracks: 3 (frames 0..59), 5 (30..89), 9 (70..119)."""
    rows = run_rows([(3, 0, 59, 10.0, 1.0), (5, 30, 89, 300.0, -0.5), (9, 70, 119, 100.0, 2.0)])
    return LabelSet.from_run(rows, name=name, num_frames=NUM_FRAMES, width=WIDTH, height=HEIGHT,
                             source_run="demo")


def check_undo(ls: LabelSet, change: Change) -> LabelSet:
    """apply -> revert gives an identical set; apply -> revert -> apply equals apply. Returns the set
    after applying (ls is left in that state)."""
    before = ls.copy()
    change.apply(ls)
    after = ls.copy()
    assert not after.equals(before) or not change.track_ids, f"{change.description!r} changed nothing"
    change.revert(ls)
    assert ls.equals(before), f"revert of {change.description!r} did not restore the set"
    change.apply(ls)
    assert ls.equals(after), f"re-applying {change.description!r} gave a different set"
    return ls


def do(ls: LabelSet, edit, **kwargs) -> Change:
    """Call an edit function (checking it does not mutate its input), then check its undo."""
    snapshot = ls.copy()
    revision = ls.revision
    change = edit(ls, **kwargs)
    assert ls.equals(snapshot) and ls.revision == revision, f"{edit.__name__} mutated its input"
    check_undo(ls, change)
    return change


def edit_sequence(ls: LabelSet, count: int, seed: int = 0):
    """Yield ``count`` (change, action) pairs, applying each to ``ls`` (edits, undos and redos, chosen
    deterministically from ``seed``): the same sequence in the crash-test child and in the parent."""
    from engine.labels import edits as E

    rng = np.random.default_rng(seed)
    done: list[Change] = []
    undone: list[Change] = []
    produced = 0
    while produced < count:
        roll = rng.random()
        if roll < 0.15 and done:
            c = done.pop()
            c.revert(ls)
            undone.append(c)
            yield c, "undo"
        elif roll < 0.25 and undone:
            c = undone.pop()
            c.apply(ls)
            done.append(c)
            yield c, "redo"
        else:
            tid = int(rng.choice(ls.track_ids()))
            t = ls.track(tid)
            f = int(rng.choice(t.frames))
            x = float(rng.uniform(0, 500))
            try:
                if roll < 0.7:
                    c = E.set_box(ls, track_id=tid, frame=f, box=[x, 10, x + 30, 90])
                elif roll < 0.8:
                    c = E.mark_outside(ls, track_id=tid, frame=f)
                elif roll < 0.9:
                    c = E.split_track(ls, track_id=tid, frame=f)
                else:
                    c = E.set_visibility(ls, track_id=tid, visibility=float(rng.uniform(0, 1)))
            except ValueError:
                continue
            c.apply(ls)
            done.append(c)
            undone.clear()
            yield c, "apply"
        produced += 1
