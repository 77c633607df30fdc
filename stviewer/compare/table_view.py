"""The comparison's metrics table: each run against the chosen label set (MOTA, IDF1, HOTA, FP, FN, IDSW,
top-1 where there are action labels), or the runs' agreement with each other when there are no labels.
The numbers are the engine's (engine.compare's table, the same as ``stv compare`` and ``stv eval``).
One column per compared item, one row per metric: narrow enough for a side dock."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

METRICS = ("MOTA", "IDF1", "HOTA", "FP", "FN", "IDSW")  # as engine.compare.table.TABLE_KEYS (stv eval's names)
EXTRA = {"top1": "top-1", "box_agreement": "boxes agree", "action_agreement": "actions agree"}
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
        self.table = QTableWidget(len(METRICS), 0)
        self.keys: list[str] = list(METRICS)
        self.table.setVerticalHeaderLabels(self.keys)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.caption)
        box.addWidget(self.table, 1)
        compare_session.comparisonChanged.connect(self.refresh)
        compare_session.tableChanged.connect(self.refresh)
        self.refresh()

    def rows(self) -> list[dict]:
        """One dict per compared item: "name" and the METRICS keys."""
        return list(self._compare.table)

    def refresh(self) -> None:
        c = self._compare.comparison
        items = self.rows()
        if c is None or (not items and self._compare.computing()):
            self.caption.setText("computing…" if self._compare.computing() else "")
        elif c.labels_name:
            self.caption.setText(f"A = <b>{c.names[0]}</b>, B = <b>{c.names[1]}</b>, each against label set "
                                 f"<b>{c.labels_name}</b>")
        else:
            self.caption.setText(f"no label set: A = <b>{c.names[0]}</b> measured with B = <b>{c.names[1]}</b> "
                                 f"as the reference")
        # the engine's extra rows present in this table (top-1 with action labels, agreement without labels)
        self.keys = list(METRICS) + [k for k in EXTRA if any(item.get(k) is not None for item in items)]
        self.table.setRowCount(len(self.keys))
        self.table.setVerticalHeaderLabels([EXTRA.get(k, k) for k in self.keys])
        self.table.setColumnCount(len(items))
        # columns "A", "B" (names in the caption and tooltips: run names are long); one agreement row: "A vs B"
        heads = ["A vs B"] if len(items) == 1 and c is not None and not c.labels_name else ["A", "B"][:len(items)]
        self.table.setHorizontalHeaderLabels(heads)
        for col, item in enumerate(items):
            self.table.horizontalHeaderItem(col).setToolTip(str(item.get("name", "")))
        for col, item in enumerate(items):
            for row, key in enumerate(self.keys):
                cell = QTableWidgetItem(format_value(key, item.get(key)))
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, cell)

    def cell(self, item: int, key: str) -> str:
        """The text shown for item ``item`` (column) and metric ``key`` (an engine table key)."""
        return self.table.item(self.keys.index(key), item).text()
