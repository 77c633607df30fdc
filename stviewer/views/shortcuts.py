"""Help → Keyboard shortcuts: every shortcut of the window, read from its actions when the window opens
(so the list cannot drift from what the keys do), grouped by menu, plus the mouse gestures of editing."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QMainWindow, QMenu, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

# Gestures are not QActions: listed here, next to the keys (the tools in stviewer.editing implement them).
MOUSE_GESTURES = [
    ("Click a box", "select it (label set being edited)"),
    ("Click empty space / Escape", "clear the selection, cancel drawing or merging"),
    ("Drag a selected box", "move it (the image does not pan)"),
    ("Drag a corner or edge handle", "resize the box"),
    ("N, then drag", "draw a new box, then choose a new or an existing track ID"),
    ("Drag empty space", "pan the image"),
    ("Wheel / double-click", "zoom / fit the frame"),
]


def _text(action: QAction) -> str:
    return action.text().replace("&", "").rstrip("…").strip()


def collect_shortcuts(window: QMainWindow) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(group, [(keys, what), ...]), ...]: menu actions by menu, then toolbar and other window actions."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    seen: set[int] = set()

    def add(group: str, actions) -> None:
        rows = []
        for action in actions:
            if action.menu() is not None or action.isSeparator():
                continue
            keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()]
            keys = [k for k in keys if k]
            if not keys or id(action) in seen:
                continue
            seen.add(id(action))
            rows.append((" or ".join(keys), _text(action) or action.toolTip()))
        if rows:
            groups.append((group, rows))

    def walk(menu: QMenu, prefix: str) -> None:
        name = f"{prefix}{menu.title().replace('&', '')}"
        add(name, menu.actions())
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{name} → ")

    for action in window.menuBar().actions():
        if action.menu() is not None:
            walk(action.menu(), "")
    others = [a for a in window.findChildren(QAction) if id(a) not in seen]
    add("Playback and overlays", others)
    groups.append(("Mouse", MOUSE_GESTURES))
    return groups


class ShortcutsDialog(QDialog):
    """A read-only table of every shortcut; non-modal so it can stay open beside the work."""

    def __init__(self, window: QMainWindow, parent: QWidget | None = None):
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard shortcuts")
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Keys", "Action"])
        self.tree.setRootIsDecorated(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        for group, rows in collect_shortcuts(window):
            head = QTreeWidgetItem([group, ""])
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            head.setFirstColumnSpanned(True)
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(head)
            for keys, what in rows:
                self.tree.addTopLevelItem(QTreeWidgetItem([keys, what]))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        self.resize(560, 640)

    def rows(self) -> list[tuple[str, str]]:
        """(keys, action) of every listed row (group headers excluded)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.text(1):
                out.append((item.text(0), item.text(1)))
        return out
