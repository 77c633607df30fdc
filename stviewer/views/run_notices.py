"""Status-bar notices about the run's inputs: frames the decoder concealed damage in (engine FLAG_DAMAGED),
and a video changed since the run was made (engine.pipeline.pairing, re-verified in the background).

The run is still usable on such frames, but their pixels are partly guessed, so the model's output there
deserves less trust: the user is told when the current frame is one of them, and how many there are
when a model run ends (stviewer.run_data.damaged_note, appended to the session's closing message)."""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
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


class PairingCheck(QObject):
    """Re-verifies, off the UI thread, that the shown run's video still has the content the run was
    made from (``check_unchanged``: size + mtime, else a full hash, which takes seconds on a large
    video). Opening only compares the sampled fingerprint, blind to edits between the samples; a
    mismatch here shows a standing warning (full reason in its tooltip) rather than refusing the run.
    ``threaded = False`` runs the check inline (tests)."""

    finished = Signal(object, str)  # the (cache, run) checked, the mismatch reason ("" when unchanged)

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self._window = window
        self.threaded = True
        self.label = QLabel(styleSheet="color: #f0a030;")
        self.label.setVisible(False)
        self._checking: tuple | None = None  # (cache path, run name) whose verdict the label waits for
        self._threads: list[threading.Thread] = []
        self.finished.connect(self._show)
        window.state.runChanged.connect(self.start)

    def start(self) -> None:
        from engine.pipeline.pairing import PARAM_KEY

        session, run = self._window.session, self._window.state.run
        reader = None if run is None else run.reader
        key = None if reader is None else (str(session.cache_path), run.name)
        if key == self._checking:
            return  # the same run shown again (a reattach after live results): its verdict stands
        self._checking = key
        self._show(None, "")
        if key is None or self._window.state.video is None:
            return
        record, source = reader.info.params.get(PARAM_KEY), self._window.state.video
        if self.threaded:
            # not joined: an earlier check still hashing a large video ends on its own, its verdict ignored
            self._threads = [t for t in self._threads if t.is_alive()]
            thread = threading.Thread(target=self._check, args=(key, record, source), name="stv-pairing-check",
                                      daemon=True)
            self._threads.append(thread)
            thread.start()
        else:
            self._check(key, record, source)

    def _check(self, key: tuple, record, source) -> None:
        from engine.cache.errors import CacheMismatchError
        from engine.pipeline.pairing import check_unchanged

        try:
            check_unchanged(record, source, cache_path=key[0], run=key[1])
            reason = ""
        except CacheMismatchError as exc:
            reason = str(exc)
        except OSError as exc:  # the video went away or became unreadable: say so, do not crash the thread
            reason = f"{source.path}: cannot re-verify the video against run {key[1]!r} ({exc})"
        try:
            self.finished.emit(key, reason)
        except RuntimeError:  # the window was closed while a large video was being hashed: no one to tell
            pass

    def _show(self, key, reason: str) -> None:
        if key is not None and key != self._checking:
            return  # the verdict on a run no longer shown
        self.label.setText(f"⚠ video changed since run {key[1]} was made" if reason else "")
        self.label.setToolTip(reason)
        self.label.setVisible(bool(reason))
        if reason:  # the reason speaks to the CLI (--out, --run): the tooltip keeps it; this says what to do here
            self._window.statusBar().showMessage(f"The video changed since run {key[1]} was made: its results may "
                                                 f"not match the frames shown; run the model again for fresh ones")

    def wait(self, timeout_s: float | None = None) -> bool:
        """Join the checks still running; True when none is left."""
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads = [t for t in self._threads if t.is_alive()]
        return not self._threads


def install_run_notices(window: QMainWindow) -> None:
    """Add the damaged-frame note (``window.damaged_notice``) and the video-changed warning of
    ``window.pairing_check`` to ``window``'s status bar."""
    window.damaged_notice = DamagedFrameNotice(window.state)
    window.statusBar().insertPermanentWidget(0, window.damaged_notice)
    window.pairing_check = PairingCheck(window)
    window.statusBar().insertPermanentWidget(0, window.pairing_check.label)
