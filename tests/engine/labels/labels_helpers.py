"""Small label sets and undo checks for the engine.labels tests (generated, a few hundred boxes at most)."""
from __future__ import annotations

import numpy as np
from engine.labels.edits import Change
from engine.labels.model import LabelSet

NUM_FRAMES = 120
WIDTH, HEIGHT = 640, 360


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
    assert not after.equals(before) or not change.track_ids, "the change changed nothing"
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
