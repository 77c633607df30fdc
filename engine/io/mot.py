"""MOTChallenge text files: ground truth, detections, tracker results and ``seqinfo.ini``.

File layouts (one box per line, fields separated by commas with or without spaces)::

    gt.txt (MOT16/17/20, 9 columns)  frame, id, left, top, width, height, flag, class, visibility
    gt.txt (MOT15,      10 columns)  frame, id, left, top, width, height, flag, x, y, z
    det.txt / results  (10 columns)  frame, id, left, top, width, height, conf, x, y, z

``flag`` is the "consider" flag: 0 rows are ignored by evaluation. Detections carry id -1.

Coordinates: frames and boxes are 1-based in the files (the top-left pixel is (1, 1)). Inside the
engine frames are 0-based indices and boxes are 0-based [x1, y1, x2, y2] with x2/y2 exclusive.
The ONE place that converts is :func:`mot_to_internal` / :func:`internal_to_mot`::

    frame_index = frame - 1
    x1 = left - 1,  y1 = top - 1,  x2 = x1 + width,  y2 = y1 + height

(IoU is translation invariant, so evaluation results do not depend on this shift.)

Reading is strict: any malformed line raises :class:`MOTFormatError` naming the file and line.
Writing never rounds: every number is written with Python's shortest round-trip ``repr``, so
``read(write(records))`` gives bit-identical arrays.
"""
from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.io.mot_rules import (DISTRACTOR_CLASSES, MAX_FILE_BYTES, MAX_FRAME, PEDESTRIAN_CLASS, Kind,
                                 MOTFormatError, scan_mot_text)
from engine.io.paths import FileTooLargeError, read_regular_text, require_output_file

__all__ = ["DISTRACTOR_CLASSES", "PEDESTRIAN_CLASS", "MOTFormatError", "MOTRecords", "SeqInfo",
           "FrameDetections", "detections_by_frame", "find_seqinfo", "format_number", "internal_to_mot",
           "mot_to_internal", "read_detections", "read_gt", "read_mot", "read_results", "read_seqinfo",
           "results_to_records", "write_mot", "write_results", "write_seqinfo", "write_text_atomic"]


@dataclass(frozen=True, eq=False)
class MOTRecords:
    """The rows of one MOT text file exactly as written in it (1-based frames and boxes).

    ``values`` is (N, C) float64 with C = the file's column count (gt >= 8, det/results >= 7); row
    order is the file's. ``line_numbers`` (N,) int64 says which 1-based line each row came from (None
    for records built in memory). Use :meth:`frame_indices` / :meth:`boxes_xyxy` for the engine's
    0-based conventions.
    """

    values: np.ndarray
    kind: Kind
    path: str | None = None
    line_numbers: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        v = self.values
        if v.ndim != 2 or v.dtype != np.float64 or v.shape[1] < 7:
            raise ValueError(f"MOTRecords.values must be (N, C>=7) float64, got {v.shape} {v.dtype}")
        if self.line_numbers is not None and np.shape(self.line_numbers) != (v.shape[0],):
            raise ValueError(f"line_numbers must be ({v.shape[0]},), got {np.shape(self.line_numbers)}")

    def __len__(self) -> int:
        return self.values.shape[0]

    @property
    def num_columns(self) -> int:
        return self.values.shape[1]

    @property
    def frames(self) -> np.ndarray:
        """(N,) int64 1-based frame numbers as in the file."""
        return self.values[:, 0].astype(np.int64)

    @property
    def ids(self) -> np.ndarray:
        """(N,) int64 track ids (-1 for detections)."""
        return self.values[:, 1].astype(np.int64)

    @property
    def ltwh(self) -> np.ndarray:
        """(N, 4) float64 [left, top, width, height], 1-based as in the file."""
        return self.values[:, 2:6]

    @property
    def confidences(self) -> np.ndarray:
        """(N,) float64 column 7: detection/track confidence, or the gt "consider" flag."""
        return self.values[:, 6]

    @property
    def classes(self) -> np.ndarray | None:
        """(N,) int64 gt classes (column 8, int-truncated as TrackEval does) for MOT16+ ground truth
        (every column count but MOT15's 10), else None."""
        if self.kind == "gt" and self.num_columns != 10:
            return np.trunc(self.values[:, 7]).astype(np.int64)
        return None

    @property
    def visibility(self) -> np.ndarray | None:
        """(N,) float64 gt visibility (column 9) for MOT16+ ground truth with 9+ columns, else None."""
        if self.kind == "gt" and self.num_columns >= 9 and self.num_columns != 10:
            return self.values[:, 8]
        return None

    def line_of(self, row: int) -> int | None:
        """The file line of row ``row`` (None for records built in memory)."""
        return None if self.line_numbers is None else int(self.line_numbers[row])

    def frame_indices(self) -> np.ndarray:
        """(N,) int64 0-based frame indices."""
        return mot_to_internal(self.values[:, 0], self.ltwh)[0]

    def boxes_xyxy(self) -> np.ndarray:
        """(N, 4) float64 0-based [x1, y1, x2, y2] pixel boxes (x2/y2 exclusive)."""
        return mot_to_internal(self.values[:, 0], self.ltwh)[1]

    def max_frame(self) -> int:
        return int(self.values[:, 0].max()) if len(self) else 0

    def min_frame(self) -> int:
        return int(self.values[:, 0].min()) if len(self) else 0


# --------------------------------------------------------------------------- conventions


def mot_to_internal(frames: np.ndarray, ltwh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MOT file (1-based frame, 1-based [left, top, w, h]) -> (0-based frame index, 0-based xyxy)."""
    frames = np.asarray(frames)
    ltwh = np.asarray(ltwh, dtype=np.float64).reshape(-1, 4)
    x1 = ltwh[:, 0] - 1.0
    y1 = ltwh[:, 1] - 1.0
    xyxy = np.stack([x1, y1, x1 + ltwh[:, 2], y1 + ltwh[:, 3]], axis=1)
    return frames.astype(np.int64) - 1, xyxy


def internal_to_mot(frame_indices: np.ndarray, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`mot_to_internal`: (0-based frame index, xyxy) -> (1-based frame, ltwh)."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    ltwh = np.stack(
        [xyxy[:, 0] + 1.0, xyxy[:, 1] + 1.0, xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]], axis=1
    )
    return np.asarray(frame_indices).astype(np.int64) + 1, ltwh


def ltwh_reproducing(xyxy: np.ndarray, *, dtype=np.float64) -> np.ndarray:
    """MOT [left, top, width, height] with the fewest decimals from which :func:`mot_to_internal`
    gives back exactly ``xyxy`` (compared after casting to ``dtype``: float32 for run boxes).

    ``internal_to_mot`` alone is lossless but prints float noise: a gt box imported from
    "340.829,79.5,87.662,244.25" has x2 = 339.829 + 87.662 rounded, and x2 - x1 prints as
    87.66199999999998. This picks, per value, the shortest decimal that still reproduces the stored
    box bit for bit, so exported text equals the imported text and nothing is ever rounded away.
    Where no float64 reproduces a corner (x1 = 1/3: 1/3 + 1 must round; or a far corner that no
    near + size sum lands on), the nearest value is kept: within an ulp (~1e-14 px).
    """
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    if len(xyxy) > _REPRODUCING_CHUNK:  # row by row, so in chunks that stay in cache (same values)
        return np.concatenate([ltwh_reproducing(xyxy[k:k + _REPRODUCING_CHUNK], dtype=dtype)
                               for k in range(0, len(xyxy), _REPRODUCING_CHUNK)])
    target = xyxy.astype(dtype)
    exact = internal_to_mot(np.zeros(len(xyxy), np.int64), xyxy)[1]
    out = exact.copy()
    for axis in (0, 1):  # x: left/width; y: top/height
        lo, hi = target[:, axis], target[:, axis + 2]
        # the near corner first: its reconstruction (left - 1) is what the far corner adds the size to
        start = _shortest_where(exact[:, axis], lambda i, c: (c - 1.0).astype(dtype) == lo[i])
        out[:, axis] = start
        near = start - 1.0
        size = xyxy[:, axis + 2] - near  # exact size from the reconstructed near corner
        out[:, axis + 2] = _shortest_where(size, lambda i, c: (near[i] + c).astype(dtype) == hi[i])
    return out


_REPRODUCING_CHUNK = 1 << 15


def _shortest_where(values: np.ndarray, ok) -> np.ndarray:
    """Per element, the first of round(values, 0..17) for which ``ok(indices, candidates)`` holds (the
    candidates for ``values[indices]``), else the value. Each round only tries the elements not yet
    settled (element-wise operations: the same result as trying them all)."""
    out = values.copy()
    todo = np.flatnonzero(np.isfinite(values))
    for decimals in range(18):
        if not todo.size:
            break
        with np.errstate(over="ignore", invalid="ignore"):
            candidate = np.round(values[todo], decimals)
            good = ok(todo, candidate)
        out[todo[good]] = candidate[good]
        todo = todo[~good]
    # No short decimal: the value itself or a neighbour a few ulps away (a sum rounds; some neighbour
    # lands exactly). If none does (e.g. x1 = 1/3 cannot survive left = x1 + 1), the exact value stays.
    for steps in (0, 1, -1, 2, -2):
        if not todo.size:
            break
        candidate = values[todo]
        for _ in range(abs(steps)):
            candidate = np.nextafter(candidate, np.inf if steps > 0 else -np.inf)
        with np.errstate(over="ignore", invalid="ignore"):
            good = ok(todo, candidate)
        out[todo[good]] = candidate[good]
        todo = todo[~good]
    return out


# --------------------------------------------------------------------------- reading


def read_mot(path: str | os.PathLike, *, kind: Kind, seq_length: int | None = None,
             semantics: str = "auto") -> MOTRecords:
    """Read a MOT text file and check it against :mod:`engine.io.mot_rules` (raises at the first error).

    ``kind``: "gt" (>= 8 columns), "det" or "results" (>= 7 columns, as TrackEval accepts).
    ``seq_length`` (from seqinfo.ini), when given, bounds the frame numbers. ``semantics`` ("auto",
    "mot15", "mot16") decides whether gt column 8 must be a MOTChallenge class. Raises
    :class:`MOTFormatError` naming file, line and rule; :class:`~engine.io.paths.PathKindError` (an
    OSError) for a FIFO, device or directory; ``OSError`` when the file cannot be read.
    """
    if kind not in ("gt", "det", "results"):
        raise ValueError(f"kind must be 'gt', 'det' or 'results', got {kind!r}")
    path = Path(path)
    what = {"gt": "ground truth", "det": "detections", "results": "tracker results"}[kind]
    try:
        text = read_regular_text(path, f"MOT {what}", max_bytes=MAX_FILE_BYTES)
    except UnicodeDecodeError as exc:
        raise MOTFormatError(path, None, f"not a text file ({exc.reason})", "text") from None
    except FileTooLargeError as exc:
        raise MOTFormatError(path, None, f"larger than {exc.limit} bytes", "text") from None
    scanned = scan_mot_text(text, path=path, kind=kind, seq_length=seq_length, semantics=semantics)  # type: ignore[arg-type]
    return MOTRecords(values=scanned.values, kind=kind, path=str(path), line_numbers=scanned.line_numbers)


def read_gt(path: str | os.PathLike, *, seq_length: int | None = None, semantics: str = "auto") -> MOTRecords:
    return read_mot(path, kind="gt", seq_length=seq_length, semantics=semantics)


def read_detections(path: str | os.PathLike, *, seq_length: int | None = None) -> MOTRecords:
    return read_mot(path, kind="det", seq_length=seq_length)


def read_results(path: str | os.PathLike, *, seq_length: int | None = None) -> MOTRecords:
    return read_mot(path, kind="results", seq_length=seq_length)


class FrameDetections(Sequence):
    """Per-frame detections over ``num_frames`` frames without a per-frame list: memory follows the
    rows present, not the frame count (a det line at frame 1e9 costs one row). Item k is the (N_k, 5)
    float64 [x1, y1, x2, y2, score] of 0-based frame k, in file order. ``frames_present`` lists the
    0-based frames that have at least one detection, in order."""

    def __init__(self, detections: np.ndarray, frame_indices: np.ndarray, num_frames: int):
        order = np.argsort(frame_indices, kind="stable")
        self._dets = np.ascontiguousarray(detections[order])
        sorted_frames = frame_indices[order]
        self.frames_present, starts = np.unique(sorted_frames, return_index=True)
        self._starts = np.append(starts, len(sorted_frames)).astype(np.int64)
        self._num_frames = int(num_frames)
        self._empty = np.zeros((0, 5), np.float64)
        self._empty.flags.writeable = False

    def __len__(self) -> int:
        return self._num_frames

    def __getitem__(self, k):  # type: ignore[override]
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(self._num_frames))]
        k = int(k)
        if k < 0:
            k += self._num_frames
        if not 0 <= k < self._num_frames:
            raise IndexError(f"frame {k} outside [0, {self._num_frames})")
        j = int(np.searchsorted(self.frames_present, k))
        if j < len(self.frames_present) and self.frames_present[j] == k:
            return self._dets[self._starts[j]:self._starts[j + 1]]
        return self._empty


def detections_by_frame(records: MOTRecords, num_frames: int) -> FrameDetections:
    """Detections as a sequence over 0-based frames of (N, 5) float64 [x1, y1, x2, y2, score]
    (see :class:`FrameDetections`: rows-proportional memory)."""
    num_frames = int(num_frames)
    if not 0 <= num_frames <= MAX_FRAME:
        raise ValueError(f"num_frames must be in [0, {MAX_FRAME}], got {num_frames}")
    frame_indices = records.frame_indices()
    if len(records) and frame_indices.max() >= num_frames:
        row = int(np.argmax(frame_indices))
        where = records.path if records.line_of(row) is None else f"{records.path}:{records.line_of(row)}"
        raise ValueError(f"{where}: frame {frame_indices[row] + 1} beyond {num_frames} frames")
    dets = np.concatenate([records.boxes_xyxy(), records.confidences[:, None]], axis=1)
    return FrameDetections(dets, frame_indices, num_frames)


# --------------------------------------------------------------------------- writing


def format_number(value: float) -> str:
    """Shortest text that parses back to exactly ``value`` (integers without '.0')."""
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def shortest_float32(values: np.ndarray) -> np.ndarray:
    """float64 copies of float32 data that print as the shortest decimal naming the same float32.

    Runs in the cache store boxes as float32; widening 340.829f to float64 prints as
    340.82899475097656. This returns 340.829 instead (the float64 nearest that decimal), which still
    narrows back to exactly the same float32, so a results file written from it re-imports
    bit-identically. Values needing more than 9 decimals keep their exact widened value.
    """
    narrow = np.asarray(values, dtype=np.float32)
    wide = narrow.astype(np.float64)
    out = wide.copy()
    todo = np.isfinite(wide)
    for decimals in range(10):
        if not todo.any():
            break
        candidate = np.round(wide[todo], decimals)
        ok = candidate.astype(np.float32) == narrow[todo]
        idx = np.flatnonzero(todo)[ok]
        out[idx] = candidate[ok]
        todo[idx] = False
    return out


def write_text_atomic(path: str | os.PathLike, text: str, *, what: str = "output file") -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename, so a crash
    or a full disk never leaves a half-written file where a good one was. A FIFO, device or
    directory at ``path`` is refused (PathKindError) instead of blocking on it."""
    path = require_output_file(path, what)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def mot_text(values: np.ndarray) -> str:
    """MOT lines (comma-separated, losslessly formatted) of an (N, C) float array."""
    return "".join(",".join(format_number(v) for v in row) + "\n" for row in np.asarray(values).tolist())


def write_mot(path: str | os.PathLike, records: MOTRecords) -> None:
    """Write records with their own column count, losslessly and atomically."""
    write_text_atomic(path, mot_text(records.values), what=f"MOT {records.kind} file")


def results_to_records(
    frame_indices: np.ndarray, track_ids: np.ndarray, boxes_xyxy: np.ndarray, scores: np.ndarray
) -> MOTRecords:
    """Engine tracks (0-based frames, 0-based xyxy) -> 10-column MOT results records, sorted by frame, id."""
    frame_indices = np.asarray(frame_indices).reshape(-1)
    n = frame_indices.shape[0]
    for name, array, shape in (("track_ids", track_ids, (n,)), ("boxes_xyxy", boxes_xyxy, (n, 4)), ("scores", scores, (n,))):
        if np.shape(array) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {np.shape(array)}")
    frames, ltwh = internal_to_mot(frame_indices, boxes_xyxy)
    values = np.full((n, 10), -1.0)
    values[:, 0] = frames
    values[:, 1] = np.asarray(track_ids)
    values[:, 2:6] = ltwh
    values[:, 6] = np.asarray(scores, dtype=np.float64)
    order = np.lexsort((values[:, 1], values[:, 0]))
    return MOTRecords(values=values[order], kind="results")


def write_results(
    path: str | os.PathLike,
    *,
    frame_indices: np.ndarray,
    track_ids: np.ndarray,
    boxes_xyxy: np.ndarray,
    scores: np.ndarray,
) -> None:
    """Write tracker output (0-based frames and xyxy boxes) as a 10-column MOT results file."""
    write_mot(path, results_to_records(frame_indices, track_ids, boxes_xyxy, scores))


# --------------------------------------------------------------------------- seqinfo.ini


@dataclass(frozen=True)
class SeqInfo:
    name: str
    seq_length: int
    frame_rate: float = 30.0
    im_width: int = 0
    im_height: int = 0
    im_dir: str = "img1"
    im_ext: str = ".jpg"


_SEQINFO_KEYS = {
    "name": ("name", str),
    "imdir": ("im_dir", str),
    "framerate": ("frame_rate", float),
    "seqlength": ("seq_length", int),
    "imwidth": ("im_width", int),
    "imheight": ("im_height", int),
    "imext": ("im_ext", str),
}


def read_seqinfo(path: str | os.PathLike) -> SeqInfo:
    """Parse ``seqinfo.ini`` ([Sequence] section). name and seqLength are required; seqLength is
    bounded by MAX_FRAME (nothing is sized by it: evaluation data follow the rows present)."""
    path = Path(path)
    try:
        text = read_regular_text(path, "seqinfo.ini", max_bytes=1 << 20)
    except UnicodeDecodeError as exc:
        raise MOTFormatError(path, None, f"not a text file ({exc.reason})", "text") from None
    except FileTooLargeError:
        raise MOTFormatError(path, None, "larger than 1 MiB: not a seqinfo.ini", "text") from None
    found: dict[str, object] = {}
    in_sequence = False
    for line_number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith((";", "#")):
            continue
        if line.startswith("["):
            in_sequence = line.lower() == "[sequence]"
            continue
        if not in_sequence:
            continue
        if "=" not in line:
            raise MOTFormatError(path, line_number, f"expected key=value, found {line!r}")
        key, value = (part.strip() for part in line.split("=", 1))
        spec = _SEQINFO_KEYS.get(key.lower())
        if spec is None:
            continue  # unknown keys are allowed
        attr, convert = spec
        try:
            parsed = convert(value)
        except ValueError:
            raise MOTFormatError(path, line_number, f"{key} must be {convert.__name__}, found {value!r}") from None
        if convert is float and not math.isfinite(parsed):
            raise MOTFormatError(path, line_number, f"{key} is {value!r}")
        if attr in ("seq_length", "im_width", "im_height") and parsed < (1 if attr == "seq_length" else 0):
            raise MOTFormatError(path, line_number, f"{key} must be positive, found {value!r}")
        if attr in ("seq_length", "im_width", "im_height") and parsed > MAX_FRAME:
            raise MOTFormatError(path, line_number, f"{key}={value} is absurd (more than {MAX_FRAME})")
        if attr == "frame_rate" and parsed <= 0:
            raise MOTFormatError(path, line_number, f"{key} must be positive, found {value!r}")
        found[attr] = parsed
    for required in ("name", "seq_length"):
        if required not in found:
            key = next(k for k, (a, _) in _SEQINFO_KEYS.items() if a == required)
            raise MOTFormatError(path, None, f"[Sequence] has no {key} (case-insensitive)")
    return SeqInfo(**found)  # type: ignore[arg-type]


def seqinfo_text(info: SeqInfo) -> str:
    """seqinfo.ini text with every key MOTChallenge's own files have."""
    return ("[Sequence]\n"
            f"name={info.name}\n"
            f"imDir={info.im_dir}\n"
            f"frameRate={format_number(float(info.frame_rate))}\n"
            f"seqLength={info.seq_length}\n"
            f"imWidth={info.im_width}\n"
            f"imHeight={info.im_height}\n"
            f"imExt={info.im_ext}\n")


def write_seqinfo(path: str | os.PathLike, info: SeqInfo) -> None:
    """Write seqinfo.ini (atomically)."""
    write_text_atomic(path, seqinfo_text(info), what="seqinfo.ini")


def find_seqinfo(path: str | os.PathLike) -> Path | None:
    """The seqinfo.ini of the sequence a MOT file belongs to (beside it or one folder up), if any."""
    path = Path(path).resolve()
    for folder in (path.parent, path.parent.parent):
        candidate = folder / "seqinfo.ini"
        if candidate.is_file():
            return candidate
    return None
