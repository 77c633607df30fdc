"""Export label sets as MOTChallenge ground truth, and runs or label sets as MOT results.

Ground truth (what TrackEval's MOTChallenge evaluator reads unchanged)::

    OUT/SEQ/gt/gt.txt          9 columns: frame, id, left, top, width, height, consider, class, visibility
    OUT/SEQ/seqinfo.ini        name, imDir, frameRate, seqLength, imWidth, imHeight, imExt (the video's)

With ``layout="trackeval"`` the same files go where TrackEval looks by default (its GT_FOLDER is
``data/gt/mot_challenge/``, sequences in ``BENCHMARK-SPLIT/``, the sequence list in
``seqmaps/BENCHMARK-SPLIT.txt``: a header line, then one name per line; its TRACKERS_FOLDER is
``data/trackers/mot_challenge/BENCHMARK-SPLIT/TRACKER/data/SEQ.txt``)::

    OUT/gt/mot_challenge/BENCH-SPLIT/SEQ/gt/gt.txt
    OUT/gt/mot_challenge/BENCH-SPLIT/SEQ/seqinfo.ini
    OUT/gt/mot_challenge/seqmaps/BENCH-SPLIT.txt      (an existing seqmap gains SEQ, keeps the others)
    OUT/trackers/mot_challenge/BENCH-SPLIT/           (runs exported with the same layout land here)

so ``--GT_FOLDER OUT/gt/mot_challenge --TRACKERS_FOLDER OUT/trackers/mot_challenge --BENCHMARK BENCH
--SPLIT_TO_EVAL SPLIT`` evaluates it. Results: ``OUT/SEQ.txt`` (10 columns: frame, id, left, top, width,
height, confidence, -1, -1, -1), or ``OUT/trackers/mot_challenge/BENCH-SPLIT/RUN/data/SEQ.txt``.

Conventions: frames and pixels 1-based (``engine.io.mot`` converts); outside frames are not written,
interpolated and model-derived frames are; IDs are the label set's own (never renumbered); numbers
are never rounded: each is the shortest decimal that re-imports to exactly the stored value
(:func:`engine.io.mot.ltwh_reproducing`; float32 for runs). Every export is checked with
:mod:`engine.io.mot_validate` before anything is written and the written layout again after;
a violation raises :class:`~engine.io.mot_rules.MOTFormatError` (file, line, rule).

The conversions :func:`label_set_gt_records` and :func:`run_results_records` are the ONE way a label
set or run becomes MOT rows: the in-app metrics use them too (``engine.metrics.run_eval``), so
``stv eval`` on exported files gives the app's numbers exactly.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from engine.io.mot import (MOTRecords, SeqInfo, ltwh_reproducing, mot_text, seqinfo_text, shortest_float32,
                           write_text_atomic)
from engine.io.mot_rules import ViolationLog, scan_mot_text
from engine.io.mot_validate import check_seqinfo_text, validate_mot_path
from engine.io.paths import PathKindError

if TYPE_CHECKING:
    from engine.cache import ResultsCache, RunReader
    from engine.labels import LabelSet

Layout = Literal["plain", "trackeval"]
_TOKEN = re.compile(r"^[A-Za-z0-9_.+]+$")
TRACKEVAL_GT = Path("gt") / "mot_challenge"
TRACKEVAL_TRACKERS = Path("trackers") / "mot_challenge"


@dataclass(frozen=True)
class SequenceMeta:
    """What seqinfo.ini says about the video a cache belongs to."""

    name: str
    num_frames: int
    fps: float
    width: int
    height: int
    im_dir: str = "img1"
    im_ext: str = ".jpg"

    @classmethod
    def of_cache(cls, cache: "ResultsCache", *, name: str | None = None) -> "SequenceMeta":
        """The cache's video: its name (file stem, or a MOT folder's seqinfo name), real frame count,
        fps and size; a MOT image folder's own imDir/imExt are kept."""
        video = cache.video
        path = Path(video.path)
        im_dir, im_ext, seq_name = "img1", ".jpg", path.stem if path.suffix else path.name
        seqinfo = path / "seqinfo.ini" if not path.suffix else None
        if seqinfo is not None and seqinfo.is_file():
            from engine.io.mot import read_seqinfo

            try:
                info = read_seqinfo(seqinfo)
                im_dir, im_ext, seq_name = info.im_dir, info.im_ext, info.name
            except (OSError, ValueError):
                pass
        return cls(name=check_sequence_name(name or seq_name), num_frames=int(video.num_frames),
                   fps=float(video.fps), width=int(video.width), height=int(video.height), im_dir=im_dir,
                   im_ext=im_ext)

    def seqinfo(self) -> SeqInfo:
        return SeqInfo(name=self.name, seq_length=self.num_frames, frame_rate=self.fps, im_width=self.width,
                       im_height=self.height, im_dir=self.im_dir, im_ext=self.im_ext)


@dataclass
class ExportResult:
    """The files an export wrote (sequence folder or results file first)."""

    written: list[Path] = field(default_factory=list)
    sequence_dir: Path | None = None
    results_file: Path | None = None
    rows: int = 0


def check_sequence_name(name: str) -> str:
    if not isinstance(name, str) or not name or not re.fullmatch(r"[A-Za-z0-9_.+-]{1,200}", name) \
            or name.startswith("."):
        raise ValueError(f"sequence name must be 1-200 letters, digits, '_', '.', '+' or '-' and not start with "
                         f"'.': {name!r} (give --name)")
    return name


def _check_token(value: str, what: str) -> str:
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise ValueError(f"{what} must be letters, digits, '_', '.' or '+' (TrackEval joins BENCHMARK-SPLIT "
                         f"with '-'), got {value!r}")
    return value


# ----------------------------------------------------------------------------- conversions


def label_set_gt_records(label_set: "LabelSet") -> MOTRecords:
    """9-column MOT gt rows of a label set: every frame where a track is inside (keyframe,
    interpolated or model box), sorted by frame then id; outside frames are absent. Class (column 8),
    consider flag and visibility are each row's own (a track may be distractor 8 in some frames)."""
    from engine.labels.model import (COL_CLASS, COL_CONSIDER, COL_FRAME, COL_ID, COL_VISIBILITY, COL_X1,
                                     COL_Y2)

    rows = label_set.to_rows()
    values = np.empty((len(rows), 9), np.float64)
    values[:, 0] = rows[:, COL_FRAME] + 1
    values[:, 1] = rows[:, COL_ID]
    values[:, 2:6] = ltwh_reproducing(rows[:, COL_X1:COL_Y2 + 1])
    values[:, 6] = (rows[:, COL_CONSIDER] != 0).astype(np.float64)
    values[:, 7] = rows[:, COL_CLASS]
    values[:, 8] = rows[:, COL_VISIBILITY]
    order = np.lexsort((values[:, 1], values[:, 0]))
    return MOTRecords(values=values[order], kind="gt")


def label_set_results_records(label_set: "LabelSet", *, scored_only: bool = True) -> MOTRecords:
    """10-column results rows of a label set (confidence 1, world coordinates -1).

    ``scored_only`` (default): only the rows TrackEval scores (class 1 pedestrian, consider flag set),
    i.e. what a tracker reproducing the annotation perfectly reports: such a file scored against the
    exported gt gives MOTA 1.0 (an ignored or non-pedestrian box in results would count as a false
    positive, a distractor's would be removed)."""
    gt = label_set_gt_records(label_set)
    rows = gt.values
    if scored_only:
        rows = rows[(rows[:, 6] != 0) & (rows[:, 7] == 1)]
    values = np.full((len(rows), 10), -1.0)
    values[:, :6] = rows[:, :6]
    values[:, 6] = 1.0
    return MOTRecords(values=values, kind="results")


def run_results_records(run: "RunReader") -> MOTRecords:
    """10-column results rows of a run's committed tracks. The cache stores float32: each number is
    the shortest decimal that re-imports to the same float32 (340.829, not 340.82899475097656)."""
    rows = run.track_rows()  # (N, 7) [frame, id, x1, y1, x2, y2, score], frame order
    values = np.full((len(rows), 10), -1.0)
    values[:, 0] = rows[:, 0] + 1
    values[:, 1] = rows[:, 1]
    values[:, 2:6] = ltwh_reproducing(rows[:, 2:6], dtype=np.float32)
    values[:, 6] = shortest_float32(rows[:, 6])
    order = np.lexsort((values[:, 1], values[:, 0]))
    return MOTRecords(values=values[order], kind="results")


# ----------------------------------------------------------------------------- writing


def _prevalidate(records: MOTRecords, text: str, *, path: Path, seq_length: int, what: str) -> None:
    """Check what is about to be written with the validator's rules; raise before writing anything."""
    log = ViolationLog(limit=5)
    scan_mot_text(text, path=path, kind=records.kind, seq_length=seq_length, semantics="mot16", log=log,
                  trackeval_text=True)
    _raise(log, what)


def _raise(log: ViolationLog, what: str) -> None:
    from engine.io.mot_validate import ValidationReport

    ValidationReport(log).raise_if_failed(what)


def export_label_set_gt(label_set: "LabelSet", out_dir: str | os.PathLike, *, meta: SequenceMeta,
                        layout: Layout = "plain", benchmark: str | None = None, split: str | None = None
                        ) -> ExportResult:
    """Write ``label_set`` as MOTChallenge gt + seqinfo.ini under ``out_dir`` (see the module docstring)."""
    if label_set.num_frames != meta.num_frames:
        raise ValueError(f"label set {label_set.name!r} spans {label_set.num_frames} frames but the video has "
                         f"{meta.num_frames}")
    out_dir = Path(out_dir)
    seq_dir, seqmap = _gt_locations(out_dir, meta.name, layout=layout, benchmark=benchmark, split=split)
    records = label_set_gt_records(label_set)
    gt_path = seq_dir / "gt" / "gt.txt"
    gt_text = mot_text(records.values)
    _prevalidate(records, gt_text, path=gt_path, seq_length=meta.num_frames, what="the exported gt")
    info_text = seqinfo_text(meta.seqinfo())
    log = ViolationLog(limit=5)
    check_seqinfo_text(info_text, path=seq_dir / "seqinfo.ini", log=log)
    _raise(log, "the exported seqinfo.ini")
    seqmap_text = _merged_seqmap(seqmap, meta.name) if seqmap is not None else None

    result = ExportResult(sequence_dir=seq_dir, rows=len(records))
    (seq_dir / "gt").mkdir(parents=True, exist_ok=True)
    result.written.append(write_text_atomic(gt_path, gt_text, what="gt.txt"))
    result.written.append(write_text_atomic(seq_dir / "seqinfo.ini", info_text, what="seqinfo.ini"))
    if seqmap is not None:
        seqmap.parent.mkdir(parents=True, exist_ok=True)
        result.written.append(write_text_atomic(seqmap, seqmap_text, what="seqmap"))
        (out_dir / TRACKEVAL_TRACKERS / seqmap.stem).mkdir(parents=True, exist_ok=True)
    report = validate_mot_path(out_dir / TRACKEVAL_GT if seqmap is not None else seq_dir, limit=5)
    report.raise_if_failed("the exported layout")
    return result


def export_results(records: MOTRecords, out_dir: str | os.PathLike, *, meta: SequenceMeta,
                   layout: Layout = "plain", benchmark: str | None = None, split: str | None = None,
                   tracker: str | None = None) -> ExportResult:
    """Write results rows as ``out_dir/SEQ.txt`` (or TrackEval's tracker layout, named ``tracker``)."""
    out_dir = Path(out_dir)
    if layout == "trackeval":
        bench_split = f"{_check_token(benchmark or '', 'benchmark')}-{_check_token(split or '', 'split')}"
        path = out_dir / TRACKEVAL_TRACKERS / bench_split / _check_token(tracker or "", "tracker name") / "data" \
            / f"{meta.name}.txt"
    elif layout == "plain":
        path = out_dir / f"{meta.name}.txt"
    else:
        raise ValueError(f"layout must be 'plain' or 'trackeval', got {layout!r}")
    text = mot_text(records.values)
    _prevalidate(records, text, path=path, seq_length=meta.num_frames, what="the exported results")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, text, what="results file")
    report = validate_mot_path(path, kind="results", limit=5)
    report.raise_if_failed("the exported results")
    return ExportResult(written=[path], results_file=path, rows=len(records))


def _gt_locations(out_dir: Path, name: str, *, layout: Layout, benchmark: str | None,
                  split: str | None) -> tuple[Path, Path | None]:
    if out_dir.exists() and not out_dir.is_dir():
        raise PathKindError(f"{out_dir}: --out must be a folder")
    if layout == "plain":
        if benchmark or split:
            raise ValueError("benchmark/split only apply to layout='trackeval'")
        return out_dir / name, None
    if layout != "trackeval":
        raise ValueError(f"layout must be 'plain' or 'trackeval', got {layout!r}")
    bench_split = f"{_check_token(benchmark or '', 'benchmark')}-{_check_token(split or '', 'split')}"
    gt_root = out_dir / TRACKEVAL_GT
    return gt_root / bench_split / name, gt_root / "seqmaps" / f"{bench_split}.txt"


def _merged_seqmap(path: Path, name: str) -> str:
    """TrackEval's seqmap: header 'name', then the sequences; an existing one keeps its entries."""
    from engine.io.mot_validate import read_seqmap

    names: list[str] = []
    if path.exists():
        log = ViolationLog(limit=5)
        names = read_seqmap(path, log)
        if log.errors and not any("lists no sequence" in v.message for v in log.kept):
            _raise(log, "the existing seqmap")
    if name not in names:
        names.append(name)
    return "name\n" + "".join(f"{n}\n" for n in names)


def load_current_label_set(cache: "ResultsCache", name: str) -> "LabelSet":
    """Label set ``name`` as the user last saw it: the cache's copy plus any later edits the app's
    autosave journal holds (``engine.labels.journal``); the journal is only read."""
    from engine.labels import journal as J

    path = J.journal_path_for(cache.path)
    if not path.is_file():
        return J.load(cache, name)
    log = J.LabelJournal.open(path, video_fingerprint=cache.video.fingerprint)
    try:
        return J.load(cache, name, log)
    finally:
        log.close()
