"""Small windows: the toolbar wraps to a second row and the right-hand docks share one tab group.

At 800×500 the window used to be held at 720 px tall by its docks, the video shrank to a thumbnail and
the toolbar hid half its controls behind its overflow button; after growing back, the Tracks panel
stayed squeezed. ``ResponsiveLayout`` watches the window's size:
- narrower than both toolbars side by side: the overlays toolbar goes to a second row;
- shorter than ``COMPACT_HEIGHT``: every right-hand dock is tabbed into one group (one panel at a time,
  so the window can be small) and the timeline takes at most ``COMPACT_TIMELINE_SHARE`` of the height;
- taller again: the arrangement and sizes from before (what the user had) come back.
"""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

COMPACT_HEIGHT = 700  # below this the right-hand docks are tabbed into one group
COMPACT_TIMELINE_SHARE = 0.28  # of the window height, in compact mode


class ResponsiveLayout(QObject):
    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.compact = False
        self.wrapped = False
        self._wide_state: QByteArray | None = None
        window.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Resize:
            self.apply(event.size().width(), event.size().height())
        return False

    def _right_docks(self) -> list[QDockWidget]:
        w = self.window
        return [d for d in w.findChildren(QDockWidget)
                if w.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea and not d.isHidden()
                and not d.isFloating()]

    def apply(self, width: int, height: int) -> None:
        w = self.window
        needed = w.playback_bar.sizeHint().width() + w.overlay_bar.sizeHint().width() + 12
        wrap = width < needed
        if wrap != self.wrapped:
            if wrap:
                w.insertToolBarBreak(w.overlay_bar)
            else:
                w.removeToolBarBreak(w.overlay_bar)
            self.wrapped = wrap
        compact = height < COMPACT_HEIGHT
        if compact == self.compact:
            return
        self.compact = compact
        if compact:
            self._wide_state = w.saveState()
            docks = self._right_docks()
            if len(docks) > 1:
                raised = next((d for d in docks if d.objectName() == "tracksDock"), docks[0])
                for dock in docks[1:]:
                    w.tabifyDockWidget(docks[0], dock)
                raised.raise_()
            w.resizeDocks([w.timeline_dock], [max(90, int(height * COMPACT_TIMELINE_SHARE))],
                          Qt.Orientation.Vertical)
        elif self._wide_state is not None:
            w.restoreState(self._wide_state)  # the docks as they were, sizes included
            self._wide_state = None
            if self.wrapped != (width < needed):  # restoreState also restored the toolbar rows
                self.wrapped = not self.wrapped


def install_responsive_layout(window: QMainWindow) -> ResponsiveLayout:
    window.responsive = ResponsiveLayout(window)
    return window.responsive
