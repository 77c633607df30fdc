"""The review queue dock: the run's suspicious places, most suspicious first, each with its reason and
proposal. Enter accepts (the proposal goes through the undo stack), Backspace rejects, N / P move; the keys
act while the list has focus, before the window's shortcuts that share them (the editing UI's N and Backspace)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from stviewer.colors import MUTED
from stviewer.compare.review import ACCEPTED, PENDING, REJECTED, ReviewQueue

COLUMNS = ("#", "frame", "kind", "tracks", "proposal", "why")
STATUS_MARK = {PENDING: "", ACCEPTED: "✓", REJECTED: "✗"}
STATUS_RGB = {PENDING: (230, 230, 230), ACCEPTED: (120, 210, 140), REJECTED: (140, 140, 140)}
KEYS = {"accept": (Qt.Key.Key_Return, Qt.Key.Key_Enter), "reject": (Qt.Key.Key_Backspace,),
        "next": (Qt.Key.Key_N,), "previous": (Qt.Key.Key_P,)}


class ReviewDock(QWidget):
    """The widget inside the "Review queue" dock."""

    def __init__(self, queue: ReviewQueue, parent: QWidget | None = None):
        super().__init__(parent)
        self.queue = queue
        self.summary = QLabel("")
        self.summary.setContentsMargins(6, 3, 6, 3)
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)  # thousands of items stay fast
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(True)  # "why": long reasons, in full in the tooltip
        for i in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(self._on_current_item)
        self.detail = QLabel("")  # the current item in full (the list clips long reasons)
        self.detail.setWordWrap(True)
        self.detail.setContentsMargins(6, 3, 6, 3)
        self.detail.setStyleSheet("background: #26282c;")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(4, 2, 4, 2)
        self.accept_button = QPushButton("Accept ⏎")
        self.reject_button = QPushButton("Reject ⌫")
        self.prev_button = QPushButton("◀ P")
        self.next_button = QPushButton("N ▶")
        for button, slot in ((self.accept_button, queue.accept), (self.reject_button, queue.reject),
                             (self.prev_button, lambda: queue.move(-1)), (self.next_button, lambda: queue.move(1))):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, s=slot: s())
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.tree.setToolTip("Enter accepts, Backspace rejects, N / P move (while this list has focus)")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.summary)
        box.addWidget(self.tree, 1)
        box.addWidget(self.detail)
        box.addLayout(buttons)
        # the keys act on the list when it has focus, before any window shortcut that shares them (the
        # editing UI's N draws and Backspace deletes a box): the list claims them as a shortcut override
        self.slots = {"accept": queue.accept, "reject": queue.reject, "next": lambda: queue.move(1),
                      "previous": lambda: queue.move(-1)}
        self._key_slot = {key: name for name, keys in KEYS.items() for key in keys}
        self.tree.installEventFilter(self)
        queue.itemsChanged.connect(self.refresh)
        queue.statusChanged.connect(self._on_status)
        queue.currentChanged.connect(self._on_current)
        self.refresh()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if obj is self.tree and event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            name = self._key_slot.get(event.key())
            plain = not (event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)
            if name is not None and plain:
                if event.type() == QEvent.Type.KeyPress:
                    self.slots[name]()
                event.accept()
                return True
        return super().eventFilter(obj, event)

    def refresh(self) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        items = []
        for i, e in enumerate(self.queue.entries):
            tracks = ", ".join(f"#{t}" for t in e.track_ids)
            item = QTreeWidgetItem([str(i + 1), str(e.frame), e.kind, tracks, e.proposal or "look only", e.reason])
            item.setToolTip(COLUMNS.index("why"), e.reason)
            item.setToolTip(COLUMNS.index("proposal"), e.proposal or "nothing to apply: accept marks it reviewed")
            for c in (0, 1):
                item.setTextAlignment(c, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items.append(item)
        self.tree.addTopLevelItems(items)
        self._show_detail(self.queue.current)
        for i in range(len(items)):
            self._paint(i)
        self.tree.blockSignals(False)
        self._update_summary()

    def _paint(self, index: int) -> None:
        item = self.tree.topLevelItem(index)
        if item is None:
            return
        status = self.queue.status[index]
        item.setText(0, f"{STATUS_MARK[status]} {index + 1}".strip())
        brush = QBrush(QColor(*STATUS_RGB[status]))
        for c in range(len(COLUMNS)):
            item.setForeground(c, brush)
            font = item.font(c)
            font.setStrikeOut(status == REJECTED)
            item.setFont(c, font)

    def _on_status(self, index: int) -> None:
        self._paint(index)
        if index == self.queue.current:
            self._show_detail(index)
        self._update_summary()

    def _update_summary(self) -> None:
        q = self.queue
        if not q.entries:
            self.summary.setText(f"no review items for run <b>{q.run_name}</b>" if q.run_name else
                                 "no complete run to review")
            return
        c = q.counts()
        notes = "".join(f"<br><span style='color:{MUTED}'>{note}</span>" for note in q.notes)
        self.summary.setText(f"<b>{len(q.entries)}</b> items for run <b>{q.run_name}</b> — {c[PENDING]} to review, "
                             f"{c[ACCEPTED]} accepted, {c[REJECTED]} rejected{notes}")

    def _show_detail(self, index: int) -> None:
        q = self.queue
        if not 0 <= index < len(q.entries):
            self.detail.setText("")
            return
        e = q.entries[index]
        fix = f"<b>Enter</b>: {e.proposal}" if e.proposal else "nothing to apply: Enter marks it reviewed"
        stale = q.why_not(index) if q.status[index] == PENDING else None
        if stale:
            fix = f"<span style='color:#ff9a7a'>{e.proposal}: no longer applies ({stale})</span>"
        self.detail.setText(f"<b>{index + 1}. {e.kind}</b> at frame {e.frame} (score {e.score:.2f}): {e.reason}"
                            f"<br>{fix} · {q.status[index]}")

    def _on_current(self, index: int) -> None:
        self._show_detail(index)
        item = self.tree.topLevelItem(index) if index >= 0 else None
        if item is not None and self.tree.currentItem() is not item:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(item)
            self.tree.blockSignals(False)
            self.tree.scrollToItem(item)

    def _on_current_item(self, item, _previous) -> None:
        if item is not None:
            index = self.tree.indexOfTopLevelItem(item)
            if index != self.queue.current:
                self.queue.go_to(index)
