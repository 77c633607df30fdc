"""Import MOTChallenge files into a results cache: gt -> label set, results -> run, det.txt -> tracked run.

Everything is checked before the cache is touched, and refusals name the file and line:

* frames must lie inside the cache's video (1..num_frames);
* gt ids must be label-set ids (1 .. 2**31-1), classes >= 1, visibility in [0, 1], box sizes >= 0;
  every row keeps its own class (MOT17 gt marks an actor as distractor 8 while it is mostly out of view,
  class 1 elsewhere; the track's default class is its most frequent one); rows become MODEL rows (so correcting them blends, as for a model's tracks), the consider flag is
  TrackEval's ``int(column 7) != 0``, MOT15 gt (no classes) gets class 1 and visibility 1;
* results ids are stored by the cache as float32, exact up to 2**24: larger ids are refused rather
  than silently merged. Boxes and scores are stored as float32 too (7 significant digits; a results
  file written with up to 7 significant digits re-exports text-identical).

An imported run has every frame of the video written (frames without rows have no tracks), no
attention maps and no action model: one class "(no action model)" at probability 1.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.io.mot import FrameDetections, MOTFormatError, MOTRecords, mot_to_internal
from engine.io.paths import require_regular_file

if TYPE_CHECKING:
    from engine.cache import ResultsCache
    from engine.labels import LabelSet

MAX_RUN_TRACK_ID = 2**24  # the cache's tracks dataset is float32: every integer up to here is exact
NO_ACTION_CLASSES = ["(no action model)"]


def _refuse(records: MOTRecords, row: int, problem: str, rule: str) -> MOTFormatError:
    return MOTFormatError(records.path, records.line_of(row), problem, rule)


def open_or_create_cache(cache_path: str | os.PathLike, *, video: str | os.PathLike | None = None
                         ) -> "ResultsCache":
    """The cache at ``cache_path`` in append mode (paired with ``video`` when given), or a new one for
    ``video`` when it does not exist yet (``video`` is then required)."""
    from engine.cache import ResultsCache

    cache_path = Path(cache_path)
    if not cache_path.exists():
        if video is None:
            raise FileNotFoundError(f"{cache_path}: no such results cache; give --video to create it")
        from engine.video import open_video

        with open_video(video) as source:
            return ResultsCache.create(cache_path, video_fingerprint=source.fingerprint(), video_path=str(video),
                                       num_frames=len(source), fps=float(source.fps), width=int(source.width),
                                       height=int(source.height))
    require_regular_file(cache_path, "results cache")
    if video is None:
        return ResultsCache.open(cache_path, mode="a")
    from engine.video import open_video

    with open_video(video) as source:
        fingerprint = source.fingerprint()
    return ResultsCache.open(cache_path, mode="a", video_fingerprint=fingerprint, video_path=str(video))


# ----------------------------------------------------------------------------- gt -> label set


def gt_label_rows(gt: MOTRecords, *, num_frames: int) -> np.ndarray:
    """(N, 11) label-set rows (``engine.labels.model.ROW_COLUMNS``) of MOT gt, refusing with file:line
    what a label set cannot hold exactly."""
    from engine.labels.model import (COL_CLASS, COL_CONSIDER, COL_FRAME, COL_ID, COL_KIND, COL_VISIBILITY,
                                     COL_X1, COL_Y2, MAX_CLASS_ID, MAX_COORD, MAX_TRACK_ID, ROW_WIDTH, BoxKind)

    if gt.kind != "gt":
        raise ValueError(f"{gt.path}: expected gt records, got {gt.kind}")
    n = len(gt)
    frames = gt.frames
    ids = gt.ids
    checks = [
        (frames > num_frames, lambda r: f"frame {frames[r]} is beyond the video's {num_frames} frames", "frame"),
        ((ids < 1) | (ids > MAX_TRACK_ID), lambda r: f"id {ids[r]} outside 1..{MAX_TRACK_ID} (label-set ids are "
                                                      "positive and held as int32, as in TrackEval)", "id"),
        ((gt.ltwh[:, 2] < 0) | (gt.ltwh[:, 3] < 0), lambda r: f"negative box size {gt.ltwh[r, 2]:g}x"
                                                              f"{gt.ltwh[r, 3]:g}", "box"),
        ((np.abs(gt.ltwh) > MAX_COORD / 2).any(axis=1), lambda r: f"coordinate beyond +-{MAX_COORD / 2:g}", "box"),
    ]
    visibility = gt.visibility
    if visibility is not None:
        checks.append((~((visibility >= 0) & (visibility <= 1)),
                       lambda r: f"visibility {float(visibility[r])!r} outside [0, 1]", "visibility"))
    for mask, message, rule in checks:
        bad = np.flatnonzero(mask)
        if bad.size:
            raise _refuse(gt, int(bad[0]), message(int(bad[0])), rule)
    classes = gt.classes if gt.classes is not None else np.ones(n, np.int64)
    if n:  # a class per row: a track may change class (distractor while out of view), see the docstring
        bad = np.flatnonzero((classes < 1) | (classes > MAX_CLASS_ID))
        if bad.size:
            row = int(bad[0])
            raise _refuse(gt, row, f"class {classes[row]} outside 1..{MAX_CLASS_ID}", "gt-class")
    table = np.zeros((n, ROW_WIDTH), np.float64)
    frame_index, xyxy = mot_to_internal(gt.values[:, 0], gt.ltwh)
    table[:, COL_FRAME] = frame_index
    table[:, COL_ID] = ids
    table[:, COL_X1:COL_Y2 + 1] = xyxy
    table[:, COL_KIND] = BoxKind.MODEL
    table[:, COL_VISIBILITY] = 1.0 if visibility is None else visibility
    table[:, COL_CONSIDER] = (np.trunc(gt.confidences) != 0).astype(np.float64)
    table[:, COL_CLASS] = classes
    return table


def label_set_from_gt(gt: MOTRecords, *, name: str, num_frames: int, width: int, height: int,
                      note: str = "") -> "LabelSet":
    """A label set holding exactly the gt's tracks (ids, classes, visibility, consider flags kept)."""
    from engine.labels import LabelSet

    rows = gt_label_rows(gt, num_frames=num_frames)
    return LabelSet.from_rows(rows, name=name, num_frames=num_frames, width=width, height=height,
                              note=note or f"imported from {gt.path}", what=str(gt.path))


# ----------------------------------------------------------------------------- results / det -> run


def check_results_for_run(records: MOTRecords, *, num_frames: int) -> None:
    """Refuse (file:line) results a run cannot hold: frames past the video, ids beyond float32's exact range."""
    frames, ids = records.frames, records.ids
    for mask, message, rule in (
            (frames > num_frames, lambda r: f"frame {frames[r]} is beyond the video's {num_frames} frames", "frame"),
            ((ids < 0) | (ids > MAX_RUN_TRACK_ID),
             lambda r: f"id {ids[r]} outside 0..{MAX_RUN_TRACK_ID}: a run stores track ids as float32, exact only "
                       "up to 2**24 (import it as a label set with --gt to keep larger ids)", "id"),
            ((records.ltwh[:, 2] < 0) | (records.ltwh[:, 3] < 0),
             lambda r: f"negative box size {records.ltwh[r, 2]:g}x{records.ltwh[r, 3]:g}", "box"),
            ((np.abs(records.values[:, 2:7]) > 3e38).any(axis=1), lambda r: "a number beyond float32's range",
             "number")):
        bad = np.flatnonzero(mask)
        if bad.size:
            raise _refuse(records, int(bad[0]), message(int(bad[0])), rule)


def write_track_run(cache: "ResultsCache", name: str, *, frame_indices: np.ndarray, track_ids: np.ndarray,
                    boxes_xyxy: np.ndarray, scores: np.ndarray, params: dict,
                    detections: FrameDetections | None = None) -> int:
    """Write tracks (0-based frames, xyxy) as a new run over every frame of the cache's video."""
    from engine.results import FrameResult

    num_frames = int(cache.video.num_frames)
    frame_indices = np.asarray(frame_indices, np.int64).reshape(-1)
    n = len(frame_indices)
    if n and (frame_indices.min() < 0 or frame_indices.max() >= num_frames):
        raise ValueError(f"track frames must be in [0, {num_frames})")
    tracks = np.column_stack([np.asarray(boxes_xyxy, np.float64).reshape(n, 4), np.asarray(scores, np.float64),
                              np.asarray(track_ids, np.float64)]).astype(np.float32)
    order = np.lexsort((tracks[:, 5], frame_indices))
    tracks, frame_indices = tracks[order], frame_indices[order]
    bounds = np.searchsorted(frame_indices, np.arange(num_frames + 1))
    probs = np.ones(len(NO_ACTION_CLASSES), np.float32)
    writer = cache.create_run(name, model_config={}, checkpoint_sha256="", class_names=list(NO_ACTION_CLASSES),
                              params=params, alpha_shape=(1, 1))
    with writer:
        for k in range(num_frames):
            dets = None
            if detections is not None:
                dets = detections[k][:, :5].astype(np.float32)
            writer.write(FrameResult(frame_index=k, tracks=tracks[bounds[k]:bounds[k + 1]], action_probs=probs,
                                     beta=0.0, detections=dets))
    return n


def import_results_run(cache: "ResultsCache", records: MOTRecords, *, name: str) -> int:
    """A MOT results file (another tracker's output) as run ``name``; returns the rows written."""
    check_results_for_run(records, num_frames=int(cache.video.num_frames))
    frame_index, xyxy = mot_to_internal(records.values[:, 0], records.ltwh)
    return write_track_run(cache, name, frame_indices=frame_index, track_ids=records.ids, boxes_xyxy=xyxy,
                           scores=records.confidences,
                           params={"source": "mot-results", "file": str(records.path), "columns": records.num_columns})


def import_detections_run(cache: "ResultsCache", detections: MOTRecords, *, name: str, tracker,
                          interpolate_gaps_up_to: int = 20, backfill_tentative: bool = True) -> int:
    """A MOT det.txt tracked by the built-in tracker as run ``name`` (raw detections kept beside the
    tracks, as a model run keeps its decoder output); returns the track rows written."""
    from engine.io.mot import detections_by_frame
    from engine.io.mot_tracking import track_mot_detections

    num_frames = int(cache.video.num_frames)
    frames = detections.frames
    beyond = np.flatnonzero(frames > num_frames)
    if beyond.size:
        raise _refuse(detections, int(beyond[0]), f"frame {frames[beyond[0]]} is beyond the video's {num_frames} "
                                                  "frames", "frame")
    frame_index, ids, boxes, scores = track_mot_detections(
        detections, num_frames=num_frames, tracker=tracker, interpolate_gaps_up_to=interpolate_gaps_up_to,
        backfill_tentative=backfill_tentative)
    if len(ids) and ids.max() > MAX_RUN_TRACK_ID:
        raise ValueError(f"{detections.path}: the tracker made more than {MAX_RUN_TRACK_ID} tracks")
    params = {"source": "mot-det", "file": str(detections.path), "interpolate_gaps": int(interpolate_gaps_up_to),
              "backfill_tentative": bool(backfill_tentative),
              "tracker": {k: getattr(tracker, k) for k in ("high_threshold", "low_threshold", "new_track_threshold",
                                                         "match_threshold", "confirm_hits", "max_lost_frames")}}
    return write_track_run(cache, name, frame_indices=frame_index, track_ids=ids, boxes_xyxy=boxes, scores=scores,
                           params=params, detections=detections_by_frame(detections, num_frames))


# ----------------------------------------------------------------------------- a whole sequence folder


def import_sequence_folder(cache: "ResultsCache", folder: str | os.PathLike, *, labels_name: str = "gt",
                           run_name: str = "public-detections", tracker=None, semantics: str = "auto") -> list[str]:
    """What MOT17 users have: ``SEQ/gt/gt.txt`` as label set ``labels_name`` and ``SEQ/det/det.txt``
    tracked by the built-in tracker as run ``run_name`` (each when present and not imported yet).

    The folder's seqinfo.ini (when present) must describe the cache's video: a different seqLength
    means another sequence and is refused. Returns one line per thing imported or skipped.
    """
    from engine.io.mot import read_detections, read_gt, read_seqinfo
    from engine.labels import journal as J

    folder = Path(folder)
    num_frames = int(cache.video.num_frames)
    seqinfo = folder / "seqinfo.ini"
    if seqinfo.exists():
        info = read_seqinfo(seqinfo)
        if info.seq_length != num_frames:
            raise MOTFormatError(seqinfo, None, f"seqLength {info.seq_length} but the cache's video has {num_frames} "
                                                "frames: another sequence", "seqinfo")
    gt_path, det_path = folder / "gt" / "gt.txt", folder / "det" / "det.txt"
    if not gt_path.exists() and not det_path.exists():
        raise FileNotFoundError(f"{folder}: no gt/gt.txt and no det/det.txt (not a MOT sequence folder)")
    # read and check both before the cache is touched
    gt = read_gt(gt_path, seq_length=num_frames, semantics=semantics) if gt_path.exists() else None
    det = read_detections(det_path, seq_length=num_frames) if det_path.exists() else None
    done = []
    if gt is not None:
        if labels_name in cache.label_set_names:
            done.append(f"{gt_path}: label set {labels_name!r} exists already; not imported again")
        else:
            label_set = label_set_from_gt(gt, name=labels_name, num_frames=num_frames, width=cache.video.width,
                                          height=cache.video.height)
            J.save(cache, label_set)
            done.append(f"{gt_path}: {label_set.num_boxes} boxes in {len(label_set)} tracks -> label set "
                        f"{labels_name!r}")
    if det is not None:
        if run_name in cache.run_names:
            done.append(f"{det_path}: run {run_name!r} exists already; not tracked again")
        else:
            if tracker is None:
                from engine.tracking import ByteTracker

                tracker = ByteTracker()
            rows = import_detections_run(cache, det, name=run_name, tracker=tracker)
            done.append(f"{det_path}: {len(det)} detections tracked -> {rows} boxes in run {run_name!r}")
    return done
