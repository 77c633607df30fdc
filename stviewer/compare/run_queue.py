"""Computes the runs a comparison needs, one after the other, through the window's own Session.

Only one worker may write a cache at a time (HDF5 allows one writer, and this process cannot read a
file it writes), so the runs are not computed in parallel: for each checkpoint without a complete run
the queue asks the session to use that model (``Session.set_model``, which starts the background
worker exactly as choosing the model in the menu would), waits for the worker's end, and moves on.
The results are ordinary named runs of the cache. At the end the session's model is restored.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from stviewer.model_identity import matching_run, model_identity

POLL_MS = 100  # while someone else's worker (e.g. the window's automatic run) is still busy


def run_of_model(session, model: str | Path) -> tuple[str | None, bool]:
    """(run name, complete) of ``model``'s run in the session's open cache; (None, False) when none."""
    cache = session.cache
    if cache is None:
        return None, False
    identity = model_identity(model, demo_checkpoint=session.demo_checkpoint)
    names = cache.run_names
    name = matching_run(identity, {n: cache.run(n).info.checkpoint_sha256 for n in names})
    if name is None:
        return None, False
    return name, bool(cache.run(name).info.complete)


class RunQueue(QObject):
    """``start(models)`` computes each model's missing or incomplete run in turn.

    finished(ok, reason): ok is True when every run is complete; otherwise reason says which model
    failed or that the user cancelled."""

    finished = Signal(bool, str)
    progressed = Signal(str)  # the model now computing

    def __init__(self, session, parent: QObject | None = None):
        super().__init__(parent)
        self._session = session
        self._models: list[str | Path] = []
        self._current: str | Path | None = None
        self._restore: str | Path | None = None
        self._active = False
        self._retry = QTimer(self, singleShot=True, interval=POLL_MS)
        self._retry.timeout.connect(self._step)
        session.workerFinished.connect(self._on_worker_finished)

    def is_active(self) -> bool:
        return self._active

    @property
    def remaining(self) -> list:
        return list(self._models)

    def missing(self, models: list[str | Path]) -> list[str | Path]:
        """The models among ``models`` without a complete run in the open cache (in order, once each)."""
        out: list[str | Path] = []
        for model in models:
            if model not in out and not run_of_model(self._session, model)[1]:
                out.append(model)
        return out

    def start(self, models: list[str | Path]) -> None:
        self.stop()
        self._models = list(models)
        self._restore = self._session.model
        self._active = True
        QTimer.singleShot(0, self._step)

    def stop(self) -> None:
        """Forget the models not started yet (a running worker is the session's to cancel)."""
        self._retry.stop()
        self._models = []
        self._current = None
        self._active = False

    def _step(self) -> None:
        if not self._active:
            return
        session = self._session
        if session.is_running() or session.auto_infer_pending():
            self._retry.start()  # the window's own run first: one writer at a time
            return
        while self._models and run_of_model(session, self._models[0])[1]:
            self._models.pop(0)
        if not self._models:
            self._end(True, "")
            return
        model = self._models[0]
        self._current = model
        self.progressed.emit(str(model))
        session.set_model(model)
        if self._current is model and not session.is_running():
            # set_model did not start a worker (and a synchronous one would have finished by now)
            self._current = None
            self._end(False, f"could not start a run of {model}")

    def _on_worker_finished(self, outcome: str) -> None:
        if self._current is None:
            return  # not a run this queue started
        model, self._current = self._current, None
        if outcome != "succeeded":
            what = "was cancelled" if outcome == "cancelled" else "failed"
            self._end(False, f"the run of {model} {what}")
            return
        if self._models and self._models[0] == model:
            self._models.pop(0)
        QTimer.singleShot(0, self._step)  # after the session has finished its own bookkeeping

    def _end(self, ok: bool, reason: str) -> None:
        self._active = False
        self._models = []
        restore, self._restore = self._restore, None
        if ok and restore is not None and str(self._session.model) != str(restore):
            self._session.set_model(restore)  # back to the window's model (after a failure: stay, to show it)
        self.finished.emit(ok, reason)
