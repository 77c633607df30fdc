"""The metrics dock: any run against any label set (MOTA, IDF1, HOTA, FP, FN, IDSW) and the run's ID switches
against the labels; clicking a switch jumps to its frame and selects the label track.

Widgets never compute metrics: ``compute_metrics`` calls the engine (``engine.io`` evaluation of a run
against a label set and ``engine.compare.id_switches``) and runs in a worker thread, debounced after edits
(``MetricsWorker``); with ``threaded=False`` it runs synchronously (tests). Only the newest request's result
is shown: requests made while one is computing replace each other, and the worker runs the last one next.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGridLayout, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from stviewer.workers import _RunThread

DEBOUNCE_MS = 400  # after the last edit: a burst of edits costs one recomputation
SHOWN_METRICS = (("MOTA", "MOTA", "{:.3f}"), ("IDF1", "IDF1", "{:.3f}"), ("HOTA", "HOTA", "{:.3f}"),
                 ("FP", "FP", "{:d}"), ("FN", "FN", "{:d}"), ("IDSW", "IDSW", "{:d}"))


@dataclass(frozen=True)
class MetricsJob:
    """A snapshot of what to evaluate (copied arrays: edits made meanwhile cannot change it).

    run_rows    (N, 7) float64 [frame, id, x1, y1, x2, y2, score] of the run, 0-based frames, xyxy pixels
    labels      an engine.labels LabelSet snapshot (anything ``engine.io``'s evaluation accepts)
    """

    run_name: str
    label_name: str
    run_rows: np.ndarray
    labels: object
    num_frames: int
    generation: int = 0


@dataclass
class MetricsOutcome:
    generation: int
    run_name: str
    label_name: str
    summary: dict = field(default_factory=dict)
    switches: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int64))  # [frame, label, prev, new]
    seconds: float = 0.0
    error: str | None = None


def compute_metrics(job: MetricsJob) -> MetricsOutcome:
    """Evaluate ``job`` with the engine's functions (no Qt): summary numbers and the ID-switch events."""
    from engine.compare import TrackTable, id_switches
    from stviewer.editing.adapters import evaluate_run_on_labels, label_table

    t0 = time.perf_counter()
    out = MetricsOutcome(job.generation, job.run_name, job.label_name)
    try:
        out.summary = evaluate_run_on_labels(job.run_rows, job.labels)
        out.switches = id_switches(TrackTable.from_rows(job.run_rows), label_table(job.labels),
                                   num_frames=job.num_frames)
    except Exception as exc:  # noqa: BLE001 - shown in the panel; a worker thread must never raise into Qt
        out.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, (ValueError, KeyError)) else str(exc)
    out.seconds = time.perf_counter() - t0
    return out


class MetricsWorker(QObject):
    """Debounced evaluation. ``request(make_job)``: ``make_job()`` is called when the debounce fires (so a
    burst of edits snapshots only once); the outcome arrives through ``finished``."""

    finished = Signal(object)  # MetricsOutcome

    def __init__(self, *, threaded: bool = True, debounce_ms: int = DEBOUNCE_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.threaded = threaded
        self._make_job: Callable[[], MetricsJob | None] | None = None
        self._timer = QTimer(self, singleShot=True, interval=debounce_ms)
        self._timer.timeout.connect(self._start)
        self._thread: _RunThread | None = None
        self._outcome: MetricsOutcome | None = None
        self._generation = 0
        self.last: MetricsOutcome | None = None

    def request(self, make_job: Callable[[], MetricsJob | None], *, now: bool = False) -> None:
        self._make_job = make_job
        self._generation += 1
        if now or not self.threaded:
            self._timer.stop()
            self._start()
        else:
            self._timer.start()

    def is_busy(self) -> bool:
        return self._thread is not None or self._timer.isActive()

    def _start(self) -> None:
        if self._thread is not None or self._make_job is None:
            return  # the running job's end starts the newest request
        make, self._make_job = self._make_job, None
        job = make()
        if job is None:
            return
        job = MetricsJob(**{**job.__dict__, "generation": self._generation})
        if not self.threaded:
            self._deliver(compute_metrics(job))
            return

        def work() -> None:
            self._outcome = compute_metrics(job)

        self._thread = _RunThread(work)
        self._thread.setObjectName("stviewer-metrics")
        self._thread.finished.connect(self._on_thread_done)
        self._thread.start()

    def _on_thread_done(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.wait()
        outcome, self._outcome = self._outcome, None
        if outcome is not None:
            self._deliver(outcome)
        if self._make_job is not None and not self._timer.isActive():
            self._start()

    def _deliver(self, outcome: MetricsOutcome) -> None:
        self.last = outcome
        self.finished.emit(outcome)

    def wait(self, timeout_s: float = 30.0) -> MetricsOutcome | None:
        """Block until nothing is pending (tests, closing); returns the last outcome."""
        from PySide6.QtCore import QCoreApplication

        deadline = time.monotonic() + timeout_s
        if self._timer.isActive():
            self._timer.stop()
            self._start()
        while self._thread is not None and time.monotonic() < deadline:
            self._thread.wait(50)
            QCoreApplication.processEvents()
        return self.last

    def shutdown(self) -> None:
        self._timer.stop()
        self._make_job = None
        if self._thread is not None:
            self._thread.wait()
            self._thread = None


class MetricsPanel(QWidget):
    """Pick a run and a label set; shows their metrics and the run's ID switches. ``jumpRequested(frame,
    label_track_id)`` when a switch is clicked (the window moves there and selects the track)."""

    jumpRequested = Signal(int, int)
    pairChanged = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.run_combo = QComboBox()
        self.label_combo = QComboBox()
        for combo in (self.run_combo, self.label_combo):
            combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
            combo.activated.connect(lambda _i: self.pairChanged.emit())
        pick = QFormLayout()
        pick.setContentsMargins(0, 0, 0, 0)
        pick.addRow("Run", self.run_combo)
        pick.addRow("vs labels", self.label_combo)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        self.value_labels: dict[str, QLabel] = {}
        for i, (key, title, _fmt) in enumerate(SHOWN_METRICS):
            name = QLabel(title)
            name.setStyleSheet("color: #9aa0a6;")
            value = QLabel("–", objectName=f"metric_{key}")
            value.setStyleSheet("font-size: 13pt; font-weight: bold;")
            grid.addWidget(name, 0, i)
            grid.addWidget(value, 1, i)
            self.value_labels[key] = value
        self.status = QLabel("")
        self.status.setStyleSheet("color: #9aa0a6;")
        self.status.setWordWrap(True)
        self.switch_table = QTableWidget(0, 4)
        self.switch_table.setHorizontalHeaderLabels(["frame", "label", "run ID", "→ run ID"])
        self.switch_table.verticalHeader().setVisible(False)
        self.switch_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.switch_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.switch_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.switch_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.switch_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.switch_table.cellClicked.connect(self._on_switch_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(pick)
        layout.addLayout(grid)
        layout.addWidget(self.status)
        self.switches_title = QLabel("ID switches")
        layout.addWidget(self.switches_title)
        layout.addWidget(self.switch_table, 1)
        self._switches = np.zeros((0, 4), np.int64)

    # ---- choices ----------------------------------------------------------------------------
    def set_choices(self, runs: list[str], label_sets: list[str], *, run: str | None = None,
                    label_set: str | None = None) -> None:
        """Fill the combos, keeping the current picks when they still exist."""
        for combo, names, want in ((self.run_combo, runs, run), (self.label_combo, label_sets, label_set)):
            current = want if want is not None else combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(list(names))
            i = combo.findText(current) if current else -1
            combo.setCurrentIndex(i if i >= 0 else (0 if names else -1))
            combo.blockSignals(False)

    def pair(self) -> tuple[str | None, str | None]:
        return (self.run_combo.currentText() or None, self.label_combo.currentText() or None)

    # ---- results ------------------------------------------------------------------------------
    def show_pending(self) -> None:
        self.status.setText("recomputing…")

    def clear(self, reason: str) -> None:
        for value in self.value_labels.values():
            value.setText("–")
        self.status.setText(reason)
        self._fill_switches(np.zeros((0, 4), np.int64))

    def show_outcome(self, outcome: MetricsOutcome) -> None:
        if outcome.error:
            self.clear(f"cannot evaluate: {outcome.error}")
            return
        for key, _title, fmt in SHOWN_METRICS:
            value = outcome.summary.get(key)
            self.value_labels[key].setText("–" if value is None else fmt.format(int(value) if "d" in fmt else value))
        self.status.setText(f"{outcome.run_name} vs {outcome.label_name} · computed in {outcome.seconds * 1000:.0f} ms")
        self._fill_switches(outcome.switches)

    def _fill_switches(self, switches: np.ndarray) -> None:
        self._switches = np.asarray(switches, np.int64).reshape(-1, 4)
        table = self.switch_table
        table.setRowCount(len(self._switches))
        for r, row in enumerate(self._switches):
            for c, v in enumerate(row):
                text = str(int(v)) if c == 0 else f"#{int(v)}"
                table.setItem(r, c, QTableWidgetItem(text))
        self.switches_title.setText(f"ID switches ({len(self._switches)}) — click one to jump there")

    def switches(self) -> np.ndarray:
        return self._switches

    def _on_switch_clicked(self, row: int, _col: int) -> None:
        if 0 <= row < len(self._switches):
            frame, label_id = int(self._switches[row, 0]), int(self._switches[row, 1])
            self.jumpRequested.emit(frame, label_id)
