"""The rules a MOTChallenge text file must follow: TrackEval's, plus the few that keep memory bounded.

ONE definition, used by the readers in :mod:`engine.io.mot` (which raise at the first error) and by
``stv validate-mot`` / every export (which collect every violation, bounded).

TrackEval 1.x (``trackeval/datasets/mot_challenge_2d_box.py`` and ``_base_dataset.py``) reads a file
with ``csv`` (delimiter sniffed; spaces after a delimiter skipped; ONE trailing empty field dropped)
and groups rows by the frame field's TEXT. Its rules, as rule names used here:

``columns``       gt needs >= 8 columns (frame, id, box, flag, class), results >= 7 (confidence in
                  column 7); rows of one frame must have equal counts (TrackEval stacks them).
                  stviewer asks one count per file and at most ``MAX_COLUMNS``.
``number``        every field parses as a number (TrackEval: "cannot convert ... to float").
                  stviewer also refuses NaN and inf.
``frame``         frame text is exactly one of "1" ... str(seqLength) ("0", "1.0", "01" or a frame
                  past seqLength: "invalid timesteps"). Readers accept "1.0" (it means frame 1), the
                  validator reports it because TrackEval would refuse it. Frames above ``MAX_FRAME``
                  are refused before anything is sized by them.
``id``            TrackEval truncates ids to int; stviewer refuses ids that are not integers, negative
                  ids in gt/results, and ids beyond ``MAX_ID`` (2**53: float64 holds every integer up to
                  it exactly, int64 too), which TrackEval would mis-handle silently.
``duplicate-id``  one id twice in one frame (gt or results) aborts TrackEval's evaluation.
``gt-class``      gt column 8 (int-truncated) must be a MOTChallenge class 1..13, except under MOT15
                  semantics (MOT15's 10-column gt has world coordinates there).
``results-class`` results column 8, when present, is TrackEval's class (int-truncated): > 1 aborts
                  ("evaluation is only valid for pedestrian class"). 10-column results carry -1 there.
``box``           (warning) width or height <= 0: TrackEval scores such a box with IoU 0.
                  Detections for the tracker are refused instead (the tracker needs x2 >= x1).
``text``          the file is not UTF-8 text or is larger than ``MAX_FILE_BYTES``.

Rows are parsed in chunks into one float64 array, so memory follows the rows present, never a
frame number or an id read from the file.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable, Literal

import numpy as np

Kind = Literal["gt", "det", "results"]
Semantics = Literal["auto", "mot15", "mot16"]

MIN_COLUMNS = {"gt": 8, "det": 7, "results": 7}
MAX_COLUMNS = 64
MAX_FRAME = 2**31 - 1          # 2.1e9 frames is 2 years at 30 fps; also what int32 frame counters hold
MAX_ID = 2**53                 # every integer up to here is exact in float64 and int64
MAX_FILE_BYTES = 128 * 2**20   # ~2.5M rows (MOT20's largest gt has ~1M): the parse peaks near 0.6 GB
MOT_CLASSES = tuple(range(1, 14))  # pedestrian .. crowd (TrackEval's class_name_to_class_id)
PEDESTRIAN_CLASS = 1
DISTRACTOR_CLASSES = (2, 7, 8, 12)  # person_on_vehicle, static_person, distractor, reflection
CLASS_NAMES = {1: "pedestrian", 2: "person_on_vehicle", 3: "car", 4: "bicycle", 5: "motorbike",
               6: "non_mot_vehicle", 7: "static_person", 8: "distractor", 9: "occluder",
               10: "occluder_on_ground", 11: "occluder_full", 12: "reflection", 13: "crowd"}
_CHUNK_LINES = 65536
_PLAIN_FRAME = re.compile(r"[1-9][0-9]*")


class MOTFormatError(ValueError):
    """A malformed MOTChallenge file. ``path`` and ``line`` (1-based, or None) say where."""

    def __init__(self, path: str | os.PathLike | None, line: int | None, problem: str, rule: str = ""):
        self.path = None if path is None else str(path)
        self.line = line
        self.problem = problem
        self.rule = rule
        where = self.path or "<memory>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (file, 1-based line or None), which rule, and what is wrong."""

    path: str | None
    line: int | None
    rule: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.path or "<memory>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.severity} [{self.rule}] {self.message}"

    def to_error(self) -> MOTFormatError:
        return MOTFormatError(self.path, self.line, self.message, self.rule)


class ViolationLog:
    """Keeps the first ``limit`` violations and counts all of them (bounded, whatever the file)."""

    def __init__(self, limit: int = 50):
        self.limit = int(limit)
        self.kept: list[Violation] = []
        self.errors = 0
        self.warnings = 0

    def add(self, violation: Violation) -> None:
        if violation.severity == "error":
            self.errors += 1
        else:
            self.warnings += 1
        if len(self.kept) < self.limit:
            self.kept.append(violation)

    def count_more(self, count: int, severity: str = "error") -> None:
        """Count ``count`` further violations without keeping them (beyond what will be shown)."""
        if severity == "error":
            self.errors += int(count)
        else:
            self.warnings += int(count)

    @property
    def total(self) -> int:
        return self.errors + self.warnings

    @property
    def ok(self) -> bool:
        return self.errors == 0


@dataclass
class ScannedMOT:
    """What :func:`scan_mot_text` keeps: the good rows and the 1-based line each came from."""

    values: np.ndarray        # (N, C) float64
    line_numbers: np.ndarray  # (N,) int64
    num_columns: int


def split_fields(line: str) -> list[str]:
    """Fields of one stripped line: comma-separated (spaces around allowed) or whitespace-separated.
    One trailing empty field (a trailing comma) is dropped, as TrackEval's reader does."""
    if "," in line:
        fields = [field.strip() for field in line.split(",")]
        if fields and fields[-1] == "":
            fields.pop()
        return fields
    return line.split()


def resolve_semantics(kind: Kind, num_columns: int, semantics: Semantics) -> str:
    """'mot15' (no classes) or 'mot16' (class in column 8) for a gt file; 'auto' decides by the
    column count: MOT15's gt has 10 columns (world x, y, z), MOT16/17/20's has 9 (8 without visibility)."""
    if semantics not in ("auto", "mot15", "mot16"):
        raise ValueError(f"semantics must be 'auto', 'mot15' or 'mot16', got {semantics!r}")
    if kind != "gt":
        return "mot15"
    if semantics == "auto":
        return "mot15" if num_columns == 10 else "mot16"
    return semantics


def scan_mot_text(text: str, *, path: str | os.PathLike | None, kind: Kind, seq_length: int | None = None,
                  semantics: Semantics = "auto", log: ViolationLog | None = None,
                  trackeval_text: bool = False) -> ScannedMOT:
    """Parse and check MOT text. Without ``log`` the first error raises MOTFormatError (readers);
    with one, every violation is recorded and bad lines are skipped (validator). ``trackeval_text``
    adds the text-level frame rule (frame written exactly as TrackEval's "1".."N" keys)."""
    if kind not in MIN_COLUMNS:
        raise ValueError(f"kind must be 'gt', 'det' or 'results', got {kind!r}")
    path_text = None if path is None else str(path)

    def report(line: int | None, rule: str, message: str, severity: str = "error") -> None:
        violation = Violation(path_text, line, rule, message, severity)  # type: ignore[arg-type]
        if log is None:
            if severity == "error":
                raise violation.to_error()
            return
        log.add(violation)

    min_columns = MIN_COLUMNS[kind]
    num_columns: int | None = None
    first_line = 0
    # rows go straight into one array sized by the line count (never more rows than lines), so the
    # parse needs no second copy of the values
    capacity = text.count("\n") + text.count("\r") + 1  # >= the lines _iter_lines yields
    store: dict[str, np.ndarray] = {}
    filled = [0]
    pending: list[list[str]] = []
    pending_lines: list[int] = []

    def flush() -> None:
        if not pending:
            return
        try:
            block = np.array(pending, dtype=np.float64)
            block_lines = np.array(pending_lines, dtype=np.int64)
        except ValueError:  # find the lines that do not parse (rare: only for damaged files)
            good_rows, good_lines = [], []
            for fields, line_number in zip(pending, pending_lines):
                row = _parse_row(fields, line_number, report)
                if row is not None:
                    good_rows.append(row)
                    good_lines.append(line_number)
            block = np.array(good_rows, dtype=np.float64).reshape(len(good_rows), len(pending[0]))
            block_lines = np.array(good_lines, dtype=np.int64)
        if "values" not in store:
            store["values"] = np.empty((capacity, block.shape[1]), np.float64)
            store["lines"] = np.empty(capacity, np.int64)
        start, end = filled[0], filled[0] + len(block)
        store["values"][start:end] = block
        store["lines"][start:end] = block_lines
        filled[0] = end
        pending.clear()
        pending_lines.clear()

    for line_number, raw in enumerate(_iter_lines(text), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        fields = split_fields(stripped)
        count = len(fields)
        if count < min_columns or count > MAX_COLUMNS:
            what = {"gt": "gt needs frame, id, left, top, width, height, flag, class",
                    "det": "detections need frame, id, left, top, width, height, confidence",
                    "results": "results need frame, id, left, top, width, height, confidence"}[kind]
            bound = f"at least {min_columns}" if count < min_columns else f"at most {MAX_COLUMNS}"
            report(line_number, "columns", f"{count} columns, expected {bound} ({what})")
            continue
        if num_columns is None:
            num_columns, first_line = count, line_number
        elif count != num_columns:
            report(line_number, "columns", f"{count} columns, but line {first_line} has {num_columns} "
                                           "(one column count per file)")
            continue
        frame_value = _parse_float(fields[0]) if trackeval_text else None
        if (frame_value is not None and frame_value >= 1 and frame_value.is_integer()
                and not _PLAIN_FRAME.fullmatch(fields[0])):  # other frame values: the numeric rules speak
            report(line_number, "frame", f"frame written as {fields[0]!r}: TrackEval only accepts the plain "
                                         "integers '1'..'seqLength' (no sign, decimals or leading zeros)")
        pending.append(fields)
        pending_lines.append(line_number)
        if len(pending) >= _CHUNK_LINES:
            flush()
    flush()

    columns = num_columns or {"gt": 9, "det": 10, "results": 10}[kind]
    if "values" in store:
        values, lines = store["values"][:filled[0]], store["lines"][:filled[0]]
    else:
        values, lines = np.zeros((0, columns), np.float64), np.zeros(0, np.int64)
    values, lines = _check_values(values, lines, kind=kind, seq_length=seq_length, semantics=semantics,
                                  report=report, log=log, text=text)
    return ScannedMOT(values=values, line_numbers=lines, num_columns=columns)


def _iter_lines(text: str):
    """The lines of ``text`` one by one (\n, \r\n or \r end a line), without a list of all of them
    and without io.StringIO (which holds 4 bytes per character: 4x the file in memory)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", start)
        if stop < 0:
            yield text[start:]
            return
        yield text[start:stop]
        start = stop + 1


def _lines_at(text: str, wanted: set[int]) -> dict[int, str]:
    """The text of the given 1-based lines (numbered as the scan numbers them)."""
    found = {}
    for line_number, raw in enumerate(_iter_lines(text), start=1):
        if line_number in wanted:
            found[line_number] = raw
            if len(found) == len(wanted):
                break
    return found


def _parse_float(field: str) -> float | None:
    try:
        return float(field)
    except ValueError:
        return None


def _parse_row(fields: list[str], line_number: int, report: Callable) -> list[float] | None:
    row = []
    for column, field in enumerate(fields, start=1):
        value = _parse_float(field)
        if value is None:
            report(line_number, "number", f"column {column} is not a number: {field!r}")
            return None
        row.append(value)
    return row


def _first(mask: np.ndarray, limit: int) -> np.ndarray:
    return np.flatnonzero(mask)[:limit]


def _check_values(values: np.ndarray, lines: np.ndarray, *, kind: Kind, seq_length: int | None,
                  semantics: Semantics, report: Callable, log: ViolationLog | None,
                  text: str) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised row rules; bad rows are reported (first few per rule) and dropped."""
    if not len(values):
        return values, lines
    limit = 1 if log is None else max(1, log.limit)
    bad = np.zeros(len(values), bool)

    def rule(mask: np.ndarray, name: str, message: Callable[[int], str], severity: str = "error") -> None:
        rows = np.flatnonzero(mask & ~bad)
        for row in rows[:limit]:
            report(int(lines[row]), name, message(int(row)), severity)
        if log is not None and len(rows) > limit:
            log.count_more(len(rows) - limit, severity)
        if severity == "error":
            bad[:] |= mask

    finite = np.isfinite(values)
    nonfinite_rows = ~finite.all(axis=1)
    rule(nonfinite_rows, "number",
         lambda r: f"column {int(np.flatnonzero(~finite[r])[0]) + 1} is {_show(values[r, ~finite[r]][0])} "
                   "(NaN/inf not allowed)")
    frames, ids = values[:, 0], values[:, 1]
    with np.errstate(invalid="ignore"):
        frame_integer = np.floor(frames) == frames
        rule(~frame_integer, "frame", lambda r: f"frame {_show(frames[r])} is not an integer")
        rule(frames < 1, "frame", lambda r: f"frame {_show(frames[r])} < 1 (frames are 1-based)")
        rule(frames > MAX_FRAME, "frame",
             lambda r: f"frame {_show(frames[r])} is absurd (more than {MAX_FRAME}); refused before anything "
                       "is sized by it")
        if seq_length is not None:
            rule(frames > seq_length, "frame",
                 lambda r: f"frame {_show(frames[r])} is beyond seqLength {seq_length}")
        id_integer = np.floor(ids) == ids
        rule(~id_integer, "id", lambda r: f"id {_show(ids[r])} is not an integer")
        if kind != "det":
            rule(ids < 0, "id", lambda r: f"negative id {_show(ids[r])}")
        rule(np.abs(ids) > MAX_ID, "id",
             lambda r: f"id {_show(ids[r])} is not exactly representable (ids must be integers of at most 2**53)")
        # A decimal text such as 4503599627370496.3 parses to an integer float: check large ids' text.
        suspicious = _first((np.abs(ids) >= 2**24) & ~bad, len(values))
        if suspicious.size:
            texts = _lines_at(text, {int(lines[row]) for row in suspicious})
            inexact = np.zeros(len(values), bool)
            for row in suspicious:
                fields = split_fields(texts[int(lines[row])].strip())
                try:
                    inexact[row] = Decimal(fields[1]) != Decimal(float(ids[row]))
                except (InvalidOperation, IndexError):
                    inexact[row] = True
            rule(inexact, "id", lambda r: f"id {split_fields(texts[int(lines[r])].strip())[1]!r} is not an "
                                          "integer that float64 holds exactly")
        width, height = values[:, 4], values[:, 5]
        if kind == "det":
            rule((width < 0) | (height < 0), "box",
                 lambda r: f"negative box size {width[r]:g}x{height[r]:g} (the tracker needs x2 >= x1)")
        else:
            rule((width <= 0) | (height <= 0), "box",
                 lambda r: f"non-positive box size {width[r]:g}x{height[r]:g} (TrackEval scores it with IoU 0)",
                 severity="warning")
        columns = values.shape[1]
        if kind == "gt" and resolve_semantics(kind, columns, semantics) == "mot16":
            classes = np.trunc(values[:, 7])
            rule(~np.isin(classes, MOT_CLASSES), "gt-class",
                 lambda r: f"class {_show(values[r, 7])} is not a MOTChallenge class 1..13 (TrackEval refuses it "
                           "when it removes distractors; 1 = pedestrian)")
        if kind == "results" and columns >= 8:
            rule(np.trunc(values[:, 7]) > 1, "results-class",
                 lambda r: f"column 8 is {_show(values[r, 7])}: TrackEval reads it as the class and refuses "
                           "anything above 1 (write -1, or 1 for pedestrian)")
    keep = ~bad
    if kind != "det":
        _check_duplicates(values, lines, keep, report, limit, log)
    if not keep.all():
        values, lines = values[keep], lines[keep]
    return values, lines


def _check_duplicates(values: np.ndarray, lines: np.ndarray, keep: np.ndarray, report: Callable,
                      limit: int, log: ViolationLog | None) -> None:
    """(frame, id) pairs that repeat, compared as int64 pairs (never packed into one number)."""
    rows = np.flatnonzero(keep)
    if rows.size < 2:
        return
    frames = values[rows, 0].astype(np.int64)
    ids = values[rows, 1].astype(np.int64)
    order = np.lexsort((lines[rows], ids, frames))
    f, i = frames[order], ids[order]
    same = np.flatnonzero((f[1:] == f[:-1]) & (i[1:] == i[:-1]))
    for k in same[:limit]:
        first, second = rows[order[k]], rows[order[k + 1]]
        report(int(lines[second]), "duplicate-id",
               f"duplicate (frame {int(values[second, 0])}, id {int(values[second, 1])}), first on line "
               f"{int(lines[first])} (TrackEval aborts on an id twice in one frame)")
    if log is not None and same.size > limit:
        log.count_more(same.size - limit)
    if same.size:
        keep[rows[order[same + 1]]] = False


def _show(value: float) -> str:
    """A number as it would be written: integers without '.0' (exact up to 2**63), else repr."""
    value = float(value)
    if not np.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    return repr(value)
