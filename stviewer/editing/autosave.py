"""Autosave: every edit, undo and redo reaches the SQLite journal beside the cache within FLUSH_MS (one fsynced
transaction for a burst of edits, engine.labels.journal); the label set is compacted into the cache on Ctrl+S
and by itself once edits have rested for COMPACT_IDLE_MS while no run is being written. A failed journal write
or save (read-only folder, disk full) shows the error once, keeps every edit in memory and retries every
RETRY_MS; nothing saved before is touched. ``ask_unsaved`` is the quit prompt (Save / Discard / Cancel).

Which label sets exist: those saved in the cache plus those only in the journal (created, not yet
compacted, or left by a killed app): ``names()``; ``load(name)`` is the saved state plus the journal's later
entries, so a killed app reopens with every edit the journal had.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

FLUSH_MS = 250  # well inside the 2 s promise; batches a burst of keyboard edits into one transaction
RETRY_MS = 2000
COMPACT_IDLE_MS = 30_000


class AutoSaver(QObject):
    """Owns the journal of the open cache. ``session``: stviewer.session.Session; ``editor``: LabelEditor.
    ``report_error(title, message)`` shows an error (the window's error reporter)."""

    stateChanged = Signal(str, bool)  # text for the label panel, is_error

    def __init__(self, session, editor, *, report_error: Callable[[str, str], None], parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.editor = editor
        self.report_error = report_error
        self.journal = None
        self._journal_for: Path | None = None
        self.failing: str | None = None  # the last error while something is still unsaved
        self._reported = False
        self.flush_timer = QTimer(self, singleShot=True, interval=FLUSH_MS)
        self.flush_timer.timeout.connect(self.flush)
        self.retry_timer = QTimer(self, singleShot=True, interval=RETRY_MS)
        self.retry_timer.timeout.connect(self._retry)
        self.compact_timer = QTimer(self, singleShot=True, interval=COMPACT_IDLE_MS)
        self.compact_timer.timeout.connect(self._auto_compact)
        self._unjournaled: list[tuple[str, object, str]] = []  # edits not yet handed to a journal
        self._save_wanted = False
        # the session's cache in append mode, created when the video has none (the controller's)
        self.writable_cache: Callable[[], object] = lambda: session.cache
        editor.on_change = self.record
        session.workerFinished.connect(lambda _outcome: self._auto_compact())

    # ---- journal --------------------------------------------------------------------------------
    def journal_path(self) -> Path | None:
        from engine.labels.journal import journal_path_for

        cache_path = self.session.cache_path
        return None if cache_path is None else journal_path_for(cache_path)

    def ensure_journal(self):
        """The open cache's journal, opened on first use (JournalError when it cannot be)."""
        from engine.labels.journal import LabelJournal

        path = self.journal_path()
        if path is None:
            return None
        if self.journal is not None and self._journal_for == path:
            return self.journal
        self.close_journal()
        video = self.session.state.video
        fp = video.fingerprint() if video is not None else None
        self.journal = LabelJournal.open(path, video_fingerprint=fp)
        self._journal_for = path
        return self.journal

    def close_journal(self) -> None:
        if self.journal is not None:
            try:
                self.journal.flush()
            except OSError:
                pass  # kept in memory by the caller's retry; closing drops only what never reached disk
            self.journal.close()
        self.journal = None
        self._journal_for = None

    def record(self, change, forward: bool, action: str | None = None) -> None:
        """The editor's hook: queue an applied (forward) or reverted change; flushed within FLUSH_MS."""
        name = self.editor.name
        if name is None:
            return
        self._unjournaled.append((name, change, action or ("apply" if forward else "undo")))
        if not self.flush_timer.isActive():
            self.flush_timer.start()
        self.compact_timer.start()
        self._emit_state()

    def snapshot(self, labels) -> None:
        """A set that is not in the cache yet starts in the journal as a snapshot (made durable now)."""
        self._unjournaled.append((labels.name, labels, "snapshot"))
        self.flush()

    def flush(self) -> bool:
        """Hand queued edits to the journal and commit them; False (error shown, retry armed) on failure."""
        self.flush_timer.stop()
        try:
            journal = self.ensure_journal()
            if journal is None:
                return not self._unjournaled
            while self._unjournaled:
                name, item, action = self._unjournaled[0]
                if action == "snapshot":
                    journal.enqueue_snapshot(item, description=f"Create label set {name}")
                else:
                    journal.enqueue(name, item, action=action)
                self._unjournaled.pop(0)
            journal.flush()
        except OSError as exc:  # JournalError is an OSError, like the disk being full
            self._fail("Autosave failed", str(exc))
            return False
        self._recovered()
        return True

    def _fail(self, title: str, message: str) -> None:
        self.failing = message
        if not self._reported:  # once per failure streak: a retry every 2 s must not stack dialogs
            self._reported = True
            self.report_error(title, f"{message}\n\nYour edits are kept in memory; stviewer retries every "
                                     f"{RETRY_MS // 1000} s. Free space or make the folder writable.")
        self.retry_timer.start()
        self._emit_state()

    def _recovered(self) -> None:
        if self.failing is not None and not self._save_wanted:
            self.failing = None
            self._reported = False
        self._emit_state()

    def _retry(self) -> None:
        if self._save_wanted:
            self.save()
        elif self._unjournaled or (self.journal is not None and self.journal.pending):
            self.flush()

    # ---- state ------------------------------------------------------------------------------------
    def unsaved_entries(self) -> int:
        """Edits of the current set not yet compacted into the cache (journaled or still in memory)."""
        name = self.editor.name
        if name is None:
            return 0
        count = sum(1 for n, _c, _a in self._unjournaled if n == name)
        if self.journal is not None:
            try:
                count += self.journal.pending + self.journal.entry_count(name)
            except OSError:
                pass
        return count

    def has_unsaved(self) -> bool:
        return self.unsaved_entries() > 0

    def _emit_state(self) -> None:
        if self.editor.name is None:
            self.stateChanged.emit("", False)
        elif self.failing:
            self.stateChanged.emit(f"NOT SAVED — {self.failing}", True)
        elif self._unjournaled or (self.journal is not None and self.journal.pending):
            self.stateChanged.emit("autosaving…", False)
        else:
            n = self.unsaved_entries()
            self.stateChanged.emit("saved in the cache" if n == 0 else
                                   f"autosaved ({n} edit{'s' * (n != 1)} in the journal; Ctrl+S writes the cache)",
                                   False)

    # ---- compaction ---------------------------------------------------------------------------------
    def save(self) -> bool:
        """Ctrl+S: journal flush, then the set into the cache (engine.labels.journal.save). On failure the
        error is shown, the edits stay in memory and the journal, and the save is retried."""
        from engine.cache.errors import CacheError
        from engine.labels.journal import SaveDeferred, save

        labels = self.editor.labels
        if labels is None:
            return True
        self._save_wanted = True
        flushed = self.flush()
        if self.session.is_running():
            self.stateChanged.emit("save deferred: a run is being written into the cache; your edits are safe "
                                   "in the journal", False)
            return False  # the worker's end compacts (workerFinished)
        try:
            cache = self.writable_cache()
        except (OSError, ValueError) as exc:
            self._fail("Cannot save labels", str(exc))
            return False
        try:
            save(cache, labels, self.journal if flushed else None)
        except SaveDeferred as exc:
            self.stateChanged.emit(f"save deferred: {exc}", False)
            self.retry_timer.start()
            return False
        except (OSError, CacheError, ValueError) as exc:
            self._fail("Cannot save labels", str(exc))
            return False
        if not flushed:
            return False
        self._save_wanted = False
        self.failing = None
        self._reported = False
        self.editor.stack.setClean()
        self._emit_state()
        return True

    def _auto_compact(self) -> None:
        """Compaction by itself: only while no run is being written and nothing is failing."""
        if self.editor.labels is None or self.session.is_running() or self.failing is not None:
            return
        if self.has_unsaved():
            self.save()

    def discard(self) -> None:
        """Drop the current set's edits since its last save (the journal's entries of it)."""
        name = self.editor.name
        self._unjournaled = [e for e in self._unjournaled if e[0] != name]
        self._save_wanted = False
        self.failing = None
        self._reported = False
        if name is not None and self.journal is not None:
            try:
                self.journal.flush()  # entries of other sets stay; this set's go below
                self.journal.truncate(name, upto_seq=self.journal.last_seq(name))
            except OSError:
                pass
            self.journal.close()  # drops what could not be written: it was discarded anyway
            self.journal = None
            self._journal_for = None

    def shutdown(self) -> None:
        for timer in (self.flush_timer, self.retry_timer, self.compact_timer):
            timer.stop()
        self.close_journal()
