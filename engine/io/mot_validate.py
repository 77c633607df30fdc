"""Check MOTChallenge files, sequence folders and TrackEval layouts against :mod:`engine.io.mot_rules`.

What ``stv validate-mot`` and every export run. Accepted targets:

* a file: ``gt.txt`` (gt), ``det.txt`` (detections), ``seqinfo.ini``, anything else a results file
  (``kind`` overrides); a gt/det file finds its sequence's seqinfo.ini beside it or one folder up;
* a sequence folder: ``SEQ/seqinfo.ini`` with ``gt/gt.txt`` and/or ``det/det.txt``;
* a TrackEval layout: a folder with ``seqmaps/BENCH-SPLIT.txt`` and ``BENCH-SPLIT/SEQ/...`` (TrackEval's
  GT_FOLDER, e.g. ``data/gt/mot_challenge``), or a folder above it holding ``gt/mot_challenge`` (and
  ``trackers/mot_challenge/BENCH-SPLIT/TRACKER/data/SEQ.txt``, checked against the gt's seqLength);
* a results folder: ``SEQ.txt`` files, each a tracker's results (a flat folder's gt.txt / det.txt
  are checked as gt / detections).

TrackEval reads seqinfo.ini with ``configparser`` (section ``[Sequence]`` spelled so, ``seqLength`` an
int, no repeated keys) and the seqmap with ``csv`` (first line a header, then one sequence per line).
"""
from __future__ import annotations

import configparser
import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.io.mot_rules import (MAX_FILE_BYTES, MAX_FRAME, Kind, MOTFormatError, Semantics, Violation,
                                 ViolationLog, scan_mot_text)
from engine.io.paths import PathKindError, read_regular_text

MOT15_BENCHMARK = "MOT15"


@dataclass
class ValidationReport:
    """Violations found (the first ``log.limit``, all counted) and the files that were checked."""

    log: ViolationLog
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.log.ok

    def lines(self) -> list[str]:
        out = [str(v) for v in self.log.kept]
        hidden = self.log.total - len(self.log.kept)
        if hidden > 0:
            out.append(f"... and {hidden} more (showing the first {len(self.log.kept)})")
        return out

    def summary(self) -> str:
        verdict = "OK" if self.ok else "FAILED"
        return (f"{verdict}: {len(self.files)} file(s) checked, {self.log.errors} error(s), "
                f"{self.log.warnings} warning(s)")

    def raise_if_failed(self, what: str) -> None:
        """MOTFormatError carrying the first error (and the count) when a rule was broken."""
        if self.ok:
            return
        first = next(v for v in self.log.kept if v.severity == "error")
        more = f" (and {self.log.errors - 1} more error(s))" if self.log.errors > 1 else ""
        raise MOTFormatError(first.path, first.line, f"{what} breaks [{first.rule}] {first.message}{more}",
                             first.rule)


def _read(path: Path, what: str, log: ViolationLog, max_bytes: int = MAX_FILE_BYTES) -> str | None:
    try:
        return read_regular_text(path, what, max_bytes=max_bytes)
    except UnicodeDecodeError as exc:
        log.add(Violation(str(path), None, "text", f"not UTF-8 text ({exc.reason})"))
    except PathKindError as exc:
        log.add(Violation(str(path), None, "file", str(exc).removeprefix(f"{path}: ")))
    except OSError as exc:
        log.add(Violation(str(path), None, "file", f"cannot be read ({exc.strerror or exc})"))
    return None


def check_mot_file(path: str | os.PathLike, *, kind: Kind, log: ViolationLog, seq_length: int | None = None,
                   semantics: Semantics = "auto") -> None:
    """Every rule of :mod:`engine.io.mot_rules`, TrackEval's frame text rule included, into ``log``."""
    path = Path(path)
    text = _read(path, f"MOT {kind} file", log)
    if text is not None:
        scan_mot_text(text, path=path, kind=kind, seq_length=seq_length, semantics=semantics, log=log,
                      trackeval_text=True)


def check_seqinfo(path: str | os.PathLike, *, log: ViolationLog) -> int | None:
    """seqinfo.ini as TrackEval reads it (configparser, ``[Sequence]``, int seqLength); its seqLength."""
    path = Path(path)
    text = _read(path, "seqinfo.ini", log, max_bytes=1 << 20)
    if text is None:
        return None
    return check_seqinfo_text(text, path=path, log=log)


def check_seqinfo_text(text: str, *, path: str | os.PathLike, log: ViolationLog) -> int | None:
    """:func:`check_seqinfo` on text (what an export is about to write)."""
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        message = str(exc).splitlines()[0]
        log.add(Violation(str(path), line, "seqinfo", f"configparser (what TrackEval uses) refuses it: {message}"))
        return None
    if "Sequence" not in parser:
        log.add(Violation(str(path), None, "seqinfo", "no [Sequence] section (TrackEval reads exactly "
                                                      "'[Sequence]', case-sensitive)"))
        return None
    section = parser["Sequence"]
    value = section.get("seqLength")
    line = _line_of_key(text, "seqlength")
    if value is None:
        log.add(Violation(str(path), None, "seqinfo", "[Sequence] has no seqLength"))
        return None
    try:
        seq_length = int(value)
    except ValueError:
        log.add(Violation(str(path), line, "seqinfo", f"seqLength {value!r} is not an integer (TrackEval: int())"))
        return None
    if not 1 <= seq_length <= MAX_FRAME:
        log.add(Violation(str(path), line, "seqinfo", f"seqLength {seq_length} outside 1..{MAX_FRAME}"))
        return None
    for key in ("name", "imDir", "frameRate", "imWidth", "imHeight", "imExt"):
        if section.get(key) is None:
            log.add(Violation(str(path), None, "seqinfo", f"[Sequence] has no {key} (MOTChallenge files have it; "
                                                          "TrackEval only needs seqLength)", "warning"))
    return seq_length


def _line_of_key(text: str, key: str) -> int | None:
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip().lower().startswith(key) and "=" in raw:
            return number
    return None


def check_sequence_folder(folder: Path, *, log: ViolationLog, files: list[str], semantics: Semantics = "auto"
                          ) -> int | None:
    """SEQ/seqinfo.ini, SEQ/gt/gt.txt, SEQ/det/det.txt (those present; seqinfo.ini required)."""
    seqinfo = folder / "seqinfo.ini"
    seq_length = None
    if seqinfo.exists():
        files.append(str(seqinfo))
        seq_length = check_seqinfo(seqinfo, log=log)
    else:
        log.add(Violation(str(seqinfo), None, "layout", "missing: TrackEval reads seqLength from it"))
    for kind, relative in (("gt", "gt/gt.txt"), ("det", "det/det.txt")):
        target = folder / relative
        if target.exists():
            files.append(str(target))
            check_mot_file(target, kind=kind, log=log, seq_length=seq_length, semantics=semantics)  # type: ignore[arg-type]
    return seq_length


def read_seqmap(path: Path, log: ViolationLog) -> list[str]:
    """Sequences of a TrackEval seqmap (csv: a header line, then one name per line; blank names skipped)."""
    text = _read(path, "seqmap", log, max_bytes=16 << 20)
    if text is None:
        return []
    names = []
    for i, row in enumerate(csv.reader(io.StringIO(text))):
        if i == 0 or not row or row[0] == "":
            continue
        names.append(row[0])
    if not names:
        log.add(Violation(str(path), None, "layout", "the seqmap lists no sequence (line 1 is a header)"))
    return names


def check_trackeval_gt_folder(gt_folder: Path, *, log: ViolationLog, files: list[str],
                              trackers_folder: Path | None = None) -> None:
    """TrackEval's GT_FOLDER: every seqmaps/BENCH-SPLIT.txt with its BENCH-SPLIT/SEQ folders, and the
    trackers' results for those sequences when ``trackers_folder`` is given."""
    seqmaps = sorted((gt_folder / "seqmaps").glob("*.txt"))
    if not seqmaps:
        log.add(Violation(str(gt_folder / "seqmaps"), None, "layout", "no seqmaps/BENCH-SPLIT.txt"))
    for seqmap in seqmaps:
        files.append(str(seqmap))
        bench_split = seqmap.stem
        benchmark = bench_split.rsplit("-", 1)[0]
        semantics: Semantics = "mot15" if benchmark == MOT15_BENCHMARK else "mot16"
        if "-" not in bench_split:
            log.add(Violation(str(seqmap), None, "layout", f"seqmap name {bench_split!r} is not BENCHMARK-SPLIT"))
        lengths: dict[str, int | None] = {}
        for seq in read_seqmap(seqmap, log):
            folder = gt_folder / bench_split / seq
            if not folder.is_dir():
                log.add(Violation(str(seqmap), None, "layout", f"sequence {seq!r} has no folder {folder}"))
                continue
            if not (folder / "gt" / "gt.txt").is_file():
                log.add(Violation(str(folder / "gt" / "gt.txt"), None, "layout", "missing (TrackEval needs it)"))
            lengths[seq] = check_sequence_folder(folder, log=log, files=files, semantics=semantics)
        tracker_root = None if trackers_folder is None else trackers_folder / bench_split
        if tracker_root is not None and tracker_root.is_dir():
            for tracker in sorted(p for p in tracker_root.iterdir() if p.is_dir()):
                for seq, seq_length in lengths.items():
                    results = tracker / "data" / f"{seq}.txt"
                    if not results.exists():
                        log.add(Violation(str(results), None, "layout", f"tracker {tracker.name!r} has no results "
                                                                        f"for {seq!r}"))
                        continue
                    files.append(str(results))
                    check_mot_file(results, kind="results", log=log, seq_length=seq_length)


def kind_for_name(name: str) -> Kind:
    """gt.txt holds gt, det.txt detections, any other .txt a tracker's results (MOTChallenge's names)."""
    return "gt" if name == "gt.txt" else "det" if name == "det.txt" else "results"


def validate_mot_path(path: str | os.PathLike, *, kind: Kind | None = None, limit: int = 50,
                      semantics: Semantics = "auto") -> ValidationReport:
    """Validate a file or folder (see the module docstring); never raises for bad content."""
    path = Path(path)
    report = ValidationReport(ViolationLog(limit))
    log, files = report.log, report.files
    try:
        is_dir = path.is_dir()
        exists = path.exists()
    except OSError as exc:
        log.add(Violation(str(path), None, "file", f"cannot be accessed ({exc})"))
        return report
    if not exists:
        log.add(Violation(str(path), None, "file", "no such file or folder"))
        return report
    if not is_dir:
        files.append(str(path))
        if kind is None and path.name.lower() == "seqinfo.ini":
            check_seqinfo(path, log=log)
            return report
        kind = kind or kind_for_name(path.name)
        seq_length = None
        if kind in ("gt", "det"):
            from engine.io.mot import find_seqinfo

            seqinfo = find_seqinfo(path)
            if seqinfo is not None:
                files.append(str(seqinfo))
                seq_length = check_seqinfo(seqinfo, log=log)
        check_mot_file(path, kind=kind, log=log, seq_length=seq_length, semantics=semantics)
        return report
    if (path / "seqmaps").is_dir():
        trackers = path.parent.parent / "trackers" / path.name if path.parent.name == "gt" else None
        check_trackeval_gt_folder(path, log=log, files=files, trackers_folder=trackers)
    elif (path / "gt" / "mot_challenge" / "seqmaps").is_dir():
        check_trackeval_gt_folder(path / "gt" / "mot_challenge", log=log, files=files,
                                  trackers_folder=path / "trackers" / "mot_challenge")
    elif (path / "seqinfo.ini").exists() or (path / "gt").is_dir() or (path / "det").is_dir():
        check_sequence_folder(path, log=log, files=files, semantics=semantics)
    else:
        results = sorted(p for p in path.glob("*.txt"))
        if not results:
            log.add(Violation(str(path), None, "layout", "neither a sequence folder (seqinfo.ini, gt/gt.txt), a "
                                                         "TrackEval layout (seqmaps/) nor a folder of results *.txt"))
        for result in results:
            files.append(str(result))
            check_mot_file(result, kind=kind or kind_for_name(result.name), log=log)
    return report
