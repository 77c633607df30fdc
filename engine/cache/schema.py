"""The results-cache file format, version 2: the one place it is documented.

One HDF5 file per video (libver "latest", so that runs can be written in SWMR mode). Only plain data:
numbers, arrays and UTF-8 strings; structured values are JSON strings. Nothing is pickled.

``/`` (root) attributes
    format              str     always ``"stviewer-results"`` (tells a cache from a foreign .h5)
    schema_version      int64   the newest layout any run in the file uses (1 or 2, see "Versions");
                                a file newer than ``SCHEMA_VERSION`` raises CacheVersionError
    created             str     ISO-8601 UTC time the file was created
    video_path          str     path of the video when the cache was created (informational)
    video_fingerprint   str     ``VideoSource.fingerprint()`` (size + content hash); pairing key
    num_frames          int64   F, frames in the video
    fps                 float64
    width, height       int64   video frame size in pixels

``/runs/<name>/`` one group per run (one model/checkpoint over the video); attributes
    model_config        str     JSON object (the model's config)
    checkpoint_sha256   str     sha256 of the checkpoint file ("" if none)
    class_names         str     JSON list of K strings
    params              str     JSON object (window, stride, thresholds, tracker settings, ...; a
                                resumed run continues with these), and ``video_content``: {size,
                                mtime_ns, blake2b} of the video the run was made from
                                (engine.pipeline.pairing re-verifies it before resuming)
    alpha_shape         int64 (2,)  (h, w) of the attention map
    embedding_dim       int64       (v2) E, width of ``track_embeddings`` (0: the run stores none)
    created             str     ISO-8601 UTC

  datasets (F frames, K classes, (h, w) = alpha_shape, R/D = track/detection row capacity)
    commit              int64 (3,)      [frames_end, track_rows, detection_rows], written LAST at every
                                        checkpoint. Readers trust per-frame entries below frames_end and
                                        rows below the row counts, nothing else (the writer may have died
                                        after writing more).
    frame_flags         uint8 (F,)      bit 0 DONE (frame written), bit 1 HAS_ALPHA, bit 2
                                        HAS_TRACK_ACTION_PROBS, bit 3 HAS_DETECTIONS, bit 4 DAMAGED (the
                                        decoder concealed an error in the frame), bit 5
                                        HAS_TRACK_EMBEDDINGS (v2); 0 = no result.
    beta                float32 (F,)    temporal attention weight of the frame in its window.
    action_probs        float32 (F, K)  clip-level action probabilities of the frame's window.
    alpha               float16 (F, h, w) spatial attention; chunk = 1 frame, gzip + shuffle.
    track_offsets       int64 (F+1,)    frame k's tracks are rows track_offsets[k]:track_offsets[k+1].
    tracks              float32 (R, 6)  [x1, y1, x2, y2, score, track_id], full-frame pixels, 0-based,
                                        x2/y2 exclusive; resizable, gzip.
    track_action_probs  float32 (R, K)  per-track action probabilities aligned with ``tracks`` rows
                                        (NaN rows when the frame had none).
    detection_offsets   int64 (F+1,)    same, for ``detections``.
    detections          float32 (D, 5)  raw decoder output [x1, y1, x2, y2, score] before tracking.
    track_margins       float32 (R,)    (v2) association margin per ``tracks`` row: cost gap between the
                                        tracker's match and its best alternative (FrameResult.track_margins);
                                        NaN for new tracks, coasting rows and frames without margins.
    track_embeddings    float16 (R, E)  (v2, only when the run's model has a re-ID head: E =
                                        ``embedding_dim`` > 0) re-ID embedding per ``tracks`` row; NaN rows
                                        unless the frame's flags have bit 5 HAS_TRACK_EMBEDDINGS.
    resume_state        uint8 (2, S)    two slots, written alternately at a checkpoint just before
                                        ``commit``: [8-byte length, 32-byte sha256, npz bytes] of the
                                        pipeline's state (model's carried state, tracker, window grid) at
                                        a frame; resume continues from the newest intact slot at or before
                                        ``commit``'s frame, exactly as if never interrupted. Optional.
    resumes             float64 (N, 2)  [unix time, frame] of every resume of the run. Optional.

Versions (read-compatible, no migration): version 2 only ADDS ``embedding_dim`` and the
``track_margins``/``track_embeddings`` datasets to runs. A run is v2 exactly when it has ``track_margins``;
readers look at the run, not the file, so a v1 run stays readable as it is (its identity data are reported
missing with a reason, see ``RunReader.identity_missing_reason``) and nothing is rewritten: migrating in place
could not invent embeddings anyway, and a file is never touched merely by reading it. Writing a v2 run into a
v1 file raises the file's ``schema_version`` to 2 in the same structural step, so older code refuses the
file instead of ignoring data it cannot keep consistent. Resuming a v1 run continues it as v1.

``/label_sets/<name>/`` corrected annotations (engine.labels.LabelSet), beside the runs; written and read
by engine/cache/label_store.py. Attributes
    label_format        int64   3 (2: as 3 without ``classes``; absent: format 1, below)
    source_run          str     the run it was derived from ("" if none)
    note                str
    created             str     ISO-8601 UTC
    class_names         str     JSON object {"class id": "name"} (MOTChallenge's 13 classes by default)
    width, height       int64   frame size the set was made for
    journal_id          str     id of the edit journal whose entries up to ``journal_seq`` this state
    journal_seq         int64   already contains (compaction, see below; "" / 0 when none)
  datasets, format 3 (N boxes, T tracks by ascending ID, each track's rows contiguous and by frame)
    tracks              int64 (T, 3)    [track_id, class_id, row_end]: track i owns rows row_end[i-1]:row_end[i];
                                        IDs are the user's (1 .. 2**31-1), never renumbered; class_id is
                                        the track's default class
    frames              int64 (N,)      0-based frame, strictly increasing within a track
    boxes               float64 (N, 4)  [x1, y1, x2, y2] as ``tracks`` of a run (0-based, x2/y2 exclusive)
    model_boxes         float64 (N, 4)  the run's/import's box under a row (NaN rows: none); the
                                        correction blend adds the keyframes' offsets to it
    kinds               uint8 (N,)      0 keyframe, 1 interpolated, 2 model (engine.labels.BoxKind)
    visibility          float64 (N,)    in [0, 1]
    consider            uint8 (N,)      MOT "consider" flag (0 = ignored by evaluation)
    outside             int64 (M, 2)    [track_id, frame]: the object is outside from that frame until its
                                        next row (no row there; nothing interpolated across)
    classes             int64 (N,)      the row's MOT class (gt column 8; MOT17 marks an actor mostly out
                                        of view as distractor 8 in those frames only)
  format 2 (still read): the same without ``classes``; every row has its track's class_id
  dataset, format 1 (still read: every row becomes a model box, class 1, visibility 1; score ignored)
    rows                float64 (N, 7) [frame, track_id, x1, y1, x2, y2, score]
  Edits never touch this group directly: each applied / undone / redone edit is appended to a SQLite
  journal beside the cache (``<cache>.labels.sqlite``, WAL, synchronous=FULL; engine/labels/journal.py),
  because HDF5 is not journaled, allows one writer, and a run may be being written into the file. An
  explicit save (or the app when no run writer is active) compacts: the whole set is written under
  ``.staging-<name>`` and moved over the old group, read back and compared, and only then are the
  journal's entries up to ``journal_seq`` dropped. A crash at any point leaves the old group or the
  new one, plus a journal whose replay (idempotent: entries carry whole track states) gives the last state.

Crash safety: a run is written with the file in SWMR mode, where HDF5 orders its metadata writes so
the file stays readable if the writer dies; only raw data and dataset extents change then, so label
sets and other runs are never touched. A checkpoint flushes all data, then writes ``commit``. A file
left by a killed writer keeps HDF5's "open for writing" superblock flag: readers open it in SWMR-read
mode, and a writer repairs it (clears the flag, moves the end-of-allocation past everything on disk,
as ``h5clear -s --increment`` does) before resuming at the first frame without a committed result.
"""
from __future__ import annotations

FORMAT_NAME = "stviewer-results"
SCHEMA_VERSION = 2

RUNS_GROUP = "runs"
LABEL_SETS_GROUP = "label_sets"

# frame_flags bits
FLAG_DONE = 1
FLAG_HAS_ALPHA = 2
FLAG_HAS_TRACK_ACTION_PROBS = 4
FLAG_HAS_DETECTIONS = 8
FLAG_HAS_TRACK_EMBEDDINGS = 32  # (v2) the frame's track rows carry re-ID embeddings
FLAG_DAMAGED = 16          # the decoder concealed damage in this frame (its pixels are partly guessed)

# per-run datasets
COMMIT = "commit"
FRAME_FLAGS = "frame_flags"
BETA = "beta"
ACTION_PROBS = "action_probs"
ALPHA = "alpha"
TRACK_OFFSETS = "track_offsets"
TRACKS = "tracks"
TRACK_ACTION_PROBS = "track_action_probs"
DETECTION_OFFSETS = "detection_offsets"
DETECTIONS = "detections"
TRACK_MARGINS = "track_margins"        # v2
TRACK_EMBEDDINGS = "track_embeddings"  # v2, optional (models with a re-ID head)
EMBEDDING_DIM_ATTR = "embedding_dim"   # v2 run attribute
RESUME_STATE = "resume_state"  # engine.cache.writer: exact-resume snapshots (two slots)
RESUMES = "resumes"            # engine.cache.writer: when the run was resumed, and where
LABEL_ROWS = "rows"

TRACK_WIDTH = 6       # x1, y1, x2, y2, score, track_id
DETECTION_WIDTH = 5   # x1, y1, x2, y2, score
LABEL_WIDTH = 7       # frame, track_id, x1, y1, x2, y2, score

# Chunking: rows in chunks of ROW_CHUNK (a few dozen frames of tracks), per-frame scalars in chunks
# of FRAME_CHUNK frames, alpha one frame per chunk so one frame's map decompresses alone.
ROW_CHUNK = 256
FRAME_CHUNK = 1024
COMPRESSION = "gzip"
COMPRESSION_LEVEL = 4
