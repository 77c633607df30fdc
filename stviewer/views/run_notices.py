"""Status-bar notices about the run's inputs: frames the decoder concealed damage in (engine FLAG_DAMAGED).

The run is still usable on such frames, but their pixels are partly guessed, so the model's output there
deserves less trust: the user is told when the current frame is one of them, and how many there are
when a model run ends (stviewer.run_data.damaged_note, appended to the session's closing message)."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow

from stviewer.colors import DAMAGED
from stviewer.state import ViewerState


class DamagedFrameNotice(QLabel):
    """A standing status-bar note while the current frame is damaged; empty (and hidden) otherwise."""

    def __init__(self, state: ViewerState):
        super().__init__()
        self._state = state
        r, g, b = DAMAGED
        self.setStyleSheet(f"color: rgb({r}, {g}, {b});")
        self.setToolTip("The video is damaged here: the decoder concealed the error, so part of this frame's "
                        "pixels are guessed and the model's output on it is less reliable.")
        self.setVisible(False)
        state.frameChanged.connect(self.refresh)
        state.runChanged.connect(self.refresh)
        state.resultsChanged.connect(self.refresh)

    def refresh(self, *_args) -> None:
        run, k = self._state.run, self._state.frame
        damaged = run is not None and 0 <= k < run.num_frames and bool(run.damaged[k])
        self.setText(f"⚠ frame {k} damaged, concealed by the decoder" if damaged else "")
        self.setVisible(damaged)


def install_run_notices(window: QMainWindow) -> None:
    """Add the damaged-frame note to ``window``'s status bar (as ``window.damaged_notice``)."""
    window.damaged_notice = DamagedFrameNotice(window.state)
    window.statusBar().insertPermanentWidget(0, window.damaged_notice)
