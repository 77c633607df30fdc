"""ReviewQueue: the review queue of the window's run as a plain QObject (no widgets).

The queue's items, their ranking and their proposals are the engine's (engine.compare.review); this
model keeps which item is current, what became of each (pending / accepted / rejected), and applies an
accepted proposal to the label set being edited through the window's one undo stack: the proposal is an
engine.labels edit (a Change), pushed as the editing UI's own ChangeCommand, so Edit → Undo reverts it
like any other edit (and the item becomes pending again).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from stviewer.editing.commands import ChangeCommand

PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"


@dataclass(frozen=True)
class ReviewEntry:
    """One item as the dock shows it. ``make_change(labels)`` returns the engine Change of its proposal
    for a LabelSet (None: the item proposes nothing, accepting only marks it reviewed)."""

    frame: int
    track_ids: tuple[int, ...]
    kind: str
    reason: str
    score: float
    proposal: str
    make_change: Callable | None = None


PROPOSAL_TEXT = {  # engine.labels.edits names -> what the dock says (others: the engine's own description)
    "merge_tracks": "merge #{other_id} into #{keep_id}",
    "split_track": "split #{track_id} at {frame}",
    "delete_track": "delete #{track_id}",
    "swap_ids": "swap #{id_a} and #{id_b} from {frame}",
}


def describe_proposal(proposal) -> str:
    """A short text for an engine.compare.review Proposal ("merge #10 into #11 then ...")."""
    steps = ((proposal.edit, proposal.arguments),) + tuple(proposal.then)
    parts = []
    for edit, arguments in steps:
        try:
            parts.append(PROPOSAL_TEXT[edit].format(**arguments))
        except (KeyError, IndexError):
            return proposal.describe()
    return " then ".join(parts)


def entries_from_queue(queue) -> list[ReviewEntry]:
    """The dock's entries of an engine.compare.review ReviewQueue (best first)."""
    entries = []
    for item in queue.items:
        proposal = item.proposal
        entries.append(ReviewEntry(frame=int(item.frame), track_ids=tuple(int(t) for t in item.track_ids),
                                   kind=item.kind.replace("_", " "), reason=item.reason, score=float(item.score),
                                   proposal="" if proposal is None else describe_proposal(proposal),
                                   make_change=None if proposal is None else proposal.change))
    return entries


class AcceptProposalCommand(ChangeCommand):
    """The editing UI's command for one Change, which also marks the queue item accepted (pending on undo)."""

    def __init__(self, editor, change, *, queue: "ReviewQueue", index: int):
        super().__init__(editor, change, text=f"Review: {change.description}")
        self.queue = queue
        self.index = index
        self.generation = queue.generation  # a later queue's items are not this command's

    def redo(self) -> None:
        super().redo()
        self.queue._set_status(self.index, ACCEPTED, generation=self.generation)

    def undo(self) -> None:
        super().undo()
        self.queue._set_status(self.index, PENDING, generation=self.generation)


class ReviewQueue(QObject):
    """``editor`` gives the window's stviewer.editing LabelEditor (its ``labels`` and ``stack``) or None:
    a callable, asked at each accept (the editing UI may be installed after the queue)."""

    itemsChanged = Signal()
    currentChanged = Signal(int)  # index, -1 for none
    statusChanged = Signal(int)  # index
    message = Signal(str)

    def __init__(self, state, *, editor: Callable[[], object] = lambda: None,
                 prepare_labels: Callable[[], bool] = lambda: False, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self._editor = editor
        # asked when no label set is being edited: makes one from the reviewed run (True when it did)
        self._prepare_labels = prepare_labels
        self.notes: tuple[str, ...] = ()  # which checks the engine could not run, and why
        self.entries: list[ReviewEntry] = []
        self.status: list[str] = []
        self.current = -1
        self.run_name: str | None = None
        self.generation = 0

    # ---- items ------------------------------------------------------------------------------------
    def set_entries(self, entries: list[ReviewEntry], *, run_name: str | None = None,
                    notes: tuple[str, ...] = ()) -> None:
        self.entries = list(entries)
        self.notes = tuple(notes)
        self.generation += 1
        self.status = [PENDING] * len(self.entries)
        self.current = -1
        self.run_name = run_name
        self.itemsChanged.emit()
        self.currentChanged.emit(-1)

    def frames(self) -> np.ndarray:
        """(N,) int64 frame of each item (the timeline marks them)."""
        return np.array([e.frame for e in self.entries], np.int64)

    def counts(self) -> dict[str, int]:
        return {s: self.status.count(s) for s in (PENDING, ACCEPTED, REJECTED)}

    # ---- moving -------------------------------------------------------------------------------------
    def go_to(self, index: int) -> None:
        """Make item ``index`` current and show it: its frame, its first track selected."""
        if not self.entries:
            return
        index = min(max(int(index), 0), len(self.entries) - 1)
        self.current = index
        entry = self.entries[index]
        self.state.set_frame(entry.frame)
        if entry.track_ids:
            self.state.select_track(entry.track_ids[0])
        self.currentChanged.emit(index)

    def move(self, delta: int) -> None:
        """N / P: the next (+1) or previous (-1) item."""
        if self.entries:
            self.go_to(0 if self.current < 0 else self.current + int(delta))

    def _next_pending(self) -> None:
        after = [i for i in range(self.current + 1, len(self.entries)) if self.status[i] == PENDING]
        if after:
            self.go_to(after[0])

    def why_not(self, index: int) -> str | None:
        """Why item ``index``'s proposal cannot apply to the label set being edited now (e.g. an earlier
        accepted merge took its track), or None when it can (or there is no set or proposal yet)."""
        editor = self._editor()
        if not 0 <= index < len(self.entries) or editor is None or editor.labels is None:
            return None
        entry = self.entries[index]
        if entry.make_change is None:
            return None
        try:
            entry.make_change(editor.labels)  # pure: computes the Change, changes nothing
        except (ValueError, KeyError, IndexError) as exc:
            return str(exc).strip("'\"")
        return None

    # ---- deciding ---------------------------------------------------------------------------------
    def accept(self) -> bool:
        """Enter: apply the current item's proposal through the undo stack (then go to the next pending)."""
        i = self.current
        if not 0 <= i < len(self.entries):
            return False
        entry = self.entries[i]
        if entry.make_change is None:
            self._set_status(i, ACCEPTED)
            self._next_pending()
            return True
        editor = self._editor()
        if editor is not None and editor.labels is None and self._prepare_labels():
            self.message.emit(f"editing label set {editor.labels.name!r}, made from run {self.run_name!r}")
        if editor is None or editor.labels is None:
            self.message.emit("pick or create a label set to edit (Labels panel) before accepting proposals")
            return False
        source = getattr(editor.labels, "source_run", "")
        if self.run_name is not None and source != self.run_name:
            # the items' track IDs are the run's: another set's tracks would be edited by mistake
            self.message.emit(f"the edited label set {editor.labels.name!r} was not made from run "
                              f"{self.run_name!r}: its track IDs are not the ones this queue names")
            return False
        try:
            change = entry.make_change(editor.labels)
        except (ValueError, KeyError, IndexError) as exc:
            self.message.emit(f"cannot apply “{entry.proposal}”: {str(exc).strip(chr(39))}")
            return False
        editor.stack.push(AcceptProposalCommand(editor, change, queue=self, index=i))
        if change.message:
            self.message.emit(change.message)
        self._next_pending()
        return True

    def reject(self) -> bool:
        """Backspace: the item is not a mistake; nothing changes but its status."""
        i = self.current
        if not 0 <= i < len(self.entries):
            return False
        self._set_status(i, REJECTED)
        self._next_pending()
        return True

    def _set_status(self, index: int, status: str, *, generation: int | None = None) -> None:
        if generation is not None and generation != self.generation:
            return
        if 0 <= index < len(self.status) and self.status[index] != status:
            self.status[index] = status
            self.statusChanged.emit(index)
