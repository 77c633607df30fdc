"""CompareSession: the comparison's model (a plain QObject with signals, no widgets).

It holds the two compared sources (A and B: runs or label sets), an optional reference label set, one
ViewerState per pane (the panes share the window's video and frame: each pane state mirrors the main
state and carries its own run and selection), the display mode, and the whole-run comparison computed
by the engine (stviewer.compare.analysis) in a background job. Runs that do not exist yet are computed
first, one after the other, by the window's Session (stviewer.compare.run_queue).

The runs' readers belong to the Session's open cache; whenever the Session reopens the cache (after
a worker, a model change) the comparison takes fresh readers, and while a worker writes the file the
panes show no runs (this process cannot read a file it is writing).
"""
from __future__ import annotations

import numpy as np
from typing import Callable

from PySide6.QtCore import QObject, Signal

from stviewer.compare.analysis import (COLUMNS_TO_TRACKS, ComparisonResult, FrameDiff, compare_runs,
                                       comparison_table, frame_diff)
from stviewer.compare.jobs import Job
from stviewer.compare.run_queue import RunQueue, run_of_model
from stviewer.compare.sources import RowsRunData, SourceSpec, compared_rows, results_records
from stviewer.run_data import RunData
from stviewer.state import ViewerState

MODES = ("side", "overlay")
OWN_BOXES = "boxes"  # the panes' boxes are drawn by the comparison's own overlay, coloured by the diff


class CompareSession(QObject):
    """``start(a, b, labels=...)`` opens a comparison in the window's open cache; ``stop()`` ends it."""

    activeChanged = Signal(bool)
    runsChanged = Signal()  # run_a / run_b / labels were (re)loaded or dropped
    comparisonChanged = Signal()  # a new whole-run comparison (or None)
    tableChanged = Signal()  # the metrics table (computed after the comparison: it takes longer)
    modeChanged = Signal(str)
    status = Signal(str)
    error = Signal(str, str)

    def __init__(self, state: ViewerState, session, *, threaded: bool = True, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.session = session
        self.threaded = threaded
        self.pane_states = (ViewerState(self), ViewerState(self))
        for pane in self.pane_states:
            pane.overlays[OWN_BOXES] = False
        self.active = False
        self.mode = "side"
        self.spec_a: SourceSpec | None = None
        self.spec_b: SourceSpec | None = None
        self.labels_name: str | None = None
        self.run_a: RunData | None = None
        self.run_b: RunData | None = None
        self.labels: RowsRunData | None = None
        self.comparison = None  # engine.compare.diff.Comparison, once computed
        self.table: list[dict] = []  # the metrics table: one dict per compared item (stv eval's keys)
        self.note = ""  # what the comparison could not do (e.g. different action classes)
        self.queue = RunQueue(session, self)
        self.queue.finished.connect(self._on_queue_finished)
        self.queue.progressed.connect(lambda model: self.status.emit(f"Comparison: computing the run of {model}…"))
        self._job: Job | None = None  # the comparison job, then the table job
        self._inputs: dict = {}
        self._abandoned: list[Job] = []
        # the label set being edited, when it is the named one (unsaved edits included); set by the window
        self.live_label_set: Callable[[str], object | None] = lambda _name: None
        state.videoChanged.connect(self._on_video)
        state.frameChanged.connect(self._on_frame)
        state.overlaysChanged.connect(self._sync_overlays)
        session.runsChanged.connect(self._on_cache_reloaded)
        session.workerStarted.connect(self._on_worker_started)
        self._on_video()

    # ---- opening / closing ----------------------------------------------------------------------
    @property
    def specs(self) -> tuple[SourceSpec | None, SourceSpec | None]:
        return self.spec_a, self.spec_b

    def start(self, a: SourceSpec, b: SourceSpec, *, labels: str | None = None) -> bool:
        """Compare ``a`` with ``b`` (and each against label set ``labels`` when given). Runs of checkpoints
        that the cache lacks are computed first. False (and ``error``) when there is nothing to compare."""
        if self.state.video is None:
            self.error.emit("Cannot compare", "open a video first")
            return False
        if a == b:
            self.error.emit("Cannot compare", f"A and B are the same ({a.describe()})")
            return False
        self.stop()
        self.spec_a, self.spec_b, self.labels_name = a, b, labels
        self.active = True
        self.activeChanged.emit(True)
        models = [s.name for s in (a, b) if s.kind == "model"]
        missing = self.queue.missing(models)
        if missing:
            self.status.emit(f"Comparison: computing {len(missing)} missing run(s), one after the other…")
            self.queue.start(missing)
        else:
            self._load_sources()
        return True

    def reload(self) -> None:
        """Take the sources again (e.g. after edits of a compared label set) and recompute."""
        if self.active and not self.queue.is_active() and not self.session.is_running():
            self._load_sources()

    def stop(self) -> None:
        self.queue.stop()
        self._cancel_job()
        was_active = self.active
        self.active = False
        self.spec_a = self.spec_b = None
        self.labels_name = None
        self._set_runs(None, None, None)
        if was_active:
            self.activeChanged.emit(False)

    def computing(self) -> bool:
        """True while missing runs are being computed or the comparison is being worked out."""
        return self.queue.is_active() or self._job is not None

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"compare mode must be one of {MODES}, got {mode!r}")
        if mode != self.mode:
            self.mode = mode
            self.modeChanged.emit(mode)

    def set_labels(self, name: str | None) -> None:
        """Choose the reference label set (None: none; the table then shows the runs' agreement)."""
        if name == self.labels_name:
            return
        self.labels_name = name
        if self.active and not self.queue.is_active():
            self._load_sources()

    # ---- loading ----------------------------------------------------------------------------------
    def _load_sources(self) -> None:
        """Take the sources from the session's open cache and start the comparison job."""
        cache = self.session.cache
        if not self.active:
            return
        if cache is None:
            self._set_runs(None, None, None)
            return
        try:
            run_a = self._load(self.spec_a)
            run_b = self._load(self.spec_b)
            labels = self._load(SourceSpec("labels", self.labels_name)) if self.labels_name else None
        except (OSError, ValueError, KeyError) as exc:
            self.error.emit("Cannot compare", str(exc))
            self.stop()
            return
        self._set_runs(run_a, run_b, labels)
        self._start_job()

    def _load(self, spec: SourceSpec) -> RunData:
        cache = self.session.cache
        n = self.state.num_frames
        if spec.kind == "labels":
            from engine.io.export import load_current_label_set

            labels = self.live_label_set(spec.name) or load_current_label_set(cache, spec.name)
            if labels.num_frames != n:
                raise ValueError(f"label set {spec.name!r} has {labels.num_frames} frames, the video {n}")
            return RowsRunData.from_label_set(labels)
        name = spec.name
        if spec.kind == "model":
            name, _complete = run_of_model(self.session, spec.name)
            if name is None:
                raise KeyError(f"{cache.path}: no run of {spec.describe()}")
        return RunData.from_reader(cache.run(name))

    def _set_runs(self, run_a, run_b, labels) -> None:
        self.run_a, self.run_b, self.labels = run_a, run_b, labels
        self.comparison = None
        self.table = []
        self.note = ""
        for pane, run in zip(self.pane_states, (run_a, run_b)):
            pane.set_run(run)
        self.runsChanged.emit()
        self.comparisonChanged.emit()
        self.tableChanged.emit()

    def _on_queue_finished(self, ok: bool, reason: str) -> None:
        if not self.active:
            return
        if ok:
            self._load_sources()
        else:
            self.error.emit("Cannot compare", reason)
            self.stop()

    def _on_cache_reloaded(self, names: list) -> None:
        # the session opened its cache again: the old readers are closed; take new ones
        if self.active and not self.queue.is_active() and names and not self.session.is_running():
            self._load_sources()

    def _on_worker_started(self) -> None:
        # the worker writes the cache: this process must not read it until the worker is done
        if self.active and (self.run_a is not None or self.run_b is not None):
            self._cancel_job()
            self._set_runs(None, None, None)

    # ---- the whole-run comparison ---------------------------------------------------------------
    def _start_job(self) -> None:
        self._cancel_job()
        if self.run_a is None or self.run_b is None:
            return
        run_a, run_b, labels = self.run_a, self.run_b, self.labels
        records = None
        if labels is not None:  # the table's inputs: the exported files' records (read here, not in the job)
            from engine.io.export import label_set_gt_records

            records = dict(gt=label_set_gt_records(labels.label_set),
                           items=[(run.name, results_records(run)) for run in (run_a, run_b)])
        args = dict(records=records, rows_a=compared_rows(run_a), rows_b=compared_rows(run_b),
                    probs_a=None if isinstance(run_a, RowsRunData) else run_a.action_probs.copy(),
                    probs_b=None if isinstance(run_b, RowsRunData) else run_b.action_probs.copy(),
                    label_rows=None if labels is None else compared_rows(labels),
                    num_frames=self.state.num_frames, names=(run_a.name, run_b.name),
                    labels_name=None if labels is None else labels.name)
        self._inputs = args
        self.status.emit("Comparison: matching the runs…")
        job = Job(lambda: compare_runs(**args), parent=self)
        job.succeeded.connect(lambda comparison: self._on_comparison(job, comparison))
        job.failed.connect(lambda reason: self._on_job_failed(job, reason))
        self._job = job
        job.start(threaded=self.threaded)

    def _on_comparison(self, job, result: ComparisonResult) -> None:
        if job is not self._job:
            return  # an older job's late result
        self._finish_job()
        comparison = result.comparison
        self.comparison, self.note = comparison, result.note
        self.status.emit(f"Comparison ready: {len(comparison.disagreement_frames)} frames where "
                         f"{comparison.names[0]} and {comparison.names[1]} disagree"
                         + (f" ({result.note})" if result.note else "") + "; scoring the table…")
        self.comparisonChanged.emit()
        self._start_table_job()

    def _start_table_job(self) -> None:
        args = self._inputs
        job = Job(lambda: comparison_table(**args), parent=self)
        job.succeeded.connect(lambda table: self._on_table(job, table))
        job.failed.connect(lambda reason: self._on_job_failed(job, reason))
        self._job = job
        job.start(threaded=self.threaded)

    def _on_table(self, job, table: list) -> None:
        if job is not self._job:
            return
        self._finish_job()
        self.table = list(table)
        self.status.emit(f"Comparison table ready ({len(self.table)} rows)")
        self.tableChanged.emit()

    def _on_job_failed(self, job, reason: str) -> None:
        if job is not self._job:
            return
        self._finish_job()
        self.error.emit("Comparison failed", reason)

    def _finish_job(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.wait()

    def _cancel_job(self) -> None:
        """Drop the running job's result without waiting for it (a long table must not freeze the window);
        it only holds arrays copied for it, and ``wait_for_jobs`` joins it before the video closes."""
        job, self._job = self._job, None
        if job is not None and job.is_running():
            self._abandoned.append(job)
        self._abandoned = [j for j in self._abandoned if j.is_running()]

    def wait_for_jobs(self) -> None:
        """Join every job still running (the current and the abandoned ones)."""
        for job in self._abandoned + ([self._job] if self._job is not None else []):
            job.wait()
        self._abandoned = []

    def close(self) -> None:
        self.stop()
        self.wait_for_jobs()

    # ---- navigation --------------------------------------------------------------------------------
    def next_disagreement(self) -> int | None:
        """Go to the first disagreement after the current frame; its frame, or None (stays)."""
        return self._jump(+1)

    def previous_disagreement(self) -> int | None:
        return self._jump(-1)

    def _jump(self, direction: int) -> int | None:
        if self.comparison is None:
            return None
        c, here = self.comparison, self.state.frame
        k = c.next_disagreement(here) if direction > 0 else c.previous_disagreement(here)
        if k is not None:
            self.state.set_frame(k)
        return k

    # ---- mirroring the window's state into the panes --------------------------------------------
    def _on_video(self) -> None:
        video = self.state.video
        for pane in self.pane_states:
            if pane.video is not video:
                pane.set_video(video)
        if video is None:
            self.stop()
            self.wait_for_jobs()  # no thread outlives the video the comparison was of
        self._sync_overlays()
        self._on_frame(self.state.frame)

    def _on_frame(self, k: int) -> None:
        for pane in self.pane_states:
            pane.set_frame(k)

    def _sync_overlays(self) -> None:
        for pane in self.pane_states:
            for name, on in self.state.overlays.items():
                if name != OWN_BOXES:
                    pane.set_overlay(name, on)
            pane.set_heatmap_opacity(self.state.heatmap_opacity)
            pane.trail_length = self.state.trail_length

    def frame_diff(self, k: int) -> FrameDiff | None:
        """Frame k's boxes of A and B with their diff status (None until both runs are loaded). The
        last answer is kept: both panes ask for the same frame."""
        run_a, run_b = self.run_a, self.run_b
        if run_a is None or run_b is None:
            return None
        key = (int(k), id(run_a), run_a.version, id(run_b), run_b.version)
        if self._frame_diff_key != key:
            # the runs' in-memory track rows (no per-frame cache read: alpha is not needed here)
            rows_a, rows_b = run_a.rows_between(k, k), run_b.rows_between(k, k)
            self._frame_diff = frame_diff(k, rows_a[:, COLUMNS_TO_TRACKS], rows_b[:, COLUMNS_TO_TRACKS])
            self._frame_diff_key = key
        return self._frame_diff

    _frame_diff_key = None
    _frame_diff: FrameDiff | None = None

    def frames_of(self, which: str) -> np.ndarray:
        """Disagreement frames of one kind (see Comparison.kinds)."""
        if self.comparison is None:
            return np.zeros(0, np.int64)
        return self.comparison.frames_of(which)
