"""QUndoCommand wrappers around engine.labels.edits: every edit of the window goes through ONE QUndoStack.

A command holds one engine ``Change`` (the before/after states of the tracks it touched) and asks the editor
to apply or revert it, so undo is exact and the stack never computes anything itself. Compound operations
(e.g. drawing a box with an ID that needs a new track, then selecting it) are pushed inside
``stack.beginMacro`` / ``endMacro`` by the editor, and undo as one step.
"""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand


class ChangeCommand(QUndoCommand):
    """Undo/redo of one engine.labels Change through ``editor.apply_change(change, forward=...)``."""

    def __init__(self, editor, change, *, text: str = ""):
        super().__init__(text or change.description)
        self.editor = editor
        self.change = change

    def redo(self) -> None:
        self.editor.apply_change(self.change, forward=True)

    def undo(self) -> None:
        self.editor.apply_change(self.change, forward=False)
