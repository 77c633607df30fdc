"""ViewerState: the viewer's model as a plain QObject with signals (no widgets, no drawing)."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

OVERLAYS = ("boxes", "trails", "heatmap", "scores", "detections")
MIN_SPEED, MAX_SPEED = 0.25, 4.0
SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)


class ViewerState(QObject):
    """Current video, run, frame, selection, overlay toggles and playback settings.

    video       an engine.video VideoSource or None
    run         a stviewer.run_data.RunData or None
    """

    videoChanged = Signal()
    runChanged = Signal()
    resultsChanged = Signal()  # the run gained results (live worker) or was reloaded
    frameChanged = Signal(int)
    selectionChanged = Signal(int)  # track id, -1 for none
    overlaysChanged = Signal()
    playingChanged = Signal(bool)
    speedChanged = Signal(float)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.video = None
        self.run = None
        self.frame = 0
        self.selected_track = -1
        self.overlays = {name: True for name in OVERLAYS}
        self.heatmap_opacity = 0.6
        self.trail_length = 30
        self.playing = False
        self.speed = 1.0

    # ---- video / run ---------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return len(self.video) if self.video is not None else 0

    @property
    def fps(self) -> float:
        return float(self.video.fps) if self.video is not None else 25.0

    def set_video(self, video) -> None:
        self.set_playing(False)
        self.video = video
        self.run = None
        self.frame = 0
        self.selected_track = -1
        self.videoChanged.emit()
        self.runChanged.emit()
        self.frameChanged.emit(0)

    def set_run(self, run) -> None:
        self.run = run
        self.selected_track = -1
        self.runChanged.emit()
        self.selectionChanged.emit(-1)

    def notify_results(self) -> None:
        self.resultsChanged.emit()

    # ---- navigation ----------------------------------------------------------------------
    def set_frame(self, k: int) -> None:
        n = self.num_frames
        if n == 0:
            return
        k = min(max(int(k), 0), n - 1)
        if k != self.frame:
            self.frame = k
            self.frameChanged.emit(k)

    def step(self, delta: int) -> None:
        self.set_frame(self.frame + int(delta))

    def frame_time(self, k: int | None = None) -> float:
        return (self.frame if k is None else k) / self.fps

    # ---- selection / overlays --------------------------------------------------------------
    def select_track(self, track_id: int) -> None:
        track_id = int(track_id)
        if track_id != self.selected_track:
            self.selected_track = track_id
            self.selectionChanged.emit(track_id)

    def set_overlay(self, name: str, on: bool) -> None:
        if name not in self.overlays:
            raise ValueError(f"unknown overlay {name!r}; overlays: {', '.join(OVERLAYS)}")
        if self.overlays[name] != bool(on):
            self.overlays[name] = bool(on)
            self.overlaysChanged.emit()

    def set_heatmap_opacity(self, opacity: float) -> None:
        opacity = min(max(float(opacity), 0.0), 1.0)
        if opacity != self.heatmap_opacity:
            self.heatmap_opacity = opacity
            self.overlaysChanged.emit()

    # ---- playback --------------------------------------------------------------------------
    def set_playing(self, playing: bool) -> None:
        playing = bool(playing) and self.num_frames > 0
        if playing != self.playing:
            self.playing = playing
            self.playingChanged.emit(playing)

    def set_speed(self, speed: float) -> None:
        speed = min(max(float(speed), MIN_SPEED), MAX_SPEED)
        if speed != self.speed:
            self.speed = speed
            self.speedChanged.emit(speed)
