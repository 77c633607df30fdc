"""Compare → Compare two…: choose A and B among the open cache's runs (any checkpoint's, imported
tracker results), its label sets, the demo model and any checkpoint file (its run is computed when
missing), and optionally the label set both are measured against."""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QPushButton, QWidget)

from stviewer.compare.sources import SourceSpec

NO_LABELS = "(none: compare A with B)"


def source_choices(session) -> list[SourceSpec]:
    """Everything the open cache can compare, then the demo model (computed when missing)."""
    choices: list[SourceSpec] = []
    cache = session.cache
    if cache is not None:
        choices += [SourceSpec("run", name) for name in cache.run_names]
        choices += [SourceSpec("labels", name) for name in cache.label_set_names]
    choices.append(SourceSpec("model", "demo"))
    return choices


def describe_choice(session, spec: SourceSpec) -> str:
    if spec.kind == "run" and session.cache is not None:
        sha = session.cache.run(spec.name).info.checkpoint_sha256
        origin = f"checkpoint {sha[:8]}" if sha else "imported"
        return f"run  {spec.name}  ({origin})"
    if spec.kind == "labels":
        return f"label set  {spec.name}"
    return "demo model (run it if missing)" if spec.name == "demo" else f"checkpoint {spec.describe()}"


class CompareDialog(QDialog):
    def __init__(self, session, *, current: tuple[SourceSpec | None, SourceSpec | None] = (None, None),
                 labels: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Compare two runs")
        self._session = session
        self.combo_a, self.combo_b = QComboBox(), QComboBox()
        self.labels_combo = QComboBox()
        choices = source_choices(session)
        for combo, spec, fallback in ((self.combo_a, current[0], 0), (self.combo_b, current[1], 1)):
            for choice in choices:
                combo.addItem(describe_choice(session, choice), choice)
            i = combo.findData(spec) if spec is not None else -1
            if i < 0 and spec is not None:
                combo.addItem(describe_choice(session, spec), spec)
                i = combo.count() - 1
            combo.setCurrentIndex(i if i >= 0 else min(fallback, combo.count() - 1))
        self.labels_combo.addItem(NO_LABELS, None)
        for name in (session.cache.label_set_names if session.cache is not None else []):
            self.labels_combo.addItem(name, name)
        i = self.labels_combo.findData(labels)
        self.labels_combo.setCurrentIndex(max(0, i))
        form = QFormLayout(self)
        form.addRow("A", self._with_browse(self.combo_a))
        form.addRow("B", self._with_browse(self.combo_b))
        form.addRow("against labels", self.labels_combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _with_browse(self, combo: QComboBox) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(combo, 1)
        button = QPushButton("Checkpoint…")
        button.clicked.connect(lambda: self._browse(combo))
        row.addWidget(button)
        return box

    def _browse(self, combo: QComboBox) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Checkpoint to compare", "", "Checkpoints (*.pt *.pth);;All (*)")
        if path:
            self.add_checkpoint(combo, path)

    def add_checkpoint(self, combo: QComboBox, path: str) -> None:
        spec = SourceSpec("model", path)
        combo.addItem(describe_choice(self._session, spec), spec)
        combo.setCurrentIndex(combo.count() - 1)

    def selection(self) -> tuple[SourceSpec, SourceSpec, str | None]:
        return self.combo_a.currentData(), self.combo_b.currentData(), self.labels_combo.currentData()
