"""``install_editing(window)``: label-set editing in the main window, as one object the window holds
(``window.editing``): the editor and its undo stack, autosave, the mouse tool, timeline keyframe lanes, the
Labels and Metrics docks, the Edit / File / Help menu entries and the quit prompt. The window itself only
calls this once.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QDockWidget, QFileDialog, QInputDialog,
                               QLabel, QMessageBox, QRadioButton, QSpinBox, QVBoxLayout)

from stviewer.editing.autosave import AutoSaver
from stviewer.editing.editor import LabelEditor
from stviewer.editing.lanes import LabelLanes
from stviewer.editing.tools import EditTool
from stviewer.views.label_panel import LabelPanel
from stviewer.views.metrics_panel import MetricsJob, MetricsPanel, MetricsWorker

LABEL_SET_FROM_GT = "gt"  # the name a MOT sequence folder's gt/gt.txt gets when the folder is opened
LANE_REFRESH_MS = 150


class TrackIdDialog(QDialog):
    """After drawing a box: a new track (the suggested free ID) or an existing one."""

    def __init__(self, parent, *, suggested: int, existing: list[int]):
        super().__init__(parent)
        self.setWindowTitle("Track ID of the new box")
        self.new_radio = QRadioButton(f"New track #{suggested}")
        self.existing_radio = QRadioButton("Existing / chosen ID:")
        self.id_spin = QSpinBox(minimum=1, maximum=2**31 - 1, value=existing[0] if existing else suggested)
        group = QButtonGroup(self)
        group.addButton(self.new_radio)
        group.addButton(self.existing_radio)
        self.new_radio.setChecked(True)
        self.id_spin.valueChanged.connect(lambda _v: self.existing_radio.setChecked(True))
        self.suggested = suggested
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.new_radio)
        layout.addWidget(self.existing_radio)
        layout.addWidget(self.id_spin)
        if existing:
            shown = ", ".join(f"#{i}" for i in existing[:12]) + (" …" if len(existing) > 12 else "")
            layout.addWidget(QLabel(f"Tracks near this frame: {shown}"))
        layout.addWidget(buttons)

    def chosen_id(self) -> int:
        return self.suggested if self.new_radio.isChecked() else int(self.id_spin.value())


class _CloseGuard(QObject):
    """Asks before the window closes with unsaved label edits (Save / Discard / Cancel)."""

    def __init__(self, controller):
        super().__init__(controller.window)
        self.controller = controller

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if obj is self.controller.window and event.type() == QEvent.Type.Close:
            if not self.controller.confirm_close():
                event.ignore()
                return True
        return False


class EditingController(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.state = window.state
        self.session = window.session
        self.editor = LabelEditor(self.state, self)
        self.autosave = AutoSaver(self.session, self.editor, report_error=lambda t, m: window.error_reporter(t, m),
                                  parent=self)
        self.autosave.writable_cache = self._writable_cache
        view = window.video_view
        self.tool = EditTool(view, self.editor, self.state, ask_track_id=self._ask_track_id)
        view.edit_tool = self.tool
        self.lanes = LabelLanes(window.timeline, self.editor)
        self.metrics = MetricsWorker(parent=self)
        # dialogs are attributes so tests (and the edit-script hook) can answer them
        self.ask_int = self._ask_int
        self.ask_yes = self._ask_yes
        self.ask_close = self._ask_close
        self._build_docks()
        self._build_actions()
        self._connect()
        self.close_guard = _CloseGuard(self)
        window.installEventFilter(self.close_guard)
        self._refresh_label_sets()

    # ---- layout ------------------------------------------------------------------------------------
    def _build_docks(self) -> None:
        w = self.window
        self.label_panel = LabelPanel()
        self.labels_dock = QDockWidget("Labels", w, objectName="labelsDock")
        self.labels_dock.setWidget(self.label_panel)
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.labels_dock)
        self.metrics_panel = MetricsPanel()
        self.metrics_dock = QDockWidget("Metrics", w, objectName="metricsDock")
        self.metrics_dock.setWidget(self.metrics_panel)
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.metrics_dock)
        tracks = getattr(w, "tracks_dock", None)
        if tracks is not None:  # Labels beside Tracks, Metrics beside Actions: the right column stays readable
            w.tabifyDockWidget(tracks, self.labels_dock)
            tracks.raise_()
        actions = getattr(w, "actions_dock", None)
        if actions is not None:
            w.tabifyDockWidget(actions, self.metrics_dock)
            actions.raise_()

    def _action(self, text: str, slot, keys=(), *, menu=None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.window.addAction(action)
        if menu is not None:
            menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        w = self.window
        bar = w.menuBar()
        file_menu = next((a.menu() for a in bar.actions() if a.menu() and a.text().replace("&", "") == "File"), None)
        edit_menu = bar.addMenu("&Edit")
        if file_menu is not None:  # Edit right after File, as everywhere
            actions = bar.actions()
            i = actions.index(file_menu.menuAction())
            if i + 1 < len(actions) - 1:
                bar.insertMenu(actions[i + 1], edit_menu)
        stack = self.editor.stack
        self.undo_action = stack.createUndoAction(w, "&Undo")
        self.undo_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        self.redo_action = stack.createRedoAction(w, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for a in (self.undo_action, self.redo_action):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            w.addAction(a)
            edit_menu.addAction(a)
        edit_menu.addSeparator()
        A = self._action
        self.draw_action = A("&Draw a new box (then drag)", lambda: self.tool.set_mode("draw"), ["N"], menu=edit_menu)
        self.delete_action = A("&Delete box on this frame", self.delete_box, ["Del", "Backspace"], menu=edit_menu)
        self.delete_track_action = A("Delete whole &track", self.delete_track, ["Shift+Del"], menu=edit_menu)
        self.keyframe_action = A("Toggle &keyframe", self.toggle_keyframe, ["K"], menu=edit_menu)
        self.outside_action = A("&Outside from this frame (toggle)", self.toggle_outside, ["O"], menu=edit_menu)
        edit_menu.addSeparator()
        self.merge_action = A("&Merge: click the track to merge into the selected one", self.start_merge, ["M"],
                              menu=edit_menu)
        self.split_action = A("&Split the track at this frame", self.split_track, ["Alt+M"], menu=edit_menu)
        self.change_id_action = A("Change track &ID…", self.change_id, ["I"], menu=edit_menu)
        self.swap_action = A("S&wap IDs from this frame on…", self.swap_ids, ["Shift+I"], menu=edit_menu)
        edit_menu.addSeparator()
        self.prev_key_action = A("&Previous keyframe", lambda: self.jump_keyframe(-1), ["E"], menu=edit_menu)
        self.next_key_action = A("N&ext keyframe", lambda: self.jump_keyframe(1), ["R"], menu=edit_menu)
        self.cancel_action = A("Clear selection / cancel", self.tool.cancel, ["Esc"], menu=edit_menu)
        self.edit_actions = [self.draw_action, self.delete_action, self.delete_track_action, self.keyframe_action,
                             self.outside_action, self.merge_action, self.split_action, self.change_id_action,
                             self.swap_action, self.prev_key_action, self.next_key_action]
        if file_menu is not None:
            quit_action = next((a for a in file_menu.actions() if a.text().replace("&", "") == "Quit"), None)
            before = quit_action if quit_action is not None else None
            items = []
            self.save_action = A("&Save labels", self.autosave.save, [QKeySequence.StandardKey.Save])
            self.export_action = A("&Export MOT…", self.export_dialog)
            import_menu = file_menu.addMenu("&Import")
            self.import_gt_action = A("MOT &gt.txt as a label set…", lambda: self.import_dialog("gt"), menu=import_menu)
            self.import_results_action = A("MOT &results as a run…", lambda: self.import_dialog("results"),
                                           menu=import_menu)
            self.import_det_action = A("MOT &det.txt, tracked, as a run…", lambda: self.import_dialog("det"),
                                       menu=import_menu)
            items = [self.save_action, self.export_action, import_menu.menuAction()]
            if before is not None:
                file_menu.removeAction(import_menu.menuAction())
                for a in items:
                    file_menu.insertAction(before, a)
                file_menu.insertSeparator(before)
            else:
                for a in items[:2]:
                    file_menu.addAction(a)
        help_menu = next((a.menu() for a in bar.actions() if a.menu() and a.text().replace("&", "") == "Help"), None)
        if help_menu is None:
            help_menu = bar.addMenu("&Help")
        self.shortcuts_action = A("&Keyboard shortcuts", self.show_shortcuts, ["F1"], menu=help_menu)
        view_menu = next((a.menu() for a in bar.actions() if a.menu() and a.text().replace("&", "") == "View"), None)
        if view_menu is not None:
            view_menu.addAction(self.labels_dock.toggleViewAction())
            view_menu.addAction(self.metrics_dock.toggleViewAction())
        self._sync_enabled()

    # ---- wiring ------------------------------------------------------------------------------------
    def _connect(self) -> None:
        from PySide6.QtCore import QTimer

        ed, st, panel = self.editor, self.state, self.label_panel
        self._lane_timer = QTimer(self, singleShot=True, interval=LANE_REFRESH_MS)
        self._lane_timer.timeout.connect(self.refresh_lanes)
        ed.labelSetChanged.connect(self._on_label_set_changed)
        ed.edited.connect(self._on_edited)
        ed.refused.connect(lambda msg: self.window.statusBar().showMessage(f"Not done: {msg}", 8000))
        ed.message.connect(lambda msg: self.window.statusBar().showMessage(msg, 10000))
        st.selectionChanged.connect(lambda _t: self._show_track())
        st.frameChanged.connect(lambda _k: self._show_track())
        st.videoChanged.connect(self._on_video_changed)
        self.session.runsChanged.connect(lambda _names: self._refresh_label_sets())
        self.session.opened.connect(self._on_opened)
        self.autosave.stateChanged.connect(panel.set_save_state)
        panel.labelSetPicked.connect(self.open_label_set)
        panel.createRequested.connect(self.create_label_set)
        panel.saveRequested.connect(self.autosave.save)
        panel.changeIdRequested.connect(self.change_id)
        panel.classChosen.connect(lambda c: self._with_track(lambda t: ed.set_class(track_id=t, class_id=c)))
        panel.visibilityChosen.connect(lambda v: self._with_track(lambda t: self._set_visibility(t, v)))
        panel.ignoreChosen.connect(lambda on: self._with_track(lambda t: ed.set_consider(track_id=t, consider=not on)))
        self.metrics.finished.connect(self.metrics_panel.show_outcome)
        self.metrics_panel.pairChanged.connect(lambda: self.request_metrics(now=True))
        self.metrics_panel.jumpRequested.connect(self._jump_to_switch)
        st.runChanged.connect(self._refresh_label_sets)  # "from the run shown" needs a run

    def _set_visibility(self, track_id: int, value: float) -> None:
        t = self.editor.labels.track(track_id)
        if len(set(t.visibility.tolist())) == 1 and float(t.visibility[0]) == float(value):
            return  # editingFinished fires on focus loss too: no empty undo steps
        self.editor.set_visibility(track_id=track_id, visibility=value)

    def _with_track(self, edit) -> None:
        tid = self.state.selected_track
        if self.editor.labels is None or tid < 0 or tid not in self.editor.labels:
            self.window.statusBar().showMessage("Select a label track first (click its box)", 5000)
            return
        edit(tid)

    def _sync_enabled(self) -> None:
        on = self.editor.labels is not None
        for a in self.edit_actions:
            a.setEnabled(on)
        if hasattr(self, "save_action"):
            self.save_action.setEnabled(on)
            self.export_action.setEnabled(self.session.cache is not None or on)

    # ---- label sets ------------------------------------------------------------------------------
    def label_set_names(self) -> list[str]:
        names = set(self.session.cache.label_set_names) if self.session.cache is not None else set()
        try:
            journal = self.autosave.ensure_journal() if self._journal_exists() else None
            if journal is not None:
                names |= set(journal.label_set_names())
        except OSError:
            pass
        if self.editor.name:
            names.add(self.editor.name)
        return sorted(names)

    def _journal_exists(self) -> bool:
        path = self.autosave.journal_path()
        return path is not None and (path.exists() or self.autosave.journal is not None)

    def _refresh_label_sets(self) -> None:
        self.label_panel.set_label_sets(self.label_set_names(), self.editor.name)
        run = self.state.run
        self.label_panel.new_from_run_action.setEnabled(run is not None)
        self._refresh_metric_choices()
        self._sync_enabled()

    def _load(self, name: str):
        """The current state of ``name``: the cache's copy plus later journal entries."""
        from engine.labels.journal import load

        journal = self.autosave.ensure_journal() if self._journal_exists() else None
        cache = self.session.cache
        if cache is not None:
            return load(cache, name, journal)
        if journal is None:
            raise KeyError(f"no label set named {name!r}")
        labels = journal.replay(name, None)
        if labels is None:
            raise KeyError(f"no label set named {name!r}")
        return labels

    def open_label_set(self, name: str) -> bool:
        """Edit label set ``name`` ("" stops editing); False (error shown) if it cannot be read."""
        if name == (self.editor.name or ""):
            return True
        self.autosave.flush()
        if not name:
            self.editor.set_labels(None)
            return True
        try:
            labels = self._load(name)
        except (OSError, KeyError, ValueError) as exc:
            self.window.error_reporter("Cannot open label set", str(exc).strip("'\""))
            self._refresh_label_sets()
            return False
        self.editor.set_labels(labels)
        return True

    def _unique_name(self, base: str) -> str:
        names = set(self.label_set_names())
        if base not in names:
            return base
        i = 2
        while f"{base}-{i}" in names:
            i += 1
        return f"{base}-{i}"

    def start_label_set(self, labels) -> None:
        """Make ``labels`` (a new set) the edited one: snapshotted into the journal at once."""
        self.autosave.flush()
        self.editor.set_labels(labels)
        self.autosave.snapshot(labels)
        self._refresh_label_sets()

    def create_label_set(self, how: str, *, name: str | None = None, path: str | Path | None = None) -> bool:
        """A new label set: "empty", "run" (the run shown: the model's tracks) or "import" (a MOT gt file)."""
        from engine.labels import LabelSet

        video = self.state.video
        if video is None:
            self.window.error_reporter("No video", "Open a video before creating a label set")
            return False
        dims = dict(num_frames=len(video), width=int(video.width), height=int(video.height))
        try:
            if how == "empty":
                labels = LabelSet.empty(name=name or self._unique_name("labels"), **dims)
            elif how == "run":
                run = self.state.run
                if run is None:
                    raise ValueError("no run is shown: run the model or pick a run first")
                labels = LabelSet.from_run(run.track_rows(), name=name or self._unique_name(f"{run.name}-labels"),
                                           source_run=run.name, **dims)
            elif how == "import":
                if path is None:
                    path, _ = QFileDialog.getOpenFileName(self.window, "Import MOT ground truth", "",
                                                          "MOT gt (*.txt);;All files (*)")
                    if not path:
                        return False
                labels = self._gt_labels(Path(path), name=name)
            else:
                raise ValueError(f"unknown way to create a label set: {how!r}")
        except (OSError, ValueError) as exc:
            self.window.error_reporter("Cannot create label set", str(exc))
            return False
        self.start_label_set(labels)
        return True

    def _gt_labels(self, path: Path, *, name: str | None):
        from engine.io.mot import read_gt
        from engine.io.mot_import import label_set_from_gt

        video = self.state.video
        gt = read_gt(path, seq_length=len(video))
        default = path.parent.parent.name + "-gt" if path.parent.name == "gt" else path.stem
        return label_set_from_gt(gt, name=name or self._unique_name(default), num_frames=len(video),
                                 width=int(video.width), height=int(video.height))

    def _on_opened(self, path: str) -> None:
        """A MOT sequence folder brings its gt/gt.txt as a label set (once: later opens reuse it)."""
        folder = Path(path)
        gt = folder / "gt" / "gt.txt"
        if not folder.is_dir() or not gt.is_file() or self.state.video is None:
            return
        if LABEL_SET_FROM_GT in self.label_set_names():
            self.open_label_set(LABEL_SET_FROM_GT)
            return
        try:
            labels = self._gt_labels(gt, name=LABEL_SET_FROM_GT)
        except (OSError, ValueError) as exc:
            self.window.error_reporter("Cannot import the sequence's gt", str(exc))
            return
        self.start_label_set(labels)
        self.window.statusBar().showMessage(f"{gt} imported as label set {LABEL_SET_FROM_GT!r}", 8000)

    def _on_video_changed(self) -> None:
        """Another video: the previous one's label set and journal are let go (everything is flushed)."""
        if self.editor.labels is not None:
            self.autosave.flush()
            self.editor.set_labels(None)
        self.autosave.close_journal()
        self._refresh_label_sets()

    def _on_label_set_changed(self) -> None:
        editing = self.editor.labels is not None
        view = self.window.video_view
        view.label_source = self.editor.frame_boxes if editing else None
        self.window.timeline.lane_source = self.lanes if editing else None
        self.tool.set_mode("select")
        self.state.select_track(-1)
        self.window.timeline.refresh_data()
        self.lanes.draw_marks()
        view._redraw_overlays()
        self._refresh_label_sets()
        self.autosave._emit_state()
        self._show_track()
        if editing:
            self.request_metrics(now=True)

    # ---- reactions to edits ------------------------------------------------------------------------
    def _on_edited(self, change) -> None:
        self.window.video_view.redraw_labels()
        self._show_track()
        if not self._lane_timer.isActive():
            self._lane_timer.start()
        self.request_metrics()

    def refresh_lanes(self) -> None:
        self._lane_timer.stop()
        self.window.timeline.refresh_data()
        self.lanes.draw_marks()

    def _show_track(self) -> None:
        tid = self.state.selected_track
        info = self.editor.track_info(tid, self.state.frame) if tid >= 0 else None
        self.label_panel.show_track(info)

    # ---- metrics -----------------------------------------------------------------------------------
    def _refresh_metric_choices(self) -> None:
        runs = list(self.session.cache.run_names) if self.session.cache is not None else []
        run = self.state.run
        if run is not None and run.name not in runs:
            runs.append(run.name)
        self.metrics_panel.set_choices(runs, self.label_set_names(), run=run.name if run is not None else None,
                                       label_set=self.editor.name)

    def _metrics_job(self) -> MetricsJob | None:
        run_name, label_name = self.metrics_panel.pair()
        video = self.state.video
        if run_name is None or label_name is None or video is None:
            self.metrics_panel.clear("pick a run and a label set")
            return None
        try:
            run = self.state.run
            if run is not None and run.name == run_name:
                rows = run.track_rows().copy()
            else:
                rows = self.session.cache.run(run_name).track_rows()
            labels = self.editor.labels.copy() if label_name == self.editor.name else self._load(label_name)
        except (OSError, KeyError, ValueError, AttributeError) as exc:
            self.metrics_panel.clear(f"cannot evaluate: {exc}")
            return None
        self.metrics_panel.show_pending()
        return MetricsJob(run_name=run_name, label_name=label_name, run_rows=rows, labels=labels,
                          num_frames=len(video))

    def request_metrics(self, *, now: bool = False) -> None:
        if self.metrics_dock.isHidden() and not now:
            return
        self.metrics.request(self._metrics_job, now=now)

    def _jump_to_switch(self, frame: int, label_id: int) -> None:
        self.state.set_frame(frame)
        if self.editor.name == self.metrics_panel.pair()[1]:
            self.state.select_track(label_id)

    # ---- edit commands (keys, menus) ---------------------------------------------------------------
    def _selected(self) -> int | None:
        tid = self.state.selected_track
        if self.editor.labels is None or tid < 0 or tid not in self.editor.labels:
            self.window.statusBar().showMessage("Select a label box first (click it)", 5000)
            return None
        return tid

    def delete_box(self) -> None:
        tid = self._selected()
        if tid is not None:
            self.editor.delete_box(track_id=tid, frame=self.state.frame)

    def delete_track(self) -> None:
        tid = self._selected()
        if tid is not None and self.editor.delete_track(track_id=tid):
            self.state.select_track(-1)

    def toggle_keyframe(self) -> None:
        tid = self._selected()
        if tid is not None:
            self.editor.toggle_keyframe(track_id=tid, frame=self.state.frame)

    def toggle_outside(self) -> None:
        tid = self._selected()
        if tid is not None:
            self.editor.toggle_outside(track_id=tid, frame=self.state.frame)

    def start_merge(self) -> None:
        if self._selected() is not None:
            self.tool.set_mode("merge")
            self.window.statusBar().showMessage("Merge: click the box of the track to merge into the selected "
                                                "one (Esc cancels)", 8000)

    def split_track(self) -> None:
        tid = self._selected()
        if tid is not None:
            new_id = self.editor.next_free_id()
            if self.editor.split_track(track_id=tid, frame=self.state.frame, new_id=new_id):
                self.state.select_track(new_id)

    def change_id(self) -> None:
        tid = self._selected()
        if tid is None:
            return
        new_id = self.ask_int("Change track ID", f"New ID for track #{tid}:", tid)
        if new_id is None or new_id == tid:
            return
        labels = self.editor.labels
        swap = False
        if new_id in labels:
            from engine.labels import edits as E

            try:
                E.change_id(labels, track_id=tid, new_id=new_id)
            except ValueError as exc:
                if not self.ask_yes("ID already used", f"{exc}\n\nSwap the IDs of #{tid} and #{new_id} instead?"):
                    return
                swap = True
        if self.editor.change_id(track_id=tid, new_id=new_id, swap=swap):
            self.state.select_track(new_id)

    def swap_ids(self) -> None:
        tid = self._selected()
        if tid is None:
            return
        other = self.ask_int("Swap IDs from this frame", f"Swap #{tid} with which ID from frame {self.state.frame} on?",
                             tid)
        if other is not None and other != tid:
            self.editor.swap_ids(id_a=tid, id_b=other, frame=self.state.frame)

    def jump_keyframe(self, direction: int) -> None:
        k = self.editor.neighbour_keyframe(track_id=self.state.selected_track, frame=self.state.frame,
                                           direction=direction)
        if k is not None:
            self.state.set_frame(k)

    # ---- dialogs -------------------------------------------------------------------------------------
    def _ask_track_id(self, suggested: int, frame: int) -> int | None:
        boxes = self.editor.frame_boxes(max(0, frame - 1))
        nearby = sorted(set(boxes.ids.tolist())) if boxes is not None else []
        dialog = TrackIdDialog(self.window, suggested=suggested, existing=nearby)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.chosen_id()

    def _ask_int(self, title: str, label: str, value: int) -> int | None:
        v, ok = QInputDialog.getInt(self.window, title, label, value, 1, 2**31 - 1)
        return int(v) if ok else None

    def _ask_yes(self, title: str, text: str) -> bool:
        return QMessageBox.question(self.window, title, text) == QMessageBox.StandardButton.Yes

    def _ask_close(self, count: int) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved label edits",
                          f"Label set {self.editor.name!r} has {count} edit(s) not yet saved into the results "
                          f"cache (they are in the autosave journal).", parent=self.window)
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")

    def confirm_close(self) -> bool:
        """True when the window may close: nothing unsaved, or saved / discarded on the user's word."""
        if self.editor.labels is None or not self.autosave.has_unsaved():
            self.shutdown()
            return True
        answer = self.ask_close(self.autosave.unsaved_entries())
        if answer == "cancel":
            return False
        if answer == "save" and not self.autosave.save():
            return False  # the error was shown; the edits stay (in memory and the journal)
        if answer == "discard":
            self.autosave.discard()
        self.shutdown()
        return True

    def shutdown(self) -> None:
        self.metrics.shutdown()
        self.autosave.shutdown()

    def show_shortcuts(self) -> None:
        from stviewer.views.shortcuts import ShortcutsDialog

        self.shortcuts_dialog = ShortcutsDialog(self.window)
        self.shortcuts_dialog.show()

    # ---- export / import ---------------------------------------------------------------------------
    def export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Export MOT ground truth to folder")
        if folder:
            self.export_mot(folder)

    def export_mot(self, folder: str | Path, *, layout: str = "plain", benchmark: str | None = None,
                   split: str | None = None) -> Path | None:
        """The edited label set as MOT gt + seqinfo.ini under ``folder`` (validated by the engine)."""
        from engine.io.export import SequenceMeta, export_label_set_gt

        labels, cache = self.editor.labels, self.session.cache
        if labels is None or cache is None:
            self.window.error_reporter("Nothing to export", "Pick or create a label set first (Labels panel)")
            return None
        try:
            result = export_label_set_gt(labels, folder, meta=SequenceMeta.of_cache(cache), layout=layout,
                                         benchmark=benchmark, split=split)
        except (OSError, ValueError) as exc:
            self.window.error_reporter("Export failed", str(exc))
            return None
        self.window.statusBar().showMessage(f"Exported {result.rows} boxes to {result.sequence_dir} (validated "
                                            f"with TrackEval's rules)", 10000)
        return result.sequence_dir

    def import_dialog(self, kind: str) -> None:
        title = {"gt": "Import MOT gt.txt as a label set", "results": "Import MOT results as a run",
                 "det": "Import MOT det.txt (tracked) as a run"}[kind]
        path, _ = QFileDialog.getOpenFileName(self.window, title, "", "MOT text (*.txt);;All files (*)")
        if path:
            self.import_mot(kind, path)

    def import_mot(self, kind: str, path: str | Path, *, name: str | None = None) -> bool:
        """``kind`` "gt": a label set; "results": a run; "det": the built-in tracker's run on the detections."""
        if kind == "gt":
            return self.create_label_set("import", name=name, path=path)
        from engine.io.mot import read_detections, read_results
        from engine.io.mot_import import import_detections_run, import_results_run

        cache = self.session.cache
        path = Path(path)
        run_name = name or self._unique_run_name(path.stem if kind == "results" else f"{path.stem}-tracked")
        try:
            cache = self._writable_cache()
            n = len(self.state.video)
            if kind == "results":
                import_results_run(cache, read_results(path, seq_length=n), name=run_name)
            elif kind == "det":
                from engine.tracking import ByteTracker

                import_detections_run(cache, read_detections(path, seq_length=n), name=run_name,
                                      tracker=ByteTracker())
            else:
                raise ValueError(f"unknown import kind {kind!r}")
        except (OSError, ValueError) as exc:
            self.window.error_reporter("Import failed", str(exc))
            return False
        self.session._load_cache(run_name)  # the new run appears in the run list and is shown
        self._refresh_label_sets()
        self.window.statusBar().showMessage(f"{path.name} imported as run {run_name!r}", 8000)
        return True

    def _unique_run_name(self, base: str) -> str:
        names = set(self.session.cache.run_names) if self.session.cache is not None else set()
        name, i = base, 2
        while name in names:
            name, i = f"{base}-{i}", i + 1
        return name

    def _writable_cache(self):
        """The session's cache in append mode, created for the video when it has none yet."""
        from engine.io.mot_import import open_or_create_cache

        session = self.session
        if session.is_running():
            raise ValueError("a model run is being written into the cache; import when it has finished")
        if session.cache is not None and getattr(session.cache, "mode", "r") == "a":
            return session.cache
        if session.cache is not None:
            raise ValueError(f"{session.cache_path}: the results cache is read-only")
        cache = open_or_create_cache(session.cache_path, video=session.video_path)
        cache.close()
        session._load_cache(None)
        if session.cache is None or getattr(session.cache, "mode", "r") != "a":
            raise ValueError(f"{session.cache_path}: cannot open the results cache for writing")
        return session.cache


def install_editing(window) -> EditingController:
    """Add label-set editing to ``window`` (a stviewer MainWindow); returns the controller."""
    window.editing = EditingController(window)
    return window.editing
