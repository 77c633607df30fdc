"""The review queue in the window: a "Review queue" dock (stviewer.views.review_dock), marks on the
timeline (and on the comparison timeline's review lane), and the queue built for the window's run by
the engine in a background job whenever the dock is shown or the run changes."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget

from stviewer.compare.install import window_editor
from stviewer.compare.jobs import Job
from stviewer.compare.review import ReviewQueue, entries_from_queue
from stviewer.compare.style import REVIEW_RGB
from stviewer.views.review_dock import ReviewDock

DOCK_WIDTH, DOCK_SHARE = 520, 0.4  # px, and at most this share of the window's width, when shown


class ReviewUI:
    def __init__(self, window, *, compare_timeline=None, threaded: bool = True):
        self.window = window
        self.threaded = threaded
        self.queue = ReviewQueue(window.state, editor=lambda: window_editor(window), prepare_labels=self._labels_from_run,
                                 parent=window)
        self.dock_widget = ReviewDock(self.queue)
        self.dock = QDockWidget("Review queue", window, objectName="reviewDock")
        self.dock.setWidget(self.dock_widget)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        tracks = getattr(window, "tracks_dock", None)
        if tracks is not None:  # a tab beside Tracks: the list gets the column's height, not a sliver of it
            window.tabifyDockWidget(tracks, self.dock)
        self.dock.setVisible(False)
        self._compare_timeline = compare_timeline
        # one mark per item at the top of the timeline's action plot
        self.marks = pg.ScatterPlotItem(symbol="t", size=9, pen=pg.mkPen(None), brush=pg.mkBrush(*REVIEW_RGB, 230))
        self.marks.setZValue(90)
        timeline = getattr(window, "timeline", None)
        if timeline is not None:
            timeline.actions_plot.addItem(self.marks, ignoreBounds=True)
        self._job: Job | None = None
        self._built_for = None
        self.queue.itemsChanged.connect(self._draw_marks)
        self.queue.message.connect(lambda text: window.statusBar().showMessage(text, 8000))
        self.dock.visibilityChanged.connect(lambda visible: self.build() if visible else None)
        self.dock.toggleViewAction().triggered.connect(lambda on: self.show() if on else None)
        window.state.videoChanged.connect(self._on_video)
        window.state.runChanged.connect(self._on_run)
        window.state.resultsChanged.connect(self._on_run)

    def add_menu_actions(self, menu) -> None:
        action = self.dock.toggleViewAction()
        action.setText("&Review queue")
        action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        menu.addSeparator()
        menu.addAction(action)

    def show(self) -> None:
        """Show the dock in front of its tab group and build the queue of the shown run."""
        self.dock.setVisible(True)
        self.dock.raise_()
        width = min(DOCK_WIDTH, int(self.window.width() * DOCK_SHARE))
        if self.dock.width() < width:  # the list's columns need room: widen the right column once
            self.window.resizeDocks([self.dock], [width], Qt.Orientation.Horizontal)
        self.build()

    # ---- building -----------------------------------------------------------------------------------
    def _on_video(self) -> None:
        self._wait()  # the video (and its cache) goes away: no job may still read it
        self._built_for = None
        self.queue.set_entries([])

    def _on_run(self) -> None:
        if self.dock.isVisible():
            self.build()

    def build(self) -> None:
        """Build the queue for the window's run (complete runs only: a running model is still changing it)."""
        run = self.window.state.run
        reader = None if run is None else run.reader
        if reader is None or not run.has_result.all():
            self.queue.set_entries([], run_name=None if run is None else run.name)
            self._built_for = None
            return
        key = (id(run), run.version)
        if key == self._built_for:
            return
        self._built_for = key
        rows = reader.track_rows()
        margins, embeddings = reader.track_margin_rows(), reader.track_embedding_rows()
        probs = reader.track_action_probs_rows()
        missing = reader.identity_missing_reason
        num_frames = run.num_frames

        def score():
            from engine.compare.review import review_queue

            queue = review_queue(rows, num_frames=num_frames, margins=margins, embeddings=embeddings,
                                 track_action_probs=probs)
            notes = queue.notes + ((missing,) if missing and not any(missing in n for n in queue.notes) else ())
            return entries_from_queue(queue), notes

        job = Job(score, parent=self.dock)
        job.succeeded.connect(lambda result, name=run.name: self._on_built(job, result, name))
        job.failed.connect(lambda reason: self._on_failed(job, reason))
        self._wait()
        self._job = job
        self.window.statusBar().showMessage(f"Review queue: scoring run {run.name}…")
        job.start(threaded=self.threaded)

    def _on_built(self, job, result, run_name: str) -> None:
        if job is not self._job:
            return
        self._wait()
        entries, notes = result
        self.queue.set_entries(entries, run_name=run_name, notes=notes)
        self.window.statusBar().showMessage(f"Review queue: {len(entries)} items for run {run_name}", 8000)

    def _on_failed(self, job, reason: str) -> None:
        if job is not self._job:
            return
        self._wait()
        self._built_for = None
        self.window.error_reporter("Review queue failed", reason)

    def _wait(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.wait()

    def _labels_from_run(self) -> bool:
        """No label set is being edited: start one from the reviewed run (the editing UI's own way)."""
        editing = getattr(self.window, "editing", None)
        run = self.window.state.run
        if editing is None or run is None or run.name != self.queue.run_name:
            return False
        return bool(editing.create_label_set("run"))

    def close(self) -> None:
        self._wait()

    def _draw_marks(self) -> None:
        frames = self.queue.frames().astype(np.float64)
        self.marks.setData(x=frames, y=np.full(len(frames), 0.97))
        if self._compare_timeline is not None:
            self._compare_timeline.set_review_frames(frames.astype(np.int64))
