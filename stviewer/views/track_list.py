"""Track list: ID (with its colour), lifetime, length and mean score; clicking selects the track."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from stviewer.state import ViewerState

COLUMNS = ("ID", "Frames", "Length", "Score")
COLUMN_TIPS = ("track ID (its colour in every view)", "first–last frame", "frames with a box",
               "mean detection score over the track's boxes")


def _swatch(rgb: tuple[int, int, int]) -> QIcon:
    pix = QPixmap(12, 12)
    pix.fill(QColor(*rgb))
    return QIcon(pix)


class _NumberItem(QTableWidgetItem):
    def __init__(self, text: str, value: float):
        super().__init__(text)
        self.setData(Qt.ItemDataRole.UserRole, value)
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other):
        return self.data(Qt.ItemDataRole.UserRole) < other.data(Qt.ItemDataRole.UserRole)


class TrackList(QTableWidget):
    def __init__(self, state: ViewerState, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self._state = state
        self.setHorizontalHeaderLabels(COLUMNS)
        for column, tip in enumerate(COLUMN_TIPS):
            self.horizontalHeaderItem(column).setToolTip(tip)
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        # numbers take the width their header and cells need (fit_columns: Qt's own fit reserved room for a
        # sort arrow in every column and pushed "Score" out of a narrow dock); the ID column stretches
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(header.fontMetrics().horizontalAdvance("#0000") + 30)
        self.fit_columns()
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrow keys stay with playback
        self._row_of: dict[int, int] = {}
        self._version = None
        self._refresh_timer = QTimer(self, singleShot=True, interval=500)
        self._refresh_timer.timeout.connect(self.refresh)
        self.itemSelectionChanged.connect(self._on_row_selected)
        state.runChanged.connect(self.refresh)
        state.resultsChanged.connect(lambda: self._refresh_timer.isActive() or self._refresh_timer.start())
        state.selectionChanged.connect(self._show_selection)

    def refresh(self) -> None:
        run = self._state.run
        version = None if run is None else (id(run), run.version)
        if version == self._version and run is not None:
            return
        self._version = version
        summaries = [] if run is None else run.track_summaries()
        self.setSortingEnabled(False)
        self.blockSignals(True)
        self.setRowCount(len(summaries))
        for row, s in enumerate(summaries):
            id_item = _NumberItem(f"#{s.track_id}", s.track_id)
            id_item.setIcon(_swatch(run.track_rgb(s.track_id)))
            id_item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, 0, id_item)
            self.setItem(row, 1, _NumberItem(f"{s.first_frame}–{s.last_frame}", s.first_frame))
            self.setItem(row, 2, _NumberItem(str(s.num_frames), s.num_frames))
            self.setItem(row, 3, _NumberItem(f"{s.mean_score:.2f}", s.mean_score))
        self.setSortingEnabled(True)
        self.blockSignals(False)
        self.fit_columns()
        self._show_selection(self._state.selected_track)

    def fit_columns(self) -> None:
        """Numeric columns as wide as their header (plus a sort arrow) or their widest cell."""
        header = self.horizontalHeader()
        head_fm, cell_fm = header.fontMetrics(), self.fontMetrics()
        for column in range(1, self.columnCount()):
            cells = [self.item(r, column).text() for r in range(self.rowCount()) if self.item(r, column)]
            widest = max((cell_fm.horizontalAdvance(t) for t in cells), default=0) + 14
            header.resizeSection(column, max(head_fm.horizontalAdvance(COLUMNS[column]) + 26, widest))

    def track_ids(self) -> list[int]:
        return [int(self.item(r, 0).data(Qt.ItemDataRole.UserRole)) for r in range(self.rowCount())]

    def row_of(self, track_id: int) -> int | None:
        for r in range(self.rowCount()):
            if int(self.item(r, 0).data(Qt.ItemDataRole.UserRole)) == track_id:
                return r
        return None

    def _on_row_selected(self) -> None:
        rows = self.selectionModel().selectedRows()
        if rows:
            tid = int(self.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole))
            self._state.select_track(tid)
            nearest = self._state.run.nearest_track_frame(tid, self._state.frame)
            if nearest is not None:
                self._state.set_frame(nearest)  # show the track: stay, or jump to its nearest frame

    def _show_selection(self, track_id: int) -> None:
        row = self.row_of(track_id) if track_id >= 0 else None
        self.blockSignals(True)
        if row is None:
            self.clearSelection()
        else:
            self.selectRow(row)
            self.scrollToItem(self.item(row, 0))
        self.blockSignals(False)
