"""The Labels dock: which label set is edited (pick one of the cache's, or create one: empty, from the run
shown, imported from a MOT gt file), its save state, and the selected track's properties (ID, class,
visibility, ignore, the kind of its box on this frame), with a legend of the box styles.

A view only: it emits what the user asked for; stviewer.editing.install wires it to the editor.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QMenu,
                               QPushButton, QToolButton, QVBoxLayout, QWidget)

NO_LABELS = "— none (viewing the run) —"


def mot_class_names() -> dict[int, str]:
    from engine.io.mot_rules import CLASS_NAMES

    return dict(CLASS_NAMES)


class LabelPanel(QWidget):
    labelSetPicked = Signal(str)  # "" = stop editing
    createRequested = Signal(str)  # "empty", "run" or "import"
    saveRequested = Signal()
    changeIdRequested = Signal()
    classChosen = Signal(int)
    visibilityChosen = Signal(float)
    ignoreChosen = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.set_combo = QComboBox()
        self.set_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.set_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.set_combo.setMinimumContentsLength(10)
        self.set_combo.activated.connect(self._on_pick)
        self.new_button = QToolButton(text="New ▾")
        self.new_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.new_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        menu = QMenu(self.new_button)
        self.new_from_run_action = menu.addAction("From the run shown (the model's tracks)",
                                                  lambda: self.createRequested.emit("run"))
        menu.addAction("Empty", lambda: self.createRequested.emit("empty"))
        menu.addAction("Import MOT gt.txt…", lambda: self.createRequested.emit("import"))
        self.new_button.setMenu(menu)
        self.save_button = QPushButton("Save")
        self.save_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.save_button.setToolTip("Write the label set into the results cache (Ctrl+S). Every edit is already "
                                    "in the crash-safe journal beside the cache.")
        self.save_button.clicked.connect(self.saveRequested)
        self.save_state = QLabel("", objectName="labelSaveState")
        self.save_state.setWordWrap(True)
        self.save_state.setStyleSheet("color: #9aa0a6;")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.set_combo, 1)
        top.addWidget(self.new_button)
        top.addWidget(self.save_button)

        self.track_title = QLabel("No track selected")
        self.track_title.setStyleSheet("font-weight: bold;")
        self.kind_label = QLabel("")
        self.id_button = QPushButton("Change ID…")
        self.id_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.id_button.clicked.connect(self.changeIdRequested)
        self.class_combo = QComboBox()
        self.class_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for cid, name in mot_class_names().items():
            self.class_combo.addItem(f"{cid} {name}", cid)
        self.class_combo.activated.connect(lambda i: self.classChosen.emit(int(self.class_combo.itemData(i))))
        self.visibility_spin = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
        self.visibility_spin.setKeyboardTracking(False)
        self.visibility_spin.editingFinished.connect(
            lambda: self.visibilityChosen.emit(float(self.visibility_spin.value())))
        self.ignore_check = QCheckBox("ignore (consider flag 0)")
        self.ignore_check.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.ignore_check.clicked.connect(lambda on: self.ignoreChosen.emit(bool(on)))
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.track_title, self.id_button)
        form.addRow("Class", self.class_combo)
        form.addRow("Visibility", self.visibility_spin)
        form.addRow("", self.ignore_check)
        form.addRow("This frame", self.kind_label)
        self.track_widgets = [self.id_button, self.class_combo, self.visibility_spin, self.ignore_check]

        legend = QLabel("<span style='color:#e6e6e6'>━━ keyframe ◆</span> &nbsp; "
                        "<span style='color:#e6e6e6'>╌╌ interpolated</span> &nbsp; "
                        "<span style='color:#e6e6e6'>┈┈ from model</span><br>"
                        "<span style='color:#9aa0a6'>the run stays visible, dimmed, under the labels</span>")
        legend.setTextFormat(Qt.TextFormat.RichText)
        legend.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addWidget(self.save_state)
        layout.addLayout(form)
        layout.addWidget(legend)
        layout.addStretch(1)
        self.show_track(None)

    # ---- label sets -----------------------------------------------------------------------------
    def set_label_sets(self, names: list[str], current: str | None) -> None:
        self.set_combo.blockSignals(True)
        self.set_combo.clear()
        self.set_combo.addItem(NO_LABELS, "")
        for name in names:
            self.set_combo.addItem(name, name)
        i = self.set_combo.findData(current or "")
        self.set_combo.setCurrentIndex(max(0, i))
        self.set_combo.blockSignals(False)
        self.save_button.setEnabled(bool(current))

    def _on_pick(self, i: int) -> None:
        self.labelSetPicked.emit(str(self.set_combo.itemData(i) or ""))

    def set_save_state(self, text: str, *, error: bool = False) -> None:
        self.save_state.setText(text)
        self.save_state.setStyleSheet("color: #ff8a80;" if error else "color: #9aa0a6;")

    # ---- selected track -------------------------------------------------------------------------
    def show_track(self, info: dict | None) -> None:
        """``info``: {"id", "class", "visibility", "ignored", "kind" (text for this frame), "frames"} or None."""
        for w in self.track_widgets:
            w.setEnabled(info is not None)
        if info is None:
            self.track_title.setText("No track selected")
            self.kind_label.setText("")
            return
        self.track_title.setText(f"Track #{info['id']}  ({info.get('frames', 0)} frames)")
        i = self.class_combo.findData(int(info.get("class", 1)))
        self.class_combo.setCurrentIndex(max(0, i))
        if not self.visibility_spin.hasFocus():
            self.visibility_spin.setValue(float(info.get("visibility", 1.0)))
        self.ignore_check.setChecked(bool(info.get("ignored", False)))
        self.kind_label.setText(str(info.get("kind", "")))
