"""``install_compare(window)``: adds comparison to the main window (one hook line in MainWindow).

The central widget becomes a stack of the single video view and the comparison view; the comparison's
timeline and table are docks shown while comparing (the single timeline is hidden meanwhile); a Compare
menu holds the dialog, the mode, disagreement navigation and the review queue.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDockWidget, QStackedWidget

from stviewer.compare.dialog import CompareDialog
from stviewer.compare.session import CompareSession
from stviewer.compare.sources import SourceSpec
from stviewer.compare.table_view import CompareTable
from stviewer.compare.timeline_view import CompareTimeline
from stviewer.views.compare_view import CompareView

NEXT_KEY, PREVIOUS_KEY = "]", "["
SINGLE_RUN_DOCKS = ("timeline_dock", "actions_dock", "tracks_dock")  # of the window
EDITING_DOCKS = ("labels_dock", "metrics_dock")  # of window.editing (stviewer.editing): shown again after
TIMELINE_HEIGHT, TIMELINE_SHARE = 340, 0.36  # px, and at most this share of the window's height
EDIT_REFRESH_MS = 600  # after edits of a compared label set settle, the comparison is worked out again
TABLE_WIDTH, TABLE_SHARE = 300, 0.24  # px, and at most this share of the window's width


def window_editor(window):
    """The window's label editor (stviewer.editing: ``window.editing.editor``), or None without editing."""
    return getattr(getattr(window, "editing", None), "editor", None)


class CompareUI:
    """What install_compare adds to a window (kept as ``window.compare_ui``)."""

    def __init__(self, window):
        self.window = window
        self.session = CompareSession(window.state, window.session, threaded=window.session.threaded, parent=window)
        self.view = CompareView(self.session)
        self.timeline = CompareTimeline(self.session)
        self.table = CompareTable(self.session)
        self.stack = QStackedWidget()
        single = window.takeCentralWidget()
        self.single_view = single
        self.stack.addWidget(single)
        self.stack.addWidget(self.view)
        window.setCentralWidget(self.stack)
        self.timeline_dock = QDockWidget("Comparison timeline", window, objectName="compareTimelineDock")
        self.timeline_dock.setWidget(self.timeline)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.timeline_dock)
        self.table_dock = QDockWidget("Comparison metrics", window, objectName="compareTableDock")
        self.table_dock.setWidget(self.table)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.table_dock)
        for dock in (self.timeline_dock, self.table_dock):
            dock.setVisible(False)
        self._hidden_docks: list[QDockWidget] = []
        self._build_menu()
        from stviewer.compare.review_ui import ReviewUI  # (it imports window_editor from here)

        self.review = ReviewUI(window, compare_timeline=self.timeline, threaded=window.session.threaded)
        self.review.add_menu_actions(self.menu)
        self.session.live_label_set = self._edited_label_set
        self._refresh_after_edit = QTimer(window, singleShot=True, interval=EDIT_REFRESH_MS)
        self._refresh_after_edit.timeout.connect(self.session.reload)
        self._editor = None
        self.session.activeChanged.connect(self._on_active)
        self.session.error.connect(lambda title, msg: window.error_reporter(title, msg))
        self.session.status.connect(lambda text: window.statusBar().showMessage(text))

    def _build_menu(self) -> None:
        w = self.window
        menu = w.menuBar().addMenu("&Compare")
        self.menu = menu
        menu.addAction("Compare &two…", self.open_dialog, QKeySequence("Ctrl+Shift+C"))
        self.stop_action = menu.addAction("&Stop comparing", self.session.stop)
        menu.addSeparator()
        self.mode_actions = {}
        for mode, text, key in (("side", "Side &by side", "Ctrl+1"), ("overlay", "&Overlay", "Ctrl+2")):
            action = QAction(text, w, checkable=True, shortcut=QKeySequence(key))
            action.triggered.connect(lambda _on, m=mode: self.session.set_mode(m))
            menu.addAction(action)
            self.mode_actions[mode] = action
        menu.addSeparator()
        self.next_action = QAction("&Next disagreement", w, shortcut=QKeySequence(NEXT_KEY))
        self.next_action.triggered.connect(self.session.next_disagreement)
        self.previous_action = QAction("&Previous disagreement", w, shortcut=QKeySequence(PREVIOUS_KEY))
        self.previous_action.triggered.connect(self.session.previous_disagreement)
        for action in (self.next_action, self.previous_action):
            # the main window's (not a dialog's: "[" typed into a dialog is text)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            menu.addAction(action)
        self.session.modeChanged.connect(self._sync_menu)
        self._sync_menu()
        self._on_active(False)

    def _sync_menu(self, *_args) -> None:
        for mode, action in self.mode_actions.items():
            action.setChecked(self.session.mode == mode)

    # ---- the label set being edited ----------------------------------------------------------------
    def _edited_label_set(self, name: str):
        editor = window_editor(self.window)
        labels = None if editor is None else editor.labels
        return labels if labels is not None and labels.name == name else None

    def _watch_editor(self) -> None:
        editor = window_editor(self.window)
        if editor is not self._editor and editor is not None:
            editor.edited.connect(self._on_edited)
            self._editor = editor

    def _on_edited(self, _change) -> None:
        s, editor = self.session, self._editor
        compared = {spec.name for spec in s.specs if spec is not None and spec.kind == "labels"}
        if s.labels_name:
            compared.add(s.labels_name)
        if s.active and editor is not None and editor.name in compared:
            self._refresh_after_edit.start()  # restarts: one recomputation once the edits pause

    def _on_active(self, active: bool) -> None:
        w = self.window
        if active:
            self._watch_editor()
        self.stack.setCurrentWidget(self.view if active else self.single_view)
        for action in (self.stop_action, self.next_action, self.previous_action, *self.mode_actions.values()):
            action.setEnabled(active)
        if active:
            # the single view's docks describe the window's one run: out of the way while comparing
            editing = getattr(w, "editing", None)
            singles = [getattr(w, name, None) for name in SINGLE_RUN_DOCKS]
            singles += [getattr(editing, name, None) for name in EDITING_DOCKS]
            self._hidden_docks = [d for d in singles if d is not None and d.isVisible()]
            for dock in self._hidden_docks:
                dock.setVisible(False)
            self.timeline_dock.setVisible(True)
            self.table_dock.setVisible(True)
            w.resizeDocks([self.timeline_dock], [min(TIMELINE_HEIGHT, int(w.height() * TIMELINE_SHARE))],
                          Qt.Orientation.Vertical)
            w.resizeDocks([self.table_dock], [min(TABLE_WIDTH, int(w.width() * TABLE_SHARE))],
                          Qt.Orientation.Horizontal)
        else:
            self.timeline_dock.setVisible(False)
            self.table_dock.setVisible(False)
            for dock in self._hidden_docks:
                dock.setVisible(True)
            self._hidden_docks = []

    # ---- starting ---------------------------------------------------------------------------------
    def compare(self, a: SourceSpec | str, b: SourceSpec | str, *, labels: str | None = None) -> bool:
        a = a if isinstance(a, SourceSpec) else SourceSpec.parse(a)
        b = b if isinstance(b, SourceSpec) else SourceSpec.parse(b)
        return self.session.start(a, b, labels=labels)

    def open_dialog(self) -> None:
        if self.window.state.video is None:
            self.window.error_reporter("Cannot compare", "open a video first")
            return
        dialog = CompareDialog(self.window.session, current=self.session.specs, labels=self.session.labels_name,
                               parent=self.window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            a, b, labels = dialog.selection()
            self.session.start(a, b, labels=labels)


def install_compare(window) -> CompareUI:
    window.compare_ui = CompareUI(window)  # the comparison ends with its video (CompareSession._on_video)
    return window.compare_ui
