"""Comparison of runs and label sets (Qt-free): matching, per-frame diff, ID-switch events, tables, review queue.

Every function takes plain arrays (:class:`engine.compare.tracks.TrackTable`: frame, id, box, score; or MOT
records for the metric table) at its boundary, so a run, an imported tracker result and a label set compare
alike.

tracks.py    TrackTable (from a run's ``track_rows()``, a label set, MOT records)
matching.py  per-frame Hungarian matching at IoU >= 0.5, whole runs at once
switches.py  ID-switch and fragment events against labels (CLEAR's own matching)
diff.py      agree / only-A / only-B, action disagreement, IDF1 shares, next/previous disagreement
table.py     each item against a label set (stv eval's numbers) or the items' agreement
review.py    the review queue (likely switches, merges, splits, false positives, action flicker)
"""
from engine.compare.diff import AGREE, ONLY_A, ONLY_B, BoxDiff, Comparison, box_diff, compare, idf1_shares
from engine.compare.matching import match_boxes, match_tables
from engine.compare.switches import IdentityEvents, id_switches, identity_events, sequence_pair
from engine.compare.tracks import TrackTable

__all__ = [
    "AGREE", "ONLY_A", "ONLY_B", "BoxDiff", "Comparison", "IdentityEvents", "TrackTable", "box_diff", "compare",
    "id_switches", "identity_events", "idf1_shares", "match_boxes", "match_tables", "sequence_pair",
]
