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
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

Kind = Literal["gt", "det", "results"]

GT_COLUMNS = (9, 10)  # MOT16+ (class, visibility) or MOT15 (world x, y, z)
DET_COLUMNS = (10,)
DISTRACTOR_CLASSES = (2, 7, 8, 12)  # person_on_vehicle, static_person, distractor, reflection
PEDESTRIAN_CLASS = 1


class MOTFormatError(ValueError):
    """A malformed MOTChallenge file. ``path`` and ``line`` (1-based, or None) say where."""

    def __init__(self, path: str | os.PathLike | None, line: int | None, problem: str):
        self.path = None if path is None else str(path)
        self.line = line
        self.problem = problem
        where = self.path or "<memory>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class MOTRecords:
    """The rows of one MOT text file exactly as written in it (1-based frames and boxes).

    ``values`` is (N, C) float64 with C = the file's column count; row order is the file's.
    Use :meth:`frame_indices` / :meth:`boxes_xyxy` for the engine's 0-based conventions.
    """

    values: np.ndarray
    kind: Kind
    path: str | None = None

    def __post_init__(self) -> None:
        v = self.values
        if v.ndim != 2 or v.dtype != np.float64:
            raise ValueError(f"MOTRecords.values must be (N, C) float64, got {v.shape} {v.dtype}")

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
        """(N,) int64 gt classes for 9-column (MOT16+) ground truth, else None (MOT15 has no classes)."""
        if self.kind == "gt" and self.num_columns == 9:
            return self.values[:, 7].astype(np.int64)
        return None

    @property
    def visibility(self) -> np.ndarray | None:
        if self.kind == "gt" and self.num_columns == 9:
            return self.values[:, 8]
        return None

    def frame_indices(self) -> np.ndarray:
        """(N,) int64 0-based frame indices."""
        return mot_to_internal(self.values[:, 0], self.ltwh)[0]

    def boxes_xyxy(self) -> np.ndarray:
        """(N, 4) float64 0-based [x1, y1, x2, y2] pixel boxes (x2/y2 exclusive)."""
        return mot_to_internal(self.values[:, 0], self.ltwh)[1]

    def max_frame(self) -> int:
        return int(self.values[:, 0].max()) if len(self) else 0


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


# --------------------------------------------------------------------------- reading


def _split(line: str) -> list[str]:
    if "," in line:
        return [field.strip() for field in line.split(",")]
    return line.split()


def read_mot(path: str | os.PathLike, *, kind: Kind, seq_length: int | None = None) -> MOTRecords:
    """Read and validate a MOT text file.

    ``kind``: "gt" (9 or 10 columns), "det" or "results" (10 columns). ``seq_length`` (from
    seqinfo.ini), when given, bounds the frame numbers. Raises :class:`MOTFormatError` for: wrong
    column count, non-numeric field, NaN/inf, non-integer frame or id, frame < 1 or > seq_length,
    negative id (gt/results), duplicate (frame, id) (gt/results), non-positive width/height.
    ``OSError`` when the file cannot be read.
    """
    if kind not in ("gt", "det", "results"):
        raise ValueError(f"kind must be 'gt', 'det' or 'results', got {kind!r}")
    allowed = GT_COLUMNS if kind == "gt" else DET_COLUMNS
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise MOTFormatError(path, None, f"not a text file ({exc.reason})") from None

    rows: list[list[float]] = []
    line_numbers: list[int] = []
    num_columns: int | None = None
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = _split(line.strip())
        if len(fields) not in allowed:
            expected = " or ".join(str(c) for c in allowed)
            raise MOTFormatError(path, line_number, f"expected {expected} columns for {kind}, found {len(fields)}")
        if num_columns is None:
            num_columns = len(fields)
        elif len(fields) != num_columns:
            raise MOTFormatError(
                path, line_number, f"found {len(fields)} columns but earlier lines have {num_columns}"
            )
        row = []
        for column, field in enumerate(fields, start=1):
            try:
                value = float(field)
            except ValueError:
                raise MOTFormatError(path, line_number, f"column {column} is not a number: {field!r}") from None
            if not math.isfinite(value):
                raise MOTFormatError(path, line_number, f"column {column} is {field!r} (NaN/inf not allowed)")
            row.append(value)
        frame, track_id, _, _, width, height = row[:6]
        if not frame.is_integer():
            raise MOTFormatError(path, line_number, f"frame {fields[0]!r} is not an integer")
        if frame < 1:
            raise MOTFormatError(path, line_number, f"frame {int(frame)} < 1 (frames are 1-based)")
        if seq_length is not None and frame > seq_length:
            raise MOTFormatError(path, line_number, f"frame {int(frame)} is beyond seqLength {seq_length}")
        if not track_id.is_integer():
            raise MOTFormatError(path, line_number, f"id {fields[1]!r} is not an integer")
        if kind != "det" and track_id < 0:
            raise MOTFormatError(path, line_number, f"negative id {int(track_id)}")
        if width <= 0 or height <= 0:
            raise MOTFormatError(path, line_number, f"non-positive box size {width:g}x{height:g}")
        rows.append(row)
        line_numbers.append(line_number)

    values = np.array(rows, dtype=np.float64).reshape(len(rows), num_columns or allowed[-1])
    if kind != "det" and len(rows):
        _check_unique_frame_ids(path, values, line_numbers)
    return MOTRecords(values=values, kind=kind, path=str(path))


def _check_unique_frame_ids(path: Path, values: np.ndarray, line_numbers: list[int]) -> None:
    keys = values[:, 0].astype(np.int64) * (1 << 32) + values[:, 1].astype(np.int64)
    order = np.argsort(keys, kind="stable")
    dup = np.nonzero(keys[order][1:] == keys[order][:-1])[0]
    if dup.size:
        first, second = order[dup[0]], order[dup[0] + 1]
        raise MOTFormatError(
            path,
            line_numbers[second],
            f"duplicate (frame {int(values[second, 0])}, id {int(values[second, 1])}), "
            f"first on line {line_numbers[first]}",
        )


def read_gt(path: str | os.PathLike, *, seq_length: int | None = None) -> MOTRecords:
    return read_mot(path, kind="gt", seq_length=seq_length)


def read_detections(path: str | os.PathLike, *, seq_length: int | None = None) -> MOTRecords:
    return read_mot(path, kind="det", seq_length=seq_length)


def read_results(path: str | os.PathLike, *, seq_length: int | None = None) -> MOTRecords:
    return read_mot(path, kind="results", seq_length=seq_length)


def detections_by_frame(records: MOTRecords, num_frames: int) -> list[np.ndarray]:
    """Split detections into a list over 0-based frames of (N, 5) float64 [x1, y1, x2, y2, score]."""
    frame_indices = records.frame_indices()
    if len(records) and frame_indices.max() >= num_frames:
        raise ValueError(f"{records.path}: frame {frame_indices.max() + 1} beyond {num_frames} frames")
    dets = np.concatenate([records.boxes_xyxy(), records.confidences[:, None]], axis=1)
    order = np.argsort(frame_indices, kind="stable")
    bounds = np.searchsorted(frame_indices[order], np.arange(num_frames + 1))
    return [dets[order[bounds[k]: bounds[k + 1]]] for k in range(num_frames)]


# --------------------------------------------------------------------------- writing


def _format_number(value: float) -> str:
    """Shortest text that parses back to exactly ``value`` (integers without '.0')."""
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def write_mot(path: str | os.PathLike, records: MOTRecords) -> None:
    """Write records with their own column count, losslessly."""
    _write_rows(Path(path), records.values)


def _write_rows(path: Path, values: np.ndarray) -> None:
    lines = [",".join(_format_number(v) for v in row) for row in values.tolist()]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


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
    """Parse ``seqinfo.ini`` ([Sequence] section). name and seqLength are required."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
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
        if attr == "frame_rate" and parsed <= 0:
            raise MOTFormatError(path, line_number, f"{key} must be positive, found {value!r}")
        found[attr] = parsed
    for required in ("name", "seq_length"):
        if required not in found:
            key = next(k for k, (a, _) in _SEQINFO_KEYS.items() if a == required)
            raise MOTFormatError(path, None, f"[Sequence] has no {key} (case-insensitive)")
    return SeqInfo(**found)  # type: ignore[arg-type]


def write_seqinfo(path: str | os.PathLike, info: SeqInfo) -> None:
    text = (
        "[Sequence]\n"
        f"name={info.name}\n"
        f"imDir={info.im_dir}\n"
        f"frameRate={_format_number(float(info.frame_rate))}\n"
        f"seqLength={info.seq_length}\n"
        f"imWidth={info.im_width}\n"
        f"imHeight={info.im_height}\n"
        f"imExt={info.im_ext}\n"
    )
    Path(path).write_text(text, encoding="utf-8")


def find_seqinfo(path: str | os.PathLike) -> Path | None:
    """The seqinfo.ini of the sequence a MOT file belongs to (beside it or one folder up), if any."""
    path = Path(path).resolve()
    for folder in (path.parent, path.parent.parent):
        candidate = folder / "seqinfo.ini"
        if candidate.is_file():
            return candidate
    return None
