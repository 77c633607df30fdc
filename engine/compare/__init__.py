"""Comparison of runs and label sets (Qt-free): matching, per-frame diff, ID-switch events, tables, review queue.

Every function takes plain arrays (:class:`engine.compare.tracks.TrackTable`: frame, id, box, score) at its
boundary, so a run, an imported tracker result and a label set compare alike.
"""
from engine.compare.switches import IdentityEvents, id_switches, identity_events, sequence_pair
from engine.compare.tracks import TrackTable

__all__ = ["IdentityEvents", "TrackTable", "id_switches", "identity_events", "sequence_pair"]
