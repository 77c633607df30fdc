"""The main window: video view in the centre, timeline dock below, action panel and track list on the
right, a toolbar for overlays and playback, and inference progress + Cancel in the status bar."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QPushButton, QSlider, QToolBar, QWidget)

from stviewer.compare.install import install_compare
from stviewer.editing import install_editing
from stviewer.playback import Playback
from stviewer.responsive import install_responsive_layout
from stviewer.session import Session
from stviewer.state import SPEEDS, ViewerState
from stviewer.views.action_panel import ActionPanel
from stviewer.views.run_notices import install_run_notices
from stviewer.views.timeline import Timeline
from stviewer.views.track_list import TrackList
from stviewer.views.video_view import VideoView

MAX_RECENT = 8
VIDEO_FILTER = "Videos and results (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.h5 *.hdf5);;All files (*)"
OVERLAY_LABELS = {"boxes": "Boxes", "trails": "Trails", "heatmap": "α heatmap", "scores": "Scores",
                  "detections": "Detections"}
OVERLAY_KEYS = {"boxes": "B", "trails": "T", "heatmap": "H", "scores": "S", "detections": "D"}
OVERLAY_TIPS = {"scores": "track scores in the box labels", "heatmap": "where the model attends (α), per frame",
                "detections": "the model's raw detections before tracking, as dashed boxes"}


def show_error_dialog(parent: QWidget, title: str, message: str) -> None:
    """Non-blocking: the app keeps running while the dialog is open."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.show()


class MainWindow(QMainWindow):
    """``error_reporter(title, message)`` shows errors (a non-modal dialog; tests replace it)."""

    def __init__(self, *, model: str | Path = "demo", device: str = "auto", infer_fn: Callable | None = None,
                 auto_infer: bool = True, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("stviewer")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else QSettings("stviewer", "stviewer")
        self.error_reporter: Callable[[str, str], None] = lambda title, msg: show_error_dialog(self, title, msg)
        self.state = ViewerState(self)
        self.session = Session(self.state, model=model, device=device, infer_fn=infer_fn, auto_infer=auto_infer,
                               parent=self)
        self.playback = Playback(self.state, self)
        self.video_view = VideoView(self.state)
        self.timeline = Timeline(self.state)
        self.action_panel = ActionPanel(self.state)
        self.track_list = TrackList(self.state)
        self.setCentralWidget(self.video_view)
        self._build_docks()
        self._build_toolbar()
        self._build_menus()
        self._build_status_bar()
        self.session.error.connect(lambda title, msg: self.error_reporter(title, msg))
        self.session.status.connect(lambda text: self.statusBar().showMessage(text))
        self.session.opened.connect(self._add_recent)
        self.session.runsChanged.connect(self._on_runs)
        self.session.workerStarted.connect(self._on_worker_started)
        self.session.workerProgress.connect(self._on_worker_progress)
        self.session.workerFinished.connect(self._on_worker_finished)
        self.state.runChanged.connect(self._on_run_changed)
        self.state.videoChanged.connect(self._on_video_changed)
        self.state.playingChanged.connect(lambda playing: self.play_action.setText("Pause" if playing else "Play"))
        self.state.overlaysChanged.connect(self._sync_controls)
        self.state.speedChanged.connect(lambda _s: self._sync_controls())
        install_compare(self)  # Compare menu, comparison view and docks (stviewer.compare)
        install_editing(self)  # label-set editing: Edit menu, Labels and Metrics docks (stviewer.editing)
        install_run_notices(self)  # status-bar note on damaged frames (stviewer.views.run_notices)
        install_responsive_layout(self)  # small windows: toolbar rows, docks tabbed (stviewer.responsive)
        self.resize(1440, 900)

    # ---- layout --------------------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.timeline_dock = QDockWidget("Timeline", self, objectName="timelineDock")
        self.timeline_dock.setWidget(self.timeline)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.timeline_dock)
        self.actions_dock = QDockWidget("Actions", self, objectName="actionsDock")
        self.actions_dock.setWidget(self.action_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.actions_dock)
        self.tracks_dock = QDockWidget("Tracks", self, objectName="tracksDock")
        self.tracks_dock.setWidget(self.track_list)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.tracks_dock)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.timeline_dock], [320], Qt.Orientation.Vertical)
        self.resizeDocks([self.actions_dock, self.tracks_dock], [340, 340], Qt.Orientation.Horizontal)
        self.resizeDocks([self.actions_dock, self.tracks_dock], [320, 400], Qt.Orientation.Vertical)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Controls", self, objectName="controls")
        bar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.play_action = QAction("Play", self, shortcut=QKeySequence(Qt.Key.Key_Space))
        self.play_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.play_action.triggered.connect(self.playback.toggle)
        bar.addAction(self.play_action)
        steps = [("|◀", Qt.Key.Key_Home, lambda: self.state.set_frame(0), "First frame (Home)"),
                 ("−10", Qt.Modifier.SHIFT | Qt.Key.Key_Left, lambda: self.state.step(-10), "Back 10 (Shift+←)"),
                 ("◀", Qt.Key.Key_Left, lambda: self.state.step(-1), "Previous frame (←)"),
                 ("▶", Qt.Key.Key_Right, lambda: self.state.step(1), "Next frame (→)"),
                 ("+10", Qt.Modifier.SHIFT | Qt.Key.Key_Right, lambda: self.state.step(10), "Forward 10 (Shift+→)"),
                 ("▶|", Qt.Key.Key_End, lambda: self.state.set_frame(self.state.num_frames - 1), "Last frame (End)")]
        self.step_actions = []
        for text, key, slot, tip in steps:
            action = QAction(text, self, shortcut=QKeySequence(key), toolTip=tip)
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            action.triggered.connect(slot)
            bar.addAction(action)
            self.step_actions.append(action)
        bar.addSeparator()
        bar.addWidget(QLabel(" Speed "))
        self.speed_combo = QComboBox()
        for speed in SPEEDS:
            self.speed_combo.addItem(f"{speed:g}×", speed)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed_combo.currentIndexChanged.connect(lambda i: self.state.set_speed(self.speed_combo.itemData(i)))
        bar.addWidget(self.speed_combo)
        self.playback_bar = bar
        # overlays and the run in a toolbar of their own: a narrow window puts it on a second row
        # (stviewer.responsive) instead of hiding half the controls behind the overflow button
        bar = QToolBar("Overlays", self, objectName="overlays")
        bar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.overlay_bar = bar
        self.overlay_actions: dict[str, QAction] = {}
        for name, label in OVERLAY_LABELS.items():
            action = QAction(label, self, checkable=True, checked=self.state.overlays[name],
                             shortcut=QKeySequence(OVERLAY_KEYS[name]), toolTip=f"{label} ({OVERLAY_KEYS[name]})")
            if name in OVERLAY_TIPS:
                action.setToolTip(f"{action.toolTip()}: {OVERLAY_TIPS[name]}")
            action.toggled.connect(lambda on, n=name: self.state.set_overlay(n, on))
            bar.addAction(action)
            self.overlay_actions[name] = action
        bar.addWidget(QLabel("  opacity "))
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(int(round(self.state.heatmap_opacity * 100)))
        self.opacity_slider.setFixedWidth(80)
        self.opacity_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.opacity_slider.valueChanged.connect(lambda v: self.state.set_heatmap_opacity(v / 100))
        bar.addWidget(self.opacity_slider)
        bar.addSeparator()
        bar.addWidget(QLabel(" Run "))
        self.run_combo = QComboBox()
        # as wide as the longest run name (checkpoint names were cut at 140 px), within reason; the list
        # and the tooltip always show whole names
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.run_combo.setMinimumWidth(140)
        self.run_combo.setMaximumWidth(420)
        self.run_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.run_combo.activated.connect(lambda i: self.session.select_run(self.run_combo.itemText(i)))
        bar.addWidget(self.run_combo)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = file_menu.addAction("&Open video or results…", self.open_dialog)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        file_menu.addAction("Load &model…", self.load_model_dialog)
        file_menu.addAction("Use &demo model", lambda: self.session.set_model("demo"))
        self.recent_menu = file_menu.addMenu("Open &recent")
        self._rebuild_recent()
        file_menu.addSeparator()
        file_menu.addAction("&Quit", self.close, QKeySequence.StandardKey.Quit)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction("&Fit frame", self.video_view.fit, QKeySequence("F"))
        for dock in (self.timeline_dock, self.actions_dock, self.tracks_dock):
            view_menu.addAction(dock.toggleViewAction())
        model_menu = self.menuBar().addMenu("Mo&del")  # Alt+M is CVAT's split (stviewer.editing)
        model_menu.addAction("&Run on this video", self.session.start_inference)
        model_menu.addAction("&Cancel run", self.session.cancel_inference)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress_bar = QProgressBar()
        self.progress_bar.setFixedWidth(220)
        self.progress_bar.setFormat("%v / %m frames")
        self.progress_label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cancel_button.clicked.connect(self.session.cancel_inference)
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            bar.addPermanentWidget(widget)
            widget.setVisible(False)
        self.domain_warning = QLabel(styleSheet="color: #f0a030;")  # a synthetic-only model on real footage
        bar.insertPermanentWidget(0, self.domain_warning)
        self.session.domainWarning.connect(lambda text: (
            self.domain_warning.setText("⚠ model trained on synthetic clips only: not meaningful here" if text else ""),
            self.domain_warning.setToolTip(text)))

    # ---- reactions ---------------------------------------------------------------------------------
    def _sync_controls(self) -> None:
        """Toolbar mirrors the state (which tests and other views may change directly)."""
        for name, action in self.overlay_actions.items():
            if action.isChecked() != self.state.overlays[name]:
                action.blockSignals(True)
                action.setChecked(self.state.overlays[name])
                action.blockSignals(False)
        value = int(round(self.state.heatmap_opacity * 100))
        if self.opacity_slider.value() != value:
            self.opacity_slider.blockSignals(True)
            self.opacity_slider.setValue(value)
            self.opacity_slider.blockSignals(False)
        i = self.speed_combo.findData(self.state.speed)
        if i >= 0 and i != self.speed_combo.currentIndex():
            self.speed_combo.blockSignals(True)
            self.speed_combo.setCurrentIndex(i)
            self.speed_combo.blockSignals(False)

    def _on_video_changed(self) -> None:
        path = self.session.video_path
        self.setWindowTitle(f"stviewer — {path.name}" if path is not None else "stviewer")

    def _on_runs(self, names: list) -> None:
        self.run_combo.clear()
        self.run_combo.addItems(list(names))
        for i, name in enumerate(names):
            self.run_combo.setItemData(i, name, Qt.ItemDataRole.ToolTipRole)
        self.run_combo.view().setMinimumWidth(self.run_combo.view().sizeHintForColumn(0) + 24)
        self._on_run_changed()

    def _on_run_changed(self) -> None:
        run = self.state.run
        if run is not None:
            i = self.run_combo.findText(run.name)
            if i >= 0:
                self.run_combo.setCurrentIndex(i)
                self.run_combo.setToolTip(f"run {run.name}")

    def _on_worker_started(self) -> None:
        self.progress_bar.setRange(0, max(1, self.state.num_frames))
        self.progress_bar.setValue(0)
        self.progress_label.setText("Running model")
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.setVisible(True)

    def _on_worker_progress(self, done: int, total: int, fps: float) -> None:
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(done)
        self.progress_label.setText(f"Running model · {fps:.1f} fps")

    def _on_worker_finished(self, _outcome: str) -> None:
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.setVisible(False)

    # ---- files -----------------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> bool:
        return self.session.open_path(path)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open video or results", "", VIDEO_FILTER)
        if path:
            self.open_path(path)

    def load_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load model checkpoint", "", "Checkpoints (*.pt *.pth);;All (*)")
        if path:
            self.session.set_model(path)

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: str) -> None:
        recent = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent_files", recent[:MAX_RECENT])
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            self.recent_menu.addAction(path, lambda p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(urls[0])

    def closeEvent(self, event) -> None:
        self.session.close(quitting=True)  # the window is going: do not wait for a model still loading
        super().closeEvent(event)
