"""The comparison's central view: two synchronised panes (same frame, linked zoom and pan, each with its
own boxes and α heatmap) or one pane with both runs overlaid (A solid, B dashed). Boxes are coloured by
the diff: agree / only in A / only in B (or by track ID, as in the single view)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (QButtonGroup, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QSplitter, QVBoxLayout, QWidget)

from stviewer.colors import MUTED, PANEL, track_rgb
from stviewer.compare.analysis import status_name
from stviewer.compare.style import A_RGB, B_RGB, RUN_PEN_STYLE, STATUS_RGB
from stviewer.views.overlays import box_item_pool, label_item_pool
from stviewer.views.video_view import VideoView

COLOUR_MODES = ("diff", "id")


def _rgb_css(rgb: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % rgb


class DiffBoxOverlay:
    """Boxes of one or more layers, each layer (tracks (N, 6), status (N,), run "A"/"B") drawn with the
    run's line style and, per box, the diff colour of its status (or its track colour). Pooled items."""

    def __init__(self, viewbox: pg.ViewBox):
        self._viewbox = viewbox
        self.boxes = box_item_pool(viewbox, z=20)
        self.labels = label_item_pool(viewbox, z=30)
        self.drawn: list[tuple[str, int, int]] = []  # (run, track id, status) of each box drawn, for tests

    def update(self, layers: list[tuple[np.ndarray, np.ndarray | None, str]], *, show: bool, show_scores: bool,
               colour_by: str, selected: dict[str, int], prefix: bool) -> None:
        """layers: (tracks (N, 6) [x1, y1, x2, y2, score, id], status (N,) int or None, run "A"/"B");
        ``prefix``: label boxes "A#3" / "B#3" (both runs in one pane)."""
        self.boxes.begin()
        self.labels.begin()
        self.drawn = []
        if show:
            for tracks, status, run in layers:
                for i, (x1, y1, x2, y2, score, tid) in enumerate(tracks):
                    tid = int(tid)
                    s = -1 if status is None else int(status[i])
                    name = status_name(s) if s >= 0 else "no diff yet"
                    rgb = STATUS_RGB[name] if colour_by == "diff" and s >= 0 else track_rgb(tid)
                    pen = QPen(QColor(*rgb), 4 if tid == selected.get(run, -1) else 2)
                    pen.setStyle(RUN_PEN_STYLE[run])
                    pen.setCosmetic(True)
                    box = self.boxes.take()
                    box.setPen(pen)
                    box.setRect(QRectF(float(x1), float(y1), float(x2 - x1), float(y2 - y1)))
                    box.setToolTip(f"{run} #{tid}: {name}")
                    box.setVisible(True)
                    label = self.labels.take()
                    text = f"{run}#{tid}" if prefix else f"#{tid}"
                    label.setText(f"{text}  {score:.2f}" if show_scores else text, color=(16, 16, 16))
                    label.fill = pg.mkBrush(*rgb, 230)
                    # B's labels hang below the box's bottom edge in overlay mode, so A's and B's never cover
                    if prefix and run == "B":
                        label.setAnchor((0, 0))
                        label.setPos(float(x1), float(y2))
                    else:
                        label.setAnchor((0, 1))
                        label.setPos(float(x1), float(y1))
                    label.setVisible(True)
                    self.drawn.append((run, tid, s))
        self.boxes.end()
        self.labels.end()


class ComparePane(VideoView):
    """One pane: a VideoView on a pane state (its run's α heatmap and trails), whose boxes are drawn
    by a DiffBoxOverlay with the comparison's per-box status."""

    def __init__(self, view: "CompareView", which: str, parent: QWidget | None = None):
        self._view = view
        self.which = which
        super().__init__(view.session.pane_states[0 if which == "A" else 1], parent)
        self.diff_boxes = DiffBoxOverlay(self.viewbox)
        self.title = QLabel(objectName="paneTitle")
        self.title.setStyleSheet(f"background: {PANEL}; padding: 3px 8px; font-weight: bold;")
        self.layout().insertWidget(0, self.title)
        # the frame line may clip in a narrow window (both panes keep it: equal heights keep the linked
        # views showing the same rows of the frame)
        self.frame_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.overlay_mode = False
        view.view_options_changed.connect(self._redraw_overlays)

    def _redraw_overlays(self) -> None:
        super()._redraw_overlays()
        view, k = self._view, self.displayed_frame
        if k < 0 or not hasattr(self, "diff_boxes"):
            return
        compare = view.session
        diff = compare.frame_diff(k)
        layers = []
        if diff is not None:
            if self.which == "A" or self.overlay_mode:
                layers.append((diff.tracks_a, diff.status_a, "A"))
            if self.which == "B" or self.overlay_mode:
                layers.append((diff.tracks_b, diff.status_b, "B"))
        main = compare.state
        selected = {"A": compare.pane_states[0].selected_track, "B": compare.pane_states[1].selected_track}
        self.diff_boxes.update(layers, show=main.overlays["boxes"], show_scores=main.overlays["scores"],
                               colour_by=view.colour_by, selected=selected, prefix=self.overlay_mode)


class CompareView(QWidget):
    """Header (A/B names, mode, colour, legend, disagreement navigation) over the panes."""

    view_options_changed = Signal()  # colour mode or display mode changed: panes redraw their boxes

    def __init__(self, compare_session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = compare_session
        self.colour_by = "diff"
        self.pane_a = ComparePane(self, "A")
        self.pane_b = ComparePane(self, "B")
        # linked zoom and pan: B's view box follows A's ranges (and A follows B's)
        self.pane_b.viewbox.setXLink(self.pane_a.viewbox)
        self.pane_b.viewbox.setYLink(self.pane_a.viewbox)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.pane_a)
        self.splitter.addWidget(self.pane_b)
        self.header = self._build_header()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.splitter, 1)
        compare_session.modeChanged.connect(self._on_mode)
        compare_session.runsChanged.connect(self._on_runs)
        compare_session.comparisonChanged.connect(self._on_comparison)
        self._on_mode(compare_session.mode)
        self._on_runs()

    def _build_header(self) -> QWidget:
        header = QWidget(objectName="compareHeader")
        row = QHBoxLayout(header)
        row.setContentsMargins(6, 3, 6, 3)
        row.setSpacing(6)
        self.side_button = QPushButton("Side by side", checkable=True, toolTip="Two synchronised panes")
        self.overlay_button = QPushButton("Overlay", checkable=True, toolTip="Both runs in one pane: A solid, "
                                                                               "B dashed")
        group = QButtonGroup(self)
        group.setExclusive(True)
        for button, mode in ((self.side_button, "side"), (self.overlay_button, "overlay")):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            group.addButton(button)
            button.clicked.connect(lambda _on, m=mode: self.session.set_mode(m))
            row.addWidget(button)
        self.colour_button = QPushButton("Colour: diff", checkable=True, checked=True,
                                         toolTip="Colour boxes by the diff (agree / only A / only B) or by "
                                                 "track ID")
        self.colour_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.colour_button.toggled.connect(lambda on: self.set_colour_by("diff" if on else "id"))
        row.addWidget(self.colour_button)
        legend = "  ".join(f"<span style='color:{_rgb_css(rgb)}'>■</span> {name}" for name, rgb in STATUS_RGB.items())
        self.legend = QLabel(legend, toolTip="Box colours; run A is drawn solid, run B dashed")
        # the legend gives way first when the window is narrow (1024 px and less)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.legend, 1)
        self.disagreement_label = QLabel("Disagreement")
        self.disagreement_label.setStyleSheet(f"color: {MUTED};")
        row.addWidget(self.disagreement_label)
        self.prev_button = QPushButton("◀", toolTip="Previous disagreement ([): unmatched boxes, an ID switch or "
                                                    "another top action")
        self.next_button = QPushButton("▶", toolTip="Next disagreement (])")
        for button, slot in ((self.prev_button, self.session.previous_disagreement),
                             (self.next_button, self.session.next_disagreement)):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, s=slot: s())
            row.addWidget(button)
        return header

    # ---- reactions ------------------------------------------------------------------------------
    def set_colour_by(self, mode: str) -> None:
        if mode not in COLOUR_MODES:
            raise ValueError(f"colour mode must be one of {COLOUR_MODES}, got {mode!r}")
        self.colour_by = mode
        self.colour_button.blockSignals(True)
        self.colour_button.setChecked(mode == "diff")
        self.colour_button.blockSignals(False)
        self.colour_button.setText("Colour: diff" if mode == "diff" else "Colour: track ID")
        self.legend.setVisible(mode == "diff")
        self.view_options_changed.emit()

    def _on_mode(self, mode: str) -> None:
        overlay = mode == "overlay"
        self.side_button.setChecked(not overlay)
        self.overlay_button.setChecked(overlay)
        self.pane_a.overlay_mode = overlay
        self.pane_b.setVisible(not overlay)
        self._on_runs()
        self.view_options_changed.emit()

    def _on_runs(self) -> None:
        s = self.session
        a = s.run_a.name if s.run_a is not None else (s.spec_a.describe() if s.spec_a else "—")
        b = s.run_b.name if s.run_b is not None else (s.spec_b.describe() if s.spec_b else "—")
        a_rgb, b_rgb = _rgb_css(A_RGB), _rgb_css(B_RGB)
        if s.mode == "overlay":
            self.pane_a.title.setText(f"<span style='color:{a_rgb}'>A</span> {a} (solid)   "
                                      f"<span style='color:{b_rgb}'>B</span> {b} (dashed)   · α of A")
        else:
            self.pane_a.title.setText(f"<span style='color:{a_rgb}'>A</span>  {a}")
        self.pane_b.title.setText(f"<span style='color:{b_rgb}'>B</span>  {b}")

    def _on_comparison(self) -> None:
        c = self.session.comparison
        self.disagreement_label.setText("Disagreement" if c is None else
                                        f"{len(c.disagreement_frames)} frames disagree")
        self.view_options_changed.emit()

    @property
    def panes(self) -> tuple[ComparePane, ComparePane]:
        return self.pane_a, self.pane_b

    def render_now(self) -> None:
        for pane in self.panes:
            pane.render_now()

    def fit(self) -> None:
        self.pane_a.fit()
