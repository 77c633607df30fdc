"""The comparison's metrics table: each run against the chosen label set (MOTA, IDF1, HOTA, FP, FN, IDSW,
top-1 where labels have actions), or the runs' agreement with each other when there are no labels.
The numbers are the engine's (engine.compare's table, the same as ``stv compare`` and ``stv eval``)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

COLUMNS = ("MOTA", "IDF1", "HOTA", "FP", "FN", "IDSW", "top-1")
COUNTS = ("FP", "FN", "IDSW")


def format_value(key: str, value) -> str:
    if value is None:
        return "—"
    return f"{int(value):,}" if key in COUNTS else f"{float(value):.3f}"


class CompareTable(QWidget):
    def __init__(self, compare_session, parent: QWidget | None = None):
        super().__init__(parent)
        self._compare = compare_session
        self.caption = QLabel("", wordWrap=True)
        self.caption.setContentsMargins(6, 3, 6, 3)
        self.table = QTableWidget(0, len(COLUMNS) + 1)
        self.table.setHorizontalHeaderLabels(["", *COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in range(1, len(COLUMNS) + 1):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.caption)
        box.addWidget(self.table, 1)
        compare_session.comparisonChanged.connect(self.refresh)
        self.refresh()

    def rows(self) -> list[dict]:
        c = self._compare.comparison
        return [] if c is None else list(c.table)

    def refresh(self) -> None:
        c = self._compare.comparison
        rows = self.rows()
        if c is None:
            self.caption.setText("computing…" if self._compare.computing() else "")
        elif c.labels_name:
            self.caption.setText(f"each run against label set <b>{c.labels_name}</b>")
        else:
            self.caption.setText(f"agreement: <b>{c.names[1]}</b> measured against <b>{c.names[0]}</b> "
                                 f"(no label set chosen)")
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(str(row.get("name", ""))))
            for i, key in enumerate(COLUMNS, start=1):
                item = QTableWidgetItem(format_value(key, row.get(key)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, i, item)

    def cell(self, row: int, column: str) -> str:
        return self.table.item(row, 1 + COLUMNS.index(column)).text()
