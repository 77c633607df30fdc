"""Playback at the video's own fps: a timer and a clock pick the frame due now (frames that could
not be shown in time are skipped, never queued)."""
from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer

from stviewer.state import ViewerState


class Playback(QObject):
    def __init__(self, state: ViewerState, parent: QObject | None = None):
        super().__init__(parent)
        self._state = state
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._anchor_frame = self._last_set = 0
        self.frames_shown = 0
        self.frames_skipped = 0
        state.playingChanged.connect(self._on_playing)
        state.speedChanged.connect(lambda _speed: self._restart_clock())
        state.videoChanged.connect(lambda: state.set_playing(False))

    def toggle(self) -> None:
        st = self._state
        if not st.playing and st.frame >= st.num_frames - 1:
            st.set_frame(0)  # play again from the start
        st.set_playing(not st.playing)

    def _on_playing(self, playing: bool) -> None:
        if playing:
            self._restart_clock()
            # tick twice per frame period: late ticks still land on the frame due at that time
            period_ms = 1000.0 / (self._state.fps * 4.0)
            self._timer.start(max(2, int(period_ms / 2)))
        else:
            self._timer.stop()

    def _restart_clock(self) -> None:
        self._anchor_frame = self._last_set = self._state.frame
        self._clock.restart()

    def due_frame(self) -> int:
        st = self._state
        elapsed = self._clock.nsecsElapsed() * 1e-9
        return self._anchor_frame + int(elapsed * st.fps * st.speed)

    def _tick(self) -> None:
        st = self._state
        if not st.playing:
            self._timer.stop()
            return
        if st.frame != self._last_set:
            self._restart_clock()  # the user scrubbed during playback: continue from there
        target = self.due_frame()
        last = st.num_frames - 1
        if target >= last:
            target = last
        if target != st.frame:
            self.frames_skipped += max(0, target - st.frame - 1)
            self.frames_shown += 1
            self._last_set = target
            st.set_frame(target)
        if target >= last:
            st.set_playing(False)
