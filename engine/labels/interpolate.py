"""Keyframe interpolation and the correction blend over model boxes (pure functions of a Track).

Every non-keyframe row of a track is *derived* from the keyframes around it:

* A MODEL row keeps the model's box and adds a correction offset (per corner, user box - model box)
  taken from its neighbouring keyframes. Between two keyframes the offset falls off linearly from one
  keyframe's offset to the other's; past the last keyframe on one side the offset of that keyframe is
  held until the track's end (or the next "outside" marker). A keyframe without a model box under it
  (drawn where the model had nothing, or an interpolated box made a keyframe) says nothing about the
  model's error: the offset of the keyframe on the other side is held up to it. Every derived box thus
  depends only on the keyframes next to it. So a model track that drifts by 20 px over 50 frames is
  fixed by correcting the first and the last frame: the offset grows linearly between them exactly as
  the drift does.
* An INTERPOLATED row fills a frame with no model box between two keyframes with no outside marker
  between them: linear in the corners between the nearest non-interpolated rows on each side (the two
  keyframes, CVAT's interpolation, or the corrected model boxes around a gap in the model's track).

After an edit only the rows between the keyframes around it change: :func:`rederive` recomputes the
frames [lo, hi] only (see :func:`affected_range`).
"""
from __future__ import annotations

import numpy as np

from engine.labels.model import BoxKind, Track

_FAR = 2**62


def affected_range(track: Track, frame: int) -> tuple[int, int]:
    """Frames whose derived box depends on a keyframe or marker at ``frame``: strictly between the
    keyframes before and after it (to the track's ends when there is none on a side). Every derived box
    depends only on the keyframes next to it, so an edit never recomputes past them."""
    kf = track.keyframes()
    i = int(np.searchsorted(kf, frame, side="left"))
    lo = int(kf[i - 1]) + 1 if i > 0 else 0
    j = int(np.searchsorted(kf, frame, side="right"))
    hi = int(kf[j]) - 1 if j < len(kf) else _FAR
    return lo, hi


def correction_offsets(track: Track) -> tuple[np.ndarray, np.ndarray]:
    """(offsets (K, 4), has_model_box (K,)) of the keyframes: box - model box (NaN rows: no model box)."""
    key = track.kinds == BoxKind.KEYFRAME
    off = track.boxes[key] - track.model_boxes[key]
    return off, np.isfinite(off).all(axis=1)


def rederive(track: Track, lo: int = 0, hi: int = _FAR) -> Track:
    """Recompute every derived row with a frame in [lo, hi]: MODEL rows get the blended correction,
    INTERPOLATED rows are regenerated (removed where no closed keyframe segment covers them, added
    where one does). Keyframes and rows outside [lo, hi] are kept as they are. Visibility, consider and
    class of a regenerated row are kept (a ranged edit of them survives moving a keyframe); a new row
    takes visibility and consider from the row before it and its class from the keyframe before it
    (the start of its segment)."""
    F, kinds = track.frames, track.kinds
    K = BoxKind
    in_range = (F >= lo) & (F <= hi)
    is_key = kinds == K.KEYFRAME
    kf = F[is_key]
    koff, kbase = correction_offsets(track)
    out = track.outside

    def markers_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Number of outside markers m with a < m <= b (elementwise)."""
        return np.searchsorted(out, b, side="right") - np.searchsorted(out, a, side="right")

    boxes = track.boxes.copy()
    # MODEL rows: blended correction
    model_rows = np.flatnonzero(in_range & (kinds == K.MODEL))
    if len(model_rows) and len(kf):
        f = F[model_rows]
        r = np.searchsorted(kf, f, side="right")
        l = r - 1
        li, ri = np.clip(l, 0, None), np.clip(r, None, len(kf) - 1)
        has_l = l >= 0
        has_r = r < len(kf)
        kl = np.where(has_l, kf[li], 0)
        kr = np.where(has_r, kf[ri], 0)
        # a neighbouring keyframe counts if no marker lies between and it has a model box (one without
        # says nothing about the model's error: the other side's offset is held up to it)
        has_l &= (markers_between(kl, f) == 0) & kbase[li]
        has_r &= (markers_between(f, kr) == 0) & kbase[ri]
        off_l = np.nan_to_num(koff[li])
        off_r = np.nan_to_num(koff[ri])
        both = has_l & has_r
        w = np.where(both, (f - kl) / np.where(both, kr - kl, 1), 0.0)[:, None]
        off = np.where(both[:, None], off_l + w * (off_r - off_l),
                       np.where(has_l[:, None], off_l, np.where(has_r[:, None], off_r, 0.0)))
        boxes[model_rows] = track.model_boxes[model_rows] + off
    elif len(model_rows):
        boxes[model_rows] = track.model_boxes[model_rows]

    # INTERPOLATED rows: drop those in range, regenerate inside closed keyframe segments
    old_interp = in_range & (kinds == K.INTERPOLATED)
    keep = ~old_interp
    old_attrs = {int(fr): (v, c, k) for fr, v, c, k in zip(F[old_interp], track.visibility[old_interp],
                                                           track.consider[old_interp], track.classes[old_interp])}
    new_frames = []
    if len(kf) > 1:
        a, b = kf[:-1], kf[1:]
        closed = (b - a > 1) & (markers_between(a, b) == 0) & (b > lo) & (a < hi)
        kept_frames = F[keep]
        for s, e in zip(a[closed].tolist(), b[closed].tolist()):
            cand = np.arange(max(s + 1, lo), min(e - 1, hi) + 1, dtype=np.int64)
            if len(cand):
                new_frames.append(cand[~np.isin(cand, kept_frames)])
    new_frames = np.concatenate(new_frames) if new_frames else np.zeros(0, np.int64)
    if not old_interp.any() and not len(new_frames):
        return track.replace(boxes=boxes) if len(model_rows) else track

    anchor_f = F[keep]
    anchor_b = boxes[keep]
    n_new = len(new_frames)
    new_boxes = np.empty((n_new, 4))
    for c in range(4):
        new_boxes[:, c] = np.interp(new_frames, anchor_f, anchor_b[:, c])
    # attributes of regenerated rows: the old row's, else the preceding kept row's
    prev = np.clip(np.searchsorted(anchor_f, new_frames) - 1, 0, None)
    new_vis = track.visibility[keep][prev].copy() if n_new else np.zeros(0)
    new_con = track.consider[keep][prev].copy() if n_new else np.zeros(0, bool)
    key_before = np.clip(np.searchsorted(kf, new_frames) - 1, 0, None)  # new rows lie inside a segment
    new_cls = track.classes[is_key][key_before].copy() if n_new else np.zeros(0, np.int64)
    for j, fr in enumerate(new_frames.tolist()):
        if fr in old_attrs:
            new_vis[j], new_con[j], new_cls[j] = old_attrs[fr]

    frames = np.concatenate([anchor_f, new_frames])
    order = np.argsort(frames, kind="stable")
    return track.replace(
        frames=frames[order],
        boxes=np.concatenate([anchor_b, new_boxes])[order],
        kinds=np.concatenate([kinds[keep], np.full(n_new, K.INTERPOLATED, np.uint8)])[order],
        model_boxes=np.concatenate([track.model_boxes[keep], np.full((n_new, 4), np.nan)])[order],
        visibility=np.concatenate([track.visibility[keep], new_vis])[order],
        consider=np.concatenate([track.consider[keep], new_con])[order],
        classes=np.concatenate([track.classes[keep], new_cls])[order])
