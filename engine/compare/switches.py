"""A run's ID switches (and fragmentations) against a label set, event by event, exactly as CLEAR counts them.

Both come from :func:`engine.metrics.clear.clear_frame_matches`, the matching behind ``stv eval``'s IDSW and
Frag: the number of switch events always equals IDSW and the number of fragment events equals Frag, on the
same preprocessing ``stv eval`` applies to the two tables exported as 10-column gt (every box considered)
and 10-column results.

Every label row given is truth: pass the rows evaluation scores (``TrackTable.from_label_set`` keeps the
considered pedestrian rows). A label set's MOT17-style export is scored with one more step, the removal of
run boxes matched to distractor-class boxes (TrackEval's preprocessing); with no distractor-class rows the
two agree exactly, otherwise such a run box counts here as a false positive (it never changes a switch
between two real identities).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.compare.tracks import TrackTable
from engine.metrics.clear import clear_frame_matches
from engine.metrics.mot_data import SequenceData, build_sequence_data


@dataclass(frozen=True)
class SequencePair:
    """TrackEval's evaluation arrays of (labels, run) plus the maps back to their own ids."""

    data: SequenceData
    label_ids: np.ndarray  # (G,) original label id of contiguous gt id g
    run_ids: np.ndarray  # (T,) original run id of contiguous tracker id t


def sequence_pair(labels: TrackTable, run: TrackTable, *, num_frames: int) -> SequencePair:
    """Evaluation arrays of ``run`` against ``labels`` over frames [0, num_frames): ``stv eval``'s
    preprocessing of the two tables' MOT exports (MOT15 semantics: no class filtering)."""
    num_frames = int(num_frames)
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    data = build_sequence_data(labels.as_mot_gt(), run.as_mot_results(), num_timesteps=num_frames,
                               gt_semantics="mot15")
    return SequencePair(data=data, label_ids=np.unique(labels.ids), run_ids=np.unique(run.ids))


@dataclass(frozen=True)
class IdentityEvents:
    """Events in frame order; ids are the tables' own.

    ID switches: frame (E,), label_id (E,), previous_id (E,) (the run id the label was last matched to),
    new_id (E,) (the run id it is matched to from this frame on).
    Fragments: fragment_frame (G,), fragment_label_id (G,), fragment_id (G,), fragment_previous_id (G,): a
    label matched again after frames without a match (not its first match); fragment_id is the run id that
    picks it up, fragment_previous_id the one it was last matched to (equal when the same track resumes).
    """

    frame: np.ndarray
    label_id: np.ndarray
    previous_id: np.ndarray
    new_id: np.ndarray
    fragment_frame: np.ndarray
    fragment_label_id: np.ndarray
    fragment_id: np.ndarray
    fragment_previous_id: np.ndarray

    @property
    def num_switches(self) -> int:
        return int(self.frame.shape[0])

    @property
    def num_fragments(self) -> int:
        return int(self.fragment_frame.shape[0])

    def switch_rows(self) -> np.ndarray:
        """(E, 4) int64 [frame, label_id, previous_id, new_id]."""
        return np.column_stack([self.frame, self.label_id, self.previous_id, self.new_id]).astype(np.int64)


def identity_events(run: TrackTable, labels: TrackTable, *, num_frames: int, threshold: float = 0.5) -> IdentityEvents:
    """ID switches and fragmentations of ``run`` against ``labels`` (CLEAR's IDSW and Frag, event by event)."""
    pair = sequence_pair(labels, run, num_frames=num_frames)
    switch_parts: list[tuple[np.ndarray, ...]] = []
    frag_parts: list[tuple[np.ndarray, ...]] = []
    ever_matched = np.zeros(pair.data.num_gt_ids, bool)
    for match in clear_frame_matches(pair.data, threshold=threshold):
        if not len(match.rows):
            continue
        gt = match.gt_ids[match.rows]
        tr = match.tracker_ids[match.cols]
        k = match.switched
        if k.any():
            switch_parts.append((np.full(int(k.sum()), match.frame), gt[k],
                                 match.previous_tracker_id[k].astype(np.int64), tr[k]))
        frag = match.resumed & ever_matched[gt]
        if frag.any():
            frag_parts.append((np.full(int(frag.sum()), match.frame), gt[frag], tr[frag],
                               match.previous_tracker_id[frag].astype(np.int64)))
        ever_matched[gt] = True

    def column(parts, i, lookup=None):
        if not parts:
            return np.zeros(0, np.int64)
        values = np.concatenate([p[i] for p in parts]).astype(np.int64)
        return values if lookup is None else lookup[values].astype(np.int64)

    L, R = pair.label_ids, pair.run_ids
    return IdentityEvents(
        frame=column(switch_parts, 0), label_id=column(switch_parts, 1, L),
        previous_id=column(switch_parts, 2, R), new_id=column(switch_parts, 3, R),
        fragment_frame=column(frag_parts, 0), fragment_label_id=column(frag_parts, 1, L),
        fragment_id=column(frag_parts, 2, R), fragment_previous_id=column(frag_parts, 3, R))


def id_switches(run: TrackTable, labels: TrackTable, *, num_frames: int, threshold: float = 0.5) -> np.ndarray:
    """(E, 4) int64 ``[frame, label_id, previous_run_id, new_run_id]``: every ID switch CLEAR counts."""
    return identity_events(run, labels, num_frames=num_frames, threshold=threshold).switch_rows()
