"""The review queue: the places in a run most likely to be wrong, ranked, each with its reason and a fix.

Built from what the run itself knows (cache schema v2): per track row the association margin (how close the
tracker came to giving the detection to another track) and the re-ID embedding, plus the boxes, scores and
per-track action probabilities. No ground truth is used. Candidates, each scored in [0, 1]:

* ``switch``: likely ID switch inside a track: a small association margin, an embedding jump (the mean
  embedding of the rows before differs from the rows after) and a speed spike, combined; the fix swaps
  the two tracks' IDs from that frame when a neighbour track's embeddings say the two identities crossed;
  otherwise the item only says where to look (blind splits at a lone suspicion cost IDF1 on the tuning
  clips), unless a strong two-identity split lands on the same place.
* ``merge``: a track that ends and another that starts a little later where the first was heading, with
  similar embeddings: probably one object (a fragment); and two tracks taking turns on one object (one
  stops and the other starts on the same box, a "hand-over", often back and forth): each hand-over is an
  ID switch. The fix merges them.
* ``split``: a track whose embeddings form two groups in time (the best 2-segment split is far apart
  relative to the spread inside each segment): it holds two identities; the fix splits at the best frame.
* ``false_positive``: a short track with low detection scores; the fix deletes it.
* ``action_flicker``: a track whose top action keeps changing (no label edit fixes it; review only).

Items of the same track within ``SUPPRESS_FRAMES`` of a higher-scored item are dropped (one look per place).
Each item's proposal (None: look only) names one pure edit of :mod:`engine.labels.edits` and its keyword arguments;
``proposal.change(label_set)`` returns the undoable Change (the app pushes it on its undo stack). Features
that need embeddings are skipped, with ``ReviewQueue.notes`` saying why, for runs without them (cache
schema v1, models without a re-ID head).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Mapping

import numpy as np

KINDS = ("switch", "merge", "split", "false_positive", "action_flicker")


@dataclass(frozen=True)
class ReviewSettings:
    """The knobs of the queue (defaults tuned on synthetic benchmark seeds 11 and 13 with the demo model;
    ``stv review-eval`` figures are reported on seeds never used for training or tuning).

    margin_scale: margins below this count as ambiguous (score 1 - margin / margin_scale).
    context: rows on each side whose mean embedding is compared for a jump.
    jump_scale: a cosine distance of this size between the two sides scores 1.
    speed_spike: a displacement (in box sizes per frame) this many times the track's median scores 1.
    merge_gap: the most frames between the end of one track and the start of the next for a merge.
    merge_distance: the most distance (in box sizes) between the extrapolated and the found box.
    split_min_rows: rows each side of a split must have.
    fp_max_rows / fp_max_score: tracks at most this long with a mean score below are likely false positives.
    flicker_min_changes: top-action changes within a track before it is listed.
    min_score: items scoring less are not queued.
    split_confidence: a likely switch with no track to give its tail to proposes a split only from this
      score on (above 1: never; on the tuning clips such splits lowered IDF1 at every threshold).
    relink_tails: propose "split, then merge the tail into the track that ended there" for a likely
      switch (off: on tuning seed 13 it lowered IDF1; the hand-over check finds those places better).
    handoff_iou: the least IoU between the box a track leaves and the box another starts on (hand-over).
    split_transfer: a two-identity split this strong (before weighting) lends its proposal to a likely
      switch at the same place.
    """

    margin_scale: float = 0.25
    context: int = 4
    jump_scale: float = 0.25
    jump_noise: float = 2.0
    speed_spike: float = 6.0
    merge_gap: int = 45
    merge_distance: float = 3.0
    split_min_rows: int = 5
    fp_max_rows: int = 10
    fp_max_score: float = 0.6
    flicker_min_changes: int = 3
    min_score: float = 0.02
    split_confidence: float = 1.01
    relink_tails: bool = False
    handoff_iou: float = 0.3
    split_transfer: float = 0.7
    weights: Mapping[str, float] = field(default_factory=lambda: {
        "switch": 1.0, "merge": 1.2, "split": 0.3, "false_positive": 0.6, "action_flicker": 0.3})


SUPPRESS_FRAMES = 6


@dataclass(frozen=True)
class Proposal:
    """One edit of :mod:`engine.labels.edits` (``edit``: its function name, ``arguments``: its keywords),
    optionally followed by more (``then``: (edit, arguments) pairs, each computed on the state the previous
    leaves), e.g. split a track at a switch and merge the split-off part into the track it belongs to."""

    edit: str
    arguments: Mapping[str, Any]
    then: tuple[tuple[str, Mapping[str, Any]], ...] = ()

    def change(self, label_set):
        """The undoable ``engine.labels.edits.Change`` of this proposal on ``label_set`` (ValueError when it
        no longer applies, e.g. a track was merged away by an earlier edit). ``label_set`` is left as it was."""
        from engine.labels import edits

        steps = ((self.edit, self.arguments),) + tuple(self.then)
        for edit, _ in steps:
            if edit not in edits.__all__ or edit == "combine":
                raise ValueError(f"unknown label edit {edit!r}")
        if len(steps) == 1:
            return getattr(edits, self.edit)(label_set, **dict(self.arguments))
        done = []
        try:
            for edit, arguments in steps:
                change = getattr(edits, edit)(label_set, **dict(arguments))
                change.apply(label_set)
                done.append(change)
        finally:
            for change in reversed(done):
                change.revert(label_set)
        return edits.combine(" then ".join(c.description for c in done), done)

    def describe(self) -> str:
        steps = ((self.edit, self.arguments),) + tuple(self.then)
        return " then ".join(f"{e}({', '.join(f'{k}={v}' for k, v in a.items())})" for e, a in steps)


@dataclass(frozen=True)
class ReviewItem:
    """One place to look at: ``frame``, the ``track_ids`` involved, why (``reason``), how suspicious
    (``score``, higher first) and the fix (``proposal``, None when no label edit applies)."""

    kind: str
    frame: int
    track_ids: tuple[int, ...]
    reason: str
    score: float
    proposal: Proposal | None


@dataclass(frozen=True)
class ReviewQueue:
    """Items best first; ``notes`` say which checks could not run and why."""

    items: tuple[ReviewItem, ...]
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.items)

    def top(self, n: int) -> tuple[ReviewItem, ...]:
        return self.items[:n]

    def frames(self) -> np.ndarray:
        """(M,) int64 sorted frames of the items (for timeline marks and next/previous)."""
        return np.sort(np.array([it.frame for it in self.items], np.int64))


# --------------------------------------------------------------------------- per-track arrays


@dataclass
class _Track:
    track_id: int
    frames: np.ndarray  # (n,) sorted
    boxes: np.ndarray  # (n, 4)
    scores: np.ndarray  # (n,)
    margins: np.ndarray  # (n,) NaN: unknown
    embeddings: np.ndarray | None  # (n, E) unit rows, NaN rows: none
    actions: np.ndarray | None  # (n, K)

    @cached_property
    def centers(self) -> np.ndarray:
        return (self.boxes[:, :2] + self.boxes[:, 2:]) / 2

    @cached_property
    def sizes(self) -> np.ndarray:
        wh = np.maximum(self.boxes[:, 2:] - self.boxes[:, :2], 1e-6)
        return np.sqrt(wh[:, 0] * wh[:, 1])


def _check(name: str, array, n: int, ndim: int) -> np.ndarray | None:
    if array is None:
        return None
    a = np.asarray(array, dtype=np.float64)
    if a.ndim != ndim or a.shape[0] != n:
        raise ValueError(f"{name} must have {n} rows ({'(N,)' if ndim == 1 else '(N, D)'}), got shape {a.shape}")
    return a


def _tracks(rows, margins, embeddings, actions) -> list[_Track]:
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != 7:
        raise ValueError(f"rows must be (N, 7) [frame, id, x1, y1, x2, y2, score], got {rows.shape}")
    if not np.isfinite(rows).all():
        raise ValueError("rows must be finite")
    n = len(rows)
    margins = _check("margins", margins, n, 1)
    embeddings = _check("embeddings", embeddings, n, 2)
    actions = _check("track_action_probs", actions, n, 2)
    if embeddings is not None:
        norm = np.linalg.norm(embeddings, axis=1, keepdims=True)
        embeddings = np.where(norm > 1e-6, embeddings / np.maximum(norm, 1e-6), np.nan)  # zero/NaN rows: none
    order = np.lexsort((rows[:, 0], rows[:, 1]))
    ids = rows[order, 1].astype(np.int64)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if n else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], n]
    out = []
    for a, b in zip(starts.tolist(), ends.tolist()):
        idx = order[a:b]
        out.append(_Track(
            track_id=int(ids[a]), frames=rows[idx, 0].astype(np.int64), boxes=rows[idx, 2:6], scores=rows[idx, 6],
            margins=margins[idx] if margins is not None else np.full(b - a, np.nan),
            embeddings=embeddings[idx] if embeddings is not None else None,
            actions=actions[idx] if actions is not None else None))
    return out


def _mean_unit(e: np.ndarray) -> np.ndarray | None:
    e = e[np.isfinite(e).all(axis=1)]
    if len(e) == 0:
        return None
    m = e.mean(axis=0)
    norm = np.linalg.norm(m)
    return m / norm if norm > 1e-9 else None


def _cos_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    if a is None or b is None:
        return np.nan
    return float(1.0 - np.clip(a @ b, -1.0, 1.0))


def _embedding_jumps(t: _Track, context: int) -> np.ndarray:
    """(n,) cosine distance between the mean embedding of the ``context`` rows before row i and of the
    ``context`` rows from i on (NaN where a side has no embedding). Vectorised with running sums."""
    n = len(t.frames)
    if t.embeddings is None or n < 2:
        return np.full(n, np.nan)
    valid = np.isfinite(t.embeddings).all(axis=1)
    sums = np.vstack([np.zeros(t.embeddings.shape[1]), np.cumsum(np.where(valid[:, None], t.embeddings, 0.0), 0)])
    counts = np.r_[0, np.cumsum(valid)]
    i = np.arange(n)
    lo, hi = np.maximum(0, i - context), np.minimum(n, i + context)
    before, after = sums[i] - sums[lo], sums[hi] - sums[i]
    nb, na = np.linalg.norm(before, axis=1), np.linalg.norm(after, axis=1)
    ok = (counts[i] - counts[lo] > 0) & (counts[hi] - counts[i] > 0) & (nb > 1e-9) & (na > 1e-9)
    cos = np.einsum("ij,ij->i", before, after) / np.maximum(nb * na, 1e-12)
    return np.where(ok, 1.0 - np.clip(cos, -1.0, 1.0), np.nan)


def _speed_spikes(t: _Track, spike: float) -> np.ndarray:
    """(n,) in [0, 1]: row i's displacement per frame (in box sizes) relative to the track's median."""
    n = len(t.frames)
    out = np.zeros(n)
    if n < 3:
        return out
    step = np.linalg.norm(np.diff(t.centers, axis=0), axis=1) / np.diff(t.frames) / t.sizes[1:]
    median = max(float(np.median(step)), 0.02)
    # relative to the track's own pace, and at least a quarter box per frame (jitter of a still box is not a spike)
    out[1:] = np.clip((step / median - 1.0) / (spike - 1.0), 0.0, 1.0) * (step >= 0.25)
    return out


# --------------------------------------------------------------------------- candidates


def _switch_items(tracks: list[_Track], s: ReviewSettings, by_frame: dict[int, list[tuple[_Track, int]]]) -> list[ReviewItem]:
    items = []
    by_end = sorted(tracks, key=lambda u: int(u.frames[-1]))
    end_frames = np.array([int(u.frames[-1]) for u in by_end], np.int64)
    for t in tracks:
        n = len(t.frames)
        if n < 2:
            continue
        margin = np.where(np.isfinite(t.margins), np.clip(1.0 - t.margins / s.margin_scale, 0.0, 1.0), 0.0)
        jumps = _embedding_jumps(t, s.context)
        # appearance drifts with pose: a jump counts relative to the track's own typical change
        typical = float(np.nanmedian(jumps)) if np.isfinite(jumps).any() else 0.0
        excess = (jumps - s.jump_noise * typical) / s.jump_scale
        jump = np.where(np.isfinite(jumps), np.clip(excess, 0.0, 1.0), 0.0)
        speed = _speed_spikes(t, s.speed_spike)
        has_emb = np.isfinite(jumps).any()
        # a near-tie alone is common when people walk close; it counts fully with an appearance change
        score = (0.55 * margin + 0.35 * jump + 0.1 * speed) if has_emb else (0.8 * margin + 0.2 * speed)
        score = np.maximum(score, np.sqrt(margin * np.maximum(jump, speed)))  # two signals at once: almost surely
        score = score + 1e-3 * np.nan_to_num(jumps)  # ties (saturated scores): the sharpest appearance change
        score[0] = 0.0
        for i in _peaks(score, t.frames, s.min_score):
            frame = int(t.frames[i])
            parts = []
            if margin[i] > 0:
                parts.append(f"association margin {t.margins[i]:.2f}")
            if jump[i] > 0:
                parts.append(f"embedding jump {jumps[i]:.2f}")
            if speed[i] > 0:
                parts.append("speed spike")
            partner = _swap_partner(t, i, by_frame.get(frame, []), s)
            if partner is not None:
                proposal = Proposal("swap_ids", {"id_a": t.track_id, "id_b": partner, "frame": frame})
                reason = f"likely ID switch of #{t.track_id} with #{partner} ({', '.join(parts)})"
                ids = (t.track_id, partner)
            elif i < n - 1:
                frame_lo, frame_hi = np.searchsorted(end_frames, [frame - s.merge_gap, frame])
                owner = _tail_owner(t, i, by_end[frame_lo:frame_hi], s) if s.relink_tails else None
                ids = (t.track_id,) if owner is None else (t.track_id, owner)
                reason = f"likely ID switch in #{t.track_id} ({', '.join(parts) or 'weak evidence'})"
                if owner is None:
                    # measured on held-out clips: blindly splitting at a lone suspicion costs more IDF1 than
                    # it wins, so the item only says where to look (split is one key away in the editor)
                    proposal = Proposal("split_track", {"track_id": t.track_id, "frame": frame}) \
                        if score[i] >= s.split_confidence else None
                else:
                    # split off the tail under a transient ID, then merge it into the track it belongs to
                    proposal = Proposal("split_track", {"track_id": t.track_id, "frame": frame, "new_id": _SPLIT_ID},
                                        then=(("merge_tracks", {"keep_id": owner, "other_id": _SPLIT_ID}),))
                    reason += f"; from frame {frame} on it looks like #{owner}, which ended just before"
            else:
                continue
            items.append(ReviewItem("switch", frame, ids, reason, float(score[i]), proposal))
    return items


_SPLIT_ID = 2**31 - 2  # transient ID of a relinked split-off part: the merge that follows removes it at once


def _tail_owner(t: _Track, i: int, tracks: list[_Track], s: ReviewSettings) -> int | None:
    """Of ``tracks`` (those that ended within merge_gap frames before row i's frame), the one that ended
    near where t is from row i on, and whose appearance matches
    t's rows from i better than t's own rows before i: the identity t's tail belongs to."""
    frame = int(t.frames[i])
    after_t = _mean_unit(t.embeddings[i:i + s.context]) if t.embeddings is not None else None
    before_t = _mean_unit(t.embeddings[max(0, i - s.context):i]) if t.embeddings is not None else None
    best, best_value = None, np.inf
    for u in tracks:
        end = int(u.frames[-1])
        if u is t or end >= frame or frame - end > s.merge_gap:
            continue
        distance = np.linalg.norm(u.centers[-1] - t.centers[i]) / max(u.sizes[-1], t.sizes[i])
        if distance > s.merge_distance:
            continue
        appearance = _cos_distance(_mean_unit(u.embeddings[-s.context:]) if u.embeddings is not None else None, after_t)
        if np.isfinite(appearance):
            if appearance >= _cos_distance(before_t, after_t):
                continue  # the tail looks more like t's own head than like u
            value = appearance + 0.1 * distance
        else:
            value = distance
        if value < best_value:
            best, best_value = u.track_id, value
    return best


def _peaks(score: np.ndarray, frames: np.ndarray, min_score: float) -> list[int]:
    """Rows that are the maximum of ``score`` within SUPPRESS_FRAMES frames and reach ``min_score``."""
    out = []
    first = int(frames[0]) if len(frames) else 0
    blocked = np.zeros(int(frames[-1]) - first + 1 if len(frames) else 0, bool)
    for i in np.argsort(-score, kind="stable").tolist():
        if score[i] < min_score:
            break
        f = int(frames[i]) - first
        if not blocked[f]:
            out.append(i)
            blocked[max(0, f - SUPPRESS_FRAMES):f + SUPPRESS_FRAMES + 1] = True
    return out


def _swap_partner(t: _Track, i: int, same_frame: list[tuple[_Track, int]], s: ReviewSettings) -> int | None:
    """Another track in the same frame, close by, whose identities crossed with ``t``'s at row i: t's
    embedding after matches the other's before, and the other's after matches t's before."""
    if t.embeddings is None or i < 1:
        return None
    before_t = _mean_unit(t.embeddings[max(0, i - s.context):i])
    after_t = _mean_unit(t.embeddings[i:i + s.context])
    best, best_gain = None, 0.0
    for other, j in same_frame:
        if other is t or j < 1 or other.embeddings is None:
            continue
        dist = np.linalg.norm(t.centers[i] - other.centers[j]) / max(t.sizes[i], other.sizes[j])
        if dist > 1.5:
            continue
        before_o = _mean_unit(other.embeddings[max(0, j - s.context):j])
        after_o = _mean_unit(other.embeddings[j:j + s.context])
        kept = _cos_distance(before_t, after_t) + _cos_distance(before_o, after_o)
        crossed = _cos_distance(before_t, after_o) + _cos_distance(before_o, after_t)
        gain = kept - crossed
        if np.isfinite(gain) and gain > best_gain:
            best, best_gain = other.track_id, gain
    return best


def _merge_items(tracks: list[_Track], s: ReviewSettings, num_frames: int) -> list[ReviewItem]:
    items = []
    ends = [t for t in tracks if t.frames[-1] < num_frames - 1]
    starts = [t for t in tracks if t.frames[0] > 0]
    for a in ends:
        end = int(a.frames[-1])
        k = min(len(a.frames), 5)
        velocity = (a.centers[-1] - a.centers[-k]) / max(1, a.frames[-1] - a.frames[-k]) if k > 1 else np.zeros(2)
        emb_a = _mean_unit(a.embeddings[-s.context:]) if a.embeddings is not None else None
        for b in starts:
            start = int(b.frames[0])
            gap = start - end
            if b is a or gap < 1 or gap > s.merge_gap:
                continue
            predicted = a.centers[-1] + velocity * gap
            size = max(a.sizes[-1], b.sizes[0])
            distance = np.linalg.norm(predicted - b.centers[0]) / size
            if distance > s.merge_distance:
                continue
            motion = 1.0 - distance / s.merge_distance
            appearance = np.nan
            if emb_a is not None and b.embeddings is not None:
                appearance = 1.0 - np.clip(_cos_distance(emb_a, _mean_unit(b.embeddings[:s.context])) / s.jump_scale,
                                           0.0, 1.0)
            recency = 1.0 - (gap - 1) / s.merge_gap
            score = (0.35 * motion + 0.45 * appearance + 0.2 * recency) if np.isfinite(appearance) else \
                0.6 * motion + 0.4 * recency
            size_ratio = a.sizes[-1] / b.sizes[0]
            if not 0.5 < size_ratio < 2.0:
                score *= 0.5
            if np.isfinite(appearance) and appearance <= 0.0:
                score *= 0.5  # looks like someone else: motion alone does not make it one object
            reason = (f"#{b.track_id} starts {gap} frame(s) after #{a.track_id} ends, "
                      f"{distance:.1f} box sizes from where #{a.track_id} was heading"
                      + (f", embedding distance {_cos_distance(emb_a, _mean_unit(b.embeddings[:s.context])):.2f}"
                         if np.isfinite(appearance) else ""))
            items.append(ReviewItem("merge", start, (a.track_id, b.track_id), reason, float(score),
                                    Proposal("merge_tracks", {"keep_id": a.track_id, "other_id": b.track_id})))
    return items


def _handoff_items(tracks: list[_Track], s: ReviewSettings,
                   by_frame: dict[int, list[tuple[_Track, int]]]) -> list[ReviewItem]:
    """Two tracks taking turns on one object: where one stops (for a frame or for good) the other starts on
    the same box. Each hand-over is an ID switch; merging the two makes them one identity."""
    from engine.tracking.matching import iou_matrix

    items = []
    for b in tracks:
        present = set(b.frames.tolist())
        for j, f in enumerate(b.frames.tolist()):
            if f - 1 in present:
                continue  # not the start of a run of b
            for a, i in by_frame.get(f - 1, []):
                if a is b or f in set(a.frames[i:i + 2].tolist()):
                    continue  # a goes on at f itself: two objects side by side, not a hand-over
                iou = float(iou_matrix(a.boxes[i:i + 1], b.boxes[j:j + 1])[0, 0])
                if iou < s.handoff_iou:
                    continue
                score = 0.4 + 0.6 * iou
                appearance = np.nan
                if a.embeddings is not None and b.embeddings is not None:
                    appearance = _cos_distance(_mean_unit(a.embeddings[max(0, i - s.context + 1):i + 1]),
                                               _mean_unit(b.embeddings[j:j + s.context]))
                    if np.isfinite(appearance) and appearance > s.jump_scale:
                        score *= 0.5  # a different-looking object took over the box
                keep, other = (a, b) if len(a.frames) >= len(b.frames) else (b, a)
                again = f <= int(a.frames[-1])
                reason = (f"#{b.track_id} takes over #{a.track_id}'s box at frame {f} (IoU {iou:.2f}"
                          + (f", embedding distance {appearance:.2f}" if np.isfinite(appearance) else "")
                          + (f"; #{a.track_id} comes back later: the two take turns on one object" if again else "")
                          + ")")
                items.append(ReviewItem("merge", f, (a.track_id, b.track_id), reason, float(score),
                                        Proposal("merge_tracks", {"keep_id": keep.track_id, "other_id": other.track_id})))
    return items


def _split_items(tracks: list[_Track], s: ReviewSettings) -> list[ReviewItem]:
    items = []
    m = s.split_min_rows
    for t in tracks:
        if t.embeddings is None or len(t.frames) < 2 * m:
            continue
        e = t.embeddings
        valid = np.isfinite(e).all(axis=1)
        if valid.sum() < 2 * m:
            continue
        ev, fv = e[valid], t.frames[valid]
        csum = np.cumsum(ev, axis=0)
        i = np.arange(m, len(ev) - m + 1)
        left = csum[i - 1] / i[:, None]
        right = (csum[-1] - csum[i - 1]) / (len(ev) - i)[:, None]
        nl, nr = np.linalg.norm(left, axis=1), np.linalg.norm(right, axis=1)
        # spread inside each side: 1 - |mean of unit rows| (0 when all rows agree)
        spread = (1 - nl) + (1 - nr)
        between = 1 - np.einsum("ij,ij->i", left, right) / np.maximum(nl * nr, 1e-9)
        values = between - 0.5 * spread
        k = int(np.argmax(values))
        best, best_i = float(values[k]), int(i[k])
        jumps = _embedding_jumps(t, s.context)
        typical = float(np.nanmedian(jumps)) if np.isfinite(jumps).any() else 0.0
        score = float(np.clip((best - s.jump_noise * typical) / s.jump_scale, 0.0, 1.0))
        if score < s.min_score:
            continue
        frame = int(fv[best_i])
        items.append(ReviewItem("split", frame, (t.track_id,),
                                f"#{t.track_id} looks like two identities: its embeddings before and after frame "
                                f"{frame} differ by {best:.2f}", score,
                                Proposal("split_track", {"track_id": t.track_id, "frame": frame})))
    return items


def _false_positive_items(tracks: list[_Track], s: ReviewSettings) -> list[ReviewItem]:
    items = []
    for t in tracks:
        n = len(t.frames)
        mean_score = float(np.mean(t.scores))
        if n > s.fp_max_rows or mean_score >= s.fp_max_score:
            continue
        score = (1.0 - (n - 1) / s.fp_max_rows) * (1.0 - mean_score / s.fp_max_score) ** 0.5
        items.append(ReviewItem("false_positive", int(t.frames[0]), (t.track_id,),
                                f"#{t.track_id} lives {n} frame(s) with mean score {mean_score:.2f}: likely a false "
                                f"positive", float(score), Proposal("delete_track", {"track_id": t.track_id})))
    return items


def _flicker_items(tracks: list[_Track], s: ReviewSettings) -> list[ReviewItem]:
    items = []
    for t in tracks:
        if t.actions is None:
            continue
        ok = np.isfinite(t.actions).all(axis=1)
        if ok.sum() < 3:
            continue
        top = np.argmax(t.actions[ok], axis=1)
        changes = np.flatnonzero(top[1:] != top[:-1])
        if len(changes) < s.flicker_min_changes:
            continue
        score = float(min(1.0, len(changes) / (ok.sum() / 2)))
        frame = int(t.frames[ok][changes[0] + 1])
        items.append(ReviewItem("action_flicker", frame, (t.track_id,),
                                f"#{t.track_id}'s top action changes {len(changes)} times in {int(ok.sum())} frames",
                                score, None))
    return items


# --------------------------------------------------------------------------- the queue


def review_queue(rows: np.ndarray, *, num_frames: int, margins: np.ndarray | None = None,
                 embeddings: np.ndarray | None = None, track_action_probs: np.ndarray | None = None,
                 settings: ReviewSettings | None = None) -> ReviewQueue:
    """The ranked queue of a run.

    rows (N, 7) [frame, id, x1, y1, x2, y2, score] (``RunReader.track_rows()``); margins (N,) float and
    embeddings (N, E) float aligned with rows (``track_margin_rows()``, ``track_embedding_rows()``; None
    for a run without them); track_action_probs (N, K) (``track_action_probs_rows()``) or None.
    """
    s = settings or ReviewSettings()
    num_frames = int(num_frames)
    tracks = _tracks(rows, margins, embeddings, track_action_probs)
    notes = []
    if margins is None:
        notes.append("no association margins (a schema-v1 run): switches are found from motion and appearance only")
    if embeddings is None:
        notes.append("no re-ID embeddings (a schema-v1 run or a model without a re-ID head): no embedding jumps, "
                     "no two-identity splits, merges from motion only")
    by_frame: dict[int, list[tuple[_Track, int]]] = {}
    for t in tracks:
        for j, f in enumerate(t.frames.tolist()):
            by_frame.setdefault(f, []).append((t, j))
    candidates = (_switch_items(tracks, s, by_frame) + _merge_items(tracks, s, num_frames)
                  + _handoff_items(tracks, s, by_frame) + _split_items(tracks, s)
                  + _false_positive_items(tracks, s) + _flicker_items(tracks, s))
    weighted = [ReviewItem(it.kind, it.frame, it.track_ids, it.reason, it.score * s.weights.get(it.kind, 1.0),
                           it.proposal) for it in candidates]
    weighted = [it for it in weighted if it.score >= s.min_score]
    weighted.sort(key=lambda it: (-it.score, it.frame, it.track_ids))
    kept: list[ReviewItem] = []
    kept_by_track: dict[int, list[int]] = {}
    for it in weighted:  # one look per place: the same tracks near the same frame are one item
        same = [n for tid in it.track_ids for n in kept_by_track.get(tid, ())
                if abs(it.frame - kept[n].frame) <= SUPPRESS_FRAMES
                and (it.kind == kept[n].kind or {it.kind, kept[n].kind} <= {"switch", "split"})]
        if same:
            n = same[0]
            if (kept[n].proposal is None and it.proposal is not None and it.kind == "split"
                    and it.score >= s.split_transfer * s.weights.get("split", 1.0)):
                # a likely switch where the track's appearance also splits in two: offer that split
                kept[n] = replace(kept[n], proposal=it.proposal, reason=f"{kept[n].reason}; {it.reason}")
            continue
        kept.append(it)
        for tid in it.track_ids:
            kept_by_track.setdefault(tid, []).append(len(kept) - 1)
    return ReviewQueue(items=tuple(kept), notes=tuple(notes))


def review_run(reader, *, settings: ReviewSettings | None = None) -> ReviewQueue:
    """The queue of a cached run (an ``engine.cache.RunReader``), with its v2 identity data when present."""
    rows = reader.track_rows()
    queue = review_queue(rows, num_frames=reader.num_frames, margins=reader.track_margin_rows(),
                         embeddings=reader.track_embedding_rows(), track_action_probs=reader.track_action_probs_rows(),
                         settings=settings)
    reason = reader.identity_missing_reason
    if reason and not any(reason in n for n in queue.notes):
        queue = ReviewQueue(items=queue.items, notes=queue.notes + (reason,))
    return queue


def apply_proposals(label_set, items, *, limit: int | None = None) -> tuple[int, int]:
    """Accept the proposals of ``items`` (best first, up to ``limit``) into ``label_set`` in place, as a
    person pressing Enter on each would; a proposal that no longer applies (its track was merged away by
    an earlier one) is skipped. Returns (applied, skipped)."""
    applied = skipped = 0
    for it in list(items)[:limit]:
        if it.proposal is None:
            continue
        try:
            it.proposal.change(label_set).apply(label_set)
            applied += 1
        except ValueError:
            skipped += 1
    return applied, skipped
