"""ByteTrack-style online multi-object tracker (numpy + scipy, no torch).

Per frame (:meth:`ByteTracker.update`):

1. Predict every track with a constant-velocity Kalman filter (one vectorised call). Lost tracks
   have their size velocity zeroed first, so long coasting does not inflate boxes (as ByteTrack).
2. First association: detections with ``score >= high_threshold`` against confirmed tracks, then
   the detections left against lost tracks (recently seen tracks first, as DeepSORT's cascade),
   cost ``1 - IoU`` (fused with the re-ID cosine distance when both detections and tracks carry
   embeddings, see ``appearance_weight``); pairs with cost > ``match_threshold`` never match.
   Between the two, the confirmed tracks left take the high detections left by IoU alone, cost <=
   ``match_threshold`` (FairMOT's second, IoU-only stage): the appearance gate stops a lost track's
   re-identification with a stranger, but must not cut a live track whose box still overlaps.
3. Second association: the remaining confirmed (not lost) tracks against the low-score detections
   (``low_threshold <= score < high_threshold``), IoU only, cost <= ``low_match_threshold``.
   This is ByteTrack's key idea: occluded people produce low scores but still continue their track.
4. Tentative tracks against the high-score detections still free (cost <= ``tentative_match_threshold``);
   tentative tracks unmatched for more than ``max_tentative_misses`` frames are removed.
5. Unmatched high-score detections with ``score >= new_track_threshold`` start tentative tracks;
   a track is confirmed after ``confirm_hits`` matched frames (tracks born in the
   tracker's very first frame are confirmed at once, as ByteTrack does).
6. Confirmed tracks that found no detection become lost; lost tracks not re-found within
   ``max_lost_frames`` frames are removed (dropped from the arrays: memory stays flat).

Track states: tentative -> confirmed <-> lost -> removed. IDs count from 1 per tracker instance.

What the tracker knew about each output row (for the review queue, stored in the cache from schema v2):
after ``update``, ``last_margins`` (M,) holds each row's association margin
(:func:`engine.tracking.matching.assignment_margins` in the stage that matched it; NaN for a track born
this frame or a coasting row) and ``last_embeddings`` (M, D) the row's re-ID embedding (the matched
detection's; a coasting row's running track embedding), or None without embeddings.
All track data live in a few stacked arrays (no per-track Python objects in the hot path).
"""
from __future__ import annotations

import numpy as np

from engine.tracking.kalman import BoxKalmanFilter, cxcywh_to_xyxy, xyxy_to_cxcywh
from engine.tracking.matching import assign, assignment_margins, cosine_distance, iou_matrix

TENTATIVE, CONFIRMED, LOST = 0, 1, 2  # _apply_matches relies on TENTATIVE == 0 and CONFIRMED == 1
STATE_NAMES = {TENTATIVE: "tentative", CONFIRMED: "confirmed", LOST: "lost"}
OUTPUT_COLUMNS = ("x1", "y1", "x2", "y2", "score", "track_id", "det_index")


class ByteTracker:
    """Online tracker over per-frame detections.

    Keyword arguments (defaults are ByteTrack's published ones unless noted):
      high_threshold (0.6): detections at or above enter the first association and may start tracks.
      low_threshold (0.1): detections below are ignored; between low and high: second association only.
      new_track_threshold (0.7): minimum score to start a new track (ByteTrack: high + 0.1).
      match_threshold (0.7): max cost (1 - IoU, or the fused cost) in the first association, i.e.
        IoU >= 0.3 as in SORT / DeepSORT / OC-SORT (ByteTrack uses 0.8; on TUD-Stadtmitte 0.8 lets a
        drifting prediction take a neighbour's box: MOTA 0.736 vs 0.769, and 0.723 vs 0.746 with 10%
        of the detections randomly dropped).
      low_match_threshold (0.5): max cost (1 - IoU) in the second association.
      tentative_match_threshold (0.7): max cost for tentative tracks.
      confirm_hits (2): matched frames before a tentative track is confirmed (and output).
      max_tentative_misses (1): frames a tentative track may go unmatched before it is removed
        (ByteTrack: 0; 1 lets flickering detections of a half-occluded person still form a track).
      max_lost_frames (30): frames a lost track is kept for re-identification before removal.
      appearance_weight (0.5): with embeddings, cost = (1 - w) * (1 - IoU) + w * cosine distance / 2 ...
      appearance_threshold (0.25): ... and pairs whose cosine distance exceeds this never match.
      embedding_momentum (0.9): track embedding = m * old + (1 - m) * matched detection's (re-normalised).
      fuse_score (False): multiply IoU by the detection score in the first association (ByteTrack's MOT17 option).
      output_lost_frames (0): also output lost tracks for up to this many frames after their last
        match, at their Kalman-predicted box with det_index -1 ("coasting"); 0 outputs only matched tracks.
      output_tentative (False): also output tentative tracks matched in this frame (offline users
        keep them retroactively once the track is confirmed, see engine.tracking.run).
      position_std (1/20), velocity_std (1/160): Kalman noise relative to box size.
    """

    def __init__(
        self,
        *,
        high_threshold: float = 0.6,
        low_threshold: float = 0.1,
        new_track_threshold: float = 0.7,
        match_threshold: float = 0.7,
        low_match_threshold: float = 0.5,
        tentative_match_threshold: float = 0.7,
        confirm_hits: int = 2,
        max_tentative_misses: int = 1,
        max_lost_frames: int = 30,
        appearance_weight: float = 0.5,
        appearance_threshold: float = 0.25,
        embedding_momentum: float = 0.9,
        fuse_score: bool = False,
        output_lost_frames: int = 0,
        output_tentative: bool = False,
        position_std: float = 1.0 / 20,
        velocity_std: float = 1.0 / 160,
    ):
        if not 0.0 <= low_threshold <= high_threshold:
            raise ValueError(f"need 0 <= low_threshold <= high_threshold, got {low_threshold}, {high_threshold}")
        if new_track_threshold < high_threshold:
            raise ValueError("new_track_threshold must be >= high_threshold (only high detections start tracks)")
        for name, value in (("match_threshold", match_threshold), ("low_match_threshold", low_match_threshold),
                            ("tentative_match_threshold", tentative_match_threshold),
                            ("appearance_weight", appearance_weight), ("embedding_momentum", embedding_momentum)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if confirm_hits < 1 or max_lost_frames < 0 or output_lost_frames < 0:
            raise ValueError("confirm_hits must be >= 1, max_lost_frames and output_lost_frames >= 0")
        if appearance_threshold < 0:
            raise ValueError("appearance_threshold must be >= 0")
        self.high_threshold = float(high_threshold)
        self.low_threshold = float(low_threshold)
        self.new_track_threshold = float(new_track_threshold)
        self.match_threshold = float(match_threshold)
        self.low_match_threshold = float(low_match_threshold)
        self.tentative_match_threshold = float(tentative_match_threshold)
        self.confirm_hits = int(confirm_hits)
        self.max_tentative_misses = int(max_tentative_misses)
        self.max_lost_frames = int(max_lost_frames)
        self.appearance_weight = float(appearance_weight)
        self.appearance_threshold = float(appearance_threshold)
        self.embedding_momentum = float(embedding_momentum)
        self.fuse_score = bool(fuse_score)
        self.output_lost_frames = int(output_lost_frames)
        self.output_tentative = bool(output_tentative)
        self.kalman = BoxKalmanFilter(position_std=position_std, velocity_std=velocity_std)
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget every track; IDs start again from 1."""
        self.frame_count = 0
        self._next_id = 1
        self._mean = np.zeros((0, 8))
        self._cov = np.zeros((0, 3, 4))  # Kalman covariance 2x2 blocks, see kalman.py
        self._ids = np.zeros(0, np.int64)
        self._state = np.zeros(0, np.int8)
        self._hits = np.zeros(0, np.int64)
        self._last_seen = np.zeros(0, np.int64)
        self._score = np.zeros(0)
        self._det_index = np.zeros(0, np.int64)  # detection row matched in the current frame, else -1
        self._embedding: np.ndarray | None = None  # (K, D) once a frame brought embeddings
        self._margin = np.zeros(0)  # (K,) association margin of this frame's match (NaN: none); per frame
        self.last_margins = np.zeros(0, np.float32)  # (M,) for the rows ``update`` last returned
        self.last_embeddings: np.ndarray | None = None  # (M, D) float32 for those rows, or None

    def __len__(self) -> int:
        """Number of live (tentative, confirmed or lost) tracks."""
        return self._ids.shape[0]

    def track_states(self) -> dict[int, str]:
        """{track_id: "tentative" | "confirmed" | "lost"} for every live track (for inspection/tests)."""
        return {int(i): STATE_NAMES[int(s)] for i, s in zip(self._ids, self._state)}

    _SNAPSHOT_ARRAYS = ("_mean", "_cov", "_ids", "_state", "_hits", "_last_seen", "_score", "_det_index")

    def snapshot(self) -> dict[str, np.ndarray]:
        """Everything ``update`` depends on (tracks, Kalman states, ID counter), as plain arrays, so a
        resumed run continues exactly where a killed one stopped (see engine.pipeline.resume)."""
        out = {name.lstrip("_"): np.array(getattr(self, name)) for name in self._SNAPSHOT_ARRAYS}
        out["counters"] = np.array([self.frame_count, self._next_id], np.int64)
        if self._embedding is not None:
            out["embedding"] = np.array(self._embedding)
        return out

    def restore(self, snapshot: dict[str, np.ndarray]) -> None:
        """Inverse of ``snapshot`` (ValueError when the arrays do not describe one set of tracks)."""
        try:
            arrays = {name: np.asarray(snapshot[name.lstrip("_")]) for name in self._SNAPSHOT_ARRAYS}
            frame_count, next_id = (int(v) for v in np.asarray(snapshot["counters"]).reshape(2))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a tracker snapshot ({exc})") from None
        n = arrays["_ids"].shape[0]
        embedding = snapshot.get("embedding")
        if (arrays["_mean"].shape != (n, 8) or arrays["_cov"].shape != (n, 3, 4)
                or any(a.shape != (n,) for k, a in arrays.items() if k not in ("_mean", "_cov"))
                or (embedding is not None and (np.ndim(embedding) != 2 or len(embedding) != n))
                or frame_count < 0 or next_id < 1):
            raise ValueError("tracker snapshot arrays disagree about the number of tracks")
        self.reset()
        for name, value in arrays.items():
            setattr(self, name, value.astype(getattr(self, name).dtype, copy=True))
        self.frame_count, self._next_id = frame_count, next_id
        self._embedding = None if embedding is None else np.array(embedding, np.float64)

    # ------------------------------------------------------------------ update

    def update(self, detections: np.ndarray, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Advance one frame.

        detections: (N, 5) float [x1, y1, x2, y2, score] (N may be 0); embeddings: optional (N, D).
        Returns (M, 7) float64 [x1, y1, x2, y2, score, track_id, det_index] for confirmed tracks
        matched in this frame (det_index = row of ``detections`` they matched), plus, with
        ``output_lost_frames``, coasting lost tracks with det_index -1. Rows sorted by track_id.
        """
        dets, embeddings = self._check_inputs(detections, embeddings)
        self.frame_count += 1
        n_tracks = self._ids.shape[0]
        self._det_index[:] = -1
        self._margin = np.full(n_tracks, np.nan)
        if n_tracks:
            lost = self._state == LOST
            if lost.any():
                self._mean[lost, 6:8] = 0.0
            self._mean, self._cov = self.kalman.predict(self._mean, self._cov)

        scores = dets[:, 4]
        high = (scores >= self.high_threshold).nonzero()[0]
        low = ((scores >= self.low_threshold) & (scores < self.high_threshold)).nonzero()[0]
        matched_track = np.zeros(0, np.intp)  # track rows
        matched_det = np.zeros(0, np.intp)  # detection rows
        free_high = high
        tentative_free = np.zeros(0, np.intp)

        if n_tracks:
            # one IoU matrix (all tracks x all detections) serves every association stage
            iou = iou_matrix(cxcywh_to_xyxy(self._mean[:, :4]), dets[:, :4]) if dets.shape[0] else None
            state = self._state
            confirmed = (state == CONFIRMED).nonzero()[0]
            lost = (state == LOST).nonzero()[0]
            # 1a) high detections vs confirmed tracks; 1c) IoU fallback; 1b) what is left vs lost tracks. Tracks seen in
            # the previous frame have reliable predictions; matching them first keeps a long-lost
            # track's drifting prediction from stealing a detection that continues a live track.
            rows, cols, free_confirmed, free_high_idx = self._match_first(confirmed, high, iou, dets, embeddings)
            m_tracks = [confirmed[rows]]
            m_dets = [high[cols]]
            free_high = high[free_high_idx]
            # 1c) FairMOT's IoU fallback: confirmed tracks the appearance gate kept from a high detection
            # they overlap (an embedding that drifted through a pose change) take it by IoU alone,
            # before any lost track is re-identified: otherwise a lost track and the live track of the
            # same person take its detection in turns, an identity switch every few frames
            remaining = confirmed[free_confirmed]
            if remaining.size and free_high.size:
                cost = 1.0 - iou[remaining][:, free_high]
                rows, cols, remaining_idx, free_high_idx = assign(cost, self.match_threshold)
                self._margin[remaining[rows]] = assignment_margins(cost, rows, cols, self.match_threshold)
                m_tracks.append(remaining[rows])
                m_dets.append(free_high[cols])
                remaining = remaining[remaining_idx]
                free_high = free_high[free_high_idx]
            # 1b) lost tracks (re-identification, appearance-gated) vs the high detections still free
            if lost.size and free_high.size:
                rows, cols, _, free_high_idx = self._match_first(lost, free_high, iou, dets, embeddings)
                m_tracks.append(lost[rows])
                m_dets.append(free_high[cols])
                free_high = free_high[free_high_idx]
            # 2) low detections vs remaining confirmed (not lost) tracks
            if low.size and remaining.size:
                cost = 1.0 - iou[remaining][:, low]
                rows, cols, _, _ = assign(cost, self.low_match_threshold)
                self._margin[remaining[rows]] = assignment_margins(cost, rows, cols, self.low_match_threshold)
                m_tracks.append(remaining[rows])
                m_dets.append(low[cols])
            # 3) tentative tracks vs high detections still free
            tentative = (state == TENTATIVE).nonzero()[0]
            if tentative.size:
                if free_high.size:
                    cost = 1.0 - iou[tentative][:, free_high]
                    rows, cols, tentative_free_idx, free_idx = assign(cost, self.tentative_match_threshold)
                    self._margin[tentative[rows]] = assignment_margins(cost, rows, cols, self.tentative_match_threshold)
                    m_tracks.append(tentative[rows])
                    m_dets.append(free_high[cols])
                    tentative_free = tentative[tentative_free_idx]
                    free_high = free_high[free_idx]
                else:
                    tentative_free = tentative
            matched_track = np.concatenate(m_tracks)
            matched_det = np.concatenate(m_dets)

        if matched_track.size:
            self._apply_matches(matched_track, matched_det, dets, embeddings)

        # unmatched confirmed tracks become lost (their last_seen stays the last matched frame)
        if n_tracks:
            unmatched_confirmed = (self._state[:n_tracks] == CONFIRMED) & (self._last_seen[:n_tracks] != self.frame_count)
            self._state[:n_tracks][unmatched_confirmed] = LOST

        # new tentative tracks (confirmed at once in the first frame, or when confirm_hits == 1)
        new_dets = free_high[scores[free_high] >= self.new_track_threshold]
        if new_dets.size:
            self._add_tracks(new_dets, dets, embeddings)

        # removal: failed tentative tracks and lost tracks past max_lost_frames
        remove = (self._state == LOST) & (self.frame_count - self._last_seen > self.max_lost_frames)
        if tentative_free.size:
            stale = self.frame_count - self._last_seen[tentative_free] > self.max_tentative_misses
            remove[tentative_free[stale]] = True
        if remove.any():
            self._keep(~remove)
        return self._output(embeddings)

    # ------------------------------------------------------------------ helpers

    def _check_inputs(self, detections, embeddings):
        dets = np.asarray(detections, dtype=np.float64)
        if dets.ndim != 2 or dets.shape[1] != 5:
            if dets.size == 0 and dets.ndim in (1, 2):
                dets = dets.reshape(0, 5)
            else:
                raise ValueError(f"detections must be (N, 5) [x1, y1, x2, y2, score], got shape {dets.shape}")
        if not np.isfinite(dets).all():
            raise ValueError("detections contain NaN or inf")
        if (dets[:, 2:4] < dets[:, 0:2]).any():
            raise ValueError("detections need x2 >= x1 and y2 >= y1")
        if embeddings is not None:
            embeddings = np.asarray(embeddings, dtype=np.float64)
            if embeddings.ndim != 2 or embeddings.shape[0] != dets.shape[0]:
                raise ValueError(f"embeddings must be (N={dets.shape[0]}, D), got shape {embeddings.shape}")
            if self._embedding is not None and embeddings.shape[1] != self._embedding.shape[1]:
                raise ValueError(f"embedding size {embeddings.shape[1]} differs from earlier frames' {self._embedding.shape[1]}")
            if not np.all(np.isfinite(embeddings)):
                raise ValueError("embeddings contain NaN or inf")
            norm = np.linalg.norm(embeddings, axis=1, keepdims=True)
            embeddings = embeddings / np.maximum(norm, 1e-12)
        return dets, embeddings

    def _match_first(self, pool, high, iou_all, dets, embeddings):
        if pool.size == 0 or high.size == 0:
            empty = np.empty(0, np.intp)
            return empty, empty, np.arange(pool.size), np.arange(high.size)
        iou = iou_all[pool][:, high]
        if self.fuse_score:
            iou = iou * dets[high, 4][None, :]
        cost = 1.0 - iou
        if embeddings is not None and self._embedding is not None:
            track_emb = self._embedding[pool]
            has_emb = np.any(track_emb != 0, axis=1)  # tracks born without embeddings have zeros
            distance = 1.0 - track_emb @ embeddings[high].T  # both unit length
            fused = (1.0 - self.appearance_weight) * cost + self.appearance_weight * 0.5 * distance
            fused[distance > self.appearance_threshold] = np.inf
            cost = np.where(has_emb[:, None], fused, cost)
        rows, cols, free_rows, free_cols = assign(cost, self.match_threshold)
        self._margin[pool[rows]] = assignment_margins(cost, rows, cols, self.match_threshold)
        return rows, cols, free_rows, free_cols

    def _apply_matches(self, tracks, det_rows, dets, embeddings):
        measurements = xyxy_to_cxcywh(dets[det_rows, :4])
        self._mean[tracks], self._cov[tracks] = self.kalman.update(self._mean[tracks], self._cov[tracks], measurements)
        hits = self._hits[tracks] + 1
        self._hits[tracks] = hits
        self._det_index[tracks] = det_rows
        # tentative -> confirmed at confirm_hits matches; lost -> confirmed at once
        self._state[tracks] = (self._state[tracks] != TENTATIVE) | (hits >= self.confirm_hits)
        self._last_seen[tracks] = self.frame_count
        self._score[tracks] = dets[det_rows, 4]
        if embeddings is not None:
            self._ensure_embedding(embeddings.shape[1])
            old = self._embedding[tracks]
            fresh = ~np.any(old != 0, axis=1)
            mixed = self.embedding_momentum * old + (1.0 - self.embedding_momentum) * embeddings[det_rows]
            mixed[fresh] = embeddings[det_rows][fresh]
            mixed /= np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)
            self._embedding[tracks] = mixed

    def _ensure_embedding(self, dim: int) -> None:
        if self._embedding is None:
            self._embedding = np.zeros((self._ids.shape[0], dim))

    def _add_tracks(self, det_rows, dets, embeddings):
        k = det_rows.size
        if embeddings is not None:
            self._ensure_embedding(embeddings.shape[1])  # sized to the tracks that exist before these
        mean, cov = self.kalman.initiate(xyxy_to_cxcywh(dets[det_rows, :4]))
        confirmed = self.frame_count == 1 or self.confirm_hits <= 1
        self._mean = np.concatenate([self._mean, mean])
        self._cov = np.concatenate([self._cov, cov])
        self._ids = np.concatenate([self._ids, np.arange(self._next_id, self._next_id + k)])
        self._next_id += k
        self._state = np.concatenate([self._state, np.full(k, CONFIRMED if confirmed else TENTATIVE, np.int8)])
        self._hits = np.concatenate([self._hits, np.ones(k, np.int64)])
        self._last_seen = np.concatenate([self._last_seen, np.full(k, self.frame_count, np.int64)])
        self._score = np.concatenate([self._score, dets[det_rows, 4]])
        self._det_index = np.concatenate([self._det_index, det_rows])
        self._margin = np.concatenate([self._margin, np.full(k, np.nan)])
        if embeddings is not None:
            self._embedding = np.concatenate([self._embedding, embeddings[det_rows]])
        elif self._embedding is not None:
            self._embedding = np.concatenate([self._embedding, np.zeros((k, self._embedding.shape[1]))])

    def _keep(self, keep: np.ndarray) -> None:
        self._mean = self._mean[keep]
        self._cov = self._cov[keep]
        self._ids = self._ids[keep]
        self._state = self._state[keep]
        self._hits = self._hits[keep]
        self._last_seen = self._last_seen[keep]
        self._score = self._score[keep]
        self._det_index = self._det_index[keep]
        self._margin = self._margin[keep]
        if self._embedding is not None:
            self._embedding = self._embedding[keep]

    def _output(self, embeddings: np.ndarray | None) -> np.ndarray:
        seen_now = self._last_seen == self.frame_count
        out_mask = (self._state == CONFIRMED) & seen_now
        if self.output_tentative:
            out_mask |= (self._state == TENTATIVE) & seen_now
        if self.output_lost_frames:
            out_mask |= (self._state == LOST) & (self.frame_count - self._last_seen <= self.output_lost_frames)
        rows = out_mask.nonzero()[0]
        out = np.empty((rows.size, 7))
        out[:, :4] = cxcywh_to_xyxy(self._mean[rows, :4])
        out[:, 4] = self._score[rows]
        out[:, 5] = self._ids[rows]
        out[:, 6] = self._det_index[rows]
        det_index = self._det_index[rows]
        matched = det_index >= 0
        self.last_margins = np.where(matched, self._margin[rows], np.nan).astype(np.float32)
        if self._embedding is None and embeddings is None:
            self.last_embeddings = None
        else:
            dim = embeddings.shape[1] if embeddings is not None else self._embedding.shape[1]
            emb = np.zeros((rows.size, dim), np.float32)
            if self._embedding is not None:
                emb[:] = self._embedding[rows]
            if embeddings is not None and matched.any():
                emb[matched] = embeddings[det_index[matched]]
            self.last_embeddings = emb
        return out
